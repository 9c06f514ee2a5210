/**
 * Turns decoded column chunks into one array per event column, row-aligned, recording a
 * problem for every row that cannot become an event (a null in a required column, a null
 * map key, a value out of range) instead of throwing, so the caller decides.
 *
 * @module
 */
import { DECIMAL_MAX_UNSCALED, type EventMap } from "@eventlake/schema";
import { decodeDecimal } from "./_read_decimal.ts";
import type { ColumnPlan } from "./_read_layout.ts";
import { LazyValues, type LeafData, type StringValues } from "./_read_chunk.ts";

/** A row that cannot become an event. */
export interface RowProblem {
  /** Row index inside the row group. */
  row: number;
  /** The event column. */
  column: string;
  /** What is wrong, e.g. `is null`. */
  message: string;
}

/** Collects problems; returns the placeholder a bad row gets. */
export type ProblemSink = (row: number, column: string, message: string) => void;

/** Thrown for structural corruption found while assembling (levels that do not add up). */
export class CorruptColumnError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "CorruptColumnError";
  }
}

/** Largest `ts` a `Date` can hold, in milliseconds. */
const MAX_DATE_MS = 8.64e15;

/** Row values of a flat (non-repeated) leaf; `undefined` marks a null. */
function flatRows(
  leaf: LeafData,
  maxDef: number,
  rows: number,
  path: string,
): unknown[] | DecodedLike {
  const { defs } = leaf;
  const values = leaf.values instanceof LazyValues ? leaf.values.toArray() : leaf.values;
  if (leaf.count !== rows) {
    throw new CorruptColumnError(`column "${path}" has ${leaf.count} values for ${rows} rows`);
  }
  if (defs === null || maxDef === 0) return values as DecodedLike;
  const out = new Array(rows);
  let v = 0;
  for (let i = 0; i < rows; i++) out[i] = defs[i] === maxDef ? values[v++] : undefined;
  return out;
}

type DecodedLike = ArrayLike<unknown>;

/** Milliseconds since the epoch per row (NaN for a bad row). */
export function assembleTs(
  plan: Extract<ColumnPlan, { kind: "ts" }>,
  leaf: LeafData,
  rows: number,
  problem: ProblemSink,
): Float64Array {
  const out = new Float64Array(rows);
  const unit = plan.unit;
  const values = leaf.values;
  if (
    (unit === "MILLIS" || unit === "MICROS") && values instanceof BigInt64Array &&
    leaf.defs === null && leaf.count === rows && values.length === rows && LITTLE_ENDIAN &&
    tsFromWords(values, unit === "MICROS", out)
  ) {
    return out;
  }
  const raw = flatRows(leaf, plan.leaf.maxDef, rows, plan.leaf.path);
  for (let i = 0; i < rows; i++) {
    const v = raw[i] as bigint | undefined;
    if (v === undefined) {
      out[i] = NaN;
      problem(i, "ts", "is null");
      continue;
    }
    let ms: number;
    if (unit === "MILLIS") {
      ms = Number(v);
    } else if (unit === "MICROS") {
      const n = Number(v);
      if (Number.isSafeInteger(n)) {
        const r = n % 1000;
        ms = (n - r) / 1000 - (r < 0 ? 1 : 0);
      } else {
        ms = Number(floorDiv(v, 1000n));
      }
    } else {
      ms = Number(floorDiv(v, 1_000_000n));
    }
    if (!(ms >= -MAX_DATE_MS && ms <= MAX_DATE_MS)) {
      out[i] = NaN;
      problem(
        i,
        "ts",
        `is out of range: ${v} ${unit === "INT96" ? "nanoseconds" : unit.toLowerCase()}`,
      );
      continue;
    }
    out[i] = ms;
  }
  return out;
}

/** Whether typed arrays are little-endian here. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Milliseconds from MILLIS or MICROS values read as 32-bit halves, without creating a BigInt
 * per row; `false` (with `out` partly written) when a value is too large for this path.
 */
function tsFromWords(values: BigInt64Array, micros: boolean, out: Float64Array): boolean {
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const hi = words[2 * i + 1];
    // |value| < 2^52: exact as a Number, and in range as milliseconds.
    if (hi >= 0x100000 || hi < -0x100000) return false;
    const n = hi * 4294967296 + (words[2 * i] >>> 0);
    if (micros) {
      const r = n % 1000;
      out[i] = (n - r) / 1000 - (r < 0 ? 1 : 0);
    } else {
      out[i] = n;
    }
  }
  return true;
}

function floorDiv(v: bigint, d: bigint): bigint {
  const q = v / d;
  return v < 0n && q * d !== v ? q - 1n : q;
}

/** Strings per row (`""` for a bad row). */
export function assembleString(
  plan: Extract<ColumnPlan, { kind: "string" }>,
  leaf: LeafData,
  rows: number,
  problem: ProblemSink,
): string[] {
  const raw = flatRows(leaf, plan.leaf.maxDef, rows, plan.leaf.path);
  const out = new Array<string>(rows);
  for (let i = 0; i < rows; i++) {
    const v = raw[i];
    if (typeof v === "string") {
      out[i] = v;
    } else {
      out[i] = "";
      if (v === undefined) problem(i, plan.column, "is null");
      else throw new CorruptColumnError(`column "${plan.leaf.path}" holds a non-string value`);
    }
  }
  return out;
}

/** Yields one unscaled DECIMAL(24,6) per row; `problem` says why the last one is unusable. */
export interface RowDecimals {
  problem: string | null;
  next(): bigint;
}

/**
 * {@linkcode RowDecimals} decoding a column without nulls on demand: values are born when
 * their batch is materialised instead of living (and being promoted) with the row group.
 */
export class DecimalCursor implements RowDecimals {
  problem: string | null = null;
  readonly #values: LazyValues<bigint>;
  readonly #factor: bigint;

  /** `values` holds one value per row. */
  constructor(values: LazyValues<bigint>, scale: number) {
    this.#values = values;
    this.#factor = 10n ** BigInt(6 - scale);
  }

  /** The next row's value. */
  next(): bigint {
    let v = this.#values.next()!;
    if (this.#factor !== 1n) v *= this.#factor;
    if (v > DECIMAL_MAX_UNSCALED || v < -DECIMAL_MAX_UNSCALED) {
      this.problem = "does not fit DECIMAL(24,6)";
      return 0n;
    }
    this.problem = null;
    return v;
  }
}

/** {@linkcode RowDecimals} over values already decoded (their problems are already recorded). */
export class BuiltDecimals implements RowDecimals {
  problem: string | null = null;
  #i = 0;
  /** Wraps the array. */
  constructor(readonly values: bigint[]) {}
  /** The next row's value. */
  next(): bigint {
    return this.values[this.#i++];
  }
}

/** Unscaled DECIMAL(24,6) per row (`0n` for a bad row). */
export function assembleDecimal(
  plan: Extract<ColumnPlan, { kind: "decimal" }>,
  leaf: LeafData,
  rows: number,
  problem: ProblemSink,
): bigint[] {
  const raw = flatRows(leaf, plan.leaf.maxDef, rows, plan.leaf.path);
  const factor = 10n ** BigInt(6 - plan.scale);
  const out = new Array<bigint>(rows);
  for (let i = 0; i < rows; i++) {
    const v = raw[i];
    let unscaled: bigint;
    if (v instanceof Uint8Array) unscaled = decodeDecimal(v);
    else if (typeof v === "bigint") unscaled = v;
    else if (typeof v === "number") unscaled = BigInt(v);
    else if (v === undefined) {
      out[i] = 0n;
      problem(i, "metric_value", "is null");
      continue;
    } else throw new CorruptColumnError(`column "${plan.leaf.path}" holds a non-decimal value`);
    if (factor !== 1n) unscaled *= factor;
    if (unscaled > DECIMAL_MAX_UNSCALED || unscaled < -DECIMAL_MAX_UNSCALED) {
      out[i] = 0n;
      problem(i, "metric_value", "does not fit DECIMAL(24,6)");
      continue;
    }
    out[i] = unscaled;
  }
  return out;
}

/**
 * Maps are made by `new`, not `{}`: V8 then tracks how many properties its objects get and
 * reserves in-object slots for them (a literal `{}` has 4, so an 8-key map grows a separate
 * property store). The prototype is `Object.prototype`, so a map is a plain object.
 */
const MapObject = function () {} as unknown as new () => EventMap;
MapObject.prototype = Object.prototype;

function setEntry(obj: EventMap, key: string, value: string | null): boolean {
  // Values are never undefined, so a defined slot is a duplicate or an inherited name.
  if (obj[key] !== undefined && Object.hasOwn(obj, key)) return false;
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
  return true;
}

/** A map factory: returns a new map whose keys are fixed, with `values[i]` under key `i`. */
type MapFactory = (values: (string | null)[]) => EventMap;

/** A node of {@linkcode MapShapes}: the maps whose keys start with the path to this node. */
class ShapeNode {
  /** Children by the id of their last key ({@linkcode MapShapes.idOf}, below 512). */
  readonly children: (ShapeNode | undefined)[] = [];
  /** Valid rows seen with exactly the keys of this node's path. */
  hits = 0;
  /** The factory of this shape; `null` where there will never be one. */
  make: MapFactory | null | undefined = undefined;
}

/** Trie nodes per column and read: beyond this, rare shapes take the generic path. */
const MAX_SHAPE_NODES = 512;
/** Rows of one shape before it gets a factory (rare shapes are not worth compiling). */
const SHAPE_HITS = 16;
/** Whether the runtime allows compiling factories (`false` once it refused). */
let codegen = true;

/**
 * The key sequences ("shapes") met in one map column, as a trie on the keys, with a compiled
 * factory per frequent shape. A factory is an object literal: V8 creates the map with its
 * final hidden class in one step, where adding the keys one by one walks the transition tree
 * through a megamorphic keyed store per entry (platform maps with 8 keys: ~7x faster). Only
 * shapes without duplicate or `__proto__` keys get a factory, so a row that reaches one needs
 * no duplicate check. Share one per column across the row groups of a read.
 */
export class MapShapes {
  /** The root: the empty shape. */
  readonly root: ShapeNode = new ShapeNode();
  /** Nodes created so far. */
  nodes = 1;
  /** Small integer ids of the keys met, so the trie compares integers, not strings. */
  readonly #ids = new Map<string, number>();

  /**
   * A new child of `node` for the key `id`, or `undefined` (the generic path) when `id` is -1
   * or the trie is full.
   */
  grow(node: ShapeNode, id: number): ShapeNode | undefined {
    if (id < 0 || this.nodes >= MAX_SHAPE_NODES) return undefined;
    const child = new ShapeNode();
    node.children[id] = child;
    this.nodes++;
    return child;
  }

  /** The id of `key`, or -1 once too many distinct keys were met (the generic path). */
  idOf(key: string): number {
    const id = this.#ids.get(key);
    if (id !== undefined) return id;
    if (this.#ids.size >= MAX_SHAPE_NODES) return -1;
    this.#ids.set(key, this.#ids.size);
    return this.#ids.size - 1;
  }
}

const EMPTY_INDICES = new Uint32Array(0);
const EMPTY_IDS = new Int32Array(0);

/** Native byte comparison where the runtime has `node:buffer` (loaded optionally). */
const nodeBuffer = await import("node:buffer").catch(() => undefined);

/** Whether `a[0..n)` and `b[0..n)` are equal. */
function sameBytes(a: Uint8Array, b: Uint8Array, n: number): boolean {
  if (a === b) return true;
  if (nodeBuffer !== undefined) {
    return nodeBuffer.Buffer.compare(a.subarray(0, n), b.subarray(0, n)) === 0;
  }
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The sum of `bytes[0..n)`, each 0 or 1: four at a time through 32-bit words. */
function sumBits(bytes: Uint8Array, n: number): number {
  let i = 0;
  let sum = 0;
  while (i < n && ((bytes.byteOffset + i) & 3) !== 0) sum += bytes[i++];
  const words = (n - i) >> 2;
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    // Multiplying by 0x01010101 adds the four bytes into the top one (at most 4: no carry).
    for (let w = 0; w < words; w++) sum += Math.imul(view[w], 0x01010101) >>> 24;
    i += words << 2;
  }
  while (i < n) sum += bytes[i++];
  return sum;
}

function countZeros(bytes: Uint8Array, n: number): number {
  return countEqual(bytes, n, 0);
}

function countEqual(bytes: Uint8Array, n: number, value: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) if (bytes[i] === value) count++;
  return count;
}

/** Compiles the factory of a shape, or returns `null` when it cannot be compiled. */
function compileShape(keys: string[], count: number): MapFactory | null {
  if (!codegen) return null;
  const fields: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = keys[i];
    // In a literal, `__proto__: v` would set the prototype instead of creating the key.
    if (key === "__proto__") return null;
    // JSON.stringify quotes any string as a valid JavaScript string literal.
    fields.push(`${JSON.stringify(key)}: v[${i}]`);
  }
  try {
    return new Function("v", `"use strict"; return { ${fields.join(", ")} };`) as MapFactory;
  } catch {
    codegen = false; // e.g. code generation from strings disallowed
    return null;
  }
}

/**
 * Builds the maps of a MAP (or key/value LIST) column row by row, on demand: the maps of a
 * row group are created only when their batch is materialised, so they die young.
 * The constructor checks the levels add up, so corruption is found before any row is used.
 */
export class MapCursor {
  /** Why the last map returned by {@linkcode next} is unusable, or `null`. */
  problem: string | null = null;
  #i = 0;
  readonly #rowKeys: string[] = [];
  readonly #rowValues: (string | null)[] = [];
  readonly #kVals: StringValues;
  readonly #vVals: StringValues;
  // Dictionary-encoded keys and values (the usual case) are looked up here directly.
  readonly #kDict: readonly string[] | null = null;
  readonly #kIdx: Uint32Array = EMPTY_INDICES;
  /** Per dictionary entry, the key's id in {@linkcode MapShapes}. */
  readonly #kIds: Int32Array = EMPTY_IDS;
  #kPos = 0;
  readonly #vDict: readonly string[] | null = null;
  readonly #vIdx: Uint32Array = EMPTY_INDICES;
  #vPos = 0;
  readonly #plan: Extract<ColumnPlan, { kind: "map" }>;
  readonly #keys: LeafData;
  readonly #values: LeafData;
  readonly #shapes: MapShapes;

  /**
   * Checks the key and value leaves against each other and the row count. `shapes` caches
   * the column's key sequences across row groups (default: one for this cursor alone).
   */
  constructor(
    plan: Extract<ColumnPlan, { kind: "map" }>,
    keys: LeafData,
    values: LeafData,
    rows: number,
    shapes: MapShapes = new MapShapes(),
  ) {
    this.#plan = plan;
    this.#keys = keys;
    this.#values = values;
    this.#shapes = shapes;
    if (!(keys.values instanceof LazyValues) || !(values.values instanceof LazyValues)) {
      throw new CorruptColumnError(`map "${plan.column}" keys or values are not strings`);
    }
    this.#kVals = keys.values as StringValues;
    this.#vVals = values.values as StringValues;
    const kd = this.#kVals.dictionaryIndices();
    if (kd !== null) {
      this.#kDict = kd.dictionary;
      this.#kIdx = kd.indices;
      const ids = new Int32Array(kd.dictionary.length);
      for (let d = 0; d < ids.length; d++) ids[d] = shapes.idOf(kd.dictionary[d]);
      this.#kIds = ids;
    }
    const vd = this.#vVals.dictionaryIndices();
    if (vd !== null) {
      this.#vDict = vd.dictionary;
      this.#vIdx = vd.indices;
    }
    const column = plan.column;
    if (keys.count !== values.count) {
      throw new CorruptColumnError(
        `map "${column}" has ${keys.count} keys but ${values.count} values`,
      );
    }
    const n = keys.count;
    const reps = keys.reps!;
    const vReps = values.reps!;
    if (reps.length < n || vReps.length < n) {
      throw new CorruptColumnError(`map "${column}" has fewer levels than entries`);
    }
    if (!sameBytes(reps, vReps, n)) {
      let i = 0;
      while (reps[i] === vReps[i]) i++;
      throw new CorruptColumnError(`map "${column}" keys and values disagree at entry ${i}`);
    }
    // Repetition levels of a top-level map are 0 (a new row) or 1.
    const starts = plan.key.maxRep === 1 ? n - sumBits(reps, n) : countZeros(reps, n);
    const kMax = plan.key.maxDef;
    const vMax = plan.value.maxDef;
    const keyCount = keys.defs === null ? n : countEqual(keys.defs, n, kMax);
    const valueCount = values.defs === null ? n : countEqual(values.defs, n, vMax);
    if (n > 0 && reps[0] !== 0) throw new CorruptColumnError(`map "${column}" starts inside a row`);
    if (starts !== rows) {
      throw new CorruptColumnError(
        `map "${column}" has ${starts} rows where the row group has ${rows}`,
      );
    }
    if (keyCount !== keys.values.length || valueCount !== values.values.length) {
      throw new CorruptColumnError(`map "${column}" has values its levels do not account for`);
    }
  }

  /** The next row's map; sets {@linkcode problem} when the row has a null map or key. */
  next(): EventMap {
    const keys = this.#keys;
    const reps = keys.reps!;
    const kDefs = keys.defs;
    const vDefs = this.#values.defs;
    const { presentDef, entryDef } = this.#plan;
    const kMax = this.#plan.key.maxDef;
    const vMax = this.#plan.value.maxDef;
    const kVals = this.#kVals;
    const vVals = this.#vVals;
    const rowKeys = this.#rowKeys;
    const rowValues = this.#rowValues;
    const n = keys.count;
    let i = this.#i;
    let problem: string | null = null;
    const dk0 = kDefs === null ? kMax : kDefs[i];
    if (dk0 < entryDef) {
      if (dk0 < presentDef) problem = "is null";
      this.#i = i + 1;
      this.problem = problem;
      return new MapObject();
    }
    const shapes = this.#shapes;
    const kDict = this.#kDict;
    const kIdx = this.#kIdx;
    const kIds = this.#kIds;
    const vDict = this.#vDict;
    const vIdx = this.#vIdx;
    let kPos = this.#kPos;
    let vPos = this.#vPos;
    let node: ShapeNode | undefined = shapes.root;
    let count = 0;
    if (kDict !== null && kDefs === null && vDefs === null) {
      // No null anywhere in the chunk and dictionary keys (the usual case): no level checks.
      do {
        const d = kIdx[kPos++];
        rowKeys[count] = kDict[d];
        rowValues[count++] = vDict !== null ? vDict[vIdx[vPos++]] : vVals.next()!;
        if (node !== undefined) {
          const id = kIds[d];
          const child: ShapeNode | undefined = id < 0 ? undefined : node.children[id];
          if (child !== undefined) node = child;
          else node = shapes.grow(node, id);
        }
      } while (++i < n && reps[i] !== 0);
    } else {
      do {
        const dk = kDefs === null ? kMax : kDefs[i];
        const dv = vDefs === null ? vMax : vDefs[i];
        if (dk !== kMax) {
          problem ??= "has a null key";
          if (dv === vMax) {
            if (vDict !== null) vPos++;
            else vVals.next();
          }
          continue;
        }
        let key: string;
        let id: number;
        if (kDict !== null) {
          const d = kIdx[kPos++];
          key = kDict[d];
          id = kIds[d];
        } else {
          key = kVals.next()!;
          id = node === undefined ? -1 : shapes.idOf(key);
        }
        rowKeys[count] = key;
        rowValues[count] = dv !== vMax
          ? null
          : vDict !== null
          ? vDict[vIdx[vPos++]]
          : vVals.next()!;
        count++;
        if (node !== undefined) {
          // Follow (or grow) the trie of shapes.
          const child: ShapeNode | undefined = id < 0 ? undefined : node.children[id];
          if (child !== undefined) node = child;
          else node = shapes.grow(node, id);
        }
      } while (++i < n && reps[i] !== 0);
    }
    this.#i = i;
    this.#kPos = kPos;
    this.#vPos = vPos;
    if (problem === null && node !== undefined) {
      const make = node.make;
      if (make) {
        this.problem = null;
        return make(rowValues);
      }
    }
    const out: EventMap = new MapObject();
    let duplicate = false;
    for (let k = 0; k < count; k++) {
      const key = rowKeys[k];
      // Duplicate check against this row's earlier keys: a few comparisons of (mostly
      // identical, dictionary-shared) strings beat a megamorphic property lookup.
      if (k <= 32) {
        for (let j = 0; j < k; j++) {
          if (rowKeys[j] === key) {
            problem ??= `has the key "${key}" twice`;
            duplicate = true;
          }
        }
      } else if (Object.hasOwn(out, key)) {
        problem ??= `has the key "${key}" twice`;
        duplicate = true;
      }
      if (key === "__proto__") setEntry(out, key, rowValues[k]);
      else out[key] = rowValues[k];
    }
    if (node !== undefined && node.make === undefined) {
      // The path holds the row's keys: with a duplicate among them, every row reaching this
      // node has it, so the shape never gets a factory.
      if (duplicate) node.make = null;
      else if (problem === null && ++node.hits >= SHAPE_HITS) {
        node.make = compileShape(rowKeys, count);
      }
    }
    this.problem = problem;
    return out;
  }
}

/** Maps per row from a string column holding JSON objects. */
export function assembleJsonMap(
  plan: Extract<ColumnPlan, { kind: "json" }>,
  leaf: LeafData,
  rows: number,
  problem: ProblemSink,
): EventMap[] {
  const raw = flatRows(leaf, plan.leaf.maxDef, rows, plan.leaf.path);
  const out = new Array<EventMap>(rows);
  for (let i = 0; i < rows; i++) {
    const text = raw[i];
    const map: EventMap = {};
    out[i] = map;
    if (text === undefined) {
      problem(i, plan.column, "is null");
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text as string);
    } catch {
      problem(i, plan.column, "is not valid JSON");
      continue;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      problem(i, plan.column, "is not a JSON object");
      continue;
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (value === null || typeof value === "string") {
        setEntry(map, key, value);
      } else if (typeof value === "number" || typeof value === "boolean") {
        setEntry(map, key, String(value));
      } else {
        problem(i, plan.column, `has a nested value under the key "${key}"`);
        break;
      }
    }
  }
  return out;
}

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
  const raw = flatRows(leaf, plan.leaf.maxDef, rows, plan.leaf.path);
  const out = new Float64Array(rows);
  const unit = plan.unit;
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
  readonly #kVals: StringValues;
  readonly #vVals: StringValues;
  readonly #plan: Extract<ColumnPlan, { kind: "map" }>;
  readonly #keys: LeafData;
  readonly #values: LeafData;

  /** Checks the key and value leaves against each other and the row count. */
  constructor(
    plan: Extract<ColumnPlan, { kind: "map" }>,
    keys: LeafData,
    values: LeafData,
    rows: number,
  ) {
    this.#plan = plan;
    this.#keys = keys;
    this.#values = values;
    if (!(keys.values instanceof LazyValues) || !(values.values instanceof LazyValues)) {
      throw new CorruptColumnError(`map "${plan.column}" keys or values are not strings`);
    }
    this.#kVals = keys.values as StringValues;
    this.#vVals = values.values as StringValues;
    const column = plan.column;
    if (keys.count !== values.count) {
      throw new CorruptColumnError(
        `map "${column}" has ${keys.count} keys but ${values.count} values`,
      );
    }
    const n = keys.count;
    const reps = keys.reps!;
    const vReps = values.reps!;
    let starts = 0;
    let keyCount = 0;
    let valueCount = 0;
    const kMax = plan.key.maxDef;
    const vMax = plan.value.maxDef;
    for (let i = 0; i < n; i++) {
      if (reps[i] === 0) starts++;
      if (reps[i] !== vReps[i]) {
        throw new CorruptColumnError(`map "${column}" keys and values disagree at entry ${i}`);
      }
      if (keys.defs === null || keys.defs[i] === kMax) keyCount++;
      if (values.defs === null || values.defs[i] === vMax) valueCount++;
    }
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
    const n = keys.count;
    let i = this.#i;
    const out: EventMap = new MapObject();
    let problem: string | null = null;
    const dk0 = kDefs === null ? kMax : kDefs[i];
    if (dk0 < entryDef) {
      if (dk0 < presentDef) problem = "is null";
      i++;
    } else {
      let count = 0;
      do {
        const dk = kDefs === null ? kMax : kDefs[i];
        const dv = vDefs === null ? vMax : vDefs[i];
        if (dk !== kMax) {
          problem ??= "has a null key";
          if (dv === vMax) vVals.next();
          continue;
        }
        const key = kVals.next()!;
        const value = dv === vMax ? vVals.next()! : null;
        // Duplicate check against this row's earlier keys: a few comparisons of (mostly
        // identical, dictionary-shared) strings beat a megamorphic property lookup.
        if (count <= 32) {
          for (let j = 0; j < count; j++) {
            if (rowKeys[j] === key) problem ??= `has the key "${key}" twice`;
          }
          rowKeys[count] = key;
        } else if (Object.hasOwn(out, key)) {
          problem ??= `has the key "${key}" twice`;
        }
        count++;
        if (key === "__proto__") setEntry(out, key, value);
        else out[key] = value;
      } while (++i < n && reps[i] !== 0);
    }
    this.#i = i;
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

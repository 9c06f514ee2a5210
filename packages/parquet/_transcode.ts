/**
 * The columnar fast path of the importer: byte-level transcoding of event files that are in
 * our exact schema. A source row group (DATA_PAGE_V2 or DATA_PAGE v1 pages) is decoded column by
 * column into flat arrays (levels, dictionary indices, PLAIN bytes: `_transcode_chunk.ts`),
 * checked against the Data Import rules without building an `Event` or a string per value, and
 * re-encoded with a keep-mask (dictionary pages kept as they are, indices, levels and PLAIN
 * values filtered, statistics recomputed, SNAPPY — a data page Snappy cannot shrink by 10% is
 * stored uncompressed, with the DATA_PAGE_V2 `is_compressed` flag off) into
 * {@linkcode TranscodeWriter}'s file.
 *
 * The check is deliberately narrow: {@linkcode TranscodeFile.decode} returns `undefined` for a
 * row group holding anything the object path (`readEventBatches` + `checkEvent`) would reject,
 * report or rewrite, and the caller then takes the object path for it. What passes is a row
 * group where every row is valid and `readEvents` → `EventBatchWriter` would write exactly the
 * same bytes per value:
 *
 * - `insert_id`: 36 bytes, lowercase 8-4-4-4-12 hexadecimal (an uppercase id is lowercased by
 *   the object path: not handled here);
 * - `event_key`: non-empty; every string valid UTF-8 without a leading byte order mark (the
 *   object path's decoder replaces invalid bytes and drops a BOM);
 * - `ts`: INT64 TIMESTAMP(MILLIS) as a safe integer (the day is the caller's check);
 * - `metric_value`: FIXED_LEN_BYTE_ARRAY(11) within ±(10^24 − 1);
 * - maps: dictionary-encoded keys whose every entry is non-empty, lowercase, unique, not an
 *   array index (a JS object would reorder it) and not `__proto__`; no key twice in a row;
 *   `identifiers.id`, `identifiers.device_id`, `platform_properties.osname` and
 *   `platform_properties.appversion` present with a non-empty value.
 *
 * @module
 */
import type { ColumnChunk, ColumnMetaData, Encoding, RowGroup } from "hyparquet";
import { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { writeMetadata } from "hyparquet-writer/src/metadata.js";
import {
  AbortedError,
  DECIMAL_MAX_UNSCALED,
  EVENT_COLUMNS,
  throwIfAborted,
} from "@eventlake/schema";
import { type Footer, readFooter, sourceName } from "./_read_footer.ts";
import { type FetchBuffer, fetchChunks } from "./_read_fetch.ts";
import { type Leaf, resolveLayout } from "./_read_layout.ts";
import { decodeDecimalAt } from "./_read_decimal.ts";
import { appendHybrid, bitWidthOf, Bytes } from "./_write_bytes.ts";
import { snappyCompressInto } from "./_write_snappy.ts";
import { DECIMAL_WIDTH, EVENT_SCHEMA, leafElement } from "./_write_schema.ts";
import { DEFAULT_CREATED_BY } from "./write.ts";
import { appendDataPageV2, appendDictionaryPage, PageCompression } from "./_write_encode.ts";
import {
  type ChunkBuffers,
  decodeRawChunk,
  type RawChunk,
  releaseBuffers,
  takeBuffers,
} from "./_transcode_chunk.ts";
import type { ByteSource } from "./source.ts";

/** Target size of one data page before compression (as the writer). */
const PAGE_SIZE = 1 << 20;
const TWO_32 = 4294967296;
const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

/** What an output leaf holds. */
type LeafKind = "ts" | "decimal" | "string" | "key" | "value";

/** One leaf of the output file, in the schema's order. */
interface OutLeaf {
  path: string[];
  kind: LeafKind;
  /** Index into the four maps (key/value leaves). */
  map: number;
  /** The source leaf. */
  leaf: Leaf;
}

/** Keys that must be present with a non-empty value, per map (in `MAP_COLUMNS` order). */
const REQUIRED: readonly (readonly string[])[] = [
  ["id", "device_id"],
  [],
  [],
  ["osname", "appversion"],
];

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const ARRAY_INDEX = /^[0-9]+$/;

/** Whether `bytes[at, at+len)` decodes to the same bytes through the reader and the writer. */
function cleanUtf8(bytes: Uint8Array, at: number, len: number): boolean {
  const end = at + len;
  let i = at;
  while (i < end && bytes[i] < 0x80) i++;
  if (i === end) return true;
  if (len >= 3 && bytes[at] === 0xef && bytes[at + 1] === 0xbb && bytes[at + 2] === 0xbf) {
    return false; // a leading BOM is dropped by the reader's decoder
  }
  try {
    fatalUtf8.decode(bytes.subarray(at, end));
    return true;
  } catch {
    return false;
  }
}

/** 1 for the char codes of `0-9a-f`. */
const LOWER_HEX = new Uint8Array(256);
for (let c = 48; c <= 57; c++) LOWER_HEX[c] = 1;
for (let c = 97; c <= 102; c++) LOWER_HEX[c] = 1;

/** Whether bytes[at, at+36) is a lowercase UUID. */
function lowerUuid(b: Uint8Array, at: number): boolean {
  if (b[at + 8] !== 45 || b[at + 13] !== 45 || b[at + 18] !== 45 || b[at + 23] !== 45) {
    return false;
  }
  const h = LOWER_HEX;
  return (h[b[at]] & h[b[at + 1]] & h[b[at + 2]] & h[b[at + 3]] & h[b[at + 4]] &
    h[b[at + 5]] & h[b[at + 6]] & h[b[at + 7]] & h[b[at + 9]] & h[b[at + 10]] &
    h[b[at + 11]] & h[b[at + 12]] & h[b[at + 14]] & h[b[at + 15]] & h[b[at + 16]] &
    h[b[at + 17]] & h[b[at + 19]] & h[b[at + 20]] & h[b[at + 21]] & h[b[at + 22]] &
    h[b[at + 24]] & h[b[at + 25]] & h[b[at + 26]] & h[b[at + 27]] & h[b[at + 28]] &
    h[b[at + 29]] & h[b[at + 30]] & h[b[at + 31]] & h[b[at + 32]] & h[b[at + 33]] &
    h[b[at + 34]] & h[b[at + 35]]) === 1;
}

function compareBytes(
  a: Uint8Array,
  aAt: number,
  aLen: number,
  b: Uint8Array,
  bAt: number,
  bLen: number,
) {
  const n = aLen < bLen ? aLen : bLen;
  for (let i = 0; i < n; i++) {
    const d = a[aAt + i] - b[bAt + i];
    if (d !== 0) return d;
  }
  return aLen - bLen;
}

/** Signed comparison of two big-endian two's complement values of `w` bytes. */
function compareSigned(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, w: number): number {
  const d = (a[aAt] ^ 0x80) - (b[bAt] ^ 0x80);
  if (d !== 0) return d;
  for (let i = 1; i < w; i++) {
    const e = a[aAt + i] - b[bAt + i];
    if (e !== 0) return e;
  }
  return 0;
}

/**
 * Opens `source` for transcoding: reads its footer and matches the schema. Resolves to
 * `undefined` when the file is not in the exact schema (any tolerated variant, extra column or
 * mismatch) or its footer cannot be read: the object path then reads it and reports.
 */
export async function openTranscode(
  source: ByteSource,
  options: { name?: string; signal?: AbortSignal } = {},
): Promise<TranscodeFile | undefined> {
  const name = sourceName(source, options.name);
  let footer: Footer;
  try {
    footer = await readFooter(source, name, options.signal);
  } catch (error) {
    if (error instanceof AbortedError) throw error;
    return undefined;
  }
  const layout = resolveLayout(footer.tree);
  if (layout.problems.length > 0 || layout.extras.length > 0 || layout.variants.length > 0) {
    return undefined;
  }
  const leaves: OutLeaf[] = [];
  for (const column of EVENT_COLUMNS) {
    const plan = layout.plans.get(column);
    if (plan === undefined) return undefined;
    const flat = (leaf: Leaf) => leaf.maxDef === 0 && leaf.maxRep === 0;
    switch (plan.kind) {
      case "ts":
        if (plan.unit !== "MILLIS" || plan.leaf.element.type !== "INT64" || !flat(plan.leaf)) {
          return undefined;
        }
        leaves.push({ path: [column], kind: "ts", map: -1, leaf: plan.leaf });
        break;
      case "decimal":
        if (
          plan.scale !== 6 || plan.leaf.element.type !== "FIXED_LEN_BYTE_ARRAY" ||
          plan.leaf.element.type_length !== DECIMAL_WIDTH || !flat(plan.leaf)
        ) return undefined;
        leaves.push({ path: [column], kind: "decimal", map: -1, leaf: plan.leaf });
        break;
      case "string":
        if (plan.leaf.element.type !== "BYTE_ARRAY" || !flat(plan.leaf)) return undefined;
        leaves.push({ path: [column], kind: "string", map: -1, leaf: plan.leaf });
        break;
      case "map": {
        const { key, value } = plan;
        if (
          plan.presentDef !== 0 || key.maxDef !== 1 || key.maxRep !== 1 || value.maxDef !== 2 ||
          value.maxRep !== 1 || key.element.type !== "BYTE_ARRAY" ||
          value.element.type !== "BYTE_ARRAY"
        ) return undefined;
        const map = ["identifiers", "user_properties", "event_properties", "platform_properties"]
          .indexOf(column);
        leaves.push({ path: [column, "key_value", "key"], kind: "key", map, leaf: key });
        leaves.push({ path: [column, "key_value", "value"], kind: "value", map, leaf: value });
        break;
      }
      default:
        return undefined;
    }
  }
  return new TranscodeFile(name, footer, leaves);
}

/**
 * The thread's reused raw row-group buffer (at most one pooled): a fresh ~16 MB buffer per row
 * group would be freed memory the allocator keeps, the larger part of the import's peak RSS.
 */
const rawPool: FetchBuffer[] = [];

/** An exact-schema event file opened by {@linkcode openTranscode}. */
export class TranscodeFile {
  /** The file's name in messages. */
  readonly name: string;
  /** Number of row groups. */
  readonly rowGroups: number;
  readonly #footer: Footer;
  readonly #leaves: OutLeaf[];
  /** One per leaf: a decoded group views them until the next group is decoded. */
  #buffers: ChunkBuffers[] | undefined;
  #idBuffers: ChunkBuffers | undefined;
  /** Per leaf: whether its pages compress (kept across this source file's row groups). */
  readonly #compression: PageCompression;
  /** Per-row arrays of a decoded group, reused by the next decode. */
  readonly #rowArrays: RowArrays = new RowArrays();
  /** The raw bytes of fetched groups (see {@linkcode fetch}). */
  #raw: FetchBuffer | undefined;
  #fetching = false;

  /** Use {@linkcode openTranscode}. */
  constructor(name: string, footer: Footer, leaves: OutLeaf[]) {
    this.name = name;
    this.#footer = footer;
    this.#leaves = leaves;
    this.rowGroups = footer.metadata.row_groups.length;
    this.#compression = new PageCompression(leaves.length);
  }

  /**
   * Gives this file's decode buffers back to the thread's pool (the next file reuses them):
   * call it when no group or id of this file is used any more.
   */
  release(): void {
    const slotted: [number, ChunkBuffers][] = (this.#buffers ?? []).map((b, l) => [l + 1, b]);
    if (this.#idBuffers !== undefined) slotted.push([0, this.#idBuffers]);
    releaseBuffers(slotted);
    // Not while a fetch (one abandoned by a caller that fell back) may still write into it.
    if (this.#raw !== undefined && !this.#fetching && rawPool.length === 0) {
      rawPool.push(this.#raw);
    }
    this.#raw = undefined;
    this.#buffers = undefined;
    this.#idBuffers = undefined;
  }

  /** Rows of row group `g`. */
  rows(g: number): number {
    return Number(this.#footer.metadata.row_groups[g].num_rows);
  }

  /** Rows of the file. */
  get totalRows(): number {
    return Number(this.#footer.metadata.num_rows);
  }

  /**
   * Fetches the column chunks of row group `g` (only `insert_id` with `idsOnly`) into one buffer
   * of this file (from the thread's pool, grown when needed) instead of a fresh one per group:
   * the chunks are valid until the next `fetch` of this file or {@linkcode release}. Decoded
   * groups never view them (values and dictionaries are copied out). A fetch while another is
   * in flight reads into fresh buffers.
   */
  async fetch(
    source: ByteSource,
    g: number,
    options: { signal?: AbortSignal; idsOnly?: boolean } = {},
  ): Promise<Map<number, Uint8Array>> {
    const columns = this.#footer.metadata.row_groups[g].columns;
    const leaves = options.idsOnly
      ? this.#leaves.filter((l) => l.path[0] === "insert_id")
      : this.#leaves;
    const indexes = leaves.map((l) => l.leaf.index);
    const what = `row group ${g}`;
    if (this.#fetching) {
      return fetchChunks(source, columns, indexes, this.name, what, options.signal);
    }
    this.#fetching = true;
    try {
      const into = this.#raw ??= rawPool.pop() ?? { bytes: new Uint8Array(0) };
      return await fetchChunks(source, columns, indexes, this.name, what, options.signal, into);
    } finally {
      this.#fetching = false;
    }
  }

  /**
   * Calls `each(bytes, at, length)` for every `insert_id` of row group `g` (its bytes), in row
   * order. Returns `false` (having called nothing) when the chunk is not one the transcoder
   * decodes: read the ids another way then.
   */
  forEachId(
    g: number,
    bytes: Map<number, Uint8Array>,
    each: (bytes: Uint8Array, at: number, length: number) => void,
  ): boolean {
    const leaf = this.#leaves.find((l) => l.path[0] === "insert_id")!.leaf;
    const meta = this.#footer.metadata.row_groups[g].columns[leaf.index]
      .meta_data as ColumnMetaData;
    let chunk: RawChunk | undefined;
    try {
      chunk = decodeRawChunk(
        bytes.get(leaf.index)!,
        leaf,
        meta,
        0,
        this.#idBuffers ??= takeBuffers(0),
      );
    } catch {
      return false;
    }
    if (chunk === undefined || chunk.count !== this.rows(g) || chunk.values !== chunk.count) {
      return false;
    }
    if (chunk.indices !== null) {
      const d = chunk.dictionary!;
      for (let i = 0; i < chunk.values; i++) {
        const k = chunk.indices[i];
        each(d.bytes, d.starts[k], d.lengths[k]);
      }
    } else {
      const plain = chunk.plain!, offsets = chunk.offsets!;
      for (let i = 0; i < chunk.values; i++) {
        each(plain, offsets[i] + 4, offsets[i + 1] - offsets[i] - 4);
      }
    }
    return true;
  }

  /**
   * Decodes and checks row group `g` (its chunks fetched by {@linkcode fetch}); `undefined`
   * when any row is not one the fast path handles exactly like the object path (see the
   * module documentation), or the data is not what the transcoder decodes. The group views
   * buffers of this file that the next `decode` reuses: finish with a group first.
   */
  decode(g: number, bytes: Map<number, Uint8Array>): TranscodeGroup | undefined {
    const rows = this.rows(g);
    const columns = this.#footer.metadata.row_groups[g].columns;
    const chunks: RawChunk[] = [];
    try {
      for (let l = 0; l < this.#leaves.length; l++) {
        const out = this.#leaves[l];
        const meta = columns[out.leaf.index].meta_data as ColumnMetaData;
        const width = out.kind === "ts" ? 8 : out.kind === "decimal" ? DECIMAL_WIDTH : 0;
        const chunk = decodeRawChunk(
          bytes.get(out.leaf.index)!,
          out.leaf,
          meta,
          width,
          (this.#buffers ??= this.#leaves.map((_, i) => takeBuffers(i + 1)))[l],
        );
        if (chunk === undefined) return undefined;
        chunks.push(chunk);
      }
      return checkGroup(rows, this.#leaves, chunks, this.#compression, this.#rowArrays);
    } catch {
      return undefined;
    }
  }
}

/** Checks a decoded row group; see the module documentation. */
function checkGroup(
  rows: number,
  leaves: OutLeaf[],
  chunks: RawChunk[],
  compression: PageCompression,
  arrays: RowArrays,
): TranscodeGroup | undefined {
  let ts: Float64Array | undefined;
  let idBytes: Uint8Array | undefined;
  let idAt: Int32Array | undefined;
  const rowStarts: Int32Array[] = [];
  for (let l = 0; l < leaves.length; l++) {
    const out = leaves[l];
    const c = chunks[l];
    switch (out.kind) {
      case "ts": {
        if (c.count !== rows || c.plain === null || c.plain.length !== rows * 8) return undefined;
        const p = c.plain;
        const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
        ts = (arrays.ts = fit(arrays.ts, rows)).subarray(0, rows);
        for (let i = 0; i < rows; i++) {
          const hi = view.getInt32(i * 8 + 4, true);
          ts[i] = hi > -0x200000 && hi < 0x200000 ? hi * TWO_32 + view.getUint32(i * 8, true) : NaN;
        }
        break;
      }
      case "decimal": {
        if (c.count !== rows || c.plain === null || c.plain.length !== rows * DECIMAL_WIDTH) {
          return undefined;
        }
        const p = c.plain;
        for (let i = 0, at = 0; i < rows; i++, at += DECIMAL_WIDTH) {
          const b0 = p[at], b1 = p[at + 1];
          if ((b0 === 0 && b1 < 0x80) || (b0 === 0xff && b1 >= 0x80)) continue;
          const v = decodeDecimalAt(p, at, DECIMAL_WIDTH);
          if (v > DECIMAL_MAX_UNSCALED || v < -DECIMAL_MAX_UNSCALED) return undefined;
        }
        break;
      }
      case "string": {
        if (c.count !== rows || c.values !== rows) return undefined;
        const isId = out.path[0] === "insert_id";
        if (c.indices !== null) {
          const d = c.dictionary!;
          for (let k = 0; k < d.count; k++) {
            const at = d.starts[k], len = d.lengths[k];
            if (
              isId
                ? len !== 36 || !lowerUuid(d.bytes, at)
                : len === 0 || !cleanUtf8(d.bytes, at, len)
            ) {
              return undefined;
            }
          }
          if (isId) {
            idBytes = d.bytes;
            idAt = (arrays.idAt = fit(arrays.idAt, rows)).subarray(0, rows);
            for (let i = 0; i < rows; i++) idAt[i] = d.starts[c.indices[i]];
          }
        } else {
          const p = c.plain!, offsets = c.offsets!;
          if (isId) {
            idBytes = p;
            idAt = (arrays.idAt = fit(arrays.idAt, rows)).subarray(0, rows);
          }
          for (let i = 0; i < rows; i++) {
            const at = offsets[i] + 4, len = offsets[i + 1] - at;
            if (isId) {
              if (len !== 36 || !lowerUuid(p, at)) return undefined;
              idAt![i] = at;
            } else if (len === 0 || !cleanUtf8(p, at, len)) return undefined;
          }
        }
        break;
      }
      case "key": {
        const starts = checkMap(
          rows,
          c,
          chunks[l + 1],
          REQUIRED[out.map],
          (arrays.starts[out.map] = fit(arrays.starts[out.map], rows + 1)).subarray(0, rows + 1),
        );
        if (starts === undefined) return undefined;
        rowStarts[out.map] = starts;
        break;
      }
      case "value":
        break; // checked with its key
    }
  }
  return new TranscodeGroup(rows, leaves, chunks, ts!, idBytes!, idAt!, rowStarts, compression);
}

/**
 * The per-row arrays of a decoded group (`ts`, `idAt`, each map's row starts), kept by the
 * file and reused from group to group: a group is finished before the next is decoded.
 */
class RowArrays {
  ts: Float64Array = new Float64Array(0);
  idAt: Int32Array = new Int32Array(0);
  starts: Int32Array[] = [
    new Int32Array(0),
    new Int32Array(0),
    new Int32Array(0),
    new Int32Array(0),
  ];
}

/** `array` when it holds `n` elements, else a new array of `n`. */
function fit<T extends Float64Array | Int32Array>(array: T, n: number): T {
  if (array.length >= n) return array;
  return new (array.constructor as new (n: number) => T)(n);
}

/**
 * Checks one map column; returns the first entry of each row (and the end), written into
 * `starts`, or `undefined`.
 */
function checkMap(
  rows: number,
  k: RawChunk,
  v: RawChunk,
  required: readonly string[],
  starts: Int32Array,
): Int32Array | undefined {
  const n = k.count;
  if (v.count !== n) return undefined;
  // Keys: dictionary-encoded, every entry usable as it is.
  let requiredIds: number[] = [];
  if (k.values > 0) {
    if (k.indices === null) return undefined;
    const d = k.dictionary!;
    const seen = new Set<string>();
    for (let e = 0; e < d.count; e++) {
      const at = d.starts[e], len = d.lengths[e];
      if (len === 0 || !cleanUtf8(d.bytes, at, len)) return undefined;
      const key = fatalUtf8.decode(d.bytes.subarray(at, at + len));
      if (key.toLowerCase() !== key || ARRAY_INDEX.test(key) || key === "__proto__") {
        return undefined;
      }
      if (seen.has(key)) return undefined;
      seen.add(key);
    }
    requiredIds = required.map((name) => [...seen].indexOf(name));
  }
  if (rows > 0 && requiredIds.length !== required.length) return undefined;
  if (rows > 0 && requiredIds.some((id) => id < 0)) return undefined;
  // Values: every string usable as it is.
  const vDict = v.indices !== null ? v.dictionary! : null;
  if (vDict !== null) {
    for (let e = 0; e < vDict.count; e++) {
      if (!cleanUtf8(vDict.bytes, vDict.starts[e], vDict.lengths[e])) return undefined;
    }
  } else if (v.values > 0) {
    const p = v.plain!, offsets = v.offsets!;
    let ascii = true;
    for (let i = 0; i < p.length; i++) {
      if (p[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      for (let i = 0; i < v.values; i++) {
        const at = offsets[i] + 4;
        if (!cleanUtf8(p, at, offsets[i + 1] - at)) return undefined;
      }
    }
  }
  // Entries, in one pass: levels that add up, an empty map alone in its row, no key twice in
  // a row, the required keys present with a non-empty value.
  const kReps = k.reps!, vReps = v.reps!, kDefs = k.defs!, vDefs = v.defs!;
  const indices = k.indices ?? NO_INDICES;
  const stamp = new Int32Array(k.dictionary?.count ?? 0).fill(-1);
  const need = requiredIds.length;
  const r0 = need > 0 ? requiredIds[0] : -2, r1 = need > 1 ? requiredIds[1] : -2;
  const vIdx = v.indices, vLens = vDict === null ? NO_LENGTHS : vDict.lengths;
  const vOff = v.offsets ?? NO_LENGTHS;
  let row = -1;
  let found = 0;
  let ki = 0;
  let vi = 0;
  for (let i = 0; i < n; i++) {
    const rep = kReps[i];
    if (rep !== vReps[i]) return undefined;
    if (rep === 0) {
      if (row >= 0 && found !== need) return undefined;
      if (++row >= rows) return undefined;
      starts[row] = i;
      found = 0;
    }
    const kd = kDefs[i], vd = vDefs[i];
    if (kd === 0) {
      // An empty map: one entry, alone in its row.
      if (vd !== 0 || rep !== 0 || (i + 1 < n && kReps[i + 1] !== 0)) return undefined;
      continue;
    }
    if (vd === 0) return undefined;
    const key = indices[ki++];
    if (stamp[key] === row) return undefined;
    stamp[key] = row;
    if (key === r0 || key === r1) {
      if (vd !== 2) return undefined;
      const len = vIdx !== null ? vLens[vIdx[vi]] : vOff[vi + 1] - vOff[vi] - 4;
      if (len === 0) return undefined;
      found++;
    }
    if (vd === 2) vi++;
  }
  if (row + 1 !== rows || (rows > 0 && found !== need)) return undefined;
  starts[rows] = n;
  return starts;
}

const NO_INDICES = new Uint32Array(0);
const NO_LENGTHS = new Int32Array(0);

/** One encoded column chunk, its offsets relative to its first byte. */
export interface EncodedLeaf {
  /** The column chunk. */
  bytes: Uint8Array;
  /** Its metadata (offsets relative to `bytes`). */
  column: ColumnChunk;
  /** Its uncompressed size (page headers included). */
  uncompressed: number;
}

/** Buffers reused while encoding. */
class Scratch {
  levels = new Bytes();
  values = new Bytes();
  compressed = new Bytes();
  reps = new Uint8Array(1 << 16);
  defs = new Uint8Array(1 << 16);
  indices = new Int32Array(1 << 16);
  offsets = new Int32Array(1 << 16);
  ensureEntries(n: number): void {
    if (this.reps.length < n) {
      const size = Math.max(n, this.reps.length * 2);
      this.reps = new Uint8Array(size);
      this.defs = new Uint8Array(size);
    }
  }
  ensureValues(n: number): void {
    if (this.indices.length < n + 1) {
      const size = Math.max(n + 1, this.indices.length * 2);
      this.indices = new Int32Array(size);
      this.offsets = new Int32Array(size);
    }
  }
}

const scratch = new Scratch();
/** Encoded column chunks of one group, reused. */
const output = new ByteWriter(1 << 20);

/** A decoded and checked row group; see {@linkcode TranscodeFile.decode}. */
export class TranscodeGroup {
  /** Rows. */
  readonly rows: number;
  /** `ts` per row in epoch milliseconds (NaN when not a safe integer). */
  readonly ts: Float64Array;
  /** Bytes holding the `insert_id`s (36 ASCII bytes each, lowercase UUIDs). */
  readonly idBytes: Uint8Array;
  /** Offset of each row's `insert_id` in {@linkcode idBytes}. */
  readonly idAt: Int32Array;
  readonly #leaves: OutLeaf[];
  readonly #chunks: RawChunk[];
  readonly #rowStarts: Int32Array[];
  /** Per leaf: the row after the last encoded range, and the value index there. */
  readonly #cursorRow: Int32Array;
  readonly #cursorVi: Int32Array;
  readonly #compression: PageCompression;

  /** Use {@linkcode TranscodeFile.decode}. */
  constructor(
    rows: number,
    leaves: OutLeaf[],
    chunks: RawChunk[],
    ts: Float64Array,
    idBytes: Uint8Array,
    idAt: Int32Array,
    rowStarts: Int32Array[],
    compression: PageCompression,
  ) {
    this.rows = rows;
    this.#compression = compression;
    this.#leaves = leaves;
    this.#chunks = chunks;
    this.ts = ts;
    this.idBytes = idBytes;
    this.idAt = idAt;
    this.#rowStarts = rowStarts;
    this.#cursorRow = new Int32Array(leaves.length);
    this.#cursorVi = new Int32Array(leaves.length);
  }

  /** The `insert_id` of row `i` as a string (for messages and tests). */
  id(i: number): string {
    let s = "";
    for (let k = 0; k < 36; k++) s += String.fromCharCode(this.idBytes[this.idAt[i] + k]);
    return s;
  }

  /**
   * Encodes the rows of `[from, to)` whose `keep` byte is 1 as one row group of our exact
   * schema (codec SNAPPY; pages of a leaf that compresses poorly stored uncompressed), one
   * column chunk at a time (each yielded chunk is its own copy); `kept` is
   * their number (at least 1). Hand it to {@linkcode TranscodeWriter.append}.
   */
  *encode(
    keep: Uint8Array,
    kept: number,
    from = 0,
    to: number = this.rows,
  ): Generator<EncodedLeaf, void, undefined> {
    for (let l = 0; l < this.#leaves.length; l++) {
      const leaf = this.#leaves[l];
      const starts = leaf.map >= 0 ? this.#rowStarts[leaf.map] : null;
      // Value index at row `from`: carried on from the previous encode of the next rows.
      let vi = this.#cursorVi[l];
      if (starts !== null && this.#cursorRow[l] !== from) {
        const defs = this.#chunks[l].defs!;
        const maxDef = leaf.kind === "key" ? 1 : 2;
        let i = 0;
        vi = 0;
        if (from >= this.#cursorRow[l]) {
          i = starts[this.#cursorRow[l]];
          vi = this.#cursorVi[l];
        }
        for (const end = starts[from]; i < end; i++) if (defs[i] === maxDef) vi++;
      }
      const out = output;
      out.offset = 0;
      out.index = 0;
      const encoded = encodeLeaf(
        out,
        leaf,
        this.#chunks[l],
        keep,
        kept,
        from,
        to,
        vi,
        starts,
        leaf.kind === "ts" ? this.ts : null,
        this.#compression,
        l,
      );
      this.#cursorRow[l] = to;
      this.#cursorVi[l] = encoded.vi;
      // A copy: the buffer is reused by the next leaf (of any file of this thread).
      yield {
        bytes: new Uint8Array(out.buffer, 0, out.offset).slice(),
        column: encoded.chunk,
        uncompressed: encoded.uncompressed,
      };
    }
  }
}

function compress(page: Uint8Array): Uint8Array {
  const c = scratch.compressed;
  c.reset();
  snappyCompressInto(page, c);
  return c.bytes();
}

/** Encodes one leaf's kept entries as a column chunk appended to `out`. */
function encodeLeaf(
  out: ByteWriter,
  spec: OutLeaf,
  c: RawChunk,
  keep: Uint8Array,
  kept: number,
  from: number,
  to: number,
  viStart: number,
  rowStarts: Int32Array | null,
  ts: Float64Array | null,
  compression: PageCompression,
  l: number,
): { chunk: ColumnChunk; uncompressed: number; vi: number } {
  const s = scratch;
  const maxDef = spec.kind === "key" ? 1 : spec.kind === "value" ? 2 : 0;
  const width = spec.kind === "ts" ? 8 : spec.kind === "decimal" ? DECIMAL_WIDTH : 0;
  const dict = c.indices !== null ? c.dictionary! : null;
  const values = s.values;
  values.reset();
  // 1. Filter levels and values.
  let entries = 0; // kept level entries
  let nv = 0; // kept values
  let nulls = 0;
  let emptyMaps = 0;
  // Pending run of PLAIN bytes to copy [runStart, runEnd).
  let runStart = 0, runEnd = -1;
  const src = c.plain;
  const offsets = c.offsets;
  const indices = c.indices;
  const takeValue = (vi: number) => {
    if (dict !== null) {
      s.indices[nv++] = indices![vi];
      return;
    }
    let from: number, to: number;
    if (width > 0) {
      from = vi * width;
      to = from + width;
    } else {
      from = offsets![vi];
      to = offsets![vi + 1];
      s.offsets[nv] = values.pos + (runEnd === from ? runEnd - runStart : 0);
    }
    nv++;
    if (runEnd === from) {
      runEnd = to;
    } else {
      if (runEnd > runStart) {
        values.ensure(runEnd - runStart);
        values.buf.set(src!.subarray(runStart, runEnd), values.pos);
        values.pos += runEnd - runStart;
        if (width === 0) s.offsets[nv - 1] = values.pos;
      }
      runStart = from;
      runEnd = to;
    }
  };
  let vi = viStart;
  if (rowStarts === null) {
    s.ensureValues(kept);
    for (let r = from; r < to; r++) if (keep[r] === 1) takeValue(r);
    entries = kept;
    vi = to;
  } else {
    // Room for the range's entries (values are at most as many).
    const n = rowStarts[to] - rowStarts[from];
    s.ensureEntries(n);
    s.ensureValues(n);
    const reps = c.reps!, defs = c.defs!;
    const fReps = s.reps, fDefs = s.defs;
    for (let r = from; r < to; r++) {
      const a = rowStarts[r], b = rowStarts[r + 1];
      if (keep[r] === 1) {
        for (let i = a; i < b; i++) {
          const d = defs[i];
          fReps[entries] = reps[i];
          fDefs[entries++] = d;
          if (d === maxDef) takeValue(vi++);
          else {
            nulls++;
            if (d === 0) emptyMaps++;
          }
        }
      } else {
        for (let i = a; i < b; i++) if (defs[i] === maxDef) vi++;
      }
    }
  }
  if (runEnd > runStart) {
    values.ensure(runEnd - runStart);
    values.buf.set(src!.subarray(runStart, runEnd), values.pos);
    values.pos += runEnd - runStart;
  }
  if (width === 0 && dict === null) s.offsets[nv] = values.pos;

  // 2. Statistics.
  const statistics = leafStatistics(spec, c, nv, ts, keep, from, to, nulls, emptyMaps);

  // 3. Dictionary page.
  const chunkStart = out.offset;
  let uncompressed = 0;
  const useDict = dict !== null && nv > 0;
  const encodings: Encoding[] = [];
  const encodingStats: {
    page_type: "DICTIONARY_PAGE" | "DATA_PAGE_V2";
    encoding: Encoding;
    count: number;
  }[] = [];
  let dictionaryOffset: bigint | undefined;
  let bitWidth = 0;
  if (useDict) {
    dictionaryOffset = BigInt(out.offset);
    const body = dict.codec === "SNAPPY" ? dict.stored : compress(dict.bytes);
    uncompressed += appendDictionaryPage(out, dict.bytes, body, dict.count);
    encodings.push("PLAIN");
    encodingStats.push({ page_type: "DICTIONARY_PAGE", encoding: "PLAIN", count: 1 });
    bitWidth = bitWidthOf(dict.count - 1);
  }
  const encoding: Encoding = useDict ? "RLE_DICTIONARY" : "PLAIN";
  encodings.push(encoding);

  // 4. Data pages, each starting at a row.
  const dataPageOffset = BigInt(out.offset);
  const hasLevels = rowStarts !== null;
  const valueCost = width > 0 ? width : useDict ? bitWidth / 8 : 0;
  const estimate = (width > 0 || useDict) ? nv * valueCost + entries / 4 : values.pos + entries / 4;
  const pages: number[][] = [];
  if (estimate < PAGE_SIZE) {
    pages.push([0, entries, 0, nv, kept, nulls]);
  } else {
    let l0 = 0, v0 = 0, v = 0, pageRows = 0, pageNulls = 0, bytes = 0;
    for (let i = 0; i < entries; i++) {
      if (!hasLevels || s.reps[i] === 0) {
        if (bytes >= PAGE_SIZE && i > l0) {
          pages.push([l0, i, v0, v, pageRows, pageNulls]);
          l0 = i;
          v0 = v;
          pageRows = 0;
          pageNulls = 0;
          bytes = 0;
        }
        pageRows++;
      }
      if (!hasLevels || s.defs[i] === maxDef) {
        bytes += width > 0 || useDict ? valueCost : s.offsets[v + 1] - s.offsets[v];
        v++;
      } else {
        pageNulls++;
        bytes += 0.25;
      }
    }
    pages.push([l0, entries, v0, v, pageRows, pageNulls]);
  }
  for (const [l0, l1, v0, v1, pageRows, pageNulls] of pages) {
    const levels = s.levels;
    levels.reset();
    let repLength = 0, defLength = 0;
    if (hasLevels) {
      repLength = appendHybrid(levels, s.reps, l0, l1, 1);
      defLength = appendHybrid(levels, s.defs, l0, l1, bitWidthOf(maxDef));
    }
    let page: Uint8Array;
    if (width > 0) {
      page = values.buf.subarray(v0 * width, v1 * width);
    } else if (useDict) {
      values.reset();
      values.ensure(1);
      values.buf[values.pos++] = bitWidth;
      appendHybrid(values, s.indices, v0, v1, bitWidth);
      page = values.bytes();
    } else {
      page = values.buf.subarray(s.offsets[v0], s.offsets[v1]);
    }
    // Snappy, unless this leaf's pages compress poorly (see PageCompression).
    const body = compression.body(l, page, s.compressed);
    uncompressed += appendDataPageV2(out, levels.bytes(), page, body, body !== page, {
      values: l1 - l0,
      nulls: pageNulls,
      rows: pageRows,
      encoding,
      repLength,
      defLength,
    });
  }
  encodingStats.push({ page_type: "DATA_PAGE_V2", encoding, count: pages.length });
  const element = leafElement(spec.path);
  return {
    uncompressed,
    vi,
    chunk: {
      file_offset: BigInt(chunkStart),
      meta_data: {
        type: element.type ?? "BYTE_ARRAY",
        encodings,
        path_in_schema: spec.path,
        codec: "SNAPPY",
        num_values: BigInt(entries),
        total_uncompressed_size: BigInt(uncompressed),
        total_compressed_size: BigInt(out.offset - chunkStart),
        data_page_offset: dataPageOffset,
        dictionary_page_offset: dictionaryOffset,
        statistics,
        encoding_stats: encodingStats,
      } as ColumnMetaData,
    },
  };
}

/** Min/max and null count of the kept values (already filtered into the scratch buffers). */
function leafStatistics(
  spec: OutLeaf,
  c: RawChunk,
  nv: number,
  ts: Float64Array | null,
  keep: Uint8Array,
  from: number,
  to: number,
  nulls: number,
  emptyMaps: number,
): ColumnMetaData["statistics"] {
  const nullCount = BigInt(spec.kind === "key" ? emptyMaps : nulls);
  if (nv === 0) return { null_count: nullCount };
  const s = scratch;
  if (spec.kind === "ts") {
    let min = Infinity, max = -Infinity;
    for (let r = from; r < to; r++) {
      if (keep[r] !== 1) continue;
      const t = ts![r];
      if (t < min) min = t;
      if (t > max) max = t;
    }
    return { min_value: min, max_value: max, null_count: 0n };
  }
  const buf = s.values.buf;
  if (spec.kind === "decimal") {
    let min = 0, max = 0;
    for (let i = 1, at = DECIMAL_WIDTH; i < nv; i++, at += DECIMAL_WIDTH) {
      if (compareSigned(buf, at, buf, min, DECIMAL_WIDTH) < 0) min = at;
      else if (compareSigned(buf, at, buf, max, DECIMAL_WIDTH) > 0) max = at;
    }
    return {
      min_value: decodeDecimalAt(buf, min, DECIMAL_WIDTH),
      max_value: decodeDecimalAt(buf, max, DECIMAL_WIDTH),
      null_count: 0n,
    };
  }
  if (c.indices !== null) {
    const d = c.dictionary!;
    const used = new Uint8Array(d.count);
    for (let i = 0; i < nv; i++) used[s.indices[i]] = 1;
    let min = -1, max = -1;
    for (let e = 0; e < d.count; e++) {
      if (used[e] === 0) continue;
      const at = d.starts[e], len = d.lengths[e];
      if (min < 0) {
        min = max = e;
        continue;
      }
      if (compareBytes(d.bytes, at, len, d.bytes, d.starts[min], d.lengths[min]) < 0) min = e;
      else if (compareBytes(d.bytes, at, len, d.bytes, d.starts[max], d.lengths[max]) > 0) max = e;
    }
    return {
      min_value: d.bytes.slice(d.starts[min], d.starts[min] + d.lengths[min]),
      max_value: d.bytes.slice(d.starts[max], d.starts[max] + d.lengths[max]),
      null_count: nullCount,
    };
  }
  const off = s.offsets;
  let min = 0, max = 0;
  for (let i = 1; i < nv; i++) {
    const at = off[i] + 4, len = off[i + 1] - at;
    if (compareBytes(buf, at, len, buf, off[min] + 4, off[min + 1] - off[min] - 4) < 0) min = i;
    else if (compareBytes(buf, at, len, buf, off[max] + 4, off[max + 1] - off[max] - 4) > 0) {
      max = i;
    }
  }
  return {
    min_value: buf.slice(off[min] + 4, off[min + 1]),
    max_value: buf.slice(off[max] + 4, off[max + 1]),
    null_count: nullCount,
  };
}

/**
 * Writes one Parquet file of our exact schema from {@linkcode EncodedGroup}s, streaming each
 * group to the sink as it comes: memory is one row group.
 */
export class TranscodeWriter {
  readonly #sink: WritableStreamDefaultWriter<Uint8Array>;
  #offset = 0;
  #rows = 0;
  #groups: RowGroup[] = [];
  #done = false;

  /** Creates a writer into `sink` (closed by {@linkcode close}). */
  constructor(sink: WritableStream<Uint8Array>) {
    this.#sink = sink.getWriter();
  }

  /** Rows written so far. */
  get rows(): number {
    return this.#rows;
  }

  /**
   * Appends one row group of `rows` rows from its column chunks in schema order (e.g.
   * {@linkcode TranscodeGroup.encode}), writing each to the sink as it comes.
   */
  async append(
    rows: number,
    leaves: Iterable<EncodedLeaf>,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    throwIfAborted(options.signal);
    if (this.#done) throw new TypeError("The transcode writer is closed");
    if (this.#offset === 0) {
      await this.#sink.write(MAGIC.slice());
      this.#offset = 4;
    }
    const start = this.#offset;
    const columns: ColumnChunk[] = [];
    let uncompressed = 0;
    for (const leaf of leaves) {
      const base = BigInt(this.#offset);
      const col = leaf.column;
      const m = col.meta_data!;
      columns.push({
        file_offset: col.file_offset + base,
        meta_data: {
          ...m,
          data_page_offset: m.data_page_offset + base,
          dictionary_page_offset: m.dictionary_page_offset === undefined
            ? undefined
            : m.dictionary_page_offset + base,
        },
      });
      uncompressed += leaf.uncompressed;
      this.#offset += leaf.bytes.length;
      try {
        await this.#sink.write(leaf.bytes);
      } catch (error) {
        this.#done = true;
        throw error;
      }
      throwIfAborted(options.signal);
    }
    this.#groups.push({
      columns,
      total_byte_size: BigInt(uncompressed),
      num_rows: BigInt(rows),
      file_offset: BigInt(start),
      total_compressed_size: BigInt(this.#offset - start),
    });
    this.#rows += rows;
  }

  /** Writes the footer and closes the sink; returns the rows and bytes written. */
  async close(options: { signal?: AbortSignal } = {}): Promise<{ rows: number; bytes: number }> {
    throwIfAborted(options.signal);
    if (this.#done) throw new TypeError("The transcode writer is closed");
    this.#done = true;
    const footer = new ByteWriter(1 << 14);
    if (this.#offset === 0) {
      footer.appendUint32(0x31524150);
      this.#offset = 4;
    }
    writeMetadata(footer, {
      version: 2,
      schema: EVENT_SCHEMA,
      num_rows: BigInt(this.#rows),
      row_groups: this.#groups,
      created_by: DEFAULT_CREATED_BY,
      metadata_length: 0,
    });
    footer.appendUint32(0x31524150);
    const bytes = new Uint8Array(footer.buffer, 0, footer.offset).slice();
    await this.#sink.write(bytes);
    await this.#sink.close();
    return { rows: this.#rows, bytes: this.#offset + bytes.length };
  }

  /** Gives up: aborts the sink. */
  async abort(reason?: unknown): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#sink.abort(reason).catch(() => {});
  }
}

/**
 * Decodes one column chunk of an exact-schema event file into flat, byte-level arrays for the
 * transcoder (`_transcode.ts`): repetition and definition levels, and the non-null values as
 * either dictionary indices (the dictionary page kept as it is) or PLAIN bytes with offsets.
 * No JS string or `Event` is built.
 *
 * It handles DATA_PAGE_V2 pages (our own writer's) and DATA_PAGE v1 pages (pyarrow's and
 * parquet-mr's default: the whole page compressed, RLE levels each behind a 4-byte length) with
 * PLAIN or dictionary values (not both in one chunk). Anything else (a chunk mixing dictionary
 * and PLAIN pages, BIT_PACKED levels, other encodings) returns `undefined` and the caller falls
 * back to the object path, which also owns every error message about corrupt data: a chunk that
 * does not add up throws here, and the caller treats that as "fall back" too.
 *
 * @module
 */
import type { ColumnMetaData, CompressionCodec, Compressors, PageHeader } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { decompressPage } from "hyparquet/src/datapage.js";
import type { Leaf } from "./_read_layout.ts";
import { readHybrid, v1LevelsEnd } from "./_read_rle.ts";
import { snappyDecompressInto } from "./_read_snappy.ts";

/** Largest decompressed page accepted (as the reader). */
const MAX_PAGE_BYTES = 1 << 28;

const zlib = await import("node:zlib").catch(() => undefined);
const COMPRESSORS: Compressors = zlib === undefined ? {} : {
  GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(zlib.brotliDecompressSync(input)),
  ...(typeof zlib.zstdDecompressSync === "function"
    ? { ZSTD: (input: Uint8Array) => new Uint8Array(zlib.zstdDecompressSync(input)) }
    : {}),
};

/** The codecs the transcoder decodes. */
export const TRANSCODE_CODECS: readonly string[] = [
  "UNCOMPRESSED",
  "SNAPPY",
  ...Object.keys(COMPRESSORS),
];

/** A dictionary page: its PLAIN values, decompressed, and the page as stored. */
export interface RawDictionary {
  /** Number of entries. */
  count: number;
  /** The decompressed PLAIN values. */
  bytes: Uint8Array;
  /** Per entry: offset of its first byte (after the length prefix, for BYTE_ARRAY). */
  starts: Int32Array;
  /** Per entry: its byte length. */
  lengths: Int32Array;
  /** The page body as stored (compressed with the chunk's codec). */
  stored: Uint8Array;
  /** The chunk's codec. */
  codec: string;
}

/** A decoded column chunk. */
export interface RawChunk {
  /** Level entries (the chunk's `num_values`). */
  count: number;
  /** Repetition levels, or `null` for a flat column. */
  reps: Uint8Array | null;
  /** Definition levels, or `null` for a REQUIRED flat column. */
  defs: Uint8Array | null;
  /** Non-null values. */
  values: number;
  /** The dictionary, when values are dictionary indices. */
  dictionary: RawDictionary | null;
  /** Dictionary indices of the values (dictionary chunks). */
  indices: Uint32Array | null;
  /**
   * PLAIN values (non-dictionary chunks): BYTE_ARRAY values keep their 4-byte length prefix;
   * fixed-width values are back to back.
   */
  plain: Uint8Array | null;
  /** BYTE_ARRAY PLAIN values: offset in `plain` of each value's length prefix, plus the end. */
  offsets: Int32Array | null;
}

function bitWidth(max: number): number {
  return 32 - Math.clz32(max);
}

/** Appends `src` to a growable buffer. */
class Grow {
  buf = new Uint8Array(1 << 16);
  pos = 0;
  /** Makes the buffer hold at least `n` bytes (keeping nothing: call before appending). */
  reserve(n: number): void {
    if (this.buf.length < n) this.buf = new Uint8Array(n);
  }
  append(src: Uint8Array): number {
    const at = this.pos;
    const need = at + src.length;
    if (need > this.buf.length) {
      const next = new Uint8Array(Math.max(need, Math.ceil(this.buf.length * 1.25)));
      next.set(this.buf.subarray(0, at));
      this.buf = next;
    }
    this.buf.set(src, at);
    this.pos = need;
    return at;
  }
}

/**
 * The arrays one leaf's chunks are decoded into, reused from one row group to the next (a
 * {@linkcode RawChunk} views them: it is valid until the next decode into the same buffers).
 */
export class ChunkBuffers {
  /** PLAIN values. */
  readonly plain: Grow = new Grow();
  /** Repetition levels. */
  reps: Uint8Array = new Uint8Array(0);
  /** Definition levels. */
  defs: Uint8Array = new Uint8Array(0);
  /** Dictionary indices. */
  indices: Uint32Array = new Uint32Array(0);
  /** Offsets of PLAIN BYTE_ARRAY values. */
  offsets: Int32Array = new Int32Array(0);

  /** Makes room for `n` level entries (`reps`/`defs` only when there are such levels). */
  reserveLevels(n: number, reps: boolean, defs: boolean): void {
    if (reps && this.reps.length < n) this.reps = new Uint8Array(grown(this.reps.length, n));
    if (defs && this.defs.length < n) this.defs = new Uint8Array(grown(this.defs.length, n));
  }

  /** Makes room for `n` dictionary indices. */
  reserveIndices(n: number): void {
    if (this.indices.length < n) this.indices = new Uint32Array(grown(this.indices.length, n));
  }

  /** Makes room for `n` PLAIN value offsets (and the end). */
  reserveOffsets(n: number): void {
    if (this.offsets.length < n + 1) {
      this.offsets = new Int32Array(grown(this.offsets.length, n + 1));
    }
  }
}

function grown(have: number, need: number): number {
  return Math.max(need, Math.ceil(have * 1.25));
}

/**
 * This thread's decode buffers, one slot per leaf position (and one for the id pass): a slot's
 * buffers always serve the same leaf, so each grows to its own leaf's size only. (A stack handed
 * them out in reverse order from file to file, and each buffer grew to fit two leaves: about 35
 * MB more for a 10,000,000-row day.)
 */
const pool: (ChunkBuffers | undefined)[] = [];

/** Enough for one file's leaves and its id pass; more would only hold memory. */
const POOL_SLOTS = 18;

/** The buffers of `slot` from this thread's pool (give them back with {@linkcode releaseBuffers}). */
export function takeBuffers(slot: number): ChunkBuffers {
  const buffers = pool[slot];
  pool[slot] = undefined;
  return buffers ?? new ChunkBuffers();
}

/** Returns buffers to their slots once nothing views them any more. */
export function releaseBuffers(slotted: readonly [slot: number, buffers: ChunkBuffers][]): void {
  for (const [slot, buffers] of slotted) if (slot < POOL_SLOTS) pool[slot] = buffers;
}

/** Decompressed data pages land here (they are consumed before the next page is read). */
let pageScratch = new Uint8Array(1 << 20);

function decompressData(page: Uint8Array, rawSize: number, codec: CompressionCodec): Uint8Array {
  if (codec === "UNCOMPRESSED") {
    if (page.length !== rawSize) throw new Error("page size differs from its header");
    return page;
  }
  if (codec !== "SNAPPY") return decompressPage(page, rawSize, codec, COMPRESSORS);
  if (pageScratch.length < rawSize) {
    pageScratch = new Uint8Array(Math.max(rawSize, pageScratch.length * 2));
  }
  const out = pageScratch.subarray(0, rawSize);
  // Ours, not hyparquet's snappyUncompress: it copies words, not bytes (~2x less CPU here).
  snappyDecompressInto(page, out);
  return out;
}

/**
 * Decodes the chunk `bytes` of `leaf` into `buffers`; `undefined` when the chunk uses something the
 * transcoder does not handle. Throws on inconsistent data (the caller falls back).
 * `width` is the value width of a fixed-width leaf (8 for INT64, 11 for the decimal), or 0 for
 * BYTE_ARRAY.
 */
export function decodeRawChunk(
  bytes: Uint8Array,
  leaf: Leaf,
  meta: ColumnMetaData,
  width: number,
  buffers: ChunkBuffers,
): RawChunk | undefined {
  const codec = meta.codec;
  if (!TRANSCODE_CODECS.includes(codec)) return undefined;
  // The object path refuses a chunk whose type differs from the schema's: let it say so.
  if (meta.type !== leaf.element.type) return undefined;
  const expected = Number(meta.num_values);
  const maxDef = leaf.maxDef;
  const maxRep = leaf.maxRep;
  buffers.reserveLevels(expected, maxRep > 0, maxDef > 0);
  const reps = maxRep > 0 ? buffers.reps.subarray(0, expected) : null;
  const defs = maxDef > 0 ? buffers.defs.subarray(0, expected) : null;
  let dictionary: RawDictionary | null = null;
  let mode: "dict" | "plain" | undefined;
  const plain = buffers.plain;
  plain.pos = 0;
  let values = 0;
  let seen = 0;
  const reader = {
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    offset: 0,
  };
  while (seen < expected) {
    if (reader.offset >= bytes.byteLength) throw new Error("chunk ends early");
    const header: PageHeader = parquetHeader(reader);
    const size = header.compressed_page_size;
    const rawSize = header.uncompressed_page_size;
    if (!(size >= 0) || reader.offset + size > bytes.byteLength) throw new Error("bad page size");
    if (!(rawSize >= 0) || rawSize > MAX_PAGE_BYTES) throw new Error("bad page size");
    const page = bytes.subarray(reader.offset, reader.offset + size);
    reader.offset += size;
    if (header.type === "DICTIONARY_PAGE") {
      const dph = header.dictionary_page_header;
      if (dph === undefined || dictionary !== null) return undefined;
      if (dph.encoding !== "PLAIN" && dph.encoding !== "PLAIN_DICTIONARY") return undefined;
      const body = codec === "UNCOMPRESSED"
        ? page.slice()
        : decompressPage(page, rawSize, codec, COMPRESSORS);
      // A copy of the stored page: a view would keep the whole fetched row group alive.
      dictionary = readDictionary(body, dph.num_values, width, page.slice(), codec);
      continue;
    }
    let n: number;
    let encoding: string;
    /** The decompressed page data holding the values (from `valuesAt`). */
    let body: Uint8Array;
    /** The bytes holding the levels: `[repAt, repEnd)` and `[defAt, defEnd)`. */
    let levelBytes: Uint8Array;
    let repAt = 0;
    let repEnd = 0;
    let defAt = 0;
    let defEnd = 0;
    let valuesAt = 0;
    /** The V2 header's null count (a v1 page has none). */
    let nulls = 0;
    const v2 = header.type === "DATA_PAGE_V2";
    if (v2) {
      const daph2 = header.data_page_header_v2;
      if (daph2 === undefined) throw new Error("data page v2 without header");
      n = daph2.num_values;
      encoding = daph2.encoding;
      const repLen = daph2.repetition_levels_byte_length;
      const defLen = daph2.definition_levels_byte_length;
      nulls = daph2.num_nulls;
      if (!(repLen >= 0) || !(defLen >= 0) || repLen + defLen > page.length) {
        throw new Error("bad level lengths");
      }
      levelBytes = page;
      repEnd = defAt = repLen;
      defEnd = repLen + defLen;
      const rest = page.subarray(defEnd);
      body = daph2.is_compressed === false || codec === "UNCOMPRESSED"
        ? rest
        : decompressData(rest, rawSize - defEnd, codec);
    } else if (header.type === "DATA_PAGE") {
      const daph = header.data_page_header;
      if (daph === undefined) throw new Error("data page without header");
      // Deprecated BIT_PACKED levels: the object path's business. (A level that is always 0
      // is not stored, whatever its encoding says: parquet-mr writes BIT_PACKED for it.)
      if (maxRep > 0 && daph.repetition_level_encoding !== "RLE") return undefined;
      if (maxDef > 0 && daph.definition_level_encoding !== "RLE") return undefined;
      n = daph.num_values;
      encoding = daph.encoding;
      // The whole page is compressed: levels (each with a 4-byte length), then values.
      body = decompressData(page, rawSize, codec);
      levelBytes = body;
      let at = 0;
      if (maxRep > 0) {
        repAt = at + 4;
        at = repEnd = v1LevelsEnd(body, at);
      }
      defAt = defEnd = at;
      if (maxDef > 0) {
        defAt = at + 4;
        at = defEnd = v1LevelsEnd(body, at);
      }
      valuesAt = at;
    } else {
      continue; // index pages
    }
    if (!(n >= 0) || seen + n > expected) throw new Error("too many values");
    // Levels.
    if (reps !== null) {
      readLevels(levelBytes, repAt, repEnd, maxRep, reps.subarray(seen, seen + n));
    }
    let nonNull = n;
    if (defs !== null) {
      const out = defs.subarray(seen, seen + n);
      if (defEnd === defAt && v2) {
        // A V2 page without definition levels: no nulls (its null count is checked below).
        out.fill(maxDef);
      } else {
        // One pass checks the levels and counts the non-null values.
        readHybrid(levelBytes, defAt, defEnd, bitWidth(maxDef), out, n);
        nonNull = 0;
        let above = 0;
        for (let i = 0; i < n; i++) {
          const d = out[i];
          nonNull += d === maxDef ? 1 : 0;
          above |= d > maxDef ? 1 : 0;
        }
        if (above !== 0) throw new Error("level above maximum");
      }
    }
    // As the object path: a V2 header's null count must match its levels.
    if (v2 && nonNull !== n - nulls) {
      throw new Error("null count differs from the levels");
    }
    if (encoding === "PLAIN") {
      if (mode === "dict") return undefined;
      if (mode === undefined) {
        // PLAIN values are at most the chunk's uncompressed size: one allocation, no doubling.
        plain.reserve(Math.min(Number(meta.total_uncompressed_size), MAX_PAGE_BYTES));
      }
      mode = "plain";
      if (width > 0) {
        const stop = valuesAt + nonNull * width;
        if (stop > body.length) throw new Error("values past the page end");
        plain.append(body.subarray(valuesAt, stop));
      } else {
        buffers.reserveOffsets(expected); // values never exceed the entries: no regrowth
        const base = plain.pos - valuesAt;
        let at = valuesAt;
        const end = body.length;
        for (let i = 0; i < nonNull; i++) {
          if (at + 4 > end) throw new Error("value past the page end");
          const len = (body[at] | body[at + 1] << 8 | body[at + 2] << 16 | body[at + 3] << 24) >>>
            0;
          buffers.offsets[values + i] = base + at;
          at += 4 + len;
          if (at > end) throw new Error("value past the page end");
        }
        plain.append(body.subarray(valuesAt, at));
      }
    } else if (encoding === "PLAIN_DICTIONARY" || encoding === "RLE_DICTIONARY") {
      if (mode === "plain" || dictionary === null) return undefined;
      mode = "dict";
      buffers.reserveIndices(expected);
      const indices = buffers.indices.subarray(values, values + nonNull);
      if (nonNull > 0) {
        if (valuesAt >= body.length) throw new Error("indices past the page end");
        const w = body[valuesAt];
        // Width 0 (a one-entry dictionary): every index is 0, and the reused buffer must say so.
        if (w > 0) readHybrid(body, valuesAt + 1, body.length, w, indices, nonNull);
        else indices.fill(0);
        const size = dictionary.count;
        let outside = 0;
        for (let i = 0; i < nonNull; i++) outside |= indices[i] >= size ? 1 : 0;
        if (outside !== 0) throw new Error("index outside the dictionary");
      }
    } else {
      return undefined;
    }
    values += nonNull;
    seen += n;
  }
  if (bytes.byteLength - reader.offset > 1) throw new Error("trailing pages");
  let indices: Uint32Array | null = null;
  let offsets: Int32Array | null = null;
  if (mode === "dict") {
    indices = buffers.indices.subarray(0, values);
  } else if (width === 0) {
    buffers.reserveOffsets(values);
    offsets = buffers.offsets.subarray(0, values + 1);
    offsets[values] = plain.pos;
  }
  return {
    count: expected,
    reps,
    defs,
    values,
    dictionary: mode === "dict" ? dictionary : null,
    indices,
    plain: mode === "dict" ? null : plain.buf.subarray(0, plain.pos),
    offsets,
  };
}

function readDictionary(
  body: Uint8Array,
  count: number,
  width: number,
  stored: Uint8Array,
  codec: string,
): RawDictionary {
  if (!(count >= 0) || count > body.length + 1) throw new Error("bad dictionary size");
  const starts = new Int32Array(count);
  const lengths = new Int32Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (width > 0) {
      starts[i] = at;
      lengths[i] = width;
      at += width;
    } else {
      if (at + 4 > body.length) throw new Error("dictionary past the page end");
      const len = (body[at] | body[at + 1] << 8 | body[at + 2] << 16 | body[at + 3] << 24) >>> 0;
      starts[i] = at + 4;
      lengths[i] = len;
      at += 4 + len;
    }
    if (at > body.length) throw new Error("dictionary past the page end");
  }
  return { count, bytes: body, starts, lengths, stored, codec };
}

function readLevels(page: Uint8Array, start: number, end: number, max: number, out: Uint8Array) {
  readHybrid(page, start, end, bitWidth(max), out, out.length);
  let above = 0;
  for (let i = 0; i < out.length; i++) above |= out[i] > max ? 1 : 0;
  if (above !== 0) throw new Error("level above maximum");
}

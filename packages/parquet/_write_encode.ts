/**
 * The encoding half of the writer: turns one shredded row group (typed column buffers)
 * into column chunks — dictionary or PLAIN pages, RLE levels, SNAPPY, statistics — and
 * ends the file with the thrift footer. It runs on the writing thread or in the write
 * worker (`_write_worker.ts`) with the same code, so both write the same bytes.
 *
 * Page headers, the footer and `ByteWriter` come from hyparquet-writer (imported by module
 * path: its package entry pulls in its whole row-object writer and `node:fs`).
 *
 * @module
 */

import type { ColumnChunk, CompressionCodec, Encoding, RowGroup, SchemaElement } from "hyparquet";
import { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { writePageHeader } from "hyparquet-writer/src/datapage.js";
import { writeMetadata } from "hyparquet-writer/src/metadata.js";
import { EVENT_COLUMNS, MAP_COLUMNS } from "@eventlake/schema";
import { appendHybrid, bitWidthOf, Bytes } from "./_write_bytes.ts";
import { encodePlainBatch, stringMinMax } from "./_write_columns.ts";
import { DECIMAL_WIDTH, EVENT_SCHEMA, leafElement } from "./_write_schema.ts";
import { snappyCompressInto } from "./_write_snappy.ts";

/** Target size of one data page before compression. */
const PAGE_SIZE = 1 << 20;
/**
 * A data page that Snappy shrinks to more than this share of its size is stored uncompressed
 * (DATA_PAGE_V2 `is_compressed` false); see {@linkcode PageCompression}.
 */
export const POOR_RATIO = 0.9;
/** Pages a leaf stores uncompressed after a poor one before it tries Snappy again. */
export const RECHECK_PAGES = 16;
/** Encoded bytes after which the encoder yields (between pages) so they can go to the sink. */
export const FLUSH_SIZE = 1 << 20;
const TWO_32 = 4294967296;
/** Leaves of the event schema: four flat columns, and a key and a value leaf per map. */
const EVENT_LEAVES = EVENT_COLUMNS.length + MAP_COLUMNS.length;

/** The PLAIN bytes of a string column: `[0, pos)` of `buf` (a {@linkcode Bytes} fits). */
export interface PlainData {
  buf: Uint8Array;
  view: DataView;
  pos: number;
}

/** The finished values of one BYTE_ARRAY leaf of one row group (a `StringColumn` fits). */
export interface StringData {
  /** Number of non-null values. */
  count: number;
  /** Whether the values are dictionary indices (else PLAIN bytes). */
  dictMode: boolean;
  /** Dictionary values, by index (dictionary mode). */
  dictValues: string[];
  /** Dictionary indices, `[0, count)` (dictionary mode). */
  indices: Uint16Array;
  /** PLAIN-encoded values (plain mode). */
  plain: PlainData;
}

/** One shredded `MAP<STRING, STRING>` column of one row group (a `MapColumn` fits). */
export interface MapData {
  rep: Uint8Array;
  def: Uint8Array;
  levels: number;
  nullValues: number;
  emptyMaps: number;
  keys: StringData;
  values: StringData;
}

/** One shredded row group: everything {@linkcode GroupEncoder.encode} needs. */
export interface GroupData {
  rows: number;
  /** `ts` of the rows, `[0, rows)`. */
  ts: Float64Array;
  tsMin: number;
  tsMax: number;
  /** `metric_value` as 11-byte big-endian two's complement, `[0, rows * 11)`. */
  metric: Uint8Array;
  metricMin: bigint | undefined;
  metricMax: bigint | undefined;
  eventKey: StringData;
  insertId: StringData;
  /** The map columns in `MAP_COLUMNS` order. */
  maps: MapData[];
}

/** Pages of one leaf: `[levelStart, levelEnd, valueStart, valueEnd, rows, nulls]` each. */
type PageRange = [number, number, number, number, number, number];

interface ColumnChunkStatistics {
  min_value?: string | number | bigint | Uint8Array;
  max_value?: string | number | bigint | Uint8Array;
  null_count: bigint;
}

/** Everything one leaf column of one row group needs to be written. */
interface Leaf {
  path: string[];
  element: SchemaElement;
  /** Levels (map leaves) or null (flat leaves: one value per row). */
  rep: Uint8Array | null;
  def: Uint8Array | null;
  maxDef: number;
  levels: number;
  /** Fixed-width PLAIN values, or a string column. */
  fixed: Uint8Array | null;
  width: number;
  strings: StringData | null;
  statistics: ColumnChunkStatistics;
}

/**
 * Encodes the row groups of one file, in order, into {@linkcode GroupEncoder.out}, and its
 * footer. The caller takes the bytes out with {@linkcode GroupEncoder.take} whenever
 * {@linkcode GroupEncoder.encode} yields (each top-level column, and about every MiB).
 */
export class GroupEncoder {
  /** The encoded bytes not yet taken; `out.offset` is the file offset. */
  out: ByteWriter;
  /** The row groups encoded so far (the footer's). */
  readonly rowGroups: RowGroup[] = [];
  /** Rows encoded so far. */
  totalRows = 0;
  readonly #codec: CompressionCodec;
  readonly #createdBy: string;
  // Scratch buffers reused by every page.
  #levels = new Bytes();
  #values = new Bytes();
  #compressed = new Bytes();
  /** Which leaves' data pages are compressed (kept across the file's row groups). */
  #pages = new PageCompression(EVENT_LEAVES);
  #keyDef = new Uint8Array(4096);
  #tsBytes = new Uint8Array(0);

  /** Starts a file: `out` holds its leading magic. */
  constructor(codec: "SNAPPY" | "UNCOMPRESSED", createdBy: string) {
    this.#codec = codec;
    this.#createdBy = createdBy;
    this.out = new ByteWriter(1 << 16);
    this.out.appendUint32(0x31524150); // "PAR1"
  }

  /** The bytes encoded since the last call (a copy the sink may keep), or undefined if none. */
  take(): Uint8Array | undefined {
    const out = this.out;
    if (out.index === 0) return undefined;
    const chunk = new Uint8Array(out.buffer, 0, out.index).slice();
    out.index = 0;
    if (out.buffer.byteLength > 64 << 20) {
      // An outlier column chunk grew the buffer a lot: give that memory back.
      const offset = out.offset;
      this.out = new ByteWriter(1 << 20);
      this.out.offset = offset;
    }
    return chunk;
  }

  /** Writes the footer and the closing magic; returns the file's size in bytes. */
  finish(): number {
    writeMetadata(this.out, {
      version: 2,
      schema: EVENT_SCHEMA,
      num_rows: BigInt(this.totalRows),
      row_groups: this.rowGroups,
      created_by: this.#createdBy,
      metadata_length: 0,
    });
    this.out.appendUint32(0x31524150); // "PAR1"
    return this.out.offset;
  }

  /**
   * Encodes one row group, one top-level column per step: it yields after each top-level
   * column but the last, and whenever a page pushed the output past {@linkcode FLUSH_SIZE}.
   */
  *encode(g: GroupData): Generator<void> {
    const rows = g.rows;
    const start = this.out.offset;
    const columns: ColumnChunk[] = [];
    let uncompressed = 0n;

    // ts as INT64 little-endian PLAIN.
    if (this.#tsBytes.length < rows * 8) this.#tsBytes = new Uint8Array(rows * 8);
    const tsBytes = this.#tsBytes.subarray(0, rows * 8);
    const tsView = new DataView(tsBytes.buffer);
    const ts = g.ts;
    for (let i = 0; i < rows; i++) {
      const t = ts[i];
      const hi = Math.floor(t / TWO_32);
      tsView.setUint32(i * 8, t - hi * TWO_32, true);
      tsView.setInt32(i * 8 + 4, hi, true);
    }

    const flat = (
      name: string,
      fixed: Uint8Array | null,
      width: number,
      strings: StringData | null,
      statistics: ColumnChunkStatistics,
    ): Leaf => ({
      path: [name],
      element: leafElement([name]),
      rep: null,
      def: null,
      maxDef: 0,
      levels: rows,
      fixed,
      width,
      strings,
      statistics,
    });

    for (let c = 0; c < EVENT_COLUMNS.length; c++) {
      const kind = EVENT_COLUMNS[c];
      const leaves: Leaf[] = [];
      if (kind === "ts") {
        leaves.push(flat("ts", tsBytes, 8, null, {
          min_value: g.tsMin,
          max_value: g.tsMax,
          null_count: 0n,
        }));
      } else if (kind === "metric_value") {
        leaves.push(flat("metric_value", g.metric, DECIMAL_WIDTH, null, {
          min_value: g.metricMin,
          max_value: g.metricMax,
          null_count: 0n,
        }));
      } else if (kind === "event_key" || kind === "insert_id") {
        const col = kind === "event_key" ? g.eventKey : g.insertId;
        const mm = stringMinMax(col);
        leaves.push(flat(kind, null, 0, col, {
          min_value: mm?.min,
          max_value: mm?.max,
          null_count: 0n,
        }));
      } else {
        const col = g.maps[MAP_COLUMNS.indexOf(kind)];
        const n = col.levels;
        if (this.#keyDef.length < n) {
          this.#keyDef = new Uint8Array(Math.max(n, this.#keyDef.length * 2));
        }
        const keyDef = this.#keyDef;
        const def = col.def;
        for (let i = 0; i < n; i++) keyDef[i] = def[i] === 0 ? 0 : 1;
        const km = stringMinMax(col.keys);
        const vm = stringMinMax(col.values);
        leaves.push({
          path: [kind, "key_value", "key"],
          element: leafElement([kind, "key_value", "key"]),
          rep: col.rep,
          def: keyDef,
          maxDef: 1,
          levels: n,
          fixed: null,
          width: 0,
          strings: col.keys,
          statistics: { min_value: km?.min, max_value: km?.max, null_count: BigInt(col.emptyMaps) },
        });
        leaves.push({
          path: [kind, "key_value", "value"],
          element: leafElement([kind, "key_value", "value"]),
          rep: col.rep,
          def: col.def,
          maxDef: 2,
          levels: n,
          fixed: null,
          width: 0,
          strings: col.values,
          statistics: {
            min_value: vm?.min,
            max_value: vm?.max,
            null_count: BigInt(col.emptyMaps + col.nullValues),
          },
        });
      }
      for (const leaf of leaves) {
        const chunk = yield* this.#writeLeaf(leaf, columns.length, rows);
        uncompressed += chunk.meta_data?.total_uncompressed_size ?? 0n;
        columns.push(chunk);
      }
      if (c < EVENT_COLUMNS.length - 1) yield;
    }

    this.rowGroups.push({
      columns,
      total_byte_size: uncompressed,
      num_rows: BigInt(rows),
      file_offset: BigInt(start),
      total_compressed_size: BigInt(this.out.offset - start),
    });
    this.totalRows += rows;
  }

  /** Writes one leaf's column chunk; yields whenever a page pushed the output past `FLUSH_SIZE`. */
  *#writeLeaf(leaf: Leaf, l: number, rows: number): Generator<void, ColumnChunk> {
    let out = this.out;
    const chunkStart = out.offset;
    const { element, strings } = leaf;
    const codec = this.#codec;
    let uncompressed = 0;
    let dictionaryOffset: bigint | undefined;
    const dict = strings !== null && strings.dictMode && strings.count > 0;
    const encodings: Encoding[] = [];
    const encodingStats: {
      page_type: "DICTIONARY_PAGE" | "DATA_PAGE_V2";
      encoding: Encoding;
      count: number;
    }[] = [];

    let bitWidth = 0;
    if (dict) {
      // Dictionary page: the distinct values, PLAIN.
      dictionaryOffset = BigInt(out.offset);
      const values = this.#values;
      values.reset();
      const dictValues = strings.dictValues;
      encodePlainBatch(values, dictValues, dictValues.length);
      const page = values.bytes();
      uncompressed += appendDictionaryPage(out, page, this.#compress(page), dictValues.length);
      encodings.push("PLAIN");
      encodingStats.push({ page_type: "DICTIONARY_PAGE", encoding: "PLAIN", count: 1 });
      bitWidth = bitWidthOf(dictValues.length - 1);
    }
    const encoding: Encoding = dict ? "RLE_DICTIONARY" : "PLAIN";
    encodings.push(encoding);

    const dataPageOffset = BigInt(out.offset);
    const pages = pageRanges(leaf, rows, dict, bitWidth);
    // Byte offset of the current value in a PLAIN string column (pages are consecutive).
    let plainOffset = 0;
    for (const [l0, l1, v0, v1, pageRows, nulls] of pages) {
      // Levels (uncompressed in DATA_PAGE_V2).
      const levels = this.#levels;
      levels.reset();
      let repLength = 0;
      let defLength = 0;
      if (leaf.rep !== null && leaf.def !== null) {
        repLength = appendHybrid(levels, leaf.rep, l0, l1, 1);
        defLength = appendHybrid(levels, leaf.def, l0, l1, bitWidthOf(leaf.maxDef));
      }
      // Values.
      let page: Uint8Array;
      if (leaf.fixed !== null) {
        page = leaf.fixed.subarray(v0 * leaf.width, v1 * leaf.width);
      } else if (dict) {
        const values = this.#values;
        values.reset();
        values.ensure(1);
        values.buf[values.pos++] = bitWidth;
        appendHybrid(values, (strings as StringData).indices, v0, v1, bitWidth);
        page = values.bytes();
      } else {
        const plain = (strings as StringData).plain;
        const end = plainEnd(plain, plainOffset, v1 - v0);
        page = plain.buf.subarray(plainOffset, end);
        plainOffset = end;
      }
      const body = codec === "UNCOMPRESSED" ? page : this.#pages.body(l, page, this.#compressed);
      uncompressed += appendDataPageV2(
        out,
        levels.bytes(),
        page,
        body,
        body !== page,
        { values: l1 - l0, nulls, rows: pageRows, encoding, repLength, defLength },
      );
      if (out.index >= FLUSH_SIZE) {
        yield;
        out = this.out; // take() may have swapped the buffer
      }
    }
    encodingStats.push({ page_type: "DATA_PAGE_V2", encoding, count: pages.length });

    return {
      file_offset: BigInt(chunkStart),
      meta_data: {
        type: element.type ?? "BYTE_ARRAY",
        encodings,
        path_in_schema: leaf.path,
        codec,
        num_values: BigInt(leaf.levels),
        total_uncompressed_size: BigInt(uncompressed),
        total_compressed_size: BigInt(out.offset - chunkStart),
        data_page_offset: dataPageOffset,
        dictionary_page_offset: dictionaryOffset,
        statistics: leaf.statistics.min_value === undefined
          ? { null_count: leaf.statistics.null_count }
          : leaf.statistics,
        encoding_stats: encodingStats,
      },
    };
  }

  #compress(page: Uint8Array): Uint8Array {
    if (this.#codec === "UNCOMPRESSED") return page;
    const compressed = this.#compressed;
    compressed.reset();
    snappyCompressInto(page, compressed);
    return compressed.bytes();
  }
}

/** Splits a leaf into pages of about {@linkcode PAGE_SIZE} bytes, each starting at a row. */
function pageRanges(leaf: Leaf, rows: number, dict: boolean, bitWidth: number): PageRange[] {
  const pages: PageRange[] = [];
  const strings = leaf.strings;
  const plain = strings !== null && !dict ? strings.plain : null;
  const valueCost = leaf.fixed !== null ? leaf.width : dict ? bitWidth / 8 : 0;
  const rep = leaf.rep;
  const def = leaf.def;
  const n = leaf.levels;
  // Most column chunks fit one page: then no walk over the values is needed.
  const values = leaf.fixed !== null ? rows : (strings as StringData).count;
  const total = plain !== null ? plain.pos : values * valueCost + n / 4;
  if (total < PAGE_SIZE) return [[0, n, 0, values, rows, n - values]];
  let l0 = 0;
  let v0 = 0;
  let v = 0;
  let pageRows = 0;
  let nulls = 0;
  let bytes = 0;
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const rowStart = rep === null || rep[i] === 0;
    if (rowStart) {
      if (bytes >= PAGE_SIZE && i > l0) {
        pages.push([l0, i, v0, v, pageRows, nulls]);
        l0 = i;
        v0 = v;
        pageRows = 0;
        nulls = 0;
        bytes = 0;
      }
      pageRows++;
    }
    if (def === null || def[i] === leaf.maxDef) {
      if (plain !== null) {
        const len = plain.view.getInt32(offset, true) + 4;
        offset += len;
        bytes += len;
      } else bytes += valueCost;
      v++;
    } else {
      nulls++;
      bytes += 0.25;
    }
  }
  if (n > 0 || rows === 0) pages.push([l0, n, v0, v, pageRows, nulls]);
  return pages;
}

/** End offset of `count` PLAIN byte-array values starting at `offset`. */
function plainEnd(plain: PlainData, offset: number, count: number): number {
  const view = plain.view;
  for (let i = 0; i < count; i++) offset += view.getInt32(offset, true) + 4;
  return offset;
}

/**
 * Per leaf of one file: whether its data pages are worth compressing. A data page Snappy
 * cannot shrink by 10% ({@linkcode POOR_RATIO}) is stored as it is, and so are that leaf's
 * next {@linkcode RECHECK_PAGES} pages before Snappy is tried again: random ids and hashes
 * (`insert_id` compresses to ~92%) cost compression CPU for almost nothing. Readers see a
 * SNAPPY column chunk whose DATA_PAGE_V2 pages say `is_compressed: false`, which the format
 * allows and every reader we test with (ours, hyparquet, DuckDB) honours.
 */
export class PageCompression {
  readonly #poor: Uint8Array;
  readonly #rawPages: Int32Array;

  /** For a file of `leaves` leaves. */
  constructor(leaves: number) {
    this.#poor = new Uint8Array(leaves);
    this.#rawPages = new Int32Array(leaves);
  }

  /**
   * What to store for data page `page` of leaf `l`: its Snappy compression (written into
   * `scratch`, reset first) or `page` itself. Compressed when the result is not `page`.
   */
  body(l: number, page: Uint8Array, scratch: Bytes): Uint8Array {
    if (this.#poor[l] === 1 && this.#rawPages[l] < RECHECK_PAGES) {
      this.#rawPages[l]++;
      return page;
    }
    scratch.reset();
    snappyCompressInto(page, scratch);
    const packed = scratch.bytes();
    const poor = packed.length > page.length * POOR_RATIO;
    this.#poor[l] = poor ? 1 : 0;
    this.#rawPages[l] = 0;
    return poor ? page : packed;
  }
}

/**
 * Appends a PLAIN `DICTIONARY_PAGE` of `count` values: its header, then `body` (`raw` compressed,
 * or `raw` itself). Returns the page's uncompressed size, header included.
 */
export function appendDictionaryPage(
  out: ByteWriter,
  raw: Uint8Array,
  body: Uint8Array,
  count: number,
): number {
  const headerStart = out.offset;
  writePageHeader(out, {
    type: "DICTIONARY_PAGE",
    uncompressed_page_size: raw.length,
    compressed_page_size: body.length,
    dictionary_page_header: { num_values: count, encoding: "PLAIN" },
  });
  const size = out.offset - headerStart + raw.length;
  out.appendBytes(body);
  return size;
}

/** What a `DATA_PAGE_V2` header says besides its sizes. */
export interface DataPageV2 {
  values: number;
  nulls: number;
  rows: number;
  encoding: Encoding;
  repLength: number;
  defLength: number;
}

/**
 * Appends a `DATA_PAGE_V2`: its header, the (never compressed) `levels`, then `body` — `page`
 * compressed, or `page` itself when `compressed` is false. Returns the page's uncompressed size,
 * header included.
 */
export function appendDataPageV2(
  out: ByteWriter,
  levels: Uint8Array,
  page: Uint8Array,
  body: Uint8Array,
  compressed: boolean,
  header: DataPageV2,
): number {
  const headerStart = out.offset;
  writePageHeader(out, {
    type: "DATA_PAGE_V2",
    uncompressed_page_size: levels.length + page.length,
    compressed_page_size: levels.length + body.length,
    data_page_header_v2: {
      num_values: header.values,
      num_nulls: header.nulls,
      num_rows: header.rows,
      encoding: header.encoding,
      definition_levels_byte_length: header.defLength,
      repetition_levels_byte_length: header.repLength,
      is_compressed: compressed,
    },
  });
  const size = out.offset - headerStart + levels.length + page.length;
  out.appendBytes(levels);
  out.appendBytes(body);
  return size;
}

/**
 * The streaming, bounded-memory Parquet writer of Data Import event files.
 *
 * Rows are shredded into typed column buffers as they arrive (levels in typed arrays,
 * strings as dictionary indices or bulk-encoded PLAIN bytes), one row group at a time;
 * each finished row group is encoded page by page (dictionary or PLAIN, RLE levels,
 * SNAPPY) into one reused buffer that is handed to the sink about every MiB. Page
 * headers and the thrift footer come from hyparquet-writer (imported by module path:
 * its package entry pulls in its whole row-object writer and `node:fs`).
 *
 * @module
 */

import type { ColumnChunk, CompressionCodec, Encoding, RowGroup, SchemaElement } from "hyparquet";
import { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { writePageHeader } from "hyparquet-writer/src/datapage.js";
import { writeMetadata } from "hyparquet-writer/src/metadata.js";
import {
  AbortedError,
  DECIMAL_MAX_UNSCALED,
  type Event,
  EVENT_COLUMNS,
  InvalidArgumentError,
  MAP_COLUMNS,
  type MapColumn as MapColumnName,
} from "@eventlake/schema";
import { appendHybrid, bitWidthOf, Bytes } from "./_write_bytes.ts";
import { encodePlainBatch, MapColumn, StringColumn } from "./_write_columns.ts";
import { DECIMAL_WIDTH, EVENT_SCHEMA, leafElement } from "./_write_schema.ts";
import { snappyCompressInto } from "./_write_snappy.ts";

/** Version of this package, written into `created_by`. */
const EVENTLAKE_VERSION = "0.1.0";
/** Version of hyparquet-writer whose page headers and footer we write. */
const HYPARQUET_WRITER_VERSION = "0.17.0";

/**
 * Default number of rows per row group: big enough for readers to prune and parallelise well,
 * small enough that the writer's memory stays in the low hundreds of MB.
 *
 * @example
 * ```ts
 * import { DEFAULT_ROW_GROUP_SIZE } from "@eventlake/parquet";
 * console.log(DEFAULT_ROW_GROUP_SIZE); // 100000
 * ```
 */
export const DEFAULT_ROW_GROUP_SIZE = 100_000;
/** Target size of one data page before compression. */
const PAGE_SIZE = 1 << 20;
/** Encoded bytes after which the writer hands its output to the sink (between pages). */
const FLUSH_SIZE = 1 << 20;
/** How often (in rows) `writeEvents` checks its abort signal. */
const SIGNAL_CHECK_ROWS = 1024;

/**
 * Options of {@linkcode writeEvents} and {@linkcode EventBatchWriter}.
 *
 * @example
 * ```ts
 * import type { WriteEventsOptions } from "@eventlake/parquet";
 * const options: WriteEventsOptions = { rowGroupSize: 50_000, compression: "SNAPPY" };
 * console.log(options.rowGroupSize); // 50000
 * ```
 */
export interface WriteEventsOptions {
  /** Rows per row group (default 100,000). Memory grows with it, not with the file. */
  rowGroupSize?: number;
  /** Page compression (default `"SNAPPY"`). */
  compression?: "SNAPPY" | "UNCOMPRESSED";
  /**
   * Cancels the write: it rejects with `AbortedError` and aborts the sink. For
   * {@linkcode EventBatchWriter} it is the default signal of `drain` and `close`.
   */
  signal?: AbortSignal;
  /** The footer's `created_by` (default `eventlake <version> (hyparquet-writer <version>)`). */
  createdBy?: string;
}

/**
 * What {@linkcode writeEvents} wrote.
 *
 * @example
 * ```ts
 * import { writeEvents, type WriteSummary } from "@eventlake/parquet";
 * const summary: WriteSummary = await writeEvents([], new WritableStream());
 * console.log(summary.rows, summary.minTs); // 0 undefined
 * ```
 */
export interface WriteSummary {
  /** Number of rows written. */
  rows: number;
  /** Number of row groups written. */
  rowGroups: number;
  /** Size of the file in bytes. */
  bytes: number;
  /** Smallest `ts` (epoch ms), or `undefined` for an empty file. */
  minTs: number | undefined;
  /** Largest `ts` (epoch ms), or `undefined` for an empty file. */
  maxTs: number | undefined;
}

/**
 * The default `created_by` of the files we write.
 *
 * @example
 * ```ts
 * import { DEFAULT_CREATED_BY } from "@eventlake/parquet";
 * console.log(DEFAULT_CREATED_BY.startsWith("eventlake ")); // true
 * ```
 */
export const DEFAULT_CREATED_BY: string =
  `eventlake ${EVENTLAKE_VERSION} (hyparquet-writer ${HYPARQUET_WRITER_VERSION})`;

const MIN_SAFE_DECIMAL = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE_DECIMAL = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_32 = 4294967296;

/** Pages of one leaf: `[levelStart, levelEnd, valueStart, valueEnd, rows, nulls]` each. */
type PageRange = [number, number, number, number, number, number];

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
  strings: StringColumn | null;
  statistics: ColumnChunkStatistics;
}

interface ColumnChunkStatistics {
  min_value?: string | number | bigint | Uint8Array;
  max_value?: string | number | bigint | Uint8Array;
  null_count: bigint;
}

/**
 * Writes events as one Parquet file, incrementally: call {@linkcode EventBatchWriter.append}
 * per event, `await drain()` whenever `append` returns `true` (a row group is encoded and
 * waiting), and `await close()` at the end. Memory stays at about one row group.
 *
 * Types written (every top-level column REQUIRED, the seed's column order): `ts` INT64
 * TIMESTAMP(MILLIS, UTC); `event_key`, `insert_id` STRING; `metric_value`
 * FIXED_LEN_BYTE_ARRAY(11) DECIMAL(24,6); each map `MAP<STRING, STRING>` (values optional).
 *
 * An event that cannot be written (non-integer `ts`, out-of-range `metric_value`, a
 * non-string where a string belongs) throws `InvalidArgumentError` naming the row and the
 * field; the writer is then failed and refuses more rows, so no corrupt file is finished.
 *
 * @example
 * ```ts
 * import { EventBatchWriter } from "@eventlake/parquet";
 * const chunks: Uint8Array[] = [];
 * const sink = new WritableStream<Uint8Array>({ write(c) { chunks.push(c); } });
 * const writer = new EventBatchWriter(sink, { rowGroupSize: 1000 });
 * const full = writer.append({
 *   ts: 1700000000000, event_key: "login", insert_id: "id-1", metric_value: 1500000n,
 *   identifiers: { id: "u1", device_id: "d1" }, user_properties: {}, event_properties: {},
 *   platform_properties: { osname: "ios", appversion: "1.0" },
 * });
 * if (full) await writer.drain();
 * const summary = await writer.close();
 * console.log(summary.rows, summary.rowGroups); // 1 1
 * ```
 */
export class EventBatchWriter {
  #sink: WritableStreamDefaultWriter<Uint8Array>;
  #out: ByteWriter;
  #codec: CompressionCodec;
  #createdBy: string;
  #signal: AbortSignal | undefined;
  #rowGroupSize: number;
  #rowGroups: RowGroup[] = [];
  #totalRows = 0;
  #failed: unknown = undefined;
  /** The encoding of a completed row group, advanced by `drain` column by column. */
  #pending: Generator<void> | undefined = undefined;
  #closed = false;
  #minTs: number | undefined = undefined;
  #maxTs: number | undefined = undefined;

  // The row group being filled.
  #rows = 0;
  #ts: Float64Array;
  #tsMin = Infinity;
  #tsMax = -Infinity;
  #metric: Uint8Array;
  #metricMin: bigint | undefined = undefined;
  #metricMax: bigint | undefined = undefined;
  #eventKey = new StringColumn();
  #insertId = new StringColumn();
  #maps: MapColumn[] = MAP_COLUMNS.map(() => new MapColumn());

  // Scratch buffers reused by every page.
  #levels = new Bytes();
  #values = new Bytes();
  #compressed = new Bytes();
  #keyDef = new Uint8Array(4096);

  /** Creates a writer that streams one file into `sink` (which it closes in {@linkcode close}). */
  constructor(sink: WritableStream<Uint8Array>, options: WriteEventsOptions = {}) {
    const rowGroupSize = options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
    if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) {
      throw new InvalidArgumentError(
        `Cannot write events: rowGroupSize must be a positive integer, got "${rowGroupSize}"`,
      );
    }
    const compression = options.compression ?? "SNAPPY";
    if (compression !== "SNAPPY" && compression !== "UNCOMPRESSED") {
      throw new InvalidArgumentError(
        `Cannot write events: compression must be "SNAPPY" or "UNCOMPRESSED", got "${compression}"`,
      );
    }
    this.#codec = compression;
    this.#signal = options.signal;
    this.#createdBy = options.createdBy ?? DEFAULT_CREATED_BY;
    this.#rowGroupSize = rowGroupSize;
    const initialRows = Math.min(rowGroupSize, 4096);
    this.#ts = new Float64Array(initialRows);
    this.#metric = new Uint8Array(initialRows * DECIMAL_WIDTH);
    this.#out = new ByteWriter(1 << 16);
    this.#out.appendUint32(0x31524150); // "PAR1"
    this.#sink = sink.getWriter();
  }

  /** Number of rows appended so far (all row groups). */
  get rows(): number {
    return this.#totalRows + this.#rows;
  }

  /**
   * Appends one event. Returns `true` when a row group is complete: `await drain()` then,
   * before appending more — it encodes the row group column by column, handing each column
   * chunk to the sink as soon as it is encoded, so memory stays at about one row group.
   * (Appending without draining still works: the row group is then encoded at once.)
   */
  append(event: Event): boolean {
    if (this.#failed !== undefined || this.#closed) this.#refuse();
    if (this.#pending !== undefined) this.#finishPending();
    const row = this.#rows;
    try {
      this.#shred(event, row);
    } catch (error) {
      this.#failed = error;
      throw error;
    }
    this.#rows = row + 1;
    if (this.#rows >= this.#rowGroupSize) {
      this.#pending = this.#encodeRowGroup();
      return true;
    }
    return false;
  }

  /**
   * Encodes a completed row group, if any, and writes everything encoded to the sink,
   * waiting for it (backpressure).
   */
  async drain(options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = options.signal ?? this.#signal;
    if (signal?.aborted) throw this.#aborted(signal);
    const pending = this.#pending;
    if (pending !== undefined) {
      this.#pending = undefined;
      for (const _ of pending) {
        await this.#flushOut();
        if (signal?.aborted) throw this.#aborted(signal);
      }
    }
    await this.#flushOut();
  }

  /** Hands the encoded bytes to the sink. */
  async #flushOut(): Promise<void> {
    const out = this.#out;
    if (out.index === 0) return;
    // The sink may keep the chunk: hand it a copy, keep the buffer.
    const chunk = new Uint8Array(out.buffer, 0, out.index).slice();
    out.index = 0;
    if (out.buffer.byteLength > 64 << 20) {
      // An outlier column chunk grew the buffer a lot: give that memory back.
      const offset = out.offset;
      this.#out = new ByteWriter(1 << 20);
      this.#out.offset = offset;
    }
    await this.#sink.write(chunk);
  }

  #finishPending(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) { for (const _ of pending) { /* encode the rest at once */ } }
  }

  /**
   * Encodes the rows still buffered as a last row group, writes the footer and closes the sink.
   * Rejects with `AbortedError` if `signal` is aborted (the sink is then aborted too).
   */
  async close(options: { signal?: AbortSignal } = {}): Promise<WriteSummary> {
    if (this.#failed !== undefined || this.#closed) this.#refuse();
    try {
      await this.drain(options);
      if (this.#rows > 0) {
        this.#pending = this.#encodeRowGroup();
        await this.drain(options);
      }
      writeMetadata(this.#out, {
        version: 2,
        schema: EVENT_SCHEMA,
        num_rows: BigInt(this.#totalRows),
        row_groups: this.#rowGroups,
        created_by: this.#createdBy,
        metadata_length: 0,
      });
      this.#out.appendUint32(0x31524150); // "PAR1"
      const bytes = this.#out.offset;
      await this.drain(options);
      this.#closed = true;
      await this.#sink.close();
      return {
        rows: this.#totalRows,
        rowGroups: this.#rowGroups.length,
        bytes,
        minTs: this.#minTs,
        maxTs: this.#maxTs,
      };
    } catch (error) {
      await this.abort(error);
      throw error;
    }
  }

  /** Gives up: aborts the sink with `reason` and refuses further calls. */
  async abort(reason?: unknown): Promise<void> {
    if (this.#failed === undefined) this.#failed = reason ?? new AbortedError("Write aborted");
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#sink.abort(reason);
    } catch {
      // The sink is already errored: nothing more to release.
    }
  }

  #refuse(): never {
    throw new InvalidArgumentError(
      this.#closed && this.#failed === undefined
        ? "Cannot write events: the writer is closed"
        : "Cannot write events: the writer failed earlier",
      { cause: this.#failed },
    );
  }

  #aborted(signal: AbortSignal): AbortedError {
    return new AbortedError(`Write aborted after ${this.rows} rows`, { cause: signal.reason });
  }

  // ---------------------------------------------------------------- shredding

  #shred(e: Event, row: number): void {
    if (typeof e !== "object" || e === null) {
      throw invalidRow(this.#totalRows + row, undefined, "an event object", e);
    }
    const ts = e.ts;
    if (typeof ts !== "number" || !Number.isSafeInteger(ts)) {
      throw invalidRow(this.#totalRows + row, "ts", "an integer of epoch milliseconds", ts);
    }
    const eventKey = e.event_key;
    if (typeof eventKey !== "string") {
      throw invalidRow(this.#totalRows + row, "event_key", "a string", eventKey);
    }
    const insertId = e.insert_id;
    if (typeof insertId !== "string") {
      throw invalidRow(this.#totalRows + row, "insert_id", "a string", insertId);
    }
    const metric = e.metric_value;
    if (
      typeof metric !== "bigint" || metric > DECIMAL_MAX_UNSCALED || metric < -DECIMAL_MAX_UNSCALED
    ) {
      throw invalidRow(
        this.#totalRows + row,
        "metric_value",
        "an unscaled DECIMAL(24,6) bigint within ±(10^24-1)",
        metric,
      );
    }

    if (row === this.#ts.length) this.#growRows();
    this.#ts[row] = ts;
    if (ts < this.#tsMin) this.#tsMin = ts;
    if (ts > this.#tsMax) this.#tsMax = ts;
    this.#writeDecimal(metric, row * DECIMAL_WIDTH);
    this.#eventKey.add(eventKey);
    this.#insertId.add(insertId);
    const maps = this.#maps;
    for (let m = 0; m < 4; m++) {
      this.#shredMap(e[MAP_COLUMNS[m]], maps[m], MAP_COLUMNS[m], row);
    }
  }

  #shredMap(map: Record<string, string | null>, col: MapColumn, name: MapColumnName, row: number) {
    if (typeof map !== "object" || map === null || Array.isArray(map)) {
      throw invalidRow(this.#totalRows + row, name, "an object of string values", map);
    }
    let n = col.levels;
    let rep = col.rep;
    let def = col.def;
    let level = 0;
    const first = n;
    for (const key in map) {
      const value = map[key];
      if (n === rep.length) {
        col.levels = n;
        col.ensure(1);
        rep = col.rep;
        def = col.def;
      }
      col.addKey(key, n - first);
      rep[n] = level;
      level = 1;
      if (typeof value === "string") {
        def[n] = 2;
        col.addValue(value, n - first);
      } else if (value === null) {
        def[n] = 1;
        col.nullValues++;
      } else {
        col.levels = n; // drop the half-written entry
        throw invalidRow(
          this.#totalRows + row,
          `${name}.${key}`,
          "a string or null",
          value,
        );
      }
      n++;
    }
    if (level === 0) {
      if (n === rep.length) {
        col.levels = n;
        col.ensure(1);
        rep = col.rep;
        def = col.def;
      }
      rep[n] = 0;
      def[n] = 0;
      n++;
      col.emptyMaps++;
    }
    col.levels = n;
  }

  #growRows(): void {
    const size = Math.min(this.#ts.length * 2, this.#rowGroupSize);
    const ts = new Float64Array(size);
    ts.set(this.#ts);
    this.#ts = ts;
    const metric = new Uint8Array(size * DECIMAL_WIDTH);
    metric.set(this.#metric);
    this.#metric = metric;
  }

  /** Writes the 11-byte big-endian two's complement of `v` at `offset`. */
  #writeDecimal(v: bigint, offset: number): void {
    const out = this.#metric;
    if (v >= MIN_SAFE_DECIMAL && v <= MAX_SAFE_DECIMAL) {
      // Fast path through numbers: |v| < 2^53, so hi fits 22 bits and the top 3 bytes are sign.
      const n = Number(v);
      const hi = Math.floor(n / TWO_32);
      const lo = n - hi * TWO_32;
      const sign = hi < 0 ? 0xff : 0;
      out[offset] = sign;
      out[offset + 1] = sign;
      out[offset + 2] = sign;
      out[offset + 3] = hi >>> 24;
      out[offset + 4] = (hi >>> 16) & 0xff;
      out[offset + 5] = (hi >>> 8) & 0xff;
      out[offset + 6] = hi & 0xff;
      out[offset + 7] = lo >>> 24;
      out[offset + 8] = (lo >>> 16) & 0xff;
      out[offset + 9] = (lo >>> 8) & 0xff;
      out[offset + 10] = lo & 0xff;
    } else {
      let u = BigInt.asUintN(DECIMAL_WIDTH * 8, v);
      for (let i = DECIMAL_WIDTH - 1; i >= 0; i--) {
        out[offset + i] = Number(u & 0xffn);
        u >>= 8n;
      }
    }
    const min = this.#metricMin;
    if (min === undefined) {
      this.#metricMin = v;
      this.#metricMax = v;
    } else if (v < min) this.#metricMin = v;
    else if (v > (this.#metricMax as bigint)) this.#metricMax = v;
  }

  // ---------------------------------------------------------------- encoding

  /** Encodes the row group being filled, one top-level column per step (see `drain`). */
  *#encodeRowGroup(): Generator<void> {
    const rows = this.#rows;
    const start = this.#out.offset;
    const columns: ColumnChunk[] = [];
    let uncompressed = 0n;

    // ts as INT64 little-endian PLAIN.
    const tsBytes = new Uint8Array(rows * 8);
    const tsView = new DataView(tsBytes.buffer);
    const ts = this.#ts;
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
      strings: StringColumn | null,
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
          min_value: this.#tsMin,
          max_value: this.#tsMax,
          null_count: 0n,
        }));
      } else if (kind === "metric_value") {
        leaves.push(flat("metric_value", this.#metric, DECIMAL_WIDTH, null, {
          min_value: this.#metricMin,
          max_value: this.#metricMax,
          null_count: 0n,
        }));
      } else if (kind === "event_key" || kind === "insert_id") {
        const col = kind === "event_key" ? this.#eventKey : this.#insertId;
        col.finish();
        const mm = col.minMax();
        leaves.push(flat(kind, null, 0, col, {
          min_value: mm?.min,
          max_value: mm?.max,
          null_count: 0n,
        }));
      } else {
        const col = this.#maps[MAP_COLUMNS.indexOf(kind)];
        const n = col.levels;
        if (this.#keyDef.length < n) {
          this.#keyDef = new Uint8Array(Math.max(n, this.#keyDef.length * 2));
        }
        const keyDef = this.#keyDef;
        const def = col.def;
        for (let i = 0; i < n; i++) keyDef[i] = def[i] === 0 ? 0 : 1;
        col.keys.finish();
        col.values.finish();
        const km = col.keys.minMax();
        const vm = col.values.minMax();
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
        const chunk = yield* this.#writeLeaf(leaf, rows);
        uncompressed += chunk.meta_data?.total_uncompressed_size ?? 0n;
        columns.push(chunk);
      }
      if (c < EVENT_COLUMNS.length - 1) yield;
    }

    this.#rowGroups.push({
      columns,
      total_byte_size: uncompressed,
      num_rows: BigInt(rows),
      file_offset: BigInt(start),
      total_compressed_size: BigInt(this.#out.offset - start),
    });
    this.#totalRows += rows;
    if (this.#minTs === undefined || this.#tsMin < this.#minTs) this.#minTs = this.#tsMin;
    if (this.#maxTs === undefined || this.#tsMax > this.#maxTs) this.#maxTs = this.#tsMax;

    // Empty the row group, keep the buffers.
    this.#rows = 0;
    this.#tsMin = Infinity;
    this.#tsMax = -Infinity;
    this.#metricMin = undefined;
    this.#metricMax = undefined;
    this.#eventKey.reset();
    this.#insertId.reset();
    for (const m of this.#maps) m.reset();
  }

  /** Writes one leaf's column chunk; yields whenever a page pushed the output past `FLUSH_SIZE`. */
  *#writeLeaf(leaf: Leaf, rows: number): Generator<void, ColumnChunk> {
    let out = this.#out;
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
      const body = this.#compress(page);
      const headerStart = out.offset;
      writePageHeader(out, {
        type: "DICTIONARY_PAGE",
        uncompressed_page_size: page.length,
        compressed_page_size: body.length,
        dictionary_page_header: { num_values: dictValues.length, encoding: "PLAIN" },
      });
      uncompressed += out.offset - headerStart + page.length;
      out.appendBytes(body);
      encodings.push("PLAIN");
      encodingStats.push({ page_type: "DICTIONARY_PAGE", encoding: "PLAIN", count: 1 });
      bitWidth = bitWidthOf(dictValues.length - 1);
    }
    const encoding: Encoding = dict ? "RLE_DICTIONARY" : "PLAIN";
    encodings.push(encoding);

    const dataPageOffset = BigInt(out.offset);
    const pages = this.#pageRanges(leaf, rows, dict, bitWidth);
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
        appendHybrid(values, (strings as StringColumn).indices, v0, v1, bitWidth);
        page = values.bytes();
      } else {
        const plain = (strings as StringColumn).plain;
        const end = plainEnd(plain, plainOffset, v1 - v0);
        page = plain.buf.subarray(plainOffset, end);
        plainOffset = end;
      }
      const body = this.#compress(page);
      const headerStart = out.offset;
      writePageHeader(out, {
        type: "DATA_PAGE_V2",
        uncompressed_page_size: levels.pos + page.length,
        compressed_page_size: levels.pos + body.length,
        data_page_header_v2: {
          num_values: l1 - l0,
          num_nulls: nulls,
          num_rows: pageRows,
          encoding,
          definition_levels_byte_length: defLength,
          repetition_levels_byte_length: repLength,
          is_compressed: codec !== "UNCOMPRESSED",
        },
      });
      uncompressed += out.offset - headerStart + levels.pos + page.length;
      out.appendBytes(levels.bytes());
      out.appendBytes(body);
      if (out.index >= FLUSH_SIZE) {
        yield;
        out = this.#out; // drain may have swapped the buffer
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

  /** Splits a leaf into pages of about {@linkcode PAGE_SIZE} bytes, each starting at a row. */
  #pageRanges(leaf: Leaf, rows: number, dict: boolean, bitWidth: number): PageRange[] {
    const pages: PageRange[] = [];
    const strings = leaf.strings;
    const plain = strings !== null && !dict ? strings.plain : null;
    const valueCost = leaf.fixed !== null ? leaf.width : dict ? bitWidth / 8 : 0;
    const rep = leaf.rep;
    const def = leaf.def;
    const n = leaf.levels;
    // Most column chunks fit one page: then no walk over the values is needed.
    const values = leaf.fixed !== null ? rows : (strings as StringColumn).count;
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

  #compress(page: Uint8Array): Uint8Array {
    if (this.#codec === "UNCOMPRESSED") return page;
    const compressed = this.#compressed;
    compressed.reset();
    snappyCompressInto(page, compressed);
    return compressed.bytes();
  }
}

/** End offset of `count` PLAIN byte-array values starting at `offset`. */
function plainEnd(plain: Bytes, offset: number, count: number): number {
  const view = plain.view;
  for (let i = 0; i < count; i++) offset += view.getInt32(offset, true) + 4;
  return offset;
}

function describe(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return String(value);
}

function invalidRow(
  row: number,
  field: string | undefined,
  expected: string,
  got: unknown,
): InvalidArgumentError {
  const where = field === undefined ? `event ${row}` : `event ${row}: field "${field}"`;
  return new InvalidArgumentError(
    `Cannot write ${where} must be ${expected}, got ${describe(got)}`,
    { details: { row, field } },
  );
}

/**
 * Writes events as one Parquet file into `sink`, streaming: rows are buffered for one
 * row group only, so memory stays bounded however many events there are. The sink is
 * closed at the end (aborted on failure). SNAPPY compression and column statistics
 * are on; see {@linkcode EventBatchWriter} for the exact column types.
 *
 * Rejects with `InvalidArgumentError` (naming the row index and field) for an event it
 * cannot write, and with `AbortedError` when `options.signal` is aborted.
 *
 * @example
 * ```ts
 * import { writeEvents } from "@eventlake/parquet";
 * const chunks: Uint8Array[] = [];
 * const sink = new WritableStream<Uint8Array>({ write(c) { chunks.push(c); } });
 * const summary = await writeEvents([{
 *   ts: Date.UTC(2023, 0, 1), event_key: "purchase", insert_id: "6c1f…", metric_value: -1n,
 *   identifiers: { id: "u1", device_id: "d1" }, user_properties: { plan: null },
 *   event_properties: {}, platform_properties: { osname: "android", appversion: "2.3.1" },
 * }], sink);
 * console.log(summary.rows, summary.minTs); // 1 1672531200000
 * ```
 */
export async function writeEvents(
  events: Iterable<Event> | AsyncIterable<Event>,
  sink: WritableStream<Uint8Array>,
  options: WriteEventsOptions = {},
): Promise<WriteSummary> {
  const { signal } = options;
  const writer = new EventBatchWriter(sink, options);
  try {
    if (signal?.aborted) throw abortedError(signal, 0);
    if (Symbol.iterator in events) {
      let sinceCheck = 0;
      for (const event of events as Iterable<Event>) {
        if (writer.append(event)) await writer.drain(options);
        if (++sinceCheck === SIGNAL_CHECK_ROWS) {
          sinceCheck = 0;
          if (signal?.aborted) throw abortedError(signal, writer.rows);
        }
      }
    } else {
      for await (const event of events as AsyncIterable<Event>) {
        if (signal?.aborted) throw abortedError(signal, writer.rows);
        if (writer.append(event)) await writer.drain(options);
      }
    }
    if (signal?.aborted) throw abortedError(signal, writer.rows);
    return await writer.close(options);
  } catch (error) {
    const failure = error instanceof AbortedError || !signal?.aborted
      ? error
      : abortedError(signal, writer.rows);
    await writer.abort(failure);
    throw failure;
  }
}

function abortedError(signal: AbortSignal, rows: number): AbortedError {
  return new AbortedError(`Write aborted after ${rows} rows`, { cause: signal.reason });
}

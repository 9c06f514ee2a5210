/**
 * The streaming, bounded-memory Parquet writer of Data Import event files.
 *
 * Rows are shredded into typed column buffers as they arrive (levels in typed arrays,
 * strings as dictionary indices or bulk-encoded PLAIN bytes), one row group at a time;
 * each finished row group is encoded page by page (dictionary or PLAIN, RLE levels,
 * SNAPPY, statistics: `_write_encode.ts`) and handed to the sink about every MiB. With
 * the `worker` option the encoding runs in a Web Worker (`_write_worker.ts`) while this
 * thread shreds the next row group: the row group's typed buffers are transferred there
 * and back, not copied, and the bytes written are the same as on one thread.
 *
 * @module
 */

import {
  AbortedError,
  DECIMAL_MAX_UNSCALED,
  type Event,
  InvalidArgumentError,
  MAP_COLUMNS,
  type MapColumn as MapColumnName,
} from "@eventlake/schema";
import { MapColumn, StringColumn } from "./_write_columns.ts";
import { type GroupData, GroupEncoder } from "./_write_encode.ts";
import { DECIMAL_WIDTH } from "./_write_schema.ts";
import type { GroupWire, StringWire } from "./_write_wire.ts";
import { EncodeWorker, type WriteWorkerPool } from "./_write_pipeline.ts";

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
  /**
   * Encode row groups in a Web Worker (pages, levels, statistics, Snappy) while this thread
   * shreds the next row group, so a write uses two CPUs; the file's bytes are the same either
   * way. At most two row groups are in flight (one encoding, one filling). The worker starts
   * once the first row group is half full (smaller files never start one) and is ended by
   * `close` or `abort`.
   *
   * Off by default: on the 2-CPU benchmark machine (shared, load 3-7; 1M events, 100,000-row
   * groups) this thread's CPU time fell from 5.6-5.8 to 3.8-4.2 s (it then only shreds) while
   * the worker's encoding took 2.5-2.7 s — more than the same encoding here: a new worker's
   * code starts cold for every file, its first row groups took 2-3x as long as later ones —
   * and the whole write cost 0-80% more CPU; by the wall clock it was 0.6-1.2x one thread. Peak RSS writing 1M events grew from ~265 to ~410 MB (a
   * second row group's buffers and encoded chunks, a second isolate). Worth trying where a
   * CPU is idle and memory is not tight. With `true`, always end an
   * {@linkcode EventBatchWriter} with `close()` or `abort()`: a live worker keeps the process
   * running ({@linkcode writeEvents} always does).
   */
  worker?: boolean;
  /**
   * Encode in a worker (as `worker: true`) taken warm from this pool, and give it back when the
   * file is closed cleanly: a process writing many files pays the worker's warm-up once, not
   * per file (see {@linkcode WriteWorkerPool}). A closed pool is refused.
   */
  workerPool?: WriteWorkerPool;
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
const IDENTIFIERS = MAP_COLUMNS.indexOf("identifiers");
const USER_PROPERTIES = MAP_COLUMNS.indexOf("user_properties");
const EVENT_PROPERTIES = MAP_COLUMNS.indexOf("event_properties");
const PLATFORM_PROPERTIES = MAP_COLUMNS.indexOf("platform_properties");
const MIN_SAFE_DECIMAL = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE_DECIMAL = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_32 = 4294967296;

/**
 * Writes events as one Parquet file, incrementally: call {@linkcode EventBatchWriter.append}
 * per event, `await drain()` whenever `append` returns `true` (a row group is complete),
 * and `await close()` at the end. Memory stays at about one row group (two with the
 * `worker` option: one encoding in the worker, one filling here).
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
  #codec: "SNAPPY" | "UNCOMPRESSED";
  #createdBy: string;
  #signal: AbortSignal | undefined;
  #rowGroupSize: number;
  /** Encodes on this thread: made when the first row group is encoded here. */
  #encoder: GroupEncoder | undefined = undefined;
  /** Whether to start a worker (cleared when it cannot start). */
  #useWorker: boolean;
  /** Where the worker comes from and goes back to, if anywhere. */
  readonly #workerPool: WriteWorkerPool | undefined;
  /** The worker that encodes every row group, once started (then #encoder stays unused). */
  #worker: EncodeWorker | undefined = undefined;
  /** Worker mode: the encodings asked for and not yet written to the sink, in file order. */
  #inflight: Promise<Uint8Array[]>[] = [];
  /** Worker mode: buffers of an encoded row group, back from the worker for the next one. */
  #spare: GroupWire | undefined = undefined;
  /** Worker mode: the row group being filled is complete and not yet handed to the worker. */
  #full = false;
  /** Row groups completed (handed to an encoder). */
  #groups = 0;
  #totalRows = 0;
  #failed: unknown = undefined;
  /** The encoding of a completed row group on this thread, advanced by `drain`. */
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
    if (options.workerPool?.closed) {
      throw new InvalidArgumentError("Cannot write events: the write worker pool is closed");
    }
    this.#workerPool = options.workerPool;
    this.#useWorker = (options.worker === true || options.workerPool !== undefined) &&
      typeof Worker === "function";
    const initialRows = Math.min(rowGroupSize, 4096);
    this.#ts = new Float64Array(initialRows);
    this.#metric = new Uint8Array(initialRows * DECIMAL_WIDTH);
    this.#sink = sink.getWriter();
  }

  /** Number of rows appended so far (all row groups). */
  get rows(): number {
    return this.#totalRows + this.#rows;
  }

  /**
   * Appends one event. Returns `true` when a row group is complete: `await drain()` then,
   * before appending more — it encodes the row group column by column, handing each column
   * chunk to the sink as soon as it is encoded, so memory stays at about one row group
   * (with a worker: it hands the row group to the worker and writes the one before).
   * (Appending without draining still works: the row group is then encoded at once.)
   */
  append(event: Event): boolean {
    if (this.#failed !== undefined || this.#closed) this.#refuse();
    if (this.#pending !== undefined) this.#finishPending();
    if (this.#full) {
      // Not drained: hand the row group over now, or encode it here if the worker never loaded.
      if ((this.#worker as EncodeWorker).loaded) this.#handOff();
      else {
        this.#encodeHereInstead();
        this.#finishPending();
      }
    }
    const row = this.#rows;
    try {
      this.#shred(event, row);
    } catch (error) {
      this.#failed = error;
      throw error;
    }
    const rows = row + 1;
    this.#rows = rows;
    if (this.#useWorker && this.#worker === undefined && rows * 2 >= this.#rowGroupSize) {
      this.#startWorker();
    }
    if (rows >= this.#rowGroupSize) {
      if (this.#worker !== undefined) this.#full = true;
      else this.#pending = this.#encodeHere();
      return true;
    }
    return false;
  }

  /**
   * Encodes a completed row group, if any, and writes everything encoded to the sink,
   * waiting for it (backpressure). With a worker: waits for the row group in the worker,
   * hands it the completed one, and writes the one it encoded.
   */
  async drain(options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = options.signal ?? this.#signal;
    if (signal?.aborted) throw this.#aborted(signal);
    if (this.#full) {
      const worker = this.#worker as EncodeWorker;
      if (worker.loaded || await worker.ready) {
        // One row group in the worker at a time, while this thread fills the next.
        const done = await this.#collect();
        this.#handOff();
        await this.#writeChunks(done, signal);
        return;
      }
      this.#encodeHereInstead();
    }
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

  /** Worker mode: waits for every encoding asked for, in order. */
  async #collect(): Promise<Uint8Array[][]> {
    const done: Uint8Array[][] = [];
    try {
      for (const encoded of this.#inflight) done.push(await encoded);
    } catch (error) {
      this.#failed ??= error;
      throw error;
    } finally {
      this.#inflight = [];
    }
    return done;
  }

  async #writeChunks(done: Uint8Array[][], signal: AbortSignal | undefined): Promise<void> {
    for (const chunks of done) {
      for (const chunk of chunks) {
        await this.#sink.write(chunk);
        if (signal?.aborted) throw this.#aborted(signal);
      }
    }
  }

  /** Hands the bytes encoded on this thread to the sink. */
  async #flushOut(): Promise<void> {
    const chunk = this.#encoder?.take();
    if (chunk !== undefined) await this.#sink.write(chunk);
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
      const signal = options.signal ?? this.#signal;
      let bytes: number;
      let worker = this.#worker;
      if (worker !== undefined && !worker.loaded && !await worker.ready) {
        this.#encodeHereInstead();
        worker = undefined;
      }
      if (worker !== undefined) {
        if (signal?.aborted) throw this.#aborted(signal);
        if (this.#full || this.#rows > 0) this.#handOff();
        const finished = worker.finish();
        finished.catch(() => {});
        const done = await this.#collect();
        const footer = await finished;
        done.push(footer.chunks);
        await this.#writeChunks(done, signal);
        bytes = footer.bytes;
        worker.release();
      } else {
        await this.drain(options);
        if (this.#rows > 0) {
          this.#pending = this.#encodeHere();
          await this.drain(options);
        }
        bytes = this.#local().finish();
        await this.drain(options);
      }
      this.#closed = true;
      await this.#sink.close();
      return {
        rows: this.#totalRows,
        rowGroups: this.#groups,
        bytes,
        minTs: this.#minTs,
        maxTs: this.#maxTs,
      };
    } catch (error) {
      await this.abort(error);
      throw error;
    }
  }

  /** Gives up: aborts the sink with `reason`, ends the worker, and refuses further calls. */
  async abort(reason?: unknown): Promise<void> {
    if (this.#failed === undefined) this.#failed = reason ?? new AbortedError("Write aborted");
    this.#worker?.stop();
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

  // ---------------------------------------------------------------- handing over

  #local(): GroupEncoder {
    return this.#encoder ??= new GroupEncoder(this.#codec, this.#createdBy);
  }

  /** The row group being filled, as the encoder takes it (its string columns finished). */
  #group(): GroupData {
    this.#eventKey.finish();
    this.#insertId.finish();
    for (const m of this.#maps) {
      m.keys.finish();
      m.values.finish();
    }
    return {
      rows: this.#rows,
      ts: this.#ts,
      tsMin: this.#tsMin,
      tsMax: this.#tsMax,
      metric: this.#metric,
      metricMin: this.#metricMin,
      metricMax: this.#metricMax,
      eventKey: this.#eventKey,
      insertId: this.#insertId,
      maps: this.#maps,
    };
  }

  /** Encodes the row group being filled on this thread, one top-level column per step. */
  *#encodeHere(): Generator<void> {
    this.#groups++;
    yield* this.#local().encode(this.#group());
    this.#nextGroup();
  }

  /** Counts the completed row group and empties the buffers for the next, keeping them. */
  #nextGroup(): void {
    this.#totalRows += this.#rows;
    if (this.#minTs === undefined || this.#tsMin < this.#minTs) this.#minTs = this.#tsMin;
    if (this.#maxTs === undefined || this.#tsMax > this.#maxTs) this.#maxTs = this.#tsMax;
    this.#rows = 0;
    this.#tsMin = Infinity;
    this.#tsMax = -Infinity;
    this.#metricMin = undefined;
    this.#metricMax = undefined;
    this.#eventKey.reset();
    this.#insertId.reset();
    for (const m of this.#maps) m.reset();
  }

  /**
   * The worker failed to load before it got any row group (e.g. a compiled executable built
   * without `--include` of `_write_worker.ts`): encode every row group here instead, from the
   * completed one on (the file is the same).
   */
  #encodeHereInstead(): void {
    this.#worker?.stop();
    this.#worker = undefined;
    this.#useWorker = false;
    if (this.#full) {
      this.#full = false;
      this.#pending = this.#encodeHere();
    }
  }

  #startWorker(): void {
    this.#worker = EncodeWorker.start(this.#codec, this.#createdBy, (buffers) => {
      this.#spare = buffers;
    }, this.#workerPool);
    if (this.#worker === undefined) this.#useWorker = false;
  }

  /**
   * Worker mode: transfers the row group being filled to the worker and fills the next one
   * in the buffers the worker sent back (or new ones of the same sizes).
   */
  #handOff(): void {
    this.#full = false;
    this.#groups++;
    const g = this.#group();
    const str = (c: StringColumn): StringWire => ({
      count: c.count,
      dictMode: c.dictMode,
      dictValues: c.dictValues,
      indices: c.indices,
      plain: c.plain.buf,
      plainPos: c.plain.pos,
    });
    const wire: GroupWire = {
      ...g,
      eventKey: str(this.#eventKey),
      insertId: str(this.#insertId),
      maps: this.#maps.map((m) => ({
        rep: m.rep,
        def: m.def,
        levels: m.levels,
        nullValues: m.nullValues,
        emptyMaps: m.emptyMaps,
        keys: str(m.keys),
        values: str(m.values),
      })),
    };
    // The sizes, before the transfer empties the buffers.
    const spare = this.#spare ?? newBuffers(wire);
    this.#spare = undefined;
    const encoded = (this.#worker as EncodeWorker).encode(wire);
    encoded.catch(() => {}); // awaited in order by drain/close
    this.#inflight.push(encoded);
    this.#ts = spare.ts;
    this.#metric = spare.metric;
    const use = (c: StringColumn, s: StringWire) => {
      c.indices = s.indices;
      c.plain.buf = s.plain;
      c.plain.view = new DataView(s.plain.buffer);
    };
    use(this.#eventKey, spare.eventKey);
    use(this.#insertId, spare.insertId);
    for (let m = 0; m < this.#maps.length; m++) {
      const map = this.#maps[m];
      const s = spare.maps[m];
      map.rep = s.rep;
      map.def = s.def;
      use(map.keys, s.keys);
      use(map.values, s.values);
    }
    this.#nextGroup();
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
    this.#eventKey.addCached(eventKey);
    this.#insertId.add(insertId);
    // Named loads (one inline cache each), not e[MAP_COLUMNS[m]]: a keyed load with four
    // different names is megamorphic and cost 6% of the shredding.
    const maps = this.#maps;
    this.#shredMap(e.identifiers, maps[IDENTIFIERS], "identifiers", row);
    this.#shredMap(e.user_properties, maps[USER_PROPERTIES], "user_properties", row);
    this.#shredMap(e.event_properties, maps[EVENT_PROPERTIES], "event_properties", row);
    this.#shredMap(e.platform_properties, maps[PLATFORM_PROPERTIES], "platform_properties", row);
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
    let keyId = -1;
    for (const key in map) {
      const value = map[key];
      if (n === rep.length) {
        col.levels = n;
        col.ensure(1);
        rep = col.rep;
        def = col.def;
      }
      keyId = col.addEntryKey(key, keyId);
      rep[n] = level;
      level = 1;
      if (typeof value === "string") {
        def[n] = 2;
        col.addEntryValue(value, keyId, n - first);
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
}

/** New buffers of the sizes of `g`'s (for the row group after `g`, while `g` is away). */
function newBuffers(g: GroupWire): GroupWire {
  const str = (s: StringWire): StringWire => ({
    count: 0,
    dictMode: true,
    dictValues: [],
    indices: new Uint16Array(s.indices.length),
    plain: new Uint8Array(s.plain.length),
    plainPos: 0,
  });
  return {
    rows: 0,
    ts: new Float64Array(g.ts.length),
    tsMin: Infinity,
    tsMax: -Infinity,
    metric: new Uint8Array(g.metric.length),
    metricMin: undefined,
    metricMax: undefined,
    eventKey: str(g.eventKey),
    insertId: str(g.insertId),
    maps: g.maps.map((m) => ({
      rep: new Uint8Array(m.rep.length),
      def: new Uint8Array(m.def.length),
      levels: 0,
      nullValues: 0,
      emptyMaps: 0,
      keys: str(m.keys),
      values: str(m.values),
    })),
  };
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
 * row group only (two with {@linkcode WriteEventsOptions.worker}), so memory stays bounded
 * however many events there are. The sink is
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

/**
 * The streaming, exact, tolerant reader of Data Import event files.
 *
 * @module
 */
import {
  type Event,
  type EventMap,
  InvalidArgumentError,
  MAP_COLUMNS,
  throwIfAborted,
} from "@eventlake/schema";
import type { ColumnMetaData, FileMetaData } from "hyparquet";
import { badFile, type Footer, readFooter, sourceName } from "./_read_footer.ts";
import { fetchChunks } from "./_read_fetch.ts";
import {
  type ColumnPlan,
  type Layout,
  type Leaf,
  type ParquetVariant,
  resolveLayout,
} from "./_read_layout.ts";
import { decodeLeaf, LazyValues, type LeafData, leafFromWire } from "./_read_chunk.ts";
import type { ChunkJob, FromDecoder, ToDecoder } from "./_read_worker.ts";
import {
  assembleDecimal,
  assembleJsonMap,
  assembleString,
  assembleTs,
  BuiltDecimals,
  CorruptColumnError,
  DecimalCursor,
  MapCursor,
  MapShapes,
  type RowDecimals,
  type RowProblem,
} from "./_read_columns.ts";
import type { ByteSource } from "./source.ts";

export type { ParquetVariant, ParquetVariantId } from "./_read_layout.ts";

/** Options of {@linkcode readEvents} and {@linkcode readEventBatches}. */
export interface ReadEventsOptions {
  /** Cancels the read: the iterator rejects with an `AbortedError`. */
  signal?: AbortSignal;
  /** The file's name in error messages (default: the source's `name`, if it has one). */
  name?: string;
  /**
   * Events per batch of {@linkcode readEventBatches} (default 8192); {@linkcode readEvents}
   * works through batches of 256 unless given.
   */
  batchSize?: number;
  /**
   * Ignore top-level columns outside the event format (reported as the `extra-columns`
   * variant) instead of refusing the file. Default `false`: an extra column usually means
   * the wrong file or a schema change upstream, and dropping data silently is worse.
   */
  allowExtraColumns?: boolean;
  /** Called once per tolerated variant met, before the first event. */
  onVariant?: (variant: ParquetVariant) => void;
  /**
   * Called for each row that cannot become an event (a null in a required column, a null
   * or duplicate map key, a decimal out of range); the row is skipped. Without it, the
   * first such row rejects the iteration (after the rows before it were yielded).
   */
  onInvalidRow?: (error: InvalidArgumentError) => void;
  /**
   * Decode each row group's column chunks (decompression, levels, dictionary indices) in a
   * worker thread while this thread builds the events of the previous row group. Default
   * off: measured on an idle 2-core machine (BENCHMARKS.md) the transfer and coordination
   * cost more than the parallel decode saves (1M events: slower than one thread). It is
   * never used where the runtime has no `Worker` or the reader itself runs in a worker.
   */
  decodeWorker?: boolean;
}

/** Rows per batch when not given. */
const DEFAULT_BATCH = 8192;
/** Rows per internal batch of {@linkcode readEvents} when not given. */
const EVENTS_BATCH = 256;

/** An opened event file: footer checked and schema matched. */
interface Opened {
  name: string;
  footer: Footer;
  layout: Layout;
  plans: ColumnPlan[];
  /** Key sequences met per map column, shared by the row groups of this read. */
  shapes: Map<string, MapShapes>;
}

/** Reads the footer and matches the schema; throws the schema problem if any. */
async function openEvents(source: ByteSource, options: ReadEventsOptions): Promise<Opened> {
  const name = sourceName(source, options.name);
  const footer = await readFooter(source, name, options.signal);
  const layout = resolveLayout(footer.tree);
  if (layout.problems.length > 0) {
    const first = layout.problems[0];
    throw new InvalidArgumentError(
      first.message.replace(
        /^Column "([^"]*)"/,
        (_, column: string) => `Column "${column}" of Parquet file "${name}"`,
      ),
      {
        details: {
          file: name,
          column: first.column,
          problems: layout.problems.map((p) => p.message),
        },
      },
    );
  }
  if (layout.extras.length > 0) {
    if (!options.allowExtraColumns) {
      throw new InvalidArgumentError(
        `Column "${
          layout.extras[0]
        }" of Parquet file "${name}" is not part of the event format: pass allowExtraColumns to ignore it`,
        { details: { file: name, column: layout.extras[0], extraColumns: layout.extras } },
      );
    }
    layout.variants.push({
      id: "extra-columns",
      column: layout.extras.join(","),
      detail: `ignored columns ${layout.extras.map((c) => `"${c}"`).join(", ")}`,
    });
  }
  for (const v of layout.variants) options.onVariant?.(v);
  return { name, footer, layout, plans: [...layout.plans.values()], shapes: new Map() };
}

function leavesOf(plan: ColumnPlan): Leaf[] {
  return plan.kind === "map" ? [plan.key, plan.value] : [plan.leaf];
}

/** Fetches the byte ranges of the given leaves of one row group, coalescing neighbours. */
function fetchGroup(
  source: ByteSource,
  metadata: FileMetaData,
  group: number,
  leaves: Leaf[],
  name: string,
  signal: AbortSignal | undefined,
): Promise<Map<number, Uint8Array>> {
  const columns = metadata.row_groups[group].columns;
  return fetchChunks(
    source,
    columns,
    leaves.map((l) => l.index),
    name,
    `row group ${group}`,
    signal,
  );
}

/** Yields one map per row, in order. */
interface RowMaps {
  problem: string | null;
  next(): EventMap;
}

/** {@linkcode RowMaps} over maps already built (JSON text columns). */
class BuiltMaps implements RowMaps {
  problem: string | null = null;
  #i = 0;
  constructor(readonly maps: EventMap[]) {}
  next(): EventMap {
    return this.maps[this.#i++];
  }
}

/** Yields one string per row, in order. */
interface RowStrings {
  next(): string;
}

/** {@linkcode RowStrings} over strings already decoded. */
class BuiltStrings implements RowStrings {
  #i = 0;
  constructor(readonly values: string[]) {}
  next(): string {
    return this.values[this.#i++];
  }
}

/** Column arrays of one row group, row-aligned. */
interface GroupColumns {
  rows: number;
  ts: Float64Array;
  event_key: RowStrings;
  insert_id: RowStrings;
  metric_value: RowDecimals;
  maps: Record<typeof MAP_COLUMNS[number], RowMaps>;
  problems: RowProblem[];
}

function decodeGroup(
  opened: Opened,
  group: number,
  bytes: Map<number, Uint8Array>,
  decoded: Map<number, LeafData> | undefined,
): GroupColumns {
  const { name, footer } = opened;
  const rowGroup = footer.metadata.row_groups[group];
  const rows = Number(rowGroup.num_rows);
  const problems: RowProblem[] = [];
  const sink = (row: number, column: string, message: string) =>
    problems.push({ row, column, message });
  const decode = (leaf: Leaf, raw: boolean): LeafData =>
    decoded?.get(leaf.index) ?? decodeLeaf(
      bytes.get(leaf.index)!,
      leaf,
      rowGroup.columns[leaf.index].meta_data as ColumnMetaData,
      { raw },
      { name, rowGroup: group },
    );
  const out = { rows, problems, maps: {} } as GroupColumns;
  try {
    for (const plan of opened.plans) {
      switch (plan.kind) {
        case "ts":
          out.ts = assembleTs(plan, decode(plan.leaf, true), rows, sink);
          break;
        case "decimal": {
          const leaf = decode(plan.leaf, true);
          out.metric_value = leaf.defs === null && leaf.values instanceof LazyValues &&
              leaf.count === rows && leaf.values.length === rows
            ? new DecimalCursor(leaf.values as LazyValues<bigint>, plan.scale)
            : new BuiltDecimals(assembleDecimal(plan, leaf, rows, sink));
          break;
        }
        case "string": {
          const leaf = decode(plan.leaf, false);
          // Without nulls, strings are cut from their page when their batch is built.
          (out as unknown as Record<string, RowStrings>)[plan.column] =
            leaf.defs === null && leaf.values instanceof LazyValues && leaf.count === rows &&
              leaf.values.length === rows
              ? leaf.values as RowStrings
              : new BuiltStrings(assembleString(plan, leaf, rows, sink));
          break;
        }
        case "map": {
          let shapes = opened.shapes.get(plan.column);
          if (shapes === undefined) opened.shapes.set(plan.column, shapes = new MapShapes());
          out.maps[plan.column as typeof MAP_COLUMNS[number]] = new MapCursor(
            plan,
            decode(plan.key, false),
            decode(plan.value, false),
            rows,
            shapes,
          );
          break;
        }
        case "json":
          out.maps[plan.column as typeof MAP_COLUMNS[number]] = new BuiltMaps(
            assembleJsonMap(plan, decode(plan.leaf, false), rows, sink),
          );
          break;
      }
    }
  } catch (error) {
    if (error instanceof CorruptColumnError) {
      throw badFile(
        name,
        `row group ${group} is corrupt: ${error.message}`,
        { rowGroup: group },
        error,
      );
    }
    throw error;
  }
  problems.sort((a, b) => a.row - b.row);
  return out;
}

/**
 * Reads the events of a Parquet file in batches, one row group in memory at a time: the
 * footer is read by ranges first, the schema checked (a mismatch rejects before any event),
 * then each row group's column chunks are fetched and decoded. `metric_value` is decoded
 * exactly from its bytes; `ts` is floored to milliseconds.
 *
 * @example
 * ```ts
 * import { bytesSource, readEventBatches } from "@eventlake/parquet";
 * const bytes = await Deno.readFile(new URL("./testdata/duckdb_events.parquet", import.meta.url));
 * let rows = 0;
 * for await (const batch of readEventBatches(bytesSource(bytes), { batchSize: 2 })) rows += batch.length;
 * console.log(rows); // 3
 * ```
 */
export async function* readEventBatches(
  source: ByteSource,
  options: ReadEventsOptions = {},
): AsyncGenerator<Event[], void, undefined> {
  const { signal } = options;
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer: got ${batchSize}`);
  }
  const opened = await openEvents(source, options);
  const { metadata } = opened.footer;
  const leaves = opened.plans.flatMap(leavesOf);
  const groups = metadata.row_groups.length;
  const decoder = useDecodeWorker(options.decodeWorker, metadata)
    ? DecodeWorker.start(opened, leaves)
    : undefined;
  const fetch = async (g: number): Promise<Fetched> => {
    const bytes = await fetchGroup(source, metadata, g, leaves, opened.name, signal);
    // A failed or missing worker decode is redone here (same errors as without a worker).
    const decoded = decoder === undefined ? undefined : await decoder.decode(g, bytes);
    return { bytes, decoded };
  };
  let next: Promise<Fetched> | undefined = groups > 0 ? fetch(0) : undefined;
  let groupStart = 0;
  try {
    for (let g = 0; g < groups; g++) {
      throwIfAborted(signal);
      const { bytes, decoded } = await next!;
      // Prefetch (and, with a worker, decode) the next row group while this one is turned
      // into events (object stores have latency).
      next = g + 1 < groups ? fetch(g + 1) : undefined;
      next?.catch(() => {});
      const cols = decodeGroup(opened, g, bytes, decoded);
      bytes.clear();
      yield* materialise(cols, groupStart, batchSize, opened.name, options);
      groupStart += cols.rows;
    }
  } finally {
    next?.catch(() => {});
    decoder?.stop();
  }
}

/** A row group's column chunks, and their decoding when a worker did it. */
interface Fetched {
  bytes: Map<number, Uint8Array>;
  decoded: Map<number, LeafData> | undefined;
}

function useDecodeWorker(option: boolean | undefined, metadata: FileMetaData): boolean {
  if (typeof Worker !== "function") return false;
  // Inside a worker (e.g. dataimport's parallel parts) the other CPUs are already busy.
  if ("WorkerGlobalScope" in globalThis) return false;
  return option === true && metadata.row_groups.length >= 2;
}

/** The decode worker of one read: one row group in flight at a time. */
class DecodeWorker {
  readonly #worker: Worker;
  readonly #raw: Map<number, boolean>;
  readonly #metadata: FileMetaData;
  readonly #pending = new Map<number, (leaves: Map<number, LeafData> | undefined) => void>();
  #id = 0;
  #broken = false;

  private constructor(worker: Worker, opened: Opened) {
    this.#worker = worker;
    this.#metadata = opened.footer.metadata;
    this.#raw = new Map();
    for (const plan of opened.plans) {
      if (plan.kind === "ts" || plan.kind === "decimal") this.#raw.set(plan.leaf.index, true);
    }
  }

  /** Starts a worker for `opened`, or returns undefined when the runtime cannot. */
  static start(opened: Opened, leaves: Leaf[]): DecodeWorker | undefined {
    let worker: Worker;
    try {
      worker = new Worker(new URL("./_read_worker.ts", import.meta.url).href, { type: "module" });
    } catch {
      return undefined;
    }
    const self = new DecodeWorker(worker, opened);
    worker.onmessage = (event: MessageEvent<FromDecoder>) => self.#reply(event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      self.#fail();
    };
    worker.onmessageerror = () => self.#fail();
    const init: ToDecoder = { t: "init", name: opened.name, leaves };
    worker.postMessage(init);
    return self;
  }

  /** Decodes a row group in the worker; `undefined` when it could not (decode it here). */
  decode(
    group: number,
    bytes: Map<number, Uint8Array>,
  ): Promise<Map<number, LeafData> | undefined> {
    if (this.#broken) return Promise.resolve(undefined);
    const id = ++this.#id;
    const columns = this.#metadata.row_groups[group].columns;
    const chunks: ChunkJob[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const [leaf, chunk] of bytes) {
      // A copy: the chunk stays here for a fallback decode, and may view the caller's buffer.
      const copy = chunk.slice();
      transfer.push(copy.buffer);
      chunks.push({
        leaf,
        bytes: copy,
        meta: columns[leaf].meta_data as ColumnMetaData,
        raw: this.#raw.get(leaf) ?? false,
      });
    }
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      const message: ToDecoder = { t: "decode", id, rowGroup: group, chunks };
      this.#worker.postMessage(message, transfer);
    });
  }

  #reply(m: FromDecoder): void {
    const resolve = this.#pending.get(m.id);
    if (resolve === undefined) return;
    this.#pending.delete(m.id);
    if (m.t === "failed") return resolve(undefined);
    resolve(new Map(m.leaves.map((wire, i) => [m.indices[i], leafFromWire(wire)])));
  }

  #fail(): void {
    this.#broken = true;
    for (const resolve of this.#pending.values()) resolve(undefined);
    this.#pending.clear();
  }

  /** Ends the worker. */
  stop(): void {
    this.#fail();
    this.#worker.terminate();
  }
}

function* materialise(
  cols: GroupColumns,
  groupStart: number,
  batchSize: number,
  name: string,
  options: ReadEventsOptions,
): Generator<Event[], void, undefined> {
  const { rows, ts, event_key, insert_id, metric_value, maps, problems } = cols;
  const { identifiers, event_properties, user_properties, platform_properties } = maps;
  let p = 0;
  for (let start = 0; start < rows; start += batchSize) {
    throwIfAborted(options.signal);
    const end = Math.min(rows, start + batchSize);
    const batch: Event[] = [];
    for (let i = start; i < end; i++) {
      const event: Event = {
        insert_id: insert_id.next(),
        event_key: event_key.next(),
        ts: ts[i],
        metric_value: metric_value.next(),
        identifiers: identifiers.next(),
        event_properties: event_properties.next(),
        user_properties: user_properties.next(),
        platform_properties: platform_properties.next(),
      };
      const flat = p < problems.length && problems[p].row === i;
      if (
        flat || metric_value.problem !== null || identifiers.problem !== null ||
        event_properties.problem !== null || user_properties.problem !== null ||
        platform_properties.problem !== null
      ) {
        const rowProblems: RowProblem[] = [];
        while (p < problems.length && problems[p].row === i) rowProblems.push(problems[p++]);
        if (metric_value.problem !== null) {
          rowProblems.push({ row: i, column: "metric_value", message: metric_value.problem });
        }
        for (const column of MAP_COLUMNS) {
          const message = maps[column].problem;
          if (message !== null) rowProblems.push({ row: i, column, message });
        }
        const first = rowProblems[0];
        const error = new InvalidArgumentError(
          `Cannot read row ${
            groupStart + i
          } of Parquet file "${name}": column "${first.column}" ${first.message}`,
          {
            details: {
              file: name,
              row: groupStart + i,
              column: first.column,
              problems: rowProblems.map((r) => `column "${r.column}" ${r.message}`),
            },
          },
        );
        if (options.onInvalidRow === undefined) {
          if (batch.length > 0) yield batch;
          throw error;
        }
        options.onInvalidRow(error);
        continue;
      }
      batch.push(event);
    }
    if (batch.length > 0) yield batch;
  }
}

/**
 * Reads the events of a Parquet file one at a time; see {@linkcode readEventBatches}.
 *
 * @example
 * ```ts
 * import { formatDecimal } from "@eventlake/schema";
 * import { bytesSource, readEvents } from "@eventlake/parquet";
 * const bytes = await Deno.readFile(new URL("./testdata/duckdb_events.parquet", import.meta.url));
 * const variants: string[] = [];
 * for await (const event of readEvents(bytesSource(bytes), { onVariant: (v) => variants.push(v.id) })) {
 *   console.log(event.event_key, formatDecimal(event.metric_value));
 * }
 * console.log(variants.includes("ts-micros")); // true
 * ```
 */
export function readEvents(
  source: ByteSource,
  options: ReadEventsOptions = {},
): AsyncIterableIterator<Event> {
  // Small batches: events handed out one at a time die young; a batch of 8192 (~8 MB of
  // events) outlives young-generation collections and gets copied (1M events: 2x faster).
  return new EventIterator(
    readEventBatches(source, { ...options, batchSize: options.batchSize ?? EVENTS_BATCH }),
  );
}

/**
 * Flattens batches into events. Hand-written rather than an `async function*` because a
 * generator's `yield` costs several microtask turns per event; here an event already in
 * the current batch is one resolved promise.
 */
class EventIterator implements AsyncIterableIterator<Event> {
  readonly #batches: AsyncGenerator<Event[], void, undefined>;
  #batch: Event[] = [];
  #i = 0;
  #done = false;

  constructor(batches: AsyncGenerator<Event[], void, undefined>) {
    this.#batches = batches;
  }

  next(): Promise<IteratorResult<Event, undefined>> {
    if (this.#i < this.#batch.length) {
      return Promise.resolve({ value: this.#batch[this.#i++], done: false });
    }
    return this.#fill();
  }

  async #fill(): Promise<IteratorResult<Event, undefined>> {
    while (!this.#done) {
      const result = await this.#batches.next();
      if (result.done) break;
      this.#batch = result.value;
      this.#i = 0;
      if (this.#batch.length > 0) return { value: this.#batch[this.#i++], done: false };
    }
    this.#done = true;
    this.#batch = [];
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<Event, undefined>> {
    this.#done = true;
    this.#batch = [];
    await this.#batches.return();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Event> {
    return this;
  }
}

/**
 * The producer side of Data Import: turn records (NDJSON, a JSON array, CSV or Parquet) into
 * ready `dt=YYYY-MM-DD` partitions — validated, grouped by the UTC day of `ts`, split into part
 * files, and marked ready with `_SUCCESS` only when no data was lost.
 *
 * @module
 */
import {
  checkEvent,
  type Event,
  eventToJson,
  InvalidArgumentError,
  parseTimestamp,
  type Problem,
  throwIfAborted,
  validateEventInput,
} from "@eventlake/schema";
import { EventBatchWriter } from "@eventlake/parquet";
import type { ObjectStore, OpenStoreConfig, PartitionWriter } from "@eventlake/storage";
import { checkPartitionDate, openPartitionWriter } from "@eventlake/storage/partition";
import { openStore, redactUrl } from "@eventlake/storage/url";
import { type ExportInput, type InputFormat, type InputRecord, readInputs } from "./_inputs.ts";
import { InsertIdSet } from "./_producer_ids.ts";
import { RejectsSink, type RejectsTarget } from "./_producer_rejects.ts";

export type { ExportInput, InputFormat, StreamInput } from "./_inputs.ts";
export type { RejectsTarget } from "./_producer_rejects.ts";

/** Default rows per part file. */
export const DEFAULT_PART_ROWS = 1_000_000;
/** Default target size of a part file in bytes (a part is closed once it reaches it). */
export const DEFAULT_PART_BYTES = 256 * 1024 * 1024;
/** Default number of part files open (being written) at the same time. */
export const DEFAULT_MAX_OPEN_PARTS = 8;
/** Rejected records kept in full in the summary (all of them go to the reject file). */
const REJECT_SAMPLES = 10;
const DAY_MS = 86_400_000;
/** A prefix that ends in a day folder: the caller gave the partition, not its parent. */
const DAY_FOLDER_RE = /(^|\/)dt=[^/]*\/$/;

/** Options of {@linkcode exportEvents}. */
export interface ExportOptions {
  /** Where the partitions go: `file:///…`, `s3://bucket/prefix`, `gs://…`, `gcs://…`, `memory://…`. */
  to?: string;
  /** An open store instead of `to` (then `prefix` says where in it). */
  store?: ObjectStore;
  /** Key prefix inside `store` (default `""`). */
  prefix?: string;
  /** Options of the store opened from `to` (credentials, endpoints). */
  storeConfig?: OpenStoreConfig;
  /** Format of every input (default: by file extension, else sniffed from the first bytes). */
  format?: InputFormat;
  /** Resolves relative input paths (default: the working directory). */
  cwd?: string;
  /**
   * Most rejected records tolerated (default 0). When more are rejected, no `_SUCCESS` is
   * written for the affected days — the days of the rejected records, or every day when a
   * rejected record has no readable `ts` — and the summary's `ok` is `false`.
   */
  maxRejects?: number;
  /** Export only this UTC day (`YYYY-MM-DD`); records of other days are rejected (rule `date`). */
  date?: string;
  /** Rows per part file (default 1,000,000). */
  partRows?: number;
  /** Target bytes per part file (default 256 MiB): a part is closed once it has reached it. */
  partBytes?: number;
  /** Rows per Parquet row group (default: the smaller of 100,000 and `partRows`). */
  rowGroupSize?: number;
  /**
   * Parts being written at once (default 8). Days interleave in the input: each day with
   * records in flight holds one open part, and up to one row group of rows buffered in memory.
   * When a record arrives for another day while this many parts are open, the least recently
   * used part is finished and uploaded; that day continues in a new part later. Memory is
   * therefore bounded by `maxOpenParts × rowGroupSize` buffered rows whatever the number of
   * days (measured: about 0.7 KB per buffered row, so at most ~0.6 GB with the defaults; a
   * 421 MB NDJSON file of 600,000 events over 6 interleaved days peaked at 533 MB RSS). Input that interleaves more days than this finely gives many small parts: the
   * summary then carries a warning (sort the input by `ts`, or raise this).
   */
  maxOpenParts?: number;
  /** Where rejected records go, as NDJSON `{input, line|row, reasons, record}` (default: nowhere). */
  rejectsTo?: RejectsTarget;
  /** Cancels the export: open parts are aborted, nothing is marked ready. */
  signal?: AbortSignal;
  /** Called after each batch of records. */
  onProgress?: (progress: ExportProgress) => void;
}

/** Progress of {@linkcode exportEvents}. */
export interface ExportProgress {
  /** The input being read. */
  input: string;
  /** Records read so far. */
  records: number;
  /** Records accepted so far. */
  accepted: number;
  /** Records rejected so far. */
  rejected: number;
  /** Days seen so far. */
  days: number;
}

/** One day of an export. */
export interface ExportDaySummary {
  /** `YYYY-MM-DD`. */
  date: string;
  /** Rows written. */
  rows: number;
  /** Part files written. */
  parts: number;
  /** Bytes written. */
  bytes: number;
  /** Records of this day that were rejected. */
  rejected: number;
  /** Whether `_SUCCESS` was written (the day is ready). */
  committed: boolean;
  /** Why the day was not committed. */
  reason?: string;
}

/** A rejected record, as written to the reject file. */
export interface ExportReject {
  /** The input it came from. */
  input: string;
  /** 1-based line (NDJSON, JSON array, CSV). */
  line?: number;
  /** 0-based row (Parquet). */
  row?: number;
  /** The day of its `ts`, when readable. */
  date?: string;
  /** Everything wrong with it. */
  reasons: Problem[];
}

/** What {@linkcode exportEvents} did. */
export interface ExportSummary {
  /** The destination, secrets masked. */
  to: string;
  /** `true` when every day with data was committed and rejects stayed within `maxRejects`. */
  ok: boolean;
  /** Records read. */
  records: number;
  /** Records written. */
  accepted: number;
  /** Records rejected. */
  rejected: number;
  /** The limit that applied. */
  maxRejects: number;
  /** Rejected records per broken rule (a record breaking two rules counts in both). */
  rejectsByRule: Record<string, number>;
  /** Rejected records whose day could not be told (no readable `ts`). */
  rejectedWithoutDate: number;
  /** The first rejected records. */
  rejectSamples: ExportReject[];
  /** The reject file, when one was given and written. */
  rejectsFile?: string;
  /** Per day, in date order. */
  days: ExportDaySummary[];
  /** Things that worked but deserve attention (e.g. days split into many small parts). */
  warnings: string[];
}

interface OpenPart {
  batch: EventBatchWriter;
  upload: Promise<unknown>;
  rows: number;
  bytes: number;
  lastUse: number;
}

interface DayState {
  summary: ExportDaySummary;
  writer?: PartitionWriter;
  part?: OpenPart;
  /** Insert ids written for the day, with the input and line that brought each. */
  ids: InsertIdSet;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(`Invalid ${name} "${value}": expected a positive integer`, {
      details: { [name]: value },
    });
  }
  return value;
}

const dayNames = new Map<number, string>();
/** `YYYY-MM-DD` of the UTC day of epoch-ms `ts`. */
function utcDay(ts: number): string {
  const n = Math.floor(ts / DAY_MS);
  let name = dayNames.get(n);
  if (name === undefined) {
    name = new Date(n * DAY_MS).toISOString().slice(0, 10);
    if (dayNames.size < 100_000) dayNames.set(n, name);
  }
  return name;
}

/** The day of a refused record, when its `ts` can still be read. */
function dayOfRejected(record: InputRecord): string | undefined {
  if (record.kind === "event") {
    return Number.isInteger(record.event.ts) ? utcDay(record.event.ts) : undefined;
  }
  if (record.kind !== "value") return undefined;
  const value = record.value;
  if (typeof value !== "object" || value === null) return undefined;
  const ts = (value as Record<string, unknown>).ts;
  if (typeof ts !== "string" && typeof ts !== "number") return undefined;
  const parsed = parseTimestamp(ts);
  return parsed.ok ? utcDay(parsed.value) : undefined;
}

/**
 * Exports events to `dt=` partitions: reads every input in order, validates and normalises each
 * record (`validateEventInput`; Parquet rows with `checkEvent`), groups them by the UTC day of
 * `ts`, splits each day into part files by `partRows`/`partBytes`, and writes them with the
 * storage partition writer: parts first, `_SUCCESS` last, for every day only after all inputs
 * were read. Rejected records go to `rejectsTo` and are counted by rule. A record whose
 * `insert_id` was already written for its day is rejected too (rule `duplicate_insert_id`,
 * naming the first one's input and line), so an exported day always passes
 * `validatePartitions`; the ids are kept exactly, about 30–60 bytes per record.
 *
 * When more than `maxRejects` records are rejected, the affected days get no `_SUCCESS` (their
 * parts stay, so the day reads as "in progress" and the importer skips it) and `ok` is `false`.
 * A fatal error (unreadable input, store failure, abort) aborts every day written so far and
 * rejects.
 *
 * @example
 * ```ts
 * import { exportEvents } from "@eventlake/dataimport";
 * const line = JSON.stringify({
 *   insert_id: "8fb8e088-9245-4fce-bb87-7e09d9917ed6", event_key: "purchase",
 *   ts: "2023-01-01T00:01:02.333Z", metric_value: "91063.82",
 *   identifiers: { id: "u-1", device_id: "d-1" },
 *   platform_properties: { osname: "iOS", appversion: "6.9.3" },
 * });
 * const input = { name: "stdin", stream: ReadableStream.from([new TextEncoder().encode(line + "\n{}\n")]) };
 * const summary = await exportEvents([input], { to: "memory://example/events", maxRejects: 1 });
 * console.log(summary.ok, summary.accepted, summary.rejected); // true 1 1
 * console.log(summary.days[0].date, summary.days[0].committed); // "2023-01-01" true
 * ```
 */
export async function exportEvents(
  inputs: readonly ExportInput[],
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const { signal } = options;
  const maxRejects = options.maxRejects ?? 0;
  if (!Number.isSafeInteger(maxRejects) || maxRejects < 0) {
    throw new InvalidArgumentError(
      `Invalid maxRejects "${maxRejects}": expected a non-negative integer`,
    );
  }
  const partRows = positiveInteger("partRows", options.partRows, DEFAULT_PART_ROWS);
  const partBytes = positiveInteger("partBytes", options.partBytes, DEFAULT_PART_BYTES);
  const rowGroupSize = positiveInteger(
    "rowGroupSize",
    options.rowGroupSize,
    Math.min(100_000, partRows),
  );
  const maxOpenParts = positiveInteger(
    "maxOpenParts",
    options.maxOpenParts,
    DEFAULT_MAX_OPEN_PARTS,
  );
  const onlyDate = options.date === undefined ? undefined : checkPartitionDate(options.date);
  if (inputs.length === 0) throw new InvalidArgumentError("Cannot export: no input given");

  let store: ObjectStore;
  let prefix: string;
  let shownTo: string;
  let ownStore = false;
  if (options.store !== undefined) {
    store = options.store;
    prefix = options.prefix ?? "";
    shownTo = `${store.url.replace(/\/$/, "")}/${prefix}`;
  } else if (options.to !== undefined) {
    const opened = await openStore(options.to, options.storeConfig);
    store = opened.store;
    prefix = opened.prefix;
    shownTo = redactUrl(options.to);
    ownStore = true;
  } else {
    throw new InvalidArgumentError("Cannot export: give a destination URL (to) or a store");
  }

  if (DAY_FOLDER_RE.test(prefix.endsWith("/") ? prefix : `${prefix}/`)) {
    if (ownStore) await store.close();
    throw new InvalidArgumentError(
      `Cannot export to "${shownTo}": it names a dt= partition; give the prefix above the dt= folders`,
      { details: { to: shownTo } },
    );
  }
  const rejects = options.rejectsTo === undefined ? undefined : new RejectsSink(options.rejectsTo);
  const days = new Map<string, DayState>();
  const summary: ExportSummary = {
    to: shownTo,
    ok: false,
    records: 0,
    accepted: 0,
    rejected: 0,
    maxRejects,
    rejectsByRule: {},
    rejectedWithoutDate: 0,
    rejectSamples: [],
    days: [],
    warnings: [],
  };
  let openParts = 0;
  let clock = 0;
  let evictions = 0;
  const inputNames: string[] = [];
  const inputIndexes = new Map<string, number>();

  const dayState = (date: string): DayState => {
    let day = days.get(date);
    if (day === undefined) {
      day = {
        summary: { date, rows: 0, parts: 0, bytes: 0, rejected: 0, committed: false },
        ids: new InsertIdSet(1024),
      };
      days.set(date, day);
    }
    return day;
  };

  const closePart = async (day: DayState): Promise<void> => {
    const part = day.part!;
    day.part = undefined;
    openParts--;
    const written = await finish(part, () => part.batch.close({ signal }));
    await part.upload;
    day.summary.parts++;
    day.summary.rows += written.rows;
    day.summary.bytes += written.bytes;
  };

  const openPart = async (day: DayState): Promise<OpenPart> => {
    if (openParts >= maxOpenParts) {
      let oldest: DayState | undefined;
      for (const d of days.values()) {
        if (
          d.part !== undefined && (oldest === undefined || d.part.lastUse < oldest.part!.lastUse)
        ) {
          oldest = d;
        }
      }
      evictions++;
      await closePart(oldest!);
    }
    day.writer ??= await openPartitionWriter(store, prefix, day.summary.date, { signal });
    const part = { rows: 0, bytes: 0, lastUse: clock } as OpenPart;
    const pipe = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        part.bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    part.upload = day.writer.writePart(pipe.readable, { signal });
    part.upload.catch(() => {});
    part.batch = new EventBatchWriter(pipe.writable, { rowGroupSize });
    day.part = part;
    openParts++;
    return part;
  };

  const reject = (record: InputRecord, problems: readonly Problem[], date?: string): void => {
    summary.rejected++;
    for (const rule of new Set(problems.map((p) => p.rule))) {
      summary.rejectsByRule[rule] = (summary.rejectsByRule[rule] ?? 0) + 1;
    }
    if (date === undefined) summary.rejectedWithoutDate++;
    else dayState(date).summary.rejected++;
    const where = record.kind === "value"
      ? { line: record.line }
      : record.kind === "event"
      ? { row: record.row }
      : record.line !== undefined
      ? { line: record.line }
      : { row: record.row };
    const entry: ExportReject = { input: record.input, ...where, date, reasons: [...problems] };
    if (summary.rejectSamples.length < REJECT_SAMPLES) summary.rejectSamples.push(entry);
    if (rejects !== undefined) {
      const body = record.kind === "value"
        ? record.value
        : record.kind === "event"
        ? eventToJson(record.event)
        : record.text;
      rejects.push(JSON.stringify({ ...entry, record: body }));
    }
  };

  try {
    for await (
      const batch of readInputs(inputs, { cwd: options.cwd, format: options.format, signal })
    ) {
      throwIfAborted(signal);
      for (const record of batch) {
        summary.records++;
        let event: Event;
        if (record.kind === "value") {
          const result = validateEventInput(record.value);
          if (!result.ok) {
            reject(record, result.problems, dayOfRejected(record));
            continue;
          }
          event = result.event;
        } else if (record.kind === "event") {
          const problems = checkEvent(record.event);
          if (problems.length > 0) {
            reject(record, problems, dayOfRejected(record));
            continue;
          }
          event = record.event;
          event.insert_id = event.insert_id.toLowerCase();
        } else {
          reject(record, record.problems);
          continue;
        }
        const date = utcDay(event.ts);
        if (onlyDate !== undefined && date !== onlyDate) {
          reject(record, [{
            path: "ts",
            rule: "date",
            message: `ts is on ${date}, outside the exported day ${onlyDate}`,
            value: new Date(event.ts).toISOString(),
          }], date);
          continue;
        }
        const day = dayState(date);
        let inputIndex = inputIndexes.get(record.input);
        if (inputIndex === undefined) {
          inputIndex = inputNames.length;
          inputIndexes.set(record.input, inputIndex);
          inputNames.push(record.input);
        }
        const at = record.kind === "value" ? record.line : record.row;
        const seen = day.ids.add(event.insert_id, inputIndex, at);
        if (seen !== undefined) {
          const first = inputNames[seen.part];
          reject(record, [{
            path: "insert_id",
            rule: "duplicate_insert_id",
            message: `insert_id repeats the record of "${first}" ${
              record.kind === "event" ? "row" : "line"
            } ${seen.row} on the same day`,
            value: event.insert_id,
          }], date);
          continue;
        }
        const part = day.part ?? await openPart(day);
        part.lastUse = ++clock;
        if (part.batch.append(event)) {
          await finish(part, () => part.batch.drain({ signal }));
        }
        part.rows++;
        summary.accepted++;
        if (part.rows >= partRows || part.bytes >= partBytes) await closePart(day);
      }
      await rejects?.flush();
      options.onProgress?.({
        input: batch[batch.length - 1]?.input ?? "",
        records: summary.records,
        accepted: summary.accepted,
        rejected: summary.rejected,
        days: days.size,
      });
    }
    for (const day of days.values()) if (day.part !== undefined) await closePart(day);
    await rejects?.close();
    if (typeof options.rejectsTo === "string" && summary.rejected > 0) {
      summary.rejectsFile = options.rejectsTo;
    }

    const exceeded = summary.rejected > maxRejects;
    const everyDay = exceeded && summary.rejectedWithoutDate > 0;
    for (const date of [...days.keys()].sort()) {
      const day = days.get(date)!;
      if (day.writer === undefined) {
        day.summary.reason = "no valid records";
      } else if (exceeded && (everyDay || day.summary.rejected > 0)) {
        day.summary.reason =
          `${summary.rejected} records rejected, more than the ${maxRejects} allowed` +
          (day.summary.rejected > 0
            ? ` (${day.summary.rejected} of this day)`
            : ` (${summary.rejectedWithoutDate} without a readable ts)`) +
          ": _SUCCESS withheld";
      } else {
        throwIfAborted(signal);
        await day.writer.commit({ signal });
        day.summary.committed = true;
      }
      summary.days.push(day.summary);
    }
    const small = summary.days.filter((d) => d.parts > 1 && d.rows / d.parts < partRows / 10);
    if (evictions > 0 && small.length > 0) {
      const worst = small.reduce((a, b) => a.parts > b.parts ? a : b);
      summary.warnings.push(
        `${small.length} days were split into small parts (${worst.date}: ${worst.parts} parts, ` +
          `${Math.round(worst.rows / worst.parts)} rows each on average) because the input ` +
          `interleaves more than ${maxOpenParts} days: sort the input by ts or raise maxOpenParts`,
      );
    }
    summary.ok = !exceeded &&
      [...days.values()].every((d) => d.writer === undefined || d.summary.committed);
    return summary;
  } catch (error) {
    for (const day of days.values()) {
      if (day.part !== undefined) await day.part.batch.abort(error).catch(() => {});
      if (day.writer !== undefined && !day.summary.committed) {
        await day.writer.abort().catch(() => {});
      }
    }
    await rejects?.close().catch(() => {});
    throw error;
  } finally {
    if (ownStore) await store.close();
  }
}

/**
 * Runs a step that writes into a part's upload stream; when it fails because the upload
 * failed, the upload's own error (the store's) is thrown instead of the stream's.
 */
async function finish<T>(part: OpenPart, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const failed = await Promise.race([
      part.upload.then(() => undefined, (e) => e),
      new Promise((resolve) => setTimeout(resolve, 0, undefined)),
    ]);
    throw failed ?? error;
  }
}

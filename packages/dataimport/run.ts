/**
 * One import run: one day of a source partition into one day of a lake table.
 *
 * 1. **Wait** for the day's `_SUCCESS` (polling until the deadline; `MISSING` when it never comes).
 * 2. **Pre-pass** (only when an earlier day of the window holds rows): read only the
 *    `insert_id` column of every part into an {@linkcode InsertIdSet} sized by the parts' row
 *    counts, then mark the ids that the window's earlier lake days hold (again reading their
 *    `insert_id` column only). Memory is bounded by the day, not the window. With nothing to
 *    mark, the set is only sized, and the claims of step 3 insert the day's ids.
 * 3. **Stream** every part row group by row group. A part in the exact event schema takes the
 *    columnar fast path (`_import_fast.ts`): each row group is checked column by column with
 *    the rules below, de-duplicated on the `insert_id` bytes and re-encoded with a keep-mask,
 *    without building events; a row group holding anything it does not handle exactly like the
 *    object path (any rejected row, an uppercase `insert_id`, ...) sends the rest of the part to
 *    the object path, so counts, reasons and samples are the same either way
 *    (`timings.fastPathRows` / `objectPathRows` say which rows took which path). The object
 *    path: rows that cannot be read, fail `checkEvent`,
 *    or whose `ts` is outside the partition's UTC day (`ts_outside_day`; unless the id was seen
 *    on an earlier day: a resend keeps its old ts and is a duplicate) are rejected (counted by
 *    rule, with samples); rows whose id was seen earlier,
 *    or already kept today, are duplicates; the rest are written with `EventBatchWriter` into new
 *    lake files (`insert_id` lowercased).
 * 4. **Land**: see `land.ts` (manifest = commit point). Then `onLanded(table, date)`.
 *
 * A part that is not readable Parquet, has another schema, or is corrupt fails the run (status
 * `FAILED`, nothing landed): a day with a hole would silently lose data. Rows rejected one by
 * one make the run `PARTIAL`. A failed or aborted run leaves the lake's previous day intact.
 *
 * Memory (peak RSS of `scripts/bench/dataimport.ts --rss-rows 10000000`, a 10,000,000-row day in
 * 100,000-row source groups taking the fast path, Nov 2026, idle 2-core machine): 447 MiB
 * in-thread (`workers: 1`, the default for such a day); two workers hold their own decode
 * buffers (about 670 MB measured earlier); the object path peaked at 757 MB in-thread. What
 * remains: the id set (about 20 bytes per row of the day: 191 MiB), the loaded modules (about
 * 60 MB), one source row group decoded into buffers kept per leaf from group to group plus the
 * next group being fetched (about 115 MiB), the V8 heap (about 45 MiB) and memory glibc's
 * allocator keeps after large buffers are freed (`MALLOC_MMAP_THRESHOLD_=65536` in the
 * environment saves about 20 MB more). Deno workers take no
 * `resourceLimits`, and a V8 heap cap set at run time (`node:v8` `setFlagsFromString`) has no
 * effect.
 *
 * @module
 */
import {
  AbortedError,
  EventlakeError,
  InvalidArgumentError,
  toEventlakeError,
} from "@eventlake/schema";
import type { LakeFile, LakeTableRef, ObjectStore, PartitionStatus } from "@eventlake/storage";
import { DEFAULT_LAKE_TABLE, readDayManifest } from "@eventlake/storage/lake";
import { checkPartitionDate, partitionStatus } from "@eventlake/storage/partition";
import { redactUrl } from "@eventlake/storage/url";
import { openTranscode } from "@eventlake/parquet/transcode";
import { InsertIdSet } from "./dedup.ts";
import { beginLanding, type LakeLocation } from "./land.ts";
import { forEachInsertIdFast, parquetRowCount } from "./_import_ids.ts";
import {
  abortOutput,
  closeOutput,
  type FinishedFile,
  type PartContext,
  PartError,
  Reasons,
} from "./_import_part.ts";
import { importInWorkers, type ImportWorkerPool } from "./_import_pool.ts";
import { fastPath, importPartFast } from "./_import_fast.ts";
import { storeSource } from "./_import_source.ts";
import { addDays } from "./_import_time.ts";

/** Final status of a run. */
export type RunStatus = "SUCCEEDED" | "PARTIAL" | "FAILED" | "MISSING";

/** Where a run reads: a store and the key prefix holding the `dt=YYYY-MM-DD/` folders. */
export interface ImportSource {
  /** The source store. */
  store: ObjectStore;
  /** Key prefix of the partitions: empty or ending in `/`. */
  prefix: string;
}

/** One rejected row, as a sample of its reason. */
export interface RejectionSample {
  /** The part's key. */
  file: string;
  /** 0-based row in the part. */
  row: number;
  /** What is wrong. */
  message: string;
}

/** Rows rejected for one rule, e.g. `insert_id.uuid` or `row.unreadable`. */
export interface RejectionReason {
  /** `<column>.<rule>`, or `file.<kind>` for a whole part. */
  rule: string;
  /** Rows (or, for `file.*`, parts) rejected for it. */
  count: number;
  /** The first few cases. */
  samples: RejectionSample[];
}

/** One part of the source day. */
export interface SourceFileReport {
  /** Key in the source store. */
  key: string;
  /** Bytes. */
  size: number;
  /** The backend's etag, when it has one. */
  etag?: string;
  /** Rows in the part (from its footer), when it could be read. */
  rows?: number;
}

/** How long each phase took, in milliseconds, and when the run started and ended. */
export interface RunTimings {
  /** ISO-8601. */
  startedAt: string;
  /** ISO-8601. */
  finishedAt: string;
  /** Waiting for `_SUCCESS`. */
  waitMs: number;
  /** Pre-pass over ids (the day's and the window's). */
  dedupMs: number;
  /** Reading, checking and writing rows. */
  importMs: number;
  /** Manifest, clean-up and `_VERSION`. */
  commitMs: number;
  /** Everything. */
  totalMs: number;
  /**
   * Rows read through the columnar fast path (row groups of parts in the exact schema,
   * transcoded without building events). Diagnostics; absent in reports of older versions.
   */
  fastPathRows?: number;
  /** Rows read as events (other layouts, and row groups the fast path leaves). Diagnostics. */
  objectPathRows?: number;
}

/** The stored report of one run. */
export interface RunReport {
  /** Unique id; names the landed files. */
  runId: string;
  /** The job, for runs of a stored job. */
  jobId?: string;
  /** The source day, `YYYY-MM-DD`. */
  date: string;
  /** Outcome. */
  status: RunStatus;
  /** Source address (no secrets). */
  source: string;
  /** Lake address (no secrets). */
  lake: string;
  /** Destination table. */
  table: LakeTableRef;
  /** Rows read from the parts (readable or not). */
  rowsRead: number;
  /** Rows landed. */
  rowsAccepted: number;
  /** Rows refused (unreadable or invalid). */
  rowsRejected: number;
  /** Rows dropped as duplicates (in the day or in the window's earlier days). */
  rowsDuplicate: number;
  /** Of the duplicates, those whose id was seen in an earlier day of the window. */
  rowsDuplicateEarlier: number;
  /** Bytes of the source parts. */
  bytesRead: number;
  /** Bytes of the landed files. */
  bytesWritten: number;
  /** Days of the dedup window. */
  dedupWindowDays: number;
  /** Rejections by rule. */
  reasons: RejectionReason[];
  /** Format variants of the parts that were tolerated (`ts-micros`, …), by id. */
  variants: string[];
  /** The source parts. */
  files: SourceFileReport[];
  /** The lake files of the landed day. */
  landed: LakeFile[];
  /** Why the run failed or the day is missing. */
  error?: { code: string; message: string };
  /** Timings. */
  timings: RunTimings;
}

/** Progress of a run, for bars and logs. */
export interface RunProgress {
  /** The phase. */
  phase: "wait" | "dedup" | "import" | "commit";
  /** Rows read so far. */
  rowsRead: number;
  /** Rows of the day (from the footers), once known. */
  rowsTotal?: number;
}

/** Options of {@linkcode runImport}. */
export interface RunImportOptions {
  /** Where to land. */
  lake: LakeLocation;
  /** Destination table (default `data_catalog.default.events`). */
  table?: LakeTableRef;
  /** Earlier days whose ids count as seen (default 7; 0 = only within the day). */
  dedupWindowDays?: number;
  /** Wait for `_SUCCESS` until this instant (epoch ms); default: do not wait. */
  deadline?: number;
  /** Polling interval while waiting, ms (default 60,000). */
  pollIntervalMs?: number;
  /** Parts with part-number gaps are refused unless this is set. */
  allowGaps?: boolean;
  /** Rows per landed file (default 2,000,000). */
  maxRowsPerFile?: number;
  /** Rows per row group of the landed files (default 32,768: the writer holds one group). */
  rowGroupSize?: number;
  /** Samples kept per rejection rule (default 5). */
  samplesPerReason?: number;
  /** The run's id (default: generated). */
  runId?: string;
  /** The job the run belongs to, copied into the report. */
  jobId?: string;
  /** Called after the day landed (wire it to the query service's `tableChanged`). */
  onLanded?: (table: LakeTableRef, date: string) => void | Promise<void>;
  /** Called per batch with the progress. */
  onProgress?: (progress: RunProgress) => void | Promise<void>;
  /** The clock (default `Date.now`): tests pass a fake one. */
  now?: () => number;
  /** How to wait (default a timer): tests pass a fake one. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Worker threads importing parts in parallel (default: 1 when every part is in the exact
   * event schema, the fast path, which is cheaper in one thread; otherwise 2 for a day of
   * 200,000 to 1,999,999 rows on a machine with 2 cores or more, else 1: larger days are bound
   * by memory; at most one per part; 1 imports in this thread). Stores stay on this thread either way. Which copy
   * of an in-day duplicate is kept is then not specified when the copies sit in different parts
   * (copies share their `insert_id`: the same event). Each worker holds its own decode buffers:
   * about 130 MB more peak memory for two.
   */
  workers?: number;
  /**
   * Worker threads kept warm from run to run (see {@linkcode ImportWorkerPool}): with a pool, a
   * fast-path day of 200,000 to 1,999,999 rows is imported on two threads by default (a warm
   * worker does not pay V8's warm-up again), and the run's workers come from it and go back.
   * A closed pool is refused (`InvalidArgumentError`).
   */
  workerPool?: ImportWorkerPool;
  /** Cancels the run: it then rejects with `AbortedError` and the lake keeps its previous day. */
  signal?: AbortSignal;
}

const DEFAULT_WINDOW = 7;
const DEFAULT_POLL_MS = 60_000;
const DEFAULT_ROWS_PER_FILE = 2_000_000;
/**
 * Rows per landed row group. The writer buffers a whole group; 32,768 instead of the writer's
 * 100,000 lowered a 2,000,000-row import's peak RSS from 534 MB to 466 MB (in-thread) for
 * 0.2% larger files (Nov 2026, `scripts/bench/dataimport.ts`).
 */
const DEFAULT_LAND_ROW_GROUP = 32_768;

/** Rows below which starting workers costs more than it saves. */
const WORKER_MIN_ROWS = 200_000;
/**
 * Rows from which a day is imported in one thread by default: each worker holds its own decode
 * buffers (about 130 MB for two) while the id set grows with the day (200 MB at 10,000,000
 * rows), so for large days memory, not time, is what binds. Measured Nov 2026 on a busy 2-core
 * machine: a 10,000,000-row day peaked at 521 MB in-thread (447 MiB since the per-leaf buffer
 * slots) and about 670 MB with two workers.
 */
const WORKER_MAX_ROWS = 2_000_000;

/**
 * Parts in the exact schema (the fast path) are imported in one thread by default, unless the run
 * has a warm {@linkcode ImportWorkerPool}: measured Nov 2026 on a 2-core machine with other work
 * running (load 1.5-2.5), a 1,000,000-row day took 5.5-6.4 CPU-s in a fresh process in-thread
 * (5.1-6.3 s wall) and 7.4-8.6 CPU-s with two fresh workers (4.0-4.7 s wall); a process that has
 * imported before (the scheduler, the gateway) takes 4.2-4.6 CPU-s and 4.2-4.5 s wall in-thread.
 * What fresh workers add is V8 warming up once per thread: each fresh thread spends about 1.7-2
 * CPU-s more on the same rows (slow tiers before its loops are optimized, plus the optimizing
 * compiler's own threads), against 0.12 CPU-s to start a worker and next to nothing for the
 * messages (bytes are transferred). A one-shot run would pay that for nothing; pooled workers
 * pay it once per process.
 */
function defaultWorkers(rows: number, fastPath: boolean, pool?: ImportWorkerPool): number {
  if (rows < WORKER_MIN_ROWS || rows >= WORKER_MAX_ROWS) return 1;
  if (fastPath && (pool === undefined || pool.size < 2)) return 1;
  return (globalThis.navigator?.hardwareConcurrency ?? 1) >= 2 ? 2 : 1;
}

/** A fresh run id: sortable by start time, unique. */
export function newRunId(now: number = Date.now()): string {
  const stamp = new Date(now).toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `r${stamp}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Waits until the day's `_SUCCESS` exists or `deadline` passes, polling every
 * `pollIntervalMs`; returns the last status seen (its `state` is `"ready"` on success).
 *
 * @example
 * ```ts
 * import { createMemoryStore } from "@eventlake/storage";
 * import { waitForPartition } from "@eventlake/dataimport";
 * const store = createMemoryStore();
 * const status = await waitForPartition({ store, prefix: "p/" }, "2023-01-01", { deadline: 0 });
 * console.log(status.state); // "missing"
 * ```
 */
export async function waitForPartition(
  source: ImportSource,
  date: string,
  options: Pick<RunImportOptions, "deadline" | "pollIntervalMs" | "now" | "sleep" | "signal"> = {},
): Promise<PartitionStatus> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const poll = options.pollIntervalMs ?? DEFAULT_POLL_MS;
  const deadline = options.deadline ?? 0;
  for (;;) {
    const status = await partitionStatus(source.store, source.prefix, date, {
      signal: options.signal,
    });
    if (status.state === "ready") return status;
    const left = deadline - now();
    if (left <= 0) return status;
    await sleep(Math.min(poll, left), options.signal);
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError("Wait aborted", { cause: signal.reason }));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError("Wait aborted", { cause: signal!.reason }));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** What {@linkcode emptyRunReport} needs: the run's identity and where it reads and lands. */
export interface EmptyRunReportFields {
  runId: string;
  jobId?: string;
  date: string;
  /** Source address, already redacted. */
  source: string;
  /** Lake address, already redacted. */
  lake: string;
  table: LakeTableRef;
  dedupWindowDays: number;
  /** Start of the run, in epoch milliseconds. */
  startedAt: number;
}

/**
 * A `FAILED` run report with nothing read, accepted or written yet: what `runImport` fills in as it
 * goes, and what a caller records for a run that failed before `runImport` could report.
 *
 * @example
 * ```ts
 * import { emptyRunReport } from "@eventlake/dataimport";
 * const report = emptyRunReport({
 *   runId: "r1", date: "2023-01-01", source: "file:///in/", lake: "file:///lake/",
 *   table: { dataSource: "data_catalog", database: "default", table: "events" },
 *   dedupWindowDays: 7, startedAt: 0,
 * });
 * console.log(report.status, report.rowsRead, report.timings.startedAt); // FAILED 0 1970-01-01T00:00:00.000Z
 * ```
 */
export function emptyRunReport(fields: EmptyRunReportFields): RunReport {
  return {
    runId: fields.runId,
    ...(fields.jobId !== undefined ? { jobId: fields.jobId } : {}),
    date: fields.date,
    status: "FAILED",
    source: fields.source,
    lake: fields.lake,
    table: fields.table,
    rowsRead: 0,
    rowsAccepted: 0,
    rowsRejected: 0,
    rowsDuplicate: 0,
    rowsDuplicateEarlier: 0,
    bytesRead: 0,
    bytesWritten: 0,
    dedupWindowDays: fields.dedupWindowDays,
    reasons: [],
    variants: [],
    files: [],
    landed: [],
    timings: {
      startedAt: new Date(fields.startedAt).toISOString(),
      finishedAt: "",
      waitMs: 0,
      dedupMs: 0,
      importMs: 0,
      commitMs: 0,
      totalMs: 0,
    },
  };
}

/**
 * Imports one day: waits for `_SUCCESS` (until `deadline`), de-duplicates, validates and lands
 * the day into the lake table, replacing what an earlier run of that day landed. Never throws
 * for a failed day: the returned report says `FAILED` or `MISSING` and why. Rejects only when
 * aborted (`AbortedError`; nothing landed) or for bad arguments.
 *
 * @example
 * ```ts
 * import { createMemoryStore, readDayManifest, DEFAULT_LAKE_TABLE } from "@eventlake/storage";
 * import { writeEvents } from "@eventlake/parquet";
 * import { generateEvents } from "@eventlake/schema/testing";
 * import { runImport } from "@eventlake/dataimport";
 * const source = createMemoryStore();
 * const lake = createMemoryStore();
 * const events = generateEvents(10, { day: "2023-01-01" });
 * const part = new TransformStream<Uint8Array, Uint8Array>();
 * const written = source.write("p/dt=2023-01-01/000000000000.parquet", part.readable);
 * await writeEvents([...events, events[0]], part.writable);
 * await written;
 * await source.write("p/dt=2023-01-01/_SUCCESS", new Uint8Array(0));
 * const report = await runImport({ store: source, prefix: "p/" }, "2023-01-01", { lake: { store: lake } });
 * console.log(report.status, report.rowsAccepted, report.rowsDuplicate); // "SUCCEEDED" 10 1
 * console.log((await readDayManifest(lake, DEFAULT_LAKE_TABLE, "2023-01-01"))?.rows); // 10
 * ```
 */
export async function runImport(
  source: ImportSource,
  date: string,
  options: RunImportOptions,
): Promise<RunReport> {
  checkPartitionDate(date);
  const now = options.now ?? Date.now;
  const signal = options.signal;
  const table = options.table ?? DEFAULT_LAKE_TABLE;
  const window = options.dedupWindowDays ?? DEFAULT_WINDOW;
  if (!Number.isSafeInteger(window) || window < 0 || window > 366) {
    throw new InvalidArgumentError(
      `Invalid dedup window "${window}": expected a whole number of days from 0 to 366`,
    );
  }
  if (options.workerPool?.closed) {
    throw new InvalidArgumentError("Cannot run an import with a closed worker pool");
  }
  const maxRowsPerFile = options.maxRowsPerFile ?? DEFAULT_ROWS_PER_FILE;
  const lakeRoot = options.lake.root ?? "";
  const started = now();
  const runId = options.runId ?? newRunId(started);
  const reasons = new Reasons(options.samplesPerReason ?? 5);
  const variants = new Set<string>();
  const paths = { fast: 0, object: 0 };
  const report = emptyRunReport({
    runId,
    jobId: options.jobId,
    date,
    source: redactUrl(`${source.store.url.replace(/\/$/, "")}/${source.prefix}`),
    lake: redactUrl(`${options.lake.store.url.replace(/\/$/, "")}/${lakeRoot}`),
    table,
    dedupWindowDays: window,
    startedAt: started,
  });
  const finish = (status: RunStatus, error?: EventlakeError): RunReport => {
    const end = now();
    report.status = status;
    if (error) report.error = { code: error.code, message: error.message };
    report.reasons = reasons.list();
    report.variants = [...variants].sort();
    report.timings.finishedAt = new Date(end).toISOString();
    report.timings.totalMs = end - started;
    report.timings.fastPathRows = paths.fast;
    report.timings.objectPathRows = paths.object;
    return report;
  };
  const progress = async (phase: RunProgress["phase"], total?: number) => {
    await options.onProgress?.({ phase, rowsRead: report.rowsRead, rowsTotal: total });
  };

  // 1. Wait for the day.
  await progress("wait");
  let t = now();
  const status = await waitForPartition(source, date, { ...options, signal });
  report.timings.waitMs = now() - t;
  report.files = status.parts.map((p) => ({
    key: p.key,
    size: p.size,
    ...(p.etag !== undefined ? { etag: p.etag } : {}),
  }));
  report.bytesRead = status.parts.reduce((s, p) => s + p.size, 0);
  if (status.state !== "ready") {
    const why = status.state === "missing" ? "no such partition" : "_SUCCESS is missing";
    return finish(
      "MISSING",
      new EventlakeError("NOT_FOUND", `Partition "dt=${date}" is not ready: ${why}`),
    );
  }
  const gaps = status.problems.filter((p) => p.kind === "missing_part");
  if (gaps.length > 0 && !options.allowGaps) {
    return finish(
      "FAILED",
      new EventlakeError(
        "PRECONDITION_FAILED",
        `Partition "dt=${date}" has gaps in its part numbering: missing ${
          gaps.slice(0, 5).map((g) => `"${g.kind === "missing_part" ? g.name : ""}"`).join(", ")
        }`,
      ),
    );
  }

  const landing = await beginLanding(options.lake, table, date, { runId, signal, now });
  try {
    // 2. Pre-pass: the day's ids, then the window's (only when the window holds rows).
    t = now();
    await progress("dedup");
    let total = 0;
    // Whether every part takes the fast path (decides the default number of workers).
    let exact = fastPath.enabled;
    for (let i = 0; i < status.parts.length; i++) {
      const part = status.parts[i];
      const rows = await partRows(source.store, part.key, part.size, signal);
      report.files[i].rows = rows;
      total += rows;
      if (exact && options.workers === undefined) {
        const file = await openTranscode(storeSource(source.store, part.key, part.size), {
          name: part.key,
          signal,
        });
        exact = file !== undefined;
      }
    }
    // Allocated once at its final size; memory follows the day, not the window.
    const dayIds = new InsertIdSet({ expected: total, shared: true });
    const windowFiles: LakeFile[] = [];
    for (let back = 1; back <= window; back++) {
      const earlier = addDays(date, -back);
      const manifest = await readDayManifest(options.lake.store, table, earlier, {
        root: lakeRoot,
        signal,
      });
      for (const file of manifest?.files ?? []) if (file.rows > 0) windowFiles.push(file);
    }
    // Without earlier rows there is nothing to mark: the import's claims insert the day's ids.
    if (windowFiles.length > 0) {
      for (const part of status.parts) {
        await partIds(source.store, part.key, part.size, {
          bytes: (b, at) => dayIds.addBytes(b, at),
          text: (id) => void dayIds.add(id),
        }, signal);
      }
      for (const file of windowFiles) {
        const key = `${lakeRoot}${table.dataSource}/${table.database}/${table.table}/${file.key}`;
        await forEachInsertIdFast(options.lake.store, key, file.bytes, {
          bytes: (b, at) => dayIds.markEarlierBytes(b, at),
          text: (id) => void dayIds.markEarlier(id),
        }, signal);
      }
    }
    report.timings.dedupMs = now() - t;

    // 3. Stream, check, de-duplicate, write.
    t = now();
    await progress("import", total);
    const files: FinishedFile[] = [];
    const workers = Math.min(
      options.workers ?? defaultWorkers(total, exact, options.workerPool),
      status.parts.length,
    );
    if (workers > 1) {
      const pooled = await importInWorkers(status.parts, {
        date,
        workers,
        store: source.store,
        ids: dayIds,
        landing,
        rowGroupSize: options.rowGroupSize ?? DEFAULT_LAND_ROW_GROUP,
        maxRowsPerFile,
        samples: options.samplesPerReason ?? 5,
        pool: options.workerPool,
        signal,
        onRows: (n) => {
          report.rowsRead += n;
          return progress("import", total);
        },
      });
      report.rowsRead = 0;
      for (const c of pooled.counts) {
        report.rowsRead += c.rowsRead;
        report.rowsAccepted += c.rowsAccepted;
        report.rowsRejected += c.rowsRejected;
        report.rowsDuplicate += c.rowsDuplicate;
        report.rowsDuplicateEarlier += c.rowsDuplicateEarlier;
      }
      for (const r of pooled.reasons) reasons.merge(r);
      for (const p of pooled.paths) {
        paths.fast += p.fast;
        paths.object += p.object;
      }
      for (const v of pooled.variants) variants.add(v);
      files.push(...pooled.files);
    } else {
      const ctx: PartContext = {
        date,
        ids: dayIds,
        counts: report,
        reasons,
        variants,
        paths,
        newFile: () => Promise.resolve(landing.newFile()),
        files,
        rowGroupSize: options.rowGroupSize ?? DEFAULT_LAND_ROW_GROUP,
        maxRowsPerFile,
        signal,
        onBatch: () => progress("import", total),
      };
      try {
        for (const part of status.parts) {
          await importPartFast(ctx, part.key, storeSource(source.store, part.key, part.size));
        }
        await closeOutput(ctx);
      } catch (error) {
        await abortOutput(ctx, error);
        throw error;
      }
    }
    report.timings.importMs = now() - t;

    // 4. Land.
    t = now();
    await progress("commit", total);
    const manifest = await landing.commit(files);
    report.landed = manifest.files;
    report.bytesWritten = manifest.files.reduce((s, f) => s + f.bytes, 0);
    report.timings.commitMs = now() - t;
    await options.onLanded?.(table, date);
    return finish(report.rowsRejected > 0 ? "PARTIAL" : "SUCCEEDED");
  } catch (error) {
    await landing.abort();
    if (signal?.aborted) {
      throw error instanceof AbortedError
        ? error
        : new AbortedError(`Import of "dt=${date}" aborted`, { cause: signal.reason });
    }
    if (error instanceof PartError) {
      reasons.add(`file.${error.kind}`, error.key, -1, error.message);
      return finish(
        "FAILED",
        new EventlakeError(error.error.code, `Cannot import part "${error.key}": ${error.message}`),
      );
    }
    return finish("FAILED", toEventlakeError(error));
  }
}

/** Row count of a part by reading its ids; a part hyparquet cannot read is a {@linkcode PartError}. */
function partIds(
  store: ObjectStore,
  key: string,
  size: number,
  each: Parameters<typeof forEachInsertIdFast>[3],
  signal: AbortSignal | undefined,
): Promise<number> {
  return asPartError(key, signal, () => forEachInsertIdFast(store, key, size, each, signal));
}

function partRows(
  store: ObjectStore,
  key: string,
  size: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  return asPartError(key, signal, () => parquetRowCount(store, key, size, signal));
}

async function asPartError<T>(
  key: string,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (signal?.aborted || error instanceof AbortedError) throw error;
    const e = toEventlakeError(error);
    if (e.code === "INVALID_ARGUMENT") throw new PartError(key, "unreadable", e);
    throw error;
  }
}

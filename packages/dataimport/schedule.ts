/**
 * When jobs run: the daily D-1 run after each day's deadline, catch-up of missed days after a
 * restart (skipping finished ones), and backfills of a date range with bounded concurrency.
 *
 * Calendar arithmetic uses `Intl.DateTimeFormat` with the job's `timeZone` (no tz library).
 * The data of day D is due at the deadline on day D+1 (the Data Import document: "the import
 * run of January 2 takes the January 1 data", loaded before e.g. 13:00 KST).
 *
 * @module
 */
import { AbortedError, InvalidArgumentError, toEventlakeError } from "@eventlake/schema";
import { checkPartitionDate, partitionStatus } from "@eventlake/storage/partition";
import { redactUrl } from "@eventlake/storage/url";
import type { ImportJob, ImportState } from "./job.ts";
import type { ImportSource, RunImportOptions, RunReport } from "./run.ts";
import { emptyRunReport, newRunId, runImport } from "./run.ts";
import type { LakeLocation } from "./land.ts";
import { addDays, checkTimeOfDay, localDate, zonedInstant } from "./_import_time.ts";
import { ImportWorkerPool } from "./_import_pool.ts";

/**
 * The instant (epoch ms) by which the data of `date` must be loaded: `deadline` (`HH:MM`) on
 * the next day in `timeZone`.
 *
 * @example
 * ```ts
 * import { importDeadline } from "@eventlake/dataimport";
 * const t = importDeadline("2023-01-01", { deadline: "13:00", timeZone: "Asia/Seoul" });
 * console.log(new Date(t).toISOString()); // "2023-01-02T04:00:00.000Z"
 * ```
 */
export function importDeadline(
  date: string,
  job: Pick<ImportJob, "deadline" | "timeZone">,
): number {
  checkPartitionDate(date);
  return zonedInstant(addDays(date, 1), checkTimeOfDay(job.deadline), job.timeZone);
}

/**
 * The default date of a run at instant `now`: yesterday (D-1) in `timeZone`.
 *
 * @example
 * ```ts
 * import { defaultImportDate } from "@eventlake/dataimport";
 * // 2023-01-02 08:30 in Seoul is still 2023-01-01 in UTC.
 * console.log(defaultImportDate(Date.UTC(2023, 0, 1, 23, 30), "Asia/Seoul")); // "2023-01-01"
 * console.log(defaultImportDate(Date.UTC(2023, 0, 1, 23, 30), "UTC")); // "2022-12-31"
 * ```
 */
export function defaultImportDate(now: number, timeZone: string): string {
  return addDays(localDate(now, timeZone), -1);
}

/**
 * Every date from `from` to `to`, inclusive; `InvalidArgumentError` when `to` is before `from`
 * or the range is longer than `maxDays` (default 3660).
 *
 * @example
 * ```ts
 * import { dateRange } from "@eventlake/dataimport";
 * console.log(dateRange("2023-12-30", "2024-01-01")); // ["2023-12-30", "2023-12-31", "2024-01-01"]
 * ```
 */
export function dateRange(from: string, to: string, options: { maxDays?: number } = {}): string[] {
  checkPartitionDate(from);
  checkPartitionDate(to);
  if (to < from) {
    throw new InvalidArgumentError(
      `Invalid date range "${from}".."${to}": the end is before the start`,
    );
  }
  const max = options.maxDays ?? 3660;
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) {
    if (out.length >= max) {
      throw new InvalidArgumentError(
        `Invalid date range "${from}".."${to}": more than ${max} days`,
      );
    }
    out.push(d);
  }
  return out;
}

/**
 * Dates of `job` that are due at `now` (deadline passed) and not finished: from the job's
 * `startDate` to the latest due date, oldest first.
 *
 * @example
 * ```ts
 * import { dueDates } from "@eventlake/dataimport";
 * const job = { startDate: "2023-01-01", deadline: "13:00", timeZone: "Asia/Seoul" };
 * const now = Date.UTC(2023, 0, 3, 5); // 2023-01-03 14:00 KST
 * console.log(dueDates(job, now, new Set(["2023-01-01"]))); // ["2023-01-02"]
 * ```
 */
export function dueDates(
  job: Pick<ImportJob, "startDate" | "deadline" | "timeZone">,
  now: number,
  finished: ReadonlySet<string>,
): string[] {
  const out: string[] = [];
  for (let d = job.startDate; importDeadline(d, job) <= now; d = addDays(d, 1)) {
    if (!finished.has(d)) out.push(d);
    if (out.length > 3660) break;
  }
  return out;
}

/**
 * Runs `task` for each item with at most `concurrency` at a time; results in input order.
 * Stops starting new items once `signal` is aborted.
 *
 * @example
 * ```ts
 * import { mapConcurrent } from "@eventlake/dataimport";
 * console.log(await mapConcurrent([1, 2, 3], async (n) => n * 2, { concurrency: 2 })); // [2, 4, 6]
 * ```
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  task: (item: T) => Promise<R>,
  options: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<R[]> {
  const concurrency = options.concurrency ?? 2;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new InvalidArgumentError(
      `Invalid concurrency "${concurrency}": expected a whole number from 1 to 64`,
    );
  }
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      if (options.signal?.aborted) {
        throw new AbortedError("Stopped before all dates ran", { cause: options.signal.reason });
      }
      const i = next++;
      results[i] = await task(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** The stores a job's run reads and writes. */
export interface OpenedJobStores {
  /** Where the job reads. */
  source: ImportSource;
  /** Where it lands. */
  lake: LakeLocation;
  /** Releases clients. */
  close(): Promise<void>;
}

/** Options of {@linkcode runJob}, {@linkcode backfillJob} and {@linkcode runSchedule}. */
export interface JobRunOptions extends
  Pick<
    RunImportOptions,
    | "onLanded"
    | "onProgress"
    | "pollIntervalMs"
    | "maxRowsPerFile"
    | "sleep"
    | "signal"
    | "workerPool"
  > {
  /** Opens the job's source and lake (credentials are the caller's business). */
  open: (job: ImportJob) => Promise<OpenedJobStores>;
  /** The clock (default `Date.now`). */
  now?: () => number;
  /** Wait for `_SUCCESS` until the job's deadline of the date (default `true`). */
  waitUntilDeadline?: boolean;
  /** Called with every finished run's report. */
  onReport?: (report: RunReport) => void | Promise<void>;
}

/**
 * Runs one date of a stored job and records its report (also when the run fails; an aborted
 * run is recorded as FAILED and the `AbortedError` rethrown).
 *
 * @example
 * ```ts ignore
 * const report = await runJob(state, state.getJob("daily"), "2023-01-01", { open });
 * ```
 */
export async function runJob(
  state: ImportState,
  job: ImportJob,
  date: string,
  options: JobRunOptions,
): Promise<RunReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const runId = newRunId(started);
  let stores: OpenedJobStores | undefined;
  let report: RunReport;
  try {
    stores = await options.open(job);
    report = await runImport(stores.source, date, {
      ...options,
      now,
      lake: stores.lake,
      table: job.table,
      dedupWindowDays: job.dedupWindowDays,
      deadline: options.waitUntilDeadline === false ? undefined : importDeadline(date, job),
      runId,
      jobId: job.id,
    });
  } catch (error) {
    const e = toEventlakeError(error);
    const end = now();
    const report = emptyRunReport({
      runId,
      jobId: job.id,
      date,
      source: redactUrl(job.sourceUrl),
      lake: job.lakeUrl === undefined ? "" : redactUrl(job.lakeUrl),
      table: job.table,
      dedupWindowDays: job.dedupWindowDays,
      startedAt: started,
    });
    report.error = { code: e.code, message: e.message };
    report.timings.finishedAt = new Date(end).toISOString();
    report.timings.totalMs = end - started;
    state.recordRun(report);
    throw error;
  } finally {
    await stores?.close().catch(() => {});
  }
  state.recordRun(report);
  await options.onReport?.(report);
  return report;
}

/**
 * Runs a job for every date from `from` to `to` with at most `concurrency` runs at a time
 * (default 2), without waiting for deadlines; reports in date order. Without a `workerPool` it
 * keeps one of its own for its runs (see {@linkcode ImportWorkerPool}) and closes it at the end.
 *
 * @example
 * ```ts ignore
 * const reports = await backfillJob(state, job, { from: "2023-01-01", to: "2023-01-31", open });
 * ```
 */
export function backfillJob(
  state: ImportState,
  job: ImportJob,
  options: JobRunOptions & { from: string; to: string; concurrency?: number },
): Promise<RunReport[]> {
  const dates = dateRange(options.from, options.to);
  const own = options.workerPool === undefined ? new ImportWorkerPool() : undefined;
  const workerPool = options.workerPool ?? own;
  return mapConcurrent(
    dates,
    (date) => runJob(state, job, date, { ...options, workerPool, waitUntilDeadline: false }),
    options,
  ).finally(() => own?.close());
}

/**
 * Runs stored jobs until `signal` is aborted: first every due, unfinished date of every job
 * (catch-up after a restart; finished dates are never re-imported), then each day's date once
 * its deadline has passed. Jobs created or deleted meanwhile are picked up on the next pass.
 * Resolves when aborted. Without a `workerPool` it keeps one of its own (see
 * {@linkcode ImportWorkerPool}) while it runs.
 *
 * A day reported MISSING (its `_SUCCESS` had not come by the deadline) is not given up: on each
 * pass the schedule looks again at the job's MISSING days of the last `lateDays` days (default
 * 7) and imports those whose partition is ready now.
 *
 * @example
 * ```ts ignore
 * const stop = new AbortController();
 * await runSchedule(state, { open, signal: stop.signal });
 * ```
 */
export async function runSchedule(
  state: ImportState,
  options: JobRunOptions & { jobs?: readonly string[]; maxSleepMs?: number; lateDays?: number },
): Promise<void> {
  const lateDays = options.lateDays ?? DEFAULT_LATE_DAYS;
  if (!Number.isSafeInteger(lateDays) || lateDays < 0 || lateDays > 366) {
    throw new InvalidArgumentError(
      `Invalid lateDays "${lateDays}": expected a whole number of days from 0 to 366`,
    );
  }
  const own = options.workerPool === undefined ? new ImportWorkerPool() : undefined;
  try {
    await scheduleLoop(state, { ...options, workerPool: options.workerPool ?? own });
  } finally {
    own?.close();
  }
}

async function scheduleLoop(
  state: ImportState,
  options: JobRunOptions & { jobs?: readonly string[]; maxSleepMs?: number; lateDays?: number },
): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  const signal = options.signal;
  while (!signal?.aborted) {
    let wake = Infinity;
    for (const job of selectJobs(state, options.jobs)) {
      for (const date of dueDates(job, now(), state.finishedDates(job.id))) {
        if (signal?.aborted) return;
        try {
          await runJob(state, job, date, { ...options, waitUntilDeadline: false });
        } catch (error) {
          if (signal?.aborted) return;
          // Recorded as FAILED by runJob; the next pass tries again.
          void error;
        }
      }
      if (signal?.aborted) return;
      await importLateDays(state, job, options);
      let next = job.startDate;
      while (importDeadline(next, job) <= now()) next = addDays(next, 1);
      wake = Math.min(wake, importDeadline(next, job));
    }
    const wait = Math.max(1_000, Math.min(wake - now(), options.maxSleepMs ?? 60_000));
    try {
      await sleep(wait, signal);
    } catch {
      return;
    }
  }
}

/** Days a MISSING day stays watched for a late `_SUCCESS` (see {@linkcode runSchedule}). */
const DEFAULT_LATE_DAYS = 7;

/**
 * Imports the job's MISSING days of the last `lateDays` days whose partition is ready now. The
 * source is opened only when there is such a day; a failure to look is left to the next pass.
 */
async function importLateDays(
  state: ImportState,
  job: ImportJob,
  options: JobRunOptions & { lateDays?: number },
): Promise<void> {
  const now = options.now ?? Date.now;
  const lateDays = options.lateDays ?? DEFAULT_LATE_DAYS;
  if (lateDays === 0) return;
  const today = localDate(now(), job.timeZone);
  const late = state.lateDates(job.id, addDays(today, -lateDays));
  if (late.length === 0) return;
  const ready: string[] = [];
  let stores: OpenedJobStores | undefined;
  try {
    stores = await options.open(job);
    for (const date of late) {
      const status = await partitionStatus(stores.source.store, stores.source.prefix, date, {
        signal: options.signal,
      });
      if (status.state === "ready") ready.push(date);
    }
  } catch {
    if (options.signal?.aborted) return;
    // The source cannot be looked at now (credentials, network): the next pass tries again.
  } finally {
    await stores?.close().catch(() => {});
  }
  for (const date of ready) {
    if (options.signal?.aborted) return;
    try {
      await runJob(state, job, date, { ...options, waitUntilDeadline: false });
    } catch {
      // Recorded as FAILED by runJob; the next pass looks again.
    }
  }
}

function selectJobs(state: ImportState, names: readonly string[] | undefined): ImportJob[] {
  if (names === undefined || names.length === 0) return state.listJobs();
  return names.map((n) => state.getJob(n));
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError("Stopped"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError("Stopped"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

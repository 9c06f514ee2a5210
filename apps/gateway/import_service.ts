/**
 * The embedded import service behind `/v1/data-import`: jobs and runs kept in
 * `@eventlake/dataimport`'s `ImportState` — the same `$EVENTLAKE_HOME/import.db` the CLI's
 * `eventlake import job …` uses, so both see the same jobs and runs — executed one at a time with
 * `runImport` (wait-free: a day without `_SUCCESS` ends `MISSING` at once), pre-flight checks with
 * `validatePartitions`. A job belongs to its creator (`creatorName`). Opening the state fails the
 * runs left QUEUED or RUNNING by a process that is gone (not those of a live CLI or server).
 * Local-filesystem code: server only.
 *
 * @module
 */
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import {
  AbortedError,
  type EventlakeError,
  ForbiddenError,
  InvalidArgumentError,
  NotFoundError,
  toEventlakeError,
} from "@eventlake/schema";
import type { Identity } from "@eventlake/dataquery";
import {
  emptyRunReport,
  type ImportJob as StoredJob,
  type ImportSource,
  ImportState,
  ImportWorkerPool,
  type LakeLocation,
  newRunId,
  runImport,
  type RunRecord,
  type RunReport,
  validatePartitions,
} from "@eventlake/dataimport";
import {
  DEFAULT_LAKE_TABLE,
  type LakeTableRef,
  openStore,
  type OpenStoreConfig,
  redactUrl,
} from "@eventlake/storage";
import type {
  ImportApi,
  ImportJob,
  ImportRunState,
  ImportRunView,
  SourceCheckReport,
} from "./import_api.ts";
import type { CheckSourceInput, CreateImportJobInput, StartImportRunInput } from "./schemas.ts";

/** Options of {@linkcode createLocalImportService}. */
export interface LocalImportServiceOptions {
  /** The import state file shared with the CLI (`$EVENTLAKE_HOME/import.db`; `:memory:` for tests). */
  statePath: string;
  /** Where runs land. */
  lake: LakeLocation;
  /** Options of the source stores (credentials). */
  storeConfig?: OpenStoreConfig;
  /** Called after a day landed (wire it to the query service's `tableChanged`). */
  onLanded?: (table: LakeTableRef, date: string) => void;
  /** Called when a run ends, with its state (metrics). */
  onRunEnded?: (state: ImportRunState) => void;
  /** Most days one request may queue (default 366). */
  maxDaysPerRequest?: number;
  /** The clock (default `Date.now`). */
  clock?: () => number;
}

/** The embedded import service. */
export interface LocalImportService extends ImportApi {
  /** Resolves when a run has ended; returns its view. */
  settled(runId: string): Promise<ImportRunView>;
  /** Stops: `drain` lets queued runs finish; otherwise the running one is aborted (nothing lands). */
  close(options?: { drain?: boolean }): Promise<void>;
}

const DAY_MS = 86_400_000;

/** A source folder path becomes a `file://` URL; URLs stay as given. */
function sourceUrlOf(raw: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return raw;
  if (!isAbsolute(raw)) {
    throw new InvalidArgumentError(
      `Invalid source "${
        raw.slice(0, 200)
      }": give a URL (file://, s3://, gs://) or an absolute folder`,
      { details: { field: "sourceUrl" } },
    );
  }
  return pathToFileURL(raw).href;
}

function daysOf(input: StartImportRunInput, max: number): string[] {
  if (input.date !== undefined) return [input.date];
  const from = Date.parse(`${input.from}T00:00:00Z`);
  const to = Date.parse(`${input.to}T00:00:00Z`);
  const count = Math.round((to - from) / DAY_MS) + 1;
  if (count > max) {
    throw new InvalidArgumentError(
      `Invalid backfill "${input.from}".."${input.to}": ${count} days, at most ${max} per request`,
      { details: { field: "to" } },
    );
  }
  return Array.from(
    { length: count },
    (_, i) => new Date(from + i * DAY_MS).toISOString().slice(0, 10),
  );
}

/**
 * Opens the embedded import service.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from "@eventlake/storage";
 * import { createLocalImportService } from "./import_service.ts";
 * const imports = createLocalImportService({ statePath: ":memory:", lake: { store: createMemoryStore() } });
 * const me = { name: "me@example.com" };
 * const job = await imports.createJob(me, { name: "daily", sourceUrl: "memory://doc-src/events" });
 * const [run] = await imports.startRuns(me, job.jobId, { date: "2023-01-01" });
 * console.log((await imports.settled(run.runId)).state); // "MISSING"
 * await imports.close();
 * ```
 */
export function createLocalImportService(options: LocalImportServiceOptions): LocalImportService {
  const clock = options.clock ?? Date.now;
  const state = ImportState.open(options.statePath, { now: clock });
  const maxDays = options.maxDaysPerRequest ?? 366;

  const queue: string[] = [];
  const waiters = new Map<string, ((view: ImportRunView) => void)[]>();
  const controller = new AbortController();
  let running: Promise<void> | undefined;
  let runningCount = 0;
  let closed = false;
  // Worker threads stay warm from run to run (see ImportWorkerPool); ended by close().
  const workerPool = new ImportWorkerPool();

  const jobView = (job: StoredJob): ImportJob => ({
    jobId: job.id,
    name: job.name,
    creatorName: job.creatorName,
    sourceUrl: redactUrl(job.sourceUrl),
    table: job.table,
    dedupWindowDays: job.dedupWindowDays,
    createdAt: Date.parse(job.createdAt),
  });
  const runView = (run: RunRecord): ImportRunView => {
    const view: ImportRunView = {
      runId: run.runId,
      jobId: run.jobId ?? "",
      date: run.date,
      state: run.status,
      createdAt: Date.parse(run.startedAt),
    };
    if (run.finishedAt !== undefined) view.finishedAt = Date.parse(run.finishedAt);
    if (run.report !== undefined) view.report = run.report;
    return view;
  };
  const findJob = (jobId: string): StoredJob | undefined => {
    try {
      return state.getJob(jobId);
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  };
  const ownJob = (identity: Identity, jobId: string): StoredJob => {
    const job = findJob(jobId);
    if (job === undefined) {
      throw new NotFoundError(`Cannot find import job "${jobId}"`, { details: { jobId } });
    }
    if (job.creatorName !== identity.name) {
      throw new ForbiddenError(`Cannot use import job "${jobId}": only its creator may`, {
        details: { jobId },
      });
    }
    return job;
  };

  const finish = (report: RunReport) => {
    state.recordRun(report);
    options.onRunEnded?.(report.status);
    const view = runView(state.findRun(report.runId)!);
    for (const resolve of waiters.get(report.runId) ?? []) resolve(view);
    waiters.delete(report.runId);
  };

  const execute = async (runId: string): Promise<void> => {
    const run = state.findRun(runId);
    if (run === undefined || run.status !== "QUEUED") return;
    const job = run.jobId === undefined ? undefined : findJob(run.jobId);
    if (job === undefined) {
      finish(failedReport(
        run,
        undefined,
        options.lake,
        clock,
        new NotFoundError(
          `Cannot run import job "${run.jobId}": it was deleted`,
        ),
      ));
      return;
    }
    if (!state.startRun(runId)) return;
    runningCount++;
    try {
      const opened = await openStore(job.sourceUrl, options.storeConfig);
      const source: ImportSource = { store: opened.store, prefix: opened.prefix };
      const report = await runImport(source, run.date, {
        lake: options.lake,
        table: job.table,
        dedupWindowDays: job.dedupWindowDays,
        runId,
        jobId: job.id,
        onLanded: options.onLanded,
        workerPool,
        signal: controller.signal,
      });
      finish(report);
    } catch (e) {
      finish(failedReport(run, job, options.lake, clock, toEventlakeError(e)));
    } finally {
      runningCount--;
    }
  };

  const pump = () => {
    if (running !== undefined) return;
    running = (async () => {
      while (queue.length > 0 && !controller.signal.aborted) await execute(queue.shift()!);
    })().finally(() => {
      running = undefined;
      if (queue.length > 0 && !controller.signal.aborted) pump();
    });
  };

  const checkOpen = () => {
    if (closed) throw new AbortedError("The import service is closed");
  };

  return {
    async createJob(identity: Identity, input: CreateImportJobInput): Promise<ImportJob> {
      checkOpen();
      const url = sourceUrlOf(input.sourceUrl);
      try {
        await openStore(url, options.storeConfig);
      } catch (e) {
        const error = toEventlakeError(e);
        throw new InvalidArgumentError(`Invalid "sourceUrl": ${error.message}`, {
          cause: e,
          details: { field: "sourceUrl" },
        });
      }
      return jobView(state.createJob({
        name: input.name,
        creatorName: identity.name,
        sourceUrl: url,
        table: input.table ?? { ...DEFAULT_LAKE_TABLE },
        dedupWindowDays: input.dedupWindowDays ?? 7,
      }));
    },
    listJobs(identity: Identity): Promise<ImportJob[]> {
      const jobs = state.listJobs({ creatorName: identity.name }).map(jobView);
      jobs.sort((a, b) => b.createdAt - a.createdAt || (a.jobId < b.jobId ? 1 : -1));
      return Promise.resolve(jobs);
    },
    getJob(identity: Identity, jobId: string): Promise<ImportJob> {
      try {
        return Promise.resolve(jobView(ownJob(identity, jobId)));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    deleteJob(identity: Identity, jobId: string): Promise<void> {
      try {
        state.deleteJob(ownJob(identity, jobId).id);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    },
    startRuns(
      identity: Identity,
      jobId: string,
      input: StartImportRunInput,
    ): Promise<ImportRunView[]> {
      try {
        checkOpen();
        const job = ownJob(identity, jobId);
        const days = daysOf(input, maxDays);
        const now = clock();
        const views: ImportRunView[] = [];
        for (const date of days) {
          const queued = state.queueRun({ runId: newRunId(now), jobId: job.id, date });
          queue.push(queued.runId);
          views.push(runView(queued));
        }
        pump();
        return Promise.resolve(views);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    listRuns(identity: Identity, jobId: string): Promise<ImportRunView[]> {
      try {
        const job = ownJob(identity, jobId);
        const runs = state.listRuns({ job: job.id, limit: 1000 });
        return Promise.resolve(runs.map((r) => runView(state.findRun(r.runId) ?? r)));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    getRun(identity: Identity, jobId: string, runId: string): Promise<ImportRunView> {
      try {
        const job = ownJob(identity, jobId);
        const run = state.findRun(runId);
        if (run === undefined || run.jobId !== job.id) {
          throw new NotFoundError(`Cannot find run "${runId}" of import job "${jobId}"`, {
            details: { jobId, runId },
          });
        }
        return Promise.resolve(runView(run));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    async check(
      _identity: Identity,
      input: CheckSourceInput,
      opts: { signal?: AbortSignal } = {},
    ): Promise<SourceCheckReport> {
      const url = sourceUrlOf(input.sourceUrl);
      const report = await validatePartitions(url, {
        ...(input.date !== undefined
          ? { dates: [input.date] }
          : { from: "1970-01-01", to: "2999-12-31" }),
        storeConfig: options.storeConfig,
        signal: opts.signal,
      });
      return { sourceUrl: redactUrl(url), ok: report.ok, days: report.days };
    },
    runningRuns(): number {
      return runningCount;
    },
    settled(runId: string): Promise<ImportRunView> {
      const run = state.findRun(runId);
      if (run === undefined) {
        return Promise.reject(new NotFoundError(`Cannot find run "${runId}"`));
      }
      if (run.status !== "QUEUED" && run.status !== "RUNNING") {
        return Promise.resolve(runView(run));
      }
      return new Promise((resolve) => {
        const list = waiters.get(runId) ?? [];
        list.push(resolve);
        waiters.set(runId, list);
      });
    },
    async close(opts: { drain?: boolean } = {}): Promise<void> {
      if (closed) return;
      closed = true;
      if (!opts.drain) {
        queue.length = 0;
        controller.abort(new AbortedError("The server is shutting down"));
      }
      while (running !== undefined) await running;
      workerPool.close();
      state.close();
    },
  };
}

/** The report of a run that failed before or while `runImport` ran. */
function failedReport(
  run: RunRecord,
  job: StoredJob | undefined,
  lake: LakeLocation,
  clock: () => number,
  error: EventlakeError,
): RunReport {
  const report = emptyRunReport({
    runId: run.runId,
    jobId: run.jobId,
    date: run.date,
    source: job ? redactUrl(job.sourceUrl) : "",
    lake: lake.store.url,
    table: job?.table ?? { ...DEFAULT_LAKE_TABLE },
    dedupWindowDays: job?.dedupWindowDays ?? 0,
    startedAt: 0,
  });
  report.error = { code: error.code, message: error.message };
  report.timings.startedAt = run.startedAt; // as recorded, whatever its form
  report.timings.finishedAt = new Date(clock()).toISOString();
  return report;
}

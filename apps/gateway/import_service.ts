/**
 * The embedded import service behind `/v1/data-import`: jobs and runs kept in SQLite
 * (`$EVENTLAKE_HOME/imports.sqlite`), runs executed one at a time with `@eventlake/dataimport`'s
 * `runImport` (wait-free: a day without `_SUCCESS` ends `MISSING` at once), pre-flight checks with
 * `validatePartitions`. A job belongs to its creator. Runs QUEUED or RUNNING when a process died
 * are marked FAILED by the next one that opens the state. Local-filesystem code: server only.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import {
  AbortedError,
  ForbiddenError,
  InvalidArgumentError,
  NotFoundError,
  toEventlakeError,
} from "@eventlake/schema";
import type { Identity } from "@eventlake/dataquery";
import {
  type ImportSource,
  type LakeLocation,
  runImport,
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
  /** SQLite file of jobs and runs (`:memory:` for tests). */
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

interface JobRow {
  job_id: string;
  name: string;
  creator_name: string;
  source_url: string;
  table_json: string;
  dedup_window_days: number;
  created_at: number;
}

interface RunRow {
  run_id: string;
  job_id: string;
  date: string;
  state: ImportRunState;
  created_at: number;
  finished_at: number | null;
  report_json: string | null;
}

const DAY_MS = 86_400_000;

function randomId(prefix: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  const tail = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${prefix}-${stamp.slice(0, 8)}-${stamp.slice(8)}-${tail}`;
}

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
  const db = new DatabaseSync(options.statePath);
  db.exec(`
    PRAGMA journal_mode = WAL;
    CREATE TABLE IF NOT EXISTS import_jobs (
      job_id TEXT PRIMARY KEY, name TEXT NOT NULL, creator_name TEXT NOT NULL,
      source_url TEXT NOT NULL, table_json TEXT NOT NULL, dedup_window_days INTEGER NOT NULL,
      created_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS import_runs (
      run_id TEXT PRIMARY KEY, job_id TEXT NOT NULL, date TEXT NOT NULL, state TEXT NOT NULL,
      created_at INTEGER NOT NULL, finished_at INTEGER, report_json TEXT);
    CREATE INDEX IF NOT EXISTS import_runs_job ON import_runs (job_id, created_at);
  `);
  const clock = options.clock ?? Date.now;
  const maxDays = options.maxDaysPerRequest ?? 366;
  db.prepare(
    `UPDATE import_runs SET state = 'FAILED', finished_at = ?, report_json = NULL
     WHERE state IN ('QUEUED', 'RUNNING')`,
  ).run(clock());

  const queue: string[] = [];
  const waiters = new Map<string, ((view: ImportRunView) => void)[]>();
  const controller = new AbortController();
  let running: Promise<void> | undefined;
  let runningCount = 0;
  let closed = false;

  const jobView = (row: JobRow): ImportJob => ({
    jobId: row.job_id,
    name: row.name,
    creatorName: row.creator_name,
    sourceUrl: redactUrl(row.source_url),
    table: JSON.parse(row.table_json),
    dedupWindowDays: row.dedup_window_days,
    createdAt: row.created_at,
  });
  const runView = (row: RunRow): ImportRunView => {
    const view: ImportRunView = {
      runId: row.run_id,
      jobId: row.job_id,
      date: row.date,
      state: row.state,
      createdAt: row.created_at,
    };
    if (row.finished_at !== null) view.finishedAt = row.finished_at;
    if (row.report_json !== null) view.report = JSON.parse(row.report_json);
    return view;
  };
  const findJob = (jobId: string): JobRow | undefined =>
    db.prepare("SELECT * FROM import_jobs WHERE job_id = ?").get(jobId) as JobRow | undefined;
  const ownJob = (identity: Identity, jobId: string): JobRow => {
    const row = findJob(jobId);
    if (row === undefined) {
      throw new NotFoundError(`Cannot find import job "${jobId}"`, { details: { jobId } });
    }
    if (row.creator_name !== identity.name) {
      throw new ForbiddenError(`Cannot use import job "${jobId}": only its creator may`, {
        details: { jobId },
      });
    }
    return row;
  };
  const getRunRow = (runId: string): RunRow | undefined =>
    db.prepare("SELECT * FROM import_runs WHERE run_id = ?").get(runId) as RunRow | undefined;

  const finish = (runId: string, state: ImportRunState, report: RunReport | null) => {
    db.prepare(
      "UPDATE import_runs SET state = ?, finished_at = ?, report_json = ? WHERE run_id = ?",
    ).run(state, clock(), report === null ? null : JSON.stringify(report), runId);
    options.onRunEnded?.(state);
    const view = runView(getRunRow(runId)!);
    for (const resolve of waiters.get(runId) ?? []) resolve(view);
    waiters.delete(runId);
  };

  const execute = async (runId: string): Promise<void> => {
    const run = getRunRow(runId);
    if (run === undefined || run.state !== "QUEUED") return;
    const job = findJob(run.job_id);
    if (job === undefined) {
      finish(runId, "FAILED", null);
      return;
    }
    db.prepare("UPDATE import_runs SET state = 'RUNNING' WHERE run_id = ?").run(runId);
    runningCount++;
    try {
      const opened = await openStore(job.source_url, options.storeConfig);
      const source: ImportSource = { store: opened.store, prefix: opened.prefix };
      const report = await runImport(source, run.date, {
        lake: options.lake,
        table: JSON.parse(job.table_json),
        dedupWindowDays: job.dedup_window_days,
        runId,
        jobId: job.job_id,
        onLanded: options.onLanded,
        signal: controller.signal,
      });
      finish(runId, report.status, report);
    } catch (e) {
      const error = toEventlakeError(e);
      const now = new Date(clock()).toISOString();
      finish(runId, "FAILED", {
        runId,
        jobId: job.job_id,
        date: run.date,
        status: "FAILED",
        source: redactUrl(job.source_url),
        lake: options.lake.store.url,
        table: JSON.parse(job.table_json),
        rowsRead: 0,
        rowsAccepted: 0,
        rowsRejected: 0,
        rowsDuplicate: 0,
        rowsDuplicateEarlier: 0,
        bytesRead: 0,
        bytesWritten: 0,
        dedupWindowDays: job.dedup_window_days,
        reasons: [],
        variants: [],
        files: [],
        landed: [],
        error: { code: error.code, message: error.message },
        timings: {
          startedAt: now,
          finishedAt: now,
          waitMs: 0,
          dedupMs: 0,
          importMs: 0,
          commitMs: 0,
          totalMs: 0,
        },
      });
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
      const row: JobRow = {
        job_id: randomId("job", clock()),
        name: input.name,
        creator_name: identity.name,
        source_url: url,
        table_json: JSON.stringify(input.table ?? DEFAULT_LAKE_TABLE),
        dedup_window_days: input.dedupWindowDays ?? 7,
        created_at: clock(),
      };
      db.prepare(
        `INSERT INTO import_jobs (job_id, name, creator_name, source_url, table_json,
           dedup_window_days, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        row.job_id,
        row.name,
        row.creator_name,
        row.source_url,
        row.table_json,
        row.dedup_window_days,
        row.created_at,
      );
      return Promise.resolve(jobView(row));
    },
    listJobs(identity: Identity): Promise<ImportJob[]> {
      const rows = db.prepare(
        "SELECT * FROM import_jobs WHERE creator_name = ? ORDER BY created_at DESC, job_id DESC",
      ).all(identity.name) as unknown as JobRow[];
      return Promise.resolve(rows.map(jobView));
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
        ownJob(identity, jobId);
        db.prepare("DELETE FROM import_jobs WHERE job_id = ?").run(jobId);
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
        ownJob(identity, jobId);
        const days = daysOf(input, maxDays);
        const now = clock();
        const insert = db.prepare(
          "INSERT INTO import_runs (run_id, job_id, date, state, created_at) VALUES (?, ?, ?, 'QUEUED', ?)",
        );
        const views: ImportRunView[] = [];
        for (const date of days) {
          const runId = randomId("run", now);
          insert.run(runId, jobId, date, now);
          queue.push(runId);
          views.push({ runId, jobId, date, state: "QUEUED", createdAt: now });
        }
        pump();
        return Promise.resolve(views);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    listRuns(identity: Identity, jobId: string): Promise<ImportRunView[]> {
      try {
        ownJob(identity, jobId);
        const rows = db.prepare(
          "SELECT * FROM import_runs WHERE job_id = ? ORDER BY created_at DESC, date DESC LIMIT 1000",
        ).all(jobId) as unknown as RunRow[];
        return Promise.resolve(rows.map(runView));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    getRun(identity: Identity, jobId: string, runId: string): Promise<ImportRunView> {
      try {
        ownJob(identity, jobId);
        const row = getRunRow(runId);
        if (row === undefined || row.job_id !== jobId) {
          throw new NotFoundError(`Cannot find run "${runId}" of import job "${jobId}"`, {
            details: { jobId, runId },
          });
        }
        return Promise.resolve(runView(row));
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
      const row = getRunRow(runId);
      if (row === undefined) {
        return Promise.reject(new NotFoundError(`Cannot find run "${runId}"`));
      }
      if (row.state !== "QUEUED" && row.state !== "RUNNING") return Promise.resolve(runView(row));
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
      db.close();
    },
  };
}

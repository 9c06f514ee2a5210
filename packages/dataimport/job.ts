/**
 * Import jobs and run reports, stored durably in SQLite (`node:sqlite`), by default at
 * `$EVENTLAKE_HOME/import.db` (the library takes the path).
 *
 * A job is a source (store URL plus non-secret store options; credentials come from the
 * environment or configuration when the job runs, never from the database), a destination lake
 * table, a daily load deadline in a time zone (the Data Import document's example: 13:00 KST),
 * and a dedup window. Jobs belong to a creator (`creatorName`).
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { ConflictError, InvalidArgumentError, NotFoundError } from "@eventlake/schema";
import type { LakeTableRef } from "@eventlake/storage";
import { DEFAULT_LAKE_TABLE, lakeTablePrefix } from "@eventlake/storage/lake";
import { checkPartitionDate } from "@eventlake/storage/partition";
import { parseStoreUrl } from "@eventlake/storage/url";
import type { RunReport, RunStatus } from "./run.ts";
import { openStateDb } from "./_state.ts";
import { newOwner, ownerGone, releaseOwner, type RunOwner } from "./_owner.ts";
import { addDays, checkTimeOfDay, checkTimeZone, localDate } from "./_import_time.ts";

/** Non-secret options for opening a job's source store (credentials are never stored). */
export interface SourceStoreOptions {
  /** S3: region. */
  region?: string;
  /** S3: custom endpoint of an S3-compatible store. */
  endpoint?: string;
  /** S3: path-style addressing. */
  forcePathStyle?: boolean;
  /** GCS: project id. */
  projectId?: string;
  /** GCS: API endpoint (emulator or private endpoint). */
  apiEndpoint?: string;
  /** GCS: path of a service-account key file. */
  keyFilename?: string;
}

/** What {@linkcode ImportState.createJob} takes. */
export interface ImportJobSpec {
  /** Unique name: 1-64 letters, digits, `_`, `-` or `.`. */
  name: string;
  /** Who created it (the gateway's credential name, or the local user). */
  creatorName: string;
  /** The source prefix holding `dt=YYYY-MM-DD/` folders: `s3://…`, `gs://…`, `file:///…`. */
  sourceUrl: string;
  /** Non-secret options of the source store. */
  sourceOptions?: SourceStoreOptions;
  /** Lake root URL; absent = the caller's default (`$EVENTLAKE_HOME/lake/`). */
  lakeUrl?: string;
  /** Destination table (default `data_catalog.default.events`). */
  table?: LakeTableRef;
  /** Daily load deadline, `HH:MM` in `timeZone` (default `"13:00"`). */
  deadline?: string;
  /** IANA time zone of the deadline and of "yesterday" (default `"Asia/Seoul"`). */
  timeZone?: string;
  /** Dedup window in days (default 7). */
  dedupWindowDays?: number;
  /** First date the schedule imports (default: the day before the job was created, local). */
  startDate?: string;
}

/** A stored job. */
export interface ImportJob {
  /** Generated id. */
  id: string;
  /** Unique name. */
  name: string;
  /** Creator. */
  creatorName: string;
  /** Source URL. */
  sourceUrl: string;
  /** Non-secret source store options. */
  sourceOptions: SourceStoreOptions;
  /** Lake root URL, when not the default. */
  lakeUrl?: string;
  /** Destination table. */
  table: LakeTableRef;
  /** `HH:MM`. */
  deadline: string;
  /** IANA zone. */
  timeZone: string;
  /** Days. */
  dedupWindowDays: number;
  /** First scheduled date, `YYYY-MM-DD`. */
  startDate: string;
  /** ISO-8601. */
  createdAt: string;
}

/** Where a stored run is: queued or running (pending), or ended with a {@linkcode RunStatus}. */
export type RunState = RunStatus | "QUEUED" | "RUNNING";

/** A stored run, without its full report. */
export interface RunSummary {
  /** Run id. */
  runId: string;
  /** Job id, for job runs. */
  jobId?: string;
  /** Source day. */
  date: string;
  /** Outcome, or QUEUED/RUNNING while pending. */
  status: RunState;
  /** ISO-8601: when it started, or (pending) was queued. */
  startedAt: string;
  /** ISO-8601; absent while pending. */
  finishedAt?: string;
}

/** A stored run with its report, once it has ended. */
export interface RunRecord extends RunSummary {
  /** The full report (absent while QUEUED/RUNNING, or for a run failed by recovery). */
  report?: RunReport;
}

/** What {@linkcode ImportState.queueRun} takes. */
export interface QueuedRunSpec {
  /** Run id (e.g. from `newRunId()`). */
  runId: string;
  /** Its job's id. */
  jobId: string;
  /** Source day, `YYYY-MM-DD`. */
  date: string;
}

/** Options of {@linkcode ImportState.listRuns}. */
export interface ListRunsOptions {
  /** Only this job's runs (a job id or name). */
  job?: string;
  /** Only this date. */
  date?: string;
  /** At most this many, newest first (default 50). */
  limit?: number;
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const FINISHED: readonly RunStatus[] = ["SUCCEEDED", "PARTIAL", "MISSING"];

/**
 * The importer's durable state: jobs and run reports in one SQLite file.
 *
 * @example
 * ```ts
 * import { ImportState } from "@eventlake/dataimport";
 * const state = ImportState.open(":memory:");
 * const job = state.createJob({
 *   name: "daily", creatorName: "alice", sourceUrl: "gs://customer-data/test/prefix-custom",
 * });
 * console.log(job.deadline, job.timeZone, job.dedupWindowDays); // "13:00" "Asia/Seoul" 7
 * console.log(state.listJobs().map((j) => j.name)); // ["daily"]
 * state.close();
 * ```
 */
export class ImportState {
  #db: DatabaseSync;
  #now: () => number;
  #owner: RunOwner;
  #closed = false;

  private constructor(db: DatabaseSync, now: () => number) {
    this.#db = db;
    this.#now = now;
    this.#owner = newOwner();
  }

  /**
   * Opens (creating when absent) the state at `path` (`":memory:"` for a throwaway one). Runs
   * left QUEUED or RUNNING by a process that is gone (or by a closed state of this process)
   * become FAILED; live owners' runs, e.g. a running gateway's, are left alone.
   */
  static open(path: string, options: { now?: () => number } = {}): ImportState {
    const state = new ImportState(openStateDb(path), options.now ?? Date.now);
    try {
      state.#failOrphanedRuns();
    } catch (error) {
      state.close();
      throw error;
    }
    return state;
  }

  /** Stores a new QUEUED run owned by this state; `ConflictError` when the run id exists. */
  queueRun(spec: QueuedRunSpec): RunSummary {
    const date = checkPartitionDate(spec.date);
    const startedAt = new Date(this.#now()).toISOString();
    if (this.#db.prepare("SELECT 1 FROM runs WHERE run_id = ?").get(spec.runId)) {
      throw new ConflictError(`Cannot queue import run "${spec.runId}": the id is taken`);
    }
    this.#db.prepare(
      "INSERT INTO runs (run_id, job_id, date, status, started_at, finished_at, report, owner) VALUES (?, ?, ?, 'QUEUED', ?, '', '', ?)",
    ).run(spec.runId, spec.jobId, date, startedAt, JSON.stringify(this.#owner));
    return { runId: spec.runId, jobId: spec.jobId, date, status: "QUEUED", startedAt };
  }

  /** Moves a QUEUED run to RUNNING (its start time becomes now); false when it is not QUEUED. */
  startRun(runId: string): boolean {
    const result = this.#db.prepare(
      "UPDATE runs SET status = 'RUNNING', started_at = ?, owner = ? WHERE run_id = ? AND status = 'QUEUED'",
    ).run(new Date(this.#now()).toISOString(), JSON.stringify(this.#owner), runId);
    return Number(result.changes) === 1;
  }

  /** One run with its report when it has one; `undefined` when there is none. */
  findRun(runId: string): RunRecord | undefined {
    const row = this.#db.prepare(
      "SELECT run_id, job_id, date, status, started_at, finished_at, report FROM runs WHERE run_id = ?",
    ).get(runId) as (SummaryRow & { report: string }) | undefined;
    if (row === undefined) return undefined;
    const record: RunRecord = toSummary(row);
    if (row.report !== "") record.report = JSON.parse(row.report) as RunReport;
    return record;
  }

  /** Checks and stores a new job; `ConflictError` when the name is taken. */
  createJob(spec: ImportJobSpec): ImportJob {
    const job = normaliseJob(spec, this.#now());
    if (this.#row(job.name)) {
      throw new ConflictError(`Cannot create import job "${job.name}": the name is taken`, {
        details: { name: job.name },
      });
    }
    const { id, name, creatorName, createdAt, ...rest } = job;
    this.#db.prepare(
      "INSERT INTO jobs (id, name, creator_name, spec, created_at) VALUES (?, ?, ?, ?, ?)",
    ).run(id, name, creatorName, JSON.stringify(rest), createdAt);
    return job;
  }

  /** Jobs, by name; only one creator's when `creatorName` is given. */
  listJobs(options: { creatorName?: string } = {}): ImportJob[] {
    const rows =
      (options.creatorName === undefined
        ? this.#db.prepare("SELECT * FROM jobs ORDER BY name").all()
        : this.#db.prepare("SELECT * FROM jobs WHERE creator_name = ? ORDER BY name").all(
          options.creatorName,
        )) as unknown as JobRow[];
    return rows.map(toJob);
  }

  /** One job by id or name; `NotFoundError` when there is none. */
  getJob(idOrName: string): ImportJob {
    const row = this.#row(idOrName);
    if (!row) {
      throw new NotFoundError(`Cannot find import job "${idOrName}"`, {
        details: { job: idOrName },
      });
    }
    return toJob(row);
  }

  /** Deletes a job (its run reports stay); `NotFoundError` when there is none. */
  deleteJob(idOrName: string): ImportJob {
    const job = this.getJob(idOrName);
    this.#db.prepare("DELETE FROM jobs WHERE id = ?").run(job.id);
    return job;
  }

  /** Stores a run report (replacing one of the same run id). */
  recordRun(report: RunReport): void {
    this.#db.prepare(
      "INSERT OR REPLACE INTO runs (run_id, job_id, date, status, started_at, finished_at, report) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).run(
      report.runId,
      report.jobId ?? null,
      report.date,
      report.status,
      report.timings.startedAt,
      report.timings.finishedAt,
      JSON.stringify(report),
    );
  }

  /** Runs, newest first. */
  listRuns(options: ListRunsOptions = {}): RunSummary[] {
    const where: string[] = [];
    const args: string[] = [];
    if (options.job !== undefined) {
      where.push("job_id = ?");
      args.push(this.getJob(options.job).id);
    }
    if (options.date !== undefined) {
      where.push("date = ?");
      args.push(checkPartitionDate(options.date));
    }
    const limit = options.limit ?? 50;
    const sql = `SELECT run_id, job_id, date, status, started_at, finished_at FROM runs${
      where.length ? ` WHERE ${where.join(" AND ")}` : ""
    } ORDER BY started_at DESC, run_id DESC LIMIT ${Math.max(1, Math.floor(limit))}`;
    const rows = this.#db.prepare(sql).all(...args) as unknown as SummaryRow[];
    return rows.map(toSummary);
  }

  /** A run's full report; `NotFoundError` when there is none (or it has none yet). */
  getRun(runId: string): RunReport {
    const run = this.findRun(runId);
    if (!run) throw new NotFoundError(`Cannot find import run "${runId}"`);
    if (!run.report) {
      throw new NotFoundError(
        `Cannot find the report of import run "${runId}": it is ${run.status}`,
        {
          details: { runId, status: run.status },
        },
      );
    }
    return run.report;
  }

  /** Dates of a job that are finished (SUCCEEDED, PARTIAL or MISSING): the schedule skips them. */
  finishedDates(jobId: string): Set<string> {
    const rows = this.#db.prepare(
      `SELECT DISTINCT date FROM runs WHERE job_id = ? AND status IN (${
        FINISHED.map(() => "?").join(", ")
      })`,
    ).all(jobId, ...FINISHED) as { date: string }[];
    return new Set(rows.map((r) => r.date));
  }

  /**
   * Dates from `since` (inclusive) with a MISSING run of this job and no SUCCEEDED or PARTIAL
   * one: days whose `_SUCCESS` had not come by the deadline, which the schedule imports if it
   * comes later.
   */
  lateDates(jobId: string, since: string): string[] {
    const rows = this.#db.prepare(
      `SELECT date FROM runs WHERE job_id = ? AND date >= ? GROUP BY date
       HAVING SUM(status = 'MISSING') > 0 AND SUM(status IN ('SUCCEEDED', 'PARTIAL')) = 0
       ORDER BY date`,
    ).all(jobId, since) as { date: string }[];
    return rows.map((r) => r.date);
  }

  /** Closes the database; this state's pending runs are failed by the next open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    releaseOwner(this.#owner);
    this.#db.close();
  }

  #failOrphanedRuns(): void {
    const pending = this.#db.prepare(
      "SELECT run_id, owner FROM runs WHERE status IN ('QUEUED', 'RUNNING')",
    ).all() as { run_id: string; owner: string | null }[];
    const fail = this.#db.prepare(
      "UPDATE runs SET status = 'FAILED', finished_at = ? WHERE run_id = ? AND status IN ('QUEUED', 'RUNNING')",
    );
    const now = new Date(this.#now()).toISOString();
    for (const run of pending) {
      if (ownerGone(run.owner, this.#owner)) fail.run(now, run.run_id);
    }
  }

  #row(idOrName: string): JobRow | undefined {
    return this.#db.prepare("SELECT * FROM jobs WHERE id = ? OR name = ?").get(
      idOrName,
      idOrName,
    ) as JobRow | undefined;
  }
}

interface SummaryRow {
  run_id: string;
  job_id: string | null;
  date: string;
  status: RunState;
  started_at: string;
  finished_at: string;
}

function toSummary(r: SummaryRow): RunSummary {
  return {
    runId: r.run_id,
    ...(r.job_id !== null ? { jobId: r.job_id } : {}),
    date: r.date,
    status: r.status,
    startedAt: r.started_at,
    ...(r.finished_at !== "" ? { finishedAt: r.finished_at } : {}),
  };
}

interface JobRow {
  id: string;
  name: string;
  creator_name: string;
  spec: string;
  created_at: string;
}

function toJob(row: JobRow): ImportJob {
  return {
    id: row.id,
    name: row.name,
    creatorName: row.creator_name,
    ...JSON.parse(row.spec),
    createdAt: row.created_at,
  };
}

/** Checks a job spec and fills its defaults. */
function normaliseJob(spec: ImportJobSpec, now: number): ImportJob {
  const name = String(spec.name ?? "");
  if (!NAME_RE.test(name)) {
    throw new InvalidArgumentError(
      `Invalid import job name "${name}": use 1-64 letters, digits, "_", "-" or "."`,
    );
  }
  if (typeof spec.creatorName !== "string" || spec.creatorName.trim() === "") {
    throw new InvalidArgumentError(`Invalid import job "${name}": creatorName is empty`);
  }
  parseStoreUrl(spec.sourceUrl);
  if (spec.lakeUrl !== undefined) parseStoreUrl(spec.lakeUrl);
  const table = spec.table ?? { ...DEFAULT_LAKE_TABLE };
  lakeTablePrefix(table);
  const timeZone = checkTimeZone(spec.timeZone ?? "Asia/Seoul");
  const deadline = checkTimeOfDay(spec.deadline ?? "13:00");
  const window = spec.dedupWindowDays ?? 7;
  if (!Number.isSafeInteger(window) || window < 0 || window > 366) {
    throw new InvalidArgumentError(
      `Invalid dedup window "${window}" of import job "${name}": expected 0 to 366 days`,
    );
  }
  const startDate = spec.startDate !== undefined
    ? checkPartitionDate(spec.startDate)
    : yesterday(now, timeZone);
  return {
    id: `job_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`,
    name,
    creatorName: spec.creatorName,
    sourceUrl: spec.sourceUrl,
    sourceOptions: { ...spec.sourceOptions },
    ...(spec.lakeUrl !== undefined ? { lakeUrl: spec.lakeUrl } : {}),
    table: { dataSource: table.dataSource, database: table.database, table: table.table },
    deadline,
    timeZone,
    dedupWindowDays: window,
    startDate,
    createdAt: new Date(now).toISOString(),
  };
}

/** Yesterday (D-1) in `timeZone` at instant `now`. */
function yesterday(now: number, timeZone: string): string {
  return addDays(localDate(now, timeZone), -1);
}

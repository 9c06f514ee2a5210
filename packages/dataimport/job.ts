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
import {
  checkPartitionDate,
  DEFAULT_LAKE_TABLE,
  lakeTablePrefix,
  type LakeTableRef,
  parseStoreUrl,
} from "@eventlake/storage";
import type { RunReport, RunStatus } from "./run.ts";
import { openStateDb } from "./_state.ts";
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

/** A stored run, without its full report. */
export interface RunSummary {
  /** Run id. */
  runId: string;
  /** Job id, for job runs. */
  jobId?: string;
  /** Source day. */
  date: string;
  /** Outcome. */
  status: RunStatus;
  /** ISO-8601. */
  startedAt: string;
  /** ISO-8601. */
  finishedAt: string;
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

  private constructor(db: DatabaseSync, now: () => number) {
    this.#db = db;
    this.#now = now;
  }

  /** Opens (creating when absent) the state at `path` (`":memory:"` for a throwaway one). */
  static open(path: string, options: { now?: () => number } = {}): ImportState {
    return new ImportState(openStateDb(path), options.now ?? Date.now);
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
    const rows = this.#db.prepare(sql).all(...args) as unknown as {
      run_id: string;
      job_id: string | null;
      date: string;
      status: RunStatus;
      started_at: string;
      finished_at: string;
    }[];
    return rows.map((r) => ({
      runId: r.run_id,
      ...(r.job_id !== null ? { jobId: r.job_id } : {}),
      date: r.date,
      status: r.status,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
    }));
  }

  /** A run's full report; `NotFoundError` when there is none. */
  getRun(runId: string): RunReport {
    const row = this.#db.prepare("SELECT report FROM runs WHERE run_id = ?").get(runId) as
      | { report: string }
      | undefined;
    if (!row) throw new NotFoundError(`Cannot find import run "${runId}"`);
    return JSON.parse(row.report) as RunReport;
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

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }

  #row(idOrName: string): JobRow | undefined {
    return this.#db.prepare("SELECT * FROM jobs WHERE id = ? OR name = ?").get(
      idOrName,
      idOrName,
    ) as JobRow | undefined;
  }
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

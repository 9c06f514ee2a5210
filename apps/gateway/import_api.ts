/**
 * The self-service import API's service contract: what the gateway's `/v1/data-import` routes
 * call. `import_service.ts` implements it over `@eventlake/dataimport` for the embedded server.
 * A job belongs to its creator: every other caller gets `FORBIDDEN`.
 *
 * @module
 */
import type { Identity } from "@eventlake/dataquery";
import type { RunReport } from "@eventlake/dataimport";
import type { LakeTableRef } from "@eventlake/storage";
import type { CheckSourceInput, CreateImportJobInput, StartImportRunInput } from "./schemas.ts";

/** A stored import job. */
export interface ImportJob {
  /** Id, e.g. `job-20240903-011848-HcejcLZBHz`. */
  jobId: string;
  /** Name for people. */
  name: string;
  /** Who created it (the only one who may use it). */
  creatorName: string;
  /** The source, with any secret removed. */
  sourceUrl: string;
  /** Destination table. */
  table: LakeTableRef;
  /** Earlier days whose ids count as seen. */
  dedupWindowDays: number;
  /** Epoch ms. */
  createdAt: number;
}

/** State of a run as the API shows it. */
export type ImportRunState = "QUEUED" | "RUNNING" | "SUCCEEDED" | "PARTIAL" | "FAILED" | "MISSING";

/** One run (one day) of a job. */
export interface ImportRunView {
  /** Run id. */
  runId: string;
  /** Its job. */
  jobId: string;
  /** The day, `YYYY-MM-DD`. */
  date: string;
  /** Where it is. */
  state: ImportRunState;
  /** Epoch ms it was requested. */
  createdAt: number;
  /** Epoch ms it ended. */
  finishedAt?: number;
  /** The import report, once ended. */
  report?: RunReport;
}

/** The result of a pre-flight check of a source. */
export interface SourceCheckReport {
  /** The source, with any secret removed. */
  sourceUrl: string;
  /** Whether every checked day can be imported as is. */
  ok: boolean;
  /** Per day: readiness and problems. */
  days: unknown[];
}

/** The import service behind `/v1/data-import`. */
export interface ImportApi {
  /** Creates a job (the source must be openable). */
  createJob(identity: Identity, input: CreateImportJobInput): Promise<ImportJob>;
  /** The caller's jobs, newest first. */
  listJobs(identity: Identity): Promise<ImportJob[]>;
  /** One job of the caller. */
  getJob(identity: Identity, jobId: string): Promise<ImportJob>;
  /** Deletes a job of the caller (its landed data stays). */
  deleteJob(identity: Identity, jobId: string): Promise<void>;
  /** Queues one run per day (`date`, or every day `from`–`to`). */
  startRuns(
    identity: Identity,
    jobId: string,
    input: StartImportRunInput,
  ): Promise<ImportRunView[]>;
  /** The job's runs with their reports, newest first. */
  listRuns(identity: Identity, jobId: string): Promise<ImportRunView[]>;
  /** One run. */
  getRun(identity: Identity, jobId: string, runId: string): Promise<ImportRunView>;
  /** Validates a source's partitions without importing. */
  check(
    identity: Identity,
    input: CheckSourceInput,
    options?: { signal?: AbortSignal },
  ): Promise<SourceCheckReport>;
  /** Runs in progress (for `/metrics`). */
  runningRuns?(): number;
}

/**
 * The Data Query service: query lifecycle (a bounded worker pool and queue, abort, time limit),
 * results streamed to object storage, statistics, result reuse, history, data sources,
 * credentials and durable state. No HTTP here: every method returns objects in exactly the JSON
 * shapes of the Data Query Open API, so the gateway only serialises them and maps error codes.
 *
 * ## Lifecycle
 * `submit` validates the body, resolves the bucket (unknown: `NotFoundError`), proves it writable
 * by writing and deleting a probe object (refused: `PermissionDeniedError`, the Open API's 499),
 * then queues the query (full queue: `ResourceExhaustedError`). States are QUEUED → RUNNING →
 * FINISHED | FAILED | ABORTED. `workers` queries run at once; the time limit counts from RUNNING.
 * Abort, the time limit and shutdown abort the engine's signal AND stop waiting for it, so a worker
 * is freed even by an engine that ignores its signal. A FAILED query carries
 * `queryInfo.errorMessage` (an ABORTED one too); it is data, not an exception. Queries QUEUED or
 * RUNNING when a process died are FAILED with a reason by the next one that opens the state.
 * Each such query records its owner (host, pid, process start, instance); opening the state
 * fails only queries whose owner is gone (its pid no longer exists on this host), so the CLI's
 * embedded mode and `eventlake serve` can share one `$EVENTLAKE_HOME`. An owner that cannot be
 * probed (another host, an edge isolate) loses its queries once they are older than the time
 * limit plus 10 minutes. A reused pid is not detected (the query then stays unfinished until
 * the state is opened after that process ends).
 *
 * ## Statistics
 * Measured, never invented: `outputRows`/`outputDataSize` count the CSV the service wrote;
 * `inputRows`, `inputDataSize`, `scannedDataSize` and `isScanned` come from the engine (absent when
 * it does not report them); `queuedTime` is submit → start, `elapsedTime` submit → end (or now),
 * `planningTime` the engine's figure or else the time until `execute` returned the columns,
 * `queryExecutionTime` the engine's figure or else start → end. Formats: see `formatBytes` and
 * `formatDuration`. `queryInfo.queryStats.scannedDataSize` is also given by `get`.
 *
 * ## Embedded default
 * `createQueryService({ statePath: "$EVENTLAKE_HOME/dataquery.sqlite",
 * buckets: createLocalBucketResolver("$EVENTLAKE_HOME/buckets"), … })`: every folder under
 * `buckets/` is a bucket of that name.
 *
 * ## Result files
 * A query with a result set writes, through `@eventlake/storage`, into its bucket:
 * - `<path>/YYYY/MM/DD/<queryId>.csv` — RFC 4180: a header row of column names, CRLF line ends,
 *   UTF-8; a field is quoted when it holds `"`, `,`, CR or LF, or is the empty string; SQL NULL is
 *   the empty UNQUOTED field (so `a,,b` has a NULL and `a,"",b` an empty string).
 * - `<path>/YYYY/MM/DD/<queryId>.metadata` — JSON, {@linkcode ResultMetadata}.
 * The date folder is the query's creation time in UTC. The CSV is streamed (never held whole in
 * memory) and hashed on the way; only the first 1,000 rows are kept, in the state, for pages.
 * Statements without a result set (DDL, SET …) write no files (`isStored: false`). A failed or
 * aborted query leaves no files: what it started writing is deleted.
 *
 * ## Reuse
 * With `reuseConfig: { reuse: true, maxReuseAge }`, a query is answered without running from the
 * newest earlier query that: has the same normalised text (whitespace outside quotes collapsed,
 * trailing `;` dropped) and the same default data source and database; was created by the same
 * user (results may come from PRIVATE data sources, so only the creator's own are reusable);
 * is FINISHED; was created at most `maxReuseAge` minutes ago; still has its CSV; and ran over an
 * unchanged lake. "Unchanged lake" is a conservative rule: when a query starts, the service
 * fingerprints the `_VERSION` token of EVERY table of every DATA_CATALOG source plus a counter that
 * {@linkcode QueryService.tableChanged} bumps, so any import landed since (even during the run)
 * voids every earlier result. MySQL tables are not tracked: over a MYSQL source, `maxReuseAge`
 * alone bounds staleness (as in Athena).
 * A reused query is FINISHED at once with `isScanned: false`, `reuseConfig.reusedFrom` naming the
 * original, the same rows, and the original's files (its `resultConfig` points at them; no new
 * files are written). `expireAt` is `createdAt + maxReuseAge` of the result it serves.
 *
 * ## Visibility
 * Query history is project-wide (every caller may list every query), but a query's rows
 * ({@linkcode QueryService.get}) and abort belong to its creator: another caller gets a
 * `ForbiddenError`. A PRIVATE data source is visible and usable only by its creator.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  AbortedError,
  ConflictError,
  EventlakeError,
  ForbiddenError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  TimeoutError,
  toEventlakeError,
  UnauthenticatedError,
  UnavailableError,
} from "@eventlake/schema";
// Types only: a value import of `@eventlake/storage`'s root would pull its GCS and local
// filesystem stores into the edge entry's graph (the package has no lake-only subpath yet).
import type { LakeTableRef, ObjectStore, SignalOptions } from "@eventlake/storage";
// The lake layout alone: the package root would pull every store into the edge entry's graph.
import { lakeTablePrefix } from "@eventlake/storage/lake";
import type {
  ColumnInfo,
  EngineDataSource,
  EngineResult,
  EngineStats,
  MysqlInstance,
  QueryEngine,
} from "./engine.ts";
import type { BucketResolver, ResolvedBucket } from "./buckets.ts";
import { formatBytes, formatDuration } from "./format.ts";
import { parseCreateDataSourceRequest, parseSubmitRequest } from "./request.ts";
import { csvRecord, csvRecords } from "./_csv.ts";
import {
  decryptSecret,
  deriveKey,
  encryptSecret,
  hashSecret,
  randomAlphanumeric,
  secretMatches,
} from "./_secrets.ts";
import type {
  DataSourceRecord,
  HistorySortField,
  QueryRecord,
  QueryState,
  QueryStateStore,
  StoredStats,
} from "./state.ts";
import { StateStore } from "./_state.ts";
import { hostname } from "node:os";
import process from "node:process";

export * from "./state.ts";
export * from "./buckets.ts";
export * from "./request.ts";
export * from "./format.ts";
export type * from "./engine.ts";

/** Who is calling: the name of the credential's creator (an email in the Open API's examples). */
export interface Identity {
  /** Creator name; queries and data sources are owned by it. */
  name: string;
  /** The credential used, when known. */
  credentialId?: string;
}

/** Rows per page of {@linkcode QueryService.get}. */
export const PAGE_SIZE = 100;
/** Rows kept for pages (pages 0–9). */
export const MAX_PAGED_ROWS = 1_000;
/** Default per-query time limit: 30 minutes, as the reference service. */
export const DEFAULT_TIME_LIMIT_MS = 30 * 60_000;
/** Names of the DATA_CATALOG sources that always exist. */
export const DEFAULT_DATA_CATALOG = "data_catalog";

/** Options of {@linkcode createQueryService}. */
export interface QueryServiceOptions {
  /** The SQL engine. The service does not close it. */
  engine: QueryEngine;
  /**
   * SQLite file of the state (`:memory:` for a throwaway service). Give this or `state`.
   * `node:sqlite` is loaded only when this is used.
   */
  statePath?: string;
  /**
   * The state, e.g. `createObjectStoreState(bucket)` on an edge runtime or
   * `createMemoryState()`. The service owns it from now on: `close` closes it.
   */
  state?: QueryStateStore;
  /** Resolves `bucketName`s of requests. */
  buckets: BucketResolver;
  /** Key that encrypts stored MySQL passwords (at least 16 bytes; keep it stable). */
  encryptionKey: string | Uint8Array;
  /** MySQL instances data sources may name by `instanceId`. */
  mysqlInstances?: MysqlInstance[];
  /** Queries running at once. Default 4. */
  workers?: number;
  /** Queries waiting at most. Default 100. */
  queueSize?: number;
  /** Per-query running-time limit in ms. Default 30 minutes. */
  timeLimitMs?: number;
  /** The lake (for DATA_CATALOG names and table versions that void reuse). */
  lakeStore?: ObjectStore;
  /** Key prefix of the lake inside `lakeStore` (`""` or ending in `/`). */
  lakeRoot?: string;
  /** DATA_CATALOG sources besides `data_catalog` and those found in the lake. */
  dataCatalogs?: string[];
  /** Milliseconds since the epoch; injectable for tests. Default `Date.now`. */
  clock?: () => number;
}

/** Options of {@linkcode QueryService.submit}. */
export interface SubmitOptions extends SignalOptions {
  /** Default data source (the `X-Data-Source` header). */
  dataSource?: string;
  /** Default database (the `X-Database` header). */
  database?: string;
}

/** The answer of "run a query". */
export interface SubmitResponse {
  /** The new query. `state` is QUEUED, or FINISHED when a reused result answered it. */
  queryInfo: { queryId: string; state: QueryState };
}

/** `queryInfo.queryStats` of "query result". Sizes and durations formatted as the Open API. */
export interface QueryStats {
  /** 0–100. */
  progressPercentage: number;
  /** Rows read, when the engine reports it. */
  inputRows?: number;
  /** Bytes read, when the engine reports it. */
  inputDataSize?: string;
  /** Result rows (all of them, not only the paged 1,000). */
  outputRows: number;
  /** Bytes of the result CSV. */
  outputDataSize: string;
  /** Bytes scanned in storage. */
  scannedDataSize: string;
  /** Submission time, ms since the epoch. */
  createdAt: number;
  /** When the result was stored (or the query ended), ms since the epoch. */
  completedAt?: number;
  /** Execution time (engine's figure, else measured run time). */
  queryExecutionTime?: string;
  /** Submission to end (or to now while it runs). */
  elapsedTime: string;
  /** Submission to start (or to now while it waits). */
  queuedTime: string;
  /** Planning time (engine's figure, else the time until the engine returned the columns). */
  planningTime?: string;
}

/** One column of `columnData`. */
export interface ColumnData {
  /** Column name. */
  name: string;
  /** 1-based position. */
  index: number;
  /** Engine type name. */
  type: string;
}

/** The answer of "query result" (`GET /v1/data-query/query/{id}?page=`). */
export interface QueryResultResponse {
  /** The query. */
  queryInfo: {
    queryId: string;
    state: QueryState;
    queryStats: QueryStats;
    /** The first 300 characters of the query. */
    queryTextPreview: string;
    /** Whether the engine scanned data (false for reused results and constant queries). */
    isScanned: boolean;
    /** Why a FAILED (or ABORTED) query ended; absent otherwise. Not in the Open API's example. */
    errorMessage?: string;
  };
  /** Where the result is. */
  resultConfig: {
    bucketName: string;
    /** `<path>/YYYY/MM/DD`. */
    path: string;
    /** `<bucketName>/<path>/YYYY/MM/DD`. */
    storageUrl: string;
    /** Always `BASIC` (a table). */
    storeType: "BASIC" | "TEXT";
    /** Whether result files exist. */
    isStored: boolean;
  };
  /** Reuse. */
  reuseConfig: {
    reuse: boolean;
    /** When the result stops being reusable, ms since the epoch (reuse only). */
    expireAt?: number;
    /** The query whose result answered this one (reused results only). */
    reusedFrom?: string;
  };
  /** Result columns (FINISHED queries with a result set). */
  columnData: ColumnData[];
  /** The page's rows, values as strings, null kept. */
  queryData: (string | null)[][];
  /** Pages of the kept rows (at most 10). */
  totalPages: number;
  /** Kept rows (at most 1,000; `outputRows` has the full count). */
  totalElements: number;
  /** This page (0-based). */
  number: number;
  /** Page size (100). */
  size: number;
  /** Rows on this page. */
  numberOfElements: number;
}

/** Filters of {@linkcode QueryService.list}, as query-string values or typed. */
export interface HistoryFilters {
  /** Part of a query id. */
  queryId?: string;
  /** Exact creator name. */
  creatorName?: string;
  /** States (repeatable; a comma-separated string works too). */
  states?: string | string[];
  /** Page, from 0. Default 0. */
  page?: number | string;
  /** Page size, 1–1000. Default 20. */
  size?: number | string;
  /** `field,asc|desc` over queryId, queryTextPreview, state, createdAt, elapsedTime, inputDataSize, creatorName, storageUrl. Default `createdAt,desc`. */
  sort?: string;
}

/** One entry of the history. */
export interface QuerySummary {
  /** The query. */
  queryInfo: {
    queryId: string;
    state: QueryState;
    queryStats: { scannedDataSize: string; createdAt: number; elapsedTime: string };
    queryTextPreview: string;
    isScanned: boolean;
  };
  /** Where its result is. */
  resultConfig: { storageUrl: string };
  /** Whether reuse was requested. */
  reuseConfig: { reuse: boolean };
  /** Who ran it. */
  creatorName: string;
}

/** Sort state in the Spring-style page. */
export interface SortInfo {
  /** A sort was requested. */
  sorted: boolean;
  /** No sort was requested. */
  unsorted: boolean;
  /** Same as `unsorted`. */
  empty: boolean;
}

/** The page shape of "query list" (Spring Data's `Page`). */
export interface Page<T> {
  /** The entries. */
  content: T[];
  /** Paging request. */
  pageable: {
    pageNumber: number;
    pageSize: number;
    sort: SortInfo;
    offset: number;
    unpaged: boolean;
    paged: boolean;
  };
  /** Pages in total. */
  totalPages: number;
  /** Entries in total. */
  totalElements: number;
  /** This is the last page. */
  last: boolean;
  /** This is the first page. */
  first: boolean;
  /** Entries on this page. */
  numberOfElements: number;
  /** Page size. */
  size: number;
  /** This page (0-based). */
  number: number;
  /** Sort state. */
  sort: SortInfo;
  /** No entries on this page. */
  empty: boolean;
}

/** One entry of "data source list". */
export interface DataSourceView {
  /** `NONE` for DATA_CATALOG, else PRIVATE or PUBLIC. */
  scope: "NONE" | "PRIVATE" | "PUBLIC";
  /** Creator, `-` for DATA_CATALOG. */
  creatorName: string;
  /** Source type. */
  type: "DATA_CATALOG" | "MYSQL";
  /** Description, when one was given. */
  description?: string;
  /** Source name. */
  name: string;
}

/** A new credential; the secret is shown only here. */
export interface NewCredential {
  /** Public id (the `Credential-ID` header). */
  credentialId: string;
  /** Secret (the `Credential-Secret` header); stored only as a digest. */
  credentialSecret: string;
}

/** A stored credential, without its secret. */
export interface CredentialView {
  /** Public id. */
  credentialId: string;
  /** Creator name of the identity it authenticates. */
  name: string;
  /** Creation time, ms since the epoch. */
  createdAt: number;
  /** Whether it was revoked. */
  revoked: boolean;
  /** Revocation time, when revoked. */
  revokedAt?: number;
}

/**
 * The `<queryId>.metadata` JSON file written beside each result CSV (`version` 1).
 * Sizes and times are raw numbers (bytes, ms, ms since the epoch).
 */
export interface ResultMetadata {
  /** Format version: 1. */
  version: 1;
  /** The query. */
  queryId: string;
  /** First 300 characters of the query text. */
  queryTextPreview: string;
  /** Default data source and database it ran with, when given. */
  dataSource: string | null;
  /** Default database, when given. */
  database: string | null;
  /** Who ran it. */
  creatorName: string;
  /** Submission time. */
  createdAt: number;
  /** When the CSV was complete. */
  completedAt: number;
  /** The CSV file. */
  csv: {
    /** Key of the CSV relative to the bucket. */
    key: string;
    /** Bytes of the CSV, header included. */
    bytes: number;
    /** SHA-256 of the CSV bytes, lowercase hex. */
    sha256: string;
    /** Data rows (header excluded). */
    rows: number;
    /** Always true: the first record names the columns. */
    header: true;
    /** Always `utf-8`. */
    encoding: "utf-8";
    /** Always `CRLF`. */
    lineEnding: "CRLF";
    /** How NULL is written: the empty unquoted field. */
    null: "empty-unquoted";
  };
  /** Result columns. */
  columns: ColumnData[];
  /** Measured statistics. */
  stats: {
    inputRows: number | null;
    inputBytes: number | null;
    scannedBytes: number | null;
    outputRows: number;
    outputBytes: number;
    queuedMs: number;
    planningMs: number | null;
    executionMs: number | null;
    elapsedMs: number;
  };
  /**
   * The original query when this result was reused: a reused query writes only its own
   * `.metadata` beside the original's files, and `csv` names the original's CSV.
   */
  reusedFrom: string | null;
}

/** The Data Query service. Every method that waits takes a `signal` where it helps. */
export interface QueryService {
  /** Validates a "run a query" body, checks the bucket, then queues the query (or reuses a result). */
  submit(identity: Identity, body: unknown, options?: SubmitOptions): Promise<SubmitResponse>;
  /** A query's state, statistics and one page (0–9) of its first 1,000 rows. */
  get(
    identity: Identity,
    queryId: string,
    options?: { page?: number | string },
  ): Promise<QueryResultResponse>;
  /** Query history, filtered, sorted and paged. */
  list(identity: Identity, filters?: HistoryFilters): Promise<Page<QuerySummary>>;
  /** Aborts a QUEUED or RUNNING query of the caller; an ended one is a `ConflictError`. */
  abort(identity: Identity, queryId: string): Promise<void>;
  /** Resolves when the query has ended (FINISHED, FAILED or ABORTED); returns its state. */
  settled(queryId: string, options?: SignalOptions): Promise<QueryState>;
  /** DATA_CATALOG sources and the MYSQL sources visible to the caller. */
  listDataSources(identity: Identity, options?: SignalOptions): Promise<DataSourceView[]>;
  /** Creates a MYSQL source after a connection test. */
  createDataSource(
    identity: Identity,
    body: unknown,
    options?: SignalOptions,
  ): Promise<DataSourceView>;
  /** Deletes a MYSQL source of the caller. */
  deleteDataSource(identity: Identity, name: string): Promise<void>;
  /** Creates a credential for `name`; the secret is returned only here. */
  createCredential(name: string): Promise<NewCredential>;
  /** Every credential, without secrets. */
  listCredentials(): Promise<CredentialView[]>;
  /** Revokes a credential. */
  revokeCredential(credentialId: string): Promise<void>;
  /** The identity of a credential, or `UnauthenticatedError`. */
  authenticate(credentialId: string, credentialSecret: string): Promise<Identity>;
  /** Tells the service (and the engine) that a lake table changed: voids reusable results. */
  tableChanged(ref: LakeTableRef): void;
  /** Stops: `drain` lets queued and running queries finish; otherwise they end FAILED. */
  close(options?: { drain?: boolean }): Promise<void>;
}

const NAME_RE = /^[a-z0-9_]{1,72}$/;
// deno-lint-ignore no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const STATES: readonly QueryState[] = ["QUEUED", "RUNNING", "FINISHED", "FAILED", "ABORTED"];
const ENDED: ReadonlySet<QueryState> = new Set(["FINISHED", "FAILED", "ABORTED"]);
const SORT_FIELDS: ReadonlySet<string> = new Set<HistorySortField>([
  "queryId",
  "queryTextPreview",
  "state",
  "createdAt",
  "elapsedTime",
  "inputDataSize",
  "creatorName",
  "storageUrl",
]);
const LAKE_GENERATION = "lake_generation";

/** A QUEUED/RUNNING query of an unprobeable owner is failed this long after its time limit. */
const FOREIGN_OWNER_GRACE_MS = 10 * 60_000;

/** The service instance that owns QUEUED and RUNNING queries. */
interface Owner {
  host: string;
  pid: number;
  /** When this process started (epoch ms): tells a reused pid from the original process. */
  start: number;
  /** Tells services of one process apart. */
  instance: string;
  /** JSON of the above, stored with each query. */
  token: string;
}

function thisOwner(): Owner {
  let host = "unknown";
  try {
    host = hostname();
  } catch {
    // some runtimes do not expose a host name
  }
  const pid = typeof process.pid === "number" ? process.pid : 0;
  const start = Math.round(performance.timeOrigin);
  const instance = crypto.randomUUID();
  return { host, pid, start, instance, token: JSON.stringify({ host, pid, start, instance }) };
}

function parseOwner(token: string | null): Omit<Owner, "token"> | undefined {
  if (token === null) return undefined;
  try {
    const o = JSON.parse(token) as Omit<Owner, "token">;
    if (typeof o.host === "string" && Number.isInteger(o.pid) && typeof o.start === "number") {
      return o;
    }
  } catch {
    // not a token this build wrote
  }
  return undefined;
}

/**
 * What can be told about the owner recorded on a query. `"gone"`: none recorded (an older build),
 * this process's pid with another start time (a reused pid), or a pid on this host that no
 * longer exists. `"alive"`: this process, or a pid on this host that exists. `"unknown"`: another
 * host, or a runtime that cannot probe processes (edge isolates).
 */
function ownerLiveness(token: string | null, self: Owner): "gone" | "alive" | "unknown" {
  const o = parseOwner(token);
  if (o === undefined) return "gone";
  if (o.host !== self.host || o.pid <= 0 || self.pid <= 0) return "unknown";
  if (o.pid === self.pid) return Math.abs(o.start - self.start) > 1 ? "gone" : "alive";
  try {
    process.kill(o.pid, 0);
    return "alive";
  } catch (e) {
    const code = (e as { code?: string }).code;
    return code === "ESRCH" ? "gone" : code === "EPERM" ? "alive" : "unknown";
  }
}

/** Why a running query is being stopped. */
type StopReason = "abort" | "timeout" | "shutdown";

interface Live {
  stats: EngineStats;
  outputRows: number;
  outputBytes: number;
}

interface Running {
  controller: AbortController;
  reason?: StopReason;
  live: Live;
  done: Promise<void>;
}

/** Collapses whitespace outside quotes and drops trailing `;`, for the reuse key. */
export function normalizeQueryText(sql: string): string {
  let out = "";
  let quote: string | null = null;
  let pendingSpace = false;
  for (const ch of sql) {
    if (quote !== null) {
      out += ch;
      if (ch === quote) quote = null;
      continue;
    }
    if (/\s/.test(ch)) {
      pendingSpace = true;
      continue;
    }
    if (pendingSpace && out !== "") out += " ";
    pendingSpace = false;
    if (ch === "'" || ch === '"' || ch === "`") quote = ch;
    out += ch;
  }
  return out.replace(/[\s;]+$/, "");
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function dateFolder(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
}

function newQueryId(ms: number): string {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  return `${date}-${time}-${randomAlphanumeric(10)}`;
}

function checkHeaderName(what: string, value: string | undefined): string | null {
  if (value === undefined || value === "") return null;
  if (value.length > 128 || CONTROL_RE.test(value)) {
    throw new InvalidArgumentError(
      `Invalid ${what} "${
        value.slice(0, 128).replace(CONTROL_RE, "?")
      }": use at most 128 printable characters`,
    );
  }
  return value;
}

function checkIdentity(identity: Identity): void {
  if (!identity || typeof identity.name !== "string" || identity.name === "") {
    throw new UnauthenticatedError("Missing identity: authenticate the caller first");
  }
}

/** Rejects with an `AbortedError` as soon as `signal` aborts; leaves `promise` to settle alone. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function intParam(
  what: string,
  value: number | string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined || value === "") return fallback;
  const n = typeof value === "number" ? value : /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(
      `Invalid ${what} "${String(value).slice(0, 40)}": expected an integer from ${min} to ${max}`,
    );
  }
  return n;
}

/**
 * Opens the query service over its state (`statePath`: SQLite; or `state`: any
 * {@linkcode QueryStateStore}). Queries that were QUEUED or RUNNING when the process that ran
 * them died are marked FAILED with a reason; those of a live process are left alone.
 *
 * @example
 * ```ts
 * import { createQueryService, createStaticBucketResolver } from "@eventlake/dataquery";
 * import type { QueryEngine } from "@eventlake/dataquery";
 * const engine: QueryEngine = {
 *   name: "none",
 *   execute: () => Promise.reject(new Error("no engine")),
 *   testDataSource: () => Promise.resolve(),
 *   tableChanged: () => {},
 *   close: () => Promise.resolve(),
 * };
 * const service = createQueryService({
 *   engine,
 *   statePath: ":memory:",
 *   buckets: createStaticBucketResolver({}),
 *   encryptionKey: "0123456789abcdef0123456789abcdef",
 * });
 * const { credentialId, credentialSecret } = await service.createCredential("me@example.com");
 * const me = await service.authenticate(credentialId, credentialSecret);
 * console.log(me.name); // "me@example.com"
 * await service.close();
 * ```
 */
export function createQueryService(options: QueryServiceOptions): QueryService {
  return new Service(options);
}

class Service implements QueryService {
  readonly #engine: QueryEngine;
  readonly #state: QueryStateStore;
  readonly #owner: Owner = thisOwner();
  readonly #buckets: BucketResolver;
  readonly #key: Uint8Array;
  readonly #instances: Map<string, MysqlInstance>;
  readonly #workers: number;
  readonly #queueSize: number;
  readonly #timeLimitMs: number;
  readonly #lakeStore?: ObjectStore;
  readonly #lakeRoot: string;
  readonly #catalogs: string[];
  readonly #clock: () => number;
  readonly #queue: string[] = [];
  readonly #running = new Map<string, Running>();
  readonly #waiters = new Map<string, (() => void)[]>();
  readonly #background = new Set<Promise<unknown>>();
  /** Bucket folders proven writable recently: key → expiry (performance.now() ms). */
  readonly #probed = new Map<string, number>();
  #generation = 0;
  #sources: DataSourceRecord[] | undefined;
  #closing = false;
  #closed = false;
  #idle: (() => void) | undefined;

  constructor(o: QueryServiceOptions) {
    this.#engine = o.engine;
    this.#buckets = o.buckets;
    this.#key = deriveKey(o.encryptionKey);
    this.#instances = new Map((o.mysqlInstances ?? []).map((i) => [i.instanceId, i]));
    this.#workers = o.workers ?? 4;
    this.#queueSize = o.queueSize ?? 100;
    this.#timeLimitMs = o.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
    if (!Number.isInteger(this.#workers) || this.#workers < 1) {
      throw new RangeError(`Invalid workers "${o.workers}": expected an integer >= 1`);
    }
    if (!Number.isInteger(this.#queueSize) || this.#queueSize < 0) {
      throw new RangeError(`Invalid queueSize "${o.queueSize}": expected an integer >= 0`);
    }
    if (!(this.#timeLimitMs > 0)) {
      throw new RangeError(`Invalid timeLimitMs "${o.timeLimitMs}": expected a number > 0`);
    }
    this.#lakeStore = o.lakeStore;
    this.#lakeRoot = o.lakeRoot ?? "";
    this.#catalogs = [DEFAULT_DATA_CATALOG, ...(o.dataCatalogs ?? [])];
    for (const name of this.#catalogs) {
      if (!NAME_RE.test(name)) throw new RangeError(`Invalid DATA_CATALOG name "${name}"`);
    }
    this.#clock = o.clock ?? Date.now;
    if ((o.state === undefined) === (o.statePath === undefined)) {
      throw new TypeError("Invalid query service options: give exactly one of statePath and state");
    }
    this.#state = o.state ?? new StateStore(o.statePath!);
    this.#generation = Number(this.#state.getSetting(LAKE_GENERATION) ?? "0");
    this.#recover();
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Fails the QUEUED and RUNNING queries whose owner is gone (see {@linkcode ownerLiveness}); those
   * of a live process sharing the state (the CLI's embedded mode beside `eventlake serve`) are
   * left to it.
   */
  #recover(): void {
    const now = this.#clock();
    const stale = this.#state.queryIdsInStates(["QUEUED", "RUNNING"]);
    const partial: QueryRecord[] = [];
    const liveness = new Map<string, "gone" | "alive" | "unknown">();
    this.#state.transaction(() => {
      for (const id of stale) {
        const q = this.#state.getQuery(id)!;
        const key = q.owner ?? "";
        let state = liveness.get(key);
        if (state === undefined) liveness.set(key, state = ownerLiveness(q.owner, this.#owner));
        // An owner that cannot be probed (another host, an edge isolate) loses its queries once
        // they are older than its time limit could let them run (plus a generous grace).
        const gone = state === "gone" || (state === "unknown" &&
          now - (q.startedAt ?? q.createdAt) > this.#timeLimitMs + FOREIGN_OWNER_GRACE_MS);
        if (!gone) continue;
        const was = q.state;
        q.state = "FAILED";
        q.errorMessage = `The service stopped while the query was ${was}: submit it again`;
        q.completedAt = now;
        this.#state.updateQuery(q);
        if (was === "RUNNING") partial.push(q);
      }
    });
    // A process that died mid-write may have left a partial CSV: remove it, best effort.
    for (const q of partial) this.#track(this.#deleteResultFiles(q).catch(() => {}));
  }

  #track(p: Promise<unknown>): void {
    this.#background.add(p);
    p.finally(() => this.#background.delete(p));
  }

  async submit(
    identity: Identity,
    body: unknown,
    options: SubmitOptions = {},
  ): Promise<SubmitResponse> {
    checkIdentity(identity);
    this.#checkNotClosed();
    this.#checkOpen();
    const request = parseSubmitRequest(body);
    const dataSource = checkHeaderName("data source", options.dataSource);
    const database = checkHeaderName("database", options.database);
    if (dataSource !== null) await this.#checkVisibleSource(identity, dataSource, options);
    const { bucketName, path } = request.resultConfig;
    const bucket = await this.#resolveBucket(bucketName, options);
    const createdAt = this.#clock();
    const resultPath = `${path}/${dateFolder(createdAt)}`;
    await this.#probeBucket(bucketName, bucket, resultPath, options);

    const reuseKey = createHash("sha256")
      .update(JSON.stringify([normalizeQueryText(request.query), dataSource, database]))
      .digest("hex");
    const { reuse, maxReuseAge } = request.reuseConfig;
    const record: QueryRecord = {
      queryId: "",
      creatorName: identity.name,
      queryText: request.query,
      preview: request.query.slice(0, 300),
      reuseKey,
      dataSource,
      database,
      state: "QUEUED",
      errorMessage: null,
      bucketName,
      resultPath,
      storageUrl: `${bucketName}/${resultPath}`,
      csvKey: null,
      reuse,
      maxReuseAge: maxReuseAge ?? null,
      expireAt: reuse && maxReuseAge ? createdAt + maxReuseAge * 60_000 : null,
      reusedFrom: null,
      lakeFingerprint: null,
      createdAt,
      startedAt: null,
      completedAt: null,
      inputBytes: null,
      stats: {},
      isScanned: false,
      isStored: false,
      columns: null,
      rows: null,
      owner: this.#owner.token,
    };

    if (reuse && maxReuseAge) {
      const source = await this.#findReusable(record, maxReuseAge, options);
      this.#checkOpen();
      if (source) {
        const now = this.#clock();
        Object.assign(
          record,
          {
            state: "FINISHED",
            bucketName: source.bucketName,
            resultPath: source.resultPath,
            storageUrl: source.storageUrl,
            csvKey: source.csvKey,
            expireAt: source.createdAt + maxReuseAge * 60_000,
            reusedFrom: source.queryId,
            lakeFingerprint: source.lakeFingerprint,
            startedAt: now,
            completedAt: now,
            stats: { outputRows: source.stats.outputRows, outputBytes: source.stats.outputBytes },
            isScanned: false,
            isStored: source.isStored,
            columns: source.columns,
            rows: source.rows,
          } satisfies Partial<QueryRecord>,
        );
        this.#insertWithNewId(record);
        await this.#writeReuseMetadata(record, source, options);
        return { queryInfo: { queryId: record.queryId, state: "FINISHED" } };
      }
    }

    // Checked right before the (synchronous) insert so concurrent submits cannot overfill.
    this.#checkOpen();
    if (this.#queue.length >= this.#queueSize) {
      throw new ResourceExhaustedError(
        `Too many queries: ${this.#queue.length} are queued; retry later`,
        { details: { queued: this.#queue.length, queueSize: this.#queueSize } },
      );
    }
    this.#insertWithNewId(record);
    this.#queue.push(record.queryId);
    this.#pump();
    return { queryInfo: { queryId: record.queryId, state: "QUEUED" } };
  }

  /**
   * Writes `<queryId>.metadata` for a reused result beside the original's files: the same CSV
   * (`csv.key` names the original's), this query's id, creator and times, and `reusedFrom`.
   * Best effort: the reused answer stands even if the bucket refuses the small file.
   */
  async #writeReuseMetadata(
    record: QueryRecord,
    source: QueryRecord,
    options: SignalOptions,
  ): Promise<void> {
    try {
      const bucket = await this.#buckets.resolve(source.bucketName);
      if (!bucket || !source.isStored) return;
      const prefix = bucket.prefix ?? "";
      const original = JSON.parse(
        new TextDecoder().decode(
          await bucket.store.read(`${prefix}${source.resultPath}/${source.queryId}.metadata`, {
            signal: options.signal,
          }),
        ),
      ) as ResultMetadata;
      const metadata: ResultMetadata = {
        ...original,
        queryId: record.queryId,
        queryTextPreview: record.preview,
        creatorName: record.creatorName,
        createdAt: record.createdAt,
        completedAt: record.completedAt ?? record.createdAt,
        reusedFrom: source.queryId,
      };
      await bucket.store.write(
        `${prefix}${source.resultPath}/${record.queryId}.metadata`,
        new TextEncoder().encode(JSON.stringify(metadata, null, 2) + "\n"),
        { signal: options.signal, contentType: "application/json" },
      );
    } catch {
      // The original's files answer the reused query; a missing extra .metadata loses nothing.
    }
  }

  #insertWithNewId(record: QueryRecord): void {
    for (let attempt = 0; attempt < 5; attempt++) {
      record.queryId = newQueryId(record.createdAt);
      if (this.#state.insertQuery(record)) return;
    }
    throw new InternalError("Cannot allocate a unique query id");
  }

  #checkNotClosed(): void {
    if (this.#closed) throw new UnavailableError("The query service is closed");
  }

  #checkOpen(): void {
    if (this.#closing) {
      throw new UnavailableError("The query service is shutting down: retry on another instance");
    }
  }

  async #resolveBucket(name: string, options: SignalOptions): Promise<ResolvedBucket> {
    const bucket = await this.#buckets.resolve(name, options);
    if (!bucket) {
      throw new NotFoundError(`Cannot find bucket "${name}"`, { details: { bucketName: name } });
    }
    return bucket;
  }

  /**
   * Writes and deletes a probe object: the seed answers 499 at submit time, not at run time.
   * A folder that passed stays trusted for a minute (a durable local write costs an fsync); a
   * permission lost within that minute makes the query FAILED with the reason instead.
   */
  async #probeBucket(
    name: string,
    bucket: ResolvedBucket,
    resultPath: string,
    options: SignalOptions,
  ): Promise<void> {
    const cacheKey = `${name}\0${resultPath}`;
    if ((this.#probed.get(cacheKey) ?? 0) > performance.now()) return;
    const key = `${bucket.prefix ?? ""}${resultPath}/.eventlake-probe-${randomAlphanumeric(12)}`;
    try {
      await bucket.store.write(key, new Uint8Array(0), { signal: options.signal });
      await bucket.store.delete(key, { signal: options.signal });
      if (this.#probed.size >= 10_000) this.#probed.clear();
      this.#probed.set(cacheKey, performance.now() + 60_000);
    } catch (e) {
      if (e instanceof EventlakeError && e.code === "PERMISSION_DENIED") {
        throw new PermissionDeniedError(
          `No permission on bucket "${name}": the service cannot write "${resultPath}/"`,
          { cause: e, details: { bucketName: name } },
        );
      }
      throw e;
    }
  }

  #pump(): void {
    while (this.#running.size < this.#workers && this.#queue.length > 0) {
      const id = this.#queue.shift()!;
      const controller = new AbortController();
      const live: Live = { stats: {}, outputRows: 0, outputBytes: 0 };
      const handle: Running = { controller, live, done: Promise.resolve() };
      this.#running.set(id, handle);
      handle.done = this.#run(id, handle).catch((e) => {
        // #run handles every failure; reaching here is a bug, logged and survived.
        console.error(`Query "${id}" failed unexpectedly:`, e);
      }).finally(() => {
        this.#running.delete(id);
        this.#notify(id);
        this.#pump();
        if (this.#running.size === 0 && this.#queue.length === 0) this.#idle?.();
      });
    }
  }

  async #run(id: string, handle: Running): Promise<void> {
    const q = this.#state.getQuery(id);
    if (!q || q.state !== "QUEUED") return;
    const { signal } = handle.controller;
    q.state = "RUNNING";
    q.startedAt = this.#clock();
    this.#state.setRunning(id, q.startedAt);
    const timer = setTimeout(() => {
      handle.reason ??= "timeout";
      handle.controller.abort(
        new TimeoutError(`Query exceeded the time limit of ${formatDuration(this.#timeLimitMs)}`),
      );
    }, this.#timeLimitMs);
    const files: { bucket?: ResolvedBucket; keys: string[] } = { keys: [] };
    try {
      // A lake that cannot be read now only makes this result unreusable, not the query fail.
      q.lakeFingerprint = await raceAbort(
        this.#lakeFingerprint({ signal }).catch(() => null),
        signal,
      );
      const bucket = await raceAbort(this.#resolveBucket(q.bucketName, { signal }), signal);
      files.bucket = bucket;
      const dataSources = await raceAbort(this.#engineSources(q.creatorName, { signal }), signal);
      const executeStarted = this.#clock();
      const executing = this.#engine.execute(q.queryText, {
        dataSource: q.dataSource ?? undefined,
        database: q.database ?? undefined,
        dataSources,
        signal,
        onProgress: (stats) => Object.assign(handle.live.stats, stats),
      });
      // An engine that answers after the abort still gets its row stream closed.
      signal.addEventListener("abort", () => {
        executing.then((late) => late.rows[Symbol.asyncIterator]().return?.()).catch(() => {});
      }, { once: true });
      const result = await raceAbort(executing, signal);
      const measuredPlanningMs = this.#clock() - executeStarted;
      if (result.columns === null) {
        // Drain whatever the engine yields (nothing, for DDL) so it can finish its statement.
        for await (const _ of result.rows) {
          if (signal.aborted) throw signal.reason;
        }
      } else {
        await this.#storeResult(q, bucket, result, result.columns, handle, files, signal);
      }
      const engineStats = { ...handle.live.stats, ...result.stats() };
      if (signal.aborted) throw signal.reason;
      const completedAt = this.#clock();
      q.state = "FINISHED";
      q.completedAt = completedAt;
      q.stats = {
        ...engineStats,
        planningMs: engineStats.planningMs ?? measuredPlanningMs,
        executionMs: engineStats.executionMs ?? completedAt - executeStarted,
        progressPercentage: 100,
        outputRows: handle.live.outputRows,
        outputBytes: handle.live.outputBytes,
      };
      q.inputBytes = engineStats.inputBytes ?? null;
      q.isScanned = (engineStats.scannedBytes ?? 0) > 0 || (engineStats.inputBytes ?? 0) > 0;
      q.isStored = result.columns !== null;
      q.columns = result.columns;
      this.#state.updateQuery(q);
    } catch (error) {
      const reason = handle.reason;
      await this.#deleteKeys(files).catch(() => {});
      const latest = this.#state.getQuery(id) ?? q;
      latest.completedAt ??= this.#clock();
      latest.stats = {
        ...latest.stats,
        ...handle.live.stats,
        outputRows: 0,
        outputBytes: 0,
      };
      latest.inputBytes = handle.live.stats.inputBytes ?? null;
      latest.isStored = false;
      latest.csvKey = null;
      latest.rows = null;
      latest.columns = null;
      if (reason === "abort") {
        latest.state = "ABORTED";
        latest.errorMessage ??= "Query was aborted by its creator";
      } else if (reason === "timeout") {
        latest.state = "FAILED";
        latest.errorMessage = `Query exceeded the time limit of ${
          formatDuration(this.#timeLimitMs)
        }`;
      } else if (reason === "shutdown") {
        latest.state = "FAILED";
        latest.errorMessage = "The service stopped while the query was RUNNING: submit it again";
      } else {
        latest.state = "FAILED";
        latest.errorMessage = toEventlakeError(error).message || "Query failed";
      }
      this.#state.updateQuery(latest);
    } finally {
      clearTimeout(timer);
    }
  }

  async #storeResult(
    q: QueryRecord,
    bucket: ResolvedBucket,
    result: EngineResult,
    columns: ColumnInfo[],
    handle: Running,
    files: { keys: string[] },
    signal: AbortSignal,
  ): Promise<void> {
    const prefix = bucket.prefix ?? "";
    const csvKey = `${q.resultPath}/${q.queryId}.csv`;
    const metadataKey = `${q.resultPath}/${q.queryId}.metadata`;
    const encoder = new TextEncoder();
    const hash = createHash("sha256");
    const kept: (string | null)[][] = [];
    const iterator = result.rows[Symbol.asyncIterator]();
    const width = columns.length;
    let headerSent = false;
    let failure: unknown;
    const live = handle.live;
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          let text = "";
          if (!headerSent) {
            headerSent = true;
            text = csvRecord(columns.map((c) => c.name));
          } else {
            while (text === "") {
              const next = await raceAbort(iterator.next(), signal);
              if (next.done) {
                controller.close();
                return;
              }
              const batch = next.value;
              for (const row of batch) {
                if (row.length !== width) {
                  throw new InternalError(
                    `Engine "${this.#engine.name}" returned a row of ${row.length} values for ${width} columns`,
                  );
                }
              }
              if (kept.length < MAX_PAGED_ROWS) {
                for (const row of batch.slice(0, MAX_PAGED_ROWS - kept.length)) kept.push(row);
              }
              live.outputRows += batch.length;
              text = csvRecords(batch);
            }
          }
          const chunk = encoder.encode(text);
          hash.update(chunk);
          live.outputBytes += chunk.length;
          controller.enqueue(chunk);
        } catch (e) {
          failure ??= e;
          iterator.return?.()?.catch?.(() => {});
          throw e;
        }
      },
      cancel: async () => {
        await iterator.return?.();
      },
    }, { highWaterMark: 0 });
    files.keys.push(csvKey);
    try {
      await bucket.store.write(`${prefix}${csvKey}`, body, {
        signal,
        contentType: "text/csv; charset=utf-8",
      });
    } catch (e) {
      throw signal.aborted ? signal.reason : failure ?? e;
    }
    if (signal.aborted) throw signal.reason;
    const completedAt = this.#clock();
    const stats = { ...live.stats, ...result.stats() };
    const metadata: ResultMetadata = {
      version: 1,
      queryId: q.queryId,
      queryTextPreview: q.preview,
      dataSource: q.dataSource,
      database: q.database,
      creatorName: q.creatorName,
      createdAt: q.createdAt,
      completedAt,
      csv: {
        key: csvKey,
        bytes: live.outputBytes,
        sha256: hash.digest("hex"),
        rows: live.outputRows,
        header: true,
        encoding: "utf-8",
        lineEnding: "CRLF",
        null: "empty-unquoted",
      },
      columns: columns.map((c, i) => ({ name: c.name, index: i + 1, type: c.type })),
      stats: {
        inputRows: stats.inputRows ?? null,
        inputBytes: stats.inputBytes ?? null,
        scannedBytes: stats.scannedBytes ?? null,
        outputRows: live.outputRows,
        outputBytes: live.outputBytes,
        queuedMs: (q.startedAt ?? q.createdAt) - q.createdAt,
        planningMs: stats.planningMs ?? null,
        executionMs: stats.executionMs ?? null,
        elapsedMs: completedAt - q.createdAt,
      },
      reusedFrom: null,
    };
    files.keys.push(metadataKey);
    await bucket.store.write(
      `${prefix}${metadataKey}`,
      encoder.encode(JSON.stringify(metadata, null, 2) + "\n"),
      { signal, contentType: "application/json" },
    );
    q.csvKey = csvKey;
    q.rows = kept;
  }

  async #deleteKeys(files: { bucket?: ResolvedBucket; keys: string[] }): Promise<void> {
    if (!files.bucket) return;
    for (const key of files.keys) {
      await files.bucket.store.delete(`${files.bucket.prefix ?? ""}${key}`);
    }
  }

  async #deleteResultFiles(q: QueryRecord): Promise<void> {
    const bucket = await this.#buckets.resolve(q.bucketName);
    if (!bucket) return;
    await this.#deleteKeys({
      bucket,
      keys: [`${q.resultPath}/${q.queryId}.csv`, `${q.resultPath}/${q.queryId}.metadata`],
    });
  }

  #notify(id: string): void {
    const waiters = this.#waiters.get(id);
    if (!waiters) return;
    this.#waiters.delete(id);
    for (const wake of waiters) wake();
  }

  async settled(queryId: string, options: SignalOptions = {}): Promise<QueryState> {
    for (;;) {
      this.#checkNotClosed();
      const q = this.#state.getQuery(queryId);
      if (!q) throw new NotFoundError(`Cannot find query "${queryId}"`, { details: { queryId } });
      if (ENDED.has(q.state)) return q.state;
      if (options.signal?.aborted) {
        throw new AbortedError(`Stopped waiting for query "${queryId}"`, {
          cause: options.signal.reason,
        });
      }
      await new Promise<void>((resolve) => {
        const list = this.#waiters.get(queryId) ?? [];
        const onAbort = () => resolve();
        options.signal?.addEventListener("abort", onAbort, { once: true });
        list.push(() => {
          options.signal?.removeEventListener("abort", onAbort);
          resolve();
        });
        this.#waiters.set(queryId, list);
      });
    }
  }

  async abort(identity: Identity, queryId: string): Promise<void> {
    checkIdentity(identity);
    this.#checkNotClosed();
    const q = this.#requireQuery(queryId);
    if (q.creatorName !== identity.name) {
      throw new ForbiddenError(`Cannot abort query "${queryId}": only its creator may abort it`, {
        details: { queryId },
      });
    }
    if (ENDED.has(q.state)) {
      throw new ConflictError(
        `Cannot abort query "${queryId}": it has already ended as ${q.state}`,
        {
          details: { queryId, state: q.state },
        },
      );
    }
    const queued = this.#queue.indexOf(queryId);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      q.state = "ABORTED";
      q.completedAt = this.#clock();
      q.errorMessage = "Query was aborted by its creator";
      this.#state.updateQuery(q);
      this.#notify(queryId);
      if (this.#running.size === 0 && this.#queue.length === 0) this.#idle?.();
      return;
    }
    const running = this.#running.get(queryId);
    if (!running) {
      // A QUEUED record with no queue entry: its worker is just starting; treat as running.
      throw new ConflictError(`Cannot abort query "${queryId}": it is changing state; retry`);
    }
    running.reason ??= "abort";
    running.controller.abort(new AbortedError(`Query "${queryId}" was aborted by its creator`));
    // The engine call is raced against the signal, so the worker frees promptly; cleanup of
    // partial files is awaited (bounded) so the caller sees a settled query.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      running.done,
      new Promise<void>((resolve) => timer = setTimeout(resolve, 10_000)),
    ]);
    clearTimeout(timer);
  }

  // ---------------------------------------------------------------- reads

  #requireQuery(queryId: string): QueryRecord {
    if (typeof queryId !== "string" || queryId === "" || queryId.length > 100) {
      throw new InvalidArgumentError(`Invalid query id "${String(queryId).slice(0, 100)}"`);
    }
    const q = this.#state.getQuery(queryId);
    if (!q) throw new NotFoundError(`Cannot find query "${queryId}"`, { details: { queryId } });
    return q;
  }

  #queryStats(q: QueryRecord): QueryStats {
    const now = this.#clock();
    const running = this.#running.get(q.queryId);
    const stats: StoredStats = running
      ? {
        ...q.stats,
        ...running.live.stats,
        outputRows: running.live.outputRows,
        outputBytes: running.live.outputBytes,
      }
      : q.stats;
    const end = q.completedAt ?? now;
    const out: QueryStats = {
      progressPercentage: q.state === "FINISHED"
        ? 100
        : Math.max(0, Math.min(100, Math.round(stats.progressPercentage ?? 0))),
      outputRows: stats.outputRows ?? 0,
      outputDataSize: formatBytes(stats.outputBytes ?? 0),
      scannedDataSize: formatBytes(q.reusedFrom ? 0 : stats.scannedBytes ?? 0),
      createdAt: q.createdAt,
      elapsedTime: formatDuration(Math.max(0, end - q.createdAt)),
      queuedTime: formatDuration(Math.max(0, (q.startedAt ?? end) - q.createdAt)),
    };
    if (stats.inputRows !== undefined) out.inputRows = stats.inputRows;
    if (stats.inputBytes !== undefined) out.inputDataSize = formatBytes(stats.inputBytes);
    if (q.completedAt !== null) out.completedAt = q.completedAt;
    if (stats.executionMs !== undefined) {
      out.queryExecutionTime = formatDuration(stats.executionMs);
    } else if (q.startedAt !== null) {
      out.queryExecutionTime = formatDuration(Math.max(0, end - q.startedAt));
    }
    if (stats.planningMs !== undefined) out.planningTime = formatDuration(stats.planningMs);
    // Keep the Open API's key order: inputs, outputs, times.
    const ordered: Partial<QueryStats> = {};
    for (
      const key of [
        "progressPercentage",
        "inputRows",
        "inputDataSize",
        "outputRows",
        "outputDataSize",
        "scannedDataSize",
        "createdAt",
        "completedAt",
        "queryExecutionTime",
        "elapsedTime",
        "queuedTime",
        "planningTime",
      ] as const
    ) {
      if (out[key] !== undefined) (ordered as Record<string, unknown>)[key] = out[key];
    }
    return ordered as QueryStats;
  }

  get(
    identity: Identity,
    queryId: string,
    options: { page?: number | string } = {},
  ): Promise<QueryResultResponse> {
    try {
      checkIdentity(identity);
      this.#checkNotClosed();
      const page = intParam("page", options.page, 0, 0, MAX_PAGED_ROWS / PAGE_SIZE - 1);
      const q = this.#requireQuery(queryId);
      if (q.creatorName !== identity.name) {
        throw new ForbiddenError(
          `Cannot read query "${queryId}": only its creator may read its result`,
          { details: { queryId } },
        );
      }
      const rows = q.state === "FINISHED" ? q.rows ?? [] : [];
      const pageRows = rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
      const queryInfo: QueryResultResponse["queryInfo"] = {
        queryId: q.queryId,
        state: q.state,
        queryStats: this.#queryStats(q),
        queryTextPreview: q.preview,
        isScanned: q.isScanned,
      };
      if (q.errorMessage !== null) queryInfo.errorMessage = q.errorMessage;
      const reuseConfig: QueryResultResponse["reuseConfig"] = { reuse: q.reuse };
      if (q.expireAt !== null) reuseConfig.expireAt = q.expireAt;
      if (q.reusedFrom !== null) reuseConfig.reusedFrom = q.reusedFrom;
      return Promise.resolve({
        queryInfo,
        resultConfig: {
          bucketName: q.bucketName,
          path: q.resultPath,
          storageUrl: q.storageUrl,
          storeType: "BASIC",
          isStored: q.isStored,
        },
        reuseConfig,
        columnData: q.state === "FINISHED"
          ? (q.columns ?? []).map((c, i) => ({ name: c.name, index: i + 1, type: c.type }))
          : [],
        queryData: pageRows,
        totalPages: Math.ceil(rows.length / PAGE_SIZE),
        totalElements: rows.length,
        number: page,
        size: PAGE_SIZE,
        numberOfElements: pageRows.length,
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  list(identity: Identity, filters: HistoryFilters = {}): Promise<Page<QuerySummary>> {
    try {
      checkIdentity(identity);
      this.#checkNotClosed();
      const page = intParam("page", filters.page, 0, 0, 1_000_000);
      const size = intParam("size", filters.size, 20, 1, 1000);
      const rawStates = filters.states === undefined
        ? []
        : (Array.isArray(filters.states) ? filters.states : [filters.states])
          .flatMap((s) => String(s).split(","))
          .map((s) => s.trim())
          .filter((s) => s !== "");
      for (const s of rawStates) {
        if (!STATES.includes(s as QueryState)) {
          throw new InvalidArgumentError(
            `Invalid state "${s.slice(0, 40)}": expected one of ${STATES.join(", ")}`,
          );
        }
      }
      let orderBy: HistorySortField = "createdAt";
      let descending = true;
      const sorted = filters.sort !== undefined && filters.sort !== "";
      if (sorted) {
        const [field, direction = "asc", ...rest] = filters.sort!.split(",").map((s) => s.trim());
        if (!SORT_FIELDS.has(field)) {
          throw new InvalidArgumentError(
            `Invalid sort field "${field.slice(0, 40)}": expected one of ${
              [...SORT_FIELDS].join(", ")
            }`,
          );
        }
        if (rest.length > 0 || !["asc", "desc"].includes(direction.toLowerCase())) {
          throw new InvalidArgumentError(
            `Invalid sort "${filters.sort!.slice(0, 60)}": expected "field,asc" or "field,desc"`,
          );
        }
        orderBy = field as HistorySortField;
        descending = direction.toLowerCase() === "desc";
      }
      const { total, records } = this.#state.history({
        queryId: filters.queryId || undefined,
        creatorName: filters.creatorName || undefined,
        states: rawStates as QueryState[],
        orderBy,
        descending,
        limit: size,
        offset: page * size,
        now: this.#clock(),
      });
      const sort: SortInfo = { sorted, unsorted: !sorted, empty: !sorted };
      const totalPages = Math.ceil(total / size);
      const content = records.map((q): QuerySummary => {
        const stats = this.#queryStats(q);
        return {
          queryInfo: {
            queryId: q.queryId,
            state: q.state,
            queryStats: {
              scannedDataSize: stats.scannedDataSize,
              createdAt: q.createdAt,
              elapsedTime: stats.elapsedTime,
            },
            queryTextPreview: q.preview,
            isScanned: q.isScanned,
          },
          resultConfig: { storageUrl: q.storageUrl },
          reuseConfig: { reuse: q.reuse },
          creatorName: q.creatorName,
        };
      });
      return Promise.resolve({
        content,
        pageable: {
          pageNumber: page,
          pageSize: size,
          sort,
          offset: page * size,
          unpaged: false,
          paged: true,
        },
        totalPages,
        totalElements: total,
        last: page >= totalPages - 1,
        numberOfElements: content.length,
        size,
        number: page,
        sort,
        first: page === 0,
        empty: content.length === 0,
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // ---------------------------------------------------------------- reuse and the lake

  async #findReusable(
    record: QueryRecord,
    maxReuseAge: number,
    options: SignalOptions,
  ): Promise<QueryRecord | undefined> {
    const since = record.createdAt - maxReuseAge * 60_000;
    const candidates = this.#state.reuseCandidates(record, since);
    if (candidates.length === 0) return undefined;
    // Reuse is an optimisation: a lake or bucket that cannot be read now means "run it".
    const fingerprint = await this.#lakeFingerprint(options).catch(() => null);
    if (fingerprint === null) return undefined;
    for (const c of candidates) {
      if (c.lakeFingerprint !== fingerprint) continue;
      if (c.isStored && c.csvKey !== null) {
        const key = c.csvKey;
        const bucket = await this.#buckets.resolve(c.bucketName, options).catch(() => undefined);
        const present = bucket
          ? await bucket.store.exists(`${bucket.prefix ?? ""}${key}`, options).catch(() => false)
          : false;
        if (!present) continue;
      }
      return c.reusedFrom ? this.#state.getQuery(c.reusedFrom) ?? c : c;
    }
    return undefined;
  }

  /** DATA_CATALOG names: configured ones plus the top-level folders of the lake. */
  async #catalogNames(options: SignalOptions): Promise<string[]> {
    const names = new Set(this.#catalogs);
    if (this.#lakeStore) {
      for await (const name of this.#childNames(this.#lakeRoot, options)) names.add(name);
    }
    return [...names].sort();
  }

  async *#childNames(prefix: string, options: SignalOptions): AsyncIterable<string> {
    const store = this.#lakeStore!;
    for await (const entry of store.list(prefix, { delimiter: "/", signal: options.signal })) {
      if (entry.kind !== "prefix") continue;
      const name = entry.prefix.slice(prefix.length).replace(/\/$/, "");
      if (NAME_RE.test(name)) yield name;
    }
  }

  /**
   * A digest of every lake table's `_VERSION` token and of the in-process change counter.
   * Conservative on purpose: a change to any table voids every reusable result.
   */
  async #lakeFingerprint(options: SignalOptions): Promise<string> {
    const parts: string[] = [`generation=${this.#generation}`];
    if (this.#lakeStore) {
      for (const dataSource of await this.#catalogNames(options)) {
        for await (const database of this.#childNames(`${this.#lakeRoot}${dataSource}/`, options)) {
          const dbPrefix = `${this.#lakeRoot}${dataSource}/${database}/`;
          for await (const table of this.#childNames(dbPrefix, options)) {
            const ref = { dataSource, database, table };
            const token = await this.#tableToken(ref, options);
            parts.push(`${dataSource}.${database}.${table}=${token}`);
          }
        }
      }
    }
    return createHash("sha256").update(parts.join("\n")).digest("hex");
  }

  /** A table's `_VERSION` token; an unreadable file counts by its etag and size instead. */
  async #tableToken(ref: LakeTableRef, options: SignalOptions): Promise<string> {
    const store = this.#lakeStore!;
    try {
      const key = `${this.#lakeRoot}${lakeTablePrefix(ref)}_VERSION`;
      if (!(await store.exists(key, options))) return "-";
      const version = JSON.parse(new TextDecoder().decode(await store.read(key, options))) as {
        token?: unknown;
      };
      if (typeof version.token !== "string") throw new TypeError("no token");
      return `token:${version.token}`;
    } catch (e) {
      if (e instanceof EventlakeError && e.code !== "INVALID_ARGUMENT") throw e;
      const key = `${this.#lakeRoot}${ref.dataSource}/${ref.database}/${ref.table}/_VERSION`;
      const info = await store.head(key, options);
      return `unreadable:${info.etag ?? ""}:${info.size}:${info.lastModified?.getTime() ?? ""}`;
    }
  }

  tableChanged(ref: LakeTableRef): void {
    lakeTablePrefix(ref); // InvalidArgumentError on a malformed reference
    this.#checkNotClosed();
    this.#generation++;
    this.#state.setSetting(LAKE_GENERATION, String(this.#generation));
    this.#engine.tableChanged(ref);
  }

  // ---------------------------------------------------------------- data sources

  async #engineSources(creatorName: string, options: SignalOptions): Promise<EngineDataSource[]> {
    const sources: EngineDataSource[] = (await this.#catalogNames(options)).map((name) => ({
      type: "DATA_CATALOG",
      name,
    }));
    for (const d of this.#dataSources()) {
      if (d.scope === "PRIVATE" && d.creatorName !== creatorName) continue;
      const instance = this.#instances.get(d.instanceId);
      if (!instance) continue;
      sources.push({
        type: "MYSQL",
        name: d.name,
        instance,
        user: d.mysqlUser,
        password: decryptSecret(this.#key, d.passwordSealed),
      });
    }
    return sources;
  }

  /** The MYSQL sources (cached; this process is the only writer of its state). */
  #dataSources(): DataSourceRecord[] {
    return this.#sources ??= this.#state.listDataSources();
  }

  async #checkVisibleSource(
    identity: Identity,
    name: string,
    options: SignalOptions,
  ): Promise<void> {
    const visible = (await this.#catalogNames(options)).includes(name) ||
      this.#dataSources().some((d) =>
        d.name === name && (d.scope === "PUBLIC" || d.creatorName === identity.name)
      );
    if (!visible && this.#dataSources().some((d) => d.name === name)) {
      // The Open API answers 403 for another user's PRIVATE source.
      throw new ForbiddenError(
        `Cannot use data source "${name}": it is PRIVATE to its creator`,
        { details: { dataSource: name } },
      );
    }
    if (!visible) {
      throw new InvalidArgumentError(
        `Invalid data source "${name}": no data source of that name is visible to "${identity.name}"`,
        { details: { dataSource: name } },
      );
    }
  }

  async listDataSources(
    identity: Identity,
    options: SignalOptions = {},
  ): Promise<DataSourceView[]> {
    checkIdentity(identity);
    this.#checkNotClosed();
    const views: DataSourceView[] = (await this.#catalogNames(options)).map((name) => ({
      scope: "NONE",
      creatorName: "-",
      type: "DATA_CATALOG",
      name,
    }));
    for (const d of this.#dataSources()) {
      if (d.scope === "PRIVATE" && d.creatorName !== identity.name) continue;
      const view: DataSourceView = {
        scope: d.scope,
        creatorName: d.creatorName,
        type: "MYSQL",
        name: d.name,
      };
      if (d.description !== null) view.description = d.description;
      views.push(view);
    }
    return views.map(({ scope, creatorName, type, description, name }) =>
      description === undefined
        ? { scope, creatorName, type, name }
        : { scope, creatorName, type, description, name }
    );
  }

  async createDataSource(
    identity: Identity,
    body: unknown,
    options: SignalOptions = {},
  ): Promise<DataSourceView> {
    checkIdentity(identity);
    this.#checkNotClosed();
    const request = parseCreateDataSourceRequest(body);
    const instance = this.#instances.get(request.instanceId);
    if (!instance) {
      throw new InvalidArgumentError(
        `Invalid data source request: "instanceId" names no registered MySQL instance: "${request.instanceId}"`,
        { details: { field: "instanceId" } },
      );
    }
    // The Open API's example sends base64 of "admin\n" for "admin" (`echo admin | base64`):
    // one trailing line break is dropped.
    const password = new TextDecoder().decode(
      Uint8Array.from(atob(request.mysqlPassword), (c) => c.charCodeAt(0)),
    ).replace(/\r?\n$/, "");
    const duplicate = () =>
      new ConflictError(`Cannot create data source "${request.name}": the name is taken`, {
        details: { name: request.name },
      });
    if ((await this.#catalogNames(options)).includes(request.name)) throw duplicate();
    if (this.#dataSources().some((d) => d.name === request.name)) throw duplicate();
    try {
      await this.#engine.testDataSource({
        type: "MYSQL",
        name: request.name,
        instance,
        user: request.mysqlUser,
        password,
      }, { signal: options.signal });
    } catch (e) {
      const error = toEventlakeError(e);
      const message =
        `Cannot connect data source "${request.name}" to MySQL instance "${instance.instanceId}" as "${request.mysqlUser}": ${error.message}`;
      // A refused login is a bad request here, not the caller's own authentication failing.
      if (["UNAUTHENTICATED", "FORBIDDEN", "PERMISSION_DENIED", "INTERNAL"].includes(error.code)) {
        throw new InvalidArgumentError(message, { cause: e, details: { name: request.name } });
      }
      throw new EventlakeError(error.code, message, { cause: e, details: { name: request.name } });
    }
    this.#sources = undefined;
    const inserted = this.#state.insertDataSource({
      name: request.name,
      scope: request.scope,
      description: request.description ?? null,
      creatorName: identity.name,
      instanceId: request.instanceId,
      mysqlUser: request.mysqlUser,
      passwordSealed: encryptSecret(this.#key, password),
      createdAt: this.#clock(),
    });
    if (!inserted) throw duplicate();
    const view: DataSourceView = {
      scope: request.scope,
      creatorName: identity.name,
      type: "MYSQL",
      name: request.name,
    };
    if (request.description !== undefined) view.description = request.description;
    return view;
  }

  async deleteDataSource(identity: Identity, name: string): Promise<void> {
    checkIdentity(identity);
    this.#checkNotClosed();
    if (typeof name !== "string" || !NAME_RE.test(name)) {
      throw new InvalidArgumentError(
        `Invalid data source name "${
          String(name).slice(0, 80)
        }": use lowercase letters, digits or underscores`,
      );
    }
    const source = this.#dataSources().find((d) => d.name === name);
    if (!source) {
      if ((await this.#catalogNames({})).includes(name)) {
        throw new ConflictError(
          `Cannot delete data source "${name}": DATA_CATALOG sources belong to the lake`,
          { details: { name } },
        );
      }
      throw new NotFoundError(`Cannot find data source "${name}"`, { details: { name } });
    }
    if (source.creatorName !== identity.name) {
      throw new ForbiddenError(
        `Cannot delete data source "${name}": only its creator may delete it`,
        { details: { name } },
      );
    }
    this.#sources = undefined;
    this.#state.deleteDataSource(name);
  }

  // ---------------------------------------------------------------- credentials

  createCredential(name: string): Promise<NewCredential> {
    if (this.#closed) return Promise.reject(new UnavailableError("The query service is closed"));
    if (
      typeof name !== "string" || name.trim() === "" || name.length > 200 || CONTROL_RE.test(name)
    ) {
      return Promise.reject(
        new InvalidArgumentError(
          `Invalid credential name "${
            String(name).slice(0, 200).replace(CONTROL_RE, "?")
          }": use 1-200 printable characters`,
        ),
      );
    }
    const credentialId = randomAlphanumeric(24);
    const credentialSecret = randomAlphanumeric(40);
    this.#state.insertCredential({
      credentialId,
      name,
      secretHash: hashSecret(credentialSecret),
      createdAt: this.#clock(),
      revokedAt: null,
    });
    return Promise.resolve({ credentialId, credentialSecret });
  }

  listCredentials(): Promise<CredentialView[]> {
    if (this.#closed) return Promise.reject(new UnavailableError("The query service is closed"));
    return Promise.resolve(
      this.#state.listCredentials().map((c) => {
        const view: CredentialView = {
          credentialId: c.credentialId,
          name: c.name,
          createdAt: c.createdAt,
          revoked: c.revokedAt !== null,
        };
        if (c.revokedAt !== null) view.revokedAt = c.revokedAt;
        return view;
      }),
    );
  }

  revokeCredential(credentialId: string): Promise<void> {
    if (this.#closed) return Promise.reject(new UnavailableError("The query service is closed"));
    if (!this.#state.revokeCredential(String(credentialId), this.#clock())) {
      return Promise.reject(
        new NotFoundError(`Cannot find credential "${String(credentialId).slice(0, 80)}"`),
      );
    }
    return Promise.resolve();
  }

  authenticate(credentialId: string, credentialSecret: string): Promise<Identity> {
    if (this.#closed) return Promise.reject(new UnavailableError("The query service is closed"));
    const fail = () => Promise.reject(new UnauthenticatedError("Invalid credential"));
    if (
      typeof credentialId !== "string" || typeof credentialSecret !== "string" ||
      credentialId === "" || credentialSecret === "" || credentialId.length > 100
    ) {
      return fail();
    }
    const c = this.#state.getCredential(credentialId);
    // Compare against a dummy digest when the id is unknown, so timing does not tell ids apart.
    const matches = secretMatches(credentialSecret, c?.secretHash ?? "0".repeat(64));
    if (!c || c.revokedAt !== null || !matches) return fail();
    return Promise.resolve({ name: c.name, credentialId: c.credentialId });
  }

  // ---------------------------------------------------------------- shutdown

  async close(options: { drain?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closing = true;
    if (options.drain) {
      if (this.#running.size > 0 || this.#queue.length > 0) {
        await new Promise<void>((resolve) => this.#idle = resolve);
      }
    } else {
      const now = this.#clock();
      this.#state.transaction(() => {
        for (const id of this.#queue.splice(0)) {
          const q = this.#state.getQuery(id);
          if (!q) continue;
          q.state = "FAILED";
          q.completedAt = now;
          q.errorMessage = "The service stopped before the query ran: submit it again";
          this.#state.updateQuery(q);
        }
      });
      for (const handle of this.#running.values()) {
        handle.reason ??= "shutdown";
        handle.controller.abort(new UnavailableError("The query service is shutting down"));
      }
      await Promise.all([...this.#running.values()].map((r) => r.done));
    }
    await Promise.allSettled([...this.#background]);
    this.#closed = true;
    for (const id of [...this.#waiters.keys()]) this.#notify(id);
    await this.#state.close();
  }
}

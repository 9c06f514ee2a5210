/**
 * The Data Query API as the client commands see it ({@linkcode QueryBackend}), and its remote
 * form: a small HTTP client of the Open API for `--endpoint` mode. The embedded form (the
 * service in this process) is in `_embedded.ts`.
 *
 * ## Every row of a result
 * The API pages at most 1,000 rows. {@linkcode resultRows} reads a FINISHED result from, in
 * order: the stored CSV in the local bucket folder (`resultsDir`) when it is readable here (no
 * network); the API's pages when they hold every row; else, in remote mode, the gateway's
 * full-result download `GET /v1/data-query/query/{id}/result.csv` (creator only), streamed
 * through the CSV parser without holding the file in memory. A server without that route (the
 * edge entry) answers 404 "Cannot find route": then only the local folder can give the rest.
 *
 * Error answers (`{"code","message"}` with a non-2xx status) become the `EventlakeError` of that
 * code, so exit codes follow the one table in `exit_codes.ts`; a server that cannot be reached
 * is `UNAVAILABLE` (exit 6).
 *
 * @module
 */
import {
  AbortedError,
  type ErrorCode,
  EventlakeError,
  InvalidArgumentError,
  UnauthenticatedError,
  UnavailableError,
} from "@eventlake/schema";
import type {
  DataSourceView,
  HistoryFilters,
  Page,
  QueryResultResponse,
  QuerySummary,
  SubmitQueryInput,
  SubmitResponse,
} from "@eventlake/dataquery";

/** Options of calls that wait. */
export interface CallOptions {
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** Options of {@linkcode QueryBackend.submit}. */
export interface BackendSubmitOptions extends CallOptions {
  /** Default data source (X-Data-Source). */
  dataSource?: string;
  /** Default database (X-Database). */
  database?: string;
}

/** The Data Query API, embedded or remote: what the `query`, `queries` and `datasource` commands call. */
export interface QueryBackend {
  /** `embedded` (the service runs in this process) or `remote` (an HTTP endpoint). */
  readonly mode: "embedded" | "remote";
  /** Where queries run, for messages: the endpoint URL or the home folder. */
  readonly where: string;
  /** Runs a query (`POST /v1/data-query/query`). */
  submit(body: SubmitQueryInput, options?: BackendSubmitOptions): Promise<SubmitResponse>;
  /** A query's state and one page of rows (`GET /v1/data-query/query/{id}?page=`). */
  get(queryId: string, options?: CallOptions & { page?: number }): Promise<QueryResultResponse>;
  /** Query history (`GET /v1/data-query/query`). */
  list(filters: HistoryFilters, options?: CallOptions): Promise<Page<QuerySummary>>;
  /** Aborts a query (`PUT /v1/data-query/query/{id}/abort`). */
  abort(queryId: string, options?: CallOptions): Promise<void>;
  /** Resolves once the query ended, calling `onUpdate` with its state as it goes. */
  wait(
    queryId: string,
    options?: CallOptions & { onUpdate?: (result: QueryResultResponse) => Promise<void> | void },
  ): Promise<QueryResultResponse>;
  /**
   * Every row of a FINISHED query in batches: its stored CSV when readable here, else the pages
   * when they hold all, else (remote) the `result.csv` download.
   */
  rows(result: QueryResultResponse, options?: CallOptions): AsyncIterable<(string | null)[][]>;
  /** Data sources (`GET /v1/data-query/data-source`). */
  listDataSources(options?: CallOptions): Promise<DataSourceView[]>;
  /** Creates a MySQL data source (`POST /v1/data-query/data-source`). */
  createDataSource(body: unknown, options?: CallOptions): Promise<DataSourceView>;
  /** Deletes a data source (`DELETE /v1/data-query/data-source/{name}`). */
  deleteDataSource(name: string, options?: CallOptions): Promise<void>;
  /** Releases everything the backend holds. */
  close(): Promise<void>;
}

/** Opens a stored result CSV; `undefined` when the bucket is not readable from here. */
export type ResultCsvOpener = (
  bucketName: string,
  key: string,
  options: CallOptions,
) => Promise<ReadableStream<Uint8Array> | undefined>;

/**
 * Downloads the whole stored result CSV of a query from the server; `undefined` when the server
 * has no download route.
 */
export type ResultCsvDownloader = (
  queryId: string,
  options: CallOptions,
) => Promise<ReadableStream<Uint8Array> | undefined>;

/** Options of {@linkcode createRemoteBackend}. */
export interface RemoteBackendOptions {
  /** `Credential-ID`. */
  credentialId?: string;
  /** `Credential-Secret`. */
  credentialSecret?: string;
  /** The HTTP client (default: global `fetch`). */
  fetch?: typeof fetch;
  /**
   * Reads result CSVs from a local bucket folder when it holds them (no network); otherwise
   * results beyond the API's 1,000 rows are downloaded from the server's `result.csv` route.
   */
  openResultCsv?: ResultCsvOpener;
  /** First poll interval while waiting, ms (default 100; doubles up to 1,000). */
  pollMs?: number;
}

const ENDED = new Set(["FINISHED", "FAILED", "ABORTED"]);
const CODES: ReadonlySet<string> = new Set<ErrorCode>([
  "INVALID_ARGUMENT",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "PRECONDITION_FAILED",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "UNAVAILABLE",
  "TIMEOUT",
  "ABORTED",
  "INTERNAL",
]);

/** The code a status means when the body does not say (a proxy's HTML page, say). */
function codeOfStatus(status: number): ErrorCode {
  if (status === 400) return "INVALID_ARGUMENT";
  if (status === 401) return "UNAUTHENTICATED";
  if (status === 403) return "FORBIDDEN";
  if (status === 404) return "NOT_FOUND";
  if (status === 409) return "CONFLICT";
  if (status === 412) return "PRECONDITION_FAILED";
  if (status === 499) return "PERMISSION_DENIED";
  if (status === 504) return "TIMEOUT";
  if (status === 502 || status === 503) return "UNAVAILABLE";
  return "INTERNAL";
}

/** Waits `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Options of {@linkcode resultRows}. */
export interface ResultRowsOptions extends CallOptions {
  /** Reads another page of the result from the API. */
  getPage: (page: number, options: CallOptions) => Promise<QueryResultResponse>;
  /** Opens the stored CSV (absent or `undefined` answer: not readable from here). */
  open?: ResultCsvOpener;
  /**
   * Downloads the stored CSV from the server (remote mode), used when `open` cannot read it and
   * the pages do not hold every row (absent or `undefined` answer: no such route).
   */
  download?: ResultCsvDownloader;
  /** Where the query ran, for messages. */
  where: string;
}

/**
 * The rows of a result, in batches: the stored CSV when `open` can read it; else the API's
 * pages when they hold every row (`totalElements === outputRows`, at most 1,000); else the CSV
 * that `download` streams from the server. A CSV whose row count differs from the query's
 * `outputRows` is refused (`UNAVAILABLE`).
 *
 * @example
 * ```ts
 * import { resultRows } from "./_client.ts";
 * import type { QueryResultResponse } from "@eventlake/dataquery";
 * const result = {
 *   queryInfo: { queryId: "q1", queryStats: { outputRows: 1 } },
 *   resultConfig: { isStored: true, bucketName: "b", path: "p", storageUrl: "b/p" },
 *   reuseConfig: { reuse: false },
 *   totalElements: 0, totalPages: 0, number: 0, queryData: [],
 * } as unknown as QueryResultResponse;
 * const csv = new TextEncoder().encode("answer\r\n42\r\n");
 * for await (
 *   const rows of resultRows(result, {
 *     getPage: () => Promise.reject(new Error("no pages")),
 *     download: () => Promise.resolve(ReadableStream.from([csv])),
 *     where: "http://gateway.test",
 *   })
 * ) console.log(rows); // [["42"]]
 * ```
 */
export async function* resultRows(
  result: QueryResultResponse,
  options: ResultRowsOptions,
): AsyncGenerator<(string | null)[][]> {
  const { getPage, open, download } = options;
  const { queryInfo, resultConfig, reuseConfig } = result;
  const total = queryInfo.queryStats.outputRows;
  const file = reuseConfig.reusedFrom ?? queryInfo.queryId;
  const pagesHoldAll = result.totalElements >= total;
  if (resultConfig.isStored) {
    let stream: ReadableStream<Uint8Array> | undefined;
    let source = "";
    if (open !== undefined) {
      stream = await open(resultConfig.bucketName, `${resultConfig.path}/${file}.csv`, options);
      source = `the result file "${resultConfig.storageUrl}/${file}.csv"`;
    }
    if (stream === undefined && !pagesHoldAll && download !== undefined) {
      stream = await download(queryInfo.queryId, options);
      source = `the downloaded result of query "${queryInfo.queryId}"`;
    }
    if (stream !== undefined) {
      const { parseCsvBatches } = await import("./_client_csv.ts");
      let header = true;
      let count = 0;
      for await (const batch of parseCsvBatches(stream, options)) {
        const rows = header ? batch.slice(1) : batch;
        header = false;
        count += rows.length;
        if (rows.length > 0) yield rows;
      }
      if (count !== total) {
        throw new UnavailableError(
          `Cannot trust ${source}: it holds ${count} rows, the query reported ${total}`,
        );
      }
      return;
    }
  }
  if (!pagesHoldAll) {
    throw new UnavailableError(
      `Cannot read all ${total} rows of query "${queryInfo.queryId}": the API pages only the ` +
        `first ${result.totalElements} and the result file "${resultConfig.storageUrl}/${file}.csv" ` +
        `is not readable from here${
          download === undefined ? "" : ` (the server at ${options.where} offers no download)`
        }`,
      {
        details: {
          hint: `Point --results-dir at the folder holding bucket "${resultConfig.bucketName}" ` +
            `(as the server at ${options.where} sees it), or add LIMIT to the query`,
        },
      },
    );
  }
  let page = result;
  for (let n = 0; n < Math.max(1, result.totalPages); n++) {
    if (n !== result.number) page = await getPage(n, options);
    if (page.queryData.length > 0) yield page.queryData;
  }
}

class RemoteBackend implements QueryBackend {
  readonly mode = "remote" as const;
  readonly where: string;
  readonly #options: RemoteBackendOptions;
  readonly #fetch: typeof fetch;

  constructor(endpoint: string, options: RemoteBackendOptions) {
    this.where = endpoint.replace(/\/+$/, "");
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
  }

  /** Sends a request with the credential; answers a 2xx response, else throws its error. */
  async #send(
    method: string,
    path: string,
    options: CallOptions & { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const { credentialId, credentialSecret } = this.#options;
    if (!credentialId || !credentialSecret) {
      throw new UnauthenticatedError(
        `Missing credential for ${this.where}: the Credential-ID and Credential-Secret are not configured`,
        {
          details: {
            hint:
              "Set EVENTLAKE_CREDENTIAL_ID and EVENTLAKE_CREDENTIAL_SECRET (or credentialId and " +
              'credentialSecret in config.json); "eventlake credentials create --name <you>" makes one ' +
              "on the server's host",
          },
        },
      );
    }
    const url = `${this.where}${path}`;
    const headers: Record<string, string> = {
      "accept": "application/json",
      "credential-id": credentialId,
      "credential-secret": credentialSecret,
      ...options.headers,
    };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) {
        throw new AbortedError(`Cancelled ${method} ${url}`, { cause: error });
      }
      throw new UnavailableError(
        `Cannot reach the Data Query API at ${this.where}: ${
          error instanceof Error ? error.message : String(error)
        }`,
        {
          cause: error,
          details: { hint: "Check --endpoint (or EVENTLAKE_ENDPOINT) and that the server runs" },
        },
      );
    }
    if (!response.ok) {
      throw errorOfResponse(response, await response.text(), `${method} ${path}`);
    }
    return response;
  }

  async #call<T>(
    method: string,
    path: string,
    options: CallOptions & { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const response = await this.#send(method, path, options);
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new UnavailableError(
        `Cannot read the answer of ${method} ${this.where}${path}: it is not JSON (status ${response.status})`,
        { cause: error },
      );
    }
  }

  /**
   * Streams `GET /v1/data-query/query/{id}/result.csv`; `undefined` when the server has no such
   * route (its 404 says "Cannot find route"). Any other error answer is thrown as its code.
   */
  async #download(
    queryId: string,
    options: CallOptions,
  ): Promise<ReadableStream<Uint8Array> | undefined> {
    const path = `/v1/data-query/query/${encodeURIComponent(queryId)}/result.csv`;
    let response: Response;
    try {
      response = await this.#send("GET", path, {
        ...options,
        headers: { accept: "text/csv, application/json" },
      });
    } catch (error) {
      if (
        error instanceof EventlakeError && error.code === "NOT_FOUND" &&
        /^Cannot find route\b/.test(error.message)
      ) {
        return undefined;
      }
      throw error;
    }
    const type = response.headers.get("content-type") ?? "";
    if (!/^text\/csv\b/i.test(type) || response.body === null) {
      await response.body?.cancel();
      throw new UnavailableError(
        `Cannot read the result download of query "${queryId}" from ${this.where}: expected ` +
          `text/csv, got "${type || "no content type"}" (status ${response.status})`,
      );
    }
    return response.body;
  }

  submit(body: SubmitQueryInput, options: BackendSubmitOptions = {}): Promise<SubmitResponse> {
    const headers: Record<string, string> = {};
    if (options.dataSource) headers["x-data-source"] = options.dataSource;
    if (options.database) headers["x-database"] = options.database;
    return this.#call("POST", "/v1/data-query/query", {
      body,
      headers,
      signal: options.signal,
    });
  }

  get(
    queryId: string,
    options: CallOptions & { page?: number } = {},
  ): Promise<QueryResultResponse> {
    const page = options.page === undefined ? "" : `?page=${options.page}`;
    return this.#call("GET", `/v1/data-query/query/${encodeURIComponent(queryId)}${page}`, options);
  }

  list(filters: HistoryFilters, options: CallOptions = {}): Promise<Page<QuerySummary>> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(filters)) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) params.append(key, String(one));
    }
    const qs = params.size > 0 ? `?${params}` : "";
    return this.#call("GET", `/v1/data-query/query${qs}`, options);
  }

  async abort(queryId: string, options: CallOptions = {}): Promise<void> {
    await this.#call("PUT", `/v1/data-query/query/${encodeURIComponent(queryId)}/abort`, options);
  }

  async wait(
    queryId: string,
    options: CallOptions & { onUpdate?: (result: QueryResultResponse) => Promise<void> | void } =
      {},
  ): Promise<QueryResultResponse> {
    let delay = this.#options.pollMs ?? 100;
    for (;;) {
      const result = await this.get(queryId, options);
      await options.onUpdate?.(result);
      if (ENDED.has(result.queryInfo.state)) return result;
      await sleep(delay, options.signal);
      delay = Math.min(1_000, delay * 2);
    }
  }

  rows(result: QueryResultResponse, options: CallOptions = {}): AsyncIterable<(string | null)[][]> {
    return resultRows(result, {
      ...options,
      getPage: (page, o) => this.get(result.queryInfo.queryId, { ...o, page }),
      open: this.#options.openResultCsv,
      download: (queryId, o) => this.#download(queryId, o),
      where: this.where,
    });
  }

  listDataSources(options: CallOptions = {}): Promise<DataSourceView[]> {
    return this.#call("GET", "/v1/data-query/data-source", options);
  }

  createDataSource(body: unknown, options: CallOptions = {}): Promise<DataSourceView> {
    return this.#call("POST", "/v1/data-query/data-source", { ...options, body });
  }

  async deleteDataSource(name: string, options: CallOptions = {}): Promise<void> {
    await this.#call(
      "DELETE",
      `/v1/data-query/data-source/${encodeURIComponent(name)}`,
      options,
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The `EventlakeError` an error answer stands for. */
function errorOfResponse(response: Response, text: string, what: string): EventlakeError {
  let body: { code?: unknown; message?: unknown; requestId?: unknown } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const code = typeof body?.code === "string" && CODES.has(body.code)
    ? body.code as ErrorCode
    : codeOfStatus(response.status);
  const message = typeof body?.message === "string" && body.message !== ""
    ? body.message
    : `${what} answered ${response.status} ${response.statusText}`.trim();
  const requestId = typeof body?.requestId === "string"
    ? body.requestId
    : response.headers.get("x-request-id") ?? undefined;
  const details: Record<string, unknown> = { status: response.status };
  if (requestId) details.requestId = requestId;
  if (code === "UNAUTHENTICATED") {
    details.hint = "Check EVENTLAKE_CREDENTIAL_ID / EVENTLAKE_CREDENTIAL_SECRET (or config.json)";
  }
  return new EventlakeError(code, message, { details });
}

/**
 * A {@linkcode QueryBackend} over HTTP: the Data Query Open API at `endpoint`.
 *
 * @example
 * ```ts
 * import { createRemoteBackend } from "./_client.ts";
 * const backend = createRemoteBackend("http://127.0.0.1:1", {});
 * await backend.list({}).catch((e) => console.log(e.code)); // "UNAUTHENTICATED"
 * ```
 */
export function createRemoteBackend(
  endpoint: string,
  options: RemoteBackendOptions,
): QueryBackend {
  if (!/^https?:\/\//.test(endpoint)) {
    throw new InvalidArgumentError(`Invalid endpoint "${endpoint}": expected an http(s):// URL`);
  }
  return new RemoteBackend(endpoint, options);
}

/**
 * The Trino engine, for deployments that outgrow one machine; the only file that imports
 * `trino-client`. Free of `Deno.*`, file-system and native modules so the gateway's edge entry
 * can import it.
 *
 * - X-Data-Source is the Trino catalog (`X-Trino-Catalog`), X-Database the schema
 *   (`X-Trino-Schema`); every statement runs as the configured Trino user.
 * - Results are drained by the service itself: the engine follows `nextUri` page by page and yields
 *   each page's rows as they arrive (Trino drops a query whose client stops polling).
 * - Values as strings: Trino's JSON strings as they are (decimals, dates, timestamps), numbers and
 *   booleans through `String()`, arrays/maps/rows as JSON; `null` stays null. Type names are
 *   Trino's (already lowercase). Note: `trino-client` parses JSON with `JSON.parse`, so a `bigint`
 *   beyond 2^53 loses digits; cast it to `varchar` in SQL where that matters.
 * - Statistics from each page's `stats`: `processedRows` → `inputRows`, `processedBytes` →
 *   `inputBytes`, `physicalInputBytes` → `scannedBytes`, `progressPercentage`, and
 *   `elapsedTimeMillis − queuedTimeMillis` → `executionMs`.
 * - Errors: the query's `error` object becomes `InvalidArgumentError` (USER_ERROR),
 *   `ResourceExhaustedError` (INSUFFICIENT_RESOURCES), `UnavailableError` (EXTERNAL),
 *   `TimeoutError` (EXCEEDED_TIME_LIMIT), `AbortedError` (USER_CANCELED) or `InternalError`, with
 *   Trino's message. An abort sends `DELETE <nextUri>` (the protocol's cancel) and stops polling.
 *
 * @module
 */
import { BasicAuth, Trino } from "trino-client";
import type { QueryError, QueryResult, QueryStats } from "trino-client";
import {
  AbortedError,
  EventlakeError,
  InternalError,
  InvalidArgumentError,
  ResourceExhaustedError,
  TimeoutError,
  UnavailableError,
} from "@eventlake/schema";
import type {
  ColumnInfo,
  EngineDataSource,
  EngineResult,
  EngineStats,
  ExecuteContext,
  QueryEngine,
} from "./engine.ts";

/** Options of {@linkcode createTrinoEngine}. */
export interface TrinoEngineOptions {
  /** Coordinator URL, e.g. `http://trino.internal:8080`. */
  server: string;
  /** Trino user every statement runs as. */
  user: string;
  /** Password (HTTP basic authentication; use with https). */
  password?: string;
  /** `X-Trino-Source` (default `eventlake`). */
  source?: string;
  /** Extra headers sent with every request. */
  extraHeaders?: Record<string, string>;
}

/** One table of Trino error types/names to the shared error family. */
export function mapTrinoError(error: QueryError): EventlakeError {
  const message = `${error.errorName}: ${error.message}`;
  const details = { errorName: error.errorName, errorType: error.errorType };
  if (error.errorName === "USER_CANCELED") return new AbortedError(message, { details });
  if (error.errorName === "EXCEEDED_TIME_LIMIT") return new TimeoutError(message, { details });
  switch (error.errorType) {
    case "USER_ERROR":
      return new InvalidArgumentError(message, { details });
    case "INSUFFICIENT_RESOURCES":
      return new ResourceExhaustedError(message, { details });
    case "EXTERNAL":
      return new UnavailableError(message, { details });
    default:
      return new InternalError(message, { details });
  }
}

function mapTransportError(error: unknown, server: string): EventlakeError {
  if (error instanceof EventlakeError) return error;
  const e = error as { response?: { status?: number; data?: unknown }; message?: string };
  const status = e.response?.status;
  const body = typeof e.response?.data === "string" ? `: ${e.response.data.slice(0, 200)}` : "";
  if (status === 401 || status === 403) {
    return new InvalidArgumentError(
      `Trino at "${server}" refused the credentials (${status})${body}`,
      {
        cause: error,
      },
    );
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return new InvalidArgumentError(
      `Trino at "${server}" rejected the request (${status})${body}`,
      {
        cause: error,
      },
    );
  }
  return new UnavailableError(
    `Cannot reach Trino at "${server}": ${status ? `HTTP ${status}` : e.message ?? String(error)}`,
    { cause: error },
  );
}

function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  return JSON.stringify(value);
}

function statsOf(stats: QueryStats | undefined): EngineStats {
  if (!stats) return {};
  const out: EngineStats = {};
  if (typeof stats.processedRows === "number") out.inputRows = stats.processedRows;
  if (typeof stats.processedBytes === "number") out.inputBytes = stats.processedBytes;
  if (typeof stats.physicalInputBytes === "number") out.scannedBytes = stats.physicalInputBytes;
  if (typeof stats.progressPercentage === "number") {
    out.progressPercentage = stats.progressPercentage;
  }
  if (typeof stats.elapsedTimeMillis === "number") {
    out.executionMs = Math.max(0, stats.elapsedTimeMillis - (stats.queuedTimeMillis ?? 0));
  }
  return out;
}

/**
 * Creates the Trino engine.
 *
 * @example
 * ```ts
 * import { createTrinoEngine } from "@eventlake/dataquery";
 * const engine = createTrinoEngine({ server: "http://127.0.0.1:8080", user: "eventlake" });
 * console.log(engine.name); // "trino"
 * await engine.close();
 * ```
 */
export function createTrinoEngine(options: TrinoEngineOptions): TrinoEngine {
  return new TrinoEngine(options);
}

/** A `QueryEngine` over a Trino coordinator; create it with {@linkcode createTrinoEngine}. */
export class TrinoEngine implements QueryEngine {
  /** Always `trino`. */
  readonly name = "trino";
  readonly #options: TrinoEngineOptions;
  #closed = false;

  /** Use {@linkcode createTrinoEngine}. */
  constructor(options: TrinoEngineOptions) {
    this.#options = options;
  }

  #client(catalog?: string, schema?: string): Trino {
    const o = this.#options;
    return Trino.create({
      server: o.server,
      source: o.source ?? "eventlake",
      catalog,
      schema,
      // Basic auth only with a password: a Trino without authentication needs just X-Trino-User.
      auth: o.password === undefined ? undefined : new BasicAuth(o.user, o.password),
      extraHeaders: { "X-Trino-User": o.user, ...o.extraHeaders },
    });
  }

  async #cancel(nextUri: string | undefined): Promise<void> {
    if (!nextUri) return;
    const headers: Record<string, string> = { "X-Trino-User": this.#options.user };
    if (this.#options.password !== undefined) {
      headers.Authorization = `Basic ${btoa(`${this.#options.user}:${this.#options.password}`)}`;
    }
    try {
      const response = await fetch(nextUri, { method: "DELETE", headers });
      await response.body?.cancel();
    } catch {
      // best effort: Trino also drops a query nobody polls
    }
  }

  /** Submits one statement and returns once Trino reports its columns. */
  async execute(sql: string, context: ExecuteContext): Promise<EngineResult> {
    if (this.#closed) throw new UnavailableError("Trino engine is closed");
    const { signal } = context;
    if (signal.aborted) throw new AbortedError("Query was aborted before it started");
    const server = this.#options.server;
    const client = this.#client(context.dataSource, context.database);
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () =>
        reject(
          signal.reason instanceof Error ? signal.reason : new AbortedError("Query was aborted"),
        );
      signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => {});
    // trino-client skips pages without rows internally; its iterator's current page (a runtime
    // field) has the live nextUri that a cancel must DELETE.
    const liveOf = (it: unknown) => {
      const wrapper = it as { iter?: { queryResult?: QueryResult } };
      return wrapper.iter ?? (it as { queryResult?: QueryResult });
    };
    const submitting = client.query(sql);
    let pages: AsyncIterator<QueryResult>;
    try {
      pages = (await Promise.race([submitting, aborted]))[Symbol.asyncIterator]();
    } catch (e) {
      if (signal.aborted) {
        // Aborted while the POST was in flight: cancel the query once Trino has named it.
        submitting.then((it) => this.#cancel(liveOf(it).queryResult?.nextUri)).catch(() => {});
        throw e;
      }
      throw mapTransportError(e, server);
    }
    const live = liveOf(pages);
    let nextUri: string | undefined = live.queryResult?.nextUri;
    const liveNextUri = () => live.queryResult?.nextUri ?? nextUri;
    let stats: EngineStats = { progressPercentage: 0 };
    let done = false;
    const onAbort = () => {
      if (!done) void this.#cancel(liveNextUri());
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const take = async (): Promise<QueryResult | undefined> => {
      let next: IteratorResult<QueryResult>;
      try {
        next = await Promise.race([pages.next(), aborted]);
      } catch (e) {
        if (signal.aborted) throw e;
        throw mapTransportError(e, server);
      }
      const page = next.value as QueryResult | undefined;
      if (page) {
        nextUri = page.nextUri;
        stats = { ...stats, ...statsOf(page.stats) };
        context.onProgress?.({ ...stats });
        if (page.error) {
          done = true;
          throw mapTrinoError(page.error);
        }
      }
      if (next.done || !page?.nextUri) done = true;
      return next.done ? undefined : page;
    };
    // Follow nextUri until the columns are known (or the query ended).
    const buffered: (string | null)[][][] = [];
    let columns: ColumnInfo[] | null = null;
    try {
      while (columns === null && !done) {
        const page = await take();
        if (page?.columns) columns = page.columns.map((c) => ({ name: c.name, type: c.type }));
        if (page?.data?.length) buffered.push(page.data.map((row) => row.map(toText)));
      }
    } catch (e) {
      signal.removeEventListener("abort", onAbort);
      if (!done) void this.#cancel(liveNextUri());
      throw e;
    }
    const rows = async function* (): AsyncGenerator<(string | null)[][]> {
      try {
        for (const batch of buffered.splice(0)) yield batch;
        while (!done) {
          const page = await take();
          if (page?.data?.length) yield page.data.map((row) => row.map(toText));
        }
        stats.progressPercentage = 100;
      } finally {
        signal.removeEventListener("abort", onAbort);
        if (!done) {
          done = true;
          void cancel(liveNextUri());
        }
      }
    };
    const cancel = (uri: string | undefined) => this.#cancel(uri);
    if (columns === null && done) stats.progressPercentage = 100;
    // A generator closed before its first next() never runs its finally: cancel here then.
    const generator = rows();
    let started = false;
    const iterable: AsyncIterable<(string | null)[][]> = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          started = true;
          return generator.next();
        },
        return: (value?: unknown) => {
          if (!started) {
            signal.removeEventListener("abort", onAbort);
            if (!done) {
              done = true;
              void cancel(liveNextUri());
            }
          }
          return generator.return(value as undefined);
        },
      }),
    };
    return { columns, rows: iterable, stats: () => ({ ...stats }) };
  }

  /** Checks that Trino answers `SELECT 1` with the source's name as catalog. */
  async testDataSource(
    source: EngineDataSource,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const controller = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, controller.signal])
      : controller.signal;
    const result = await this.execute("SELECT 1", {
      dataSource: source.name,
      dataSources: [source],
      signal,
    });
    for await (const _ of result.rows) { /* drain */ }
  }

  /** Trino reads the lake through its own connectors: nothing to refresh here. */
  tableChanged(_ref: { dataSource: string; database: string; table: string }): void {}

  /** Marks the engine closed; running statements finish or are aborted by their signals. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}

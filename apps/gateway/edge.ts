/**
 * The edge entry: the same Hono app as `server.ts`, for Deno Deploy-style runtimes (no native
 * modules, no filesystem, no `Deno.*`). Its runtime import graph is checked by `edge_test.ts`.
 *
 * ## What it supports today
 * Everything `createApp` serves — the Data Query Open API, the import API, `/healthz`,
 * `/metrics`, `/openapi.json`, `/docs`, request ids, access logs, limits — over the services
 * passed in: any implementation of {@linkcode QueryApi} (and optionally `ImportApi`) that is
 * itself edge-safe. The OpenAPI document comes from the committed `openapi.json`, so serving it
 * needs no validator library at runtime. Access logs go to `console.log` as JSON lines (the
 * platform's log collector).
 *
 * ## What it does not (yet) wire, and why
 * The Trino + S3 wiring cannot be reached from here without importing a native module:
 * `@eventlake/dataquery` has one entry (`mod.ts`) that also exports the DuckDB engine
 * (`@duckdb/node-api`), and `createQueryService` keeps its state in `node:sqlite` (`_state.ts`).
 * Two changes in `@eventlake/dataquery` unblock it: (1) subpath exports `./trino` (the Trino
 * engine) and `./service` (the service, the request schemas) that do not import `duckdb.ts`;
 * (2) a `QueryStateStore` interface taken by `createQueryService` (queries, credentials, data
 * sources; the SQLite store stays the default), with an edge implementation over Deno KV or an
 * object store. Then the wiring is:
 *
 * ```ts ignore
 * const engine = createTrinoEngine({ server: env.TRINO_URL, user: env.TRINO_USER });
 * const buckets = createStaticBucketResolver({ results: createS3Store({ bucket: env.RESULTS_BUCKET }) });
 * const queryService = createQueryService({ engine, state: kvStateStore(kv), buckets, encryptionKey });
 * export default { fetch: createEdgeApp({ queryService }).fetch };
 * ```
 *
 * @module
 */
import type { Hono } from "hono";
import { type AppDeps, createApp, type GatewayEnv, type QueryApi } from "./app.ts";
import { createJsonLogger } from "./logger.ts";
import type { ImportApi } from "./import_api.ts";

export type { QueryApi } from "./app.ts";
export type { ImportApi } from "./import_api.ts";

/** Options of {@linkcode createEdgeApp}. */
export interface EdgeAppOptions {
  /** An edge-safe Data Query service. */
  queryService: QueryApi;
  /** An edge-safe import service (without it `/v1/data-import` answers 503). */
  importService?: ImportApi;
  /** Limits (body size, page size, caches). */
  limits?: AppDeps["limits"];
  /** Where JSON log lines go (default `console.log`). */
  writeLog?: (text: string) => void;
}

/**
 * Builds the gateway app for an edge runtime. Logs are flushed per batch of 64 lines or
 * after 250 ms, since an edge isolate may be frozen between requests.
 *
 * @example
 * ```ts
 * import { createEdgeApp, type QueryApi } from "./edge.ts";
 * const app = createEdgeApp({ queryService: {} as QueryApi, writeLog: () => {} });
 * console.log((await app.request("/healthz")).status); // 200
 * ```
 */
export function createEdgeApp(options: EdgeAppOptions): Hono<GatewayEnv> {
  const write = options.writeLog ?? ((text: string) => console.log(text.trimEnd()));
  return createApp({
    queryService: options.queryService,
    importService: options.importService,
    limits: options.limits,
    logger: createJsonLogger(write, { batch: 64, maxDelayMs: 250 }),
  });
}

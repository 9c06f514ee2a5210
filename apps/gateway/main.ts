/**
 * The eventlake gateway: the Data Query Open API, the self-service import API, health, metrics,
 * the OpenAPI document and the web console, over HTTP with Hono.
 *
 * - {@linkcode createApp} — the pure Hono app (web-standard only; services injected).
 * - {@linkcode startServer} — the embedded server (DuckDB, SQLite state, folder buckets) with
 *   first-start bootstrap and SIGTERM drain; `eventlake serve` and `deno task start` call it.
 * - {@linkcode createEdgeApp} (in `edge.ts`, imported directly so no native module is loaded) —
 *   the app for edge runtimes.
 *
 * Run: `EVENTLAKE_HOME=… deno run -A apps/gateway/main.ts [--port N]`.
 *
 * @example
 * ```ts
 * import { createApp, type QueryApi } from "./main.ts";
 * const app = createApp({ queryService: {} as QueryApi });
 * console.log((await app.request("/healthz")).status); // 200
 * ```
 *
 * @module
 */
export { type AppDeps, type AppLimits, createApp, type GatewayEnv, type QueryApi } from "./app.ts";
export { STATUS_BY_CODE, toHttpError } from "./errors.ts";
export { createJsonLogger, type Logger } from "./logger.ts";
export { createMetrics, type Metrics } from "./metrics.ts";
export type { ImportApi, ImportJob, ImportRunView } from "./import_api.ts";
export {
  bootstrapMessage,
  type BootstrapResult,
  type RunningServer,
  serveFromCommandLine,
  startServer,
  type StartServerOptions,
} from "./server.ts";

if (import.meta.main) {
  const { serveFromCommandLine } = await import("./server.ts");
  await serveFromCommandLine(Deno.args);
}

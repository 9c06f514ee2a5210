/**
 * The gateway as a pure Hono app: web-standard `Request`/`Response` only. Everything
 * runtime-specific (the query service and its engine, the import service, the log sink, the
 * clock) is injected through {@linkcode AppDeps}; `server.ts` wires the embedded default and
 * `edge.ts` the edge one.
 *
 * Routes (all `/v1` routes need `Credential-ID` and `Credential-Secret`):
 *
 * | method | path | status |
 * | --- | --- | --- |
 * | POST | `/v1/data-query/query` | 202 |
 * | GET | `/v1/data-query/query` | 200 |
 * | GET | `/v1/data-query/query/{query-id}?page=` | 200 |
 * | PUT | `/v1/data-query/query/{query-id}/abort` | 200 |
 * | GET, POST | `/v1/data-query/data-source` | 200 |
 * | DELETE | `/v1/data-query/data-source/{data-source-name}` | 200 |
 * | POST, GET | `/v1/data-import/jobs` | 201, 200 |
 * | GET, DELETE | `/v1/data-import/jobs/{job-id}` | 200 |
 * | POST, GET | `/v1/data-import/jobs/{job-id}/runs` | 202, 200 |
 * | GET | `/v1/data-import/jobs/{job-id}/runs/{run-id}` | 200 |
 * | POST | `/v1/data-import/check` | 200 |
 * | GET | `/healthz`, `/metrics`, `/openapi.json`, `/docs` | 200 |
 *
 * Errors: handlers throw `EventlakeError`s; `errors.ts` holds the one code → status table, and
 * every non-2xx answer is `{"code","message","requestId"[,"field"]}`.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { routePath } from "hono/route";
import {
  InvalidArgumentError,
  NotFoundError,
  UnauthenticatedError,
  UnavailableError,
} from "@eventlake/schema";
import type { Identity, QueryService } from "@eventlake/dataquery";
import { toHttpError } from "./errors.ts";
import { type AccessLogEntry, type Logger, nullLogger } from "./logger.ts";
import { createMetrics, type GaugeValues, type Metrics } from "./metrics.ts";
import { parseInput, readJsonBody } from "./validate.ts";
import {
  CheckSourceSchema,
  CreateImportJobSchema,
  listQueriesParamsSchema,
  PathIdSchema,
  StartImportRunSchema,
} from "./schemas.ts";
import type { ImportApi } from "./import_api.ts";
import { apiReferenceHtml, OPENAPI_DOCUMENT } from "./openapi_document.ts";

/** The query-service methods the gateway calls. */
export type QueryApi = Pick<
  QueryService,
  | "submit"
  | "get"
  | "list"
  | "abort"
  | "listDataSources"
  | "createDataSource"
  | "deleteDataSource"
  | "authenticate"
>;

/** Limits the gateway enforces. */
export interface AppLimits {
  /** Largest request body, bytes (default 2 MiB). */
  maxBodyBytes?: number;
  /** Largest `size` of "list queries" (default 1000). */
  maxPageSize?: number;
  /** Finished-query pages kept in memory (default 4096; 0 disables the cache). */
  pageCacheEntries?: number;
  /** Bytes of finished-query pages kept in memory (default 64 MiB). */
  pageCacheBytes?: number;
  /** How long a verified credential is trusted without asking the service, ms (default 5,000). */
  credentialCacheMs?: number;
}

/** Everything the app needs, injected. */
export interface AppDeps {
  /** The Data Query service. */
  queryService: QueryApi;
  /** The import service; without it `/v1/data-import` answers 503. */
  importService?: ImportApi;
  /** Access and error logs (default: none). */
  logger?: Logger;
  /** Metrics registry (default: a fresh one). */
  metrics?: Metrics;
  /** The clock, epoch ms (default `Date.now`). */
  clock?: () => number;
  /** Limits. */
  limits?: AppLimits;
  /** Gauges for `/metrics` (default: counted through the query service). */
  gauges?: () => GaugeValues | Promise<GaugeValues>;
  /** True while the server drains: new work is refused with 503 and `/healthz` says so. */
  isDraining?: () => boolean;
  /**
   * The web console sub-app (apps/gateway/console, another engineer's), mounted at `/` with
   * `app.route("/", console)`. MOUNT POINT: pass `createConsoleApp(deps)` here once it exists.
   */
  console?: Hono;
}

/** Per-request values set by the middleware. */
export type GatewayEnv = {
  Variables: { requestId: string; identity: Identity };
};

const REQUEST_ID_RE = /^[\w.:-]{1,128}$/;
const JSON_HEADERS: HeadersInit = [["content-type", "application/json; charset=utf-8"]];
const ENDED = new Set(["FINISHED", "FAILED", "ABORTED"]);
const METRICS_IDENTITY: Identity = { name: "-metrics" };

/**
 * Deno's `Response.clone()` of a response whose body is bytes shares those bytes, while
 * `new Response(bytes)` copies them on every call: for a 55 kB page, ~2 µs against ~40 µs and
 * 55 kB of garbage per request. The Fetch standard's clone tees the body stream instead, and
 * cloning one response over and over would chain tees, so elsewhere pages are built from the
 * bytes each time.
 */
const CLONE_SHARES_BODY = typeof navigator !== "undefined" &&
  typeof navigator.userAgent === "string" && navigator.userAgent.startsWith("Deno/");

/**
 * A page of an ended query: a response never sent itself, only cloned (where cloning shares
 * the body), or the encoded bytes.
 */
interface CachedPage {
  owner: string;
  etag: string;
  /** Encoded size of the page: the cache's weight. */
  bytes: number;
  template?: Response;
  body?: Uint8Array<ArrayBuffer>;
}

/** A small LRU on a Map (insertion order = recency), bounded by entries and by total weight. */
class Lru<V> {
  readonly #map = new Map<string, V>();
  #weight = 0;
  constructor(
    readonly capacity: number,
    readonly maxWeight: number = Infinity,
    readonly weigh: (value: V) => number = () => 0,
  ) {}
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    const weight = this.weigh(value);
    if (this.capacity <= 0 || weight > this.maxWeight) return;
    this.delete(key);
    this.#map.set(key, value);
    this.#weight += weight;
    while (this.#map.size > this.capacity || this.#weight > this.maxWeight) {
      this.delete(this.#map.keys().next().value!);
    }
  }
  delete(key: string): void {
    const old = this.#map.get(key);
    if (old === undefined) return;
    this.#weight -= this.weigh(old);
    this.#map.delete(key);
  }
}

/**
 * Builds the gateway app.
 *
 * @example
 * ```ts
 * import { createApp } from "./app.ts";
 * import type { QueryApi } from "./app.ts";
 * const queryService = {} as QueryApi; // a real one comes from @eventlake/dataquery
 * const app = createApp({ queryService });
 * const res = await app.request("/v1/data-query/query");
 * console.log(res.status); // 401
 * ```
 */
export function createApp(deps: AppDeps): Hono<GatewayEnv> {
  const service = deps.queryService;
  const logger = deps.logger ?? nullLogger;
  const metrics = deps.metrics ?? createMetrics();
  const clock = deps.clock ?? Date.now;
  const limits = deps.limits ?? {};
  const maxBody = limits.maxBodyBytes ?? 2 * 1024 * 1024;
  const listParams = listQueriesParamsSchema(limits.maxPageSize ?? 1000);
  const pageCache = new Lru<CachedPage>(
    limits.pageCacheEntries ?? 4096,
    limits.pageCacheBytes ?? 64 * 1024 * 1024,
    (entry) => entry.bytes,
  );
  const encoder = new TextEncoder();
  const credentialTtl = limits.credentialCacheMs ?? 5_000;
  const credentials = new Lru<{ identity: Identity; until: number }>(1024);
  const isDraining = deps.isDraining ?? (() => false);
  const bootId = (clock() % 1e9).toString(36);
  let sequence = 0;

  const app = new Hono<GatewayEnv>();

  const errorResponse = (c: Context<GatewayEnv>, thrown: unknown): Response => {
    const requestId = c.get("requestId") ?? "-";
    const mapped = toHttpError(thrown, requestId);
    if (mapped.unexpected) {
      const cause = mapped.error.cause ?? mapped.error;
      logger.error("Unexpected error while handling a request", {
        requestId,
        method: c.req.method,
        path: c.req.path,
        error: cause instanceof Error ? (cause.stack ?? cause.message) : String(cause),
      });
    }
    return new Response(JSON.stringify(mapped.body), {
      status: mapped.status,
      headers: {
        "content-type": "application/json; charset=utf-8",
        "x-error-code": mapped.body.code,
        ...mapped.headers,
      },
    });
  };

  // Request id, access log and metrics: one middleware, no per-request closures or spreads.
  let lastMs = -1;
  let lastIso = "";
  app.use("*", async (c, next) => {
    const started = performance.now();
    const raw = c.req.raw;
    const given = raw.headers.get("x-request-id");
    const requestId = given !== null && REQUEST_ID_RE.test(given)
      ? given
      : `${bootId}-${(++sequence).toString(36)}`;
    c.set("requestId", requestId);
    await next();
    const res = c.res;
    const status = res.status;
    res.headers.set("x-request-id", requestId);
    const seconds = (performance.now() - started) / 1000;
    let route = routePath(c, -1);
    if (route === "*" || route === "/*") route = "unmatched";
    const method = raw.method;
    metrics.observeRequest(route, method, status, seconds);
    const now = clock();
    if (now !== lastMs) {
      lastMs = now;
      lastIso = new Date(now).toISOString();
    }
    const entry: AccessLogEntry = {
      time: lastIso,
      requestId,
      method,
      route,
      path: c.req.path,
      status,
      durationMs: Math.round(seconds * 1e6) / 1e3,
    };
    const identity = c.get("identity");
    if (identity !== undefined) entry.identity = identity.name;
    if (status >= 400) entry.code = res.headers.get("x-error-code") ?? undefined;
    logger.access(entry);
  });

  app.onError((thrown, c) => errorResponse(c, thrown));
  app.notFound((c) =>
    errorResponse(
      c,
      new NotFoundError(`Cannot find route "${c.req.method} ${c.req.path.slice(0, 200)}"`),
    )
  );

  // Authentication of every /v1 route.
  app.use("/v1/*", async (c, next) => {
    const id = c.req.header("credential-id");
    const secret = c.req.header("credential-secret");
    if (!id || !secret) {
      throw new UnauthenticatedError(
        "Missing credential: send the Credential-ID and Credential-Secret headers",
      );
    }
    const key = `${id}\n${secret}`;
    const cached = credentials.get(key);
    const now = clock();
    if (cached !== undefined && cached.until > now) {
      c.set("identity", cached.identity);
    } else {
      const identity = await service.authenticate(id, secret);
      credentials.set(key, { identity, until: now + credentialTtl });
      c.set("identity", identity);
    }
    await next();
  });

  const json = (body: unknown, status = 200): Response =>
    new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });

  const pageResponse = (body: Uint8Array<ArrayBuffer>, etag: string): Response =>
    new Response(body, { headers: { "content-type": "application/json; charset=utf-8", etag } });

  const endedPage = (c: Context<GatewayEnv>, entry: CachedPage): Response => {
    if (c.req.header("if-none-match") === entry.etag) {
      return new Response(null, { status: 304, headers: { etag: entry.etag } });
    }
    return entry.template !== undefined
      ? entry.template.clone()
      : pageResponse(entry.body!, entry.etag);
  };

  const refuseWhenDraining = () => {
    if (isDraining()) {
      throw new UnavailableError("The server is shutting down: retry on another instance");
    }
  };

  // ---- Data Query Open API ------------------------------------------------------------------
  app.post("/v1/data-query/query", async (c) => {
    refuseWhenDraining();
    const body = await readJsonBody(c.req.raw, maxBody);
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new InvalidArgumentError("Invalid query request: body must be a JSON object");
    }
    const dataSource = c.req.header("x-data-source") || undefined;
    const database = c.req.header("x-database") || undefined;
    // No request signal here: the submit is short, and Deno.serve's legacy request.signal
    // also fires after a successful response.
    const response = await service.submit(c.get("identity"), body, { dataSource, database });
    return json(response, 202);
  });

  app.get("/v1/data-query/query", async (c) => {
    const raw = {
      queryId: c.req.query("queryId"),
      creatorName: c.req.query("creatorName"),
      states: c.req.queries("states"),
      page: c.req.query("page"),
      size: c.req.query("size"),
      sort: c.req.query("sort"),
    };
    const params = parseInput(listParams, raw, "query parameters");
    const page = await service.list(c.get("identity"), params);
    // The Open API answers 404 for a queryId filter that matches no query.
    if (params.queryId !== undefined && params.queryId !== "" && page.totalElements === 0) {
      throw new NotFoundError(`Cannot find query "${params.queryId}"`, {
        details: { queryId: params.queryId },
      });
    }
    return json(page);
  });

  app.get("/v1/data-query/query/:queryId", async (c) => {
    const queryId = parseInput(PathIdSchema, c.req.param("queryId"), "query id");
    const page = c.req.query("page");
    const identity = c.get("identity");
    const key = page === undefined || page === "" ? `${queryId}\n0` : `${queryId}\n${page}`;
    const hit = pageCache.get(key);
    if (hit !== undefined && hit.owner === identity.name) return endedPage(c, hit);
    const result = await service.get(identity, queryId, { page });
    if (!ENDED.has(result.queryInfo.state)) return json(result);
    // An ended query never changes: keep its page encoded once, with an ETag so a client
    // polling it again gets 304.
    const body = encoder.encode(JSON.stringify(result));
    const etag = `"${queryId}.${result.number}"`;
    const entry: CachedPage = CLONE_SHARES_BODY
      ? { owner: identity.name, etag, bytes: body.byteLength, template: pageResponse(body, etag) }
      : { owner: identity.name, etag, bytes: body.byteLength, body };
    pageCache.set(`${queryId}\n${result.number}`, entry);
    return endedPage(c, entry);
  });

  const abort = async (c: Context<GatewayEnv>) => {
    const queryId = parseInput(PathIdSchema, c.req.param("queryId"), "query id");
    await service.abort(c.get("identity"), queryId);
    return json({ queryInfo: { queryId, state: "ABORTED" } });
  };
  app.put("/v1/data-query/query/:queryId/abort", abort);
  // The document's own example PUTs to the query's URL without "/abort": accept that too.
  app.put("/v1/data-query/query/:queryId", abort);

  app.get("/v1/data-query/data-source", async (c) => {
    return json(await service.listDataSources(c.get("identity")));
  });

  app.post("/v1/data-query/data-source", async (c) => {
    refuseWhenDraining();
    const body = await readJsonBody(c.req.raw, maxBody);
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new InvalidArgumentError("Invalid data source request: body must be a JSON object");
    }
    return json(
      await service.createDataSource(c.get("identity"), body, { signal: c.req.raw.signal }),
    );
  });

  app.delete("/v1/data-query/data-source/:name", async (c) => {
    const name = parseInput(PathIdSchema, c.req.param("name"), "data source name");
    // The service answers a DATA_CATALOG source with CONFLICT (409), as the Open API says.
    await service.deleteDataSource(c.get("identity"), name);
    return json({ name, deleted: true });
  });

  // ---- Self-service import API ----------------------------------------------------------------
  const imports = (): ImportApi => {
    if (deps.importService === undefined) {
      throw new UnavailableError("The import API is not available on this server");
    }
    return deps.importService;
  };

  app.post("/v1/data-import/jobs", async (c) => {
    const api = imports();
    refuseWhenDraining();
    const input = parseInput(
      CreateImportJobSchema,
      await readJsonBody(c.req.raw, maxBody),
      "import job",
    );
    return json(await api.createJob(c.get("identity"), input), 201);
  });
  app.get("/v1/data-import/jobs", async (c) => {
    return json({ jobs: await imports().listJobs(c.get("identity")) });
  });
  app.get("/v1/data-import/jobs/:jobId", async (c) => {
    const jobId = parseInput(PathIdSchema, c.req.param("jobId"), "job id");
    return json(await imports().getJob(c.get("identity"), jobId));
  });
  app.delete("/v1/data-import/jobs/:jobId", async (c) => {
    const jobId = parseInput(PathIdSchema, c.req.param("jobId"), "job id");
    await imports().deleteJob(c.get("identity"), jobId);
    return json({ jobId, deleted: true });
  });
  app.post("/v1/data-import/jobs/:jobId/runs", async (c) => {
    const api = imports();
    refuseWhenDraining();
    const jobId = parseInput(PathIdSchema, c.req.param("jobId"), "job id");
    const input = parseInput(
      StartImportRunSchema,
      await readJsonBody(c.req.raw, maxBody),
      "import run request",
    );
    return json({ runs: await api.startRuns(c.get("identity"), jobId, input) }, 202);
  });
  app.get("/v1/data-import/jobs/:jobId/runs", async (c) => {
    const jobId = parseInput(PathIdSchema, c.req.param("jobId"), "job id");
    return json({ runs: await imports().listRuns(c.get("identity"), jobId) });
  });
  app.get("/v1/data-import/jobs/:jobId/runs/:runId", async (c) => {
    const jobId = parseInput(PathIdSchema, c.req.param("jobId"), "job id");
    const runId = parseInput(PathIdSchema, c.req.param("runId"), "run id");
    return json(await imports().getRun(c.get("identity"), jobId, runId));
  });
  app.post("/v1/data-import/check", async (c) => {
    const api = imports();
    const input = parseInput(
      CheckSourceSchema,
      await readJsonBody(c.req.raw, maxBody),
      "check request",
    );
    return json(await api.check(c.get("identity"), input, { signal: c.req.raw.signal }));
  });

  // ---- Operations -------------------------------------------------------------------------------
  app.get("/healthz", () => {
    const draining = isDraining();
    return json({ status: draining ? "draining" : "ok" }, draining ? 503 : 200);
  });

  app.get("/metrics", async () => {
    let gauges: GaugeValues;
    if (deps.gauges) {
      gauges = await deps.gauges();
    } else {
      const [queued, running] = await Promise.all([
        service.list(METRICS_IDENTITY, { states: "QUEUED", size: 1 }),
        service.list(METRICS_IDENTITY, { states: "RUNNING", size: 1 }),
      ]);
      gauges = { queueDepth: queued.totalElements, runningQueries: running.totalElements };
    }
    if (gauges.runningImports === undefined && deps.importService?.runningRuns) {
      gauges = { ...gauges, runningImports: deps.importService.runningRuns() };
    }
    return new Response(metrics.render(gauges), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    });
  });

  app.get("/openapi.json", () => json(OPENAPI_DOCUMENT));
  app.get("/docs", (c) => c.html(apiReferenceHtml(OPENAPI_DOCUMENT)));

  // ---- Web console (apps/gateway/console, another engineer's) -------------------------------------
  // MOUNT POINT: `createConsoleApp(deps)` is passed in as `deps.console` and mounted here.
  if (deps.console) app.route("/", deps.console);

  return app;
}

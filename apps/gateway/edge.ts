/**
 * The edge entry: the same Hono app as `server.ts` (`createApp`), for Deno Deploy-style runtimes
 * — no native module, no filesystem, no `Deno.*`. Its runtime import graph is checked by
 * `edge_test.ts`.
 *
 * It wires the real thing from configuration: the Trino engine
 * (`@eventlake/dataquery/trino`), result buckets on S3 (`@eventlake/storage/s3`, one store per
 * bucket name), the query state as JSON objects in an S3 bucket (or in memory) and the
 * credentials from configuration. Deploy it with `export default` of this module (a
 * `{ fetch }` object configured from the environment, see {@linkcode edgeConfigFromEnv}) or build
 * the app yourself with {@linkcode createEdgeApp}.
 *
 * What it does not do: run DuckDB or MySQL data sources (native / TCP modules), serve the
 * import API unless an edge-safe `importService` is passed, or keep SQLite state. The state in an
 * object store is read when the first request arrives and then written behind: each isolate sees
 * the other isolates' later changes only after it restarts (see `createObjectStoreState`).
 *
 * @module
 */
import process from "node:process";
import type { Hono } from "hono";
import {
  createMemoryState,
  createObjectStoreState,
  createQueryService,
  createStaticBucketResolver,
  type QueryService,
  type QueryStateStore,
} from "@eventlake/dataquery/service";
import { createTrinoEngine, type TrinoEngineOptions } from "@eventlake/dataquery/trino";
import { createS3Store, type S3StoreOptions } from "@eventlake/storage/s3";
import { type AppDeps, createApp, type GatewayEnv, type QueryApi } from "./app.ts";
import { createJsonLogger } from "./logger.ts";
import type { ImportApi } from "./import_api.ts";

export type { QueryApi } from "./app.ts";
export type { ImportApi } from "./import_api.ts";

/** A credential given by configuration (the edge has no CLI to create one). */
export interface EdgeCredential {
  /** The `Credential-ID` header value. */
  credentialId: string;
  /** Lowercase hex SHA-256 of the secret, e.g. `printf %s "$SECRET" | sha256sum`. */
  secretHash: string;
  /** Who it authenticates as (queries and data sources are owned by this name). */
  name: string;
}

/** Where the edge service keeps its state. */
export type EdgeStateConfig =
  | { kind: "s3"; bucket: string; prefix?: string }
  | { kind: "memory" };

/** The real wiring of {@linkcode createEdgeApp}: Trino, S3 and the state. */
export interface EdgeWiring {
  /** The Trino coordinator and user. */
  trino: TrinoEngineOptions;
  /** S3 connection shared by every bucket (endpoint, region, credentials, path style). */
  s3: Omit<S3StoreOptions, "bucket">;
  /** Bucket names a query's `resultConfig.bucketName` may name. */
  resultBuckets: string[];
  /**
   * Where the state lives (default: `{ kind: "s3", bucket: resultBuckets[0] }` under
   * `_eventlake_state/`). `memory` does not survive an isolate restart.
   */
  state?: EdgeStateConfig;
  /** Credentials, added to the state when missing. */
  credentials?: EdgeCredential[];
  /** Key that encrypts stored data source passwords (at least 16 bytes). */
  encryptionKey: string;
  /** Queries running at once per isolate (default 4). */
  workers?: number;
  /** Per-query time limit in ms (default 30 minutes). */
  timeLimitMs?: number;
}

/** Options of {@linkcode createEdgeApp}: a ready service, or the wiring to build one. */
export interface EdgeAppOptions {
  /** An edge-safe Data Query service (tests, custom wiring). Give this or `wiring`. */
  queryService?: QueryApi;
  /** Build the Trino + S3 service from this (on the first request). Give this or `queryService`. */
  wiring?: EdgeWiring;
  /** An edge-safe import service (without it `/v1/data-import` answers 503). */
  importService?: ImportApi;
  /** Limits (body size, page size, caches). */
  limits?: AppDeps["limits"];
  /** Where JSON log lines go (default `console.log`). */
  writeLog?: (text: string) => void;
}

/** The gateway app of {@linkcode createEdgeApp}, and how to stop its service. */
export type EdgeApp = Hono<GatewayEnv> & {
  /** Closes the wired service (its queries fail, its state is flushed); no-op when injected. */
  closeService(): Promise<void>;
};

const HASH_RE = /^[0-9a-f]{64}$/;

/**
 * Builds the query service of `wiring`: Trino, S3 result buckets, state, credentials.
 *
 * @example
 * ```ts
 * import { createEdgeQueryService } from "./edge.ts";
 * const wiring = {
 *   trino: { server: "http://trino:8080", user: "eventlake" },
 *   s3: { region: "us-east-1" },
 *   resultBuckets: [],
 *   encryptionKey: "0123456789abcdef0123456789abcdef",
 * };
 * const error = await createEdgeQueryService(wiring).catch((e) => e);
 * console.log(error.message); // "Invalid edge wiring: resultBuckets is empty"
 * ```
 */
export async function createEdgeQueryService(wiring: EdgeWiring): Promise<QueryService> {
  if (wiring.resultBuckets.length === 0) {
    throw new TypeError("Invalid edge wiring: resultBuckets is empty");
  }
  for (const c of wiring.credentials ?? []) {
    if (!HASH_RE.test(c.secretHash)) {
      throw new TypeError(
        `Invalid credential "${c.credentialId}": secretHash must be 64 lowercase hex digits (SHA-256)`,
      );
    }
  }
  const stores = Object.fromEntries(
    wiring.resultBuckets.map((bucket) => [bucket, createS3Store({ ...wiring.s3, bucket })]),
  );
  const stateConfig = wiring.state ?? { kind: "s3", bucket: wiring.resultBuckets[0] };
  let state: QueryStateStore;
  if (stateConfig.kind === "memory") {
    state = createMemoryState();
  } else {
    const store = stores[stateConfig.bucket] ??
      createS3Store({ ...wiring.s3, bucket: stateConfig.bucket });
    state = await createObjectStoreState(store, { prefix: stateConfig.prefix });
  }
  for (const c of wiring.credentials ?? []) {
    if (state.getCredential(c.credentialId) === undefined) {
      state.insertCredential({ ...c, createdAt: 0, revokedAt: null });
    }
  }
  return createQueryService({
    engine: createTrinoEngine(wiring.trino),
    state,
    buckets: createStaticBucketResolver(stores),
    encryptionKey: wiring.encryptionKey,
    workers: wiring.workers,
    timeLimitMs: wiring.timeLimitMs,
  });
}

/**
 * A query service that is built on its first use (an isolate starts before it may do I/O in
 * some runtimes); a failed build is retried by the next call.
 */
function lazyService(
  wiring: EdgeWiring,
): { api: QueryApi; close(): Promise<void> } {
  let pending: Promise<QueryService> | undefined;
  const service = (): Promise<QueryService> => {
    pending ??= createEdgeQueryService(wiring).catch((e) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
  const api: QueryApi = {
    submit: async (...a) => (await service()).submit(...a),
    get: async (...a) => (await service()).get(...a),
    list: async (...a) => (await service()).list(...a),
    abort: async (...a) => (await service()).abort(...a),
    listDataSources: async (...a) => (await service()).listDataSources(...a),
    createDataSource: async (...a) => (await service()).createDataSource(...a),
    deleteDataSource: async (...a) => (await service()).deleteDataSource(...a),
    authenticate: async (...a) => (await service()).authenticate(...a),
  };
  return {
    api,
    close: async () => {
      if (pending) await (await pending.catch(() => undefined))?.close();
    },
  };
}

/**
 * Builds the gateway app for an edge runtime over an injected service or the Trino + S3
 * wiring. Logs are flushed per batch of 64 lines or after 250 ms, since an edge isolate may be
 * frozen between requests.
 *
 * @example
 * ```ts
 * import { createEdgeApp, type QueryApi } from "./edge.ts";
 * const app = createEdgeApp({ queryService: {} as QueryApi, writeLog: () => {} });
 * console.log((await app.request("/healthz")).status); // 200
 * ```
 */
export function createEdgeApp(options: EdgeAppOptions): EdgeApp {
  if ((options.queryService === undefined) === (options.wiring === undefined)) {
    throw new TypeError("Invalid edge app options: give exactly one of queryService and wiring");
  }
  const lazy = options.wiring ? lazyService(options.wiring) : undefined;
  const write = options.writeLog ?? ((text: string) => console.log(text.trimEnd()));
  const app = createApp({
    queryService: lazy?.api ?? options.queryService!,
    importService: options.importService,
    limits: options.limits,
    logger: createJsonLogger(write, { batch: 64, maxDelayMs: 250 }),
  });
  return Object.assign(app, { closeService: () => lazy?.close() ?? Promise.resolve() });
}

/**
 * Reads {@linkcode EdgeWiring} from environment variables: `TRINO_URL`, `TRINO_USER`,
 * `TRINO_PASSWORD`; `S3_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
 * `AWS_SESSION_TOKEN`, `S3_FORCE_PATH_STYLE` (`true`); `EVENTLAKE_RESULT_BUCKETS` (comma
 * separated); `EVENTLAKE_STATE` (`memory`, or `s3://bucket/prefix/`; default the first result
 * bucket); `EVENTLAKE_CREDENTIALS` (JSON list of {@linkcode EdgeCredential});
 * `EVENTLAKE_ENCRYPTION_KEY`.
 *
 * @example
 * ```ts
 * import { edgeConfigFromEnv } from "./edge.ts";
 * const wiring = edgeConfigFromEnv({
 *   TRINO_URL: "http://trino:8080",
 *   TRINO_USER: "eventlake",
 *   EVENTLAKE_RESULT_BUCKETS: "results",
 *   EVENTLAKE_ENCRYPTION_KEY: "0123456789abcdef0123456789abcdef",
 * });
 * console.log(wiring.resultBuckets); // ["results"]
 * ```
 */
export function edgeConfigFromEnv(env: Record<string, string | undefined>): EdgeWiring {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new TypeError(`Missing environment variable ${name}`);
    return value;
  };
  let state: EdgeStateConfig | undefined;
  const rawState = env.EVENTLAKE_STATE;
  if (rawState === "memory") state = { kind: "memory" };
  else if (rawState) {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(rawState);
    if (!m || (m[2] !== "" && !m[2].endsWith("/"))) {
      throw new TypeError(
        `Invalid EVENTLAKE_STATE "${rawState}": expected "memory" or "s3://bucket/prefix/"`,
      );
    }
    state = { kind: "s3", bucket: m[1], prefix: m[2] };
  }
  let credentials: EdgeCredential[] | undefined;
  if (env.EVENTLAKE_CREDENTIALS) {
    try {
      credentials = JSON.parse(env.EVENTLAKE_CREDENTIALS) as EdgeCredential[];
    } catch {
      throw new TypeError("Invalid EVENTLAKE_CREDENTIALS: expected a JSON list");
    }
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  return {
    trino: { server: need("TRINO_URL"), user: need("TRINO_USER"), password: env.TRINO_PASSWORD },
    s3: {
      endpoint: env.S3_ENDPOINT,
      region: env.AWS_REGION,
      forcePathStyle: env.S3_FORCE_PATH_STYLE === "true",
      credentials: accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN }
        : undefined,
    },
    resultBuckets: need("EVENTLAKE_RESULT_BUCKETS").split(",").map((b) => b.trim())
      .filter((b) => b !== ""),
    state,
    credentials,
    encryptionKey: need("EVENTLAKE_ENCRYPTION_KEY"),
  };
}

let deployed: EdgeApp | undefined;

/**
 * The Deno Deploy-style entry: `{ fetch }` over {@linkcode createEdgeApp} configured by
 * {@linkcode edgeConfigFromEnv} from `process.env` on the first request.
 */
export default {
  fetch(request: Request): Response | Promise<Response> {
    deployed ??= createEdgeApp({ wiring: edgeConfigFromEnv(process.env) });
    return deployed.fetch(request);
  },
};

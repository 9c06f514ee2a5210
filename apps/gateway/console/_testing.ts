/**
 * Test fixtures of the console: a real gateway over the embedded DuckDB engine (memory result
 * bucket, in-memory state) with the console mounted, served on 127.0.0.1, and a headless
 * Chromium from Debian's `chromium` package driven by playwright-core.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  type BucketResolver,
  createDuckDbEngine,
  createQueryService,
  createStaticBucketResolver,
  type QueryEngine,
  type QueryService,
} from "@eventlake/dataquery";
import { createLocalStore, createMemoryStore } from "@eventlake/storage";
import { createApp } from "../app.ts";
import { scriptedEngine } from "../_testing.ts";
import type { ImportApi } from "../import_api.ts";
import { type RunningServer, startServer } from "../server.ts";
import { type ConsoleOptions, createConsoleApp } from "./mod.ts";

/** Where Debian's chromium lives. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags without which Chromium's connections are refused on these machines (env notes). */
export const CHROMIUM_ARGS: string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Why the browser test cannot run here, or `undefined` when it can. */
export function browserSkipReason(): string | undefined {
  if (!existsSync(CHROMIUM_PATH)) {
    return `${CHROMIUM_PATH} is missing: run scripts/install/chromium.sh (Debian "chromium")`;
  }
  return undefined;
}

/** A running gateway with the console. */
export interface ConsoleServer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The query service behind it. */
  service: QueryService;
  /** A credential of `alice@example.com`. */
  credential: { id: string; secret: string };
  /** Stops the server, the service and the engine, and removes the temporary folder. */
  close(): Promise<void>;
}

/**
 * Starts the real embedded gateway (`server.ts`: DuckDB, SQLite state, folder buckets, the local
 * import service, the console) in a temporary home on 127.0.0.1. Its first start imports a demo
 * day of `demoEvents` events into `data_catalog.default.events` and creates a credential.
 */
export async function startEmbeddedServer(
  demoEvents: number,
): Promise<RunningServer & { credential: { id: string; secret: string }; close(): Promise<void> }> {
  const home = await Deno.makeTempDir({ prefix: "eventlake-console-home-" });
  const server = await startServer({
    home: join(home, "home"),
    port: 0,
    hostname: "127.0.0.1",
    demoEvents,
    handleSignals: false,
    writeLog: () => {},
  });
  const bootstrap = server.bootstrap!;
  return {
    ...server,
    credential: { id: bootstrap.credentialId, secret: bootstrap.credentialSecret },
    close: async () => {
      await server.shutdown();
      await Deno.remove(home, { recursive: true });
    },
  };
}

/**
 * Starts a gateway (DuckDB engine, memory bucket `results`, a registered MySQL instance
 * `mysql-1` that is never dialled) with the console on 127.0.0.1.
 */
export async function startConsoleServer(
  options: { importService?: ImportApi } = {},
): Promise<ConsoleServer> {
  const home = await Deno.makeTempDir({ prefix: "eventlake-console-test-" });
  const lakeDir = join(home, "lake");
  await Deno.mkdir(lakeDir);
  const engine = await createDuckDbEngine({
    home: join(home, "duckdb"),
    lake: createLocalStore(lakeDir),
    threads: 2,
  });
  const buckets = createStaticBucketResolver({ results: createMemoryStore({ name: "results" }) });
  // No MySQL server here: creating a MYSQL data source skips the engine's connection test.
  const wrapped: QueryEngine = {
    name: engine.name,
    execute: (sql, context) => engine.execute(sql, context),
    testDataSource: () => Promise.resolve(),
    tableChanged: (ref) => engine.tableChanged(ref),
    close: () => engine.close(),
  };
  const service = createQueryService({
    engine: wrapped,
    statePath: ":memory:",
    buckets,
    encryptionKey: "console test key, sixteen bytes+",
    lakeStore: createLocalStore(lakeDir),
    mysqlInstances: [{ instanceId: "mysql-1", host: "127.0.0.1", port: 9 }],
    workers: 2,
  });
  const made = await service.createCredential("alice@example.com");
  const app = createApp({
    queryService: service,
    importService: options.importService,
    console: createConsoleApp({
      queryService: service,
      buckets,
      defaults: {
        dataSource: "data_catalog",
        database: "default",
        bucketName: "results",
        path: "console",
      },
    }),
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => app.fetch(req),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    service,
    credential: { id: made.credentialId, secret: made.credentialSecret },
    close: async () => {
      await server.shutdown();
      await service.close();
      await engine.close();
      await Deno.remove(home, { recursive: true });
    },
  };
}

/** A gateway over the scripted engine with the console mounted, for `app.request()` tests. */
export interface UnitGateway {
  /** The gateway app. */
  app: { request(input: string, init?: RequestInit): Response | Promise<Response> };
  /** The query service. */
  service: QueryService;
  /** The result buckets (`results`). */
  buckets: BucketResolver;
  /** Headers of alice@example.com's credential. */
  alice: Record<string, string>;
  /** Headers of bob@example.com's credential. */
  bob: Record<string, string>;
  /** Closes the service. */
  close(): Promise<void>;
}

/** Builds a {@linkcode UnitGateway}; `console` overrides the console's options. */
export async function unitGateway(console: Partial<ConsoleOptions> = {}): Promise<UnitGateway> {
  const buckets = createStaticBucketResolver({ results: createMemoryStore({ name: "results" }) });
  const service = createQueryService({
    // Labels with a quote and a comma, in batches of 1,000, so CSV quoting and streaming show.
    engine: scriptedEngine({ label: (i) => `row "${i}", ok`, batchSize: 1000 }),
    statePath: ":memory:",
    buckets,
    encryptionKey: "console test key, sixteen bytes+",
    workers: 2,
  });
  const a = await service.createCredential("alice@example.com");
  const b = await service.createCredential("bob@example.com");
  const app = createApp({
    queryService: service,
    console: createConsoleApp({ queryService: service, buckets, ...console }),
  });
  return {
    app,
    service,
    buckets,
    alice: { "Credential-ID": a.credentialId, "Credential-Secret": a.credentialSecret },
    bob: { "Credential-ID": b.credentialId, "Credential-Secret": b.credentialSecret },
    close: () => service.close(),
  };
}

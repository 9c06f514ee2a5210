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
  createDuckDbEngine,
  createQueryService,
  createStaticBucketResolver,
  type QueryService,
} from "@eventlake/dataquery";
import { createLocalStore, createMemoryStore } from "@eventlake/storage";
import { createApp } from "../app.ts";
import { createConsoleApp } from "./mod.ts";

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

/** Starts a gateway (DuckDB engine, memory bucket `results`) with the console on 127.0.0.1. */
export async function startConsoleServer(): Promise<ConsoleServer> {
  const home = await Deno.makeTempDir({ prefix: "eventlake-console-test-" });
  const lakeDir = join(home, "lake");
  await Deno.mkdir(lakeDir);
  const engine = await createDuckDbEngine({
    home: join(home, "duckdb"),
    lake: createLocalStore(lakeDir),
    threads: 2,
  });
  const buckets = createStaticBucketResolver({ results: createMemoryStore({ name: "results" }) });
  const service = createQueryService({
    engine,
    statePath: ":memory:",
    buckets,
    encryptionKey: "console test key, sixteen bytes+",
    lakeStore: createLocalStore(lakeDir),
    workers: 2,
  });
  const made = await service.createCredential("alice@example.com");
  const app = createApp({
    queryService: service,
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

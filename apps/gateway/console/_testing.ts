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
  type EngineResult,
  type QueryEngine,
  type QueryService,
} from "@eventlake/dataquery";
import { createLocalStore, createMemoryStore } from "@eventlake/storage";
import type { RunReport } from "@eventlake/dataimport";
import { createApp } from "../app.ts";
import type { ImportApi, ImportJob, ImportRunView } from "../import_api.ts";
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
 * An import service holding one job of alice's with two ended runs, whose `startRuns` adds a
 * QUEUED run: enough for the console's import panel.
 */
export function fakeImportService(): ImportApi {
  const job: ImportJob = {
    jobId: "job-20261122-000000-demo",
    name: "demo events",
    creatorName: "alice@example.com",
    sourceUrl: "file:///srv/sources/demo/",
    table: { dataSource: "data_catalog", database: "default", table: "events" },
    dedupWindowDays: 7,
    createdAt: Date.UTC(2026, 10, 22, 9),
  };
  const report = (date: string, status: RunReport["status"], rejected: number) =>
    ({
      runId: `run-${date}`,
      jobId: job.jobId,
      date,
      status,
      rowsRead: 5_000,
      rowsAccepted: 5_000 - rejected,
      rowsRejected: rejected,
      rowsDuplicate: 0,
      rowsDuplicateEarlier: 0,
      reasons: rejected === 0 ? [] : [{ rule: "ts.out_of_day", count: rejected, samples: [] }],
      ...(status === "PARTIAL"
        ? { error: { code: "INVALID_ARGUMENT", message: `${rejected} rows were rejected` } }
        : {}),
    }) as unknown as RunReport;
  const runs: ImportRunView[] = [
    {
      runId: "run-2026-11-21",
      jobId: job.jobId,
      date: "2026-11-21",
      state: "PARTIAL",
      createdAt: Date.UTC(2026, 10, 22, 9, 5),
      finishedAt: Date.UTC(2026, 10, 22, 9, 6),
      report: report("2026-11-21", "PARTIAL", 12),
    },
    {
      runId: "run-2026-11-20",
      jobId: job.jobId,
      date: "2026-11-20",
      state: "SUCCEEDED",
      createdAt: Date.UTC(2026, 10, 22, 9, 1),
      finishedAt: Date.UTC(2026, 10, 22, 9, 2),
      report: report("2026-11-20", "SUCCEEDED", 0),
    },
  ];
  const notUsed = () => Promise.reject(new Error("Not used by the console test"));
  let listRuns = (): Promise<ImportRunView[]> => Promise.resolve([...runs]);
  return {
    createJob: notUsed,
    listJobs: () => Promise.resolve([job]),
    getJob: () => Promise.resolve(job),
    deleteJob: notUsed,
    startRuns: (_identity, _jobId, input) => {
      const run: ImportRunView = {
        runId: `run-${input.date}`,
        jobId: job.jobId,
        date: input.date!,
        state: "QUEUED",
        createdAt: Date.now(),
      };
      runs.unshift(run);
      // It "runs" once the console has seen it QUEUED.
      let reads = 0;
      const origin = listRuns;
      listRuns = () => {
        if (++reads === 3) {
          Object.assign(run, {
            state: "SUCCEEDED",
            finishedAt: Date.now(),
            report: report(run.date, "SUCCEEDED", 0),
          });
          listRuns = origin;
        }
        return origin();
      };
      return Promise.resolve([run]);
    },
    listRuns: () => listRuns(),
    getRun: (_identity, _jobId, runId) => Promise.resolve(runs.find((r) => r.runId === runId)!),
    check: notUsed,
  };
}

/** Starts a gateway (DuckDB engine, memory bucket `results`) with the console on 127.0.0.1. */
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

/**
 * A scripted engine for unit tests: `select N` gives N rows of (n, label) with every fifth label
 * NULL; `hang` runs until aborted; anything else gives one row.
 */
export function scriptedEngine(): QueryEngine {
  return {
    name: "scripted",
    execute(sql: string, context): Promise<EngineResult> {
      const text = sql.trim().toLowerCase();
      if (text === "hang") {
        return new Promise((_, reject) => {
          context.signal.addEventListener("abort", () => reject(context.signal.reason), {
            once: true,
          });
        });
      }
      const m = /^select (\d+)$/.exec(text);
      const n = m ? Number(m[1]) : 1;
      return Promise.resolve({
        columns: [{ name: "n", type: "bigint" }, { name: "label", type: "varchar" }],
        rows: (async function* () {
          for (let start = 0; start < n; start += 1000) {
            const batch: (string | null)[][] = [];
            for (let i = start; i < Math.min(n, start + 1000); i++) {
              batch.push([String(i), i % 5 === 4 ? null : `row "${i}", ok`]);
            }
            yield batch;
          }
        })(),
        stats: () => ({ inputRows: n }),
      });
    },
    testDataSource: () => Promise.resolve(),
    tableChanged: () => {},
    close: () => Promise.resolve(),
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
    engine: scriptedEngine(),
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

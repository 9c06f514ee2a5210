/**
 * Test fixtures of the gateway: a real query service (in-memory SQLite state, memory buckets)
 * over a scripted engine, and an app built on it.
 *
 * Engine script: see {@linkcode scriptedEngine}.
 *
 * @module
 */
import { InvalidArgumentError, PermissionDeniedError } from "@eventlake/schema";
import {
  createQueryService,
  createStaticBucketResolver,
  type EngineResult,
  type QueryEngine,
  type QueryService,
} from "@eventlake/dataquery";
import { createMemoryStore, type ObjectStore } from "@eventlake/storage";
import type { Hono } from "hono";
import { type AppDeps, createApp, type GatewayEnv } from "./app.ts";

/** Options of {@linkcode scriptedEngine}. */
export interface ScriptedEngineOptions {
  /** The label of row `i` when it is not NULL (default `row <i>`). */
  label?: (i: number) => string;
  /** Rows per batch the engine yields (default: all rows in one batch). */
  batchSize?: number;
}

/**
 * A scripted engine: `select N` gives N rows of (n, label) with every fifth label NULL; `hang`
 * runs until aborted; `fail` throws `InvalidArgumentError`; anything else gives one row.
 */
export function scriptedEngine(options: ScriptedEngineOptions = {}): QueryEngine {
  const label = options.label ?? ((i) => `row ${i}`);
  const batchSize = options.batchSize ?? Infinity;
  return {
    name: "scripted",
    execute(sql: string, context): Promise<EngineResult> {
      const text = sql.trim().toLowerCase();
      if (text === "fail") {
        return Promise.reject(new InvalidArgumentError('Table "nope" does not exist'));
      }
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
          for (let start = 0; start < n; start += batchSize) {
            const batch: (string | null)[][] = [];
            for (let i = start; i < Math.min(n, start + batchSize); i++) {
              batch.push([String(i), i % 5 === 4 ? null : label(i)]);
            }
            yield batch;
          }
        })(),
        stats: () => ({ inputRows: n, inputBytes: n * 16, scannedBytes: n * 16 }),
      });
    },
    testDataSource: () => Promise.resolve(),
    tableChanged: () => {},
    close: () => Promise.resolve(),
  };
}

/** A store that refuses every write, as a bucket the service may not write. */
export function lockedStore(): ObjectStore {
  const inner = createMemoryStore();
  return {
    ...inner,
    list: inner.list.bind(inner),
    head: inner.head.bind(inner),
    exists: inner.exists.bind(inner),
    read: inner.read.bind(inner),
    readStream: inner.readStream.bind(inner),
    delete: inner.delete.bind(inner),
    deletePrefix: inner.deletePrefix.bind(inner),
    close: inner.close.bind(inner),
    write: () => Promise.reject(new PermissionDeniedError('Cannot write to "locked-bucket"')),
  };
}

/** A test gateway: the app, its service, and two users' credentials. */
export interface TestGateway {
  app: Hono<GatewayEnv>;
  service: QueryService;
  alice: Record<string, string>;
  bob: Record<string, string>;
  close(): Promise<void>;
}

/** Builds a test gateway; `deps` override the app's dependencies. */
export async function testGateway(deps: Partial<AppDeps> = {}): Promise<TestGateway> {
  const service = createQueryService({
    engine: scriptedEngine(),
    statePath: ":memory:",
    buckets: createStaticBucketResolver({
      results: createMemoryStore(),
      "locked-bucket": lockedStore(),
    }),
    encryptionKey: "0123456789abcdef0123456789abcdef",
    mysqlInstances: [{ instanceId: "db1", host: "127.0.0.1", port: 3306 }],
    workers: 2,
  });
  const a = await service.createCredential("alice@example.com");
  const b = await service.createCredential("bob@example.com");
  const app = createApp({ queryService: service, ...deps });
  return {
    app,
    service,
    alice: { "Credential-ID": a.credentialId, "Credential-Secret": a.credentialSecret },
    bob: { "Credential-ID": b.credentialId, "Credential-Secret": b.credentialSecret },
    close: () => service.close(),
  };
}

import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import {
  AbortedError,
  InvalidArgumentError,
  ResourceExhaustedError,
  UnavailableError,
} from "@eventlake/schema";
import { createTrinoEngine } from "./trino.ts";
import type { EngineResult, EngineStats, ExecuteContext } from "./engine.ts";
import { type FakeScript, startFakeTrino } from "./_fake_trino.ts";

const SCRIPTS: Record<string, FakeScript> = {
  "SELECT event_key, count(*) FROM events GROUP BY 1": {
    queuedPages: 2,
    columns: [{ name: "event_key", type: "varchar" }, { name: "_col1", type: "bigint" }],
    pages: [[["a", 1], ["b", 2]], [["c", 3]]],
  },
  "SELECT values": {
    columns: [
      { name: "d", type: "decimal(24,6)" },
      { name: "m", type: "map(varchar, varchar)" },
      { name: "b", type: "boolean" },
      { name: "t", type: "timestamp(3) with time zone" },
      { name: "n", type: "bigint" },
    ],
    pages: [[[
      "123456789012345678.123456",
      { os: "ios", k: null },
      true,
      "2023-01-01 00:00:00.000 UTC",
      null,
    ]]],
  },
  "SELECT too much": {
    columns: [{ name: "x", type: "integer" }],
    pages: [[[1]]],
    error: {
      message: "Query exceeded per-node memory limit of 1GB",
      errorCode: 131079,
      errorName: "EXCEEDED_LOCAL_MEMORY_LIMIT",
      errorType: "INSUFFICIENT_RESOURCES",
    },
  },
  "SELECT * FROM mysql.shop.users": {
    error: {
      message: "Error listing schemas for catalog mysql: Communications link failure",
      errorCode: 65536,
      errorName: "GENERIC_INTERNAL_ERROR",
      errorType: "EXTERNAL",
    },
  },
  "SELECT forever": { columns: [{ name: "x", type: "integer" }], hang: true },
  "SELECT 1": { columns: [{ name: "_col0", type: "integer" }], pages: [[[1]]] },
};

async function withTrino(
  fn: (ctx: { url: string; fake: ReturnType<typeof startFakeTrino> }) => Promise<void>,
) {
  const fake = startFakeTrino(SCRIPTS);
  try {
    await fn({ url: fake.url, fake });
  } finally {
    await fake.close();
  }
}

async function drain(result: EngineResult): Promise<(string | null)[][]> {
  const rows: (string | null)[][] = [];
  for await (const batch of result.rows) rows.push(...batch);
  return rows;
}

function context(extra: Partial<ExecuteContext> = {}): ExecuteContext {
  return { dataSources: [], signal: new AbortController().signal, ...extra };
}

Deno.test("TrinoEngine.execute() maps X-Data-Source/X-Database to catalog/schema and drains every page", async () => {
  await withTrino(async ({ url, fake }) => {
    const engine = createTrinoEngine({ server: url, user: "eventlake" });
    const progress: EngineStats[] = [];
    const result = await engine.execute(
      "SELECT event_key, count(*) FROM events GROUP BY 1",
      context({ dataSource: "hive", database: "default", onProgress: (s) => progress.push(s) }),
    );
    deepStrictEqual(result.columns, [
      { name: "event_key", type: "varchar" },
      { name: "_col1", type: "bigint" },
    ]);
    deepStrictEqual(await drain(result), [["a", "1"], ["b", "2"], ["c", "3"]]);
    const [log] = fake.queries.values();
    strictEqual(log.user, "eventlake");
    strictEqual(log.catalog, "hive");
    strictEqual(log.schema, "default");
    const stats = result.stats();
    strictEqual(stats.inputRows, 3);
    strictEqual(stats.inputBytes, 30);
    strictEqual(stats.scannedBytes, 24);
    strictEqual(stats.progressPercentage, 100);
    ok((stats.executionMs ?? 0) > 0);
    ok(progress.length >= 2);
  });
});

Deno.test("TrinoEngine.execute() renders decimals, maps, booleans, timestamps and nulls as strings", async () => {
  await withTrino(async ({ url }) => {
    const engine = createTrinoEngine({ server: url, user: "eventlake" });
    const result = await engine.execute("SELECT values", context());
    deepStrictEqual(await drain(result), [[
      "123456789012345678.123456",
      '{"os":"ios","k":null}',
      "true",
      "2023-01-01 00:00:00.000 UTC",
      null,
    ]]);
  });
});

Deno.test("TrinoEngine.execute() maps Trino error types to the shared errors with Trino's message", async () => {
  await withTrino(async ({ url }) => {
    const engine = createTrinoEngine({ server: url, user: "eventlake" });
    await rejects(engine.execute("SELEC 1", context()), (e: unknown) => {
      ok(e instanceof InvalidArgumentError);
      strictEqual(e.message, "SYNTAX_ERROR: line 1:1: mismatched input 'SELEC'");
      return true;
    });
    await rejects(engine.execute("SELECT * FROM mysql.shop.users", context()), (e: unknown) => {
      ok(e instanceof UnavailableError);
      ok(/Communications link failure/.test(e.message));
      return true;
    });
    const result = await engine.execute("SELECT too much", context());
    await rejects(drain(result), (e: unknown) => {
      ok(e instanceof ResourceExhaustedError);
      ok(/EXCEEDED_LOCAL_MEMORY_LIMIT: Query exceeded per-node memory limit/.test(e.message));
      return true;
    });
  });
});

Deno.test("TrinoEngine.execute() cancels the Trino query (DELETE nextUri) when aborted while running", async () => {
  await withTrino(async ({ url, fake }) => {
    const engine = createTrinoEngine({ server: url, user: "eventlake" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new AbortedError("stop")), 150);
    await rejects(
      (async () => {
        const result = await engine.execute(
          "SELECT forever",
          context({ signal: controller.signal }),
        );
        await drain(result);
      })(),
      AbortedError,
    );
    const [log] = fake.queries.values();
    for (let i = 0; i < 50 && !log.cancelled; i++) await new Promise((r) => setTimeout(r, 20));
    strictEqual(log.cancelled, true);
    ok(log.polls > 0);
  });
});

Deno.test("TrinoEngine.execute() runs queries concurrently", async () => {
  await withTrino(async ({ url, fake }) => {
    const engine = createTrinoEngine({ server: url, user: "eventlake" });
    const all = await Promise.all(
      Array.from(
        { length: 6 },
        async () =>
          drain(
            await engine.execute("SELECT event_key, count(*) FROM events GROUP BY 1", context()),
          ),
      ),
    );
    for (const rows of all) deepStrictEqual(rows, [["a", "1"], ["b", "2"], ["c", "3"]]);
    strictEqual(fake.queries.size, 6);
  });
});

Deno.test("TrinoEngine.testDataSource() runs SELECT 1 in the source's catalog; an unreachable server is UNAVAILABLE", async () => {
  await withTrino(async ({ url, fake }) => {
    const engine = createTrinoEngine({ server: url, user: "eventlake" });
    await engine.testDataSource({ type: "DATA_CATALOG", name: "hive" });
    strictEqual([...fake.queries.values()][0].catalog, "hive");
  });
  const down = createTrinoEngine({ server: "http://127.0.0.1:9", user: "eventlake" });
  await rejects(down.execute("SELECT 1", context()), UnavailableError);
});

Deno.test("TrinoEngine: rows closed before the first read cancel the Trino query", async () => {
  await withTrino(async ({ url, fake }) => {
    const engine = createTrinoEngine({ server: url, user: "eventlake" });
    const result = await engine.execute(
      "SELECT event_key, count(*) FROM events GROUP BY 1",
      context(),
    );
    await result.rows[Symbol.asyncIterator]().return?.();
    const [log] = fake.queries.values();
    for (let i = 0; i < 50 && !log.cancelled; i++) await new Promise((r) => setTimeout(r, 20));
    strictEqual(log.cancelled, true);
  });
});

import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { createLocalStore, createMemoryStore, DEFAULT_LAKE_TABLE } from "@eventlake/storage";
import { createStaticBucketResolver } from "./buckets.ts";
import { createQueryService } from "./service.ts";
import { AbortedError, InvalidArgumentError } from "@eventlake/schema";
import { createDuckDbEngine, type DuckDbEngine } from "./duckdb.ts";
import type { EngineDataSource, EngineResult, ExecuteContext } from "./engine.ts";
import { landFixtureDays } from "./_duckdb_testing.ts";

const LAKE: EngineDataSource[] = [{ type: "DATA_CATALOG", name: "data_catalog" }];

async function withEngine(fn: (engine: DuckDbEngine, lakeDir: string) => Promise<void>) {
  const home = await Deno.makeTempDir({ prefix: "eventlake-duckdb-test-" });
  const lakeDir = join(home, "lake");
  await Deno.mkdir(lakeDir);
  const days = (n: number, date: string) => ({
    date,
    sql:
      `SELECT TIMESTAMPTZ '${date} 00:00:00+00' + to_seconds(i) AS ts, 'k' || (i % 3) AS event_key,
      (i * 1.5)::DECIMAL(24,6) AS metric_value, MAP {'os': 'ios'} AS user_properties FROM range(${n}) t(i)`,
  });
  await landFixtureDays(lakeDir, DEFAULT_LAKE_TABLE, [
    days(30, "2023-01-01"),
    days(12, "2023-01-02"),
  ]);
  const engine = await createDuckDbEngine({ home, lake: createLocalStore(lakeDir), threads: 2 });
  try {
    await fn(engine, lakeDir);
  } finally {
    await engine.close();
    await Deno.remove(home, { recursive: true });
  }
}

async function run(
  engine: DuckDbEngine,
  sql: string,
  context: Partial<ExecuteContext> = {},
): Promise<{ result: EngineResult; rows: (string | null)[][] }> {
  const result = await engine.execute(sql, {
    dataSources: LAKE,
    signal: new AbortController().signal,
    ...context,
  });
  const rows: (string | null)[][] = [];
  for await (const batch of result.rows) rows.push(...batch);
  return { result, rows };
}

Deno.test("DuckDbEngine.execute() renders values as DuckDB's VARCHAR and types in lowercase", async () => {
  await withEngine(async (engine) => {
    const { result, rows } = await run(
      engine,
      `SELECT 123456789012345678.123456::DECIMAL(24,6) AS d, MAP {'a': 'b', 'c': NULL} AS m,
        TIMESTAMPTZ '2023-01-01 01:02:03.456+00' AS t, NULL::BIGINT AS n, 1 AS x, 2 AS x`,
    );
    deepStrictEqual(result.columns, [
      { name: "d", type: "decimal(24,6)" },
      { name: "m", type: "map(varchar, varchar)" },
      { name: "t", type: "timestamp with time zone" },
      { name: "n", type: "bigint" },
      { name: "x", type: "integer" },
      { name: "x", type: "integer" },
    ]);
    deepStrictEqual(rows, [[
      "123456789012345678.123456",
      "{a=b, c=NULL}",
      "2023-01-01 01:02:03.456+00",
      null,
      "1",
      "2",
    ]]);
  });
});

Deno.test("DuckDbEngine.execute() reads a lake table by full name and by X-Data-Source/X-Database", async () => {
  await withEngine(async (engine) => {
    const full = await run(
      engine,
      "SELECT dt, count(*) AS n FROM data_catalog.default.events GROUP BY dt ORDER BY dt",
    );
    deepStrictEqual(full.rows, [["2023-01-01", "30"], ["2023-01-02", "12"]]);
    const short = await run(engine, "SELECT count(*) FROM events", {
      dataSource: "data_catalog",
      database: "default",
    });
    deepStrictEqual(short.rows, [["42"]]);
    const sourceOnly = await run(engine, "SELECT count(*) FROM events", {
      dataSource: "data_catalog",
    });
    deepStrictEqual(sourceOnly.rows, [["42"]]);
    await rejects(run(engine, "SELECT count(*) FROM events"), /events/);
  });
});

Deno.test("DuckDbEngine.execute() prunes lake files on a dt predicate (stats count one day)", async () => {
  await withEngine(async (engine, lakeDir) => {
    const all = await run(engine, "SELECT count(*) FROM data_catalog.default.events");
    const one = await run(
      engine,
      "SELECT count(*) FROM data_catalog.default.events WHERE dt = '2023-01-02'",
    );
    deepStrictEqual(one.rows, [["12"]]);
    const manifest = JSON.parse(
      await Deno.readTextFile(
        join(lakeDir, "data_catalog/default/events/dt=2023-01-02/_MANIFEST.json"),
      ),
    );
    const allStats = all.result.stats();
    const oneStats = one.result.stats();
    strictEqual(oneStats.scannedBytes, manifest.files[0].bytes);
    ok((allStats.scannedBytes ?? 0) > (oneStats.scannedBytes ?? 0));
    strictEqual(oneStats.inputRows, 12);
    strictEqual(allStats.inputRows, 42);
    strictEqual(oneStats.progressPercentage, 100);
  });
});

Deno.test("DuckDbEngine.execute() sees a new landing without restart (_VERSION and tableChanged)", async () => {
  await withEngine(async (engine, lakeDir) => {
    deepStrictEqual((await run(engine, "SELECT count(*) FROM data_catalog.default.events")).rows, [[
      "42",
    ]]);
    await landFixtureDays(lakeDir, DEFAULT_LAKE_TABLE, [{
      date: "2023-01-03",
      sql:
        "SELECT TIMESTAMPTZ '2023-01-03 00:00:00+00' AS ts, 'k9' AS event_key, 1::DECIMAL(24,6) AS metric_value, MAP {'os': 'web'} AS user_properties",
    }]);
    deepStrictEqual((await run(engine, "SELECT count(*) FROM data_catalog.default.events")).rows, [[
      "43",
    ]]);
    const other = { ...DEFAULT_LAKE_TABLE, table: "clicks" };
    await landFixtureDays(lakeDir, other, [{ date: "2023-01-01", sql: "SELECT 1 AS x" }]);
    engine.tableChanged(other);
    deepStrictEqual((await run(engine, "SELECT x FROM data_catalog.default.clicks")).rows, [["1"]]);
  });
});

Deno.test("DuckDbEngine.execute() rejects bad SQL with DuckDB's own message", async () => {
  await withEngine(async (engine) => {
    await rejects(run(engine, "SELEC 1"), (e: unknown) => {
      ok(e instanceof InvalidArgumentError);
      ok(/Parser Error: syntax error at or near "SELEC"/.test(e.message), e.message);
      return true;
    });
    await rejects(run(engine, "SELECT nope FROM data_catalog.default.events"), (e: unknown) => {
      ok(e instanceof InvalidArgumentError);
      ok(/Binder Error: Referenced column "nope" not found/.test(e.message), e.message);
      return true;
    });
    await rejects(run(engine, "SELECT 1 FROM data_catalog.default.nothing"), /nothing/);
  });
});

const REFUSED: [string, RegExp][] = [
  ["COPY (SELECT 1) TO '/tmp/x.csv'", /Statement "COPY" is not allowed/],
  ["COPY data_catalog.default.events FROM '/etc/passwd'", /Statement "COPY" is not allowed/],
  ["ATTACH '/tmp/x.db' AS x", /Statement "ATTACH" is not allowed/],
  ["DETACH data_catalog", /Statement "DETACH" is not allowed/],
  ["INSTALL httpfs", /Statement "INSTALL" is not allowed/],
  ["LOAD httpfs", /Statement "LOAD" is not allowed/],
  ["SET enable_external_access = true", /Statement "SET" is not allowed/],
  ["RESET threads", /Statement "RESET" is not allowed/],
  ["PRAGMA enable_profiling", /Statement "PRAGMA" is not allowed/],
  ["EXPORT DATABASE '/tmp/out'", /Statement "EXPORT" is not allowed/],
  ["IMPORT DATABASE '/tmp/out'", /Statement "IMPORT" is not allowed/],
  ["CALL pragma_version()", /Statement "CALL" is not allowed/],
  ["USE data_catalog.default", /Statement "USE" is not allowed/],
  ["CREATE TABLE t AS SELECT 1", /Statement "CREATE" is not allowed/],
  ["DROP VIEW data_catalog.default.events", /Statement "DROP" is not allowed/],
  ["EXPLAIN ANALYZE SELECT 1", /Statement "EXPLAIN" is not allowed/],
  ["SELECT 1; SELECT 2", /Multiple statements are not allowed: found 2/],
  ["SELECT * FROM read_csv('/etc/passwd')", /Table function "read_csv" is not allowed/],
  ["SELECT * FROM read_parquet('/tmp/*.parquet')", /Table function "read_parquet" is not allowed/],
  ["SELECT * FROM read_text('/etc/passwd')", /Table function "read_text" is not allowed/],
  ["SELECT * FROM read_blob('/etc/passwd')", /Table function "read_blob" is not allowed/],
  ["SELECT * FROM read_json('http://example.com/x')", /Table function "read_json" is not allowed/],
  ["SELECT * FROM glob('/etc/*')", /Table function "glob" is not allowed/],
  ["SELECT * FROM duckdb_settings()", /Table function "duckdb_settings" is not allowed/],
  [
    "WITH x AS (SELECT * FROM read_text('/etc/hosts')) SELECT * FROM x",
    /"read_text" is not allowed/,
  ],
  ["SELECT * FROM '/etc/passwd'", /Table "\/etc\/passwd" is not allowed/],
  ["SELECT * FROM 'data.csv'", /Table "data.csv" is not allowed/],
  ["SELECT * FROM elsewhere.default.events", /Unknown data source "elsewhere"/],
  ["  -- just a comment", /Query is empty/],
];

Deno.test("DuckDbEngine.execute() refuses every statement that could reach the server", async () => {
  await withEngine(async (engine) => {
    for (const [sql, message] of REFUSED) {
      await rejects(run(engine, sql), (e: unknown) => {
        ok(e instanceof InvalidArgumentError, `${sql}: ${e}`);
        ok(message.test(e.message), `${sql}: ${e.message}`);
        return true;
      });
    }
    // Under the guard, DuckDB itself is locked: no external access, no setting changes.
    deepStrictEqual(
      (await run(
        engine,
        "SELECT current_setting('enable_external_access'), current_setting('lock_configuration')",
      )).rows,
      [["false", "true"]],
    );
    // Allowed generators and metadata statements still run.
    deepStrictEqual((await run(engine, "SELECT count(*) FROM range(5)")).rows, [["5"]]);
    const show = await run(engine, "SHOW TABLES", { dataSource: "data_catalog" });
    deepStrictEqual(show.rows, [["events"]]);
  });
});

Deno.test("DuckDbEngine.execute() is interrupted by its signal and the engine stays usable", async () => {
  await withEngine(async (engine) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new AbortedError("stop")), 200);
    await rejects(
      (async () => {
        const result = await engine.execute(
          "SELECT sum(a.i * b.i) FROM range(1000000) a(i), range(1000000) b(i)",
          { dataSources: LAKE, signal: controller.signal },
        );
        for await (const _ of result.rows) { /* drain */ }
      })(),
      (e: unknown) => e instanceof AbortedError,
    );
    deepStrictEqual((await run(engine, "SELECT 1")).rows, [["1"]]);
    const aborted = new AbortController();
    aborted.abort(new AbortedError("early"));
    await rejects(
      engine.execute("SELECT 1", { dataSources: LAKE, signal: aborted.signal }),
      AbortedError,
    );
  });
});

Deno.test("DuckDbEngine.execute() runs queries concurrently, each on its own connection", async () => {
  await withEngine(async (engine) => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        run(
          engine,
          `SELECT count(*) + ${i} FROM data_catalog.default.events WHERE dt = '2023-01-01'`,
        )),
    );
    deepStrictEqual(
      results.map((r) => r.rows),
      Array.from({ length: 8 }, (_, i) => [[
        String(30 + i),
      ]]),
    );
  });
});

Deno.test("the query service over DuckDB: FINISHED with rows, FAILED with the engine's message for bad or refused SQL", async () => {
  await withEngine(async (engine, lakeDir) => {
    const service = createQueryService({
      engine,
      statePath: ":memory:",
      buckets: createStaticBucketResolver({ results: createMemoryStore({ name: "results" }) }),
      encryptionKey: "test key, sixteen bytes at least",
      lakeStore: createLocalStore(lakeDir),
    });
    const alice = { name: "alice@example.com" };
    const submit = async (query: string) => {
      const { queryInfo } = await service.submit(alice, {
        query,
        resultConfig: { bucketName: "results", path: "dq" },
      }, { dataSource: "data_catalog", database: "default" });
      await service.settled(queryInfo.queryId);
      return await service.get(alice, queryInfo.queryId);
    };
    try {
      const ok1 = await submit(
        "SELECT event_key, count(*) AS n FROM data_catalog.default.events GROUP BY 1 ORDER BY 1",
      );
      strictEqual(ok1.queryInfo.state, "FINISHED");
      deepStrictEqual(ok1.queryData, [["k0", "14"], ["k1", "14"], ["k2", "14"]]);
      deepStrictEqual(ok1.columnData.map((c) => c.type), ["varchar", "bigint"]);
      strictEqual(ok1.queryInfo.isScanned, true);
      const bad = await submit("SELEC 1");
      strictEqual(bad.queryInfo.state, "FAILED");
      ok(/Parser Error: syntax error at or near "SELEC"/.test(bad.queryInfo.errorMessage ?? ""));
      const refused = await submit("COPY (SELECT 1) TO '/tmp/out.csv'");
      strictEqual(refused.queryInfo.state, "FAILED");
      ok(/Statement "COPY" is not allowed/.test(refused.queryInfo.errorMessage ?? ""));
    } finally {
      await service.close();
    }
  });
});

Deno.test("DuckDbEngine: rows closed before the first read release the query (no profile left behind)", async () => {
  const home = await Deno.makeTempDir({ prefix: "eventlake-duckdb-test-" });
  const engine = await createDuckDbEngine({ home, threads: 1 });
  try {
    const result = await engine.execute("SELECT * FROM range(100000)", {
      dataSources: [],
      signal: new AbortController().signal,
    });
    await result.rows[Symbol.asyncIterator]().return?.();
    const left = [...Deno.readDirSync(join(home, "duckdb", "profiles"))];
    deepStrictEqual(left, []);
    deepStrictEqual((await run(engine, "SELECT 2")).rows, [["2"]]);
  } finally {
    await engine.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("DuckDbEngine.execute() reports progress while a query runs and accepts names in any case", async () => {
  const home = await Deno.makeTempDir({ prefix: "eventlake-duckdb-test-" });
  const engine = await createDuckDbEngine({ home, threads: 1, progressIntervalMs: 10 });
  try {
    const seen: number[] = [];
    const result = await engine.execute(
      "SELECT count(*) FROM range(3000) a(i), range(30000) b(i) WHERE (a.i * b.i) % 7 = 1",
      {
        dataSources: [],
        signal: new AbortController().signal,
        onProgress: (s) => seen.push(s.progressPercentage ?? -1),
      },
    );
    for await (const _ of result.rows) { /* drain */ }
    ok(seen.length > 0, "no progress reported");
    ok(seen.every((p) => p >= 0 && p <= 100), String(seen));
    strictEqual(result.stats().progressPercentage, 100);
  } finally {
    await engine.close();
    await Deno.remove(home, { recursive: true });
  }
  await withEngine(async (engine) => {
    deepStrictEqual(
      (await run(engine, "SELECT count(*) FROM DATA_CATALOG.Default.Events")).rows,
      [["42"]],
    );
  });
});

Deno.test("DuckDbEngine stats: scanned bytes stay exact when DuckDB shortens the file list of a scan", async () => {
  await withEngine(async (engine, lakeDir) => {
    const ref = { ...DEFAULT_LAKE_TABLE, table: "wide" };
    const dates = Array.from({ length: 7 }, (_, d) => `2023-02-0${d + 1}`);
    await landFixtureDays(
      lakeDir,
      ref,
      dates.map((date, d) => ({ date, sql: `SELECT i AS x FROM range(${100 * (d + 1)}) t(i)` })),
    );
    const sizes = new Map<string, number>();
    for (const date of dates) {
      const m = JSON.parse(
        await Deno.readTextFile(
          join(lakeDir, `data_catalog/default/wide/dt=${date}/_MANIFEST.json`),
        ),
      );
      sizes.set(date, m.files[0].bytes);
    }
    const sum = (ds: string[]) => ds.reduce((n, d) => n + sizes.get(d)!, 0);
    const all = await run(engine, "SELECT count(*) FROM data_catalog.default.wide");
    strictEqual(all.result.stats().scannedBytes, sum(dates));
    const most = await run(
      engine,
      "SELECT count(*) FROM data_catalog.default.wide WHERE dt <> '2023-02-03'",
    );
    deepStrictEqual(most.rows, [[String(2800 - 300)]]);
    strictEqual(most.result.stats().scannedBytes, sum(dates.filter((d) => d !== "2023-02-03")));
    strictEqual(most.result.stats().inputRows, 2500);
  });
});

Deno.test("DuckDbEngine.execute() retries once when a landing replaced a day's files under a starting query", async () => {
  await withEngine(async (engine, lakeDir) => {
    deepStrictEqual((await run(engine, "SELECT count(*) FROM data_catalog.default.events")).rows, [[
      "42",
    ]]);
    // The import lands a new version of 2023-01-02 and deletes the old file, but this query's
    // _VERSION check happened just before: simulated by keeping the old _VERSION.
    const table = join(lakeDir, "data_catalog/default/events");
    const version = await Deno.readTextFile(join(table, "_VERSION"));
    const old = JSON.parse(await Deno.readTextFile(join(table, "dt=2023-01-02/_MANIFEST.json")));
    await landFixtureDays(lakeDir, DEFAULT_LAKE_TABLE, [{
      date: "2023-01-02",
      sql:
        "SELECT TIMESTAMPTZ '2023-01-02 00:00:00+00' AS ts, 'k9' AS event_key, 1::DECIMAL(24,6) AS metric_value, MAP {'os': 'web'} AS user_properties FROM range(5)",
    }]);
    await Deno.writeTextFile(join(table, "_VERSION"), version);
    await Deno.remove(join(table, old.files[0].key));
    deepStrictEqual((await run(engine, "SELECT count(*) FROM data_catalog.default.events")).rows, [[
      "35",
    ]]);
  });
});

Deno.test("DuckDbEngine.close() while queries are being prepared, run and read waits for DuckDB's calls and refuses later ones", async () => {
  // Freeing a connection under a running prepare crashed the whole process (a segfault in
  // DuckDB's ClientContext::LockContext): close() must wait for the calls in flight.
  for (let round = 0; round < 12; round++) {
    const home = await Deno.makeTempDir({ prefix: "eventlake-duckdb-close-" });
    const engine = await createDuckDbEngine({ home, threads: 2 });
    try {
      const outcomes = Array.from({ length: 6 }, (_, i) =>
        (async () => {
          const result = await engine.execute(
            i % 2 === 0 ? "SELECT 42 AS answer" : "SELECT sum(i) FROM range(3000000) t(i)",
            { dataSources: LAKE, signal: new AbortController().signal },
          );
          for await (const _ of result.rows) { /* drain */ }
          return "finished";
        })().catch((e: unknown) => (e as Error).name));
      // Close at a different point of the queries' lives in each round.
      await new Promise((r) => setTimeout(r, round * 3));
      await engine.close();
      for (const outcome of await Promise.all(outcomes)) {
        ok(
          ["finished", "UnavailableError", "AbortedError"].includes(outcome),
          String(outcome),
        );
      }
      await rejects(
        engine.execute("SELECT 1", { dataSources: LAKE, signal: new AbortController().signal }),
        (e: Error) => e.name === "UnavailableError",
      );
    } finally {
      await engine.close();
      await Deno.remove(home, { recursive: true });
    }
  }
});

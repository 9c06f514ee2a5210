/**
 * The DuckDB part of the Data Query benchmark (`scripts/bench/dataquery.ts` calls it): a GROUP BY
 * over `event_key` on a large lake table, submit → FINISHED through the query service with the
 * DuckDB engine, against the same SQL run directly on a plain DuckDB instance in the same process
 * (same view over the same Parquet files, same thread count). Target: service ≤ 1.15× direct.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLocalStore, createMemoryStore, DEFAULT_LAKE_TABLE } from "@eventlake/storage";
import { createStaticBucketResolver } from "./buckets.ts";
import { createQueryService } from "./service.ts";
import { createDuckDbEngine, openPlainDuckDb } from "./duckdb.ts";
import { landFixtureDays } from "./_duckdb_testing.ts";

/** Options of {@linkcode duckdbLakeBench}. */
export interface DuckdbLakeBenchOptions {
  /** Rows in the lake table (default 10,000,000). */
  rows?: number;
  /** Days (files) they are spread over (default 10). */
  days?: number;
  /** Measured runs per side, alternating (default 7). */
  runs?: number;
}

const SQL =
  "SELECT event_key, count(*) AS events, sum(metric_value) AS total FROM data_catalog.default.events GROUP BY event_key ORDER BY event_key";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the comparison and returns a Markdown section. */
export async function duckdbLakeBench(options: DuckdbLakeBenchOptions = {}): Promise<string> {
  const rows = options.rows ?? 10_000_000;
  const dayCount = options.days ?? 10;
  const runs = options.runs ?? 7;
  const dir = await Deno.makeTempDir({ prefix: "eventlake-bench-duckdb-" });
  // The generated lake is kept under .artifacts/ (git-ignored) and reused by later runs.
  const lakeDir = fileURLToPath(
    new URL(`../../.artifacts/bench/dataquery-lake-${rows}-${dayCount}/`, import.meta.url),
  );
  const complete = join(lakeDir, "_COMPLETE");
  const perDay = Math.ceil(rows / dayCount);
  const t0 = performance.now();
  let reused = true;
  if (!(await exists(complete))) {
    reused = false;
    await Deno.remove(lakeDir, { recursive: true }).catch(() => {});
    await Deno.mkdir(lakeDir, { recursive: true });
    await landFixtureDays(
      lakeDir,
      DEFAULT_LAKE_TABLE,
      Array.from({ length: dayCount }, (_, d) => {
        const date = new Date(Date.UTC(2023, 0, 1 + d)).toISOString().slice(0, 10);
        const from = d * perDay;
        const to = Math.min(rows, from + perDay);
        return {
          date,
          sql: `SELECT TIMESTAMPTZ '${date} 00:00:00+00' + to_milliseconds(i - ${from}) AS ts,
          'event_' || (hash(i) % 100) AS event_key, ((i % 1000000) / 1000)::DECIMAL(24,6) AS metric_value,
          MAP {'os': CASE WHEN i % 2 = 0 THEN 'ios' ELSE 'android' END} AS user_properties
          FROM range(${from}, ${to}) t(i)`,
        };
      }),
    );
    await Deno.writeTextFile(complete, new Date().toISOString());
  }
  const generateMs = performance.now() - t0;
  const files: string[] = [];
  for await (const day of Deno.readDir(join(lakeDir, "data_catalog/default/events"))) {
    if (!day.isDirectory) continue;
    for await (const f of Deno.readDir(join(lakeDir, "data_catalog/default/events", day.name))) {
      if (f.name.endsWith(".parquet")) {
        files.push(join(lakeDir, "data_catalog/default/events", day.name, f.name));
      }
    }
  }
  const engine = await createDuckDbEngine({
    home: join(dir, "home"),
    lake: createLocalStore(lakeDir),
  });
  const service = createQueryService({
    engine,
    statePath: join(dir, "state.sqlite"),
    buckets: createStaticBucketResolver({ results: createMemoryStore({ name: "results" }) }),
    encryptionKey: "benchmark key, not a secret at all",
    lakeStore: createLocalStore(lakeDir),
    workers: 1,
  });
  const direct = await openPlainDuckDb();
  const identity = { name: "bench@example.com" };
  try {
    await direct.run("ATTACH ':memory:' AS data_catalog");
    await direct.run(`CREATE SCHEMA data_catalog."default"`);
    await direct.run(
      `CREATE VIEW data_catalog."default".events AS SELECT * FROM read_parquet([${
        files.map((f) => `'${f}'`).join(", ")
      }], hive_partitioning = true, hive_types = {'dt': VARCHAR})`,
    );
    const viaService = async () => {
      const start = performance.now();
      const { queryInfo } = await service.submit(identity, {
        query: SQL,
        resultConfig: { bucketName: "results", path: "bench" },
      });
      const state = await service.settled(queryInfo.queryId);
      const ms = performance.now() - start;
      const result = await service.get(identity, queryInfo.queryId);
      if (state !== "FINISHED") {
        throw new Error(`Benchmark query ended ${state}: ${result.queryInfo.errorMessage}`);
      }
      return { ms, rows: result.queryData };
    };
    const viaDuckDb = async () => {
      const start = performance.now();
      const out = await direct.run(SQL);
      return { ms: performance.now() - start, rows: out };
    };
    const warmService = await viaService();
    const warmDirect = await viaDuckDb();
    const same = JSON.stringify(warmService.rows) === JSON.stringify(warmDirect.rows.slice(0, 100));
    const s: number[] = [];
    const d: number[] = [];
    for (let i = 0; i < runs; i++) {
      s.push((await viaService()).ms);
      d.push((await viaDuckDb()).ms);
    }
    const ratio = median(s) / median(d);
    const ms = (n: number) => `${n.toFixed(0)} ms`;
    return [
      `### GROUP BY over a ${
        rows.toLocaleString("en-US")
      }-row lake table: service + DuckDB engine vs DuckDB directly`,
      "",
      `Query: \`${SQL}\`. Lake: ${dayCount} days, one Parquet file each (${
        reused ? "reused from .artifacts/" : `written by DuckDB in ${ms(generateMs)}`
      }, not measured). Service: submit → FINISHED (1 worker, SQLite state on disk, CSV into an ` +
      "in-memory bucket). Reference: the same SQL on a plain DuckDB instance in the same process " +
      "(same view over the same files, same default thread count), rows read into JS. " +
      `${runs} alternating runs each after one warm-up; medians.`,
      "",
      "| measure | value |",
      "| --- | --- |",
      `| service, submit → FINISHED (median; min / max) | ${ms(median(s))} (${
        ms(Math.min(...s))
      } / ${ms(Math.max(...s))}) |`,
      `| DuckDB directly (median; min / max) | ${ms(median(d))} (${ms(Math.min(...d))} / ${
        ms(Math.max(...d))
      }) |`,
      `| ratio service / direct (target ≤ 1.15×) | ${ratio.toFixed(2)}× ${
        ratio <= 1.15 ? "✅" : "❌"
      } |`,
      `| same rows from both | ${same ? "yes" : "NO"} |`,
      `| ratio of the fastest runs (less sensitive to other load on the machine) | ${
        (Math.min(...s) / Math.min(...d)).toFixed(2)
      }× |`,
    ].join("\n");
  } finally {
    direct.close();
    await service.close();
    await engine.close();
    await Deno.remove(dir, { recursive: true });
  }
}

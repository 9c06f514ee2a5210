/**
 * Benchmark of the Data Query service (`@eventlake/dataquery`), with its reference measured in
 * the same run:
 *
 * - **1,000 small queries submitted at once** through the service (SQLite state on disk, results
 *   streamed as CSV + metadata into an in-memory bucket, 4 workers, a queue of 1,000): all must
 *   finish; reports throughput, queue wait (submit → engine start) and elapsed time per query.
 * - **Reference**: the same engine calls made directly, with the same concurrency and no service
 *   (no state, no result files). The ratio and the per-query difference are the service's cost.
 *
 * The engine is a constant one-row engine defined here, so the numbers are the service's own
 * overhead.
 * - **10M-row lake table**: GROUP BY over `event_key` submitted through the service with the
 *   DuckDB engine, against the same SQL run directly on a plain DuckDB instance in the same
 *   process (target ≤ 1.15×); see `packages/dataquery/_duckdb_bench.ts`.
 *
 * Usage: `deno run -A scripts/bench/dataquery.ts [--queries 1000] [--workers 4] [--lake-rows 10000000]`
 * (`--lake-rows 0` skips the lake table).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createMemoryStore } from "@eventlake/storage";
import {
  createQueryService,
  createStaticBucketResolver,
  type EngineResult,
  type QueryEngine,
} from "@eventlake/dataquery";
import { duckdbLakeBench } from "../../packages/dataquery/_duckdb_bench.ts";

/** Options of {@linkcode bench}. */
export interface DataqueryBenchOptions {
  /** Queries submitted at once (default 1,000). */
  queries?: number;
  /** Service workers and reference concurrency (default 4). */
  workers?: number;
  /** Rows of the lake table of the DuckDB comparison (default 10,000,000; 0 skips it). */
  lakeRows?: number;
}

/** A constant engine: one row per statement; records when each statement started. */
function constantEngine(started: Map<string, number>): QueryEngine {
  return {
    name: "constant",
    execute(sql: string): Promise<EngineResult> {
      started.set(sql, performance.now());
      return Promise.resolve({
        columns: [{ name: "n", type: "integer" }, { name: "sql", type: "varchar" }],
        rows: (async function* () {
          yield [["1", sql]];
        })(),
        stats: () => ({ inputRows: 0, inputBytes: 0, scannedBytes: 0 }),
      });
    },
    testDataSource: () => Promise.resolve(),
    tableChanged: () => {},
    close: () => Promise.resolve(),
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

async function throughViaService(queries: number, workers: number) {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-bench-dq-" });
  const started = new Map<string, number>();
  const bucket = createMemoryStore({ name: "bench-results" });
  const service = createQueryService({
    engine: constantEngine(started),
    statePath: `${dir}/state.sqlite`,
    buckets: createStaticBucketResolver({ "bench-bucket": bucket }),
    encryptionKey: "benchmark key, not a secret at all",
    workers,
    queueSize: queries,
  });
  const identity = { name: "bench@example.com" };
  try {
    const submittedAt = new Map<string, number>();
    const t0 = performance.now();
    const ids = await Promise.all(
      Array.from({ length: queries }, async (_, i) => {
        const sql = `select ${i}`;
        submittedAt.set(sql, performance.now());
        const { queryInfo } = await service.submit(identity, {
          query: sql,
          resultConfig: { bucketName: "bench-bucket", path: "bench" },
        });
        return queryInfo.queryId;
      }),
    );
    const states = await Promise.all(ids.map((id) => service.settled(id)));
    const total = performance.now() - t0;
    const finished = states.filter((s) => s === "FINISHED").length;
    const waits = [...submittedAt].map(([sql, at]) => (started.get(sql) ?? at) - at).sort((a, b) =>
      a - b
    );
    return { total, finished, waits };
  } finally {
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function throughEngineDirectly(queries: number, workers: number) {
  const engine = constantEngine(new Map());
  const controller = new AbortController();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < queries) {
      const i = next++;
      const result = await engine.execute(`select ${i}`, {
        dataSources: [],
        signal: controller.signal,
      });
      for await (const _ of result.rows) { /* drain */ }
    }
  }));
  return performance.now() - t0;
}

/** Runs the benchmark and returns a Markdown section. */
export async function bench(options: DataqueryBenchOptions = {}): Promise<string> {
  const queries = options.queries ?? 1000;
  const workers = options.workers ?? 4;
  const lakeRows = options.lakeRows ?? 10_000_000;
  // Warm up both paths (JIT, SQLite) on a few queries, then measure.
  await throughViaService(20, workers);
  await throughEngineDirectly(20, workers);
  const service = await throughViaService(queries, workers);
  const direct = await throughEngineDirectly(queries, workers);
  const perQuery = (service.total - direct) / queries;
  return [
    "## Data Query service",
    "",
    `Command: \`deno run -A scripts/bench/dataquery.ts --queries ${queries} --workers ${workers}\`. ` +
    "Engine: a constant one-row engine (the service's own cost); state: SQLite on disk (WAL); " +
    "results: CSV + metadata into an in-memory bucket.",
    "",
    `### ${queries} small queries submitted at once (${workers} workers)`,
    "",
    "| measure | value |",
    "| --- | --- |",
    `| finished | ${service.finished} / ${queries} |`,
    `| wall time, all submitted → all FINISHED | ${ms(service.total)} |`,
    `| throughput | ${(queries / (service.total / 1000)).toFixed(0)} queries/s |`,
    `| queue wait (submit → engine start) p50 / p95 / max | ${
      ms(percentile(service.waits, 50))
    } / ${ms(percentile(service.waits, 95))} / ${ms(service.waits.at(-1) ?? 0)} |`,
    `| reference: same engine calls without the service | ${ms(direct)} |`,
    `| ratio service / direct | ${(service.total / Math.max(direct, 0.001)).toFixed(1)}× |`,
    `| service cost per query | ${ms(perQuery)} |`,
    "",
    lakeRows > 0
      ? await duckdbLakeBench({ rows: lakeRows })
      : "The 10M-row lake table comparison was skipped (`--lake-rows 0`).",
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      queries: { type: "string" },
      workers: { type: "string" },
      "lake-rows": { type: "string" },
    },
  });
  console.log(
    await bench({
      queries: values.queries ? Number(values.queries) : undefined,
      workers: values.workers ? Number(values.workers) : undefined,
      lakeRows: values["lake-rows"] !== undefined ? Number(values["lake-rows"]) : undefined,
    }),
  );
}

/**
 * Benchmark of `writeEvents` (`@eventlake/parquet`), with its references measured in the same run:
 *
 * - `writeEvents` of N realistic events (random UUIDs, 3–6 keys per map) from JS objects to a file;
 * - DuckDB's own `COPY (SELECT * FROM t) TO 'x.parquet' (FORMAT parquet)` of the same rows from an
 *   in-memory table, on 1 thread and on 2 (the native ceiling for this schema);
 * - hyparquet-writer used naively (`parquetWriteRows` fed the row objects) on 200k rows;
 * - peak RSS of a child process that writes `--rss-rows` events generated lazily (`/usr/bin/time -v`).
 *
 * Usage: `deno run -A scripts/bench/parquet_write.ts [--rows 1000000] [--rss-rows 10000000]`
 * (`--rss-rows 0` skips the child). `deno task bench` runs it with the defaults.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { ByteWriter, parquetWriteRows } from "hyparquet-writer";
import type { Event } from "@eventlake/schema";
import { createEventGenerator } from "@eventlake/schema/testing";
import { writeEvents } from "@eventlake/parquet";
import { EVENT_SCHEMA } from "../../packages/parquet/_write_schema.ts";

/** Options of {@linkcode bench}. */
export interface ParquetWriteBenchOptions {
  /** Events written by `writeEvents` and DuckDB (default 1,000,000). */
  rows?: number;
  /** Events written by the naive hyparquet-writer contrast (default 200,000). */
  naiveRows?: number;
  /** Events written by the peak-RSS child (default 10,000,000; 0 skips it). */
  rssRows?: number;
}

// ------------------------------------------------------------------ events

/** Users the bench events are spread over (distinct ids, device ids, sessions). */
const BENCH_USERS = 100_000;

/**
 * Realistic events, lazily and deterministically, from the schema package's generator
 * (random UUIDs, 3–6 keys per property map, identifiers and platform maps as real SDKs send).
 */
export function* benchEvents(count: number, seed = 42): Generator<Event> {
  const next = createEventGenerator({ seed, users: BENCH_USERS });
  for (let i = 0; i < count; i++) yield next();
}

// ------------------------------------------------------------------ measurements

async function timeWriteEvents(events: Event[], path: string): Promise<number> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const t0 = performance.now();
  await writeEvents(events, file.writable);
  return (performance.now() - t0) / 1000;
}

async function duckdbCopy(
  source: string,
  dir: string,
): Promise<{ one: number; two: number }> {
  const instance = await DuckDBInstance.create(":memory:", {
    home_directory: dir,
    extension_directory: `${dir}/duckdb_ext`,
  });
  const conn = await instance.connect();
  try {
    await conn.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${source}')`);
    const copy = async (threads: number) => {
      await conn.run(`SET threads = ${threads}`);
      const t0 = performance.now();
      await conn.run(`COPY (SELECT * FROM t) TO '${dir}/duckdb.parquet' (FORMAT parquet)`);
      return (performance.now() - t0) / 1000;
    };
    await copy(1); // warm-up
    return { one: await copy(1), two: await copy(2) };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

function timeNaive(events: Event[]): number {
  const writer = new ByteWriter();
  const t0 = performance.now();
  parquetWriteRows({
    writer,
    rows: events as unknown as Record<string, unknown>[],
    columns: EVENT_SCHEMA.slice(1).filter((e) =>
      e.name !== "key_value" && e.name !== "key" &&
      e.name !== "value"
    ).map((e) => ({ name: e.name })),
    schema: EVENT_SCHEMA,
    rowGroupSize: 100_000,
  });
  return (performance.now() - t0) / 1000;
}

/** Peak RSS (bytes) and rows/s of a child process writing `rows` lazily generated events. */
async function childPeakRss(rows: number, dir: string): Promise<{ rss: number; seconds: number }> {
  const self = new URL(import.meta.url).pathname;
  const out = await new Deno.Command("/usr/bin/time", {
    args: [
      "-v",
      Deno.execPath(),
      "run",
      "-A",
      self,
      "--child",
      String(rows),
      "--out",
      `${dir}/rss.parquet`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`RSS child failed: ${stderr.slice(-2000)}`);
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const seconds = Number(new TextDecoder().decode(out.stdout).trim());
  return { rss: kb ? Number(kb[1]) * 1024 : NaN, seconds };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** Runs the benchmark and returns a Markdown section. */
export async function bench(options: ParquetWriteBenchOptions = {}): Promise<string> {
  const rows = options.rows ?? 1_000_000;
  const naiveRows = options.naiveRows ?? 200_000;
  const rssRows = options.rssRows ?? 10_000_000;
  const dir = await Deno.makeTempDir({ prefix: "eventlake_bench_pqw_" });
  try {
    const events = Array.from(benchEvents(rows));
    // Warm up the JIT on a small file, then measure.
    await timeWriteEvents(events.slice(0, 50_000), `${dir}/warm.parquet`);
    const ours = await timeWriteEvents(events, `${dir}/ours.parquet`);
    const size = (await Deno.stat(`${dir}/ours.parquet`)).size;
    const duck = await duckdbCopy(`${dir}/ours.parquet`, dir);
    const duckSize = (await Deno.stat(`${dir}/duckdb.parquet`)).size;
    const naiveEvents = events.slice(0, naiveRows);
    events.length = 0;
    const naive = timeNaive(naiveEvents);
    const rss = rssRows > 0 ? await childPeakRss(rssRows, dir) : undefined;

    const oursRate = rows / ours;
    const lines = [
      "## Parquet writer (`writeEvents`)",
      "",
      `Command: \`deno run -A scripts/bench/parquet_write.ts --rows ${rows} --rss-rows ${rssRows}\`. ` +
      `Events from \`createEventGenerator({ users: ${
        fmt(BENCH_USERS)
      } })\` (random UUIDs, 3–6 keys per ` +
      `property map), SNAPPY, row groups of 100,000.`,
      "",
      "| writer | rows | seconds | rows/s | file MB | vs writeEvents |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      `| \`writeEvents\` (from JS objects) | ${fmt(rows)} | ${ours.toFixed(2)} | ${
        fmt(oursRate)
      } | ${(size / 1e6).toFixed(1)} | 1.00 |`,
      `| DuckDB \`COPY … TO parquet\`, 1 thread | ${fmt(rows)} | ${duck.one.toFixed(2)} | ${
        fmt(rows / duck.one)
      } | ${(duckSize / 1e6).toFixed(1)} | ${(ours / duck.one).toFixed(2)} |`,
      `| DuckDB \`COPY … TO parquet\`, 2 threads | ${fmt(rows)} | ${duck.two.toFixed(2)} | ${
        fmt(rows / duck.two)
      } | ${(duckSize / 1e6).toFixed(1)} | ${(ours / duck.two).toFixed(2)} |`,
      `| hyparquet-writer naive (\`parquetWriteRows\`) | ${fmt(naiveRows)} | ${
        naive.toFixed(2)
      } | ${fmt(naiveRows / naive)} | – | ${((naiveRows / naive) / oursRate).toFixed(2)} |`,
      "",
      `Ratio writeEvents / DuckDB 1 thread: **${
        (duck.one / ours).toFixed(2)
      }×** the native rows/s ` +
      `(2 threads: ${(duck.two / ours).toFixed(2)}×). Last column: rows/s relative to writeEvents.`,
    ];
    if (rss !== undefined) {
      lines.push(
        "",
        `Peak RSS writing ${fmt(rssRows)} lazily generated events in a child process ` +
          `(\`/usr/bin/time -v\`, generation included): **${
            (rss.rss / 2 ** 20).toFixed(0)
          } MiB**, ` +
          `${fmt(rssRows / rss.seconds)} rows/s including generation.`,
      );
    }
    return lines.join("\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rows: { type: "string" },
      "naive-rows": { type: "string" },
      "rss-rows": { type: "string" },
      child: { type: "string" },
      out: { type: "string" },
    },
  });
  if (values.child !== undefined) {
    // The peak-RSS child: write lazily generated events, print the seconds taken.
    const file = await Deno.open(values.out ?? "/dev/null", {
      write: true,
      create: true,
      truncate: true,
    });
    const t0 = performance.now();
    await writeEvents(benchEvents(Number(values.child)), file.writable);
    console.log(((performance.now() - t0) / 1000).toFixed(3));
  } else {
    console.log(
      await bench({
        rows: values.rows ? Number(values.rows) : undefined,
        naiveRows: values["naive-rows"] ? Number(values["naive-rows"]) : undefined,
        rssRows: values["rss-rows"] ? Number(values["rss-rows"]) : undefined,
      }),
    );
  }
}

/**
 * Benchmark of `writeEvents` (`@eventlake/parquet`), with its references measured in the same run:
 *
 * - `writeEvents` of N realistic events (random UUIDs, 3–6 keys per map) from JS objects to a file,
 *   on one thread (the default), with a new encoding worker (`worker: true`) and with a warm one
 *   from a `WriteWorkerPool` (a process writing many files);
 * - DuckDB's own `COPY (SELECT * FROM t) TO 'x.parquet' (FORMAT parquet)` of the same rows from an
 *   in-memory table, on 1 thread and on 2 (the native ceiling for this schema);
 * - hyparquet-writer used naively (`parquetWriteRows` fed the row objects) on 100k rows;
 * - peak RSS of a child process that writes `--rss-rows` events generated lazily (`/usr/bin/time -v`),
 *   with the default options and (`--rss-worker`) with `worker: true`.
 *
 * Usage: `deno run -A scripts/bench/parquet_write.ts [--rows 1000000] [--rss-rows 10000000] [--rss-worker]`
 * (`--rss-rows 0` skips the child). `deno task bench` runs it with the defaults.
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { ByteWriter, parquetWriteRows } from "hyparquet-writer";
import type { Event } from "@eventlake/schema";
import { createEventGenerator } from "@eventlake/schema/testing";
import { writeEvents, type WriteEventsOptions, WriteWorkerPool } from "@eventlake/parquet";
import { EVENT_SCHEMA } from "../../packages/parquet/_write_schema.ts";
import { runChildMeasured } from "./_child.ts";
import { targetVerdict } from "./_reference.ts";

/** Options of {@linkcode bench}. */
export interface ParquetWriteBenchOptions {
  /** Events written by `writeEvents` and DuckDB (default 1,000,000). */
  rows?: number;
  /** Events written by the naive hyparquet-writer contrast (default and at most 100,000). */
  naiveRows?: number;
  /** Events written by the peak-RSS child (default 10,000,000; 0 skips it). */
  rssRows?: number;
  /** Also measure the peak RSS of a child writing with `worker: true`. */
  rssWorker?: boolean;
}

// ------------------------------------------------------------------ events

/** Distinct events the writer cycles over (see `bench`). */
const POOL_SIZE = 100_000;
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

/** `rows` events cycling over `pool`: the writer sees `rows` objects, the heap holds only the pool. */
function* cycle(pool: Event[], rows: number): Generator<Event> {
  for (let i = 0, j = 0; i < rows; i++) {
    yield pool[j];
    if (++j === pool.length) j = 0;
  }
}

/** Wall-clock and process CPU seconds of one measurement. */
interface Timing {
  wall: number;
  cpu: number;
}

/**
 * Times `fn` by the wall clock and by this process's CPU time. The machines this runs on are
 * shared and noisy: CPU time (which counts V8's GC threads and DuckDB's worker threads too)
 * is the steadier of the two.
 */
async function measure(fn: () => unknown): Promise<Timing> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6 };
}

async function timeWriteEvents(
  pool: Event[],
  rows: number,
  path: string,
  options: WriteEventsOptions = {},
): Promise<Timing> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  return await measure(() => writeEvents(cycle(pool, rows), file.writable, options));
}

/** DuckDB holding the rows in an in-memory table, ready to `COPY` them to Parquet. */
interface DuckCopier {
  /** Times one `COPY (SELECT * FROM t) TO … (FORMAT parquet)` on `threads` threads. */
  copy(threads: number): Promise<Timing>;
  close(): void;
}

async function duckdbCopier(source: string, dir: string): Promise<DuckCopier> {
  // Imported here, not at the top: the peak-RSS child must not map DuckDB's native library.
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const instance = await DuckDBInstance.create(":memory:", {
    home_directory: dir,
    extension_directory: `${dir}/duckdb_ext`,
  });
  const conn = await instance.connect();
  await conn.run(`CREATE TABLE t AS SELECT * FROM read_parquet('${source}')`);
  return {
    async copy(threads) {
      await conn.run(`SET threads = ${threads}`);
      return await measure(() =>
        conn.run(`COPY (SELECT * FROM t) TO '${dir}/duckdb.parquet' (FORMAT parquet)`)
      );
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** The faster (by wall clock) of two timings. */
const best = (a: Timing, b: Timing): Timing => (a.wall <= b.wall ? a : b);

function timeNaive(events: Event[]): Promise<Timing> {
  const writer = new ByteWriter();
  return measure(() =>
    parquetWriteRows({
      writer,
      rows: events as unknown as Record<string, unknown>[],
      columns: EVENT_SCHEMA.slice(1).filter((e) =>
        e.name !== "key_value" && e.name !== "key" &&
        e.name !== "value"
      ).map((e) => ({ name: e.name })),
      schema: EVENT_SCHEMA,
      rowGroupSize: 100_000,
    })
  );
}

/** Peak RSS (bytes) and rows/s of a child process writing `rows` lazily generated events. */
async function childPeakRss(
  rows: number,
  dir: string,
  worker = false,
  generateOnly = false,
): Promise<{ rss: number; seconds: number }> {
  const child = await runChildMeasured(import.meta.url, [
    "--child",
    String(rows),
    "--out",
    `${dir}/rss.parquet`,
    ...(worker ? ["--worker"] : []),
    ...(generateOnly ? ["--generate-only"] : []),
  ]);
  return { rss: child.rss, seconds: Number(child.stdout.trim()) };
}

/** The event as an importer gets it: parsed from JSON (flat strings), the decimal back to a bigint. */
function viaJson(e: Event): Event {
  const json = JSON.stringify(e, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  const parsed = JSON.parse(json);
  parsed.metric_value = BigInt(parsed.metric_value);
  return parsed;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** Runs the benchmark and returns a Markdown section. */
export async function bench(options: ParquetWriteBenchOptions = {}): Promise<string> {
  const rows = options.rows ?? 1_000_000;
  const naiveRows = Math.min(options.naiveRows ?? 100_000, POOL_SIZE);
  const rssRows = options.rssRows ?? 10_000_000;
  const dir = await Deno.makeTempDir({ prefix: "eventlake_bench_pqw_" });
  try {
    // The writer gets `rows` JS objects, cycling over a pool of POOL_SIZE pre-made events: a
    // streaming importer never holds a million events, and a heap of a million would time V8's
    // garbage collector more than the writer. First the generator's objects (their UUIDs are
    // concatenated "rope" strings), then the same events as an importer gets them from
    // JSON.parse (flat strings). A warm-up file first, for the JIT.
    const pool = Array.from(benchEvents(Math.min(POOL_SIZE, rows)));
    await timeWriteEvents(pool, 50_000, `${dir}/warm.parquet`);
    const oursRope = await timeWriteEvents(pool, rows, `${dir}/ours.parquet`);
    for (let i = 0; i < pool.length; i++) pool[i] = viaJson(pool[i]);
    await timeWriteEvents(pool, 50_000, `${dir}/warm.parquet`);
    await timeWriteEvents(pool, 50_000, `${dir}/warm.parquet`, { worker: true });
    // A write worker pool, warmed by one file of two row groups (its worker then stays warm).
    const workers = new WriteWorkerPool();
    await timeWriteEvents(pool, 200_000, `${dir}/warm.parquet`, { workerPool: workers });
    // Ours and DuckDB's one-thread COPY take turns, twice, and each keeps its faster run: the
    // machine's speed drifts by a quarter within minutes, and the ratio is what counts.
    let ours = await timeWriteEvents(pool, rows, `${dir}/ours.parquet`);
    const size = (await Deno.stat(`${dir}/ours.parquet`)).size;
    const copier = await duckdbCopier(`${dir}/ours.parquet`, dir);
    const duck = { one: { wall: 0, cpu: 0 }, two: { wall: 0, cpu: 0 } };
    let withWorker: Timing;
    let pooled: Timing;
    try {
      await copier.copy(1); // warm-up
      duck.one = await copier.copy(1);
      ours = best(ours, await timeWriteEvents(pool, rows, `${dir}/ours.parquet`));
      duck.one = best(duck.one, await copier.copy(1));
      withWorker = await timeWriteEvents(pool, rows, `${dir}/worker.parquet`, { worker: true });
      duck.two = await copier.copy(2);
      pooled = await timeWriteEvents(pool, rows, `${dir}/pooled.parquet`, { workerPool: workers });
      duck.two = best(duck.two, await copier.copy(2));
      pooled = best(
        pooled,
        await timeWriteEvents(pool, rows, `${dir}/pooled.parquet`, { workerPool: workers }),
      );
    } finally {
      copier.close();
      workers.close();
    }
    const duckSize = (await Deno.stat(`${dir}/duckdb.parquet`)).size;
    const naive = await timeNaive(pool.slice(0, naiveRows));
    pool.length = 0;
    const rss = rssRows > 0 ? await childPeakRss(rssRows, dir) : undefined;
    // The same events generated and dropped: what the generator alone holds.
    const rssGen = rssRows > 0 ? await childPeakRss(rssRows, dir, false, true) : undefined;
    const rssW = rssRows > 0 && options.rssWorker
      ? await childPeakRss(rssRows, dir, true)
      : undefined;

    const row = (name: string, n: number, t: Timing, mb: string) =>
      `| ${name} | ${fmt(n)} | ${t.wall.toFixed(2)} | ${fmt(n / t.wall)} | ${t.cpu.toFixed(2)} | ` +
      `${fmt(n / t.cpu)} | ${mb} | ${((n / t.wall) / (rows / ours.wall)).toFixed(2)} | ` +
      `${((n / t.cpu) / (rows / ours.cpu)).toFixed(2)} |`;
    const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
    const lines = [
      "## Parquet writer (`writeEvents`)",
      "",
      `Command: \`deno run -A scripts/bench/parquet_write.ts --rows ${rows} --rss-rows ${rssRows}\`. ` +
      `Events from \`createEventGenerator({ users: ${fmt(BENCH_USERS)} })\` (random UUIDs, ` +
      `3–6 keys per property map), cycling over ${fmt(POOL_SIZE)} pre-made objects; SNAPPY, ` +
      `row groups of 100,000. CPU = this process's user+system CPU seconds. \`writeEvents\` ` +
      `(JSON objects) and DuckDB's one-thread COPY ran twice, alternately, and so did the ` +
      `warm \`workerPool\` writes and DuckDB's two-thread COPY; each row is its faster run.`,
      "",
      "| writer | rows | wall s | rows/s | CPU s | rows/CPU-s | file MB | rows/s vs ours | rows/CPU-s vs ours |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      row("`writeEvents`, objects as parsed from JSON", rows, ours, mb(size)),
      row(
        "`writeEvents`, objects as parsed from JSON, `worker: true` (a new worker)",
        rows,
        withWorker,
        mb(size),
      ),
      row(
        "`writeEvents`, objects as parsed from JSON, `workerPool` (a warm worker)",
        rows,
        pooled,
        mb(size),
      ),
      row("`writeEvents`, generator objects (rope strings)", rows, oursRope, mb(size)),
      row("DuckDB `COPY … TO parquet`, 1 thread", rows, duck.one, mb(duckSize)),
      row("DuckDB `COPY … TO parquet`, 2 threads", rows, duck.two, mb(duckSize)),
      row("hyparquet-writer naive (`parquetWriteRows`)", naiveRows, naive, "–"),
      "",
      `writeEvents ÷ DuckDB 1 thread: **${
        ((rows / ours.wall) / (rows / duck.one.wall)).toFixed(2)
      }×** ` +
      `by wall clock, **${
        ((rows / ours.cpu) / (rows / duck.one.cpu)).toFixed(2)
      }×** by CPU time; ` +
      `with \`worker: true\` ÷ DuckDB 2 threads: ` +
      `**${((rows / withWorker.wall) / (rows / duck.two.wall)).toFixed(2)}×**, with a warm ` +
      `\`workerPool\`: **${
        ((rows / pooled.wall) / (rows / duck.two.wall)).toFixed(2)
      }×** by wall clock.`,
      "",
      targetVerdict("`writeEvents` (one thread)", rows / ours.wall, 300_000, rows / duck.one.wall),
      "",
      targetVerdict(
        "`writeEvents` with a warm `workerPool` (two threads)",
        rows / pooled.wall,
        300_000,
        rows / duck.one.wall,
      ),
    ];
    if (rss !== undefined) {
      lines.push(
        "",
        `Peak RSS writing ${fmt(rssRows)} lazily generated events in a child process ` +
          `(\`/usr/bin/time -v\`, generation included): **${
            (rss.rss / 2 ** 20).toFixed(0)
          } MiB** = ${(rss.rss / 1e6).toFixed(0)} MB (target < 300 MB: ${
            rss.rss < 300e6 ? "met" : "**not met**"
          }), ` +
          `${fmt(rssRows / rss.seconds)} rows/s including generation. The generator alone ` +
          `(the same events made and dropped) peaks at ${(rssGen!.rss / 2 ** 20).toFixed(0)} MiB.`,
      );
    }
    if (rssW !== undefined) {
      lines.push(
        "",
        `The same with \`worker: true\`: **${(rssW.rss / 2 ** 20).toFixed(0)} MiB**, ` +
          `${fmt(rssRows / rssW.seconds)} rows/s including generation.`,
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
      "rss-worker": { type: "boolean" },
      worker: { type: "boolean" },
      "generate-only": { type: "boolean" },
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
    if (values["generate-only"]) {
      let n = 0;
      for (const e of benchEvents(Number(values.child))) if (e.ts > 0) n++;
      if (n < 0) console.error(n); // keeps the loop's work observable
    } else {
      await writeEvents(benchEvents(Number(values.child)), file.writable, {
        worker: values.worker === true,
      });
    }
    console.log(((performance.now() - t0) / 1000).toFixed(3));
  } else {
    console.log(
      await bench({
        rows: values.rows ? Number(values.rows) : undefined,
        naiveRows: values["naive-rows"] ? Number(values["naive-rows"]) : undefined,
        rssRows: values["rss-rows"] ? Number(values["rss-rows"]) : undefined,
        rssWorker: values["rss-worker"] === true,
      }),
    );
  }
}

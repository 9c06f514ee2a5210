/**
 * Benchmark of one import run (`runImport` of `@eventlake/dataimport`: id pre-pass, read, check,
 * de-duplicate, write, land), with its reference measured in the same run:
 *
 * - `runImport` of a day of N rows (two parts, 1% in-day duplicates) from a local folder into a
 *   local lake, dedup window 7 days (the earlier days are empty, so the window costs lookups only),
 *   twice in this thread (a one-shot CLI run) and twice with an `ImportWorkerPool` (the scheduler,
 *   a backfill, the gateway: workers stay warm from run to run);
 * - DuckDB doing `COPY (SELECT DISTINCT ON (insert_id) * FROM read_parquet([...])) TO …` of the
 *   same parts, on 1 thread and on 2;
 * - DuckDB's one-thread `COPY` of the same rows from an in-memory table: issue 2's reference,
 *   which gives the target at this machine's speed (see `_reference.ts`);
 * - peak RSS of a child process importing a `--rss-rows` day (`/usr/bin/time -v`).
 *
 * Usage: `deno run -A scripts/bench/dataimport.ts [--rows 1000000] [--rss-rows 10000000]
 * [--workers N] [--rss-workers N]` (`--workers` for the timed runs, `--rss-workers` for the
 * peak-RSS child; default: `runImport`'s choice, 1 = in-thread)
 * (`--rss-rows 0` skips the child). `deno task bench` runs it with the defaults.
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { DuckDBInstance } from "@duckdb/node-api";
import type { Event } from "@eventlake/schema";
import { createEventGenerator } from "@eventlake/schema/testing";
import { writeEvents } from "@eventlake/parquet";
import { createLocalStore } from "@eventlake/storage/local";
import { ImportWorkerPool, runImport, type RunReport } from "@eventlake/dataimport";
import { runChildMeasured } from "./_child.ts";
import { targetVerdict } from "./_reference.ts";

/** Options of {@linkcode bench}. */
export interface DataImportBenchOptions {
  /** Rows of the imported day (default 1,000,000). */
  rows?: number;
  /** Rows of the day imported by the peak-RSS child (default 10,000,000; 0 skips it). */
  rssRows?: number;
  /** Import workers of the peak-RSS child (default: `runImport`'s choice; 1 = in-thread). */
  rssWorkers?: number;
  /** Import workers of the timed runs (default: `runImport`'s choice; 1 = in-thread). */
  workers?: number;
}

const DATE = "2023-01-01";
const ROWS_PER_PART = 1_000_000;

/** `rows` events; every 100th repeats the one before (an in-day duplicate). */
function* dayEvents(rows: number, seed: number): Generator<Event> {
  const next = createEventGenerator({ seed, users: 100_000, day: DATE });
  let previous: Event | undefined;
  for (let i = 0; i < rows; i++) {
    const event: Event = i % 100 === 99 && previous ? previous : next();
    previous = event;
    yield event;
  }
}

/** Writes a ready source day of `rows` rows under `dir/src/`; returns the part paths. */
async function writeSourceDay(dir: string, rows: number): Promise<string[]> {
  const day = `${dir}/src/dt=${DATE}`;
  await Deno.mkdir(day, { recursive: true });
  const parts = Math.max(2, Math.ceil(rows / ROWS_PER_PART));
  const paths: string[] = [];
  for (let p = 0; p < parts; p++) {
    const n = Math.floor(rows / parts) + (p < rows % parts ? 1 : 0);
    const path = `${day}/${String(p).padStart(12, "0")}.parquet`;
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    await writeEvents(dayEvents(n, 1000 + p), file.writable);
    paths.push(path);
  }
  await Deno.writeFile(`${day}/_SUCCESS`, new Uint8Array(0));
  return paths;
}

/** CPU seconds (all threads of this process) spent in `fn`. */
async function cpuOf<T>(fn: () => Promise<T>): Promise<{ value: T; cpu: number }> {
  const before = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(before);
  return { value, cpu: (used.user + used.system) / 1e6 };
}

async function importDay(
  dir: string,
  lake: string,
  workers?: number,
  workerPool?: ImportWorkerPool,
): Promise<RunReport> {
  const report = await runImport(
    { store: createLocalStore(`${dir}/src`), prefix: "" },
    DATE,
    { lake: { store: createLocalStore(lake) }, dedupWindowDays: 7, workers, workerPool },
  );
  if (report.status !== "SUCCEEDED") {
    throw new Error(`Import ${report.status}: ${report.error?.message ?? ""}`);
  }
  return report;
}

/** DuckDB, open on the source parts: the reference runs of this benchmark. */
interface DuckRuns {
  /** `read_parquet` + `DISTINCT ON (insert_id)` + `COPY … TO parquet` on `threads` threads. */
  importDay(threads: number): Promise<Timing>;
  /** One-thread `COPY` of the day's rows from an in-memory table (issue 2's reference). */
  copyTable(): Promise<Timing>;
  /** Rows DuckDB's import kept. */
  keptRows(): Promise<number>;
  close(): void;
}

async function duckdbRuns(parts: string[], dir: string): Promise<DuckRuns> {
  const instance = await DuckDBInstance.create(":memory:", {
    home_directory: dir,
    extension_directory: `${dir}/duckdb_ext`,
  });
  const conn = await instance.connect();
  const list = parts.map((p) => `'${p}'`).join(", ");
  const timed = async (threads: number, sql: string): Promise<Timing> => {
    await conn.run(`SET threads = ${threads}`);
    const t = performance.now();
    const { cpu } = await cpuOf(() => conn.run(sql));
    return { wall: (performance.now() - t) / 1000, cpu };
  };
  let loaded = false;
  return {
    importDay: (threads) =>
      timed(
        threads,
        `COPY (SELECT DISTINCT ON (insert_id) * FROM read_parquet([${list}])) TO '${dir}/duck.parquet' (FORMAT parquet)`,
      ),
    async copyTable() {
      if (!loaded) {
        await conn.run(`CREATE TABLE t AS SELECT * FROM read_parquet([${list}])`);
        await timed(1, `COPY (SELECT * FROM t) TO '${dir}/copy.parquet' (FORMAT parquet)`);
        loaded = true;
      }
      return await timed(1, `COPY (SELECT * FROM t) TO '${dir}/copy.parquet' (FORMAT parquet)`);
    },
    async keptRows() {
      const reader = await conn.runAndReadAll(`SELECT count(*) FROM '${dir}/duck.parquet'`);
      return Number(reader.getRows()[0][0]);
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** The faster (by wall clock) of two timings. */
const best = (a: Timing, b: Timing): Timing => (a.wall <= b.wall ? a : b);

async function childPeakRss(rows: number, dir: string, workers?: number): Promise<
  { rss: number; seconds: number; report: RunReport }
> {
  const child = await runChildMeasured(import.meta.url, [
    "--child",
    dir,
    ...(workers !== undefined ? ["--workers", String(workers)] : []),
  ]);
  const report = JSON.parse(child.stdout) as RunReport;
  void rows;
  return { rss: child.rss, seconds: report.timings.totalMs / 1000, report };
}

/** Wall-clock and CPU seconds. */
interface Timing {
  wall: number;
  cpu: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

function line(what: string, rows: number, t: Timing, ours: Timing): string {
  return `| ${what} | ${t.wall.toFixed(2)} | ${fmt(rows / t.wall)} | ${t.cpu.toFixed(2)} | ${
    fmt(rows / t.cpu)
  } | ${(t.wall / ours.wall).toFixed(2)} |`;
}

/**
 * Runs the benchmark and returns its Markdown section.
 *
 * @example
 * ```ts ignore
 * import { bench } from "./dataimport.ts";
 * console.log(await bench({ rows: 100_000, rssRows: 0 }));
 * ```
 */
export async function bench(options: DataImportBenchOptions = {}): Promise<string> {
  const rows = options.rows ?? 1_000_000;
  const rssRows = options.rssRows ?? 10_000_000;
  const dir = await Deno.makeTempDir({ prefix: "eventlake-bench-import-" });
  try {
    const parts = await writeSourceDay(dir, rows);
    // Two ways a day is imported: in this thread (a one-shot `eventlake import run`), and with a
    // worker pool that stays warm from run to run (the scheduler, a backfill, the gateway). Each
    // gets a cold first run and a second one; ours and DuckDB's runs take turns, and each keeps
    // its faster run: the machine's speed drifts by a quarter within minutes, and the ratios
    // are what count.
    const runs = await duckdbRuns(parts, dir);
    const pool = new ImportWorkerPool();
    const duck = {
      one: { wall: 0, cpu: 0 },
      two: { wall: 0, cpu: 0 },
      copy: { wall: 0, cpu: 0 },
      rows: 0,
    };
    let lakes = 0;
    const ourRun = async (workerPool?: ImportWorkerPool) => {
      const run = await cpuOf(() =>
        importDay(dir, `${dir}/lake${++lakes}`, options.workers, workerPool)
      );
      return { report: run.value, wall: run.value.timings.totalMs / 1000, cpu: run.cpu };
    };
    let inThread, inThreadCold, pooled, pooledCold;
    try {
      inThreadCold = await ourRun();
      duck.one = await runs.importDay(1);
      duck.copy = await runs.copyTable();
      inThread = await ourRun();
      pooledCold = await ourRun(pool);
      duck.one = best(duck.one, await runs.importDay(1));
      duck.copy = best(duck.copy, await runs.copyTable());
      pooled = await ourRun(pool);
      duck.two = await runs.importDay(2);
      duck.rows = await runs.keptRows();
    } finally {
      runs.close();
      pool.close();
    }
    if (inThreadCold.wall < inThread.wall) inThread = inThreadCold;
    if (pooledCold.wall < pooled.wall) pooled = pooledCold;
    const bestReport = pooled.report;
    const ours: Timing = pooled;
    let rss: Awaited<ReturnType<typeof childPeakRss>> | undefined;
    if (rssRows > 0) {
      const rssDir = `${dir}/rss`;
      await writeSourceDay(rssDir, rssRows);
      rss = await childPeakRss(rssRows, rssDir, options.rssWorkers);
    }
    const t = bestReport.timings;
    const lines = [
      "## Data import (`runImport`: pre-pass, read, check, dedup, write, land)",
      "",
      `Command: \`deno run -A scripts/bench/dataimport.ts --rows ${rows} --rss-rows ${rssRows}${
        options.workers !== undefined ? ` --workers ${options.workers}` : ""
      }${options.rssWorkers !== undefined ? ` --rss-workers ${options.rssWorkers}` : ""}\`. ` +
      `One day of ${
        fmt(rows)
      } rows in ${parts.length} parts (1% in-day duplicates), local folder ` +
      "to local lake, dedup window 7 days; best of two runs (the first one cold) each way. " +
      "DuckDB does `read_parquet` + `DISTINCT ON (insert_id)` + `COPY … TO parquet` of the " +
      "same parts in the same run.",
      "",
      "| what | wall s | rows/s (wall) | CPU s | rows/CPU-s | wall ratio to ours |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      line(
        "eventlake `runImport`, worker pool (scheduler, backfill, gateway), best run",
        rows,
        ours,
        ours,
      ),
      line("eventlake `runImport`, worker pool, first run (cold workers)", rows, pooledCold, ours),
      line(
        "eventlake `runImport`, in this thread (one-shot CLI run), best run",
        rows,
        inThread,
        ours,
      ),
      line("eventlake `runImport`, in this thread, first run (cold)", rows, inThreadCold, ours),
      line("DuckDB, 1 thread", rows, duck.one, ours),
      line("DuckDB, 2 threads", rows, duck.two, ours),
      line(
        "DuckDB `COPY` of the rows from a table, 1 thread (issue 2's reference)",
        rows,
        duck.copy,
        ours,
      ),
      "",
      `Ours: accepted ${fmt(bestReport.rowsAccepted)}, duplicates ${
        fmt(bestReport.rowsDuplicate)
      } (DuckDB kept ${
        fmt(duck.rows)
      }); phases: pre-pass ${t.dedupMs} ms, read+check+write ${t.importMs} ms, ` +
      `commit ${t.commitMs} ms; rows by path: fast ${fmt(t.fastPathRows ?? 0)}, object ${
        fmt(t.objectPathRows ?? 0)
      } (pooled run); workers: ${
        options.workers ?? "runImport's choice (2 with a pool, 1 without, for this day)"
      }.`,
      "",
      targetVerdict(
        "`runImport` with a worker pool",
        rows / ours.wall,
        250_000,
        rows / duck.copy.wall,
      ),
      "",
      targetVerdict(
        "`runImport` in this thread",
        rows / inThread.wall,
        250_000,
        rows / duck.copy.wall,
      ),
    ];
    if (rss) {
      lines.push(
        "",
        `Peak RSS importing a ${fmt(rssRows)}-row day in a child process (\`/usr/bin/time -v\`): ` +
          `${options.rssWorkers !== undefined ? `${options.rssWorkers} worker(s): ` : ""}**${
            (rss.rss / 2 ** 20).toFixed(0)
          } MiB** = ${(rss.rss / 1e6).toFixed(0)} MB (target < 500 MB: ${
            rss.rss < 500e6 ? "met" : "**not met**"
          }), ${rss.seconds.toFixed(1)} s, ${fmt(rssRows / rss.seconds)} rows/s, ` +
          `${fmt(rss.report.rowsAccepted)} accepted (fast path ${
            fmt(rss.report.timings.fastPathRows ?? 0)
          } rows, object path ${fmt(rss.report.timings.objectPathRows ?? 0)}).`,
      );
    }
    return lines.join("\n");
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rows: { type: "string" },
      "rss-rows": { type: "string" },
      "rss-workers": { type: "string" },
      child: { type: "string" },
      workers: { type: "string" },
    },
  });
  if (values.child) {
    const workers = values.workers ? Number(values.workers) : undefined;
    const report = await importDay(values.child, `${values.child}/lake`, workers);
    console.log(JSON.stringify(report));
  } else {
    console.log(
      await bench({
        rows: values.rows ? Number(values.rows) : undefined,
        rssRows: values["rss-rows"] !== undefined ? Number(values["rss-rows"]) : undefined,
        rssWorkers: values["rss-workers"] !== undefined ? Number(values["rss-workers"]) : undefined,
        workers: values.workers !== undefined ? Number(values.workers) : undefined,
      }),
    );
  }
}

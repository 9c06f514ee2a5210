import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { AbortedError, InvalidArgumentError } from "@eventlake/schema";
import { createMemoryStore } from "@eventlake/storage/memory";
import { ImportWorkerPool } from "./_import_pool.ts";
import { runImport } from "./run.ts";
import { events, landedIds, writeDay } from "./_import_testing.ts";

const P = "src/";

/** A pool that records the workers it hands out and whether each was new. */
class RecordingPool extends ImportWorkerPool {
  handed: { worker: Worker; warm: boolean }[] = [];
  override acquire(): Worker {
    const warm = this.idle > 0;
    const worker = super.acquire();
    this.handed.push({ worker, warm });
    return worker;
  }
}

function counts(r: Awaited<ReturnType<typeof runImport>>) {
  return [r.status, r.rowsRead, r.rowsAccepted, r.rowsRejected, r.rowsDuplicate];
}

Deno.test("runImport() with a worker pool reuses its warm workers from run to run, with the in-thread result", async () => {
  const source = createMemoryStore(), lake = createMemoryStore();
  const days = ["2023-01-01", "2023-01-02"];
  for (const [i, day] of days.entries()) {
    const a = events(300, 10 + i, day), b = events(200, 20 + i, day);
    await writeDay(source, P, day, [[...a, a[3]], b]);
  }
  const pool = new RecordingPool({ size: 2 });
  try {
    const first = await runImport({ store: source, prefix: P }, days[0], {
      lake: { store: lake },
      workers: 2,
      workerPool: pool,
    });
    strictEqual(pool.handed.length, 2);
    ok(pool.handed.every((h) => !h.warm));
    strictEqual(pool.idle, 2);
    const second = await runImport({ store: source, prefix: P }, days[1], {
      lake: { store: lake },
      workers: 2,
      workerPool: pool,
    });
    // The second run got the first run's two workers back, warm.
    strictEqual(pool.handed.length, 4);
    ok(pool.handed.slice(2).every((h) => h.warm));
    deepStrictEqual(
      new Set(pool.handed.slice(2).map((h) => h.worker)),
      new Set(pool.handed.slice(0, 2).map((h) => h.worker)),
    );
    strictEqual(pool.idle, 2);
    // Same counts and rows as a run in this thread.
    const inThread = createMemoryStore();
    for (const [i, report] of [first, second].entries()) {
      const alone = await runImport({ store: source, prefix: P }, days[i], {
        lake: { store: inThread },
        workers: 1,
      });
      deepStrictEqual(counts(report), counts(alone));
      deepStrictEqual(counts(report), ["SUCCEEDED", 501, 500, 0, 1]);
      deepStrictEqual(await landedIds(lake, days[i]), await landedIds(inThread, days[i]));
    }
  } finally {
    pool.close();
  }
  strictEqual(pool.idle, 0);
  ok(pool.closed);
});

Deno.test("a failed run does not give a failing worker back to the pool; the pool's next run works", async () => {
  const source = createMemoryStore(), lake = createMemoryStore();
  const day = "2023-01-01";
  await writeDay(source, P, day, [events(300, 1), events(300, 2)]);
  const key = `${P}dt=${day}/000000000001.parquet`;
  const good = await source.read(key);
  const broken = good.slice();
  for (let i = 8; i < 600; i++) broken[i] = 0xff;
  await source.write(key, broken);
  const pool = new RecordingPool({ size: 2 });
  try {
    const failed = await runImport({ store: source, prefix: P }, day, {
      lake: { store: lake },
      workers: 2,
      workerPool: pool,
    });
    strictEqual(failed.status, "FAILED");
    ok(failed.error?.message.includes("000000000001.parquet"), String(failed.error?.message));
    // The worker that failed is ended; the other one may have finished its part cleanly.
    ok(pool.idle <= 1, String(pool.idle));
    await source.write(key, good);
    const again = await runImport({ store: source, prefix: P }, day, {
      lake: { store: lake },
      workers: 2,
      workerPool: pool,
    });
    deepStrictEqual(counts(again), ["SUCCEEDED", 600, 600, 0, 0]);
    strictEqual(pool.idle, 2);
  } finally {
    pool.close();
  }
});

Deno.test("an aborted pooled run ends its workers and keeps the lake's previous state", async () => {
  const source = createMemoryStore(), lake = createMemoryStore();
  const day = "2023-01-01";
  await writeDay(source, P, day, [events(400, 1), events(400, 2)]);
  const pool = new RecordingPool({ size: 2 });
  try {
    const stop = new AbortController();
    await rejects(
      runImport({ store: source, prefix: P }, day, {
        lake: { store: lake },
        workers: 2,
        workerPool: pool,
        rowGroupSize: 50,
        signal: stop.signal,
        onProgress: (p) => {
          if (p.phase === "import" && p.rowsRead > 0) stop.abort();
        },
      }),
      AbortedError,
    );
    strictEqual(pool.idle, 0);
    deepStrictEqual(await landedIds(lake, day), []);
  } finally {
    pool.close();
  }
});

Deno.test("with a pool, a fast-path day of 200,000 rows takes two workers by default; a closed pool refuses runs", async () => {
  const source = createMemoryStore(), lake = createMemoryStore();
  const day = "2023-01-01";
  await writeDay(source, P, day, [events(100_000, 1), events(100_000, 2)]);
  const pool = new RecordingPool();
  try {
    const report = await runImport({ store: source, prefix: P }, day, {
      lake: { store: lake },
      workerPool: pool,
    });
    deepStrictEqual(counts(report), ["SUCCEEDED", 200_000, 200_000, 0, 0]);
    strictEqual(report.timings.fastPathRows, 200_000);
    strictEqual(pool.handed.length, 2);
  } finally {
    pool.close();
  }
  await rejects(
    runImport({ store: source, prefix: P }, day, {
      lake: { store: lake },
      workers: 2,
      workerPool: pool,
    }),
    (e: Error) => e instanceof InvalidArgumentError && /closed worker pool/.test(e.message),
  );
});

Deno.test("ImportWorkerPool refuses a size that is not a whole number >= 0", () => {
  for (const size of [-1, 1.5, Number.NaN]) {
    throws(() => new ImportWorkerPool({ size }), InvalidArgumentError);
  }
  strictEqual(new ImportWorkerPool({ size: 0 }).size, 0);
});

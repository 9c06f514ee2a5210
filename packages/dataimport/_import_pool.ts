/**
 * The main-thread side of parallel imports: hands parts to `_import_worker.ts` workers, serves
 * their byte-range reads and file writes from the stores (which never leave this thread), and
 * merges their counts.
 *
 * @module
 */
import { AbortedError, type ErrorCode, EventlakeError } from "@eventlake/schema";
import { WorkerPool } from "@eventlake/parquet";
import type { ObjectInfo, ObjectStore } from "@eventlake/storage";
import type { InsertIdSet } from "./dedup.ts";
import type { DayLanding } from "./land.ts";
import {
  type FinishedFile,
  type PartCounts,
  PartError,
  type PathCounts,
  type ReasonEntry,
} from "./_import_part.ts";
import type { FromWorker, ToWorker } from "./_import_worker.ts";

/** Options of {@linkcode ImportWorkerPool}. */
export interface ImportWorkerPoolOptions {
  /**
   * Workers kept warm between runs (default 2, or 1 on a one-core machine). A run may use more
   * at once; those end with it.
   */
  size?: number;
}

/** The import worker module (`deno compile` needs it `--include`d: see `scripts/compile.ts`). */
const WORKER_URL = new URL("./_import_worker.ts", import.meta.url);

/**
 * Import worker threads kept warm between runs, for processes that import day after day — the
 * scheduler, a backfill, the gateway's import service. A fresh worker thread spends about 1.7–2
 * CPU-s warming up per 1,000,000 rows (its loops run in V8's slow tiers until optimized); a
 * pooled worker pays that once per process, so runs given a pool
 * (`RunImportOptions.workerPool`) import days of 200,000 to 1,999,999 rows on two threads by
 * default. Without a pool, such a day takes two fresh workers only when some part needs the
 * object path; a day wholly in the exact schema (the fast path) stays on the run's own thread.
 *
 * Idle workers keep their decode buffers (tens of MB each) and keep the process alive: close the
 * pool when done (or `using pool = new ImportWorkerPool()`); see {@linkcode WorkerPool}.
 *
 * @example
 * ```ts ignore
 * import { ImportWorkerPool, runImport } from "@eventlake/dataimport";
 * using pool = new ImportWorkerPool();
 * for (const date of ["2023-01-01", "2023-01-02"]) {
 *   await runImport(source, date, { lake, workerPool: pool });
 * }
 * ```
 */
export class ImportWorkerPool extends WorkerPool {
  /** A pool with no worker started yet: runs start them, and give them back when they end. */
  constructor(options: ImportWorkerPoolOptions = {}) {
    const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
    super("an import worker pool", options.size ?? (cores >= 2 ? 2 : 1));
  }

  /** A warm worker if one is idle, else a new one (used by `runImport`). */
  acquire(): Worker {
    if (this.closed) throw new AbortedError("The import worker pool is closed");
    return this.take() ?? new Worker(WORKER_URL, { type: "module" });
  }
}

/** What the workers did, merged. */
export interface PoolResult {
  counts: PartCounts[];
  reasons: ReasonEntry[][];
  paths: PathCounts[];
  variants: string[];
  files: FinishedFile[];
}

/** Options of {@linkcode importInWorkers}. */
export interface PoolOptions {
  /** The partition's day, `YYYY-MM-DD`. */
  date: string;
  workers: number;
  store: ObjectStore;
  ids: InsertIdSet;
  landing: DayLanding;
  rowGroupSize?: number;
  maxRowsPerFile: number;
  samples: number;
  /** Where workers come from and go back to (default: started for this call, ended after). */
  pool?: ImportWorkerPool;
  signal?: AbortSignal;
  onRows: (delta: number) => void | Promise<void>;
}

/** Imports `parts` with `options.workers` workers; rejects with the first failure. */
export function importInWorkers(
  parts: readonly ObjectInfo[],
  options: PoolOptions,
): Promise<PoolResult> {
  const { store, landing, signal, pool } = options;
  const result: PoolResult = { counts: [], reasons: [], paths: [], variants: [], files: [] };
  /** Workers of this call still in it (a worker leaves when it finished cleanly). */
  const workers = new Set<Worker>();
  const end = (worker: Worker, healthy: boolean) => {
    workers.delete(worker);
    if (pool !== undefined) pool.give(worker, healthy);
    else worker.terminate();
  };
  const writers = new Map<string, WritableStreamDefaultWriter<Uint8Array>>();
  const written = new Map<string, Promise<ObjectInfo>>();
  let next = 0;
  let finished = 0;
  let settled = false;

  return new Promise<PoolResult>((resolve, reject) => {
    const stop = (error: unknown) => {
      if (settled) return;
      settled = true;
      for (const w of [...workers]) end(w, false);
      for (const writer of writers.values()) writer.abort(error).catch(() => {});
      signal?.removeEventListener("abort", onAbort);
      reject(error);
    };
    const onAbort = () => stop(new AbortedError("Import aborted", { cause: signal?.reason }));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });

    const count = Math.max(1, Math.min(options.workers, parts.length));
    for (let i = 0; i < count; i++) {
      let worker: Worker;
      try {
        worker = pool !== undefined ? pool.acquire() : new Worker(WORKER_URL, { type: "module" });
      } catch (error) {
        return stop(error);
      }
      workers.add(worker);
      const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);
      const feed = () => {
        if (next < parts.length) {
          const part = parts[next++];
          send({ t: "part", key: part.key, size: part.size });
        } else {
          send({ t: "finish" });
        }
      };
      const reply = (id: number, extra: Partial<Extract<ToWorker, { t: "reply" }>> = {}) =>
        send({ t: "reply", id, ...extra }, extra.bytes ? [extra.bytes.buffer as ArrayBuffer] : []);
      const guard = (id: number, work: () => Promise<void>) => {
        work().catch((error) => {
          if (!settled) {
            reply(id, { error: error instanceof Error ? error.message : String(error) });
          }
          stop(error);
        });
      };
      worker.onerror = (event) => {
        event.preventDefault();
        stop(new EventlakeError("INTERNAL", `Import worker failed: ${event.message}`));
      };
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        if (settled) return;
        const m = event.data;
        switch (m.t) {
          case "read":
            guard(m.id, async () => {
              const len = Math.max(0, m.length);
              const bytes = len === 0
                ? new Uint8Array(0)
                : await store.read(m.key, { range: { offset: m.offset, length: len }, signal });
              const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
                ? bytes
                : bytes.slice();
              reply(m.id, { bytes: own });
            });
            return;
          case "open":
            guard(m.id, () => {
              const file = landing.newFile();
              writers.set(file.key, file.sink.getWriter());
              written.set(file.key, file.written);
              reply(m.id, { key: file.key });
              return Promise.resolve();
            });
            return;
          case "chunk":
            guard(m.id, async () => {
              await writers.get(m.key)!.write(m.bytes);
              reply(m.id);
            });
            return;
          case "close":
            guard(m.id, async () => {
              await writers.get(m.key)!.close();
              writers.delete(m.key);
              const info = await written.get(m.key)!;
              reply(m.id, { size: info.size });
            });
            return;
          case "progress":
            void Promise.resolve(options.onRows(m.rows)).catch(stop);
            return;
          case "part-done":
            feed();
            return;
          case "finished":
            result.counts.push(m.counts);
            result.reasons.push(m.reasons);
            result.paths.push(m.paths);
            result.variants.push(...m.variants);
            result.files.push(...m.files);
            end(worker, true);
            if (++finished === count && !settled) {
              settled = true;
              signal?.removeEventListener("abort", onAbort);
              result.files.sort((a, b) => a.key < b.key ? -1 : 1);
              resolve(result);
            }
            return;
          case "failed": {
            const error = new EventlakeError(m.code as ErrorCode, m.message);
            stop(m.key !== undefined ? new PartError(m.key, "unreadable", error) : error);
            return;
          }
        }
      };
      send({
        t: "init",
        date: options.date,
        ids: options.ids.state,
        rowGroupSize: options.rowGroupSize,
        maxRowsPerFile: options.maxRowsPerFile,
        samples: options.samples,
      });
      feed();
    }
  });
}

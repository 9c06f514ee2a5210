/**
 * The writing thread's side of the write worker (`_write_worker.ts`), used by `write.ts`.
 *
 * @module
 */
import { AbortedError } from "@eventlake/schema";
import { WorkerPool } from "./worker_pool.ts";
import { type FromEncoder, type GroupWire, type ToEncoder, wireBuffers } from "./_write_wire.ts";

/** Tests only: the module the writer's workers load instead of `_write_worker.ts`. */
export const workerForTests: { url: URL | undefined } = { url: undefined };

/** Options of {@linkcode WriteWorkerPool}. */
export interface WriteWorkerPoolOptions {
  /** Workers kept warm between files (default 1; a write uses one at a time). */
  size?: number;
}

/**
 * Write workers kept warm from file to file, for a process that writes many files (an export, a
 * producer's daily job). A new worker's code starts cold for every file — its first row groups
 * take 2-3x as long as later ones — so with `worker: true` alone a file of a million rows pays
 * the warm-up each time; writes given the same pool (`WriteEventsOptions.workerPool`) take a
 * warm worker and give it back when they close cleanly. See {@linkcode WorkerPool} (close it
 * when done: idle workers keep the process alive).
 *
 * @example
 * ```ts
 * import { WriteWorkerPool, writeEvents } from "@eventlake/parquet";
 * using pool = new WriteWorkerPool();
 * const summary = await writeEvents([], new WritableStream(), { workerPool: pool });
 * console.log(summary.rows, pool.size); // 0 1
 * ```
 */
export class WriteWorkerPool extends WorkerPool {
  /** A pool with no worker started yet, keeping `options.size` (default 1) warm. */
  constructor(options: WriteWorkerPoolOptions = {}) {
    super("a write worker pool", options.size ?? 1);
  }
}

/**
 * The writing thread's side of the write worker (`_write_worker.ts`): every request gets one
 * reply, in order. An error thrown in the worker rejects its request (and every later one)
 * with that error; a worker that dies rejects them with an error saying so.
 */
export class EncodeWorker {
  readonly #worker: Worker;
  readonly #pool: WriteWorkerPool | undefined;
  readonly #onSpare: (buffers: GroupWire) => void;
  readonly #replies: { resolve(m: FromEncoder): void; reject(error: unknown): void }[] = [];
  #broken: unknown = undefined;
  #loaded = false;
  #resolveReady: (loaded: boolean) => void = () => {};
  /**
   * Whether the worker loaded: resolves `true` once it said so, `false` if it failed first
   * (e.g. a compiled executable built without `--include` of `_write_worker.ts`).
   */
  readonly ready: Promise<boolean> = new Promise((resolve) => {
    this.#resolveReady = resolve;
  });

  private constructor(
    worker: Worker,
    onSpare: (buffers: GroupWire) => void,
    pool: WriteWorkerPool | undefined,
  ) {
    this.#worker = worker;
    this.#onSpare = onSpare;
    this.#pool = pool;
  }

  /** Whether the worker has loaded (see {@linkcode EncodeWorker.ready}). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /**
   * Takes a warm worker from `pool`, or starts one (from `url`: a test's); undefined when the
   * runtime cannot start one.
   */
  static start(
    codec: "SNAPPY" | "UNCOMPRESSED",
    createdBy: string,
    onSpare: (buffers: GroupWire) => void,
    pool?: WriteWorkerPool,
    url: URL | undefined = workerForTests.url,
  ): EncodeWorker | undefined {
    let worker = pool?.take();
    const warm = worker !== undefined;
    if (worker === undefined) {
      try {
        worker = url === undefined
          ? new Worker(new URL("./_write_worker.ts", import.meta.url), { type: "module" })
          : new Worker(url.href, { type: "module" });
      } catch {
        return undefined;
      }
    }
    const self = new EncodeWorker(worker, onSpare, pool);
    if (warm) {
      // It said "ready" to the write that started it.
      self.#loaded = true;
      self.#resolveReady(true);
    }
    worker.onmessage = (event: MessageEvent<FromEncoder>) => {
      if (event.data.t === "ready") {
        self.#loaded = true;
        self.#resolveReady(true);
        return;
      }
      const reply = self.#replies.shift();
      if (event.data.t === "failed") self.#broken ??= event.data.error;
      reply?.resolve(event.data);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      self.#fail(
        new Error(`Cannot write events: the Parquet write worker failed: ${event.message}`),
      );
    };
    worker.onmessageerror = () => {
      self.#fail(
        new Error("Cannot write events: a message from the Parquet write worker was lost"),
      );
    };
    const init: ToEncoder = { t: "init", codec, createdBy };
    worker.postMessage(init);
    return self;
  }

  /** Encodes a row group (its buffers are transferred, and come back through `onSpare`). */
  async encode(group: GroupWire): Promise<Uint8Array[]> {
    const reply = await this.#request({ t: "group", group }, wireBuffers(group));
    if (reply.t !== "encoded") throw unexpected(reply);
    this.#onSpare(reply.buffers);
    return reply.chunks;
  }

  /** Writes the footer: the file's last chunks and its size. */
  async finish(): Promise<{ chunks: Uint8Array[]; bytes: number }> {
    const reply = await this.#request({ t: "finish" }, []);
    if (reply.t !== "finished") throw unexpected(reply);
    return reply;
  }

  /** Ends the worker; requests still waiting reject. */
  stop(): void {
    this.#fail(new AbortedError("Write aborted: the Parquet write worker was stopped"));
    this.#worker.terminate();
  }

  /**
   * After a clean `finish`: gives the worker back to its pool (it stays warm for the next
   * file), or ends it when there is no pool.
   */
  release(): void {
    if (this.#pool === undefined || this.#broken !== undefined || this.#replies.length > 0) {
      this.stop();
      return;
    }
    this.#broken = new AbortedError("The Parquet write worker went back to its pool");
    this.#pool.give(this.#worker);
  }

  #request(message: ToEncoder, transfer: Transferable[]): Promise<FromEncoder> {
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    const reply = new Promise<FromEncoder>((resolve, reject) => {
      this.#replies.push({ resolve, reject });
    });
    this.#worker.postMessage(message, transfer);
    return reply;
  }

  #fail(error: unknown): void {
    this.#resolveReady(false);
    this.#broken ??= error;
    for (const reply of this.#replies.splice(0)) reply.reject(this.#broken);
  }
}

function unexpected(reply: FromEncoder): unknown {
  return reply.t === "failed" ? reply.error : new Error(`Unexpected reply "${reply.t}"`);
}

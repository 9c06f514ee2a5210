/**
 * Worker threads kept warm from one job to the next: the mechanism under `WriteWorkerPool`
 * (this package) and `ImportWorkerPool` (`@eventlake/dataimport`).
 *
 * @module
 */
import { InvalidArgumentError } from "@eventlake/schema";

/**
 * Idle, loaded worker threads waiting for their next job. A fresh worker's code starts cold —
 * V8 runs its loops in slow tiers until it has optimized them, about 1.7–2 CPU-s per 1,000,000
 * rows here — so a process that writes or imports again and again keeps its workers instead of
 * starting new ones. A job takes an idle worker ({@linkcode WorkerPool.take}) or starts its own,
 * and gives it back when it ended cleanly ({@linkcode WorkerPool.give}).
 *
 * Idle workers keep their buffers and keep the process alive: {@linkcode WorkerPool.close} the
 * pool when done (or `using pool = …`).
 *
 * @example
 * ```ts
 * import { WorkerPool } from "@eventlake/parquet";
 * using pool = new WorkerPool("demo pool", 1);
 * console.log(pool.take(), pool.idle, pool.closed); // undefined 0 false
 * ```
 */
export class WorkerPool {
  /** Workers kept warm between jobs; a job may use more at once, and those end with it. */
  readonly size: number;
  #idle: Worker[] = [];
  #closed = false;

  /** An empty pool keeping up to `size` workers; `name` says which pool in errors. */
  constructor(name: string, size: number) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new InvalidArgumentError(
        `Cannot create ${name}: size must be a whole number >= 0, got ${size}`,
      );
    }
    this.size = size;
  }

  /** Workers idle and warm now. */
  get idle(): number {
    return this.#idle.length;
  }

  /** Whether {@linkcode WorkerPool.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A warm worker if one is idle (none once closed). */
  take(): Worker | undefined {
    return this.#closed ? undefined : this.#idle.pop();
  }

  /**
   * Takes back a worker: kept warm when its job ended cleanly (`healthy`) and the pool has room,
   * else ended. Its handlers are cleared either way (the next job sets its own).
   */
  give(worker: Worker, healthy = true): void {
    worker.onmessage = null;
    worker.onerror = null;
    worker.onmessageerror = null;
    if (healthy && !this.#closed && this.#idle.length < this.size) this.#idle.push(worker);
    else worker.terminate();
  }

  /** Ends the idle workers; workers still in a job end with it. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const worker of this.#idle) worker.terminate();
    this.#idle = [];
  }

  /** Same as {@linkcode WorkerPool.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

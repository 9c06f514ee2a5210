/**
 * The in-memory backend: fast and faithful, for unit tests of the packages above storage.
 *
 * It behaves like S3 where that matters to callers: listings are ordered by the bytes of the
 * key (UTF-8, i.e. code-point order), a delimiter folds keys into common prefixes, "directories"
 * do not exist on their own, a write replaces an object atomically (a reader never sees a torn
 * object), and the etag is the MD5 hex of the content (like a single-part S3 upload).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { NotFoundError } from "@eventlake/schema";
import type {
  ListEntry,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  ReadOptions,
  SignalOptions,
  WriteOptions,
} from "./store.ts";
import {
  abortedError,
  checkListArgs,
  checkObjectKey,
  checkSignal,
  compareKeys,
  concatBytes,
  foldByDelimiter,
  resolveRange,
} from "./_common.ts";
import { checkKey } from "./keys.ts";

/** The operations of an {@linkcode ObjectStore}, as named to a fault hook. */
export type StoreOperation =
  | "list"
  | "head"
  | "exists"
  | "read"
  | "readStream"
  | "write"
  | "delete"
  | "deletePrefix";

/** Options of {@linkcode createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Name shown in the store's URL (`memory://<name>`); a unique one is made up when absent. */
  name?: string;
  /**
   * Fault injection for tests: called before every operation with its name and key (the prefix
   * for `list`/`deletePrefix`); an error it returns is thrown by the operation instead of running
   * it. Use it to simulate `PermissionDeniedError`, `UnavailableError` (throttling) and the like.
   */
  faults?: (operation: StoreOperation, key: string) => Error | undefined;
  /** Size of the chunks `readStream` yields, in bytes (default 1 MiB). */
  chunkSize?: number;
}

interface Entry {
  readonly data: Uint8Array;
  readonly info: ObjectInfo;
}

let counter = 0;

/**
 * Creates an empty in-memory {@linkcode ObjectStore}.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from "@eventlake/storage";
 * const store = createMemoryStore();
 * await store.write("events/dt=2023-01-01/_SUCCESS", new Uint8Array(0));
 * for await (const e of store.list("events/", { delimiter: "/" })) console.log(e);
 * // { kind: "prefix", prefix: "events/dt=2023-01-01/" }
 * ```
 *
 * @example Simulate a missing permission
 * ```ts
 * import { createMemoryStore } from "@eventlake/storage";
 * import { PermissionDeniedError } from "@eventlake/schema";
 * const store = createMemoryStore({
 *   faults: (op, key) =>
 *     op === "read" && key.startsWith("secret/") ? new PermissionDeniedError("Access denied") : undefined,
 * });
 * await store.read("secret/a").catch((e) => console.log(e.code)); // "PERMISSION_DENIED"
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): ObjectStore {
  return new MemoryStore(options);
}

class MemoryStore implements ObjectStore {
  readonly url: string;
  #objects = new Map<string, Entry>();
  #sorted: string[] | undefined;
  #faults: MemoryStoreOptions["faults"];
  #chunkSize: number;

  constructor(options: MemoryStoreOptions) {
    this.url = `memory://${options.name ?? `store-${++counter}`}`;
    this.#faults = options.faults;
    this.#chunkSize = Math.max(1, options.chunkSize ?? 1 << 20);
  }

  #enter(op: StoreOperation, key: string, signal: AbortSignal | undefined): void {
    checkSignal(signal, `${op} "${key}" in ${this.url}`);
    const fault = this.#faults?.(op, key);
    if (fault) throw fault;
  }

  #get(key: string): Entry {
    const entry = this.#objects.get(key);
    if (!entry) {
      throw new NotFoundError(`Cannot find object "${key}" in ${this.url}`, { details: { key } });
    }
    return entry;
  }

  #keys(): string[] {
    return this.#sorted ??= [...this.#objects.keys()].sort(compareKeys);
  }

  list(prefix: string, options: ListOptions = {}): AsyncIterable<ListEntry> {
    return foldByDelimiter(this.#listObjects(prefix, options), prefix, options.delimiter);
  }

  async *#listObjects(prefix: string, options: ListOptions): AsyncGenerator<ObjectInfo> {
    checkListArgs(prefix, options.delimiter);
    this.#enter("list", prefix, options.signal);
    // A snapshot: entries are immutable, so later writes do not change what this listing yields.
    const keys = this.#keys();
    const infos: ObjectInfo[] = [];
    for (let i = lowerBound(keys, prefix); i < keys.length && keys[i].startsWith(prefix); i++) {
      infos.push(this.#objects.get(keys[i])!.info);
    }
    for (const info of infos) {
      checkSignal(options.signal, `list "${prefix}" in ${this.url}`);
      yield { ...info };
    }
  }

  head(key: string, options: SignalOptions = {}): Promise<ObjectInfo> {
    return run(() => {
      checkObjectKey(key);
      this.#enter("head", key, options.signal);
      return { ...this.#get(key).info };
    });
  }

  exists(key: string, options: SignalOptions = {}): Promise<boolean> {
    return run(() => {
      checkObjectKey(key);
      this.#enter("exists", key, options.signal);
      return this.#objects.has(key);
    });
  }

  read(key: string, options: ReadOptions = {}): Promise<Uint8Array> {
    return run(() => {
      checkObjectKey(key);
      this.#enter("read", key, options.signal);
      const { data } = this.#get(key);
      const [start, end] = resolveRange(key, data.byteLength, options.range);
      return data.slice(start, end);
    });
  }

  readStream(key: string, options: ReadOptions = {}): Promise<ReadableStream<Uint8Array>> {
    return run(() => {
      checkObjectKey(key);
      this.#enter("readStream", key, options.signal);
      const { data } = this.#get(key);
      const [start, end] = resolveRange(key, data.byteLength, options.range);
      const { signal } = options;
      const size = this.#chunkSize;
      const what = `read "${key}" in ${this.url}`;
      let at = start;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (signal?.aborted) return controller.error(abortedError(signal, what));
          if (at >= end) return controller.close();
          const n = Math.min(size, end - at);
          controller.enqueue(data.slice(at, at + n));
          at += n;
        },
      }, { highWaterMark: 0 });
    });
  }

  async write(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<ObjectInfo> {
    checkObjectKey(key);
    this.#enter("write", key, options.signal);
    const what = `write "${key}" in ${this.url}`;
    let data: Uint8Array;
    if (body instanceof Uint8Array) {
      data = body.slice();
    } else {
      const chunks: Uint8Array[] = [];
      let total = 0;
      const reader = body.getReader();
      const onAbort = () => reader.cancel(options.signal?.reason).catch(() => {});
      options.signal?.addEventListener("abort", onAbort, { once: true });
      try {
        while (true) {
          const { done, value } = await reader.read();
          checkSignal(options.signal, what);
          if (done) break;
          chunks.push(value.slice());
          total += value.byteLength;
        }
      } finally {
        options.signal?.removeEventListener("abort", onAbort);
        reader.releaseLock();
      }
      data = concatBytes(chunks, total);
    }
    checkSignal(options.signal, what);
    const info: ObjectInfo = {
      key,
      size: data.byteLength,
      etag: createHash("md5").update(data).digest("hex"),
      lastModified: new Date(),
    };
    if (!this.#objects.has(key)) this.#sorted = undefined;
    this.#objects.set(key, { data, info });
    return { ...info };
  }

  delete(key: string, options: SignalOptions = {}): Promise<void> {
    return run(() => {
      checkObjectKey(key);
      this.#enter("delete", key, options.signal);
      if (this.#objects.delete(key)) this.#sorted = undefined;
    });
  }

  async deletePrefix(prefix: string, options: SignalOptions = {}): Promise<number> {
    checkKey(prefix, { allowEmpty: true });
    this.#enter("deletePrefix", prefix, options.signal);
    let n = 0;
    for await (const entry of this.list(prefix, { signal: options.signal })) {
      if (entry.kind === "object" && this.#objects.delete(entry.key)) n++;
    }
    if (n > 0) this.#sorted = undefined;
    return n;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

function lowerBound(keys: string[], prefix: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid], prefix) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

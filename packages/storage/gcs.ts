/**
 * The Google Cloud Storage backend, over `@google-cloud/storage` (the only file that imports it).
 *
 * Reads and writes stream: a write from a `ReadableStream` becomes a resumable upload fed with
 * backpressure (never buffered whole), a read becomes a web `ReadableStream` that pauses the HTTP
 * response when the consumer is slow. Failures go through one table (`_gcs_errors.ts`); 408, 429,
 * 5xx and connection failures are retried by the SDK with bounded, jittered exponential backoff
 * (configured explicitly here) and then surface as `UnavailableError`.
 *
 * @module
 */
import { IdempotencyStrategy, Storage } from "@google-cloud/storage";
import type { Bucket, File, StorageOptions } from "@google-cloud/storage";
import { readFileSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { AbortedError, InvalidArgumentError, throwIfAborted } from "@eventlake/schema";
import type {
  ByteRange,
  ListEntry,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  ReadOptions,
  SignalOptions,
  WriteOptions,
} from "./store.ts";
import { checkKey } from "./keys.ts";
import { checkListArgs, checkObjectKey, compareKeys } from "./_common.ts";
import {
  type GcsErrorContext,
  gcsStatus,
  isRetryableGcsError,
  mapGcsError,
} from "./_gcs_errors.ts";

/** How the SDK retries 408, 429, 5xx and connection failures before a call fails as `UNAVAILABLE`. */
export interface GcsRetryOptions {
  /** Retries after the first attempt; `0` disables retrying. Default 3. */
  maxRetries?: number;
  /** Delay before retry n is `multiplier^n` seconds plus up to 1 s of jitter. Default 2. */
  delayMultiplier?: number;
  /** Upper bound of one delay, in seconds. Default 16. */
  maxDelaySeconds?: number;
  /** Upper bound of all attempts of one call, in seconds. Default 120. */
  totalTimeoutSeconds?: number;
}

/** Options of {@linkcode createGcsStore}. */
export interface GcsStoreOptions {
  /** Bucket name. */
  bucket: string;
  /** Root prefix inside the bucket (e.g. `lake`); every key is relative to it. Default: the bucket root. */
  prefix?: string;
  /** Google Cloud project id. Default: the key's `project_id`, else the environment's. */
  projectId?: string;
  /** A service-account key: a path to the JSON file. Read and checked when the store is created. */
  keyFilename?: string;
  /** A service-account key: the parsed JSON (`client_email`, `private_key`, …). */
  credentials?: Record<string, unknown>;
  /**
   * API endpoint, e.g. an emulator at `http://127.0.0.1:9199` (the scheme is required). With a
   * custom endpoint requests are sent without credentials unless `authWithCustomEndpoint` is set.
   */
  apiEndpoint?: string;
  /** Send credentials to a custom `apiEndpoint` too (a private endpoint rather than an emulator). */
  authWithCustomEndpoint?: boolean;
  /** Retry policy for transient failures. */
  retry?: GcsRetryOptions;
  /** Byte bodies larger than this are uploaded resumably; smaller ones in one request. Default 8 MiB. */
  resumableThreshold?: number;
  /**
   * Sends resumable uploads in chunks of this size (a multiple of 256 KiB), one request each: the
   * most a write holds in memory, and the unit a retry resends. Default: none, one streamed request
   * per upload (needed by the Cloud Storage emulator, which finalizes an upload on its first chunk).
   */
  uploadChunkSize?: number;
  /** Objects per listing request, 1–1000. Default 1000. */
  pageSize?: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;
const STREAM_HIGH_WATER_MARK = 4 * MIB;

/**
 * Creates an {@linkcode ObjectStore} over one GCS bucket.
 *
 * Credentials: `keyFilename` (a service-account JSON file), `credentials` (its parsed content), or
 * neither for Application Default Credentials. Nothing secret appears in `url`, messages or logs.
 *
 * @example Point a store at an emulator (no request is sent until a method is called)
 * ```ts
 * import { createGcsStore } from "@eventlake/storage";
 * const store = createGcsStore({
 *   bucket: "lake-bucket",
 *   prefix: "lake",
 *   apiEndpoint: "http://127.0.0.1:9199",
 *   projectId: "demo-test",
 * });
 * console.log(store.url); // "gs://lake-bucket/lake"
 * await store.close();
 * ```
 */
export function createGcsStore(options: GcsStoreOptions): ObjectStore {
  return new GcsStore(options);
}

const BUCKET_RE = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

function checkPositiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(
      `Invalid GCS option "${name}": ${value} is not a positive integer`,
    );
  }
  return value;
}

/** Reads and checks a key file; the returned object holds the private key, so it never leaves here. */
function loadKeyFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code ?? "unreadable";
    throw new InvalidArgumentError(`Cannot read GCS key file "${path}": ${code}`, {
      details: { keyFilename: path },
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidArgumentError(`Invalid GCS key file "${path}": not JSON`, {
      details: { keyFilename: path },
    });
  }
  return checkCredentials(parsed, `key file "${path}"`);
}

function checkCredentials(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidArgumentError(`Invalid GCS ${where}: not a JSON object`);
  }
  const creds = value as Record<string, unknown>;
  const type = creds.type;
  if (type === undefined || type === "service_account") {
    const missing = ["client_email", "private_key"].filter((f) =>
      typeof creds[f] !== "string" || creds[f] === ""
    );
    if (missing.length > 0) {
      throw new InvalidArgumentError(
        `Invalid GCS ${where}: missing ${missing.map((f) => `"${f}"`).join(", ")}`,
      );
    }
  } else if (typeof type !== "string") {
    throw new InvalidArgumentError(`Invalid GCS ${where}: "type" is not a string`);
  }
  return creds;
}

/** Rejects with an `AbortedError` when `signal` fires first; the SDK call is then abandoned. */
function abortable<T>(call: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  throwIfAborted(signal); // before the call: an aborted signal sends no request
  const promise = call();
  if (!signal) return promise;
  promise.catch(() => {}); // its late failure is of no interest once abandoned
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError("Operation aborted", { cause: signal.reason }));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function toInfo(key: string, metadata: Record<string, unknown>): ObjectInfo {
  const info: ObjectInfo = { key, size: Number(metadata.size ?? 0) };
  if (typeof metadata.etag === "string") info.etag = metadata.etag.replace(/^"|"$/g, "");
  const updated = metadata.updated ?? metadata.timeCreated;
  if (typeof updated === "string") info.lastModified = new Date(updated);
  return info;
}

function checkRange(range: { offset: number; length: number }, where: string): void {
  for (const f of ["offset", "length"] as const) {
    const v = range[f];
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new InvalidArgumentError(
        `Invalid range for "${where}": ${f} ${v} is not a non-negative integer`,
      );
    }
  }
}

class GcsStore implements ObjectStore {
  readonly url: string;
  #bucketName: string;
  #root: string;
  #bucket: Bucket;
  #resumableThreshold: number;
  #chunkSize: number | undefined;
  #pageSize: number;
  #closed = false;

  constructor(options: GcsStoreOptions) {
    if (options === null || typeof options !== "object") {
      throw new InvalidArgumentError("Invalid GCS options: expected an object");
    }
    const { bucket } = options;
    if (typeof bucket !== "string" || !BUCKET_RE.test(bucket) || bucket.includes("..")) {
      throw new InvalidArgumentError(`Invalid GCS bucket name "${String(bucket)}"`, {
        details: { bucket: String(bucket) },
      });
    }
    let root = checkKey(options.prefix ?? "", { allowEmpty: true });
    root = root.replace(/\/+$/, "");
    if (options.keyFilename !== undefined && options.credentials !== undefined) {
      throw new InvalidArgumentError(
        `Invalid GCS options for "${bucket}": give "keyFilename" or "credentials", not both`,
      );
    }
    const credentials = options.keyFilename !== undefined
      ? loadKeyFile(options.keyFilename)
      : options.credentials !== undefined
      ? checkCredentials(options.credentials, "credentials")
      : undefined;
    if (options.apiEndpoint !== undefined && !/^https?:\/\/[^/]/.test(options.apiEndpoint)) {
      throw new InvalidArgumentError(
        `Invalid GCS apiEndpoint "${options.apiEndpoint}": must start with http:// or https://`,
      );
    }
    const retry = options.retry ?? {};
    const maxRetries = retry.maxRetries ?? 3;
    if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) {
      throw new InvalidArgumentError(`Invalid GCS option "retry.maxRetries": ${maxRetries}`);
    }
    this.#chunkSize = options.uploadChunkSize === undefined
      ? undefined
      : checkPositiveInt("uploadChunkSize", options.uploadChunkSize, 0);
    if (this.#chunkSize !== undefined && this.#chunkSize % (256 * KIB) !== 0) {
      throw new InvalidArgumentError(
        `Invalid GCS option "uploadChunkSize": ${this.#chunkSize} is not a multiple of 256 KiB`,
      );
    }
    this.#resumableThreshold = checkPositiveInt(
      "resumableThreshold",
      options.resumableThreshold,
      8 * MIB,
    );
    this.#pageSize = checkPositiveInt("pageSize", options.pageSize, 1000);
    if (this.#pageSize > 1000) {
      throw new InvalidArgumentError(
        `Invalid GCS option "pageSize": ${this.#pageSize} is above 1000`,
      );
    }

    const storageOptions: StorageOptions = {
      retryOptions: {
        autoRetry: maxRetries > 0,
        maxRetries: Math.max(1, maxRetries),
        retryDelayMultiplier: retry.delayMultiplier ?? 2,
        maxRetryDelay: retry.maxDelaySeconds ?? 16,
        totalTimeout: retry.totalTimeoutSeconds ?? 120,
        // Our writes replace whole objects and deletes tolerate absence: both are safe to repeat.
        idempotencyStrategy: IdempotencyStrategy.RetryAlways,
        retryableErrorFn: isRetryableGcsError,
      },
    };
    const projectId = options.projectId ??
      (typeof credentials?.project_id === "string" ? credentials.project_id : undefined);
    if (projectId !== undefined) storageOptions.projectId = projectId;
    if (credentials !== undefined) storageOptions.credentials = credentials;
    if (options.apiEndpoint !== undefined) {
      storageOptions.apiEndpoint = options.apiEndpoint.replace(/\/+$/, "");
      storageOptions.useAuthWithCustomEndpoint = options.authWithCustomEndpoint ?? false;
    }
    this.#bucketName = bucket;
    this.#root = root === "" ? "" : `${root}/`;
    this.#bucket = new Storage(storageOptions).bucket(bucket);
    this.url = root === "" ? `gs://${bucket}` : `gs://${bucket}/${root}`;
  }

  /** Never show the SDK client (it holds the credentials) when the store is logged. */
  [Symbol.for("Deno.customInspect")](): string {
    return `GcsStore(${this.url})`;
  }

  toJSON(): { url: string } {
    return { url: this.url };
  }

  #open(): void {
    if (this.#closed) {
      throw new InvalidArgumentError(`Cannot use the GCS store "${this.url}": it is closed`);
    }
  }

  #name(key: string): string {
    return this.#root + checkObjectKey(key);
  }

  #ctx(op: string, name?: string): GcsErrorContext {
    return name === undefined
      ? { op, bucket: this.#bucketName }
      : { op, bucket: this.#bucketName, name };
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ListEntry> {
    this.#open();
    const { signal, delimiter } = options;
    checkListArgs(prefix, delimiter);
    const full = this.#root + prefix;
    const cut = this.#root.length;
    const seenPrefixes = new Set<string>();
    let pageToken: string | undefined;
    do {
      throwIfAborted(signal);
      const query: Record<string, unknown> = {
        prefix: full,
        autoPaginate: false,
        maxResults: this.#pageSize,
      };
      if (delimiter !== undefined) query.delimiter = delimiter;
      if (pageToken !== undefined) query.pageToken = pageToken;
      let files: File[];
      let next: { pageToken?: string } | null | undefined;
      let response: { prefixes?: string[] } | undefined;
      try {
        [files, next, response] = await abortable(
          () =>
            this.#bucket.getFiles(query) as Promise<
              [File[], { pageToken?: string } | null, unknown]
            >,
          signal,
        ) as [File[], { pageToken?: string } | null, { prefixes?: string[] }];
      } catch (e) {
        throw mapGcsError(e, this.#ctx("list", full));
      }
      pageToken = next?.pageToken || undefined;
      // GCS pages come in UTF-8 byte order, objects and prefixes apart: merge them into one
      // order (sorting each page, which also repairs a server that sorts by UTF-16 units).
      const page: { name: string; entry: ListEntry }[] = [];
      for (const file of files) {
        const metadata = file.metadata as Record<string, unknown>;
        page.push({
          name: file.name,
          entry: { kind: "object", ...toInfo(file.name.slice(cut), metadata) },
        });
      }
      for (const p of response?.prefixes ?? []) {
        if (seenPrefixes.has(p)) continue; // a prefix can span pages
        seenPrefixes.add(p);
        page.push({ name: p, entry: { kind: "prefix", prefix: p.slice(cut) } });
      }
      page.sort((a, b) => compareKeys(a.name, b.name));
      for (const { entry } of page) yield entry;
    } while (pageToken !== undefined);
  }

  async head(key: string, options: SignalOptions = {}): Promise<ObjectInfo> {
    this.#open();
    const name = this.#name(key);
    try {
      const [metadata] = await abortable(
        () => this.#bucket.file(name).getMetadata(),
        options.signal,
      );
      return toInfo(key, metadata as Record<string, unknown>);
    } catch (e) {
      throw mapGcsError(e, this.#ctx("stat", name));
    }
  }

  async exists(key: string, options: SignalOptions = {}): Promise<boolean> {
    this.#open();
    const name = this.#name(key);
    try {
      const [exists] = await abortable(() => this.#bucket.file(name).exists(), options.signal);
      return exists;
    } catch (e) {
      throw mapGcsError(e, this.#ctx("stat", name));
    }
  }

  async read(key: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const stream = await this.readStream(key, options);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of stream) {
      chunks.push(chunk);
      total += chunk.byteLength;
    }
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }

  async readStream(key: string, options: ReadOptions = {}): Promise<ReadableStream<Uint8Array>> {
    this.#open();
    const name = this.#name(key);
    const { signal, range } = options;
    throwIfAborted(signal);
    const streamOptions: { start?: number; end?: number; validation?: "crc32c" | false } = {};
    if (range !== undefined) {
      checkRange(range, key);
      if (range.length === 0) {
        await this.head(key, { signal }); // an empty range of an absent object is still NotFound
        return new ReadableStream({ start: (c) => c.close() });
      }
      streamOptions.start = range.offset;
      streamOptions.end = range.offset + range.length - 1; // the SDK's end is inclusive
    }
    const node = this.#bucket.file(name).createReadStream(streamOptions);
    return await bridgeRead(node, signal, this.#ctx("read", name), range);
  }

  async write(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<ObjectInfo> {
    this.#open();
    const name = this.#name(key);
    const { signal } = options;
    throwIfAborted(signal);
    const isBytes = body instanceof Uint8Array;
    if (!isBytes && !(body instanceof ReadableStream)) {
      throw new InvalidArgumentError(
        `Cannot write "${key}": body must be a Uint8Array or a ReadableStream`,
      );
    }
    const file = this.#bucket.file(name);
    const contentType = options.contentType ?? "application/octet-stream";
    const resumable = !isBytes || body.byteLength > this.#resumableThreshold;
    const sink = file.createWriteStream({
      resumable,
      contentType,
      metadata: { contentType },
      ...(resumable && this.#chunkSize !== undefined ? { chunkSize: this.#chunkSize } : {}),
    });
    try {
      await abortablePipe(body, sink, signal);
    } catch (e) {
      throw mapGcsError(e, this.#ctx("write", name));
    }
    return toInfo(key, file.metadata as Record<string, unknown>);
  }

  async delete(key: string, options: SignalOptions = {}): Promise<void> {
    this.#open();
    const name = this.#name(key);
    try {
      await abortable(
        () => this.#bucket.file(name).delete({ ignoreNotFound: true }),
        options.signal,
      );
    } catch (e) {
      if (gcsStatus(e) === 404) return;
      throw mapGcsError(e, this.#ctx("delete", name));
    }
  }

  async deletePrefix(prefix: string, options: SignalOptions = {}): Promise<number> {
    this.#open();
    const { signal } = options;
    checkKey(prefix, { allowEmpty: true });
    let deleted = 0;
    let batch: string[] = [];
    const flush = async () => {
      const results = await Promise.all(batch.map((k) => this.#deleteCounted(k, signal)));
      deleted += results.filter(Boolean).length;
      batch = [];
    };
    for await (const entry of this.list(prefix, { signal })) {
      if (entry.kind !== "object") continue;
      batch.push(entry.key);
      if (batch.length >= 16) await flush();
    }
    await flush();
    return deleted;
  }

  async #deleteCounted(key: string, signal: AbortSignal | undefined): Promise<boolean> {
    const name = this.#root + key;
    try {
      await abortable(() => this.#bucket.file(name).delete(), signal);
      return true;
    } catch (e) {
      if (gcsStatus(e) === 404) return false; // deleted by someone else meanwhile
      throw mapGcsError(e, this.#ctx("delete", name));
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}

/**
 * Turns the SDK's read stream into a web stream. Resolves once the response status is known
 * (so a missing object rejects here, not mid-stream); pauses the Node stream while the web
 * stream's queue is full; destroys it on cancel or abort.
 */
function bridgeRead(
  node: Readable,
  signal: AbortSignal | undefined,
  ctx: GcsErrorContext,
  range: ByteRange | undefined,
): Promise<ReadableStream<Uint8Array>> {
  return new Promise((resolve, reject) => {
    // Bytes to drop, then to keep: set when a server answers a range request with the whole
    // object (200 instead of 206), as the emulator does for a range past the end.
    let skip = 0;
    let keep = range?.length ?? Infinity;
    let settled = false;
    let done = false;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
      pull() {
        if (node.isPaused()) node.resume();
      },
      cancel() {
        finish();
        node.destroy();
      },
    }, { highWaterMark: STREAM_HIGH_WATER_MARK, size: (c) => c.byteLength });

    const finish = () => {
      done = true;
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (error: unknown) => {
      if (done) return;
      finish();
      if (!settled) {
        settled = true;
        reject(error);
      } else {
        controller.error(error);
      }
      node.destroy();
    };
    const onAbort = () =>
      fail(
        new AbortedError(`Cannot read "gs://${ctx.bucket}/${ctx.name}": aborted`, {
          cause: signal?.reason,
        }),
      );
    signal?.addEventListener("abort", onAbort, { once: true });

    node.on("response", (res: { statusCode?: number; status?: number }) => {
      const status = res.statusCode ?? res.status ?? 200;
      if (status === 200 && range !== undefined) skip = range.offset;
      if (status < 300 && !settled) {
        settled = true;
        resolve(web);
      }
    });
    node.on("data", (chunk: Uint8Array) => {
      if (done) return;
      let start = chunk.byteOffset;
      let length = chunk.byteLength;
      if (skip > 0) {
        const n = Math.min(skip, length);
        skip -= n;
        start += n;
        length -= n;
      }
      length = Math.min(length, keep);
      keep -= length;
      if (length > 0) controller.enqueue(new Uint8Array(chunk.buffer, start, length));
      if (keep === 0) {
        // The range is complete: end now rather than reading the rest of an unranged answer.
        finish();
        controller.close();
        node.destroy();
        return;
      }
      if ((controller.desiredSize ?? 1) <= 0) node.pause();
    });
    node.on("end", () => {
      if (done) return;
      finish();
      controller.close();
      if (!settled) {
        settled = true;
        resolve(web);
      }
    });
    node.on("error", (e: unknown) => {
      if (!settled && gcsStatus(e) === 416) {
        // A range that starts at or past the end of the object: clamp to nothing.
        finish();
        settled = true;
        controller.close();
        resolve(web);
        return;
      }
      fail(mapGcsError(e, ctx));
    });
  });
}

/**
 * Writes `body` into the SDK's write stream with backpressure and waits until the upload is
 * complete. On abort the upload is destroyed before its last chunk, so no object appears.
 */
async function abortablePipe(
  body: Uint8Array | ReadableStream<Uint8Array>,
  sink: Writable,
  signal: AbortSignal | undefined,
): Promise<void> {
  let failure: unknown;
  let onFailure: ((e: unknown) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    onFailure = (e) => {
      failure ??= e;
      reject(failure);
    };
  });
  failed.catch(() => {});
  const finished = new Promise<void>((resolve) => sink.once("finish", () => resolve()));
  sink.on("error", (e) => onFailure!(e));
  const onAbort = () => {
    const error = new AbortedError("Operation aborted", { cause: signal?.reason });
    onFailure!(error);
    sink.destroy(error);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const reader = body instanceof ReadableStream ? body.getReader() : undefined;
  try {
    if (reader === undefined) {
      sink.end(body as Uint8Array);
    } else {
      while (true) {
        const { done, value } = await Promise.race([reader.read(), failed]);
        if (done) break;
        if (!sink.write(value)) {
          await Promise.race([new Promise<void>((r) => sink.once("drain", () => r())), failed]);
        }
      }
      sink.end();
    }
    await Promise.race([finished, failed]);
  } catch (e) {
    if (!sink.destroyed) sink.destroy();
    reader?.cancel(e).catch(() => {});
    throw failure ?? e;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    try {
      reader?.releaseLock();
    } catch {
      // a read still pending after a failure: the stream was cancelled above
    }
  }
}

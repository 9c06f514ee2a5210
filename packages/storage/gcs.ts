/**
 * The Google Cloud Storage backend (the only file that imports `@google-cloud/storage`).
 *
 * The SDK does what it does well — credentials (key file, parsed key, or Application Default
 * Credentials), listing, metadata, deletes, opening resumable upload sessions — with its retries
 * configured explicitly. Object bodies travel over the runtime's `fetch` against the same JSON
 * API endpoint: a write from a `ReadableStream` is one resumable-session PUT fed with backpressure
 * (never buffered whole), a read is the response body pulled only as fast as the caller reads,
 * both cancelled for real by an `AbortSignal`. (Through the SDK's Node streams under Deno every
 * read printed a `MaxListenersExceededWarning`, an abort could not reach the request in flight,
 * and uploads to the emulator ran at 8–14 MB/s against 15–19 MB/s this way; memory stayed flat
 * either way.) Metadata calls cannot be cancelled inside the SDK: on abort they reject at once
 * with `AbortedError` and their answer is dropped.
 *
 * Failures go through one table (`_gcs_errors.ts`): 404 → `NotFoundError` (bucket or object),
 * 401/403 → `PermissionDeniedError`, 412 → `PreconditionFailedError`, and 408, 429, 5xx and
 * connection failures → bounded, jittered retries, then `UnavailableError`.
 *
 * @module
 */
import { IdempotencyStrategy, Storage } from "@google-cloud/storage";
import type { Bucket, File, StorageOptions } from "@google-cloud/storage";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import {
  AbortedError,
  InvalidArgumentError,
  throwIfAborted,
  UnavailableError,
} from "@eventlake/schema";
import type {
  ListEntry,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  ReadOptions,
  SignalOptions,
  WriteOptions,
} from "./store.ts";
import { checkKey } from "./keys.ts";
import { checkListArgs, checkObjectKey, compareKeys, concatBytes } from "./_common.ts";
import { withRetry } from "./retry.ts";
import {
  type GcsErrorContext,
  gcsStatus,
  isRetryableGcsError,
  mapGcsError,
} from "./_gcs_errors.ts";

/**
 * How 408, 429, 5xx and connection failures are retried before a call fails as `UNAVAILABLE`.
 * Metadata calls (list, head, exists, delete, opening an upload session) retry inside the SDK;
 * object reads and one-request uploads retry with `withRetry` (waits from 0.25–0.5 s, doubling).
 * A streamed upload cannot be replayed once its body has started, so it is not retried.
 */
export interface GcsRetryOptions {
  /** Retries after the first attempt; `0` disables retrying. Default 3. */
  maxRetries?: number;
  /** SDK calls: the delay before retry n is `multiplier^n` s plus up to 1 s of jitter. Default 2. */
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
  /**
   * Byte bodies up to this size are uploaded in one request (retried on transient failures);
   * larger ones, and every stream, through a resumable upload session. Default 8 MiB.
   */
  resumableThreshold?: number;
  /** Objects per listing request, 1–1000. Default 1000. */
  pageSize?: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;
const STREAM_CHUNK = MIB;

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
  #storage: Storage;
  #base: string;
  #useAuth: boolean;
  #retry: { retries: number; baseMs: number; maxMs: number };
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
    this.#storage = new Storage(storageOptions);
    this.#bucket = this.#storage.bucket(bucket);
    // Object bodies travel over the runtime's fetch (streamed both ways, abortable); the SDK
    // does the rest. Same endpoint and the same rule for sending credentials as the SDK.
    this.#base = (options.apiEndpoint ?? "https://storage.googleapis.com").replace(/\/+$/, "");
    this.#useAuth = options.apiEndpoint === undefined || options.authWithCustomEndpoint === true;
    this.#retry = {
      retries: maxRetries,
      baseMs: 500,
      maxMs: 1000 * (retry.maxDelaySeconds ?? 16),
    };
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
    let carried: string[] = [];
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
      // Objects and prefixes come apart: merge them into one order, sorting each page by UTF-8
      // bytes (which also repairs a server that sorts by UTF-16 units, as the emulator does).
      // A prefix beyond this page's last object waits for the page it belongs to: the emulator
      // sends every prefix on every page, and real GCS may end a page with prefixes.
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
        carried.push(p);
      }
      const lastObject = files.length > 0 ? files[files.length - 1].name : undefined;
      const keep: string[] = [];
      for (const p of carried) {
        if (
          pageToken === undefined || (lastObject !== undefined && compareKeys(p, lastObject) < 0)
        ) {
          page.push({ name: p, entry: { kind: "prefix", prefix: p.slice(cut) } });
        } else keep.push(p);
      }
      carried = keep;
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
    return concatBytes(chunks, total);
  }

  async readStream(key: string, options: ReadOptions = {}): Promise<ReadableStream<Uint8Array>> {
    this.#open();
    const name = this.#name(key);
    const { signal, range } = options;
    throwIfAborted(signal);
    if (range !== undefined) {
      checkRange(range, key);
      if (range.length === 0) {
        await this.head(key, { signal }); // an empty range of an absent object is still NotFound
        return emptyStream();
      }
    }
    const ctx = this.#ctx("read", name);
    const url = `${this.#objectUrl(name)}?alt=media`;
    const res = await this.#withRetry(async () => {
      const headers = await this.#headers(url, ctx);
      // The stored bytes, never a transcoded form: ranges and checksums refer to them.
      headers.set("accept-encoding", "identity");
      if (range !== undefined) {
        // HTTP ranges are inclusive at both ends.
        headers.set("range", `bytes=${range.offset}-${range.offset + range.length - 1}`);
      }
      const res = await this.#fetch(url, { headers, signal }, ctx);
      if (res.status === 416) {
        // A range starting at or past the end of the object: clamped to nothing.
        await res.body?.cancel();
        return undefined;
      }
      if (!res.ok) throw mapGcsError(await responseError(res), ctx);
      return res;
    }, signal);
    if (res === undefined || res.body === null) return emptyStream();
    let md5: string | undefined;
    if (range === undefined && !res.headers.has("content-encoding")) {
      md5 = /(?:^|,)\s*md5=([^,]+)/.exec(res.headers.get("x-goog-hash") ?? "")?.[1];
    }
    return bodyStream(res.body, {
      // A server that ignores Range answers 200 with the whole object: cut the range out here.
      skip: range !== undefined && res.status === 200 ? range.offset : 0,
      keep: range?.length ?? Infinity,
      md5,
      signal,
      ctx,
    });
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
    const contentType = options.contentType ?? "application/octet-stream";
    const ctx = this.#ctx("write", name);
    let info: Record<string, unknown>;
    if (body instanceof Uint8Array) {
      info = body.byteLength <= this.#resumableThreshold
        ? await this.#withRetry(
          () => this.#uploadBytes(name, body, contentType, signal, ctx),
          signal,
        )
        : await this.#uploadStream(name, bytesStream(body), contentType, signal, ctx);
    } else if (body instanceof ReadableStream) {
      info = await this.#uploadStream(name, body, contentType, signal, ctx);
    } else {
      throw new InvalidArgumentError(
        `Cannot write "${key}": body must be a Uint8Array or a ReadableStream`,
      );
    }
    return toInfo(key, info);
  }

  /** One request (`uploadType=media`), checked against the MD5 the server computed. */
  async #uploadBytes(
    name: string,
    bytes: Uint8Array,
    contentType: string,
    signal: AbortSignal | undefined,
    ctx: GcsErrorContext,
  ): Promise<Record<string, unknown>> {
    const url = `${this.#base}/upload/storage/v1/b/${encodeURIComponent(this.#bucketName)}/o` +
      `?uploadType=media&name=${encodeURIComponent(name)}`;
    const headers = await this.#headers(url, ctx);
    headers.set("content-type", contentType);
    const res = await this.#fetch(url, {
      method: "POST",
      headers,
      body: bytes as Uint8Array<ArrayBuffer>,
      signal,
    }, ctx);
    if (!res.ok) throw mapGcsError(await responseError(res), ctx);
    const metadata = await res.json() as Record<string, unknown>;
    await this.#checkMd5(name, metadata, createHash("md5").update(bytes).digest("base64"), ctx);
    return metadata;
  }

  /**
   * A resumable upload session (created by the SDK, with its retries), then the body streamed
   * in one PUT with backpressure: nothing is buffered beyond the chunk in flight. A failure or an
   * abort before the body ends leaves the session unfinished, so no object appears.
   */
  async #uploadStream(
    name: string,
    body: ReadableStream<Uint8Array>,
    contentType: string,
    signal: AbortSignal | undefined,
    ctx: GcsErrorContext,
  ): Promise<Record<string, unknown>> {
    const reader = body.getReader();
    let session: string | undefined;
    try {
      // Peek at the first bytes: an empty stream becomes a one-request 0-byte upload.
      let first = await abortable(() => reader.read(), signal);
      while (!first.done && first.value.byteLength === 0) {
        first = await abortable(() => reader.read(), signal);
      }
      if (first.done) {
        return await this.#withRetry(
          () => this.#uploadBytes(name, new Uint8Array(0), contentType, signal, ctx),
          signal,
        );
      }
      try {
        [session] = await abortable(
          () =>
            this.#bucket.file(name).createResumableUpload({
              metadata: { contentType },
              // Uploads replace whole objects: safe to retry the session creation.
              preconditionOpts: {},
            }),
          signal,
        );
      } catch (e) {
        throw mapGcsError(e, ctx);
      }
      const hash = createHash("md5");
      let pending: Uint8Array | undefined = first.value;
      const upload = new ReadableStream<Uint8Array>({
        async pull(controller) {
          let chunk = pending;
          pending = undefined;
          while (chunk === undefined || chunk.byteLength === 0) {
            const next = await reader.read();
            if (next.done) return controller.close();
            chunk = next.value;
          }
          hash.update(chunk);
          controller.enqueue(chunk);
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      }, { highWaterMark: 0 });
      const headers = new Headers({ "content-range": "bytes 0-*/*" });
      const res = await this.#fetch(
        session,
        { method: "PUT", headers, body: upload, signal, duplex: "half" } as RequestInit,
        ctx,
      );
      if (!res.ok) throw mapGcsError(await responseError(res), ctx);
      const metadata = await res.json() as Record<string, unknown>;
      await this.#checkMd5(name, metadata, hash.digest("base64"), ctx);
      return metadata;
    } catch (e) {
      reader.cancel(e).catch(() => {});
      if (session !== undefined) {
        // Best effort: GCS drops an unfinished session after a week anyway, and no object
        // exists until the body ends. (The emulator answers 501 here.)
        fetch(session, { method: "DELETE" }).then((r) => r.body?.cancel(), () => {});
      }
      throw e;
    } finally {
      try {
        reader.releaseLock();
      } catch {
        // a read is still pending after a failure: the stream was cancelled above
      }
    }
  }

  /** Deletes an object whose stored MD5 differs from what was sent, then fails the write. */
  async #checkMd5(
    name: string,
    metadata: Record<string, unknown>,
    sent: string,
    ctx: GcsErrorContext,
  ): Promise<void> {
    const stored = metadata.md5Hash;
    if (typeof stored !== "string" || stored === sent) return;
    await this.#bucket.file(name).delete({ ignoreNotFound: true }).catch(() => {});
    throw new UnavailableError(
      `Cannot write "gs://${ctx.bucket}/${name}": the stored bytes differ from the bytes sent ` +
        `(MD5 "${stored}" instead of "${sent}"); the object was deleted, write it again`,
      { details: { bucket: ctx.bucket, key: name } },
    );
  }

  #objectUrl(name: string): string {
    return `${this.#base}/storage/v1/b/${encodeURIComponent(this.#bucketName)}/o/` +
      encodeURIComponent(name);
  }

  /** Credentials for one request, from the SDK's auth client (nothing for an emulator). */
  async #headers(url: string, ctx: GcsErrorContext): Promise<Headers> {
    const headers = new Headers();
    if (!this.#useAuth) return headers;
    try {
      const auth = await this.#storage.authClient.getRequestHeaders(url);
      new Headers(auth as HeadersInit).forEach((value, name) => headers.set(name, value));
    } catch (e) {
      // No or unusable credentials: the service cannot reach the bucket (reported like a 401).
      throw mapGcsError({ code: 401, message: `cannot get credentials: ${messageOf(e)}` }, ctx);
    }
    return headers;
  }

  /** `fetch`, with an abort reported as `AbortedError` and a network failure as retryable. */
  async #fetch(url: string, init: RequestInit, ctx: GcsErrorContext): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (e) {
      if (init.signal?.aborted) {
        throw new AbortedError(`Cannot ${ctx.op} "gs://${ctx.bucket}/${ctx.name}": aborted`, {
          cause: init.signal.reason,
        });
      }
      throw mapGcsError(e, { ...ctx, fromFetch: true });
    }
  }

  #withRetry<T>(fn: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    return withRetry(fn, { ...this.#retry, signal });
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

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (c) => c.close() });
}

function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.byteLength) return c.close();
      const n = Math.min(STREAM_CHUNK, bytes.byteLength - at);
      c.enqueue(bytes.subarray(at, at + n));
      at += n;
    },
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The parts of a GCS error answer that the error table reads (`{ error: { code, message, errors } }`). */
async function responseError(
  res: Response,
): Promise<{ code: number; message: string; errors?: unknown; retryAfterMs?: number }> {
  const text = await res.text().catch(() => "");
  const out: { code: number; message: string; errors?: unknown; retryAfterMs?: number } = {
    code: res.status,
    message: text.trim().slice(0, 300) || res.statusText,
  };
  const retryAfter = res.headers.get("retry-after");
  if (retryAfter !== null && /^\d+$/.test(retryAfter.trim())) {
    out.retryAfterMs = Number(retryAfter) * 1000;
  }
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown; errors?: unknown } };
    if (typeof body.error?.message === "string") {
      out.message = body.error.message;
      out.errors = body.error.errors;
    }
  } catch {
    // not JSON: keep the text
  }
  return out;
}

/**
 * The response body as the caller's stream: pulled only as fast as the caller reads, cut to
 * the range, checked against the object's MD5 at the end of a whole read, and failing with
 * `AbortedError` on abort or a mapped error when the connection breaks.
 */
function bodyStream(
  body: ReadableStream<Uint8Array>,
  options: {
    skip: number;
    keep: number;
    md5: string | undefined;
    signal: AbortSignal | undefined;
    ctx: GcsErrorContext;
  },
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const { signal, ctx } = options;
  const where = `gs://${ctx.bucket}/${ctx.name}`;
  let { skip, keep } = options;
  const hash = options.md5 === undefined ? undefined : createHash("md5");
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (true) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (e) {
          controller.error(
            signal?.aborted
              ? new AbortedError(`Cannot read "${where}": aborted`, { cause: signal.reason })
              : mapGcsError(e, { ...ctx, fromFetch: true }),
          );
          return;
        }
        if (next.done) {
          const got = hash?.digest("base64");
          if (got !== undefined && got !== options.md5) {
            controller.error(
              new UnavailableError(
                `Cannot read "${where}": the bytes received differ from the stored object ` +
                  `(MD5 "${got}" instead of "${options.md5}"); read it again`,
                { details: { bucket: ctx.bucket, key: ctx.name } },
              ),
            );
          } else controller.close();
          return;
        }
        let chunk = next.value;
        if (skip > 0) {
          const n = Math.min(skip, chunk.byteLength);
          skip -= n;
          chunk = chunk.subarray(n);
        }
        if (chunk.byteLength > keep) chunk = chunk.subarray(0, keep);
        keep -= chunk.byteLength;
        hash?.update(chunk);
        if (chunk.byteLength > 0) controller.enqueue(chunk);
        if (keep === 0) {
          // The range is complete: stop rather than read the rest of an unranged answer.
          reader.cancel().catch(() => {});
          controller.close();
          return;
        }
        if (chunk.byteLength > 0) return;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

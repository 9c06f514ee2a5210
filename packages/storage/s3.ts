/**
 * The S3 backend: an {@linkcode ObjectStore} over one bucket of Amazon S3 or an S3-compatible
 * server (MinIO, Ceph, OpenStack Swift with s3api, …).
 *
 * This is the only file that imports the AWS SDK. Failures are translated by one table
 * (`_s3_errors.ts`), which also decides what is retried: throttling, 5xx and network errors are
 * retried with capped, fully jittered exponential backoff, then surface as `UnavailableError`.
 *
 * Streams are never buffered whole: a stream body larger than one part is sent as a multipart
 * upload with at most `queueSize` parts in flight and one being filled, and a failed or aborted
 * multipart upload is aborted on the server before `write` rejects.
 *
 * @module
 */
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { type EventlakeError, InternalError, InvalidArgumentError } from "@eventlake/schema";
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
  resolveRange,
} from "./_common.ts";
import { checkKey } from "./keys.ts";
import { classifyS3Error, isRetryableS3Error, mapS3Error } from "./_s3_errors.ts";

/** Options of {@linkcode createS3Store}. */
export interface S3StoreOptions {
  /** Bucket name. */
  bucket: string;
  /** AWS region, e.g. `us-east-1`; when absent, `AWS_REGION` or the profile's region is used. */
  region?: string;
  /** Custom endpoint for S3-compatible stores, e.g. `http://127.0.0.1:8080`. */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible stores. */
  forcePathStyle?: boolean;
  /** Static credentials; when absent the standard AWS environment/profile chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * Attempts per request, the first included (default 4). Throttling, 5xx and network failures
   * are retried with full-jitter exponential backoff; other failures are not retried.
   */
  maxAttempts?: number;
  /** Backoff before the first retry is up to this many milliseconds, doubling per retry (default 100). */
  retryBaseDelayMs?: number;
  /** Upper bound of one backoff, in milliseconds (default 5000). */
  retryMaxDelayMs?: number;
  /**
   * Part size of multipart uploads, in bytes (default 8 MiB, at least 5 MiB as S3 requires).
   * Bodies up to one part are sent with one PutObject.
   */
  partSize?: number;
  /** Parts uploaded at the same time (default 4); a write holds at most `queueSize + 1` parts. */
  queueSize?: number;
  /** Keys per ListObjectsV2 page (default 1000, S3's maximum); paging stays hidden. */
  listPageSize?: number;
  /** Milliseconds to open a connection before the attempt fails (default 10000; retried). */
  connectTimeoutMs?: number;
  /**
   * Milliseconds one attempt may take until the response starts (default 120000; retried):
   * a server that accepts a request and never answers fails instead of hanging the caller.
   */
  requestTimeoutMs?: number;
}

/** A multipart upload that was started and neither completed nor aborted. */
export interface PendingUpload {
  /** The object key the upload writes. */
  key: string;
  /** The upload's id. */
  uploadId: string;
  /** When the upload started, when the server says. */
  initiated?: Date;
}

/** An {@linkcode ObjectStore} over S3, with the multipart housekeeping only S3 has. */
export interface S3Store extends ObjectStore {
  /** The bucket this store reads and writes. */
  readonly bucket: string;
  /** Lists multipart uploads under `prefix` that were neither completed nor aborted. */
  listPendingUploads(prefix: string, options?: SignalOptions): Promise<PendingUpload[]>;
  /** Aborts every pending multipart upload under `prefix` (e.g. left by a crash); returns how many. */
  abortPendingUploads(prefix: string, options?: SignalOptions): Promise<number>;
}

const MiB = 1024 * 1024;
const MIN_PART_SIZE = 5 * MiB;
const MAX_PARTS = 10_000;
const DELETE_BATCH = 1000;

/**
 * Creates an {@linkcode ObjectStore} over one S3 bucket. The store addresses the whole bucket;
 * a key prefix is the caller's business (see `openStore`).
 *
 * Credentials come from `options.credentials`, else from the SDK's default chain
 * (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, `AWS_PROFILE` and
 * `~/.aws/*`, web identity, container and instance metadata).
 *
 * @example Against an S3-compatible server
 * ```ts
 * import { createS3Store } from "@eventlake/storage";
 * const store = createS3Store({
 *   bucket: "events",
 *   region: "us-east-1",
 *   endpoint: "http://127.0.0.1:8080",
 *   forcePathStyle: true,
 *   credentials: { accessKeyId: "test:tester", secretAccessKey: "testing" },
 * });
 * console.log(store.url); // "s3://events"
 * await store.close();
 * ```
 */
export function createS3Store(options: S3StoreOptions): S3Store {
  return new S3ObjectStore(options);
}

class S3ObjectStore implements S3Store {
  readonly url: string;
  readonly bucket: string;
  #client: S3Client;
  #partSize: number;
  #queueSize: number;
  #listPageSize: number;

  constructor(options: S3StoreOptions) {
    const { bucket } = options;
    if (typeof bucket !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(bucket)) {
      throw new InvalidArgumentError(`Invalid S3 bucket name "${String(bucket)}"`, {
        details: { bucket: String(bucket) },
      });
    }
    this.bucket = bucket;
    this.url = `s3://${bucket}`;
    this.#partSize = positiveInt(options.partSize, "partSize", 8 * MiB);
    if (this.#partSize < MIN_PART_SIZE) {
      throw new InvalidArgumentError(
        `Invalid S3 partSize ${this.#partSize}: must be at least ${MIN_PART_SIZE} (5 MiB)`,
      );
    }
    this.#queueSize = positiveInt(options.queueSize, "queueSize", 4);
    this.#listPageSize = Math.min(1000, positiveInt(options.listPageSize, "listPageSize", 1000));
    const maxAttempts = positiveInt(options.maxAttempts, "maxAttempts", 4);
    const config: S3ClientConfig = {
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      maxAttempts,
      retryStrategy: retryStrategy(
        maxAttempts,
        nonNegative(options.retryBaseDelayMs, "retryBaseDelayMs", 100),
        nonNegative(options.retryMaxDelayMs, "retryMaxDelayMs", 5000),
      ),
      // Checksums only where S3 requires them: S3-compatible servers reject the newer
      // trailing-checksum encodings, and the store checks lengths itself.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      // The SDK's node:http handler (in Deno it used ~100 MB less memory than fetch for large
      // uploads), with timeouts so a silent server becomes a retried TimeoutError.
      requestHandler: {
        connectionTimeout: positiveInt(options.connectTimeoutMs, "connectTimeoutMs", 10_000),
        requestTimeout: positiveInt(options.requestTimeoutMs, "requestTimeoutMs", 120_000),
        throwOnRequestTimeout: true,
      },
    };
    this.#client = new S3Client(config);
  }

  /** Runs one SDK call with the caller's signal and translates its failure. */
  async #call<T>(
    operation: string,
    key: string | undefined,
    signal: AbortSignal | undefined,
    fn: (abortSignal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    checkSignal(signal, describe(operation, key, this.url));
    try {
      return await fn(signal);
    } catch (error) {
      throw this.#error(error, operation, key, signal);
    }
  }

  #error(
    error: unknown,
    operation: string,
    key: string | undefined,
    signal: AbortSignal | undefined,
  ): EventlakeError {
    if (signal?.aborted) return abortedError(signal, describe(operation, key, this.url));
    const attempts = (error as { $metadata?: { attempts?: unknown } } | null)?.$metadata?.attempts;
    return mapS3Error(error, {
      operation,
      bucket: this.bucket,
      key,
      attempts: typeof attempts === "number" && attempts > 1 ? attempts : undefined,
    });
  }

  list(prefix: string, options: ListOptions = {}): AsyncIterable<ListEntry> {
    checkListArgs(prefix, options.delimiter);
    return this.#list(prefix, options.delimiter, options.signal);
  }

  async *#list(
    prefix: string,
    delimiter: string | undefined,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<ListEntry> {
    let token: string | undefined;
    let lastPrefix: string | undefined;
    do {
      const page = await this.#call("list", prefix, signal, (abortSignal) =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix === "" ? undefined : prefix,
            Delimiter: delimiter,
            ContinuationToken: token,
            MaxKeys: this.#listPageSize,
          }),
          { abortSignal },
        ));
      const objects: ListEntry[] = (page.Contents ?? []).map((o) => ({
        kind: "object",
        key: o.Key ?? "",
        size: o.Size ?? 0,
        etag: stripQuotes(o.ETag),
        lastModified: o.LastModified,
      }));
      const prefixes: ListEntry[] = (page.CommonPrefixes ?? []).map((p) => ({
        kind: "prefix",
        prefix: p.Prefix ?? "",
      }));
      // One page is in key order across both lists, and pages follow each other in key order.
      // A server that resumes inside a common prefix would repeat it at the top of the next
      // page: it is shown once.
      for (const entry of mergeByKey(objects, prefixes)) {
        if (entry.kind === "prefix") {
          if (entry.prefix === lastPrefix) continue;
          lastPrefix = entry.prefix;
        }
        yield entry;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !token) {
        throw new InternalError(
          `Cannot list "${prefix}" in bucket "${this.bucket}": S3 said the listing is truncated but gave no continuation token`,
          { details: { bucket: this.bucket, prefix } },
        );
      }
    } while (token !== undefined);
  }

  async head(key: string, options: SignalOptions = {}): Promise<ObjectInfo> {
    checkObjectKey(key);
    const out = await this.#call(
      "head",
      key,
      options.signal,
      (abortSignal) =>
        this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), {
          abortSignal,
        }),
    );
    return {
      key,
      size: out.ContentLength ?? 0,
      etag: stripQuotes(out.ETag),
      lastModified: out.LastModified,
    };
  }

  async exists(key: string, options: SignalOptions = {}): Promise<boolean> {
    try {
      await this.head(key, options);
      return true;
    } catch (error) {
      if ((error as EventlakeError).code === "NOT_FOUND") return false;
      throw error;
    }
  }

  async read(key: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const opened = await this.#open(key, options, "read");
    if (opened === null) return new Uint8Array(0);
    const { stream, length } = opened;
    const out = new Uint8Array(length);
    let at = 0;
    const reader = stream.getReader();
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        if (at + value.byteLength > length) {
          throw new InternalError(
            `Cannot read "${key}" in bucket "${this.bucket}": S3 sent more than the announced ${length} bytes`,
            { details: { bucket: this.bucket, key } },
          );
        }
        out.set(value, at);
        at += value.byteLength;
      }
    } finally {
      reader.releaseLock();
    }
    if (at !== length) {
      throw mapS3Error(
        Object.assign(new Error("Premature end of the response body"), {
          code: "ERR_STREAM_PREMATURE_CLOSE",
        }),
        { operation: "read", bucket: this.bucket, key },
      );
    }
    return out;
  }

  async readStream(key: string, options: ReadOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const opened = await this.#open(key, options, "read");
    if (opened === null) return new ReadableStream({ start: (c) => c.close() });
    return opened.stream;
  }

  /**
   * Starts a GetObject and returns its body as a guarded stream (errors translated, the
   * signal honoured while streaming), or `null` when the range is empty.
   */
  async #open(
    key: string,
    options: ReadOptions,
    operation: string,
  ): Promise<{ stream: ReadableStream<Uint8Array>; length: number } | null> {
    checkObjectKey(key);
    const { range, signal } = options;
    if (range !== undefined) {
      // Validates the range; an infinite size keeps it unclamped.
      resolveRange(key, Number.MAX_SAFE_INTEGER, range);
      if (range.length === 0) {
        await this.head(key, { signal }); // an empty range of a missing object is still NotFound
        return null;
      }
    }
    // A range starting at or past the end (or any range of a 0-byte object) gets 416 from S3;
    // the store's contract clamps it to an empty read of an existing object.
    const out = await this.#call(operation, key, signal, async (abortSignal) => {
      try {
        return await this.#client.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Range: range === undefined
              ? undefined
              : `bytes=${range.offset}-${range.offset + range.length - 1}`,
          }),
          { abortSignal },
        );
      } catch (error) {
        if (range !== undefined && classifyS3Error(error) === "invalid_range") return null;
        throw error;
      }
    });
    if (out === null) {
      await this.head(key, { signal });
      return null;
    }
    const body = out.Body;
    if (body === undefined) {
      return { stream: new ReadableStream({ start: (c) => c.close() }), length: 0 };
    }
    const source = body.transformToWebStream() as ReadableStream<Uint8Array>;
    const length = out.ContentLength ?? 0;
    return {
      stream: guardStream(
        source,
        signal,
        // A broken response body surfaces from the web stream as a TypeError: a network failure.
        (error) =>
          this.#error(
            error instanceof TypeError ? networkError(error) : error,
            operation,
            key,
            signal,
          ),
      ),
      length,
    };
  }

  async write(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<ObjectInfo> {
    checkObjectKey(key);
    const { signal } = options;
    checkSignal(signal, describe("write", key, this.url));
    let parts: PartSource;
    if (body instanceof Uint8Array) {
      if (body.byteLength <= this.#partSize) return await this.#put(key, body, options);
      parts = bytesParts(body);
    } else if (body instanceof ReadableStream) {
      parts = streamParts(body, signal);
    } else {
      throw new InvalidArgumentError(
        `Cannot write "${key}" in bucket "${this.bucket}": the body must be a Uint8Array or a ReadableStream`,
        { details: { bucket: this.bucket, key } },
      );
    }
    let first: Uint8Array | null;
    let second: Uint8Array | null;
    try {
      first = await parts.next(this.#partSize);
      second = first === null || first.byteLength < this.#partSize
        ? null
        : await parts.next(this.#partSize);
    } catch (error) {
      await parts.cancel(error);
      throw this.#bodyError(error, key, signal);
    }
    if (second === null) return await this.#put(key, first ?? new Uint8Array(0), options);
    return await this.#multipart(key, [first!, second], parts, options);
  }

  async #put(key: string, data: Uint8Array, options: WriteOptions): Promise<ObjectInfo> {
    const out = await this.#call("write", key, options.signal, (abortSignal) =>
      this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: data,
          ContentLength: data.byteLength,
          ContentType: options.contentType,
        }),
        { abortSignal },
      ));
    return { key, size: data.byteLength, etag: stripQuotes(out.ETag) };
  }

  /**
   * Uploads `head` and the rest of `parts` as one multipart upload, `queueSize` parts at a
   * time. Any failure (S3, the body stream, the caller's signal) stops the other parts and
   * aborts the upload on the server before the error is thrown.
   */
  async #multipart(
    key: string,
    head: Uint8Array[],
    parts: PartSource,
    options: WriteOptions,
  ): Promise<ObjectInfo> {
    const { signal } = options;
    let created;
    try {
      created = await this.#call("write", key, signal, (abortSignal) =>
        this.#client.send(
          new CreateMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            ContentType: options.contentType,
          }),
          { abortSignal },
        ));
    } catch (error) {
      await parts.cancel(error);
      throw error;
    }
    const uploadId = created.UploadId;
    if (!uploadId) {
      await parts.cancel(undefined);
      throw new InternalError(
        `Cannot write "${key}" in bucket "${this.bucket}": S3 started a multipart upload without an id`,
      );
    }
    const stop = new AbortController();
    const partSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const completed: CompletedPart[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    let size = 0;
    let partNumber = 0;
    const launch = (data: Uint8Array): void => {
      const n = ++partNumber;
      if (n > MAX_PARTS) {
        failure ??= {
          error: new InvalidArgumentError(
            `Cannot write "${key}" in bucket "${this.bucket}": more than ${MAX_PARTS} parts of ${this.#partSize} bytes; raise partSize`,
          ),
        };
        return;
      }
      size += data.byteLength;
      const p: Promise<void> = this.#call(
        "write",
        key,
        partSignal,
        (abortSignal) =>
          this.#client.send(
            new UploadPartCommand({
              Bucket: this.bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: n,
              Body: data,
              ContentLength: data.byteLength,
            }),
            { abortSignal },
          ),
      )
        .then((out) => {
          completed.push({ PartNumber: n, ETag: out.ETag });
          parts.release(data);
        }, (error) => {
          failure ??= { error };
          stop.abort();
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    try {
      for (const data of head) launch(data);
      while (failure === undefined) {
        while (inFlight.size >= this.#queueSize && failure === undefined) {
          await Promise.race(inFlight);
        }
        if (failure !== undefined) break;
        let data: Uint8Array | null;
        try {
          data = await parts.next(this.#partSize);
        } catch (error) {
          failure = { error: this.#bodyError(error, key, signal) };
          break;
        }
        if (data === null) break;
        launch(data);
      }
      await Promise.all(inFlight);
      if (failure !== undefined) throw failure.error;
      completed.sort((a, b) => a.PartNumber! - b.PartNumber!);
      const out = await this.#call("write", key, signal, (abortSignal) =>
        this.#client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: completed },
          }),
          { abortSignal },
        ));
      return { key, size, etag: stripQuotes(out.ETag) };
    } catch (error) {
      stop.abort();
      await Promise.allSettled(inFlight);
      await parts.cancel(error);
      await this.#abortUpload(key, uploadId);
      // A part that failed because the caller aborted reports the abort, not the part.
      throw this.#error(error, "write", key, signal);
    }
  }

  /** Aborts a multipart upload, bounded in time; failures leave a pending upload, not an error. */
  async #abortUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.#client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
        { abortSignal: AbortSignal.timeout(30_000) },
      );
    } catch {
      // Nothing more to do here: the upload stays pending and abortPendingUploads() cleans it up.
    }
  }

  #bodyError(error: unknown, key: string, signal: AbortSignal | undefined): EventlakeError {
    if (signal?.aborted) return abortedError(signal, describe("write", key, this.url));
    if (error instanceof InvalidArgumentError || error instanceof InternalError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new InvalidArgumentError(
      `Cannot write "${key}" in bucket "${this.bucket}": reading the body failed: ${message}`,
      { cause: error, details: { bucket: this.bucket, key } },
    );
  }

  async delete(key: string, options: SignalOptions = {}): Promise<void> {
    checkObjectKey(key);
    await this.#call(
      "delete",
      key,
      options.signal,
      (abortSignal) =>
        this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), {
          abortSignal,
        }),
    );
  }

  async deletePrefix(prefix: string, options: SignalOptions = {}): Promise<number> {
    checkKey(prefix, { allowEmpty: true });
    const { signal } = options;
    let deleted = 0;
    let batch: string[] = [];
    const flush = async () => {
      const keys = batch;
      batch = [];
      deleted += await this.#deleteBatch(prefix, keys, signal);
    };
    for await (const entry of this.#list(prefix, undefined, signal)) {
      if (entry.kind !== "object") continue;
      batch.push(entry.key);
      if (batch.length === DELETE_BATCH) await flush();
    }
    if (batch.length > 0) await flush();
    return deleted;
  }

  /** One DeleteObjects request; returns how many keys were deleted. */
  async #deleteBatch(
    prefix: string,
    keys: string[],
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const command = new DeleteObjectsCommand({
      Bucket: this.bucket,
      Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
    });
    // S3 requires an integrity header on DeleteObjects. The SDK now sends only a CRC32 checksum,
    // which older S3-compatible servers (Swift s3api, older MinIO/Ceph) do not accept; Content-MD5
    // is understood by all of them.
    command.middlewareStack.add(
      (next) => (args) => {
        const request = args.request as { headers?: Record<string, string>; body?: unknown };
        if (
          request.headers &&
          (typeof request.body === "string" || request.body instanceof Uint8Array)
        ) {
          request.headers["content-md5"] = createHash("md5").update(request.body).digest("base64");
        }
        return next(args);
      },
      { step: "build", name: "eventlakeContentMd5" },
    );
    const out = await this.#call(
      "deletePrefix",
      prefix,
      signal,
      (abortSignal) => this.#client.send(command, { abortSignal }),
    );
    const errors = out.Errors ?? [];
    if (errors.length > 0) {
      const first = errors[0];
      throw mapS3Error(
        { name: first.Code ?? "UnknownError", message: first.Message ?? "" },
        { operation: "deletePrefix", bucket: this.bucket, key: first.Key ?? prefix },
      );
    }
    return keys.length;
  }

  async listPendingUploads(prefix: string, options: SignalOptions = {}): Promise<PendingUpload[]> {
    checkKey(prefix, { allowEmpty: true });
    const { signal } = options;
    const uploads: PendingUpload[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    while (true) {
      const page = await this.#call(
        "listPendingUploads",
        prefix,
        signal,
        (abortSignal) =>
          this.#client.send(
            new ListMultipartUploadsCommand({
              Bucket: this.bucket,
              Prefix: prefix === "" ? undefined : prefix,
              KeyMarker: keyMarker,
              UploadIdMarker: uploadIdMarker,
            }),
            { abortSignal },
          ),
      );
      for (const u of page.Uploads ?? []) {
        if (u.Key === undefined || u.UploadId === undefined) continue;
        uploads.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated });
      }
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
      if (keyMarker === undefined && uploadIdMarker === undefined) break;
    }
    return uploads;
  }

  async abortPendingUploads(prefix: string, options: SignalOptions = {}): Promise<number> {
    const uploads = await this.listPendingUploads(prefix, options);
    for (const u of uploads) {
      await this.#call(
        "abortPendingUploads",
        u.key,
        options.signal,
        (abortSignal) =>
          this.#client.send(
            new AbortMultipartUploadCommand({
              Bucket: this.bucket,
              Key: u.key,
              UploadId: u.uploadId,
            }),
            { abortSignal },
          ),
      );
    }
    return uploads.length;
  }

  close(): Promise<void> {
    this.#client.destroy();
    return Promise.resolve();
  }
}

/** A source of upload parts: `next(n)` gives up to `n` bytes (fewer only at the end), `null` at the end. */
interface PartSource {
  next(size: number): Promise<Uint8Array | null>;
  /** Hands back a part whose upload finished, so its buffer can hold a later part. */
  release(part: Uint8Array): void;
  cancel(reason: unknown): Promise<void>;
}

function bytesParts(bytes: Uint8Array): PartSource {
  let at = 0;
  return {
    next(size) {
      if (at >= bytes.byteLength) return Promise.resolve(null);
      const part = bytes.subarray(at, Math.min(bytes.byteLength, at + size));
      at += part.byteLength;
      return Promise.resolve(part);
    },
    release() {},
    cancel: () => Promise.resolve(),
  };
}

/**
 * Cuts a stream into parts. A chunk at least as large as the part is sliced without copying;
 * smaller chunks are copied into one part buffer, so a write holds at most the parts it uploads.
 * A byte stream (a local file's, as `uploadFile` sends) is read with a BYOB reader straight into
 * the part buffers instead: no copy, and no chunk buffers left for the garbage collector.
 */
function streamParts(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal | undefined,
): PartSource {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream: read its chunks.
  }
  const chunks = byob ? undefined : stream.getReader();
  const reader = byob ?? chunks!;
  let pending: Uint8Array | null = null;
  let ended = false;
  let released = false;
  // Part buffers are reused once their upload finished: a fresh 8 MiB buffer per part would
  // leave the garbage collector to free hundreds of MB of them late, inflating the RSS.
  const free: ArrayBuffer[] = [];
  const own = new WeakSet<object>();
  const allocate = (size: number): Uint8Array => {
    const reused = free.pop();
    if (reused !== undefined && reused.byteLength === size) return new Uint8Array(reused);
    const part = new Uint8Array(size);
    own.add(part.buffer);
    return part;
  };
  // A reader waiting on a slow producer wakes up when the caller aborts.
  const onAbort = () => reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  const release = () => {
    if (released) return;
    released = true;
    signal?.removeEventListener("abort", onAbort);
  };
  const end = () => {
    ended = true;
    release();
  };
  /** Fills a part buffer through the BYOB reader (each read hands the buffer back, moved). */
  const nextByob = async (size: number): Promise<Uint8Array | null> => {
    let buffer = allocate(size).buffer as ArrayBuffer;
    let filled = 0;
    while (filled < size && !ended) {
      checkSignal(signal, "write");
      const r = await byob!.read(new Uint8Array(buffer, filled, size - filled));
      checkSignal(signal, "write");
      if (r.value === undefined) {
        // Cancelled: the buffer is gone with the stream.
        end();
        return null;
      }
      buffer = r.value.buffer as ArrayBuffer;
      filled += r.value.byteLength;
      if (r.done) end();
    }
    own.add(buffer);
    if (filled === 0) {
      if (free.length < 16) free.push(buffer);
      return null;
    }
    return new Uint8Array(buffer, 0, filled);
  };
  return {
    async next(size) {
      if (byob) return ended ? null : await nextByob(size);
      let part: Uint8Array | null = null;
      let filled = 0;
      while (filled < size) {
        let chunk = pending;
        pending = null;
        if (chunk === null) {
          if (ended) break;
          checkSignal(signal, "write");
          const r = await chunks!.read();
          checkSignal(signal, "write");
          if (r.done) {
            end();
            break;
          }
          chunk = r.value;
          if (!(chunk instanceof Uint8Array)) {
            throw new InvalidArgumentError(
              `The body stream yielded a ${typeof chunk}, not a Uint8Array`,
            );
          }
        }
        if (chunk.byteLength === 0) continue;
        if (filled === 0 && chunk.byteLength >= size) {
          if (chunk.byteLength > size) pending = chunk.subarray(size);
          return chunk.subarray(0, size);
        }
        part ??= allocate(size);
        const n = Math.min(size - filled, chunk.byteLength);
        part.set(n === chunk.byteLength ? chunk : chunk.subarray(0, n), filled);
        filled += n;
        if (n < chunk.byteLength) pending = chunk.subarray(n);
      }
      if (filled === 0) return null;
      return part!.subarray(0, filled);
    },
    release(part) {
      if (own.has(part.buffer) && free.length < 16) free.push(part.buffer as ArrayBuffer);
    },
    async cancel(reason) {
      release();
      pending = null;
      free.length = 0;
      if (!ended) {
        ended = true;
        await reader.cancel(reason).catch(() => {});
      }
    },
  };
}

/**
 * Wraps a response body: errors become typed errors, and the caller's signal stops the
 * stream even after the response headers arrived.
 */
function guardStream(
  source: ReadableStream<Uint8Array>,
  signal: AbortSignal | undefined,
  translate: (error: unknown) => EventlakeError,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let onAbort: (() => void) | undefined;
  const cleanup = () => {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    onAbort = undefined;
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (!signal) return;
      onAbort = () => {
        cleanup();
        controller.error(translate(signal.reason));
        reader.cancel(signal.reason).catch(() => {});
      };
      signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          cleanup();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        cleanup();
        // After an abort the stream is already errored; enqueueing again would throw.
        if (!signal?.aborted) controller.error(translate(error));
      }
    },
    cancel(reason) {
      cleanup();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** Merges two key-ordered runs of listing entries. */
function* mergeByKey(a: ListEntry[], b: ListEntry[]): Generator<ListEntry> {
  const keyOf = (e: ListEntry) => e.kind === "object" ? e.key : e.prefix;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (compareKeys(keyOf(a[i]), keyOf(b[j])) <= 0) yield a[i++];
    else yield b[j++];
  }
  while (i < a.length) yield a[i++];
  while (j < b.length) yield b[j++];
}

/** Marks a transport failure the error table does not know by name as a network error. */
function networkError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return Object.assign(new Error(`Network error: ${message}`), {
    name: "NetworkError",
    cause: error,
  });
}

type RetryStrategy = Extract<
  NonNullable<S3ClientConfig["retryStrategy"]>,
  { acquireInitialRetryToken: unknown }
>;

/**
 * The SDK retry strategy of the store: at most `maxAttempts` attempts, only for failures the
 * error table calls retryable, waiting a uniformly random time up to
 * `min(maxDelay, baseDelay * 2^retry)` before each retry (full jitter).
 */
function retryStrategy(
  maxAttempts: number,
  baseDelayMs: number,
  maxDelayMs: number,
): RetryStrategy {
  const token = (count: number, delay: number) => ({
    getRetryCount: () => count,
    getRetryDelay: () => delay,
  });
  return {
    acquireInitialRetryToken: () => Promise.resolve(token(0, 0)),
    refreshRetryTokenForRetry(previous, info) {
      const retries = previous.getRetryCount() + 1;
      if (retries >= maxAttempts || !isRetryableS3Error(info.error)) {
        return Promise.reject(new Error("No retry token available"));
      }
      const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (retries - 1));
      return Promise.resolve(token(retries, Math.random() * cap));
    },
    recordSuccess() {},
  };
}

function stripQuotes(etag: string | undefined): string | undefined {
  if (etag === undefined) return undefined;
  return etag.replace(/^(W\/)?"(.*)"$/, "$2");
}

function describe(operation: string, key: string | undefined, url: string): string {
  return key === undefined ? `${operation} in ${url}` : `${operation} "${key}" in ${url}`;
}

function positiveInt(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      `Invalid S3 store option ${name} ${value}: must be a positive integer`,
    );
  }
  return value;
}

function nonNegative(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(
      `Invalid S3 store option ${name} ${value}: must be a non-negative number`,
    );
  }
  return value;
}

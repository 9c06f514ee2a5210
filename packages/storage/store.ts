/**
 * The object-store interface every backend (memory, local folder, S3, GCS) implements.
 *
 * Keys are `/`-separated relative paths (`events/dt=2023-01-01/_SUCCESS`), never starting
 * with `/` and never containing `..` segments, NUL or backslashes.
 *
 * @module
 */

/** Facts about one stored object. */
export interface ObjectInfo {
  /** The object's key, relative to the store's root. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** The backend's entity tag (quotes stripped), when it has one. */
  etag?: string;
  /** Last modification time, when the backend reports it. */
  lastModified?: Date;
}

/** One entry of a listing: an object, or (with a delimiter) a common prefix ending in the delimiter. */
export type ListEntry =
  | ({ kind: "object" } & ObjectInfo)
  | { kind: "prefix"; prefix: string };

/** Options of every call that waits. */
export interface SignalOptions {
  /** Cancels the operation; it then rejects with an `AbortedError`. */
  signal?: AbortSignal;
}

/** Options of {@linkcode ObjectStore.list}. */
export interface ListOptions extends SignalOptions {
  /** With `"/"`, keys below the next `/` are folded into `prefix` entries. */
  delimiter?: string;
}

/** A byte range: `offset` from the start, `length` bytes (clamped at the end of the object). */
export interface ByteRange {
  /** First byte, 0-based. */
  offset: number;
  /** Number of bytes. */
  length: number;
}

/** Options of {@linkcode ObjectStore.read} and {@linkcode ObjectStore.readStream}. */
export interface ReadOptions extends SignalOptions {
  /** Read only this range. */
  range?: ByteRange;
}

/** Options of {@linkcode ObjectStore.write}. */
export interface WriteOptions extends SignalOptions {
  /** MIME type stored with the object, where the backend keeps one. */
  contentType?: string;
}

/** Options of {@linkcode ObjectStore.uploadFile} and `uploadFile()`: those of a write. */
export type UploadFileOptions = WriteOptions;

/** Options of {@linkcode ObjectStore.downloadFile} and `downloadFile()`. */
export interface DownloadFileOptions extends SignalOptions {
  /**
   * Flush the downloaded file and its folder to the disk (`fsync`) before renaming it into
   * place (default `true`; the local store defaults to its own `durable` setting).
   */
  durable?: boolean;
}

/**
 * One interface over a bucket (or folder) with a root prefix.
 *
 * Failures surface as the shared typed errors of `@eventlake/schema`:
 * `NotFoundError`, `PermissionDeniedError`, `PreconditionFailedError`,
 * `UnavailableError` (after bounded retries), `InvalidArgumentError` (bad key), `AbortedError`.
 */
export interface ObjectStore {
  /** Where this store points, without secrets: `file:///…`, `s3://bucket/prefix`, `gs://bucket/prefix`, `memory://name`. */
  readonly url: string;
  /** Lists keys under `prefix` in lexicographic order, hiding paging. */
  list(prefix: string, options?: ListOptions): AsyncIterable<ListEntry>;
  /** Size, etag and modification time of one object; `NotFoundError` when absent. */
  head(key: string, options?: SignalOptions): Promise<ObjectInfo>;
  /** Whether an object exists at `key`. */
  exists(key: string, options?: SignalOptions): Promise<boolean>;
  /** Reads a whole object, or a range of it, into memory. */
  read(key: string, options?: ReadOptions): Promise<Uint8Array>;
  /**
   * Streams an object, or a range of it. The local store's stream is a byte stream: a BYOB
   * reader (`getReader({ mode: "byob" })`) has the file read straight into its own buffer,
   * which is cheaper than a fresh buffer per chunk.
   */
  readStream(key: string, options?: ReadOptions): Promise<ReadableStream<Uint8Array>>;
  /**
   * Writes an object from bytes or a stream (streamed to the backend, never buffered whole).
   * A byte stream, such as a file's `readable`, may be read with a BYOB reader into the
   * store's own buffers (the local and S3 stores do), so it is read in large pieces, uncopied.
   */
  write(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options?: WriteOptions,
  ): Promise<ObjectInfo>;
  /** Deletes one object; deleting an absent key is not an error. */
  delete(key: string, options?: SignalOptions): Promise<void>;
  /** Deletes every object under `prefix`; returns how many were deleted. */
  deletePrefix(prefix: string, options?: SignalOptions): Promise<number>;
  /**
   * Optional fast path of `uploadFile()`: uploads the local file at `path` to `key`. A store
   * without it gets the generic one, which streams the file through {@linkcode ObjectStore.write}.
   * Call the `uploadFile()` function rather than this method: it picks the fast path when there
   * is one and checks the arguments the same way for every store.
   */
  uploadFile?(key: string, path: string, options?: UploadFileOptions): Promise<ObjectInfo>;
  /**
   * Optional fast path of `downloadFile()`: downloads `key` to the local file `path` through a
   * temporary file renamed into place. A store without it gets the generic one, which streams
   * {@linkcode ObjectStore.readStream} into the file. Call the `downloadFile()` function.
   */
  downloadFile?(key: string, path: string, options?: DownloadFileOptions): Promise<ObjectInfo>;
  /** Releases clients and sockets. */
  close(): Promise<void>;
}

/**
 * A {@linkcode ByteSource} over a local file: the only place this package touches `Deno.*`.
 *
 * @module
 */
import {
  AbortedError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  throwIfAborted,
} from "@eventlake/schema";
import type { ByteSource } from "./source.ts";

/**
 * A {@linkcode ByteSource} backed by an open local file; close it when done. It reads into a
 * caller's buffer too (`readInto`, which never transfers the buffer).
 */
export interface FileSource extends ByteSource {
  readInto(
    offset: number,
    target: Uint8Array,
    options?: { signal?: AbortSignal },
  ): Promise<Uint8Array>;
  /** The path, used in error messages of readers. */
  readonly name: string;
  /** Closes the file. Later reads reject; closing twice is harmless. */
  close(): Promise<void>;
}

/** Options of {@linkcode fileSource}. */
export interface FileSourceOptions {
  /** Cancels opening. */
  signal?: AbortSignal;
}

/**
 * Opens a local file for random access (positioned reads: seek then read, serialised so
 * concurrent reads of one source never interleave their seeks).
 *
 * @example
 * ```ts
 * import { fileSource } from "@eventlake/parquet";
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array([1, 2, 3, 4]));
 * const src = await fileSource(path);
 * console.log(src.size, await src.read(1, 2)); // 4 Uint8Array(2) [ 2, 3 ]
 * await src.close();
 * ```
 */
export async function fileSource(
  path: string,
  options: FileSourceOptions = {},
): Promise<FileSource> {
  throwIfAborted(options.signal);
  let file: Deno.FsFile;
  let size: number;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw mapError(error, path);
  }
  try {
    const info = await file.stat();
    if (!info.isFile) throw new InvalidArgumentError(`Cannot open "${path}": not a regular file`);
    size = info.size;
  } catch (error) {
    file.close();
    throw mapError(error, path);
  }
  let closed = false;
  // One read at a time: a read is a seek plus reads on the shared file position.
  let queue: Promise<unknown> = Promise.resolve();
  /** Reads `[offset, offset + out.byteLength)` into `out`, clamped at the end of the file. */
  const readAt = async (
    offset: number,
    out: Uint8Array,
    signal?: AbortSignal,
  ): Promise<Uint8Array> => {
    if (closed) throw new InvalidArgumentError(`Cannot read "${path}": the source is closed`);
    if (signal?.aborted) throw new AbortedError("Operation aborted", { cause: signal.reason });
    const want = Math.max(0, Math.min(out.byteLength, size - offset));
    if (want === 0) return out.subarray(0, 0);
    await file.seek(offset, Deno.SeekMode.Start);
    let got = 0;
    while (got < want) {
      const n = await file.read(out.subarray(got, want));
      if (n === null) break;
      got += n;
    }
    return got === out.byteLength ? out : out.subarray(0, got);
  };
  /** Queues `run` after earlier reads (positioned reads share the file position). */
  const queued = (
    offset: number,
    length: number,
    run: () => Promise<Uint8Array>,
  ): Promise<Uint8Array> => {
    if (
      !Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0
    ) {
      return Promise.reject(new RangeError(`Invalid range: offset ${offset}, length ${length}`));
    }
    const done = queue.then(run).catch((error) => {
      throw mapError(error, path);
    });
    queue = done.catch(() => {});
    return done;
  };
  return {
    name: path,
    size,
    read(
      offset: number,
      length: number,
      readOptions: { signal?: AbortSignal } = {},
    ): Promise<Uint8Array> {
      return queued(
        offset,
        length,
        () =>
          readAt(
            offset,
            new Uint8Array(Math.max(0, Math.min(length, size - offset))),
            readOptions.signal,
          ),
      );
    },
    readInto(
      offset: number,
      target: Uint8Array,
      readOptions: { signal?: AbortSignal } = {},
    ): Promise<Uint8Array> {
      return queued(offset, target.byteLength, () => readAt(offset, target, readOptions.signal));
    },
    close(): Promise<void> {
      if (!closed) {
        closed = true;
        queue = queue.then(() => file.close());
      }
      return queue.then(() => {});
    },
  };
}

/** The one table from `Deno.errors` to our error family. */
function mapError(error: unknown, path: string): unknown {
  if (error instanceof Deno.errors.NotFound) {
    return new NotFoundError(`Cannot open "${path}": no such file`, {
      cause: error,
      details: { path },
    });
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new PermissionDeniedError(`Cannot open "${path}": permission denied`, {
      cause: error,
      details: { path },
    });
  }
  if (error instanceof Deno.errors.IsADirectory) {
    return new InvalidArgumentError(`Cannot open "${path}": it is a directory`, {
      cause: error,
      details: { path },
    });
  }
  return error;
}

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

/** A {@linkcode ByteSource} backed by an open local file; close it when done. */
export interface FileSource extends ByteSource {
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
  const readAt = async (
    offset: number,
    length: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array> => {
    if (closed) throw new InvalidArgumentError(`Cannot read "${path}": the source is closed`);
    if (signal?.aborted) throw new AbortedError("Operation aborted", { cause: signal.reason });
    const want = Math.max(0, Math.min(length, size - offset));
    const out = new Uint8Array(want);
    if (want === 0) return out;
    await file.seek(offset, Deno.SeekMode.Start);
    let got = 0;
    while (got < want) {
      const n = await file.read(out.subarray(got));
      if (n === null) break;
      got += n;
    }
    return got === want ? out : out.subarray(0, got);
  };
  return {
    name: path,
    size,
    read(
      offset: number,
      length: number,
      readOptions: { signal?: AbortSignal } = {},
    ): Promise<Uint8Array> {
      if (
        !Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0
      ) {
        return Promise.reject(new RangeError(`Invalid range: offset ${offset}, length ${length}`));
      }
      const run = queue.then(() => readAt(offset, length, readOptions.signal)).catch((error) => {
        throw mapError(error, path);
      });
      queue = run.catch(() => {});
      return run;
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

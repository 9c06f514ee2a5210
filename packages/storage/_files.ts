/**
 * Local files as streams, and files written atomically (private): the local-folder backend
 * reads and writes its objects with these, and the file transfers (`uploadFile`,
 * `downloadFile`) of every other store open the local file with them. With `local.ts` this is
 * the only code that touches the file system.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { type EventlakeError, InvalidArgumentError, NotFoundError } from "@eventlake/schema";
import { abortedError, checkSignal } from "./_common.ts";
import { mapPathError } from "./_local_errors.ts";

/** Names of temporary files start with this; the local store hides and refuses such names. */
export const TEMP_PREFIX = ".eventlake-tmp-";

/** Chunks of 1 MiB: large reads and writes, few of them. */
export const CHUNK = 1 << 20;
/** A chunk at least this large is written as it is; smaller ones are gathered into 1 MiB writes. */
const DIRECT_WRITE = 256 << 10;

/** A temporary file name beside `path`, in the same folder (so a rename replaces it atomically). */
export function tempBeside(path: string): string {
  return join(dirname(path), `${TEMP_PREFIX}${crypto.randomUUID()}`);
}

/**
 * Opens the local file `path` to read it whole: the source of an upload. Fails naming the path
 * when it is missing, unreadable or a folder. `action` starts the message (`Cannot upload …`).
 */
export async function openSourceFile(
  path: string,
  action: string,
): Promise<{ file: Deno.FsFile; size: number; mode: number | null }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    throw mapPathError(e, action, path);
  }
  try {
    const stat = await file.stat();
    if (!stat.isFile) {
      throw new InvalidArgumentError(`${action}: "${path}" is not a regular file`, {
        details: { path },
      });
    }
    return { file, size: stat.size, mode: stat.mode };
  } catch (e) {
    file.close();
    throw mapPathError(e, action, path);
  }
}

/**
 * Checks the target of a download before anything is fetched: its folder must exist (it is not
 * made) and the path itself must not be a folder. An existing file is replaced.
 */
export async function checkTargetPath(path: string, action: string): Promise<void> {
  const dir = dirname(path);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new NotFoundError(`${action}: folder "${dir}" does not exist`, {
        details: { path, folder: dir },
      });
    }
    throw mapPathError(e, action, dir);
  }
  if (!info.isDirectory) {
    throw new InvalidArgumentError(`${action}: "${dir}" is not a folder`, {
      details: { path, folder: dir },
    });
  }
  try {
    if ((await Deno.stat(path)).isDirectory) {
      throw new InvalidArgumentError(`${action}: "${path}" is a folder, not a file`, {
        details: { path },
      });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw mapPathError(e, action, path);
  }
}

/** Options of {@linkcode fileReadable}. */
export interface FileReadableOptions {
  /** Bytes per chunk. */
  chunkSize: number;
  /** Stops the stream with `AbortedError`. */
  signal?: AbortSignal;
  /** What the stream reads, for the abort message: `read "k" in file:///…`. */
  what: string;
  /** Turns a read failure into the typed error the stream errors with. */
  onError: (error: unknown) => EventlakeError;
}

/**
 * Streams bytes `[start, end)` of an open file (positioned at `start`) as a byte stream. A
 * default reader gets chunks of `chunkSize`, each read into a fresh buffer handed on without a
 * copy; a BYOB reader (`getReader({ mode: "byob" })`) has the file read straight into its own
 * buffer, so a consumer that keeps buffers (an S3 upload's parts) reads with no copy and no
 * garbage. One chunk is read ahead for a default reader. The file is closed at the end, on
 * cancel, on abort and on failure.
 */
export function fileReadable(
  file: Deno.FsFile,
  start: number,
  end: number,
  options: FileReadableOptions,
): ReadableStream<Uint8Array> {
  const { signal, what, onError, chunkSize } = options;
  let at = start;
  let open = true;
  let byob = false;
  let onAbort: (() => void) | undefined;
  const done = () => {
    if (open) (open = false, file.close());
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  };
  /** Reads into `buf` until it is full or the range ends; returns the bytes read (0 at the end). */
  const fill = async (buf: Uint8Array): Promise<number> => {
    const want = Math.min(buf.byteLength, end - at);
    let filled = 0;
    while (filled < want) {
      const n = await file.read(buf.subarray(filled, want));
      if (!open) return filled; // aborted or cancelled while reading
      if (n === null) break;
      filled += n;
    }
    at += filled;
    return filled;
  };
  return new ReadableStream({
    type: "bytes",
    start(controller) {
      if (!signal) return;
      if (signal.aborted) {
        done();
        return controller.error(abortedError(signal, what));
      }
      onAbort = () => {
        done();
        controller.error(abortedError(signal, what));
      };
      signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(controller) {
      try {
        if (!open) return;
        const request = controller.byobRequest;
        const view = request?.view;
        // A view that is not one the stream allocated itself comes from a BYOB reader: then
        // no read-ahead, which would read into a buffer of ours only to copy it into theirs.
        if (view && (view.byteOffset !== 0 || view.buffer.byteLength !== chunkSize)) byob = true;
        if (!request && byob) return;
        const buf = request?.view
          ? new Uint8Array(request.view.buffer, request.view.byteOffset, request.view.byteLength)
          : new Uint8Array(Math.min(chunkSize, Math.max(0, end - at)));
        const n = at < end ? await fill(buf) : 0;
        if (!open) return;
        if (n === 0) {
          done();
          controller.close();
          request?.respond(0);
          return;
        }
        if (request) request.respond(n);
        else controller.enqueue(n === buf.byteLength ? buf : buf.subarray(0, n));
      } catch (e) {
        done();
        controller.error(onError(e));
      }
    },
    cancel() {
      done();
    },
    // One chunk of read-ahead overlaps the disk read with the consumer's work.
    autoAllocateChunkSize: chunkSize,
  }, { highWaterMark: chunkSize }) as ReadableStream<Uint8Array>;
}

/** Writes all of `data` at the file's position. */
export async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.byteLength) at += await file.write(data.subarray(at));
}

/** A reader of a body stream: BYOB when the stream is a byte stream, else a default reader. */
export type BodyReader = ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array>;

/**
 * Takes a reader of `stream`: a BYOB reader when it is a byte stream (a file's `readable`, a
 * `fetch` body, a local store's `readStream`), so its bytes can be read into buffers of our own.
 */
export function bodyReader(stream: ReadableStream<Uint8Array>): BodyReader {
  try {
    return stream.getReader({ mode: "byob" });
  } catch {
    return stream.getReader();
  }
}

/**
 * Writes what `reader` yields into `file`; returns the number of bytes. Checks `signal` after
 * every read.
 *
 * - A BYOB reader reads into one reused 1 MiB buffer, written once at least 256 KiB are in it:
 *   large writes, no copy and no garbage (a file's `readable` would yield 64 KiB chunks).
 * - From a default reader, chunks of 256 KiB and more are written as they are (no copy);
 *   smaller ones are gathered into 1 MiB writes.
 */
export async function writeFromReader(
  file: Deno.FsFile,
  reader: BodyReader,
  signal: AbortSignal | undefined,
  what: string,
): Promise<number> {
  if (reader instanceof ReadableStreamBYOBReader) {
    return await writeFromByob(file, reader, signal, what);
  }
  let batch: Uint8Array | undefined;
  let filled = 0;
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    checkSignal(signal, what);
    if (done) break;
    if (!(value instanceof Uint8Array)) {
      throw new InvalidArgumentError(`Cannot ${what}: the stream yielded a ${typeof value}`);
    }
    total += value.byteLength;
    if (value.byteLength >= DIRECT_WRITE) {
      // Big enough to write as is, after what was gathered before it.
      if (filled > 0) await writeAll(file, batch!.subarray(0, filled));
      filled = 0;
      await writeAll(file, value);
      continue;
    }
    batch ??= new Uint8Array(CHUNK);
    if (filled + value.byteLength > batch.byteLength) {
      await writeAll(file, batch.subarray(0, filled));
      filled = 0;
    }
    batch.set(value, filled);
    filled += value.byteLength;
  }
  if (filled > 0) await writeAll(file, batch!.subarray(0, filled));
  return total;
}

async function writeFromByob(
  file: Deno.FsFile,
  reader: ReadableStreamBYOBReader,
  signal: AbortSignal | undefined,
  what: string,
): Promise<number> {
  // Each read moves the buffer into the stream and back: keep the one it returns.
  let buffer = new ArrayBuffer(CHUNK);
  let filled = 0;
  let total = 0;
  while (true) {
    const { done, value } = await reader.read(new Uint8Array(buffer, filled, CHUNK - filled));
    checkSignal(signal, what);
    if (value === undefined) break; // cancelled
    buffer = value.buffer as ArrayBuffer;
    filled += value.byteLength;
    if (filled >= DIRECT_WRITE || (done && filled > 0)) {
      await writeAll(file, new Uint8Array(buffer, 0, filled));
      total += filled;
      filled = 0;
    }
    if (done) break;
  }
  return total;
}

/** Flushes the file at `path` to the disk. */
export async function syncFile(path: string): Promise<void> {
  const file = await Deno.open(path, { read: true, write: true });
  try {
    await file.sync();
  } finally {
    file.close();
  }
}

/** Flushes a folder (a rename in it) to the disk, where the file system can. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Some file systems cannot fsync a folder; the rename itself is still atomic.
  }
}

/** Removes a temporary file, ignoring any failure (it may never have been made). */
export async function removeTemp(path: string): Promise<void> {
  await Deno.remove(path).catch(() => {});
}

/**
 * Downloads `stream` into the local file `path`: into a temporary file beside it, flushed when
 * `durable`, then renamed over `path`, so `path` holds the old file or the whole new one and
 * never a part. On any failure or abort the temporary file is removed and the stream cancelled.
 * Returns the number of bytes written.
 */
export async function streamToFile(
  stream: ReadableStream<Uint8Array>,
  path: string,
  options: { durable: boolean; signal?: AbortSignal; action: string; what: string },
): Promise<number> {
  const { durable, signal, action, what } = options;
  const temp = tempBeside(path);
  const reader = bodyReader(stream);
  const onAbort = () => reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  let file: Deno.FsFile | undefined;
  try {
    try {
      file = await Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
    } catch (e) {
      throw mapPathError(e, action, path);
    }
    const size = await writeFromReader(file, reader, signal, what);
    if (durable) await file.sync();
    file.close();
    file = undefined;
    checkSignal(signal, what);
    await Deno.rename(temp, path);
    if (durable) await syncDir(dirname(path));
    return size;
  } catch (e) {
    try {
      file?.close();
    } catch { /* already closed */ }
    await removeTemp(temp);
    await reader.cancel(e).catch(() => {});
    throw mapPathError(e, action, path);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    try {
      reader.releaseLock();
    } catch { /* a read is still pending after a failure: the stream was cancelled above */ }
  }
}

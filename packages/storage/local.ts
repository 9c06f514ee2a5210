/**
 * The local-folder backend: the embedded default. Keys map to files under a root folder.
 *
 * - **Atomic writes**: a write streams into a temporary file in the key's own folder
 *   (`.eventlake-tmp-<uuid>`), fsyncs it, then renames it over the key (and fsyncs the folder),
 *   so a reader sees the old object or the new one, never a torn one. Temporary files never
 *   appear in listings; keys with a segment starting with `.eventlake-tmp-` are refused.
 * - **Confinement**: keys pass {@linkcode checkKey} (no `..`, absolute paths, NUL, backslashes),
 *   and every path is resolved with `realpath` and must stay under the root's real path, so a
 *   symbolic link inside the root cannot lead a read, write or delete outside it. Listings do
 *   not follow symbolic links. (The check and the use are two steps: it guards against links
 *   left in the folder, not against another process swapping folders for links meanwhile.)
 * - **Listing** is ordered like S3 (by the UTF-8 bytes of the key); folders are not objects,
 *   a `/` delimiter folds them into prefixes, and folders left empty by a delete are removed.
 * - **File transfers** (`uploadFile`, `downloadFile`) copy in the kernel (`Deno.copyFile`) into
 *   a temporary file, fsynced when durable, then renamed into place — as fast as a plain file
 *   copy. Streams (`readStream`, and `write` of a byte stream such as a file's `readable`) move
 *   1 MiB at a time, read into the caller's buffer where it brings one (a BYOB reader).
 * - **Etag**: `<size>-<mtime ms>-<inode>` in hex. It changes whenever an object is rewritten
 *   (each write renames a new file into place); it is not a content hash.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidArgumentError, NotFoundError } from "@eventlake/schema";
import type {
  DownloadFileOptions,
  ListEntry,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  ReadOptions,
  SignalOptions,
  UploadFileOptions,
  WriteOptions,
} from "./store.ts";
import {
  checkListArgs,
  checkObjectKey,
  checkSignal,
  compareKeys,
  foldByDelimiter,
  resolveRange,
} from "./_common.ts";
import { checkKey } from "./keys.ts";
import { type LocalOperation, mapFsError, mapPathError } from "./_local_errors.ts";
import {
  type BodyReader,
  bodyReader,
  checkTargetPath,
  fileReadable,
  openSourceFile,
  removeTemp,
  syncDir,
  syncFile,
  TEMP_PREFIX,
  tempBeside,
  writeAll,
  writeFromReader,
} from "./_files.ts";

/** Options of {@linkcode createLocalStore}. */
export interface LocalStoreOptions {
  /**
   * Flush each written file and its folder to the disk (`fsync`) before the write resolves
   * (default `true`). Turn off only for scratch data: a crash may then lose recent writes.
   */
  durable?: boolean;
  /** Size of the chunks `readStream` yields, in bytes (default 1 MiB). */
  chunkSize?: number;
}

/**
 * Creates an {@linkcode ObjectStore} over the folder `root` (made on the first write when it
 * does not exist; a relative path is resolved against the working directory).
 *
 * @example
 * ```ts
 * import { createLocalStore } from "@eventlake/storage";
 * const root = await Deno.makeTempDir();
 * const store = createLocalStore(root);
 * await store.write("events/dt=2023-01-01/_SUCCESS", new Uint8Array(0));
 * console.log(await store.exists("events/dt=2023-01-01/_SUCCESS")); // true
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function createLocalStore(root: string, options: LocalStoreOptions = {}): ObjectStore {
  if (typeof root !== "string" || root === "") {
    throw new InvalidArgumentError(`Invalid local store root "${String(root)}": must be a path`);
  }
  return new LocalStore(resolve(root), options);
}

class LocalStore implements ObjectStore {
  readonly url: string;
  #root: string;
  #realRoot: string | undefined;
  #durable: boolean;
  #chunkSize: number;

  constructor(root: string, options: LocalStoreOptions) {
    this.#root = root;
    this.url = pathToFileURL(root).href;
    this.#durable = options.durable ?? true;
    this.#chunkSize = Math.max(4096, options.chunkSize ?? 1 << 20);
  }

  #fail(error: unknown, op: LocalOperation, key: string): never {
    throw mapFsError(error, op, key, this.url);
  }

  #notFound(key: string): NotFoundError {
    return new NotFoundError(`Cannot find object "${key}" in ${this.url}`, { details: { key } });
  }

  /** The root's real path, or undefined while the root does not exist. */
  async #real(): Promise<string | undefined> {
    if (this.#realRoot) return this.#realRoot;
    try {
      this.#realRoot = await Deno.realPath(this.#root);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
    return this.#realRoot;
  }

  #checkInside(real: string, realRoot: string, key: string): void {
    if (real !== realRoot && !real.startsWith(realRoot + "/")) {
      throw new InvalidArgumentError(
        `Invalid object key "${key}": it resolves outside the store root through a symbolic link`,
        { details: { key } },
      );
    }
  }

  /** Checks an object key and returns its path. */
  #path(key: string): string {
    checkObjectKey(key);
    if (key.split("/").some((s) => s.startsWith(TEMP_PREFIX))) {
      throw new InvalidArgumentError(
        `Invalid object key "${key}": names starting with "${TEMP_PREFIX}" are reserved`,
        { details: { key } },
      );
    }
    return join(this.#root, key);
  }

  /** The real path of an existing object, confined to the root; NotFoundError otherwise. */
  async #existing(key: string, path: string): Promise<string> {
    const realRoot = await this.#real();
    if (!realRoot) throw this.#notFound(key);
    let real: string;
    try {
      real = await Deno.realPath(path);
    } catch (e) {
      this.#fail(e, "read", key);
    }
    this.#checkInside(real, realRoot, key);
    return real;
  }

  /** Makes the folder `dir` (and the root) if needed, refusing any that resolves outside. */
  async #ensureDir(dir: string, key: string): Promise<void> {
    let realRoot = await this.#real();
    if (!realRoot) {
      await Deno.mkdir(this.#root, { recursive: true });
      realRoot = (await this.#real())!;
    }
    // Find the deepest folder that exists and check where it really is; the folders made
    // below it are then real folders inside the root.
    let existing = dir;
    while (true) {
      try {
        const real = await Deno.realPath(existing);
        this.#checkInside(real, realRoot, key);
        break;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound) || existing === this.#root) throw e;
        existing = dirname(existing);
      }
    }
    if (existing !== dir) await Deno.mkdir(dir, { recursive: true });
  }

  list(prefix: string, options: ListOptions = {}): AsyncIterable<ListEntry> {
    const { delimiter, signal } = options;
    if (delimiter === "/") return this.#walk(prefix, delimiter, signal);
    return foldByDelimiter(objectsOf(this.#walk(prefix, delimiter, signal)), prefix, delimiter);
  }

  async *#walk(
    prefix: string,
    delimiter: string | undefined,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<ListEntry> {
    checkListArgs(prefix, delimiter);
    checkSignal(signal, `list "${prefix}" in ${this.url}`);
    const realRoot = await this.#real();
    if (!realRoot) return;
    const cut = prefix.lastIndexOf("/") + 1;
    const folder = prefix.slice(0, cut);
    const start = join(realRoot, folder);
    try {
      this.#checkInside(await Deno.realPath(start), realRoot, prefix);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return;
      this.#fail(e, "list", prefix);
    }
    yield* this.#walkFolder(folder, prefix.slice(cut), delimiter === "/", signal);
  }

  async *#walkFolder(
    folder: string,
    namePrefix: string,
    foldFolders: boolean,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<ListEntry> {
    const abs = join(this.#root, folder);
    const entries: { name: string; dir: boolean; sortKey: string }[] = [];
    try {
      for await (const e of Deno.readDir(abs)) {
        if (e.isSymlink || e.name.startsWith(TEMP_PREFIX)) continue;
        if (!e.name.startsWith(namePrefix)) continue;
        if (e.isDirectory) entries.push({ name: e.name, dir: true, sortKey: e.name + "/" });
        else if (e.isFile) entries.push({ name: e.name, dir: false, sortKey: e.name });
      }
    } catch (e) {
      // A folder removed while we walk holds nothing any more.
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return;
      this.#fail(e, "list", folder);
    }
    // Sorting "name/" for folders puts a folder's keys exactly where S3 would list them.
    entries.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
    for (const e of entries) {
      checkSignal(signal, `list "${folder}${namePrefix}" in ${this.url}`);
      const key = folder + e.name;
      if (e.dir) {
        if (!foldFolders) yield* this.#walkFolder(key + "/", "", false, signal);
        else if (await this.#holdsObject(join(this.#root, key))) {
          yield { kind: "prefix", prefix: key + "/" };
        }
        continue;
      }
      let info: Deno.FileInfo;
      try {
        info = await Deno.stat(join(this.#root, key));
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) continue; // deleted meanwhile
        this.#fail(err, "list", key);
      }
      yield { kind: "object", ...toInfo(key, info) };
    }
  }

  /** Whether a folder holds at least one object somewhere below it. */
  async #holdsObject(abs: string): Promise<boolean> {
    try {
      const dirs: string[] = [];
      for await (const e of Deno.readDir(abs)) {
        if (e.isSymlink || e.name.startsWith(TEMP_PREFIX)) continue;
        if (e.isFile) return true;
        if (e.isDirectory) dirs.push(e.name);
      }
      for (const d of dirs) if (await this.#holdsObject(join(abs, d))) return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
    return false;
  }

  async head(key: string, options: SignalOptions = {}): Promise<ObjectInfo> {
    const path = this.#path(key);
    checkSignal(options.signal, `head "${key}" in ${this.url}`);
    const real = await this.#existing(key, path);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(real);
    } catch (e) {
      this.#fail(e, "read", key);
    }
    if (!info.isFile) throw this.#notFound(key);
    return toInfo(key, info);
  }

  async exists(key: string, options: SignalOptions = {}): Promise<boolean> {
    try {
      await this.head(key, options);
      return true;
    } catch (e) {
      if (e instanceof NotFoundError) return false;
      throw e;
    }
  }

  async #open(key: string, options: ReadOptions): Promise<[Deno.FsFile, number, number]> {
    const path = this.#path(key);
    checkSignal(options.signal, `read "${key}" in ${this.url}`);
    const real = await this.#existing(key, path);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(real, { read: true });
    } catch (e) {
      this.#fail(e, "read", key);
    }
    try {
      const stat = await file.stat();
      if (!stat.isFile) throw this.#notFound(key);
      const [start, end] = resolveRange(key, stat.size, options.range);
      if (start > 0) await file.seek(start, Deno.SeekMode.Start);
      return [file, start, end];
    } catch (e) {
      file.close();
      this.#fail(e, "read", key);
    }
  }

  async read(key: string, options: ReadOptions = {}): Promise<Uint8Array> {
    const [file, start, end] = await this.#open(key, options);
    try {
      const out = new Uint8Array(end - start);
      let at = 0;
      while (at < out.byteLength) {
        checkSignal(options.signal, `read "${key}" in ${this.url}`);
        const n = await file.read(out.subarray(at));
        if (n === null) break; // truncated meanwhile: cannot happen to a renamed-into-place file
        at += n;
      }
      return at === out.byteLength ? out : out.subarray(0, at);
    } catch (e) {
      this.#fail(e, "read", key);
    } finally {
      file.close();
    }
  }

  async readStream(
    key: string,
    options: ReadOptions = {},
  ): Promise<ReadableStream<Uint8Array>> {
    const [file, start, end] = await this.#open(key, options);
    return fileReadable(file, start, end, {
      chunkSize: this.#chunkSize,
      signal: options.signal,
      what: `read "${key}" in ${this.url}`,
      onError: (e) => mapFsError(e, "read", key, this.url),
    });
  }

  async write(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<ObjectInfo> {
    const path = this.#path(key);
    const what = `write "${key}" in ${this.url}`;
    checkSignal(options.signal, what);
    const dir = dirname(path);
    const temp = tempBeside(path);
    let file: Deno.FsFile | undefined;
    let reader: BodyReader | undefined;
    const onAbort = () => reader?.cancel(options.signal?.reason).catch(() => {});
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      // A concurrent delete may remove the (empty) folder between mkdir and open: retry.
      for (let attempt = 0;; attempt++) {
        await this.#ensureDir(dir, key);
        try {
          file = await Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
          break;
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound) || attempt >= 3) throw e;
        }
      }
      if (body instanceof Uint8Array) {
        await writeAll(file, body);
      } else {
        reader = bodyReader(body);
        await writeFromReader(file, reader, options.signal, what);
      }
      if (this.#durable) await file.sync();
      file.close();
      file = undefined;
      checkSignal(options.signal, what);
      await Deno.rename(temp, path);
      if (this.#durable) await syncDir(dir);
      return toInfo(key, await Deno.stat(path));
    } catch (e) {
      try {
        file?.close();
      } catch { /* already closed */ }
      await Deno.remove(temp).catch(() => {});
      if (reader) await reader.cancel(e).catch(() => {});
      throw mapFsError(e, "write", key, this.url);
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      reader?.releaseLock();
    }
  }

  /**
   * Uploads a local file with an in-kernel copy (`Deno.copyFile`, i.e. `copy_file_range`)
   * into a temporary file in the key's folder, flushed when durable, then renamed over the key.
   * The copy itself cannot be interrupted: an abort is noticed when it returns, and then nothing
   * is written.
   */
  async uploadFile(
    key: string,
    path: string,
    options: UploadFileOptions = {},
  ): Promise<ObjectInfo> {
    const target = this.#path(key);
    const what = `upload "${path}" to "${key}" in ${this.url}`;
    const action = `Cannot ${what}`;
    checkSignal(options.signal, what);
    const source = resolve(path);
    // Opening the file checks that it exists, is readable and is a file, naming the path.
    const opened = await openSourceFile(source, action);
    opened.file.close();
    const dir = dirname(target);
    const temp = tempBeside(target);
    try {
      // A concurrent delete may remove the (empty) folder between mkdir and copy: retry.
      for (let attempt = 0;; attempt++) {
        await this.#ensureDir(dir, key);
        try {
          await Deno.copyFile(source, temp);
          break;
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
          // The file may have gone meanwhile: then say so, naming it.
          (await openSourceFile(source, action)).file.close();
          if (attempt >= 3) throw e;
        }
      }
      // The copy took the source's mode; an object is an ordinary file whatever it came from.
      if (opened.mode !== null && (opened.mode & 0o7777) !== 0o644) await Deno.chmod(temp, 0o644);
      if (this.#durable) await syncFile(temp);
      checkSignal(options.signal, what);
      await Deno.rename(temp, target);
      if (this.#durable) await syncDir(dir);
      return toInfo(key, await Deno.stat(target));
    } catch (e) {
      await removeTemp(temp);
      throw mapFsError(e, "write", key, this.url);
    }
  }

  /**
   * Downloads an object with an in-kernel copy into a temporary file beside `path`, flushed
   * when durable (`options.durable`, by default the store's setting), then renamed over `path`.
   * The copy itself cannot be interrupted: an abort is noticed when it returns, and the target
   * is then left as it was.
   */
  async downloadFile(
    key: string,
    path: string,
    options: DownloadFileOptions = {},
  ): Promise<ObjectInfo> {
    const source = this.#path(key);
    const what = `download "${key}" from ${this.url} to "${path}"`;
    const action = `Cannot ${what}`;
    checkSignal(options.signal, what);
    const target = resolve(path);
    await checkTargetPath(target, action);
    const real = await this.#existing(key, source);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(real);
    } catch (e) {
      this.#fail(e, "read", key);
    }
    if (!info.isFile) throw this.#notFound(key);
    const durable = options.durable ?? this.#durable;
    const temp = tempBeside(target);
    try {
      try {
        await Deno.copyFile(real, temp);
      } catch (e) {
        // Either side may have gone meanwhile: the object (deleted) or the target's folder.
        if (e instanceof Deno.errors.NotFound && !(await this.exists(key))) {
          throw this.#notFound(key);
        }
        throw mapPathError(e, action, target);
      }
      if (durable) await syncFile(temp);
      checkSignal(options.signal, what);
      await Deno.rename(temp, target);
      if (durable) await syncDir(dirname(target));
      return toInfo(key, info);
    } catch (e) {
      await removeTemp(temp);
      throw mapPathError(e, action, target);
    }
  }

  async delete(key: string, options: SignalOptions = {}): Promise<void> {
    const path = this.#path(key);
    checkSignal(options.signal, `delete "${key}" in ${this.url}`);
    const realRoot = await this.#real();
    if (!realRoot) return;
    try {
      // The folder must really be inside the root; the file itself may be a link (removed as such).
      this.#checkInside(await Deno.realPath(dirname(path)), realRoot, key);
      const stat = await Deno.lstat(path);
      if (stat.isDirectory) return; // a prefix, not an object
      await Deno.remove(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return;
      this.#fail(e, "delete", key);
    }
    await this.#pruneEmpty(dirname(path));
  }

  /** Removes folders left empty, walking up to (not including) the root. */
  async #pruneEmpty(dir: string): Promise<void> {
    while (dir !== this.#root && dir.startsWith(this.#root + "/")) {
      try {
        await Deno.remove(dir); // fails unless empty
      } catch {
        return;
      }
      dir = dirname(dir);
    }
  }

  async deletePrefix(prefix: string, options: SignalOptions = {}): Promise<number> {
    checkKey(prefix, { allowEmpty: true });
    let n = 0;
    const keys: string[] = [];
    for await (const e of this.list(prefix, options)) if (e.kind === "object") keys.push(e.key);
    for (const key of keys) {
      checkSignal(options.signal, `delete "${key}" in ${this.url}`);
      await this.delete(key, options);
      n++;
    }
    return n;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function* objectsOf(entries: AsyncIterable<ListEntry>): AsyncGenerator<ObjectInfo> {
  for await (const e of entries) {
    if (e.kind !== "object") continue;
    const { kind: _, ...info } = e;
    yield info;
  }
}

function toInfo(key: string, info: Deno.FileInfo): ObjectInfo {
  const mtime = info.mtime?.getTime() ?? 0;
  return {
    key,
    size: info.size,
    etag: `${info.size.toString(16)}-${mtime.toString(16)}-${(info.ino ?? 0).toString(16)}`,
    lastModified: info.mtime ?? undefined,
  };
}

/**
 * The write side of the lake layout of `@eventlake/storage` (`lake.ts`): landing one day of a
 * table atomically.
 *
 * 1. new files are written under names no earlier run used (`dt=D/<runId>-<n>.parquet`);
 * 2. the day's `_MANIFEST.json` is replaced in one object write: the commit point;
 * 3. every object of the day the new manifest does not name is deleted (the previous run's files
 *    and orphans of crashed runs);
 * 4. the table's `_VERSION` is rewritten, so readers notice the change.
 *
 * A crash or abort before step 2 leaves the previous day exactly as it was (readers follow the
 * manifest, never a listing); {@linkcode DayLanding.abort} also deletes the files it wrote.
 *
 * @module
 */
import { InvalidArgumentError, PreconditionFailedError } from "@eventlake/schema";
import type {
  DayManifest,
  LakeFile,
  LakeTableRef,
  ObjectInfo,
  ObjectStore,
  TableVersion,
} from "@eventlake/storage";
import { lakeDayPrefix, lakeTablePrefix } from "@eventlake/storage/lake";

/** Where a lake lives: a store and a root prefix inside it (empty or ending in `/`). */
export interface LakeLocation {
  /** The store holding the lake. */
  store: ObjectStore;
  /** Key prefix of the lake root inside the store: empty or ending in `/` (default empty). */
  root?: string;
}

/** A file being written by a {@linkcode DayLanding}. */
export interface LandingFile {
  /** Key relative to the table prefix, e.g. `dt=2023-01-01/r1-000000.parquet`. */
  readonly key: string;
  /** Write the file's bytes here, then close it. */
  readonly sink: WritableStream<Uint8Array>;
  /** Settles when the store has the whole object (after the sink is closed). */
  readonly written: Promise<ObjectInfo>;
}

/** Options of {@linkcode beginLanding}. */
export interface BeginLandingOptions {
  /** The run that lands the day: names its files and goes into the manifest. */
  runId: string;
  /** Cancels writes. */
  signal?: AbortSignal;
  /** The clock (default `Date.now`). */
  now?: () => number;
}

/** One day being landed; see {@linkcode beginLanding}. */
export interface DayLanding {
  /** The day. */
  readonly date: string;
  /** Key prefix of the day in the store (root included), ending in `/`. */
  readonly prefix: string;
  /** Starts the next file of the day. */
  newFile(): LandingFile;
  /**
   * Publishes exactly `files` (each already written and closed) as the day: writes the manifest,
   * deletes unreferenced objects of the day, rewrites `_VERSION`. Returns the manifest.
   */
  commit(files: readonly LakeFile[]): Promise<DayManifest>;
  /** Gives up: deletes the files this landing started. The previous day stays as it was. */
  abort(): Promise<void>;
}

const RUN_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Starts landing one day of a lake table.
 *
 * @example
 * ```ts
 * import { createMemoryStore, DEFAULT_LAKE_TABLE, readDayManifest } from "@eventlake/storage";
 * import { beginLanding } from "@eventlake/dataimport";
 * const store = createMemoryStore();
 * const landing = await beginLanding({ store }, DEFAULT_LAKE_TABLE, "2023-01-01", { runId: "r1" });
 * const file = landing.newFile();
 * const w = file.sink.getWriter();
 * await w.write(new Uint8Array([1, 2, 3]));
 * await w.close();
 * const info = await file.written;
 * await landing.commit([{ key: file.key, rows: 0, bytes: info.size }]);
 * console.log((await readDayManifest(store, DEFAULT_LAKE_TABLE, "2023-01-01"))?.files.length); // 1
 * ```
 */
export function beginLanding(
  lake: LakeLocation,
  ref: LakeTableRef,
  date: string,
  options: BeginLandingOptions,
): Promise<DayLanding> {
  const root = lake.root ?? "";
  if (root !== "" && !root.endsWith("/")) {
    return Promise.reject(
      new InvalidArgumentError(`Invalid lake root "${root}": must be empty or end in "/"`),
    );
  }
  if (!RUN_ID_RE.test(options.runId)) {
    return Promise.reject(
      new InvalidArgumentError(
        `Invalid run id "${options.runId}": use 1-64 letters, digits, "_" or "-"`,
      ),
    );
  }
  return Promise.resolve(new Landing(lake.store, root, ref, date, options));
}

class Landing implements DayLanding {
  readonly date: string;
  readonly prefix: string;
  #store: ObjectStore;
  #tablePrefix: string;
  #dayKey: string;
  #options: BeginLandingOptions;
  #started: { key: string; written: Promise<ObjectInfo> }[] = [];
  #state: "open" | "committed" | "aborted" = "open";

  constructor(
    store: ObjectStore,
    root: string,
    ref: LakeTableRef,
    date: string,
    options: BeginLandingOptions,
  ) {
    this.#store = store;
    this.date = date;
    this.#tablePrefix = root + lakeTablePrefix(ref);
    this.prefix = root + lakeDayPrefix(ref, date);
    this.#dayKey = `dt=${date}/`;
    this.#options = options;
  }

  newFile(): LandingFile {
    if (this.#state !== "open") {
      throw new PreconditionFailedError(
        `Cannot add a file to day "${this.date}": the landing is ${this.#state}`,
      );
    }
    const n = String(this.#started.length).padStart(6, "0");
    const key = `${this.#dayKey}${this.#options.runId}-${n}.parquet`;
    const pipe = new TransformStream<Uint8Array, Uint8Array>();
    const written = this.#store.write(this.#tablePrefix + key, pipe.readable, {
      signal: this.#options.signal,
      contentType: "application/vnd.apache.parquet",
    });
    written.catch(() => {});
    this.#started.push({ key, written });
    return { key, sink: pipe.writable, written };
  }

  async commit(files: readonly LakeFile[]): Promise<DayManifest> {
    if (this.#state !== "open") {
      throw new PreconditionFailedError(
        `Cannot commit day "${this.date}": the landing is ${this.#state}`,
      );
    }
    const signal = this.#options.signal;
    for (const file of files) {
      if (!file.key.startsWith(this.#dayKey) || file.key.slice(this.#dayKey.length).includes("/")) {
        throw new InvalidArgumentError(
          `Cannot commit day "${this.date}": file "${file.key}" is not directly under "${this.#dayKey}"`,
        );
      }
    }
    await Promise.all(this.#started.map((s) => s.written));
    const now = (this.#options.now ?? Date.now)();
    const manifest: DayManifest = {
      date: this.date,
      runId: this.#options.runId,
      landedAt: new Date(now).toISOString(),
      files: files.map((f) => ({ key: f.key, rows: f.rows, bytes: f.bytes })),
      rows: files.reduce((sum, f) => sum + f.rows, 0),
    };
    const manifestKey = `${this.prefix}_MANIFEST.json`;
    // The commit point: from here on readers see the new day.
    await this.#store.write(manifestKey, encodeJson(manifest), {
      signal,
      contentType: "application/json",
    });
    this.#state = "committed";
    const keep = new Set([manifestKey, ...files.map((f) => this.#tablePrefix + f.key)]);
    const stale: string[] = [];
    for await (const entry of this.#store.list(this.prefix, { signal })) {
      if (entry.kind === "object" && !keep.has(entry.key)) stale.push(entry.key);
    }
    for (const key of stale) await this.#store.delete(key, { signal });
    const version: TableVersion = {
      token: `${this.#options.runId}:${this.date}:${now}`,
      changedAt: new Date(now).toISOString(),
    };
    await this.#store.write(`${this.#tablePrefix}_VERSION`, encodeJson(version), {
      signal,
      contentType: "application/json",
    });
    return manifest;
  }

  async abort(): Promise<void> {
    if (this.#state !== "open") return;
    this.#state = "aborted";
    await Promise.allSettled(this.#started.map((s) => s.written));
    // Not the caller's signal: it may be the reason we abort, and the files must still go.
    for (const { key } of this.#started) {
      await this.#store.delete(this.#tablePrefix + key).catch(() => {});
    }
  }
}

function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
}

/**
 * The partition protocol of the Data Import document ("데이터 가공하기"):
 *
 * ```
 * <prefix>/dt=2023-01-01/000000000000.parquet
 * <prefix>/dt=2023-01-01/000000000001.parquet
 * <prefix>/dt=2023-01-01/_SUCCESS            0 bytes, written last: the day is ready
 * ```
 *
 * A day is *ready* when its `_SUCCESS` exists; parts are numbered from `000000000000` (12
 * digits) without gaps. Writers ({@linkcode openPartitionWriter}) keep readers from ever seeing a
 * ready day that mixes two writes: when a day is overwritten, the old `_SUCCESS` is deleted
 * first (the day is "in progress" from then on), the new parts replace the old ones under the
 * same names, stale higher-numbered old parts are deleted, and only then is the new `_SUCCESS`
 * written. Readers ({@linkcode partitionStatus}) list the day twice and call it ready only when
 * both listings agree, so a listing that straddles a whole rewrite is not mistaken for a day.
 *
 * Only object get, list, put and delete are used: the permissions the Data Import document asks
 * customers to grant (no copy, no conditional writes, no bucket creation).
 *
 * @module
 */
import { InvalidArgumentError, NotFoundError, PreconditionFailedError } from "@eventlake/schema";
import type { ObjectInfo, ObjectStore, SignalOptions } from "./store.ts";
import { checkKey } from "./keys.ts";
import { checkSignal } from "./_common.ts";

/**
 * The name of the 0-byte marker that makes a day ready.
 *
 * @example
 * ```ts
 * import { partitionPrefix, SUCCESS_MARKER } from "@eventlake/storage";
 * console.log(partitionPrefix("events", "2023-01-01") + SUCCESS_MARKER); // "events/dt=2023-01-01/_SUCCESS"
 * ```
 */
export const SUCCESS_MARKER = "_SUCCESS";

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_DIR_RE = /^dt=(\d{4}-\d{2}-\d{2})\/$/;
const PART_RE = /^(\d{12})\.parquet$/;
const MAX_PART = 999_999_999_999;
const STATUS_ATTEMPTS = 5;

/**
 * Checks that `date` is a real calendar day written `YYYY-MM-DD` and returns it.
 *
 * @example
 * ```ts
 * import { checkPartitionDate } from "@eventlake/storage";
 * console.log(checkPartitionDate("2024-02-29")); // "2024-02-29"
 * try { checkPartitionDate("2023-02-29"); } catch (e) { console.log((e as Error).message); }
 * ```
 */
export function checkPartitionDate(date: string): string {
  const m = typeof date === "string" ? DATE_RE.exec(date) : null;
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const t = new Date(Date.UTC(y, mo - 1, d));
    if (t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d) return date;
    throw new InvalidArgumentError(`Invalid partition date "${date}": no such calendar day`, {
      details: { date },
    });
  }
  throw new InvalidArgumentError(
    `Invalid partition date "${String(date)}": expected YYYY-MM-DD`,
    { details: { date: String(date) } },
  );
}

/**
 * The file name of part number `index`: `000000000000.parquet`, `000000000001.parquet`, …
 *
 * @example
 * ```ts
 * import { partFileName } from "@eventlake/storage";
 * console.log(partFileName(1)); // "000000000001.parquet"
 * ```
 */
export function partFileName(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_PART) {
    throw new RangeError(`Invalid part number ${index}: must be an integer from 0 to ${MAX_PART}`);
  }
  return `${String(index).padStart(12, "0")}.parquet`;
}

/**
 * The key prefix of one day under `prefix`, ending in `/`: `<prefix>/dt=YYYY-MM-DD/`.
 * `prefix` may be empty or end in `/` or not.
 *
 * @example
 * ```ts
 * import { partitionPrefix } from "@eventlake/storage";
 * console.log(partitionPrefix("test/prefix-custom", "2023-01-01")); // "test/prefix-custom/dt=2023-01-01/"
 * ```
 */
export function partitionPrefix(prefix: string, date: string): string {
  return `${normalizePrefix(prefix)}dt=${checkPartitionDate(date)}/`;
}

function normalizePrefix(prefix: string): string {
  checkKey(prefix, { allowEmpty: true });
  return prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
}

/**
 * Lists the days under `prefix` (the `dt=YYYY-MM-DD/` "folders", found by a delimiter
 * listing), in date order. Entries that are not valid day folders are skipped. A day is
 * listed whatever its state: ask {@linkcode partitionStatus} whether it is ready.
 *
 * @example
 * ```ts
 * import { createMemoryStore, listPartitionDates } from "@eventlake/storage";
 * const store = createMemoryStore();
 * await store.write("p/dt=2023-01-02/_SUCCESS", new Uint8Array(0));
 * await store.write("p/dt=2023-01-01/_SUCCESS", new Uint8Array(0));
 * console.log(await listPartitionDates(store, "p")); // [ "2023-01-01", "2023-01-02" ]
 * ```
 */
export async function listPartitionDates(
  store: ObjectStore,
  prefix: string,
  options: SignalOptions = {},
): Promise<string[]> {
  const base = normalizePrefix(prefix);
  const dates: string[] = [];
  for await (const entry of store.list(base, { delimiter: "/", signal: options.signal })) {
    if (entry.kind !== "prefix") continue;
    const m = DAY_DIR_RE.exec(entry.prefix.slice(base.length));
    if (m && isCalendarDate(m[1])) dates.push(m[1]);
  }
  return dates.sort();
}

function isCalendarDate(date: string): boolean {
  try {
    checkPartitionDate(date);
    return true;
  } catch {
    return false;
  }
}

/** Where a day stands: absent, being written, or ready to read. */
export type PartitionState = "missing" | "in_progress" | "ready";

/** Something about a day that the protocol does not expect; reported, not fatal by itself. */
export type PartitionProblem =
  | { kind: "unexpected_file"; key: string }
  | { kind: "success_not_empty"; key: string; size: number }
  | { kind: "missing_part"; index: number; name: string };

/** What {@linkcode partitionStatus} found. */
export interface PartitionStatus {
  /** The day, `YYYY-MM-DD`. */
  date: string;
  /** The day's key prefix, ending in `/`. */
  prefix: string;
  /** `missing` (no objects), `in_progress` (objects but no `_SUCCESS`) or `ready`. */
  state: PartitionState;
  /** The part files present, in part-number order. */
  parts: ObjectInfo[];
  /** The `_SUCCESS` marker, when present. */
  success?: ObjectInfo;
  /** Unexpected files, a non-empty `_SUCCESS`, gaps in the part numbering. */
  problems: PartitionProblem[];
}

/**
 * Reports the state of one day: `missing`, `in_progress` (objects but no `_SUCCESS`) or `ready`,
 * with its parts and any problems: unexpected files (named), a `_SUCCESS` that is not 0 bytes,
 * gaps in the part numbering. The day is listed twice and called ready only when both listings
 * agree (same parts, same etags), so a concurrent rewrite is never reported as a ready day.
 *
 * @example
 * ```ts
 * import { createMemoryStore, partitionStatus } from "@eventlake/storage";
 * const store = createMemoryStore();
 * await store.write("p/dt=2023-01-01/000000000000.parquet", new Uint8Array([1]));
 * console.log((await partitionStatus(store, "p", "2023-01-01")).state); // "in_progress"
 * await store.write("p/dt=2023-01-01/_SUCCESS", new Uint8Array(0));
 * console.log((await partitionStatus(store, "p", "2023-01-01")).state); // "ready"
 * ```
 */
export async function partitionStatus(
  store: ObjectStore,
  prefix: string,
  date: string,
  options: SignalOptions = {},
): Promise<PartitionStatus> {
  const dayPrefix = partitionPrefix(prefix, date);
  let previous = await scanDay(store, dayPrefix, date, options.signal);
  for (let attempt = 1; attempt < STATUS_ATTEMPTS && previous.state === "ready"; attempt++) {
    const current = await scanDay(store, dayPrefix, date, options.signal);
    if (sameDay(previous, current)) return current;
    previous = current;
  }
  if (previous.state !== "ready") return previous;
  // The day kept changing under us: it is being rewritten right now.
  return { ...previous, state: "in_progress", success: undefined };
}

async function scanDay(
  store: ObjectStore,
  dayPrefix: string,
  date: string,
  signal: AbortSignal | undefined,
): Promise<PartitionStatus> {
  const parts: { index: number; info: ObjectInfo }[] = [];
  const problems: PartitionProblem[] = [];
  let success: ObjectInfo | undefined;
  let any = false;
  for await (const entry of store.list(dayPrefix, { signal })) {
    if (entry.kind !== "object") continue;
    any = true;
    const { kind: _, ...info } = entry;
    const name = info.key.slice(dayPrefix.length);
    const m = PART_RE.exec(name);
    if (m) parts.push({ index: Number(m[1]), info });
    else if (name === SUCCESS_MARKER) success = info;
    else problems.push({ kind: "unexpected_file", key: info.key });
  }
  parts.sort((a, b) => a.index - b.index);
  if (success && success.size !== 0) {
    problems.push({ kind: "success_not_empty", key: success.key, size: success.size });
  }
  let expected = 0;
  for (const { index } of parts) {
    for (; expected < index; expected++) {
      problems.push({ kind: "missing_part", index: expected, name: partFileName(expected) });
    }
    expected = index + 1;
  }
  return {
    date,
    prefix: dayPrefix,
    state: success ? "ready" : any ? "in_progress" : "missing",
    parts: parts.map((p) => p.info),
    success,
    problems,
  };
}

function sameDay(a: PartitionStatus, b: PartitionStatus): boolean {
  if (a.state !== b.state || a.parts.length !== b.parts.length) return false;
  if (!sameObject(a.success, b.success)) return false;
  return a.parts.every((p, i) => sameObject(p, b.parts[i]));
}

function sameObject(a: ObjectInfo | undefined, b: ObjectInfo | undefined): boolean {
  if (!a || !b) return a === b;
  return a.key === b.key && a.size === b.size && a.etag === b.etag &&
    a.lastModified?.getTime() === b.lastModified?.getTime();
}

/** Options of {@linkcode listPartitionParts}. */
export interface ListPartitionPartsOptions extends SignalOptions {
  /** Accept a ready day whose part numbering has gaps (default: refuse it). */
  allowGaps?: boolean;
}

/**
 * The parts of a ready day, in part-number order, with size and etag. Throws
 * `NotFoundError` when the day does not exist, `PreconditionFailedError` when it is not ready
 * (`_SUCCESS` is missing) or, unless `allowGaps`, when its part numbering has gaps.
 * Unexpected files are not parts and are left out.
 *
 * @example
 * ```ts
 * import { createMemoryStore, listPartitionParts } from "@eventlake/storage";
 * const store = createMemoryStore();
 * await store.write("p/dt=2023-01-01/000000000000.parquet", new Uint8Array([1, 2]));
 * await store.write("p/dt=2023-01-01/_SUCCESS", new Uint8Array(0));
 * const parts = await listPartitionParts(store, "p", "2023-01-01");
 * console.log(parts.map((p) => [p.key, p.size])); // [ [ "p/dt=2023-01-01/000000000000.parquet", 2 ] ]
 * ```
 */
export async function listPartitionParts(
  store: ObjectStore,
  prefix: string,
  date: string,
  options: ListPartitionPartsOptions = {},
): Promise<ObjectInfo[]> {
  const status = await partitionStatus(store, prefix, date, options);
  const where = `Cannot read partition "dt=${date}" under "${normalizePrefix(prefix)}"`;
  const details = { date, prefix: status.prefix };
  if (status.state === "missing") {
    throw new NotFoundError(`${where}: no such partition`, { details });
  }
  if (status.state === "in_progress") {
    throw new PreconditionFailedError(`${where}: ${SUCCESS_MARKER} is missing`, { details });
  }
  const gaps = status.problems.filter((p) => p.kind === "missing_part");
  if (gaps.length > 0 && !options.allowGaps) {
    const names = gaps.slice(0, 5).map((g) => `"${g.name}"`).join(", ");
    throw new PreconditionFailedError(
      `${where}: part numbering has gaps, missing ${names}${gaps.length > 5 ? ", …" : ""}`,
      { details: { ...details, missing: gaps.map((g) => g.name) } },
    );
  }
  return status.parts;
}

/** Options of {@linkcode openPartitionWriter}. */
export interface PartitionWriterOptions extends SignalOptions {
  /** Content type of the parts (default `application/vnd.apache.parquet`). */
  contentType?: string;
}

/** What a committed day holds. */
export interface PartitionCommit {
  /** The day, `YYYY-MM-DD`. */
  date: string;
  /** The new parts, in order. */
  parts: ObjectInfo[];
  /** Old parts deleted because the new day has fewer. */
  deleted: string[];
}

/**
 * Writes one day: parts in order, then `_SUCCESS`. Obtain one with
 * {@linkcode openPartitionWriter}; it is single-use.
 */
export interface PartitionWriter {
  /** The day being written. */
  readonly date: string;
  /** The day's key prefix, ending in `/`. */
  readonly prefix: string;
  /** Writes the next part (`000000000000.parquet`, then `…001`, …) and returns it. */
  writePart(
    body: Uint8Array | ReadableStream<Uint8Array>,
    options?: SignalOptions,
  ): Promise<ObjectInfo>;
  /** Deletes stale old parts, then writes the 0-byte `_SUCCESS`: the day becomes ready. */
  commit(options?: SignalOptions): Promise<PartitionCommit>;
  /**
   * Gives up: deletes the parts this writer wrote and, when it was overwriting a day, that day's
   * old parts too (it was no longer ready). The day is then missing. Other files are left alone.
   */
  abort(options?: SignalOptions): Promise<void>;
}

/**
 * Opens a writer for one day under `prefix`. When the day already exists, its `_SUCCESS` is
 * deleted right away, so from now on readers see the day as in progress until
 * {@linkcode PartitionWriter.commit}.
 *
 * @example
 * ```ts
 * import { createMemoryStore, openPartitionWriter, partitionStatus } from "@eventlake/storage";
 * const store = createMemoryStore();
 * const writer = await openPartitionWriter(store, "test/prefix-custom", "2023-01-01");
 * await writer.writePart(new Uint8Array([1, 2, 3]));
 * await writer.writePart(new Uint8Array([4, 5]));
 * await writer.commit();
 * const status = await partitionStatus(store, "test/prefix-custom", "2023-01-01");
 * console.log(status.state, status.parts.map((p) => p.key.split("/").pop()));
 * // ready [ "000000000000.parquet", "000000000001.parquet" ]
 * ```
 */
export async function openPartitionWriter(
  store: ObjectStore,
  prefix: string,
  date: string,
  options: PartitionWriterOptions = {},
): Promise<PartitionWriter> {
  const dayPrefix = partitionPrefix(prefix, date);
  const successKey = `${dayPrefix}${SUCCESS_MARKER}`;
  // Unpublish first: from here on no reader can take the day for ready.
  await store.delete(successKey, options);
  const old = await scanDay(store, dayPrefix, date, options.signal);
  return new DayWriter(store, date, dayPrefix, old.parts.map((p) => p.key), options);
}

class DayWriter implements PartitionWriter {
  readonly date: string;
  readonly prefix: string;
  #store: ObjectStore;
  #oldParts: string[];
  #contentType: string;
  #next = 0;
  #pending: Promise<ObjectInfo>[] = [];
  #written: string[] = [];
  #state: "open" | "committing" | "committed" | "aborted" = "open";

  constructor(
    store: ObjectStore,
    date: string,
    prefix: string,
    oldParts: string[],
    options: PartitionWriterOptions,
  ) {
    this.#store = store;
    this.date = date;
    this.prefix = prefix;
    this.#oldParts = oldParts;
    this.#contentType = options.contentType ?? "application/vnd.apache.parquet";
  }

  #checkOpen(what: string): void {
    if (this.#state !== "open") {
      throw new PreconditionFailedError(
        `Cannot ${what} partition "dt=${this.date}": the writer is already ${this.#state}`,
        { details: { date: this.date, prefix: this.prefix } },
      );
    }
  }

  writePart(
    body: Uint8Array | ReadableStream<Uint8Array>,
    options: SignalOptions = {},
  ): Promise<ObjectInfo> {
    try {
      this.#checkOpen("write a part of");
    } catch (e) {
      return Promise.reject(e);
    }
    const key = `${this.prefix}${partFileName(this.#next++)}`;
    this.#written.push(key);
    const p = this.#store.write(key, body, {
      signal: options.signal,
      contentType: this.#contentType,
    });
    this.#pending.push(p);
    return p;
  }

  async commit(options: SignalOptions = {}): Promise<PartitionCommit> {
    this.#checkOpen("commit");
    this.#state = "committing";
    try {
      const parts = await Promise.all(this.#pending);
      const written = new Set(this.#written);
      const stale = this.#oldParts.filter((k) => !written.has(k));
      for (const key of stale) {
        checkSignal(options.signal, `commit partition "dt=${this.date}"`);
        await this.#store.delete(key, options);
      }
      await this.#store.write(`${this.prefix}${SUCCESS_MARKER}`, new Uint8Array(0), {
        signal: options.signal,
        contentType: "application/octet-stream",
      });
      this.#state = "committed";
      return { date: this.date, parts, deleted: stale };
    } catch (e) {
      // Still unpublished: the caller may abort() to clean up.
      this.#state = "open";
      throw e;
    }
  }

  async abort(options: SignalOptions = {}): Promise<void> {
    if (this.#state === "committed" || this.#state === "aborted") return;
    this.#state = "aborted";
    await Promise.allSettled(this.#pending);
    const keys = new Set([...this.#written, ...this.#oldParts]);
    for (const key of keys) await this.#store.delete(key, options);
  }
}

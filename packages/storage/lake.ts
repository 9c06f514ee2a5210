/**
 * The layout of the event lake: where the import lands tables and where the query engine reads them.
 *
 * ```
 * <lake root>/<data source>/<database>/<table>/_VERSION                 table version token (JSON)
 * <lake root>/<data source>/<database>/<table>/dt=YYYY-MM-DD/_MANIFEST.json   the day's commit point
 * <lake root>/<data source>/<database>/<table>/dt=YYYY-MM-DD/<run id>-<n>.parquet
 * ```
 *
 * A day is exactly the files its `_MANIFEST.json` names: a writer first writes new files under new
 * names, then replaces the manifest (one atomic object write), then deletes files no manifest
 * names. A reader that reads the manifest therefore sees the old day or the new day, never a mix,
 * and a crash before the manifest write leaves the previous day intact. Every landing rewrites
 * `_VERSION`, so readers can tell that a table changed.
 *
 * @module
 */
import { InvalidArgumentError } from "@eventlake/schema";
import type { ObjectStore, SignalOptions } from "./store.ts";

/** A lake table: `data_source.database.table`. */
export interface LakeTableRef {
  /** Data source (a DATA_CATALOG name), e.g. `data_catalog`. */
  dataSource: string;
  /** Database, e.g. `default`. */
  database: string;
  /** Table, e.g. `events`. */
  table: string;
}

/** The default destination of the import: `data_catalog.default.events`. */
export const DEFAULT_LAKE_TABLE: LakeTableRef = Object.freeze({
  dataSource: "data_catalog",
  database: "default",
  table: "events",
});

/** One file of a landed day. */
export interface LakeFile {
  /** Key relative to the table prefix, e.g. `dt=2023-01-01/r1-000000.parquet`. */
  key: string;
  /** Rows in the file. */
  rows: number;
  /** Bytes of the file. */
  bytes: number;
}

/** The commit point of one day of a lake table. */
export interface DayManifest {
  /** The day, `YYYY-MM-DD`. */
  date: string;
  /** The run that landed it. */
  runId: string;
  /** When it landed, ISO-8601. */
  landedAt: string;
  /** The day's files. */
  files: LakeFile[];
  /** Total rows. */
  rows: number;
}

/** The table's change token. */
export interface TableVersion {
  /** Changes on every landing. */
  token: string;
  /** When the table last changed, ISO-8601. */
  changedAt: string;
}

const NAME_RE = /^[a-z0-9_]{1,72}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The key prefix of a lake table, ending in `/`.
 *
 * @example
 * ```ts
 * import { DEFAULT_LAKE_TABLE, lakeTablePrefix } from "@eventlake/storage";
 * console.log(lakeTablePrefix(DEFAULT_LAKE_TABLE)); // "data_catalog/default/events/"
 * ```
 */
export function lakeTablePrefix(ref: LakeTableRef): string {
  for (const [what, name] of Object.entries(ref)) {
    if (!NAME_RE.test(name)) {
      throw new InvalidArgumentError(
        `Invalid lake ${what} name "${name}": use 1-72 lowercase letters, digits or underscores`,
      );
    }
  }
  return `${ref.dataSource}/${ref.database}/${ref.table}/`;
}

/**
 * The key prefix of one day of a lake table, ending in `/`.
 *
 * @example
 * ```ts
 * import { DEFAULT_LAKE_TABLE, lakeDayPrefix } from "@eventlake/storage";
 * console.log(lakeDayPrefix(DEFAULT_LAKE_TABLE, "2023-01-01")); // "data_catalog/default/events/dt=2023-01-01/"
 * ```
 */
export function lakeDayPrefix(ref: LakeTableRef, date: string): string {
  if (!DATE_RE.test(date)) {
    throw new InvalidArgumentError(`Invalid partition date "${date}": expected YYYY-MM-DD`);
  }
  return `${lakeTablePrefix(ref)}dt=${date}/`;
}

/**
 * Reads a day's manifest, or `undefined` when the day has not landed.
 *
 * @example
 * ```ts ignore
 * const manifest = await readDayManifest(store, DEFAULT_LAKE_TABLE, "2023-01-01");
 * ```
 */
export async function readDayManifest(
  store: ObjectStore,
  ref: LakeTableRef,
  date: string,
  options: SignalOptions & { root?: string } = {},
): Promise<DayManifest | undefined> {
  const key = `${options.root ?? ""}${lakeDayPrefix(ref, date)}_MANIFEST.json`;
  if (!(await store.exists(key, options))) return undefined;
  return JSON.parse(new TextDecoder().decode(await store.read(key, options))) as DayManifest;
}

/**
 * Lists the landed days of a table (those with a manifest), in order.
 *
 * @example
 * ```ts ignore
 * for (const date of await listLakeDays(store, DEFAULT_LAKE_TABLE)) console.log(date);
 * ```
 */
export async function listLakeDays(
  store: ObjectStore,
  ref: LakeTableRef,
  options: SignalOptions & { root?: string } = {},
): Promise<string[]> {
  const prefix = `${options.root ?? ""}${lakeTablePrefix(ref)}`;
  const days: string[] = [];
  for await (const entry of store.list(prefix, { delimiter: "/", signal: options.signal })) {
    if (entry.kind !== "prefix") continue;
    const m = /dt=(\d{4}-\d{2}-\d{2})\/$/.exec(entry.prefix);
    if (m && await store.exists(`${entry.prefix}_MANIFEST.json`, options)) days.push(m[1]);
  }
  return days.sort();
}

/**
 * Reads the table's change token, or `undefined` when nothing has landed.
 *
 * @example
 * ```ts ignore
 * const version = await readTableVersion(store, DEFAULT_LAKE_TABLE);
 * ```
 */
export async function readTableVersion(
  store: ObjectStore,
  ref: LakeTableRef,
  options: SignalOptions & { root?: string } = {},
): Promise<TableVersion | undefined> {
  const key = `${options.root ?? ""}${lakeTablePrefix(ref)}_VERSION`;
  if (!(await store.exists(key, options))) return undefined;
  return JSON.parse(new TextDecoder().decode(await store.read(key, options))) as TableVersion;
}

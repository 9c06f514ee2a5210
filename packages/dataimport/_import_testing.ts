/**
 * Test helpers of the importer: source days written as the Data Import document lays them out.
 * Not exported from `mod.ts`.
 *
 * @module
 */
import type { Event } from "@eventlake/schema";
import { generateEvents } from "@eventlake/schema/testing";
import { writeEvents } from "@eventlake/parquet";
import type { LakeTableRef, ObjectStore } from "@eventlake/storage";
import { DEFAULT_LAKE_TABLE, readDayManifest } from "@eventlake/storage/lake";
import { partFileName } from "@eventlake/storage/partition";
import { forEachInsertId } from "./_import_ids.ts";

/** Writes `events` as one Parquet object at `key`. */
export async function writePart(
  store: ObjectStore,
  key: string,
  events: Iterable<Event>,
): Promise<void> {
  const pipe = new TransformStream<Uint8Array, Uint8Array>();
  const written = store.write(key, pipe.readable);
  await writeEvents(events, pipe.writable);
  await written;
}

/** Writes a day: one part per array of events, then (unless `ready: false`) `_SUCCESS`. */
export async function writeDay(
  store: ObjectStore,
  prefix: string,
  date: string,
  parts: Event[][],
  options: { ready?: boolean } = {},
): Promise<void> {
  for (let i = 0; i < parts.length; i++) {
    await writePart(store, `${prefix}dt=${date}/${partFileName(i)}`, parts[i]);
  }
  if (options.ready !== false) {
    await store.write(`${prefix}dt=${date}/_SUCCESS`, new Uint8Array(0));
  }
}

/** `n` valid events of `date` (seeded). */
export function events(n: number, seed: number, date = "2023-01-01"): Event[] {
  return generateEvents(n, { seed, day: date });
}

/** The insert_ids landed for a day (read back from the lake files), sorted. */
export async function landedIds(
  lake: ObjectStore,
  date: string,
  table: LakeTableRef = DEFAULT_LAKE_TABLE,
  root = "",
): Promise<string[]> {
  const manifest = await readDayManifest(lake, table, date, { root });
  const ids: string[] = [];
  for (const f of manifest?.files ?? []) {
    const key = `${root}${table.dataSource}/${table.database}/${table.table}/${f.key}`;
    await forEachInsertId(lake, key, f.bytes, (id) => ids.push(id), undefined);
  }
  return ids.sort();
}

/** Every key under `prefix`. */
export async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const e of store.list(prefix)) if (e.kind === "object") keys.push(e.key);
  return keys;
}

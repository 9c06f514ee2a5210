import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { Event } from "@eventlake/schema";
import { generateEvents } from "@eventlake/schema/testing";
import { readEvents, writeEvents } from "@eventlake/parquet";
import type { ObjectStore } from "@eventlake/storage";
import { DEFAULT_LAKE_TABLE, readDayManifest } from "@eventlake/storage/lake";
import { createMemoryStore } from "@eventlake/storage/memory";
import { partFileName } from "@eventlake/storage/partition";
import { runImport, type RunImportOptions, type RunReport } from "./run.ts";
import { fastPath } from "./_import_fast.ts";
import { storeSource } from "./_import_source.ts";

const D = "2023-01-01";
const P = "src/";
const DAY = Date.parse(`${D}T00:00:00.000Z`);

async function writeParts(
  store: ObjectStore,
  date: string,
  parts: Event[][],
  rowGroupSize = 100,
): Promise<void> {
  for (let i = 0; i < parts.length; i++) {
    const pipe = new TransformStream<Uint8Array, Uint8Array>();
    const written = store.write(`${P}dt=${date}/${partFileName(i)}`, pipe.readable);
    await writeEvents(parts[i], pipe.writable, { rowGroupSize });
    await written;
  }
  await store.write(`${P}dt=${date}/_SUCCESS`, new Uint8Array(0));
}

/** Every landed event of the day, in manifest order. */
async function landed(lake: ObjectStore, date: string): Promise<Event[]> {
  const manifest = await readDayManifest(lake, DEFAULT_LAKE_TABLE, date);
  const out: Event[] = [];
  for (const f of manifest?.files ?? []) {
    const key = `data_catalog/default/events/${f.key}`;
    for await (const e of readEvents(storeSource(lake, key, f.bytes))) out.push(e);
  }
  return out;
}

/** The report without what differs by nature between runs and paths. */
function comparable(r: RunReport) {
  return {
    status: r.status,
    rowsRead: r.rowsRead,
    rowsAccepted: r.rowsAccepted,
    rowsRejected: r.rowsRejected,
    rowsDuplicate: r.rowsDuplicate,
    rowsDuplicateEarlier: r.rowsDuplicateEarlier,
    bytesRead: r.bytesRead,
    reasons: r.reasons,
    variants: r.variants,
    files: r.files,
    error: r.error,
  };
}

/**
 * Imports `date` of `source` into a copy of `lake` through each path; asserts the reports and
 * the landed rows are the same, and returns the fast path's report.
 */
async function bothPaths(
  source: ObjectStore,
  lake: () => Promise<ObjectStore>,
  date: string,
  options: Partial<RunImportOptions> = {},
): Promise<{ fast: RunReport; object: RunReport; rows: Event[] }> {
  const run = async (enabled: boolean) => {
    fastPath.enabled = enabled;
    try {
      const store = await lake();
      const report = await runImport({ store: source, prefix: P }, date, {
        ...options,
        lake: { store },
        workers: 1,
      });
      return { report, rows: await landed(store, date) };
    } finally {
      fastPath.enabled = true;
    }
  };
  const fast = await run(true);
  const object = await run(false);
  deepStrictEqual(comparable(fast.report), comparable(object.report));
  deepStrictEqual(fast.rows, object.rows);
  strictEqual(object.report.timings.fastPathRows, 0);
  return { fast: fast.report, object: object.report, rows: fast.rows };
}

Deno.test("fast path: a day with in-day and window duplicates lands exactly what the object path lands", async () => {
  const source = createMemoryStore();
  const yesterday = generateEvents(300, { seed: 1, day: "2022-12-31" });
  await writeParts(source, "2022-12-31", [yesterday]);
  const lake = async () => {
    const store = createMemoryStore();
    await runImport({ store: source, prefix: P }, "2022-12-31", { lake: { store } });
    return store;
  };
  const a = generateEvents(450, { seed: 2, users: 50 });
  const b = generateEvents(450, { seed: 3 });
  a[10] = { ...a[10], metric_value: 999999999999999999999999n };
  a[11] = { ...a[11], metric_value: -123456789012345678123456n };
  a[12] = { ...a[12], user_properties: {}, event_properties: { "이름": "값 🎉", none: null } };
  for (let i = 20; i < 450; i += 37) a[i] = a[i - 1]; // in-day, same part
  b[5] = a[7]; // in-day, across parts
  b[6] = yesterday[3]; // resent with yesterday's ts: an earlier-day duplicate
  b[7] = { ...yesterday[4], ts: DAY + 5 }; // resent inside the day: also a duplicate
  b[300] = yesterday[5];
  await writeParts(source, D, [a, b]);
  const { fast, rows } = await bothPaths(source, lake, D);
  strictEqual(fast.status, "SUCCEEDED");
  strictEqual(fast.rowsDuplicateEarlier, 3);
  strictEqual(fast.rowsDuplicate, 3 + 1 + 12);
  strictEqual(fast.timings.fastPathRows, 900);
  strictEqual(rows.length, 900 - 16);
  strictEqual(rows[10].metric_value, 999999999999999999999999n);
});

Deno.test("fast path: rejects of every kind give the object path's counts, reasons, samples and rows", async () => {
  const source = createMemoryStore();
  const bad: ((e: Event) => Event)[] = [
    (e) => ({ ...e, insert_id: e.insert_id.toUpperCase() }), // accepted, lowercased
    (e) => ({ ...e, insert_id: "not-a-uuid" }),
    (e) => ({ ...e, event_key: "" }),
    (e) => ({ ...e, ts: DAY - 1 }),
    (e) => ({ ...e, user_properties: { Plan: "pro" } }),
    (e) => ({ ...e, user_properties: { plan: "a", PLAN: "b" } }),
    (e) => ({ ...e, event_properties: { "": "x" } }),
    (e) => ({ ...e, identifiers: { id: "u1" } }),
    (e) => ({ ...e, platform_properties: { osname: "", appversion: "1" } }),
    (e) => ({ ...e, platform_properties: { osname: "ios", appversion: null } }),
    (e) => ({ ...e, event_properties: { k: "\uFEFFbom" } }), // accepted without its BOM
    (e) => ({ ...e, user_properties: { "7": "x", a: "y" } }), // accepted, keys reordered
    (e) => ({ ...e, ts: 300_000_000_000_000 }),
  ];
  // One part per kind, its bad row in its second row group (of 10 rows), then a clean part.
  const parts = bad.map((change, p) => {
    const events = generateEvents(20, { seed: 100 + p });
    events[13] = change(events[13]);
    events[17] = events[16];
    return events;
  });
  parts.push(generateEvents(20, { seed: 99 }));
  await writeParts(source, D, parts, 10);
  const { fast } = await bothPaths(source, () => Promise.resolve(createMemoryStore()), D);
  strictEqual(fast.status, "PARTIAL");
  strictEqual(fast.rowsRejected, 10);
  strictEqual(fast.rowsDuplicate, 13);
  ok(fast.reasons.length >= 6, JSON.stringify(fast.reasons));
  // Every part's first group took the fast path, and the clean part all of it.
  strictEqual(fast.timings.fastPathRows, bad.length * 10 + 20);
  strictEqual(fast.timings.objectPathRows, bad.length * 10);
});

Deno.test("fast path: a source in a tolerated variant takes the object path", async () => {
  const source = createMemoryStore();
  const duck = await Deno.readFile(
    new URL("../parquet/testdata/duckdb_events.parquet", import.meta.url),
  );
  await source.write(`${P}dt=${D}/000000000000.parquet`, duck);
  await source.write(`${P}dt=${D}/_SUCCESS`, new Uint8Array(0));
  const { fast } = await bothPaths(source, () => Promise.resolve(createMemoryStore()), D);
  strictEqual(fast.timings.fastPathRows, 0);
  strictEqual(fast.timings.objectPathRows, 3);
});

Deno.test("fast path: landed files keep to maxRowsPerFile and rowGroupSize, splitting source row groups", async () => {
  const source = createMemoryStore();
  const events = generateEvents(1000, { seed: 9 });
  for (let i = 50; i < 1000; i += 50) events[i] = events[i - 1];
  await writeParts(source, D, [events.slice(0, 600), events.slice(600)], 300);
  const { fast } = await bothPaths(
    source,
    () => Promise.resolve(createMemoryStore()),
    D,
    { maxRowsPerFile: 250, rowGroupSize: 64 },
  );
  strictEqual(fast.timings.fastPathRows, 1000);
  deepStrictEqual(fast.landed.map((f) => f.rows), [250, 250, 250, 231]);
});

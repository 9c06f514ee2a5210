import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { writeEvents } from "@eventlake/parquet";
import type { Event } from "@eventlake/schema";
import { generateEvents } from "@eventlake/schema/testing";
import type { ObjectStore } from "@eventlake/storage";
import { createMemoryStore } from "@eventlake/storage/memory";
import { InsertIdSet } from "./_producer_ids.ts";
import { type DayValidation, validatePartitions } from "./validate.ts";

const TESTDATA = new URL("./testdata/producer/", import.meta.url);

async function parquet(events: readonly Event[]): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await writeEvents(events, new WritableStream({ write: (c) => void chunks.push(c) }));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A ready day of `events` in `parts` parts under `p/`. */
async function day(
  store: ObjectStore,
  date: string,
  parts: readonly (readonly Event[])[],
): Promise<void> {
  for (let i = 0; i < parts.length; i++) {
    await store.write(
      `p/dt=${date}/${String(i).padStart(12, "0")}.parquet`,
      await parquet(parts[i]),
    );
  }
  await store.write(`p/dt=${date}/_SUCCESS`, new Uint8Array(0));
}

async function check(store: ObjectStore, date: string): Promise<DayValidation> {
  const report = await validatePartitions(store, { prefix: "p", dates: [date] });
  return report.days[0];
}

const rules = (d: DayValidation) => d.problems.map((p) => p.rule);

Deno.test("validatePartitions() passes a ready day of exact parts", async () => {
  const store = createMemoryStore();
  const events = generateEvents(100, { day: "2023-01-01" });
  await day(store, "2023-01-01", [events.slice(0, 60), events.slice(60)]);
  const report = await validatePartitions(store, { prefix: "p", dates: ["2023-01-01"] });
  strictEqual(report.ok, true);
  const [d] = report.days;
  deepStrictEqual(
    [d.verdict, d.state, d.parts, d.rows, d.errors, d.warnings, d.variants],
    ["ok", "ready", 2, 100, 0, 0, []],
  );
});

Deno.test("validatePartitions() names the tolerated variants of a DuckDB-written part", async () => {
  const store = createMemoryStore();
  await store.write(
    "p/dt=2023-01-01/000000000000.parquet",
    await Deno.readFile(new URL("duckdb_events.parquet", TESTDATA)),
  );
  await store.write("p/dt=2023-01-01/_SUCCESS", new Uint8Array(0));
  const d = await check(store, "2023-01-01");
  strictEqual(d.verdict, "ok");
  strictEqual(d.rows, 3);
  const ids = new Set(d.variants.map((v) => v.id));
  ok(ids.has("ts-micros") && ids.has("optional-columns") && ids.has("decimal-fixed-width"));
  strictEqual(d.variants[0].file, "p/dt=2023-01-01/000000000000.parquet");
});

Deno.test("validatePartitions() reports a wrong-schema part and a corrupt part by file, and reads on", async () => {
  const store = createMemoryStore();
  const events = generateEvents(10, { day: "2023-01-01" });
  await store.write(
    "p/dt=2023-01-01/000000000000.parquet",
    await Deno.readFile(new URL("duckdb_metric_double.parquet", TESTDATA)),
  );
  const good = await parquet(events);
  await store.write("p/dt=2023-01-01/000000000001.parquet", good.slice(0, good.length - 20));
  await store.write("p/dt=2023-01-01/000000000002.parquet", good);
  await store.write("p/dt=2023-01-01/_SUCCESS", new Uint8Array(0));
  const d = await check(store, "2023-01-01");
  strictEqual(d.verdict, "error");
  deepStrictEqual(rules(d), ["schema", "unreadable"]);
  ok(d.problems[0].message.includes("metric_value"), d.problems[0].message);
  strictEqual(d.problems[0].file, "p/dt=2023-01-01/000000000000.parquet");
  strictEqual(d.problems[1].file, "p/dt=2023-01-01/000000000001.parquet");
  strictEqual(d.rows, 10);
});

Deno.test("validatePartitions() finds a duplicate insert_id across parts and names both places", async () => {
  const store = createMemoryStore();
  const events = generateEvents(20, { day: "2023-01-01" });
  const copy = { ...events[3], insert_id: events[3].insert_id.toUpperCase() };
  await day(store, "2023-01-01", [events.slice(0, 10), [...events.slice(10), copy]]);
  const d = await check(store, "2023-01-01");
  deepStrictEqual(rules(d), ["duplicate_insert_id"]);
  const [p] = d.problems;
  strictEqual(p.file, "p/dt=2023-01-01/000000000001.parquet");
  strictEqual(p.row, 10);
  ok(p.message.includes("repeats 000000000000.parquet row 3"), p.message);
});

Deno.test("validatePartitions() reports a ts outside the partition's UTC day with file and row", async () => {
  const store = createMemoryStore();
  const events = generateEvents(5, { day: "2023-01-01" });
  events[2] = { ...events[2], ts: Date.UTC(2023, 0, 2, 0, 0, 0, 0) };
  await day(store, "2023-01-01", [events]);
  const d = await check(store, "2023-01-01");
  deepStrictEqual(rules(d), ["ts_outside_day"]);
  strictEqual(d.problems[0].row, 2);
  ok(d.problems[0].message.includes("2023-01-02T00:00:00.000Z is outside the day 2023-01-01"));
});

Deno.test("validatePartitions() reports invalid records with their field", async () => {
  const store = createMemoryStore();
  const events = generateEvents(3, { day: "2023-01-01" });
  events[1] = { ...events[1], identifiers: { id: "u" } };
  await day(store, "2023-01-01", [events]);
  const d = await check(store, "2023-01-01");
  deepStrictEqual(d.problems.map((p) => [p.rule, p.row, p.path]), [[
    "record",
    1,
    "identifiers.device_id",
  ]]);
});

Deno.test("validatePartitions() reports a missing or non-empty _SUCCESS, gaps and unexpected files", async () => {
  const store = createMemoryStore();
  const events = generateEvents(3, { day: "2023-01-01" });
  await store.write("p/dt=2023-01-01/000000000000.parquet", await parquet(events));
  let d = await check(store, "2023-01-01");
  deepStrictEqual([d.verdict, d.state, rules(d)], ["error", "in_progress", ["success_missing"]]);

  await store.write("p/dt=2023-01-01/_SUCCESS", new Uint8Array([1, 2]));
  await store.write("p/dt=2023-01-01/000000000002.parquet", await parquet([]));
  await store.write("p/dt=2023-01-01/part-00001.parquet", await parquet([]));
  await store.write("p/dt=2023-01-01/.crc", new Uint8Array([1]));
  d = await check(store, "2023-01-01");
  deepStrictEqual(
    d.problems.map((p) => [p.severity, p.rule]).sort(),
    [
      ["error", "missing_part"],
      ["error", "success_not_empty"],
      ["error", "unexpected_file"],
      ["warning", "unexpected_file"],
    ],
  );
  ok(d.problems.some((p) => p.message.includes("its rows would be lost")));
});

Deno.test("validatePartitions() reports a missing day, and a dt= folder whose name is not a day", async () => {
  const store = createMemoryStore();
  await store.write("p/dt=2023-1-5/000000000000.parquet", new Uint8Array([1]));
  const report = await validatePartitions(store, { prefix: "p", dates: ["2023-01-05"] });
  strictEqual(report.ok, false);
  strictEqual(report.days[0].verdict, "missing");
  deepStrictEqual(report.problems.map((p) => p.rule), ["folder_name"]);
  ok(report.problems[0].message.includes('Folder "dt=2023-1-5" is not a partition'));
});

Deno.test("validatePartitions() checks the days found in a from/to range", async () => {
  const store = createMemoryStore();
  await day(store, "2023-01-01", [generateEvents(2, { day: "2023-01-01" })]);
  await day(store, "2023-01-03", [generateEvents(2, { day: "2023-01-03" })]);
  await day(store, "2023-02-01", [generateEvents(2, { day: "2023-02-01" })]);
  const report = await validatePartitions(store, {
    prefix: "p",
    from: "2023-01-01",
    to: "2023-01-31",
  });
  deepStrictEqual(report.days.map((d) => [d.date, d.verdict]), [
    ["2023-01-01", "ok"],
    ["2023-01-03", "ok"],
  ]);
  const none = await validatePartitions(store, {
    prefix: "p",
    from: "2024-01-01",
    to: "2024-01-31",
  });
  strictEqual(none.ok, false);
  deepStrictEqual(none.problems.map((p) => p.rule), ["missing"]);
});

Deno.test("validatePartitions() keeps maxProblems problems per day and counts them all", async () => {
  const store = createMemoryStore();
  const events = generateEvents(30, { day: "2023-01-01" }).map((e) => ({ ...e, ts: 0 }));
  await day(store, "2023-01-01", [events]);
  const report = await validatePartitions(store, {
    prefix: "p",
    dates: ["2023-01-01"],
    maxProblems: 5,
  });
  strictEqual(report.days[0].problems.length, 5);
  strictEqual(report.days[0].errors, 30);
});

Deno.test("validatePartitions() refuses unclear date options", async () => {
  const store = createMemoryStore();
  await rejects(validatePartitions(store, {}), /give the dates or a from\/to range/);
  await rejects(validatePartitions(store, { from: "2023-01-01" }), /a range needs both/);
  await rejects(
    validatePartitions(store, { from: "2023-01-02", to: "2023-01-01" }),
    /from "2023-01-02" is after to "2023-01-01"/,
  );
  await rejects(validatePartitions(store, { dates: ["2023-13-01"] }), /Invalid partition date/);
});

Deno.test("InsertIdSet is exact across growth, case-insensitive, and handles the nil UUID and non-UUIDs", () => {
  const set = new InsertIdSet(16);
  const ids = generateEvents(5000).map((e) => e.insert_id);
  ids.forEach((id, i) => strictEqual(set.add(id, 0, i), undefined));
  strictEqual(set.size, 5000);
  deepStrictEqual(set.add(ids[1234].toUpperCase(), 1, 0), { part: 0, row: 1234 });
  const nil = "00000000-0000-0000-0000-000000000000";
  strictEqual(set.add(nil, 2, 7), undefined);
  deepStrictEqual(set.add(nil, 2, 8), { part: 2, row: 7 });
  strictEqual(set.add("not-a-uuid", 3, 1), undefined);
  deepStrictEqual(set.add("NOT-A-UUID", 3, 2), { part: 3, row: 1 });
  strictEqual(set.size, 5002);
});

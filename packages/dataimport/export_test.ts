import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { bytesSource, readEvents, writeEvents } from "@eventlake/parquet";
import { type Event, eventToJson } from "@eventlake/schema";
import { generateEvents } from "@eventlake/schema/testing";
import type { ObjectStore } from "@eventlake/storage";
import { createMemoryStore } from "@eventlake/storage/memory";
import { listPartitionParts, partitionStatus } from "@eventlake/storage/partition";
import { exportEvents, type StreamInput } from "./export.ts";
import { validatePartitions } from "./validate.ts";

const encoder = new TextEncoder();

function ndjson(name: string, lines: readonly unknown[]): StreamInput {
  const text = lines.map((l) => typeof l === "string" ? l : JSON.stringify(l)).join("\n") + "\n";
  return { name, stream: ReadableStream.from([encoder.encode(text)]) };
}

function jsonOf(events: readonly Event[]): unknown[] {
  return events.map((e) => eventToJson(e));
}

/** Events of two days, interleaved one by one. */
function twoDays(n: number): Event[] {
  const a = generateEvents(n, { day: "2023-01-01", seed: 1 });
  const b = generateEvents(n, { day: "2023-01-02", seed: 2 });
  return a.flatMap((e, i) => [e, b[i]]);
}

async function readDay(store: ObjectStore, date: string, prefix = "events"): Promise<Event[]> {
  const out: Event[] = [];
  for (const part of await listPartitionParts(store, prefix, date)) {
    const bytes = await store.read(part.key);
    for await (const e of readEvents(bytesSource(bytes))) out.push(e);
  }
  return out;
}

function collector(): { stream: WritableStream<Uint8Array>; lines(): unknown[] } {
  let text = "";
  const decoder = new TextDecoder();
  return {
    stream: new WritableStream({
      write: (c) => void (text += decoder.decode(c, { stream: true })),
    }),
    lines: () => text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)),
  };
}

Deno.test("exportEvents() groups records by UTC day, splits days into parts and commits each day", async () => {
  const store = createMemoryStore();
  const events = twoDays(250);
  const summary = await exportEvents([ndjson("in.ndjson", jsonOf(events))], {
    store,
    prefix: "events",
    partRows: 100,
  });
  strictEqual(summary.ok, true);
  strictEqual(summary.accepted, 500);
  deepStrictEqual(
    summary.days.map((d) => [d.date, d.rows, d.parts, d.committed]),
    [["2023-01-01", 250, 3, true], ["2023-01-02", 250, 3, true]],
  );
  for (const date of ["2023-01-01", "2023-01-02"]) {
    const status = await partitionStatus(store, "events", date);
    strictEqual(status.state, "ready");
    strictEqual(status.success?.size, 0);
    deepStrictEqual(status.problems, []);
    const back = await readDay(store, date);
    const expected = events.filter((e) => new Date(e.ts).toISOString().startsWith(date));
    deepStrictEqual(back, expected);
  }
  const sizes = summary.days.map((d) => d.bytes);
  ok(sizes.every((n) => n > 0));
});

Deno.test("exportEvents() keeps at most maxOpenParts parts open: interleaved days roll into more parts", async () => {
  const store = createMemoryStore();
  const events = twoDays(50);
  const summary = await exportEvents([ndjson("in.ndjson", jsonOf(events))], {
    store,
    prefix: "events",
    maxOpenParts: 1,
  });
  strictEqual(summary.ok, true);
  // Every switch of day closes the other day's part: one part per record, and a warning.
  deepStrictEqual(summary.days.map((d) => [d.rows, d.parts]), [[50, 50], [50, 50]]);
  strictEqual(summary.warnings.length, 1);
  ok(summary.warnings[0].includes("interleaves more than 1 days"), summary.warnings[0]);
  deepStrictEqual((await readDay(store, "2023-01-02")).length, 50);
  const report = await validatePartitions(store, {
    prefix: "events",
    dates: ["2023-01-01", "2023-01-02"],
  });
  strictEqual(report.ok, true);
});

Deno.test("exportEvents() closes a part at the partBytes target", async () => {
  const store = createMemoryStore();
  const events = generateEvents(400, { day: "2023-01-01" });
  const summary = await exportEvents([ndjson("in.ndjson", jsonOf(events))], {
    store,
    prefix: "events",
    rowGroupSize: 50,
    partBytes: 1,
  });
  // Each row group reaches the target: one part per row group.
  strictEqual(summary.days[0].parts, 8);
  deepStrictEqual(await readDay(store, "2023-01-01"), events);
});

Deno.test("exportEvents() withholds _SUCCESS for days with rejects beyond maxRejects, and writes the reject file", async () => {
  const store = createMemoryStore();
  const events = twoDays(10);
  const lines: unknown[] = jsonOf(events);
  const bad = { ...(lines[0] as object), event_key: "" }; // a 2023-01-01 record
  lines.splice(3, 0, bad);
  const rejectsOut = collector();
  const summary = await exportEvents([ndjson("in.ndjson", lines)], {
    store,
    prefix: "events",
    rejectsTo: rejectsOut.stream,
  });
  strictEqual(summary.ok, false);
  strictEqual(summary.rejected, 1);
  deepStrictEqual(summary.rejectsByRule, { non_empty: 1 });
  deepStrictEqual(
    summary.days.map((d) => [d.date, d.rows, d.rejected, d.committed]),
    [["2023-01-01", 10, 1, false], ["2023-01-02", 10, 0, true]],
  );
  ok(summary.days[0].reason?.includes("_SUCCESS withheld"));
  strictEqual((await partitionStatus(store, "events", "2023-01-01")).state, "in_progress");
  strictEqual((await partitionStatus(store, "events", "2023-01-02")).state, "ready");
  const [line] = rejectsOut.lines() as Record<string, unknown>[];
  strictEqual(line.input, "in.ndjson");
  strictEqual(line.line, 4);
  strictEqual(line.date, "2023-01-01");
  deepStrictEqual(line.record, bad);
  deepStrictEqual((line.reasons as { path: string; rule: string }[]).map((r) => [r.path, r.rule]), [
    [
      "event_key",
      "non_empty",
    ],
  ]);
});

Deno.test("exportEvents() withholds every day when a rejected record has no readable ts", async () => {
  const store = createMemoryStore();
  const lines = [...jsonOf(twoDays(3)), "{not json"];
  const summary = await exportEvents([ndjson("in.ndjson", lines)], { store, prefix: "events" });
  strictEqual(summary.ok, false);
  strictEqual(summary.rejectedWithoutDate, 1);
  deepStrictEqual(summary.rejectsByRule, { json: 1 });
  deepStrictEqual(summary.days.map((d) => d.committed), [false, false]);
  deepStrictEqual(summary.rejectSamples[0].line, 7);
});

Deno.test("exportEvents() commits every day when rejects stay within maxRejects", async () => {
  const store = createMemoryStore();
  const lines = [...jsonOf(twoDays(3)), "{not json", { ts: "2023-01-01T00:00:00Z" }];
  const summary = await exportEvents([ndjson("in.ndjson", lines)], {
    store,
    prefix: "events",
    maxRejects: 2,
  });
  strictEqual(summary.ok, true);
  strictEqual(summary.rejected, 2);
  deepStrictEqual(summary.days.map((d) => [d.date, d.rejected, d.committed]), [
    ["2023-01-01", 1, true],
    ["2023-01-02", 0, true],
  ]);
});

Deno.test("exportEvents() with date exports that day only and rejects the others", async () => {
  const store = createMemoryStore();
  const summary = await exportEvents([ndjson("in.ndjson", jsonOf(twoDays(5)))], {
    store,
    prefix: "events",
    date: "2023-01-02",
    maxRejects: 5,
  });
  strictEqual(summary.ok, true);
  deepStrictEqual(summary.rejectsByRule, { date: 5 });
  deepStrictEqual(summary.days.map((d) => [d.date, d.rows, d.committed]), [
    ["2023-01-01", 0, false],
    ["2023-01-02", 5, true],
  ]);
  strictEqual((await partitionStatus(store, "events", "2023-01-01")).state, "missing");
  ok(summary.rejectSamples[0].reasons[0].message.includes("outside the exported day 2023-01-02"));
  await rejects(
    exportEvents([ndjson("x", [])], { store, date: "2023-02-30" }),
    /Invalid partition date "2023-02-30": no such calendar day/,
  );
});

Deno.test("exportEvents() reads Parquet inputs and lowercases their insert_id", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-export-" });
  try {
    const events = generateEvents(20, { day: "2023-03-04" });
    const upper = events.map((e) => ({ ...e, insert_id: e.insert_id.toUpperCase() }));
    const file = await Deno.open(join(dir, "in.parquet"), { write: true, create: true });
    await writeEvents(upper, file.writable);
    const store = createMemoryStore();
    const summary = await exportEvents(["in.parquet"], { store, prefix: "events", cwd: dir });
    strictEqual(summary.ok, true);
    deepStrictEqual(await readDay(store, "2023-03-04"), events);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exportEvents() aborts every day on a fatal input error: nothing is left behind", async () => {
  const store = createMemoryStore();
  const good = ndjson("good.ndjson", jsonOf(twoDays(5)));
  const broken: StreamInput = {
    name: "broken.json",
    stream: ReadableStream.from([encoder.encode('[{"a":1},')]),
  };
  await rejects(
    exportEvents([good, broken], { store, prefix: "events" }),
    /Cannot read "broken.json" line 1: the JSON array is not closed/,
  );
  const left = await Array.fromAsync(store.list(""));
  deepStrictEqual(left, []);
});

Deno.test("exportEvents() replaces an existing day, removing its stale parts", async () => {
  const store = createMemoryStore();
  const events = generateEvents(30, { day: "2023-01-01" });
  await exportEvents([ndjson("a", jsonOf(events))], { store, prefix: "events", partRows: 10 });
  const summary = await exportEvents([ndjson("b", jsonOf(events.slice(0, 5)))], {
    store,
    prefix: "events",
  });
  strictEqual(summary.days[0].parts, 1);
  deepStrictEqual(await readDay(store, "2023-01-01"), events.slice(0, 5));
});

Deno.test("exportEvents() refuses bad options with a message naming the option", async () => {
  const store = createMemoryStore();
  await rejects(
    exportEvents([ndjson("a", [])], { store, maxRejects: -1 }),
    /Invalid maxRejects "-1"/,
  );
  await rejects(exportEvents([ndjson("a", [])], { store, partRows: 0 }), /Invalid partRows "0"/);
  await rejects(exportEvents([ndjson("a", [])], {}), /give a destination URL/);
  await rejects(exportEvents([], { store }), /no input given/);
});

Deno.test("exportEvents() stops with AbortedError when its signal is aborted", async () => {
  const store = createMemoryStore();
  const controller = new AbortController();
  controller.abort();
  await rejects(
    exportEvents([ndjson("a", jsonOf(twoDays(3)))], { store, signal: controller.signal }),
    (e: Error) => e.name === "AbortedError",
  );
});

Deno.test("exportEvents() rejects a repeated insert_id of the same day, naming the first record", async () => {
  const store = createMemoryStore();
  const events = generateEvents(5, { day: "2023-01-01" });
  const again = { ...eventToJson(events[1]), event_key: "other" };
  const nextDay = { ...eventToJson(events[1]), ts: "2023-01-02T00:00:00Z" };
  const summary = await exportEvents([ndjson("in.ndjson", [...jsonOf(events), again, nextDay])], {
    store,
    prefix: "events",
    maxRejects: 1,
  });
  strictEqual(summary.ok, true);
  deepStrictEqual(summary.rejectsByRule, { duplicate_insert_id: 1 });
  strictEqual(
    summary.rejectSamples[0].reasons[0].message,
    'insert_id repeats the record of "in.ndjson" line 2 on the same day',
  );
  deepStrictEqual(summary.days.map((d) => [d.date, d.rows]), [["2023-01-01", 5], [
    "2023-01-02",
    1,
  ]]);
  const report = await validatePartitions(store, {
    prefix: "events",
    from: "2023-01-01",
    to: "2023-01-02",
  });
  strictEqual(report.ok, true);
});

Deno.test("exportEvents() and validatePartitions() refuse a destination that names a dt= folder", async () => {
  await rejects(
    exportEvents([ndjson("a", [])], { to: "memory://dt-check/events/dt=2023-01-01" }),
    /Cannot export to "memory:\/\/dt-check\/events\/dt=2023-01-01": it names a dt= partition/,
  );
  await rejects(
    validatePartitions("memory://dt-check/events/dt=2023-01-01", { dates: ["2023-01-01"] }),
    /it names a dt= partition/,
  );
});

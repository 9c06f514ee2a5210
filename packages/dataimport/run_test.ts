import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { AbortedError, type Event } from "@eventlake/schema";
import { DEFAULT_LAKE_TABLE, readDayManifest, readTableVersion } from "@eventlake/storage/lake";
import { createMemoryStore } from "@eventlake/storage/memory";
import { runImport } from "./run.ts";
import { events, keysUnder, landedIds, writeDay, writePart } from "./_import_testing.ts";

const D = "2023-01-01";
const P = "src/";
const TABLE_DAY = "data_catalog/default/events/dt=2023-01-01/";

function stores() {
  return { source: createMemoryStore(), lake: createMemoryStore() };
}

Deno.test("runImport() lands a ready day, writes the manifest and _VERSION, calls onLanded", async () => {
  const { source, lake } = stores();
  const a = events(50, 1), b = events(30, 2);
  await writeDay(source, P, D, [a, b]);
  const landed: string[] = [];
  const report = await runImport({ store: source, prefix: P }, D, {
    lake: { store: lake },
    onLanded: (ref, date) => void landed.push(`${ref.table}:${date}`),
  });
  strictEqual(report.status, "SUCCEEDED");
  strictEqual(report.rowsRead, 80);
  strictEqual(report.rowsAccepted, 80);
  strictEqual(report.files.length, 2);
  ok(report.files.every((f) => f.etag !== undefined && f.rows !== undefined));
  deepStrictEqual(landed, ["events:2023-01-01"]);
  const manifest = await readDayManifest(lake, DEFAULT_LAKE_TABLE, D);
  strictEqual(manifest?.rows, 80);
  strictEqual(manifest?.runId, report.runId);
  ok(await readTableVersion(lake, DEFAULT_LAKE_TABLE));
  deepStrictEqual(await landedIds(lake, D), [...a, ...b].map((e) => e.insert_id).sort());
});

Deno.test("runImport() waits for a late _SUCCESS with a fake clock and then imports", async () => {
  const { source, lake } = stores();
  await writeDay(source, P, D, [events(10, 1)], { ready: false });
  let clock = 1_000;
  const sleeps: number[] = [];
  const report = await runImport({ store: source, prefix: P }, D, {
    lake: { store: lake },
    deadline: 1_000 + 10 * 60_000,
    pollIntervalMs: 60_000,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
      if (sleeps.length === 3) await source.write(`${P}dt=${D}/_SUCCESS`, new Uint8Array(0));
    },
  });
  strictEqual(report.status, "SUCCEEDED");
  deepStrictEqual(sleeps, [60_000, 60_000, 60_000]);
  strictEqual(report.timings.waitMs, 180_000);
});

Deno.test("runImport() reports MISSING when _SUCCESS never comes by the deadline, lands nothing", async () => {
  const { source, lake } = stores();
  await writeDay(source, P, D, [events(10, 1)], { ready: false });
  let clock = 0;
  const report = await runImport({ store: source, prefix: P }, D, {
    lake: { store: lake },
    deadline: 150_000,
    pollIntervalMs: 60_000,
    now: () => clock,
    sleep: (ms) => {
      clock += ms;
      return Promise.resolve();
    },
  });
  strictEqual(report.status, "MISSING");
  ok(report.error?.message.includes("_SUCCESS is missing"), String(report.error?.message));
  strictEqual(clock, 150_000);
  deepStrictEqual(await keysUnder(lake, ""), []);
  const none = await runImport({ store: source, prefix: "nothing/" }, D, { lake: { store: lake } });
  strictEqual(none.status, "MISSING");
  ok(none.error?.message.includes("no such partition"));
});

Deno.test("runImport() drops duplicates inside a day and against the window's earlier days", async () => {
  const { source, lake } = stores();
  const day1 = events(20, 1, "2022-12-31");
  await writeDay(source, P, "2022-12-31", [day1]);
  strictEqual(
    (await runImport({ store: source, prefix: P }, "2022-12-31", { lake: { store: lake } }))
      .rowsAccepted,
    20,
  );
  const fresh = events(10, 2);
  // Part 0: fresh rows, one of them twice; part 1: three rows of yesterday (one in upper case).
  const again: Event = { ...day1[2], insert_id: day1[2].insert_id.toUpperCase() };
  await writeDay(source, P, D, [[...fresh, fresh[3]], [day1[0], day1[1], again]]);
  const report = await runImport({ store: source, prefix: P }, D, { lake: { store: lake } });
  strictEqual(report.status, "SUCCEEDED");
  strictEqual(report.rowsRead, 14);
  strictEqual(report.rowsAccepted, 10);
  strictEqual(report.rowsDuplicate, 4);
  strictEqual(report.rowsDuplicateEarlier, 3);
  deepStrictEqual(await landedIds(lake, D), fresh.map((e) => e.insert_id).sort());
  // Those resent rows keep yesterday's ts: with the window they are duplicates (above); with a
  // zero-day window their ids are new again, so their ts outside the day rejects them.
  const noWindow = await runImport({ store: source, prefix: P }, D, {
    lake: { store: lake },
    dedupWindowDays: 0,
  });
  strictEqual(noWindow.status, "PARTIAL");
  strictEqual(noWindow.rowsAccepted, 10);
  strictEqual(noWindow.rowsRejected, 3);
  deepStrictEqual(noWindow.reasons.map((r) => r.rule), ["ts_outside_day"]);
  // Moved into the day, they land (upper case lands lowercased).
  await writeDay(source, P, D, [
    [...fresh, fresh[3]],
    [day1[0], day1[1], again].map((e) => ({ ...e, ts: e.ts + 86_400_000 })),
  ]);
  const moved = await runImport({ store: source, prefix: P }, D, {
    lake: { store: lake },
    dedupWindowDays: 0,
  });
  strictEqual(moved.rowsAccepted, 13);
  ok((await landedIds(lake, D)).includes(day1[2].insert_id.toLowerCase()));
});

Deno.test("runImport() re-run of a date replaces the day, never doubles a row, and cleans orphans", async () => {
  const { source, lake } = stores();
  await writeDay(source, P, D, [events(25, 1)]);
  const first = await runImport({ store: source, prefix: P }, D, { lake: { store: lake } });
  // An orphan of a crashed run (written, never in a manifest).
  await lake.write(`${TABLE_DAY}rcrashed-000000.parquet`, new Uint8Array([1, 2, 3]));
  const second = await runImport({ store: source, prefix: P }, D, { lake: { store: lake } });
  strictEqual(second.rowsAccepted, 25);
  const manifest = await readDayManifest(lake, DEFAULT_LAKE_TABLE, D);
  strictEqual(manifest?.rows, 25);
  strictEqual(manifest?.runId, second.runId);
  strictEqual((await landedIds(lake, D)).length, 25);
  const keys = await keysUnder(lake, TABLE_DAY);
  deepStrictEqual(
    keys,
    [
      `${TABLE_DAY}_MANIFEST.json`,
      ...second.landed.map((f) => `data_catalog/default/events/${f.key}`),
    ].sort(),
  );
  ok(!keys.some((k) => k.includes(first.runId)));
});

Deno.test("runImport() rejects bad rows one by one (PARTIAL) with reasons, counts and samples", async () => {
  const { source, lake } = stores();
  const good = events(10, 1);
  const bad: Event[] = [
    { ...good[0], insert_id: "not-a-uuid" },
    { ...good[1], insert_id: crypto.randomUUID(), event_key: "" },
    {
      ...good[2],
      insert_id: crypto.randomUUID(),
      identifiers: { ...good[2].identifiers, User_ID: "x" },
    },
    { ...good[3], insert_id: "also-bad" },
  ];
  await writeDay(source, P, D, [[...good.slice(0, 5), ...bad, ...good.slice(5)]]);
  const report = await runImport({ store: source, prefix: P }, D, { lake: { store: lake } });
  strictEqual(report.status, "PARTIAL");
  strictEqual(report.rowsRead, 14);
  strictEqual(report.rowsAccepted, 10);
  strictEqual(report.rowsRejected, 4);
  const byRule = Object.fromEntries(report.reasons.map((r) => [r.rule, r]));
  strictEqual(byRule["insert_id.uuid"].count, 2);
  deepStrictEqual(byRule["insert_id.uuid"].samples.map((s) => s.row), [5, 8]);
  strictEqual(byRule["insert_id.uuid"].samples[0].file, `${P}dt=${D}/000000000000.parquet`);
  ok(byRule["insert_id.uuid"].samples[0].message.includes("not-a-uuid"));
  strictEqual(byRule["event_key.non_empty"].count, 1);
  strictEqual(byRule["identifiers.key_case"]?.count, 1, JSON.stringify(report.reasons));
  deepStrictEqual(await landedIds(lake, D), good.map((e) => e.insert_id).sort());
});

Deno.test("runImport() fails on a corrupt part and keeps the previous day intact", async () => {
  const { source, lake } = stores();
  await writeDay(source, P, D, [events(10, 1)]);
  const before = await runImport({ store: source, prefix: P }, D, { lake: { store: lake } });
  await writePart(source, `${P}dt=${D}/000000000000.parquet`, events(10, 2));
  const bytes = await source.read(`${P}dt=${D}/000000000000.parquet`);
  // Keep the footer, garble the column data.
  const broken = bytes.slice();
  for (let i = 8; i < Math.min(broken.length - 200, 600); i++) broken[i] = 0xff;
  await source.write(`${P}dt=${D}/000000000001.parquet`, broken);
  const report = await runImport({ store: source, prefix: P }, D, { lake: { store: lake } });
  strictEqual(report.status, "FAILED");
  ok(report.error?.message.includes("000000000001.parquet"), String(report.error?.message));
  const manifest = await readDayManifest(lake, DEFAULT_LAKE_TABLE, D);
  strictEqual(manifest?.runId, before.runId);
  deepStrictEqual(
    (await keysUnder(lake, TABLE_DAY)).filter((k) => k.includes(report.runId)),
    [],
  );
});

Deno.test("runImport() fails on a part of another schema, naming the part and the column", async () => {
  const { source, lake } = stores();
  await writeDay(source, P, D, [events(5, 1)]);
  const wrong = await Deno.readFile(
    new URL("../parquet/testdata/duckdb_metric_double.parquet", import.meta.url),
  );
  await source.write(`${P}dt=${D}/000000000001.parquet`, wrong);
  const report = await runImport({ store: source, prefix: P }, D, { lake: { store: lake } });
  strictEqual(report.status, "FAILED");
  ok(/000000000001\.parquet/.test(report.error?.message ?? ""), String(report.error?.message));
  ok(/metric_value/.test(report.error?.message ?? ""), String(report.error?.message));
  strictEqual(await readDayManifest(lake, DEFAULT_LAKE_TABLE, D), undefined);
});

Deno.test("runImport() aborted mid-land rejects with AbortedError and leaves the old day readable", async () => {
  const { source, lake } = stores();
  await writeDay(source, P, D, [events(30, 1)]);
  const before = await runImport({ store: source, prefix: P }, D, { lake: { store: lake } });
  await writeDay(source, P, D, [events(3000, 2)]);
  const stop = new AbortController();
  await rejects(
    runImport({ store: source, prefix: P }, D, {
      lake: { store: lake },
      signal: stop.signal,
      rowGroupSize: 500,
      onProgress: (p) => {
        if (p.phase === "import" && p.rowsRead >= 1000) stop.abort();
      },
    }),
    AbortedError,
  );
  const manifest = await readDayManifest(lake, DEFAULT_LAKE_TABLE, D);
  strictEqual(manifest?.runId, before.runId);
  strictEqual((await landedIds(lake, D)).length, 30);
  deepStrictEqual(
    (await keysUnder(lake, TABLE_DAY)).filter((k) => !k.includes(before.runId)),
    [`${TABLE_DAY}_MANIFEST.json`],
  );
});

Deno.test("runImport() imports a DuckDB-written part (micros, 16-byte decimals, optional columns)", async () => {
  const { source, lake } = stores();
  const duck = await Deno.readFile(
    new URL("../parquet/testdata/duckdb_events.parquet", import.meta.url),
  );
  await source.write(`${P}dt=${D}/000000000000.parquet`, duck);
  await source.write(`${P}dt=${D}/_SUCCESS`, new Uint8Array(0));
  const report = await runImport({ store: source, prefix: P }, D, { lake: { store: lake } });
  strictEqual(report.rowsRead, 3);
  strictEqual(report.rowsAccepted + report.rowsRejected, 3, JSON.stringify(report.reasons));
  ok(report.variants.includes("ts-micros"), report.variants.join());
  ok(report.status === "SUCCEEDED" || report.status === "PARTIAL");
});

Deno.test("runImport() refuses a part-number gap and a bad window", async () => {
  const { source, lake } = stores();
  await writePart(source, `${P}dt=${D}/000000000001.parquet`, events(3, 1));
  await source.write(`${P}dt=${D}/_SUCCESS`, new Uint8Array(0));
  const report = await runImport({ store: source, prefix: P }, D, { lake: { store: lake } });
  strictEqual(report.status, "FAILED");
  ok(report.error?.message.includes("000000000000.parquet"), String(report.error?.message));
  await rejects(
    runImport({ store: source, prefix: P }, D, { lake: { store: lake }, dedupWindowDays: -1 }),
    /Invalid dedup window "-1"/,
  );
  await rejects(
    runImport({ store: source, prefix: P }, "2023-02-30", { lake: { store: lake } }),
    /no such calendar day/,
  );
});

Deno.test("runImport() counts a row the reader cannot build (null event_key) as row.unreadable", async () => {
  const { source, lake } = stores();
  const bytes = await Deno.readFile(
    new URL("../parquet/testdata/duckdb_null_event_key.parquet", import.meta.url),
  );
  await source.write(`${P}dt=${D}/000000000000.parquet`, bytes);
  await source.write(`${P}dt=${D}/_SUCCESS`, new Uint8Array(0));
  const report = await runImport({ store: source, prefix: P }, D, { lake: { store: lake } });
  strictEqual(report.status, "PARTIAL", JSON.stringify(report));
  const unreadable = report.reasons.find((r) => r.rule === "row.unreadable");
  ok(unreadable && unreadable.count >= 1, JSON.stringify(report.reasons));
  ok(unreadable.samples[0].message.includes("event_key"), unreadable.samples[0].message);
  strictEqual(report.rowsRead, report.rowsAccepted + report.rowsRejected);
});

Deno.test("runImport() with 2 workers: same counts as in-process, failures and abort keep the old day", async () => {
  const { source, lake } = stores();
  const a = events(400, 1), b = events(300, 2);
  const bad: Event = { ...b[0], insert_id: "bad" };
  await writeDay(source, P, D, [[...a, a[1]], [...b, a[2], bad]]);
  const one = await runImport({ store: source, prefix: P }, D, { lake: { store: lake } });
  const two = await runImport({ store: source, prefix: P }, D, {
    lake: { store: lake },
    workers: 2,
    rowGroupSize: 100,
    maxRowsPerFile: 250,
  });
  for (const r of [one, two]) {
    strictEqual(r.status, "PARTIAL");
    deepStrictEqual([r.rowsRead, r.rowsAccepted, r.rowsRejected, r.rowsDuplicate], [
      703,
      700,
      1,
      2,
    ]);
  }
  ok(two.landed.length >= 3, JSON.stringify(two.landed));
  deepStrictEqual(await landedIds(lake, D), [...a, ...b].map((e) => e.insert_id).sort());
  // A corrupt second part fails the run; the landed day stays.
  const bytes = await source.read(`${P}dt=${D}/000000000001.parquet`);
  const broken = bytes.slice();
  for (let i = 8; i < 600; i++) broken[i] = 0xff;
  await source.write(`${P}dt=${D}/000000000001.parquet`, broken);
  const failed = await runImport({ store: source, prefix: P }, D, {
    lake: { store: lake },
    workers: 2,
  });
  strictEqual(failed.status, "FAILED");
  ok(failed.error?.message.includes("000000000001.parquet"), String(failed.error?.message));
  strictEqual((await readDayManifest(lake, DEFAULT_LAKE_TABLE, D))?.runId, two.runId);
  await source.write(`${P}dt=${D}/000000000001.parquet`, bytes);
  const stop = new AbortController();
  await rejects(
    runImport({ store: source, prefix: P }, D, {
      lake: { store: lake },
      workers: 2,
      rowGroupSize: 50,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.phase === "import" && p.rowsRead > 0) stop.abort();
      },
    }),
    AbortedError,
  );
  strictEqual((await readDayManifest(lake, DEFAULT_LAKE_TABLE, D))?.runId, two.runId);
  deepStrictEqual(
    (await keysUnder(lake, TABLE_DAY)).filter((k) => !k.includes(two.runId)),
    [`${TABLE_DAY}_MANIFEST.json`],
  );
});

Deno.test("runImport() rejects rows whose ts is outside the partition's UTC day: PARTIAL, counted and sampled", async () => {
  for (const workers of [1, 2]) {
    const { source, lake } = stores();
    const a = events(20, 1), b = events(20, 2);
    const dayStart = Date.parse(`${D}T00:00:00.000Z`);
    a[3] = { ...a[3], ts: dayStart - 1 }; // 2022-12-31T23:59:59.999Z
    b[5] = { ...b[5], ts: dayStart + 86_400_000 }; // 2023-01-02T00:00:00.000Z
    b[6] = { ...b[6], ts: dayStart + 86_399_999 }; // last ms of the day: kept
    await writeDay(source, P, D, [a, b]);
    const report = await runImport({ store: source, prefix: P }, D, {
      lake: { store: lake },
      workers,
    });
    strictEqual(report.status, "PARTIAL", `workers ${workers}`);
    strictEqual(report.rowsRead, 40);
    strictEqual(report.rowsRejected, 2);
    strictEqual(report.rowsAccepted, 38);
    const reason = report.reasons.find((r) => r.rule === "ts_outside_day");
    strictEqual(reason?.count, 2);
    const messages = reason.samples.map((s) => s.message).sort();
    deepStrictEqual(messages, [
      "ts 2022-12-31T23:59:59.999Z is outside the day 2023-01-01 (UTC)",
      "ts 2023-01-02T00:00:00.000Z is outside the day 2023-01-01 (UTC)",
    ]);
    deepStrictEqual(reason.samples.map((s) => s.row).sort(), [3, 5]);
    const kept = await landedIds(lake, D);
    ok(!kept.includes(a[3].insert_id) && !kept.includes(b[5].insert_id));
    ok(kept.includes(b[6].insert_id));
    strictEqual((await readDayManifest(lake, DEFAULT_LAKE_TABLE, D))?.rows, 38);
  }
});

/**
 * The importer's end-to-end scenario, run against one source backend (local folder, the real S3
 * server, the GCS emulator) into a local lake, partly through the CLI (`run()` in-process) and
 * partly through the library (fake clock for the late `_SUCCESS`, an abort mid-land).
 *
 * @module
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { AbortedError, type Event } from "@eventlake/schema";
import { generateEvents } from "@eventlake/schema/testing";
import { writeEvents } from "@eventlake/parquet";
import {
  createLocalStore,
  DEFAULT_LAKE_TABLE,
  type ObjectStore,
  openStore,
  type OpenStoreConfig,
  readDayManifest,
} from "@eventlake/storage";
import { runImport } from "@eventlake/dataimport";
import { run } from "../apps/cli/cli.ts";
import { memoryIo } from "../apps/cli/_testing.ts";

async function put(store: ObjectStore, key: string, events: Event[]): Promise<void> {
  const pipe = new TransformStream<Uint8Array, Uint8Array>();
  const written = store.write(key, pipe.readable);
  await writeEvents(events, pipe.writable);
  await written;
}

const ready = (store: ObjectStore, prefix: string, date: string) =>
  store.write(`${prefix}dt=${date}/_SUCCESS`, new Uint8Array(0));

/** A Parquet file written by DuckDB (an independent producer): `rows` rows of `date`. */
async function duckdbPart(dir: string, date: string, rows: number): Promise<Uint8Array> {
  const instance = await DuckDBInstance.create(":memory:", {
    home_directory: dir,
    extension_directory: dir,
    threads: "1",
  });
  const con = await instance.connect();
  const file = join(dir, `duck-${date}.parquet`);
  try {
    await con.run(`COPY (
      SELECT TIMESTAMPTZ '${date} 00:00:00+00' + to_milliseconds(i * 1000) AS ts,
        'purchase' AS event_key,
        MAP {'id': 'u' || i, 'device_id': 'd' || i} AS identifiers,
        uuid()::VARCHAR AS insert_id,
        (i * 1.5)::DECIMAL(24,6) AS metric_value,
        MAP {'grade': 'gold'} AS user_properties,
        MAP {'item': '커피 ' || i} AS event_properties,
        MAP {'osname': 'Android', 'appversion': '6.9.0'} AS platform_properties
      FROM range(${rows}) t(i)) TO '${file}' (FORMAT parquet)`);
  } finally {
    con.closeSync();
    instance.closeSync();
  }
  return await Deno.readFile(file);
}

/** Rows of a landed day counted by DuckDB reading our lake files (an independent reader). */
async function duckdbCount(lakeDir: string, dir: string, date: string): Promise<number> {
  const manifest = await readDayManifest(createLocalStore(lakeDir), DEFAULT_LAKE_TABLE, date);
  const files = (manifest?.files ?? []).map((f) =>
    `'${join(lakeDir, "data_catalog/default/events", f.key)}'`
  );
  const instance = await DuckDBInstance.create(":memory:", {
    home_directory: dir,
    extension_directory: dir,
    threads: "1",
  });
  const con = await instance.connect();
  try {
    const reader = await con.runAndReadAll(
      `SELECT count(*), count(DISTINCT insert_id) FROM read_parquet([${files.join(", ")}])`,
    );
    const [rows, distinct] = reader.getRows()[0].map(Number);
    strictEqual(rows, distinct, "DuckDB sees no duplicate insert_id in the landed day");
    return rows;
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

/**
 * The whole scenario: `sourceUrl` is an empty prefix of the backend under test, `config` opens it,
 * `env` carries the same settings for the CLI.
 */
export async function importScenario(
  sourceUrl: string,
  config: OpenStoreConfig,
  env: Record<string, string>,
): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "eventlake-import-e2e-" });
  const lakeDir = join(home, "lake");
  const { store, prefix } = await openStore(sourceUrl, config);
  const lake = { store: createLocalStore(lakeDir) };
  const cli = async (...args: string[]) => {
    const io = memoryIo({ env: { ...env, EVENTLAKE_HOME: home } });
    const code = await run(["import", ...args, "--source", sourceUrl, "--json"], io);
    return { code, io, report: io.stdoutText() ? JSON.parse(io.stdoutText()) : undefined };
  };
  try {
    // Happy path through the CLI, with a pre-flight check first.
    const d1 = generateEvents(300, { seed: 11, day: "2023-01-01" });
    await put(store, `${prefix}dt=2023-01-01/000000000000.parquet`, d1.slice(0, 200));
    await put(store, `${prefix}dt=2023-01-01/000000000001.parquet`, d1.slice(200));
    await ready(store, prefix, "2023-01-01");
    const check = await cli("check");
    strictEqual(check.code, 0, check.io.stderrText());
    strictEqual(check.report.importable, true);
    let r = await cli("run", "--date", "2023-01-01");
    strictEqual(r.code, 0, r.io.stderrText());
    strictEqual(r.report.status, "SUCCEEDED");
    strictEqual(r.report.rowsAccepted, 300);
    ok(r.report.files.every((f: { etag?: string }) => typeof f.etag === "string"));
    strictEqual(await duckdbCount(lakeDir, home, "2023-01-01"), 300);

    // Re-run: the day is replaced, never doubled.
    r = await cli("run", "--date", "2023-01-01");
    strictEqual(r.report.rowsAccepted, 300);
    strictEqual((await readDayManifest(lake.store, DEFAULT_LAKE_TABLE, "2023-01-01"))?.rows, 300);
    strictEqual(await duckdbCount(lakeDir, home, "2023-01-01"), 300);

    // Missing at the deadline (no waiting asked: the deadline is now).
    await put(store, `${prefix}dt=2023-01-03/000000000000.parquet`, d1.slice(0, 5));
    r = await cli("run", "--date", "2023-01-03");
    strictEqual(r.code, 3);
    strictEqual(r.report.status, "MISSING");

    // _SUCCESS appearing late: the run polls (fake clock) and imports once it is there.
    let clock = 0;
    const late = await runImport({ store, prefix }, "2023-01-03", {
      lake,
      deadline: 600_000,
      pollIntervalMs: 60_000,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
        if (clock >= 120_000) await ready(store, prefix, "2023-01-03");
      },
    });
    strictEqual(late.status, "SUCCEEDED");
    strictEqual(clock, 120_000);
    // Its 5 rows repeat ids of 2023-01-01, inside the 7-day window.
    deepStrictEqual([late.rowsAccepted, late.rowsDuplicateEarlier], [0, 5]);

    // Duplicates inside a day and across days; good and bad records mixed.
    const d2 = generateEvents(100, { seed: 22, day: "2023-01-02" });
    const bad: Event = { ...d2[0], insert_id: "not-a-uuid" };
    await put(store, `${prefix}dt=2023-01-02/000000000000.parquet`, [
      ...d2,
      d2[5], // in-day duplicate
      d1[7], // seen on 2023-01-01
      d1[8],
      bad,
    ]);
    await ready(store, prefix, "2023-01-02");
    const mixed = await runImport({ store, prefix }, "2023-01-02", { lake });
    strictEqual(mixed.status, "PARTIAL");
    deepStrictEqual(
      [mixed.rowsRead, mixed.rowsAccepted, mixed.rowsDuplicate, mixed.rowsDuplicateEarlier],
      [104, 100, 3, 2],
    );
    strictEqual(mixed.rowsRejected, 1);
    strictEqual(mixed.reasons[0].rule, "insert_id.uuid");

    // A corrupt part: FAILED, the landed day stays.
    const before = await readDayManifest(lake.store, DEFAULT_LAKE_TABLE, "2023-01-02");
    const good = await store.read(`${prefix}dt=2023-01-02/000000000000.parquet`);
    const corrupt = good.slice();
    for (let i = 16; i < 400; i++) corrupt[i] ^= 0x5a;
    await store.write(`${prefix}dt=2023-01-02/000000000001.parquet`, corrupt);
    const failed = await runImport({ store, prefix }, "2023-01-02", { lake });
    strictEqual(failed.status, "FAILED");
    ok(failed.error?.message.includes("000000000001.parquet"), String(failed.error?.message));
    deepStrictEqual(
      await readDayManifest(lake.store, DEFAULT_LAKE_TABLE, "2023-01-02"),
      before,
    );

    // A part of another schema (metric_value DOUBLE).
    const wrong = await Deno.readFile(
      new URL("../packages/parquet/testdata/duckdb_metric_double.parquet", import.meta.url),
    );
    await store.write(`${prefix}dt=2023-01-02/000000000001.parquet`, wrong);
    const schema = await runImport({ store, prefix }, "2023-01-02", { lake });
    strictEqual(schema.status, "FAILED");
    ok(/metric_value/.test(String(schema.error?.message)), String(schema.error?.message));
    await store.delete(`${prefix}dt=2023-01-02/000000000001.parquet`);

    // Abort mid-land: the previous day stays readable.
    const stop = new AbortController();
    await rejects(
      runImport({ store, prefix }, "2023-01-02", {
        lake,
        signal: stop.signal,
        onProgress: (p) => {
          if (p.phase === "import" && p.rowsRead > 0) stop.abort();
        },
        rowGroupSize: 10,
      }),
      AbortedError,
    );
    deepStrictEqual(
      await readDayManifest(lake.store, DEFAULT_LAKE_TABLE, "2023-01-02"),
      before,
    );
    strictEqual(await duckdbCount(lakeDir, home, "2023-01-02"), 100);

    // A DuckDB-written partition (independent producer).
    await store.write(
      `${prefix}dt=2023-01-05/000000000000.parquet`,
      await duckdbPart(home, "2023-01-05", 250),
    );
    await ready(store, prefix, "2023-01-05");
    const duck = await runImport({ store, prefix }, "2023-01-05", { lake });
    strictEqual(duck.status, "SUCCEEDED", JSON.stringify(duck.reasons));
    strictEqual(duck.rowsAccepted, 250);
    ok(duck.variants.includes("ts-micros"), duck.variants.join());
    strictEqual(await duckdbCount(lakeDir, home, "2023-01-05"), 250);
  } finally {
    await store.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

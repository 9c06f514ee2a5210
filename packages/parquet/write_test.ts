import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import {
  AbortedError,
  type Event,
  type EventMap,
  formatDecimal,
  InvalidArgumentError,
} from "@eventlake/schema";
import { EventBatchWriter, writeEvents, type WriteEventsOptions } from "./write.ts";
import { readEvents } from "./read.ts";
import { bytesSource } from "./source.ts";
import { compareUtf8, utf8Length } from "./_write_bytes.ts";
import { GroupEncoder, PageCompression, RECHECK_PAGES } from "./_write_encode.ts";
import { Bytes } from "./_write_bytes.ts";
import { dataPageCompression } from "./_test_files.ts";
import { EncodeWorker, workerForTests, WriteWorkerPool } from "./_write_pipeline.ts";
import { groupData } from "./_write_wire.ts";

// ------------------------------------------------------------------ helpers

type DuckModule = typeof import("@duckdb/node-api");
let duck: DuckModule | undefined;
let duckProblem = "";
try {
  duck = await import("@duckdb/node-api");
} catch (error) {
  duckProblem = `DuckDB (@duckdb/node-api) cannot load here: ${(error as Error).message}`;
  console.warn(`write_test.ts: interop tests skipped — ${duckProblem}`);
}
/** Interop tests need DuckDB; without it they are registered as ignored (counted as skipped). */
const withDuck = duck === undefined;

const TESTDATA = new URL("./testdata/written/", import.meta.url);

async function writeToBytes(
  events: Iterable<Event> | AsyncIterable<Event>,
  options?: WriteEventsOptions,
) {
  const chunks: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({
    write(c) {
      chunks.push(c);
    },
  });
  const summary = await writeEvents(events, sink, options);
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.length;
  }
  strictEqual(summary.bytes, bytes.length);
  return { bytes, summary };
}

/** Runs `fn` with a DuckDB connection and a temp dir (DuckDB's home is set there: no ~/.duckdb). */
async function withDuckDb<T>(
  fn: (query: (sql: string) => Promise<Record<string, unknown>[]>, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "eventlake_write_test_" });
  const instance = await duck!.DuckDBInstance.create(":memory:", {
    home_directory: dir,
    extension_directory: `${dir}/ext`,
    threads: "1",
  });
  const conn = await instance.connect();
  try {
    return await fn(
      async (sql) =>
        (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[],
      dir,
    );
  } finally {
    conn.closeSync();
    instance.closeSync();
    await Deno.remove(dir, { recursive: true });
  }
}

const MAPS = ["identifiers", "user_properties", "event_properties", "platform_properties"] as const;

/** Reads a Parquet file back through DuckDB, as events with the decimal as text. */
async function readBack(
  query: (sql: string) => Promise<Record<string, unknown>[]>,
  path: string,
): Promise<Record<string, unknown>[]> {
  const rows = await query(
    `SELECT epoch_ms(ts)::VARCHAR AS ts, event_key, insert_id, metric_value::VARCHAR AS metric_value, ` +
      MAPS.map((m) => `map_keys(${m}) AS ${m}_k, map_values(${m}) AS ${m}_v`).join(", ") +
      ` FROM read_parquet('${path}', file_row_number = true) ORDER BY file_row_number`,
  );
  return rows.map((r) => {
    const out: Record<string, unknown> = {
      ts: Number(r.ts),
      event_key: r.event_key,
      insert_id: r.insert_id,
      metric_value: r.metric_value,
    };
    for (const m of MAPS) {
      const keys = r[`${m}_k`] as string[];
      const values = r[`${m}_v`] as (string | null)[];
      out[m] = Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    }
    return out;
  });
}

function expected(events: Event[]): Record<string, unknown>[] {
  return events.map((e) => ({ ...e, metric_value: formatDecimal(e.metric_value) }));
}

function event(i: number, overrides: Partial<Event> = {}): Event {
  return {
    ts: Date.UTC(2023, 0, 1) + i * 1000,
    event_key: ["login", "purchase", "로그인"][i % 3],
    insert_id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    metric_value: BigInt(i) * 1_234_567n - 5_000_000n,
    identifiers: { id: `user_${i % 7}`, device_id: `dev-${i}` },
    user_properties: i % 4 === 0 ? {} : { plan: i % 2 ? "pro" : null, city: "서울" },
    event_properties: i % 5 === 0 ? {} : { item: `item_${i}`, emoji: "😀🎉" },
    platform_properties: { osname: i % 2 ? "ios" : "android", appversion: "1.2.3" },
    ...overrides,
  };
}

/** The 20 fixed events of the golden file. */
function goldenEvents(): Event[] {
  const events = Array.from({ length: 20 }, (_, i) => event(i));
  events[3].metric_value = 123456789012345678123456n; // 123456789012345678.123456
  events[4].metric_value = -1n; // -0.000001
  events[5].metric_value = -999999999999999999999999n; // the smallest DECIMAL(24,6)
  events[6].metric_value = 0n;
  events[7].identifiers = { id: "u", device_id: "d", "ключ": "значение", "키": "" };
  return events;
}

function* manyEvents(count: number, seed = 7): Generator<Event> {
  let s = seed;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  for (let i = 0; i < count; i++) {
    // A random 6-decimal value with up to 12 integer digits, either sign.
    const int = BigInt(Math.floor(rand() * 1e12));
    const frac = BigInt(Math.floor(rand() * 1e6));
    const metric = (int * 1_000_000n + frac) * (rand() < 0.5 ? -1n : 1n);
    const props: EventMap = {};
    const n = Math.floor(rand() * 5);
    for (let k = 0; k < n; k++) {
      props[`k${Math.floor(rand() * 12)}`] = rand() < 0.1 ? null : `v${Math.floor(rand() * 1e6)}`;
    }
    yield event(i, {
      ts: Date.UTC(2024, 5, 1) + Math.floor(rand() * 86_400_000),
      insert_id: crypto.randomUUID(),
      metric_value: metric,
      event_properties: props,
    });
  }
}

// ------------------------------------------------------------------ interop

Deno.test({
  name: "writeEvents() writes a file DuckDB reads with the Data Import types and identical values",
  ignore: withDuck,
  async fn() {
    const events = goldenEvents();
    const { bytes, summary } = await writeToBytes(events, { rowGroupSize: 7 });
    deepStrictEqual(summary, {
      rows: 20,
      rowGroups: 3,
      bytes: bytes.length,
      minTs: events[0].ts,
      maxTs: events[19].ts,
    });
    await withDuckDb(async (query, dir) => {
      const path = `${dir}/golden.parquet`;
      await Deno.writeFile(path, bytes);
      const types = await query(`DESCRIBE SELECT * FROM '${path}'`);
      deepStrictEqual(types.map((t) => [t.column_name, t.column_type]), [
        ["ts", "TIMESTAMP WITH TIME ZONE"],
        ["event_key", "VARCHAR"],
        ["identifiers", "MAP(VARCHAR, VARCHAR)"],
        ["insert_id", "VARCHAR"],
        ["metric_value", "DECIMAL(24,6)"],
        ["user_properties", "MAP(VARCHAR, VARCHAR)"],
        ["event_properties", "MAP(VARCHAR, VARCHAR)"],
        ["platform_properties", "MAP(VARCHAR, VARCHAR)"],
      ]);
      deepStrictEqual(await readBack(query, path), expected(events));
      const [m] = await query(
        `SELECT metric_value::VARCHAR AS v FROM '${path}' WHERE insert_id = '${
          events[3].insert_id
        }'`,
      );
      strictEqual(m.v, "123456789012345678.123456");
    });
  },
});

Deno.test({
  name:
    "writeEvents() writes the physical schema: REQUIRED columns, INT64 TIMESTAMP(MILLIS, UTC), FIXED_LEN_BYTE_ARRAY(11), SNAPPY",
  ignore: withDuck,
  async fn() {
    const { bytes } = await writeToBytes(goldenEvents());
    await withDuckDb(async (query, dir) => {
      const path = `${dir}/schema.parquet`;
      await Deno.writeFile(path, bytes);
      const schema = await query(
        `SELECT name, type, type_length, repetition_type, converted_type, logical_type FROM parquet_schema('${path}')`,
      );
      const byName = (name: string) => schema.filter((s) => s.name === name);
      const [ts] = byName("ts");
      strictEqual(ts.type, "INT64");
      strictEqual(ts.repetition_type, "REQUIRED");
      ok(String(ts.logical_type).includes("isAdjustedToUTC=1"), String(ts.logical_type));
      ok(/MILLIS=MilliSeconds\(\)/.test(String(ts.logical_type)), String(ts.logical_type));
      const [metric] = byName("metric_value");
      strictEqual(metric.type, "FIXED_LEN_BYTE_ARRAY");
      strictEqual(String(metric.type_length), "11");
      strictEqual(metric.converted_type, "DECIMAL");
      ok(
        String(metric.logical_type).includes("scale=6, precision=24"),
        String(metric.logical_type),
      );
      for (const name of ["ts", "event_key", "insert_id", "metric_value", ...MAPS]) {
        strictEqual(byName(name)[0].repetition_type, "REQUIRED", name);
      }
      for (const m of MAPS) strictEqual(byName(m)[0].converted_type, "MAP");
      deepStrictEqual(byName("key_value").map((s) => s.repetition_type), Array(4).fill("REPEATED"));
      deepStrictEqual(byName("key").map((s) => s.repetition_type), Array(4).fill("REQUIRED"));
      deepStrictEqual(byName("value").map((s) => s.repetition_type), Array(4).fill("OPTIONAL"));
      const codecs = await query(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
      deepStrictEqual(codecs.map((c) => c.compression), ["SNAPPY"]);
      const [meta] = await query(`SELECT created_by FROM parquet_file_metadata('${path}')`);
      ok(
        /^eventlake \S+ \(hyparquet-writer \S+\)$/.test(String(meta.created_by)),
        String(meta.created_by),
      );
    });
  },
});

Deno.test({
  name: "writeEvents() keeps 10,000 random 6-decimal values exact across many row groups",
  ignore: withDuck,
  async fn() {
    const events = Array.from(manyEvents(10_000));
    const { bytes, summary } = await writeToBytes(events, { rowGroupSize: 997 });
    strictEqual(summary.rowGroups, 11);
    await withDuckDb(async (query, dir) => {
      const path = `${dir}/many.parquet`;
      await Deno.writeFile(path, bytes);
      deepStrictEqual(await readBack(query, path), expected(events));
      const [groups] = await query(
        `SELECT num_row_groups::VARCHAR AS n FROM parquet_file_metadata('${path}')`,
      );
      strictEqual(groups.n, "11");
    });
  },
});

Deno.test({
  name: "writeEvents() statistics let DuckDB prune row groups without changing results",
  ignore: withDuck,
  async fn() {
    const events = Array.from(manyEvents(5_000, 99));
    const { bytes } = await writeToBytes(events, { rowGroupSize: 500 });
    await withDuckDb(async (query, dir) => {
      const path = `${dir}/stats.parquet`;
      await Deno.writeFile(path, bytes);
      const stats = await query(
        `SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value FROM parquet_metadata('${path}') ` +
          `WHERE path_in_schema IN ('ts', 'metric_value', 'insert_id') ORDER BY row_group_id`,
      );
      for (let g = 0; g < 10; g++) {
        const group = events.slice(g * 500, (g + 1) * 500);
        const ts = group.map((e) => e.ts);
        const metric = group.map((e) => e.metric_value);
        const ids = group.map((e) => e.insert_id).sort(compareUtf8);
        const row = (p: string) =>
          stats.find((s) => Number(s.row_group_id) === g && s.path_in_schema === p)!;
        const tsMin = String(row("ts").stats_min_value).replace(" ", "T").replace("+00", "Z");
        strictEqual(new Date(tsMin).getTime(), Math.min(...ts));
        strictEqual(
          row("metric_value").stats_max_value,
          formatDecimal(metric.reduce((a, b) => (a > b ? a : b))),
        );
        strictEqual(
          row("metric_value").stats_min_value,
          formatDecimal(metric.reduce((a, b) => (a < b ? a : b))),
        );
        strictEqual(row("insert_id").stats_min_value, ids[0].slice(0, 16));
      }
      const lo = Date.UTC(2024, 5, 1, 6);
      const hi = Date.UTC(2024, 5, 1, 7);
      const [count] = await query(
        `SELECT count(*)::VARCHAR AS n FROM '${path}' WHERE ts >= epoch_ms(${lo}) AND ts < epoch_ms(${hi})`,
      );
      strictEqual(Number(count.n), events.filter((e) => e.ts >= lo && e.ts < hi).length);
      const [neg] = await query(
        `SELECT count(*)::VARCHAR AS n FROM '${path}' WHERE metric_value < -500000000000`,
      );
      strictEqual(
        Number(neg.n),
        events.filter((e) => e.metric_value < -500_000_000_000_000_000n).length,
      );
    });
  },
});

Deno.test({
  name:
    "writeEvents() splits large columns into pages at row boundaries and falls back from dictionary to PLAIN",
  ignore: withDuck,
  async fn() {
    // 20,000 distinct 100-byte ids (> 1 MiB of PLAIN, > 16,384 dictionary entries), long repetitive
    // map values (Snappy copies longer than 64 bytes) and big maps: several pages per column chunk.
    const long = "ab".repeat(150);
    const events = Array.from({ length: 20_000 }, (_, i) =>
      event(i, {
        insert_id: `${i}-`.padEnd(100, "x"),
        event_properties: Object.fromEntries(
          Array.from({ length: i % 9 }, (_, k) => [`key${k}`, k === 3 ? null : `${long}${i % 50}`]),
        ),
      }));
    const { bytes } = await writeToBytes(events, { rowGroupSize: 18_000 });
    await withDuckDb(async (query, dir) => {
      const path = `${dir}/pages.parquet`;
      await Deno.writeFile(path, bytes);
      deepStrictEqual(await readBack(query, path), expected(events));
      const encodings = await query(
        `SELECT row_group_id, encodings FROM parquet_metadata('${path}') WHERE path_in_schema = 'insert_id' ORDER BY 1`,
      );
      deepStrictEqual(encodings.map((e) => e.encodings), ["PLAIN", "PLAIN"]);
    });
  },
});

Deno.test({
  name:
    "writeEvents() keeps non-ASCII strings exact in PLAIN columns (bulk-encoded, short and long)",
  ignore: withDuck,
  async fn() {
    // 17,000 distinct values per column: past the dictionary limit, so PLAIN; 2-, 3- and
    // 4-byte UTF-8 in values shorter and longer than 128 UTF-16 units.
    const events = Array.from({ length: 17_000 }, (_, i) =>
      event(i, {
        insert_id: i % 2 ? `아이디-${i}-😀` : `id-${i}`,
        identifiers: {
          id: i % 3 === 0 ? `ü${"한😀".repeat(50)}${i}` : `u${i}é`,
          device_id: `d${i}`,
        },
      }));
    const { bytes } = await writeToBytes(events, { rowGroupSize: 17_000 });
    await withDuckDb(async (query, dir) => {
      const path = `${dir}/utf8.parquet`;
      await Deno.writeFile(path, bytes);
      deepStrictEqual(await readBack(query, path), expected(events));
      const encodings = await query(
        `SELECT path_in_schema, encodings FROM parquet_metadata('${path}') ` +
          `WHERE path_in_schema IN ('insert_id', 'identifiers, key_value, value') ORDER BY 1`,
      );
      deepStrictEqual(encodings.map((e) => e.encodings), ["PLAIN", "PLAIN"]);
    });
  },
});

Deno.test({
  name: "EventBatchWriter writes a correct file when rows are appended without draining",
  ignore: withDuck,
  async fn() {
    const events = Array.from(manyEvents(2_500, 3));
    const chunks: Uint8Array[] = [];
    const writer = new EventBatchWriter(
      new WritableStream<Uint8Array>({
        write(c) {
          chunks.push(c);
        },
      }),
      { rowGroupSize: 1_000 },
    );
    let full = 0;
    for (const e of events) if (writer.append(e)) full++;
    strictEqual(full, 2);
    const summary = await writer.close();
    strictEqual(summary.rowGroups, 3);
    await withDuckDb(async (query, dir) => {
      const path = `${dir}/nodrain.parquet`;
      await Deno.writeFile(
        path,
        new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer()),
      );
      deepStrictEqual(await readBack(query, path), expected(events));
    });
  },
});

Deno.test({
  name: "writeEvents() writes UNCOMPRESSED pages when asked",
  ignore: withDuck,
  async fn() {
    const events = goldenEvents();
    const { bytes } = await writeToBytes(events, { compression: "UNCOMPRESSED" });
    await withDuckDb(async (query, dir) => {
      const path = `${dir}/plain.parquet`;
      await Deno.writeFile(path, bytes);
      deepStrictEqual(await readBack(query, path), expected(events));
      const codecs = await query(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
      deepStrictEqual(codecs.map((c) => c.compression), ["UNCOMPRESSED"]);
    });
  },
});

Deno.test({
  name: "writeEvents() of an empty iterable writes a valid 0-row file",
  ignore: withDuck,
  async fn() {
    const { bytes, summary } = await writeToBytes([]);
    deepStrictEqual(summary, {
      rows: 0,
      rowGroups: 0,
      bytes: bytes.length,
      minTs: undefined,
      maxTs: undefined,
    });
    await withDuckDb(async (query, dir) => {
      const path = `${dir}/empty.parquet`;
      await Deno.writeFile(path, bytes);
      const [count] = await query(`SELECT count(*)::VARCHAR AS n FROM '${path}'`);
      strictEqual(count.n, "0");
      const types = await query(`DESCRIBE SELECT * FROM '${path}'`);
      strictEqual(types.length, 8);
    });
  },
});

Deno.test({
  name:
    "writeEvents() still writes the golden file's content (testdata/written/golden_20.parquet; EVENTLAKE_UPDATE_GOLDEN=1 rewrites it)",
  ignore: withDuck,
  async fn() {
    const { bytes } = await writeToBytes(goldenEvents(), { rowGroupSize: 7 });
    if (Deno.env.get("EVENTLAKE_UPDATE_GOLDEN") === "1") {
      await Deno.mkdir(TESTDATA, { recursive: true });
      await Deno.writeFile(new URL("golden_20.parquet", TESTDATA), bytes);
    }
    const golden = await Deno.readFile(new URL("golden_20.parquet", TESTDATA));
    await withDuckDb(async (query, dir) => {
      await Deno.writeFile(`${dir}/now.parquet`, bytes);
      await Deno.writeFile(`${dir}/golden.parquet`, golden);
      deepStrictEqual(
        await readBack(query, `${dir}/now.parquet`),
        await readBack(query, `${dir}/golden.parquet`),
      );
      deepStrictEqual(await readBack(query, `${dir}/golden.parquet`), expected(goldenEvents()));
    });
    // Not required, but a change here means the encoding changed: worth a look.
    if (bytes.length !== golden.length || bytes.some((b, i) => b !== golden[i])) {
      console.warn("golden_20.parquet: same content, different bytes (encoding changed)");
    }
  },
});

// ------------------------------------------------------------------ behaviour without DuckDB

Deno.test("writeEvents() starts and ends the file with PAR1 and streams each column chunk as soon as it is encoded", async () => {
  const chunks: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({
    write(c) {
      chunks.push(c);
    },
  });
  const summary = await writeEvents(manyEvents(2_500), sink, { rowGroupSize: 1_000 });
  strictEqual(summary.rowGroups, 3);
  strictEqual(chunks.length, 3 * 8 + 1); // 8 top-level columns per row group, then the footer
  const file = new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer());
  const magic = (at: number) => new TextDecoder().decode(file.subarray(at, at + 4));
  strictEqual(magic(0), "PAR1");
  strictEqual(magic(file.length - 4), "PAR1");
});

Deno.test("writeEvents() rejects a non-integer ts with InvalidArgumentError naming the row and field", async () => {
  const events = [event(0), event(1), event(2, { ts: 1.5 })];
  let aborted: unknown;
  const sink = new WritableStream<Uint8Array>({
    abort(reason) {
      aborted = reason;
    },
  });
  const error = await rejects(writeEvents(events, sink), (e: unknown) => {
    ok(e instanceof InvalidArgumentError);
    strictEqual(
      e.message,
      'Cannot write event 2: field "ts" must be an integer of epoch milliseconds, got 1.5',
    );
    deepStrictEqual(e.details, { row: 2, field: "ts" });
    return true;
  });
  strictEqual(error, undefined);
  ok(aborted instanceof InvalidArgumentError, "the sink is aborted, so no complete file is left");
});

Deno.test("writeEvents() rejects a metric_value out of DECIMAL(24,6) range with InvalidArgumentError", async () => {
  const events = [event(0), event(1, { metric_value: 10n ** 24n })];
  await rejects(writeEvents(events, new WritableStream()), (e: unknown) => {
    ok(e instanceof InvalidArgumentError);
    ok(e.message.startsWith('Cannot write event 1: field "metric_value" must be'), e.message);
    return true;
  });
  await rejects(
    writeEvents([event(0, { metric_value: 1.5 as unknown as bigint })], new WritableStream()),
    /Cannot write event 0: field "metric_value" must be an unscaled DECIMAL\(24,6\) bigint/,
  );
});

Deno.test("writeEvents() rejects a map value that is not a string or null, naming the key", async () => {
  const bad = event(4, { user_properties: { age: 42 as unknown as string } });
  await rejects(
    writeEvents([event(0), bad], new WritableStream()),
    (e: unknown) =>
      e instanceof InvalidArgumentError &&
      e.message ===
        'Cannot write event 1: field "user_properties.age" must be a string or null, got 42',
  );
  await rejects(
    writeEvents([event(0, { identifiers: null as unknown as EventMap })], new WritableStream()),
    /Cannot write event 0: field "identifiers" must be an object of string values, got null/,
  );
});

Deno.test("writeEvents() stops writing and rejects with AbortedError when its signal aborts mid-write", async () => {
  const controller = new AbortController();
  let writes = 0;
  let abortedWith: unknown;
  const sink = new WritableStream<Uint8Array>({
    write() {
      writes++;
    },
    abort(reason) {
      abortedWith = reason;
    },
  });
  let pulled = 0;
  async function* source(): AsyncGenerator<Event> {
    for (const e of manyEvents(100_000)) {
      pulled++;
      if (pulled === 2_500) controller.abort(new Error("user cancelled"));
      yield e;
    }
  }
  await rejects(
    writeEvents(source(), sink, { rowGroupSize: 1_000, signal: controller.signal }),
    (e: unknown) => {
      ok(e instanceof AbortedError, String(e));
      return true;
    },
  );
  ok(pulled <= 2_501, `stopped pulling events (pulled ${pulled})`);
  strictEqual(
    writes,
    2 * 8,
    "the two complete row groups (8 columns each) before the abort, then nothing",
  );
  ok(abortedWith instanceof AbortedError);
});

Deno.test("writeEvents() rejects at once when its signal is already aborted (sync iterable)", async () => {
  const controller = new AbortController();
  controller.abort();
  let writes = 0;
  const sink = new WritableStream<Uint8Array>({
    write() {
      writes++;
    },
  });
  await rejects(writeEvents(manyEvents(10), sink, { signal: controller.signal }), AbortedError);
  strictEqual(writes, 0);
});

Deno.test("EventBatchWriter refuses rows after a failed append", () => {
  const writer = new EventBatchWriter(new WritableStream());
  throws(
    () => writer.append(event(0, { insert_id: 7 as unknown as string })),
    InvalidArgumentError,
  );
  throws(() => writer.append(event(1)), /Cannot write events: the writer failed earlier/);
});

Deno.test("EventBatchWriter refuses a row group size that is not a positive integer", () => {
  throws(
    () => new EventBatchWriter(new WritableStream(), { rowGroupSize: 0 }),
    InvalidArgumentError,
  );
  throws(
    () => new EventBatchWriter(new WritableStream(), { rowGroupSize: 1.5 }),
    InvalidArgumentError,
  );
});

Deno.test("compareUtf8() orders strings by code point, as Parquet statistics need", () => {
  // U+FF5E (one UTF-16 unit) < U+1F600 (a surrogate pair) in UTF-8, not in UTF-16.
  ok(compareUtf8("\uff5e", "😀") < 0);
  ok("\uff5e" > "😀");
  ok(compareUtf8("a", "ab") < 0);
  strictEqual(compareUtf8("같다", "같다"), 0);
  strictEqual(utf8Length("a서😀"), 1 + 3 + 4);
});

Deno.test("EventBatchWriter uses its options' signal for drain() and close()", async () => {
  const controller = new AbortController();
  let aborted = false;
  const sink = new WritableStream<Uint8Array>({
    abort() {
      aborted = true;
    },
  });
  const writer = new EventBatchWriter(sink, { signal: controller.signal });
  writer.append(event(0));
  controller.abort();
  await rejects(writer.close(), AbortedError);
  ok(aborted, "the sink is aborted");
});

// ------------------------------------------------------------------ the write worker

/**
 * Events that exercise every encoder path: empty maps, null values, non-ASCII, many distinct
 * values (past the dictionary limit). The same events on every call (manyEvents' insert_ids
 * are random).
 */
const mixedEvents = (() => {
  const events = Array.from(manyEvents(20_000, 11), (e, i) => {
    if (i % 97 === 0) e.identifiers = { id: "🙂".repeat(70), device_id: `d${i}`, extra: null };
    if (i % 13 === 0) e.platform_properties = {};
    return e;
  });
  return (count: number) => events.slice(0, count);
})();

for (
  const [name, options] of [
    ["row groups of 1,000", { rowGroupSize: 1_000 }],
    ["row groups of 10,000", { rowGroupSize: 10_000 }],
    ["UNCOMPRESSED pages", { rowGroupSize: 2_000, compression: "UNCOMPRESSED" }],
    ["a row group of one row", { rowGroupSize: 1 }],
  ] as const
) {
  Deno.test(`writeEvents() with a worker writes the same bytes as on one thread (${name})`, async () => {
    // 5,500 rows end in a partial row group; 20,000 pass the dictionary limit.
    const count = options.rowGroupSize === 1 ? 30 : options.rowGroupSize === 1_000 ? 5_500 : 20_000;
    const one = await writeToBytes(mixedEvents(count), { ...options, worker: false });
    const two = await writeToBytes(mixedEvents(count), { ...options, worker: true });
    deepStrictEqual(two.summary, one.summary);
    strictEqual(two.bytes.length, one.bytes.length);
    ok(two.bytes.every((b, i) => b === one.bytes[i]), "identical bytes");
  });
}

Deno.test("EventBatchWriter with a worker writes the same bytes when rows are appended without draining", async () => {
  const write = async (worker: boolean) => {
    const chunks: Uint8Array[] = [];
    const writer = new EventBatchWriter(
      new WritableStream<Uint8Array>({
        write(c) {
          chunks.push(c);
        },
      }),
      { rowGroupSize: 700, worker },
    );
    for (const e of mixedEvents(4_000)) writer.append(e);
    const summary = await writer.close();
    return { summary, bytes: new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer()) };
  };
  const one = await write(false);
  const two = await write(true);
  strictEqual(two.summary.rowGroups, 6);
  deepStrictEqual(two.summary, one.summary);
  ok(
    two.bytes.length === one.bytes.length && two.bytes.every((b, i) => b === one.bytes[i]),
    "identical bytes",
  );
});

Deno.test("writeEvents() with a worker stops and rejects with AbortedError when its signal aborts", async () => {
  const controller = new AbortController();
  let abortedWith: unknown;
  const sink = new WritableStream<Uint8Array>({
    abort(reason) {
      abortedWith = reason;
    },
  });
  let pulled = 0;
  function* source(): Generator<Event> {
    for (const e of manyEvents(20_000)) {
      if (++pulled === 5_500) controller.abort(new Error("user cancelled"));
      yield e;
    }
  }
  await rejects(
    writeEvents(source(), sink, { rowGroupSize: 1_000, signal: controller.signal, worker: true }),
    AbortedError,
  );
  ok(pulled <= 6_024, `stopped pulling events (pulled ${pulled})`);
  ok(abortedWith instanceof AbortedError);
});

Deno.test("an error thrown while encoding in the write worker is the error encoding here throws", async () => {
  // A row group without its map columns: encoding it throws a TypeError on either thread.
  const broken = {
    rows: 1,
    ts: new Float64Array(1),
    tsMin: 0,
    tsMax: 0,
    metric: new Uint8Array(11),
    metricMin: 0n,
    metricMax: 0n,
    eventKey: emptyStringWire(),
    insertId: emptyStringWire(),
    maps: [],
  };
  let here: unknown;
  try {
    for (const _ of new GroupEncoder("SNAPPY", "test").encode(groupData(broken))) { /* all */ }
  } catch (error) {
    here = error;
  }
  ok(here instanceof TypeError, String(here));
  const worker = EncodeWorker.start("SNAPPY", "test", () => {});
  ok(worker !== undefined);
  try {
    await rejects(worker.encode(broken), (error: unknown) => {
      ok(error instanceof TypeError, String(error));
      strictEqual(error.message, (here as TypeError).message);
      return true;
    });
    // The worker refuses further work once it failed.
    await rejects(worker.finish(), TypeError);
  } finally {
    worker.stop();
  }
});

function emptyStringWire() {
  return {
    count: 0,
    dictMode: true,
    dictValues: [],
    indices: new Uint16Array(1),
    plain: new Uint8Array(1),
    plainPos: 0,
  };
}

/** Runs `code` (with `writeEvents`, `manyEvents` in scope) in a child Deno; its exit code. */
async function runChild(code: string): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "eventlake_write_worker_" });
  try {
    const script = `${dir}/child.ts`;
    const writeUrl = new URL("./write.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { writeEvents } from ${JSON.stringify(writeUrl)};\n` +
        `function* manyEvents(n: number) {\n` +
        `  for (let i = 0; i < n; i++) yield {\n` +
        `    ts: 1700000000000 + i, event_key: "e" + (i % 5), insert_id: crypto.randomUUID(),\n` +
        `    metric_value: BigInt(i), identifiers: { id: "u" + i, device_id: "d" },\n` +
        `    user_properties: {}, event_properties: { k: "v" + (i % 9) },\n` +
        `    platform_properties: { osname: "ios", appversion: "1" },\n` +
        `  };\n}\n` + code,
    );
    const config = new URL("../../deno.json", import.meta.url);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", config.pathname, script],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // A leaked worker keeps the child alive: fail after a minute instead of hanging.
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const out = await child.output();
    clearTimeout(timer);
    return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the write worker ends when the write completes, is aborted or fails, so the process can exit", async () => {
  const sink = `new WritableStream({ write() {} })`;
  const cases = [
    `await writeEvents(manyEvents(5_000), ${sink}, { rowGroupSize: 1_000, worker: true });`,
    `const c = new AbortController();
     const events = (function* () { let i = 0; for (const e of manyEvents(50_000)) { if (++i === 2_500) c.abort(); yield e; } })();
     await writeEvents(events, ${sink}, { rowGroupSize: 1_000, worker: true, signal: c.signal }).catch(() => {});`,
    `const events = (function* () { let i = 0; for (const e of manyEvents(50_000)) { if (++i === 2_500) e.ts = 0.5; yield e; } })();
     await writeEvents(events, ${sink}, { rowGroupSize: 1_000, worker: true }).catch(() => {});`,
  ];
  for (const code of cases) {
    const result = await runChild(code);
    strictEqual(result.code, 0, `the child exited by itself: ${result.stderr}`);
  }
});

Deno.test("a write worker that cannot load says so (the writer then encodes on its own thread)", async () => {
  // A worker module that fails to load, as a missing one in a compiled executable does.
  const missing = new URL("data:application/javascript,throw new Error('not here')");
  const worker = EncodeWorker.start("SNAPPY", "test", () => {}, undefined, missing);
  ok(worker !== undefined);
  try {
    strictEqual(await worker.ready, false);
    strictEqual(worker.loaded, false);
  } finally {
    worker.stop();
  }
  const loaded = EncodeWorker.start("SNAPPY", "test", () => {});
  ok(loaded !== undefined);
  try {
    strictEqual(await loaded.ready, true);
  } finally {
    loaded.stop();
  }
});

Deno.test("writeEvents() keeps keys and values that the writer's caches could mistake: NUL, empty, colliding, repeated across row groups", async () => {
  const events: Event[] = [];
  for (let i = 0; i < 3_000; i++) {
    // Keys in changing orders and sets; values that repeat per key, an empty string, "\0".
    const props: EventMap = {};
    const keys = ["\u0000", "", "a", "b", "ab", "ba", `k${i % 7}`];
    for (let k = 0; k < keys.length; k++) {
      const key = keys[(k + i) % keys.length];
      if ((i + k) % 5 === 0) continue;
      props[key] = (i + k) % 11 === 0 ? null : ["\u0000", "", "x", "xx", `v${i % 13}`][(i * k) % 5];
    }
    events.push(
      event(i, { event_key: ["\u0000", "", "e", `e${i % 3}`][i % 4], event_properties: props }),
    );
  }
  const { bytes } = await writeToBytes(events, { rowGroupSize: 700 });
  const back: Event[] = [];
  for await (const e of readEvents(bytesSource(bytes))) back.push(e);
  strictEqual(back.length, events.length);
  for (let i = 0; i < events.length; i++) {
    deepStrictEqual(back[i].event_key, events[i].event_key, `event ${i}: event_key`);
    deepStrictEqual(back[i].event_properties, events[i].event_properties, `event ${i}`);
  }
});

Deno.test("writeEvents() with a worker that cannot load encodes on its own thread and writes the same bytes", async () => {
  const events = mixedEvents(5_500);
  const one = await writeToBytes(events, { rowGroupSize: 1_000, worker: false });
  workerForTests.url = new URL("data:application/javascript,throw new Error('not here')");
  try {
    const two = await writeToBytes(events, { rowGroupSize: 1_000, worker: true });
    deepStrictEqual(two.summary, one.summary);
    ok(
      two.bytes.length === one.bytes.length && two.bytes.every((b, i) => b === one.bytes[i]),
      "identical bytes",
    );
  } finally {
    workerForTests.url = undefined;
  }
});

Deno.test("PageCompression stores a page Snappy cannot shrink by 10% as it is, and tries again after RECHECK_PAGES pages", () => {
  const random = crypto.getRandomValues(new Uint8Array(4096));
  const repetitive = new TextEncoder().encode("osname=ios;appversion=1.2.3;".repeat(150));
  const pages = new PageCompression(2);
  const scratch = new Bytes();
  // Leaf 0: a random page is poor; the next RECHECK_PAGES pages are not even tried.
  strictEqual(pages.body(0, random, scratch), random);
  for (let i = 0; i < RECHECK_PAGES; i++) {
    strictEqual(pages.body(0, repetitive, scratch), repetitive);
  }
  // Then Snappy is tried again, and a compressible page is compressed.
  const packed = pages.body(0, repetitive, scratch);
  ok(packed !== repetitive && packed.length < repetitive.length / 5, String(packed.length));
  // Each leaf keeps its own verdict.
  ok(pages.body(1, repetitive, scratch) !== repetitive);
  strictEqual(pages.body(1, random, scratch), random);
  strictEqual(pages.body(0, random, scratch), random);
});

Deno.test({
  name:
    "writeEvents() stores insert_id pages uncompressed (random UUIDs) and compressible columns with Snappy; readEvents and DuckDB read both",
  ignore: withDuck,
  async fn() {
    // 20 row groups: more than RECHECK_PAGES, so the recheck happens inside the file.
    const events = Array.from(manyEvents(4000, 11));
    const { bytes } = await writeToBytes(events, { rowGroupSize: 200 });
    const insertIds = dataPageCompression(bytes, "insert_id");
    strictEqual(insertIds.length, 20);
    for (const flags of insertIds) deepStrictEqual(flags, [false]);
    for (const flags of dataPageCompression(bytes, "platform_properties.key_value.key")) {
      deepStrictEqual(flags, [true]);
    }
    const back: Event[] = [];
    for await (const e of readEvents(bytesSource(bytes))) back.push(e);
    deepStrictEqual(back, events);
    await withDuckDb(async (query, dir) => {
      const path = `${dir}/mixed.parquet`;
      await Deno.writeFile(path, bytes);
      deepStrictEqual(await readBack(query, path), expected(events));
    });
  },
});

/** A pool that records, per write that took a worker from it, whether that worker was warm. */
class RecordingWritePool extends WriteWorkerPool {
  taken: (Worker | undefined)[] = [];
  override take(): Worker | undefined {
    const worker = super.take();
    this.taken.push(worker);
    return worker;
  }
}

Deno.test("writes given a WriteWorkerPool reuse its warm worker from file to file and write the same bytes", async () => {
  const pool = new RecordingWritePool();
  try {
    const one = await writeToBytes(mixedEvents(5_500), { rowGroupSize: 1_000 });
    const first = await writeToBytes(mixedEvents(5_500), { rowGroupSize: 1_000, workerPool: pool });
    strictEqual(pool.idle, 1);
    const second = await writeToBytes(mixedEvents(5_500), {
      rowGroupSize: 1_000,
      workerPool: pool,
    });
    strictEqual(pool.idle, 1);
    // The first write started a worker; the second took it back from the pool.
    strictEqual(pool.taken.length, 2);
    strictEqual(pool.taken[0], undefined);
    ok(pool.taken[1] !== undefined);
    for (const w of [first, second]) {
      deepStrictEqual(w.summary, one.summary);
      ok(
        w.bytes.length === one.bytes.length && w.bytes.every((b, i) => b === one.bytes[i]),
        "identical bytes",
      );
    }
    // A file too small to start a worker leaves the pool as it was.
    await writeToBytes(mixedEvents(100), { rowGroupSize: 1_000, workerPool: pool });
    strictEqual(pool.taken.length, 2);
    strictEqual(pool.idle, 1);
  } finally {
    pool.close();
  }
  strictEqual(pool.idle, 0);
  await rejects(
    writeToBytes(mixedEvents(10), { workerPool: pool }),
    (e: Error) => e instanceof InvalidArgumentError && /pool is closed/.test(e.message),
  );
});

Deno.test("an aborted write does not give its worker back to the pool", async () => {
  const pool = new WriteWorkerPool();
  try {
    const controller = new AbortController();
    let pulled = 0;
    const source = function* (): Generator<Event> {
      for (const e of manyEvents(20_000)) {
        if (++pulled === 5_500) controller.abort(new Error("user cancelled"));
        yield e;
      }
    };
    await rejects(
      writeEvents(source(), new WritableStream(), {
        rowGroupSize: 1_000,
        workerPool: pool,
        signal: controller.signal,
      }),
      AbortedError,
    );
    strictEqual(pool.idle, 0);
    // The pool still serves the next write.
    await writeToBytes(mixedEvents(3_000), { rowGroupSize: 1_000, workerPool: pool });
    strictEqual(pool.idle, 1);
  } finally {
    pool.close();
  }
  throws(() => new WriteWorkerPool({ size: -1 }), InvalidArgumentError);
});

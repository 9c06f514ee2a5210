import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import {
  AbortedError,
  type Event,
  EVENT_COLUMNS,
  formatDecimal,
  InvalidArgumentError,
  parseDecimal,
} from "@eventlake/schema";
import { type ByteSource, bytesSource } from "./source.ts";
import { readEventBatches, readEvents, type ReadEventsOptions } from "./read.ts";
import { writeEvents } from "./write.ts";

const testdata = (file: string): string => new URL(`./testdata/${file}`, import.meta.url).pathname;
const load = (file: string): ByteSource => bytesSource(Deno.readFileSync(testdata(file)));

async function collect(source: ByteSource, options: ReadEventsOptions = {}): Promise<Event[]> {
  const out: Event[] = [];
  for await (const event of readEvents(source, options)) out.push(event);
  return out;
}

async function variantsOf(file: string): Promise<string[]> {
  const ids: string[] = [];
  await collect(load(file), { onVariant: (v) => ids.push(`${v.id}:${v.column}`) });
  return ids;
}

/** The three events every duckdb_* golden file holds (see testdata/README.md). */
const GOLDEN: Event[] = [
  {
    insert_id: "0b3c9a52-6f0e-4a53-9d0e-3f1d2a1b0001",
    event_key: "purchase",
    ts: Date.UTC(2023, 0, 1),
    metric_value: 123456789012345678123456n,
    identifiers: { id: "u1", device_id: "d1" },
    user_properties: { plan: "gold" },
    event_properties: { item: "커피", note: null },
    platform_properties: { osname: "iOS", appversion: "1.2.3" },
  },
  {
    insert_id: "0b3c9a52-6f0e-4a53-9d0e-3f1d2a1b0002",
    event_key: "refund",
    ts: Date.UTC(2023, 0, 1, 12, 34, 56, 789),
    metric_value: -1n,
    identifiers: { id: "u2", device_id: "d2" },
    user_properties: {},
    event_properties: { reason: "late" },
    platform_properties: { osname: "Android", appversion: "2.0" },
  },
  {
    insert_id: "0b3c9a52-6f0e-4a53-9d0e-3f1d2a1b0003",
    event_key: "view",
    ts: Date.UTC(2023, 0, 1, 23, 59, 59, 999),
    metric_value: 91063820000n,
    identifiers: { id: "u3", device_id: "d3" },
    user_properties: { age: "31" },
    event_properties: {},
    platform_properties: { osname: "web", appversion: "3" },
  },
];

// ---------------------------------------------------------------- DuckDB, the independent producer

type Duck = {
  run(sql: string): Promise<void>;
  rows(sql: string): Promise<unknown[][]>;
  close(): void;
};

let duckReason: string | null = null;
async function openDuck(): Promise<Duck> {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const dir = await Deno.makeTempDir();
  const instance = await DuckDBInstance.create(":memory:", {
    home_directory: dir,
    extension_directory: dir,
    threads: "1",
  });
  const con = await instance.connect();
  return {
    run: async (sql) => {
      await con.run(sql);
    },
    rows: async (sql) => (await con.runAndReadAll(sql)).getRows() as unknown[][],
    close: () => {
      con.closeSync();
      instance.closeSync();
    },
  };
}
try {
  (await openDuck()).close();
} catch (error) {
  duckReason = `DuckDB cannot start here: ${error instanceof Error ? error.message : error}`;
  console.warn(`read_test.ts: DuckDB tests skipped: ${duckReason}`);
}

/** DuckDB's own text of every column, ordered by insert_id. */
async function duckText(duck: Duck, path: string): Promise<string[][]> {
  const rows = await duck.rows(
    `SELECT insert_id, event_key, epoch_ms(ts)::VARCHAR, metric_value::VARCHAR,
       to_json(identifiers)::VARCHAR, to_json(user_properties)::VARCHAR,
       to_json(event_properties)::VARCHAR, to_json(platform_properties)::VARCHAR
     FROM read_parquet('${path}') ORDER BY insert_id`,
  );
  return rows.map((r) => r.map(String));
}

function ourText(events: Event[]): string[][] {
  return [...events].sort((a, b) => a.insert_id < b.insert_id ? -1 : 1).map((e) => [
    e.insert_id,
    e.event_key,
    String(e.ts),
    formatDecimal(e.metric_value),
    JSON.stringify(e.identifiers),
    JSON.stringify(e.user_properties),
    JSON.stringify(e.event_properties),
    JSON.stringify(e.platform_properties),
  ]);
}

/** Maps compared as parsed JSON: key order is not part of a map. */
function normalise(rows: string[][]): unknown[][] {
  return rows.map((r) => r.map((cell, i) => i >= 4 ? JSON.parse(cell) : cell));
}

Deno.test({
  name: "readEvents() reads a DuckDB-written file exactly as DuckDB's ::VARCHAR shows it",
  ignore: duckReason !== null,
  async fn() {
    const duck = await openDuck();
    try {
      const path = testdata("duckdb_events.parquet");
      const ours = await collect(load("duckdb_events.parquet"));
      deepStrictEqual(normalise(ourText(ours)), normalise(await duckText(duck, path)));
      deepStrictEqual(ours, GOLDEN);
    } finally {
      duck.close();
    }
  },
});

Deno.test({
  name:
    "readEvents() round-trips 10,000 random 6-decimal values written by DuckDB with no difference",
  ignore: duckReason !== null,
  async fn() {
    const duck = await openDuck();
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/random.parquet`;
      // Magnitudes from 1e-6 to 1e18, both signs, plus the extremes of DECIMAL(24,6).
      await duck.run(`COPY (
        SELECT TIMESTAMPTZ '2023-01-01 00:00:00+00' + to_microseconds(i * 1001) AS ts,
          'e' || (i % 7) AS event_key,
          MAP {'id': 'u' || i, 'device_id': 'd' || (i % 13)} AS identifiers,
          printf('%08d', i) AS insert_id,
          CASE WHEN i = 0 THEN 999999999999999999.999999::DECIMAL(24,6)
               WHEN i = 1 THEN -999999999999999999.999999::DECIMAL(24,6)
               WHEN i = 2 THEN -0.000001::DECIMAL(24,6)
               WHEN i = 3 THEN 123456789012345678.123456::DECIMAL(24,6)
               ELSE ((random() - 0.5) * pow(10, (i % 19)))::DECIMAL(24,6) END AS metric_value,
          MAP {'k': i::VARCHAR} AS user_properties,
          MAP {}::MAP(VARCHAR, VARCHAR) AS event_properties,
          MAP {'osname': 'ios', 'appversion': '1'} AS platform_properties
        FROM range(10000) t(i)) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
      const ours = await collect(bytesSource(await Deno.readFile(path)));
      strictEqual(ours.length, 10_000);
      const theirs = await duckText(duck, path);
      const mine = ourText(ours);
      let differences = 0;
      for (let i = 0; i < theirs.length; i++) {
        if (theirs[i][3] !== mine[i][3] || theirs[i][2] !== mine[i][2]) differences++;
      }
      strictEqual(differences, 0);
      deepStrictEqual(normalise(mine), normalise(theirs));
    } finally {
      duck.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("readEvents() round-trips 10,000 random decimals written by writeEvents", async () => {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const events: Event[] = [];
  for (let i = 0; i < 10_000; i++) {
    const digits = Math.floor(rand() * 18) + 1;
    let text = "";
    for (let d = 0; d < digits; d++) text += Math.floor(rand() * 10);
    text += "." + String(Math.floor(rand() * 1e6)).padStart(6, "0");
    const parsed = parseDecimal(rand() < 0.5 ? `-${text}` : text);
    if (!parsed.ok) throw new Error(`bad test value ${text}`);
    events.push({
      insert_id: `id-${i}`,
      event_key: `e${i % 5}`,
      ts: Date.UTC(2023, 0, 1) + i * 37,
      metric_value: i === 0 ? 123456789012345678123456n : i === 1 ? -1n : parsed.value,
      identifiers: { id: `u${i}`, device_id: "d" },
      user_properties: { n: String(i), empty: null },
      event_properties: {},
      platform_properties: { osname: "android", appversion: "2.3.1" },
    });
  }
  const chunks: Uint8Array[] = [];
  await writeEvents(events, new WritableStream({ write: (c) => void chunks.push(c) }), {
    rowGroupSize: 3000,
  });
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  const variants: string[] = [];
  const back = await collect(bytesSource(bytes), { onVariant: (v) => variants.push(v.id) });
  deepStrictEqual(variants, []);
  deepStrictEqual(back, events);
});

// ---------------------------------------------------------------- tolerated variants

Deno.test("readEvents() reads the exact format with no variant reported", async () => {
  deepStrictEqual(await variantsOf("exact_events.parquet"), []);
  deepStrictEqual(await collect(load("exact_events.parquet")), GOLDEN.slice(0, 2));
});

Deno.test("readEvents() reports DuckDB's MICROS, FLBA(16) and OPTIONAL columns as variants", async () => {
  const ids = await variantsOf("duckdb_events.parquet");
  ok(ids.includes("ts-micros:ts"));
  ok(ids.includes("decimal-fixed-width:metric_value"));
  ok(ids.includes("optional-columns:identifiers"));
  ok(ids.includes("optional-columns:event_key"));
});

for (
  const [file, expected, rows] of [
    ["duckdb_ts_nanos.parquet", ["ts-nanos:ts", "ts-not-utc:ts"], GOLDEN],
    ["duckdb_map_json.parquet", ["map-json:identifiers", "map-json:platform_properties"], GOLDEN],
    ["duckdb_map_list.parquet", ["map-list:identifiers", "map-list:event_properties"], GOLDEN],
    ["map_entries_name.parquet", ["map-entries-name:user_properties"], GOLDEN.slice(0, 2)],
    ["map_kv_name.parquet", ["map-nonstandard-names:identifiers"], GOLDEN.slice(0, 2)],
  ] as const
) {
  Deno.test(`readEvents() reads ${file} as the same events and reports ${expected.join(", ")}`, async () => {
    const ids = await variantsOf(file);
    for (const id of expected) ok(ids.includes(id), `${id} in ${ids.join(", ")}`);
    deepStrictEqual(await collect(load(file)), rows);
  });
}

Deno.test("readEvents() rescales a DECIMAL(18,2) INT64 metric_value exactly", async () => {
  const ids = await variantsOf("duckdb_decimal_18_2.parquet");
  ok(ids.includes("decimal-int:metric_value"));
  ok(ids.includes("decimal-precision:metric_value"));
  const events = await collect(load("duckdb_decimal_18_2.parquet"));
  deepStrictEqual(events.map((e) => formatDecimal(e.metric_value)), ["0.000000", "91063.820000"]);
});

// ---------------------------------------------------------------- schema mismatches

Deno.test("readEvents() rejects a file whose metric_value is DOUBLE", async () => {
  await rejects(collect(load("duckdb_metric_double.parquet"), { name: "f.parquet" }), (e) => {
    ok(e instanceof InvalidArgumentError);
    strictEqual(
      e.message,
      'Column "metric_value" of Parquet file "f.parquet" has type DOUBLE: expected DECIMAL(24,6)',
    );
    strictEqual(e.details.column, "metric_value");
    return true;
  });
});

Deno.test("readEvents() rejects a DECIMAL whose scale is more than 6", async () => {
  await rejects(
    collect(load("duckdb_decimal_30_9.parquet"), { name: "f.parquet" }),
    /Column "metric_value" of Parquet file "f.parquet" has type FIXED_LEN_BYTE_ARRAY\(16\) DECIMAL\(30,9\), scale 9 is more than 6: expected DECIMAL\(24,6\)/,
  );
});

Deno.test("readEvents() rejects a file without insert_id, naming the column", async () => {
  await rejects(
    collect(load("duckdb_missing_column.parquet"), { name: "f.parquet" }),
    (e) =>
      e instanceof InvalidArgumentError &&
      e.message === 'Column "insert_id" of Parquet file "f.parquet" is missing',
  );
});

Deno.test("readEvents() rejects an extra column unless allowExtraColumns, then reports it", async () => {
  await rejects(
    collect(load("duckdb_extra_column.parquet"), { name: "f.parquet" }),
    (e) =>
      e instanceof InvalidArgumentError &&
      e.message ===
        'Column "country" of Parquet file "f.parquet" is not part of the event format: pass allowExtraColumns to ignore it',
  );
  const ids: string[] = [];
  const events = await collect(load("duckdb_extra_column.parquet"), {
    allowExtraColumns: true,
    onVariant: (v) => ids.push(v.id),
  });
  ok(ids.includes("extra-columns"));
  deepStrictEqual(events, GOLDEN);
});

// ---------------------------------------------------------------- per-row problems

Deno.test("readEvents() yields the rows before a null event_key, then rejects naming row and column", async () => {
  const seen: Event[] = [];
  await rejects(
    (async () => {
      for await (
        const e of readEvents(load("duckdb_null_event_key.parquet"), { name: "f.parquet" })
      ) seen.push(e);
    })(),
    (e) => {
      ok(e instanceof InvalidArgumentError);
      strictEqual(
        e.message,
        'Cannot read row 1 of Parquet file "f.parquet": column "event_key" is null',
      );
      deepStrictEqual([e.details.row, e.details.column], [1, "event_key"]);
      return true;
    },
  );
  deepStrictEqual(seen, GOLDEN.slice(0, 1));
});

Deno.test("readEvents() skips rows with a null map when onInvalidRow is given, and reports them", async () => {
  const errors: InvalidArgumentError[] = [];
  const events = await collect(load("duckdb_null_map.parquet"), {
    name: "f.parquet",
    onInvalidRow: (e) => errors.push(e),
  });
  deepStrictEqual(events, GOLDEN.slice(0, 2));
  strictEqual(errors.length, 1);
  strictEqual(
    errors[0].message,
    'Cannot read row 2 of Parquet file "f.parquet": column "identifiers" is null',
  );
});

// ---------------------------------------------------------------- bad input

for (
  const [file, message] of [
    ["bad_truncated.parquet", /wrong magic bytes at the end: expected "PAR1"/],
    ["bad_magic.parquet", /wrong magic bytes at the start: expected "PAR1", found "PAR0"/],
    ["bad_footer.parquet", /corrupt footer: /],
    [
      "bad_footer_length.parquet",
      /footer length field claims 2147483648 bytes but the file has only \d+ bytes/,
    ],
    [
      "bad_chunk_offset.parquet",
      /column chunk "[^"]+" of row group 0 spans bytes \d+\.\.\d+ but column data ends at byte \d+/,
    ],
    ["bad_empty.parquet", /file is too small to be Parquet: 0 bytes/],
    [
      "bad_not_parquet.parquet",
      /file is too small to be Parquet: 24 bytes|wrong magic bytes at the start/,
    ],
  ] as const
) {
  Deno.test(`readEvents() rejects ${file} with an InvalidArgumentError naming the file`, async () => {
    await rejects(collect(load(file), { name: file }), (e) => {
      ok(e instanceof InvalidArgumentError, String(e));
      ok(e.message.startsWith(`Cannot read Parquet file "${file}": `), e.message);
      ok(message.test(e.message), e.message);
      return true;
    });
  });
}

Deno.test("readEvents() turns any corrupted byte (data or footer) into an InvalidArgumentError or a valid read", async () => {
  const good = Deno.readFileSync(testdata("duckdb_events.parquet"));
  let rejected = 0;
  for (let pos = 0; pos < good.length; pos += 7) {
    for (const flip of [0x01, 0xff, 0x10]) {
      const bytes = good.slice();
      bytes[pos] ^= flip;
      try {
        await collect(bytesSource(bytes), { name: "fuzz" });
      } catch (error) {
        ok(error instanceof InvalidArgumentError, `byte ${pos}: ${error}`);
        rejected++;
      }
    }
  }
  ok(rejected > 0);
});

Deno.test("readEvents() yields nothing for a file with zero rows", async () => {
  deepStrictEqual(await collect(load("duckdb_zero_rows.parquet")), []);
});

// ---------------------------------------------------------------- streaming, batches, abort

/** A source that counts the bytes and ranges asked for. */
function counting(inner: ByteSource): ByteSource & { reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    size: inner.size,
    reads,
    read(offset, length, options) {
      reads.push([offset, length]);
      return inner.read(offset, length, options);
    },
  };
}

Deno.test("readEventBatches() streams one row group at a time by ranged reads", async () => {
  const events = Array.from({ length: 5000 }, (_, i): Event => ({
    ...GOLDEN[i % 3],
    insert_id: `id-${i}`,
    user_properties: { pad: "x".repeat(200) + i },
  }));
  const chunks: Uint8Array[] = [];
  await writeEvents(events, new WritableStream({ write: (c) => void chunks.push(c) }), {
    rowGroupSize: 1000,
    compression: "UNCOMPRESSED",
  });
  const bytes = new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer());
  const source = counting(bytesSource(bytes));
  const sizes: number[] = [];
  for await (const batch of readEventBatches(source, { batchSize: 400 })) sizes.push(batch.length);
  strictEqual(sizes.reduce((a, b) => a + b, 0), 5000);
  ok(sizes.every((n) => n <= 400));
  const largest = Math.max(...source.reads.map(([, length]) => length));
  ok(largest < bytes.length / 3, `largest read ${largest} of ${bytes.length}`);
});

Deno.test("readEvents() rejects with AbortedError when its signal is aborted", async () => {
  const controller = new AbortController();
  controller.abort();
  await rejects(
    collect(load("duckdb_events.parquet"), { signal: controller.signal }),
    AbortedError,
  );
});

Deno.test("readEventBatches() refuses a batchSize that is not a positive integer", async () => {
  await rejects(collect(load("duckdb_events.parquet"), { batchSize: 0 }), RangeError);
});

Deno.test("readEvents() can be left early: breaking out stops the underlying batches", async () => {
  let reads = 0;
  const inner = load("duckdb_events.parquet");
  const source: ByteSource = {
    size: inner.size,
    read: (o, l, opt) => (reads++, inner.read(o, l, opt)),
  };
  const it = readEvents(source, { batchSize: 1 });
  for await (const event of it) {
    strictEqual(event.event_key, "purchase");
    break;
  }
  const after = reads;
  deepStrictEqual(await it.next(), { value: undefined, done: true });
  strictEqual(reads, after);
});

Deno.test("readEvents() refuses per row a FIXED_LEN_BYTE_ARRAY(11) decimal beyond DECIMAL(24,6)", async () => {
  const { ByteWriter, parquetWrite } = await import("hyparquet-writer");
  const map = (name: string) => [
    { name, repetition_type: "REQUIRED", converted_type: "MAP", num_children: 1 },
    { name: "key_value", repetition_type: "REPEATED", num_children: 2 },
    { name: "key", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
    { name: "value", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
  ];
  const schema = [
    { name: "schema", num_children: 8 },
    { name: "ts", type: "INT64", repetition_type: "REQUIRED", converted_type: "TIMESTAMP_MILLIS" },
    { name: "event_key", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
    ...map("identifiers"),
    { name: "insert_id", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
    {
      name: "metric_value",
      type: "FIXED_LEN_BYTE_ARRAY",
      type_length: 11,
      repetition_type: "REQUIRED",
      converted_type: "DECIMAL",
      precision: 24,
      scale: 6,
    },
    ...map("user_properties"),
    ...map("event_properties"),
    ...map("platform_properties"),
  ];
  const rows = GOLDEN.slice(0, 2).map((e, i) => ({
    ...e,
    metric_value: i === 1 ? 10n ** 25n : e.metric_value,
  }));
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    columnData: EVENT_COLUMNS.map((name) => ({
      name,
      data: rows.map((r) => name === "ts" ? BigInt(r.ts) : r[name]),
    })),
    // deno-lint-ignore no-explicit-any
    schema: schema as any,
  });
  const errors: InvalidArgumentError[] = [];
  const events = await collect(bytesSource(new Uint8Array(writer.getBuffer())), {
    name: "big.parquet",
    onInvalidRow: (e) => errors.push(e),
  });
  deepStrictEqual(events, GOLDEN.slice(0, 1));
  deepStrictEqual(errors.map((e) => e.message), [
    'Cannot read row 1 of Parquet file "big.parquet": column "metric_value" does not fit DECIMAL(24,6)',
  ]);
});

Deno.test({
  name: "readEvents() reads GZIP, ZSTD and BROTLI pages and names the codec it cannot read (LZ4)",
  ignore: duckReason !== null,
  async fn() {
    const duck = await openDuck();
    const dir = await Deno.makeTempDir();
    try {
      const golden = testdata("duckdb_events.parquet");
      for (const codec of ["gzip", "zstd", "brotli"]) {
        const path = `${dir}/${codec}.parquet`;
        await duck.run(
          `COPY (SELECT * FROM read_parquet('${golden}')) TO '${path}' (FORMAT parquet, COMPRESSION ${codec})`,
        );
        deepStrictEqual(await collect(bytesSource(await Deno.readFile(path))), GOLDEN, codec);
      }
      const path = `${dir}/lz4.parquet`;
      await duck.run(
        `COPY (SELECT * FROM read_parquet('${golden}')) TO '${path}' (FORMAT parquet, COMPRESSION lz4_raw)`,
      );
      await rejects(
        collect(bytesSource(await Deno.readFile(path)), { name: "lz4.parquet" }),
        /Cannot read Parquet file "lz4.parquet": column chunk "[^"]+" of row group 0 uses codec LZ4_RAW: supported are UNCOMPRESSED, SNAPPY, GZIP, BROTLI, ZSTD/,
      );
    } finally {
      duck.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ---------------------------------------------------------------- decoding in a worker

/** A file of `rows` varied events in row groups of `rowGroupSize`, and the events. */
async function multiGroupFile(rows: number, rowGroupSize: number): Promise<[Uint8Array, Event[]]> {
  const events: Event[] = [];
  for (let i = 0; i < rows; i++) {
    events.push({
      insert_id: `id-${i}`,
      event_key: i % 7 === 0 ? "구매" : `e${i % 5}`,
      ts: Date.UTC(2023, 0, 1) + i * 37,
      metric_value: BigInt(i) * (i % 2 === 0 ? 1_000_003n : -7n) * (i % 11 === 0 ? 10n ** 12n : 1n),
      identifiers: { id: `u${i % 97}`, device_id: i % 3 === 0 ? null : "d" },
      user_properties: i % 4 === 0 ? {} : { n: String(i), plan: `p${i % 3}` },
      event_properties: { note: `메모 ${i}`, empty: null },
      platform_properties: { osname: "android", appversion: `2.3.${i % 13}` },
    });
  }
  const chunks: Uint8Array[] = [];
  await writeEvents(events, new WritableStream({ write: (c) => void chunks.push(c) }), {
    rowGroupSize,
  });
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return [bytes, events];
}

Deno.test("readEvents() with decodeWorker reads every row group exactly as without it", async () => {
  const [bytes, events] = await multiGroupFile(5000, 1200);
  const copy = bytes.slice();
  deepStrictEqual(await collect(bytesSource(bytes), { decodeWorker: true }), events);
  deepStrictEqual(await collect(bytesSource(bytes), { decodeWorker: false }), events);
  deepStrictEqual(bytes, copy, "the caller's bytes are not transferred away");
});

Deno.test("readEvents() with decodeWorker rejects a corrupt page with the same error as without", async () => {
  const [bytes] = await multiGroupFile(3000, 1000);
  // Flip bytes inside the data of the second row group until a read fails.
  let compared = 0;
  for (
    let pos = Math.floor(bytes.length / 2);
    pos < bytes.length - 2000 && compared < 3;
    pos += 997
  ) {
    const bad = bytes.slice();
    bad[pos] ^= 0xff;
    const outcome = async (decodeWorker: boolean) => {
      try {
        return { rows: (await collect(bytesSource(bad), { name: "bad", decodeWorker })).length };
      } catch (error) {
        ok(error instanceof InvalidArgumentError, String(error));
        return { error: error.message };
      }
    };
    const without = await outcome(false);
    deepStrictEqual(await outcome(true), without, `byte ${pos}`);
    if ("error" in without) compared++;
  }
  ok(compared > 0);
});

Deno.test("readEvents() with decodeWorker can be left early and aborted", async () => {
  const [bytes, events] = await multiGroupFile(3000, 1000);
  for await (const event of readEvents(bytesSource(bytes), { decodeWorker: true })) {
    deepStrictEqual(event, events[0]);
    break;
  }
  const controller = new AbortController();
  let n = 0;
  await rejects(
    (async () => {
      for await (
        const _ of readEvents(bytesSource(bytes), { decodeWorker: true, signal: controller.signal })
      ) {
        if (++n === 1500) controller.abort();
      }
    })(),
    AbortedError,
  );
});

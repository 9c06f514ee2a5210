/**
 * Regenerates the golden Parquet files of this folder (see README.md):
 *   deno run -A packages/parquet/testdata/make_testdata.ts
 * DuckDB is the independent producer; hyparquet-writer makes the exact format and the map
 * naming variants DuckDB cannot write; the bad files are byte-level edits of good ones.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { ByteWriter, parquetWrite } from "hyparquet-writer";

const dir = new URL(".", import.meta.url).pathname;
const tmp = await Deno.makeTempDir();
const instance = await DuckDBInstance.create(":memory:", {
  home_directory: tmp,
  extension_directory: tmp,
  threads: "1",
});
const con = await instance.connect();

/** Three rows: the big and tiny decimals, a null map value, an empty map, non-ASCII text. */
const ROWS = `
  SELECT * FROM (VALUES
    (TIMESTAMPTZ '2023-01-01 00:00:00.000+00', 'purchase',
     MAP {'id': 'u1', 'device_id': 'd1'}, '0b3c9a52-6f0e-4a53-9d0e-3f1d2a1b0001',
     123456789012345678.123456::DECIMAL(24,6),
     MAP {'plan': 'gold'}, MAP {'item': '커피', 'note': NULL}, MAP {'osname': 'iOS', 'appversion': '1.2.3'}),
    (TIMESTAMPTZ '2023-01-01 12:34:56.789+00', 'refund',
     MAP {'id': 'u2', 'device_id': 'd2'}, '0b3c9a52-6f0e-4a53-9d0e-3f1d2a1b0002',
     -0.000001::DECIMAL(24,6),
     MAP {}::MAP(VARCHAR, VARCHAR), MAP {'reason': 'late'}, MAP {'osname': 'Android', 'appversion': '2.0'}),
    (TIMESTAMPTZ '2023-01-01 23:59:59.999+00', 'view',
     MAP {'id': 'u3', 'device_id': 'd3'}, '0b3c9a52-6f0e-4a53-9d0e-3f1d2a1b0003',
     91063.82::DECIMAL(24,6),
     MAP {'age': '31'}, MAP {}::MAP(VARCHAR, VARCHAR), MAP {'osname': 'web', 'appversion': '3'})
  ) t(ts, event_key, identifiers, insert_id, metric_value, user_properties, event_properties, platform_properties)`;

async function copy(file: string, select: string): Promise<void> {
  await con.run(`COPY (${select}) TO '${dir}${file}' (FORMAT parquet)`);
  console.log("wrote", file);
}

const ALL = "ts, event_key, identifiers, insert_id, metric_value, user_properties, event_properties, platform_properties";
const json = (c: string) => `to_json(${c})::VARCHAR AS ${c}`;
const list = (c: string) => `map_entries(${c}) AS ${c}`;

await copy("duckdb_events.parquet", ROWS);
await copy(
  "duckdb_ts_nanos.parquet",
  `SELECT ts::TIMESTAMP_NS AS ts, * EXCLUDE (ts) FROM (${ROWS})`,
);
await copy(
  "duckdb_map_json.parquet",
  `SELECT ts, event_key, ${json("identifiers")}, insert_id, metric_value, ${json("user_properties")},
     ${json("event_properties")}, ${json("platform_properties")} FROM (${ROWS})`,
);
await copy(
  "duckdb_map_list.parquet",
  `SELECT ts, event_key, ${list("identifiers")}, insert_id, metric_value, ${list("user_properties")},
     ${list("event_properties")}, ${list("platform_properties")} FROM (${ROWS})`,
);
await copy(
  "duckdb_decimal_18_2.parquet",
  `SELECT * REPLACE (round(metric_value, 2)::DECIMAL(18,2) AS metric_value) FROM (${ROWS}) WHERE metric_value < 1e15`,
);
await copy(
  "duckdb_decimal_30_9.parquet",
  `SELECT * REPLACE (metric_value::DECIMAL(30,9) AS metric_value) FROM (${ROWS})`,
);
await copy(
  "duckdb_metric_double.parquet",
  `SELECT * REPLACE (metric_value::DOUBLE AS metric_value) FROM (${ROWS})`,
);
await copy("duckdb_missing_column.parquet", `SELECT * EXCLUDE (insert_id) FROM (${ROWS})`);
await copy("duckdb_extra_column.parquet", `SELECT *, 'x' AS country FROM (${ROWS})`);
await copy(
  "duckdb_null_event_key.parquet",
  `SELECT * REPLACE (CASE WHEN event_key = 'refund' THEN NULL ELSE event_key END AS event_key) FROM (${ROWS})`,
);
await copy(
  "duckdb_null_map.parquet",
  `SELECT * REPLACE (CASE WHEN event_key = 'view' THEN NULL ELSE identifiers END AS identifiers) FROM (${ROWS})`,
);
await copy("duckdb_zero_rows.parquet", `SELECT ${ALL} FROM (${ROWS}) WHERE false`);
con.closeSync();
instance.closeSync();

// hyparquet-writer: the exact format, and the map naming variants.
const events = [
  {
    ts: 1672531200000,
    event_key: "purchase",
    identifiers: { id: "u1", device_id: "d1" },
    insert_id: "0b3c9a52-6f0e-4a53-9d0e-3f1d2a1b0001",
    metric_value: 123456789012345678123456n,
    user_properties: { plan: "gold" },
    event_properties: { item: "커피", note: null },
    platform_properties: { osname: "iOS", appversion: "1.2.3" },
  },
  {
    ts: 1672576496789,
    event_key: "refund",
    identifiers: { id: "u2", device_id: "d2" },
    insert_id: "0b3c9a52-6f0e-4a53-9d0e-3f1d2a1b0002",
    metric_value: -1n,
    user_properties: {},
    event_properties: { reason: "late" },
    platform_properties: { osname: "Android", appversion: "2.0" },
  },
];

type El = Record<string, unknown>;
function mapSchema(name: string, group: string): El[] {
  return [
    { name, repetition_type: "REQUIRED", converted_type: "MAP", num_children: 1 },
    { name: group, repetition_type: "REPEATED", num_children: 2 },
    { name: "key", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
    { name: "value", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
  ];
}
function exactSchema(group: string): El[] {
  return [
    { name: "schema", num_children: 8 },
    {
      name: "ts",
      type: "INT64",
      repetition_type: "REQUIRED",
      converted_type: "TIMESTAMP_MILLIS",
      logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" },
    },
    { name: "event_key", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
    ...mapSchema("identifiers", group),
    { name: "insert_id", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
    {
      name: "metric_value",
      type: "FIXED_LEN_BYTE_ARRAY",
      type_length: 11,
      repetition_type: "REQUIRED",
      converted_type: "DECIMAL",
      precision: 24,
      scale: 6,
      logical_type: { type: "DECIMAL", precision: 24, scale: 6 },
    },
    ...mapSchema("user_properties", group),
    ...mapSchema("event_properties", group),
    ...mapSchema("platform_properties", group),
  ];
}
function writeHyparquet(file: string, group: string): void {
  const columns = ["ts", "event_key", "identifiers", "insert_id", "metric_value", "user_properties", "event_properties", "platform_properties"] as const;
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    columnData: columns.map((name) => ({
      name,
      data: events.map((e) => name === "ts" ? BigInt(e.ts) : e[name]),
    })),
    // deno-lint-ignore no-explicit-any
    schema: exactSchema(group) as any,
  });
  Deno.writeFileSync(`${dir}${file}`, new Uint8Array(writer.getBuffer()));
  console.log("wrote", file);
}
writeHyparquet("exact_events.parquet", "key_value");
writeHyparquet("map_entries_name.parquet", "entries");
writeHyparquet("map_kv_name.parquet", "kv");

// Bad inputs, derived from a good file byte by byte.
const good = Deno.readFileSync(`${dir}duckdb_events.parquet`);
const footerLength = new DataView(good.buffer).getUint32(good.length - 8, true);
const dataEnd = good.length - 8 - footerLength;
function bad(file: string, bytes: Uint8Array): void {
  Deno.writeFileSync(`${dir}${file}`, bytes);
  console.log("wrote", file);
}
bad("bad_truncated.parquet", good.slice(0, Math.floor(good.length / 2)));
{
  const b = good.slice();
  b.set(new TextEncoder().encode("PAR0"), 0);
  b.set(new TextEncoder().encode("PAR0"), b.length - 4);
  bad("bad_magic.parquet", b);
}
{
  const b = good.slice();
  for (let i = dataEnd; i < dataEnd + footerLength; i += 3) b[i] = 0xff;
  bad("bad_footer.parquet", b);
}
{
  const b = good.slice();
  new DataView(b.buffer).setUint32(b.length - 8, 0x80000000, true);
  bad("bad_footer_length.parquet", b);
}
{
  // Drop the middle of the column data but keep the footer: chunk offsets now point past the data.
  const cut = Math.floor(dataEnd / 2);
  const b = new Uint8Array(good.length - cut + 4);
  b.set(good.subarray(0, 4), 0);
  b.set(good.subarray(cut), 4);
  bad("bad_chunk_offset.parquet", b);
}
bad("bad_empty.parquet", new Uint8Array(0));
bad("bad_not_parquet.parquet", new TextEncoder().encode("ts,event_key\n1,purchase\n"));

import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { InvalidArgumentError } from "@eventlake/schema";
import { ByteWriter, parquetWrite } from "hyparquet-writer";
import { type ByteSource, bytesSource } from "./source.ts";
import { inspectParquet } from "./inspect.ts";

const load = (file: string): ByteSource =>
  bytesSource(Deno.readFileSync(new URL(`./testdata/${file}`, import.meta.url)));

Deno.test("inspectParquet() describes a DuckDB file: schema, row groups, codecs, ts range, variants", async () => {
  const info = await inspectParquet(load("duckdb_events.parquet"), { name: "d.parquet" });
  strictEqual(info.name, "d.parquet");
  strictEqual(info.rowCount, 3);
  strictEqual(info.sizeBytes, 2383);
  ok(info.createdBy?.startsWith("DuckDB"));
  deepStrictEqual(info.codecs, ["SNAPPY"]);
  strictEqual(info.rowGroups.length, 1);
  strictEqual(info.rowGroups[0].rows, 3);
  ok(info.rowGroups[0].compressedBytes > 0 && info.rowGroups[0].uncompressedBytes > 0);
  deepStrictEqual(info.ts, {
    min: "2023-01-01T00:00:00.000Z",
    max: "2023-01-01T23:59:59.999Z",
    source: "statistics",
  });
  deepStrictEqual(info.columns.find((c) => c.path === "ts"), {
    path: "ts",
    physicalType: "INT64",
    logicalType: "TIMESTAMP(MICROS, UTC)",
    repetition: "OPTIONAL",
  });
  deepStrictEqual(info.columns.find((c) => c.path === "metric_value"), {
    path: "metric_value",
    physicalType: "FIXED_LEN_BYTE_ARRAY(16)",
    logicalType: "DECIMAL(24,6)",
    repetition: "OPTIONAL",
  });
  deepStrictEqual(
    info.columns.filter((c) => c.path.startsWith("identifiers")).map((c) => c.path),
    [
      "identifiers",
      "identifiers.key_value",
      "identifiers.key_value.key",
      "identifiers.key_value.value",
    ],
  );
  deepStrictEqual(info.problems, []);
  strictEqual(info.exactFormat, false);
  ok(info.variants.some((v) => v.id === "ts-micros" && v.column === "ts"));
  ok(info.variants.some((v) => v.id === "decimal-fixed-width"));
});

Deno.test("inspectParquet() says the exact format is exact", async () => {
  const info = await inspectParquet(load("exact_events.parquet"));
  strictEqual(info.exactFormat, true);
  deepStrictEqual(info.variants, []);
  deepStrictEqual(
    info.columns.find((c) => c.path === "metric_value")?.physicalType,
    "FIXED_LEN_BYTE_ARRAY(11)",
  );
  deepStrictEqual(info.columns.find((c) => c.path === "ts")?.logicalType, "TIMESTAMP(MILLIS, UTC)");
});

Deno.test("inspectParquet() result survives JSON.stringify (no bigint, no Date)", async () => {
  for (
    const file of ["duckdb_events.parquet", "duckdb_ts_nanos.parquet", "duckdb_map_json.parquet"]
  ) {
    const info = await inspectParquet(load(file));
    deepStrictEqual(JSON.parse(JSON.stringify(info)), info);
  }
});

Deno.test("inspectParquet() reports schema problems instead of throwing", async () => {
  const info = await inspectParquet(load("duckdb_metric_double.parquet"));
  deepStrictEqual(info.problems, ['Column "metric_value" has type DOUBLE: expected DECIMAL(24,6)']);
  strictEqual(info.exactFormat, false);
  const extra = await inspectParquet(load("duckdb_extra_column.parquet"));
  deepStrictEqual(extra.problems, ['Column "country" is not part of the event format']);
});

Deno.test("inspectParquet() says 0 rows for a file with zero rows", async () => {
  const info = await inspectParquet(load("duckdb_zero_rows.parquet"));
  strictEqual(info.rowCount, 0);
  deepStrictEqual(info.rowGroups, []);
  deepStrictEqual(info.ts, { min: null, max: null, source: "none" });
});

Deno.test("inspectParquet() scans ts when the file has no statistics", async () => {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    statistics: false,
    columnData: [{ name: "ts", data: [1_000_000n, -1n, 5_000n] }],
    schema: [
      { name: "root", num_children: 1 },
      {
        name: "ts",
        type: "INT64",
        repetition_type: "REQUIRED",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" },
      },
    ],
  });
  const info = await inspectParquet(bytesSource(new Uint8Array(writer.getBuffer())));
  // -1 µs floors to -1 ms.
  deepStrictEqual(info.ts, {
    min: "1969-12-31T23:59:59.999Z",
    max: "1970-01-01T00:00:01.000Z",
    source: "scan",
  });
  ok(info.problems.some((p) => p === 'Column "event_key" is missing'));
});

for (
  const file of [
    "bad_truncated.parquet",
    "bad_magic.parquet",
    "bad_footer.parquet",
    "bad_footer_length.parquet",
  ]
) {
  Deno.test(`inspectParquet() rejects ${file} with an InvalidArgumentError naming the file`, async () => {
    await rejects(
      inspectParquet(load(file), { name: file }),
      (e) =>
        e instanceof InvalidArgumentError &&
        e.message.startsWith(`Cannot read Parquet file "${file}": `),
    );
  });
}

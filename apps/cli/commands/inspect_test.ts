import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { fileSource, inspectParquet, writeEvents } from "@eventlake/parquet";
import type { Event } from "@eventlake/schema";
import { memoryIo } from "../_testing.ts";
import { run } from "../cli.ts";

/** A temp dir with a DuckDB-written events file, a file our writer wrote, and junk. */
async function fixtures(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-inspect-" });
  const db = await DuckDBInstance.create(":memory:", {
    home_directory: dir,
    extension_directory: join(dir, "ext"),
  });
  const connection = await db.connect();
  try {
    await connection.run("SET threads = 1");
    // The independent producer: DuckDB writes MICROS timestamps, 16-byte decimals, OPTIONAL columns.
    await connection.run(`COPY (
      SELECT TIMESTAMPTZ '2023-01-01 00:00:00+00' + INTERVAL (i) SECOND AS ts,
             'purchase' AS event_key,
             MAP {'id': 'u' || i, 'device_id': 'd' || i} AS identifiers,
             uuid()::VARCHAR AS insert_id,
             (i * 1.5)::DECIMAL(24,6) AS metric_value,
             MAP {'tier': 'gold'} AS user_properties,
             MAP {'sku': 'x' || i} AS event_properties,
             MAP {'osname': 'ios', 'appversion': '1.0'} AS platform_properties
      FROM range(5000) t(i)
    ) TO '${join(dir, "duckdb.parquet")}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
  } finally {
    connection.closeSync();
    db.closeSync();
  }
  const events: Event[] = [0, 1].map((i) => ({
    insert_id: `00000000-0000-4000-8000-00000000000${i}`,
    event_key: "login",
    ts: Date.UTC(2023, 0, 2, 3, 4, 5, 6) + i,
    metric_value: 1_500_000n,
    identifiers: { id: `u${i}`, device_id: `d${i}` },
    event_properties: {},
    user_properties: {},
    platform_properties: { osname: "android", appversion: "2.1" },
  }));
  const file = await Deno.open(join(dir, "exact.parquet"), { write: true, create: true });
  await writeEvents(events, file.writable);
  await Deno.writeTextFile(join(dir, "notes.parquet"), "this is not parquet, just text\n");
  return { dir, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("eventlake inspect summarises a DuckDB-written file: rows, row groups, ts range, variants", async () => {
  const { dir, cleanup } = await fixtures();
  try {
    const io = memoryIo({ cwd: dir });
    strictEqual(await run(["inspect", "duckdb.parquet"], io), 0, io.stderrText());
    strictEqual(io.stderrText(), "");
    const text = io.stdoutText();
    const field = (name: string) =>
      text.split("\n").find((l) => l.startsWith(name + " "))?.slice(name.length).trim();
    strictEqual(field("File"), "duckdb.parquet");
    strictEqual(field("Rows"), "5,000");
    strictEqual(field("Row groups"), "3");
    strictEqual(field("Compression"), "SNAPPY");
    ok(field("Created by")?.startsWith("DuckDB"));
    strictEqual(
      field("ts range"),
      "2023-01-01T00:00:00.000Z … 2023-01-01T01:23:19.000Z (from statistics)",
    );
    ok(
      field("Format")?.startsWith("readable as events, with 3 tolerated variants"),
      field("Format") ?? "(no Format line)",
    );
    ok(/^ {2}ts-micros +TIMESTAMP\(MICROS\)/m.test(text), text);
    ok(/^ {2}decimal-fixed-width /m.test(text));
    ok(
      /^ {2}metric_value +FIXED_LEN_BYTE_ARRAY\(16\) +DECIMAL\(24,6\) +OPTIONAL$/m.test(text),
      text,
    );
    ok(/^ {6}key +BYTE_ARRAY +UTF8 +REQUIRED$/m.test(text), "map leaves are indented");
    ok(/^ {2}0 +2,048 +/m.test(text) && /^ {2}2 +904 +/m.test(text), text);
    ok(!text.includes("\x1b["), "no colours off a terminal");
  } finally {
    await cleanup();
  }
});

Deno.test("eventlake inspect --json prints exactly the inspectParquet() object", async () => {
  const { dir, cleanup } = await fixtures();
  try {
    const io = memoryIo({ cwd: dir });
    strictEqual(await run(["inspect", "--json", "duckdb.parquet"], io), 0, io.stderrText());
    const source = await fileSource(join(dir, "duckdb.parquet"));
    const expected = await inspectParquet(source, { name: "duckdb.parquet" });
    await source.close();
    deepStrictEqual(JSON.parse(io.stdoutText()), JSON.parse(JSON.stringify(expected)));
    strictEqual(expected.rowCount, 5000);
    ok(expected.variants.some((v) => v.id === "ts-micros"));
  } finally {
    await cleanup();
  }
});

Deno.test("eventlake inspect calls a file our writer wrote the exact event format", async () => {
  const { dir, cleanup } = await fixtures();
  try {
    const io = memoryIo({ cwd: "/" });
    strictEqual(await run(["inspect", join(dir, "exact.parquet")], io), 0, io.stderrText());
    ok(/^Format +exact event format$/m.test(io.stdoutText()), io.stdoutText());
    ok(/^ts range +2023-01-02T03:04:05\.006Z … 2023-01-02T03:04:05\.007Z/m.test(io.stdoutText()));
    ok(!io.stdoutText().includes("Tolerated variants"));
  } finally {
    await cleanup();
  }
});

Deno.test("eventlake inspect exits 3 for a file that does not exist", async () => {
  const { dir, cleanup } = await fixtures();
  try {
    const io = memoryIo({ cwd: dir });
    strictEqual(await run(["inspect", "missing.parquet"], io), 3);
    strictEqual(io.stdoutText(), "");
    ok(io.stderrText().startsWith("eventlake: "), io.stderrText());
    ok(io.stderrText().includes("missing.parquet"), io.stderrText());
    ok(!io.stderrText().includes("    at "), "no stack for an expected error");
  } finally {
    await cleanup();
  }
});

Deno.test("eventlake inspect exits 2 with the reason for a file that is not Parquet", async () => {
  const { dir, cleanup } = await fixtures();
  try {
    const io = memoryIo({ cwd: dir });
    strictEqual(await run(["inspect", "notes.parquet", "--json"], io), 2);
    strictEqual(io.stdoutText(), "");
    const err = io.stderrText();
    ok(err.startsWith("eventlake: "), err);
    ok(err.includes("notes.parquet"), err);
    ok(/magic|too small|not a parquet/i.test(err), err);
  } finally {
    await cleanup();
  }
});

Deno.test("eventlake inspect exits 2 for a directory", async () => {
  const { dir, cleanup } = await fixtures();
  try {
    const io = memoryIo({ cwd: dir });
    strictEqual(await run(["inspect", "."], io), 2);
    ok(io.stderrText().startsWith("eventlake: "), io.stderrText());
  } finally {
    await cleanup();
  }
});

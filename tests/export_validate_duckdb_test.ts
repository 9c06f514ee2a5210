/**
 * An independent producer: DuckDB writes `dt=` partitions by itself (its own Parquet encoding:
 * MICROS timestamps, 16-byte decimals, OPTIONAL columns). `eventlake validate` must pass the
 * good day naming DuckDB's variants, and name the duplicate and out-of-day rows of a bad one.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { memoryIo } from "../apps/cli/_testing.ts";
import { run } from "../apps/cli/cli.ts";

/** Writes `dt=<date>/000000000000.parquet` with DuckDB from a SELECT of `rows` rows. */
async function duckdbDay(dir: string, date: string, select: string): Promise<void> {
  const dayDir = join(dir, "lake", `dt=${date}`);
  await Deno.mkdir(dayDir, { recursive: true });
  const db = await DuckDBInstance.create(":memory:", {
    home_directory: dir,
    extension_directory: join(dir, "ext"),
  });
  const connection = await db.connect();
  try {
    await connection.run("SET threads = 1");
    await connection.run(
      `COPY (${select}) TO '${join(dayDir, "000000000000.parquet")}' (FORMAT parquet)`,
    );
  } finally {
    connection.closeSync();
    db.closeSync();
  }
  await Deno.writeFile(join(dayDir, "_SUCCESS"), new Uint8Array(0));
}

const columns = (day: string, tsExpr: string, idExpr: string) => `
  SELECT TIMESTAMPTZ '${day} 00:00:00+00' + ${tsExpr} AS ts,
         'purchase' AS event_key,
         MAP {'id': 'u' || i, 'device_id': 'd' || i} AS identifiers,
         ${idExpr} AS insert_id,
         (i * 1.25)::DECIMAL(24,6) AS metric_value,
         MAP {'tier': 'gold'} AS user_properties,
         MAP {'sku': 'x' || i} AS event_properties,
         MAP {'osname': 'ios', 'appversion': '1.0'} AS platform_properties
  FROM range(1000) t(i)`;

Deno.test({
  name:
    "validate passes a DuckDB-written day naming its variants, and names DuckDB rows and schemas that break the rules",
  // DuckDB's native module keeps its own threads: the resource sanitizer cannot apply.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "eventlake-e2e-duckdb-" });
    try {
      await duckdbDay(
        dir,
        "2023-01-01",
        columns("2023-01-01", "INTERVAL (i * 60) SECOND", "uuid()::VARCHAR"),
      );
      // Bad day: ids repeat every 500 rows; the last rows spill into the next day.
      await duckdbDay(
        dir,
        "2023-01-02",
        columns(
          "2023-01-02",
          "INTERVAL (i * 87) SECOND",
          "printf('00000000-0000-4000-8000-%012d', i % 500)",
        ),
      );
      let io = memoryIo({ cwd: dir });
      strictEqual(await run(["validate", "lake", "--date", "2023-01-01", "--json"], io), 0);
      let report = JSON.parse(io.stdoutText());
      const good = report.days[0];
      strictEqual(good.verdict, "ok");
      strictEqual(good.rows, 1000);
      const ids = new Set(good.variants.map((v: { id: string }) => v.id));
      for (const id of ["ts-micros", "optional-columns", "decimal-fixed-width"]) {
        ok(ids.has(id), `variant ${id} in ${[...ids].join(", ")}`);
      }
      io = memoryIo({ cwd: dir });
      strictEqual(await run(["validate", "lake", "--date", "2023-01-01"], io), 0);
      ok(io.stdoutText().includes("variants: "), io.stdoutText());

      io = memoryIo({ cwd: dir });
      strictEqual(await run(["validate", "lake", "--date", "2023-01-02", "--json"], io), 2);
      report = JSON.parse(io.stdoutText());
      const bad = report.days[0];
      strictEqual(bad.verdict, "error");
      // 86400 / 87 = 993.1: rows 994… are on 2023-01-03; ids of rows 500… repeat rows 0….
      const outside = 1000 - Math.ceil(86400 / 87);
      strictEqual(bad.errors, outside + 500);
      const first = bad.problems.find((p: { rule: string }) => p.rule === "duplicate_insert_id");
      deepStrictEqual([first.row, first.path], [500, "insert_id"]);
      ok(first.message.includes("repeats 000000000000.parquet row 0"), first.message);

      // Wrong schema: metric_value written as DOUBLE is refused, naming the part and the column.
      await duckdbDay(
        dir,
        "2023-01-03",
        columns("2023-01-03", "INTERVAL (i) SECOND", "uuid()::VARCHAR")
          .replace(
            "(i * 1.25)::DECIMAL(24,6) AS metric_value",
            "(i * 1.25)::DOUBLE AS metric_value",
          ),
      );
      io = memoryIo({ cwd: dir });
      strictEqual(await run(["validate", "lake", "--date", "2023-01-03", "--json"], io), 2);
      const wrong = JSON.parse(io.stdoutText()).days[0];
      deepStrictEqual(wrong.problems.map((p: { rule: string }) => p.rule), ["schema"]);
      strictEqual(wrong.problems[0].file, "dt=2023-01-03/000000000000.parquet");
      ok(wrong.problems[0].message.includes("metric_value"), wrong.problems[0].message);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

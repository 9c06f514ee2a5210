/**
 * Test and benchmark fixtures of the DuckDB engine: lake tables written in the lake layout
 * (Parquet files, day manifests, `_VERSION`) with DuckDB as the Parquet writer.
 *
 * @module
 */
import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type DayManifest, lakeTablePrefix, type LakeTableRef } from "@eventlake/storage";
import { writeParquetWithDuckDb } from "./duckdb.ts";

/** One day of a fixture table: the SQL whose rows land that day. */
export interface FixtureDay {
  /** `YYYY-MM-DD`. */
  date: string;
  /** A SELECT producing the day's rows (without `dt`). */
  sql: string;
}

/** Lands days of a table into a local lake folder, as the import would (files, manifest, `_VERSION`). */
export async function landFixtureDays(
  lakeDir: string,
  ref: LakeTableRef,
  days: FixtureDay[],
): Promise<void> {
  const tableDir = join(lakeDir, lakeTablePrefix(ref));
  const runId = `run${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  for (const day of days) {
    const dayDir = join(tableDir, `dt=${day.date}`);
    await mkdir(dayDir, { recursive: true });
    const name = `${runId}-000000.parquet`;
    await writeParquetWithDuckDb(day.sql, join(dayDir, name));
    const bytes = (await stat(join(dayDir, name))).size;
    const manifest: DayManifest = {
      date: day.date,
      runId,
      landedAt: new Date().toISOString(),
      files: [{ key: `dt=${day.date}/${name}`, rows: 0, bytes }],
      rows: 0,
    };
    await writeFile(join(dayDir, "_MANIFEST.json"), JSON.stringify(manifest));
  }
  await writeFile(
    join(tableDir, "_VERSION"),
    JSON.stringify({ token: runId, changedAt: new Date().toISOString() }),
  );
}

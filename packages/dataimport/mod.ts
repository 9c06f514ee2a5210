/**
 * `@eventlake/dataimport` — Data Import, both sides of it. Customers deliver daily event data
 * as Parquet into their own S3 or GCS bucket, one `dt=YYYY-MM-DD/` partition a day marked ready
 * by a 0-byte `_SUCCESS`, in the one exact event schema of `@eventlake/schema`. This package
 * gives the producer the tools to write and check such partitions, and runs the daily D-1
 * import that reads a day, validates every row, drops duplicate `insert_id`s (within the day
 * and against a window of earlier days, 7 by default) and lands it into the event lake
 * atomically, replacing what an earlier run of that day landed.
 *
 * - Producer: {@linkcode exportEvents} (NDJSON, a JSON array, CSV or Parquet into ready
 *   partitions; `_SUCCESS` only when no more than `maxRejects` records were rejected) and
 *   {@linkcode validatePartitions} (checks days exactly as the importer will read them).
 * - Import: {@linkcode runImport} (one day of a source into one day of a lake table; the
 *   {@linkcode RunReport} says `SUCCEEDED`, `PARTIAL`, `FAILED` or `MISSING` and why),
 *   {@linkcode waitForPartition}, {@linkcode checkSource} (the pre-flight check of a source:
 *   listing it proves the credentials and the prefix, and a sample part's schema is shown),
 *   and the parts the import is built from:
 *   {@linkcode InsertIdSet} (the de-duplication set) and {@linkcode beginLanding} (the atomic
 *   landing of a day, its manifest the commit point).
 * - Jobs: {@linkcode ImportState} (jobs and run reports in SQLite; no credentials stored),
 *   {@linkcode runJob}, {@linkcode backfillJob} (a date range, bounded concurrency),
 *   {@linkcode runSchedule} (each day's run after its deadline, catch-up after a restart),
 *   {@linkcode importDeadline}, {@linkcode defaultImportDate}, and {@linkcode ImportWorkerPool}
 *   (import worker threads kept warm from run to run).
 *
 * @example Export a day, validate it, import it twice
 * ```ts
 * import { eventToJson } from "@eventlake/schema";
 * import { generateEvents } from "@eventlake/schema/testing";
 * import { createMemoryStore, openStore } from "@eventlake/storage";
 * import { exportEvents, runImport, validatePartitions } from "@eventlake/dataimport";
 *
 * // The producer: 100 events of 2023-01-01 as NDJSON, plus one record that is not an event.
 * const lines = generateEvents(100, { day: "2023-01-01" })
 *   .map((e) => JSON.stringify(eventToJson(e)));
 * const text = [...lines, '{"event_key":"broken"}'].join("\n") + "\n";
 * const stream = ReadableStream.from([new TextEncoder().encode(text)]);
 * const input = { name: "day.ndjson", stream };
 * const exported = await exportEvents([input], { to: "memory://shop/events", maxRejects: 1 });
 * console.log(exported.accepted, exported.rejected, exported.days[0].committed); // 100 1 true
 * const checked = await validatePartitions("memory://shop/events", { dates: ["2023-01-01"] });
 * console.log(checked.ok, checked.days[0].verdict); // true "ok"
 *
 * // The importer: land the day in a lake; a second run replaces it, never doubles it.
 * const { store, prefix } = await openStore("memory://shop/events");
 * const lake = { store: createMemoryStore() };
 * for (let run = 0; run < 2; run++) {
 *   const report = await runImport({ store, prefix }, "2023-01-01", { lake });
 *   console.log(report.status, report.rowsAccepted, report.rowsDuplicate); // "SUCCEEDED" 100 0
 * }
 * ```
 *
 * @example A stored job and a backfill of two days
 * ```ts
 * import { eventToJson } from "@eventlake/schema";
 * import { generateEvents } from "@eventlake/schema/testing";
 * import { createMemoryStore, openStore } from "@eventlake/storage";
 * import { backfillJob, exportEvents, ImportState, importDeadline } from "@eventlake/dataimport";
 * const text = generateEvents(50, { day: "2023-01-01" })
 *   .map((e) => JSON.stringify(eventToJson(e)) + "\n").join("");
 * const stream = ReadableStream.from([new TextEncoder().encode(text)]);
 * const input = { name: "day.ndjson", stream };
 * await exportEvents([input], { to: "memory://jobs-doc/events" });
 *
 * const state = ImportState.open(":memory:");
 * const job = state.createJob({
 *   name: "daily", creatorName: "alice", sourceUrl: "memory://jobs-doc/events",
 * });
 * // The data of 2023-01-01 is due at 13:00 Seoul time (the default) the next day.
 * const deadline = importDeadline("2023-01-01", job);
 * console.log(new Date(deadline).toISOString()); // "2023-01-02T04:00:00.000Z"
 * const lake = { store: createMemoryStore() };
 * const reports = await backfillJob(state, job, {
 *   from: "2023-01-01",
 *   to: "2023-01-02",
 *   open: async ({ sourceUrl }) => ({
 *     source: await openStore(sourceUrl),
 *     lake,
 *     close: async () => {},
 *   }),
 * });
 * console.log(reports.map((r) => `${r.date} ${r.status} ${r.rowsAccepted}`));
 * // [ "2023-01-01 SUCCEEDED 50", "2023-01-02 MISSING 0" ]
 * console.log(state.getRun(reports[0].runId).rowsAccepted); // 50 (the report is stored)
 * state.close();
 * ```
 *
 * @module
 */

/** The package version. */
export const VERSION = "0.1.0";
export * from "./export.ts";
export * from "./validate.ts";
export * from "./dedup.ts";
export * from "./land.ts";
export * from "./run.ts";
export { ImportWorkerPool, type ImportWorkerPoolOptions } from "./_import_pool.ts";
export * from "./job.ts";
export * from "./schedule.ts";
export * from "./check.ts";

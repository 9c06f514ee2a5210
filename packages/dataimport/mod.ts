/**
 * `@eventlake/dataimport` — under construction.
 *
 * @example
 * ```ts
 * import { VERSION } from "@eventlake/dataimport";
 * console.log(VERSION); // "0.1.0"
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

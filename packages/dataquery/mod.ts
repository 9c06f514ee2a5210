/**
 * `@eventlake/dataquery` — the Data Query service: engines, query lifecycle, results in object
 * storage, data sources, identities.
 *
 * @example
 * ```ts
 * import type { QueryEngine } from "@eventlake/dataquery";
 * const engineName = (engine: QueryEngine): string => engine.name;
 * console.log(typeof engineName); // "function"
 * ```
 *
 * @module
 */
export type * from "./engine.ts";
export * from "./service.ts";
export * from "./state_sqlite.ts";
export * from "./request.ts";
export * from "./buckets.ts";
export * from "./local_buckets.ts";
export * from "./format.ts";
export { createDuckDbEngine, DuckDbEngine, type DuckDbEngineOptions } from "./duckdb.ts";
export * from "./trino.ts";

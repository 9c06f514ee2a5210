/**
 * `@eventlake/parquet` — write and read Data Import event files in Parquet.
 *
 * @example
 * ```ts
 * import { bytesSource } from "@eventlake/parquet";
 * console.log(bytesSource(new Uint8Array(4)).size); // 4
 * ```
 *
 * @module
 */
export * from "./source.ts";
export * from "./file_source.ts";
export * from "./read.ts";
export * from "./inspect.ts";
export * from "./write.ts";

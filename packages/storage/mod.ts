/**
 * `@eventlake/storage` — one object-store interface over a local folder, S3, GCS and memory,
 * with the `dt=` partition protocol of the Data Import format.
 *
 * @example
 * ```ts
 * import { checkKey } from "@eventlake/storage";
 * console.log(checkKey("events/dt=2023-01-01/000000000000.parquet"));
 * ```
 *
 * @module
 */
export type * from "./store.ts";
export * from "./keys.ts";
export * from "./lake.ts";
export * from "./memory.ts";
export * from "./local.ts";
export * from "./partition.ts";
export * from "./retry.ts";
export * from "./transfer.ts";
export * from "./url.ts";
export * from "./s3.ts";
export * from "./gcs.ts";

/**
 * `@eventlake/storage` — one object-store interface over a local folder, S3, GCS and memory,
 * with the `dt=` partition protocol of the Data Import format.
 *
 * @example
 * ```ts
 * import type { ObjectStore } from "@eventlake/storage";
 * const describe = (store: ObjectStore): string => store.url;
 * console.log(typeof describe); // "function"
 * ```
 *
 * @module
 */
export type * from "./store.ts";

/**
 * `@eventlake/dataquery` — under construction.
 *
 * @example
 * ```ts
 * import { VERSION } from "@eventlake/dataquery";
 * console.log(VERSION); // "0.1.0"
 * ```
 *
 * @module
 */

/** The package version. */
export const VERSION = "0.1.0";

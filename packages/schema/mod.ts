/**
 * `@eventlake/schema` — the Data Import event format and the shared error family.
 *
 * @example
 * ```ts
 * import { formatDecimal, parseDecimal } from "@eventlake/schema";
 * const parsed = parseDecimal("91063.82");
 * if (parsed.ok) console.log(formatDecimal(parsed.value)); // "91063.820000"
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./event.ts";
export * from "./decimal.ts";

/**
 * `@eventlake/schema` — the Data Import event format: the normalised {@linkcode Event}, the
 * validation of a producer's NDJSON record ({@linkcode validateEventInput}, and the same rules as
 * the valibot {@linkcode EventInputSchema}), the fast {@linkcode checkEvent} for events read from
 * Parquet, exact DECIMAL(24,6) and timestamp conversions, and the shared error family.
 *
 * Test data lives in a separate entry: `@eventlake/schema/testing` (`generateEvents`).
 *
 * @example Validate one NDJSON line
 * ```ts
 * import { checkEvent, eventToJson, validateEventInput } from "@eventlake/schema";
 * const line = '{"insert_id":"8fb8e088-9245-4fce-bb87-7e09d9917ed6","event_key":"purchase",' +
 *   '"ts":"2023-01-01T00:01:02.333999Z","metric_value":"91063.82",' +
 *   '"identifiers":{"id":"u-1","device_id":"89ABCDEF-01234567-89ABCDEF","user_id":"49591"},' +
 *   '"event_properties":{"product_id":"33537"},"user_properties":{"grade":"GOLD"},' +
 *   '"platform_properties":{"OSName":"Android","appversion":"6.9.0"}}';
 * const result = validateEventInput(JSON.parse(line));
 * if (result.ok) {
 *   console.log(result.event.ts); // 1672531262333 (sub-millisecond part truncated)
 *   console.log(result.event.platform_properties.osname); // "Android" (keys lowercased)
 *   console.log(checkEvent(result.event).length); // 0
 *   console.log(eventToJson(result.event).metric_value); // "91063.820000"
 * } else {
 *   for (const p of result.problems) console.log(`${p.path}: ${p.message}`);
 * }
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./event.ts";
export * from "./decimal.ts";
export * from "./problem.ts";
export * from "./timestamp.ts";
export * from "./map_keys.ts";
export * from "./validate.ts";
export * from "./event_schema.ts";
export * from "./check.ts";
export * from "./json.ts";

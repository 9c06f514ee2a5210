/**
 * The NDJSON form of an event: what a producer sends and what the CLI prints.
 *
 * @module
 */

import { formatDecimal } from "./decimal.ts";
import type { Event, EventMap } from "./event.ts";
import { formatTimestamp } from "./timestamp.ts";

/** An event as JSON: `ts` ISO-8601 with milliseconds and `Z`, `metric_value` a decimal string. */
export interface EventJson {
  /** `2023-01-01T00:01:02.333Z`. */
  ts: string;
  /** The event's name. */
  event_key: string;
  /** Identifiers. */
  identifiers: EventMap;
  /** UUID. */
  insert_id: string;
  /** Decimal text with 6 fraction digits: `"91063.820000"`. */
  metric_value: string;
  /** User properties. */
  user_properties: EventMap;
  /** Event properties. */
  event_properties: EventMap;
  /** Platform properties. */
  platform_properties: EventMap;
}

/**
 * Converts an event to its NDJSON form, in the column order of the Data Import document
 * (`JSON.stringify` it for one NDJSON line). Maps are copied. For a valid event without null map
 * values, {@linkcode validateEventInput} of the result gives the same event back.
 *
 * @example
 * ```ts
 * import { eventToJson, validateEventInput } from "@eventlake/schema";
 * const event = {
 *   insert_id: "8fb8e088-9245-4fce-bb87-7e09d9917ed6",
 *   event_key: "purchase",
 *   ts: 1672531262333,
 *   metric_value: 91063820000n,
 *   identifiers: { id: "u-1", device_id: "d-1" },
 *   event_properties: { product_id: "33537" },
 *   user_properties: {},
 *   platform_properties: { osname: "iOS", appversion: "6.9.3" },
 * };
 * const json = eventToJson(event);
 * console.log(json.ts, json.metric_value); // "2023-01-01T00:01:02.333Z" "91063.820000"
 * const back = validateEventInput(JSON.parse(JSON.stringify(json)));
 * console.log(back.ok && back.event.metric_value === event.metric_value); // true
 * ```
 */
export function eventToJson(event: Event): EventJson {
  return {
    ts: formatTimestamp(event.ts),
    event_key: event.event_key,
    identifiers: { ...event.identifiers },
    insert_id: event.insert_id,
    metric_value: formatDecimal(event.metric_value),
    user_properties: { ...event.user_properties },
    event_properties: { ...event.event_properties },
    platform_properties: { ...event.platform_properties },
  };
}

/**
 * The normalised event record of the Data Import format.
 *
 * @module
 */

/** A `Map<String, String>` column: keys are lowercase; a value may be null only when read from a file. */
export type EventMap = Record<string, string | null>;

/**
 * One event, normalised: the in-memory form every package passes around.
 *
 * - `ts` is epoch milliseconds (UTC), an integer; the sub-millisecond part was truncated.
 * - `metric_value` is the UNSCALED DECIMAL(24,6) value: `123.45` is `123450000n`.
 *   Use {@linkcode formatDecimal} / {@linkcode parseDecimal} from `decimal.ts` to convert.
 * - Map keys are lowercase.
 */
export interface Event {
  /** UUID, the de-duplication key. */
  insert_id: string;
  /** The event's name, non-empty. */
  event_key: string;
  /** Client timestamp, epoch milliseconds UTC. */
  ts: number;
  /** DECIMAL(24,6), unscaled (value × 10^6). `0n` means "no value". */
  metric_value: bigint;
  /** User identifiers: `id` and `device_id` required. */
  identifiers: EventMap;
  /** Event properties. */
  event_properties: EventMap;
  /** User properties. */
  user_properties: EventMap;
  /** Platform properties: `osname` and `appversion` required. */
  platform_properties: EventMap;
}

/** The four map columns, in the seed's order. */
export const MAP_COLUMNS = [
  "identifiers",
  "user_properties",
  "event_properties",
  "platform_properties",
] as const;

/** Name of a map column. */
export type MapColumn = typeof MAP_COLUMNS[number];

/**
 * The Parquet columns in the order of the Data Import document's printSchema:
 * `ts, event_key, identifiers, insert_id, metric_value, user_properties, event_properties, platform_properties`.
 */
export const EVENT_COLUMNS = [
  "ts",
  "event_key",
  "identifiers",
  "insert_id",
  "metric_value",
  "user_properties",
  "event_properties",
  "platform_properties",
] as const;

/** Name of an event column. */
export type EventColumn = typeof EVENT_COLUMNS[number];

/** Precision of `metric_value`. */
export const METRIC_PRECISION = 24;
/** Scale of `metric_value`. */
export const METRIC_SCALE = 6;

/**
 * Validation and normalisation of a producer's record (one NDJSON line) into an {@linkcode Event}.
 *
 * @module
 */

import {
  eventKeyField,
  INPUT_FIELDS,
  insertIdField,
  isPlainObject,
  mapField,
  metricValueField,
  missingFieldProblem,
  type Report,
  tsField,
  typeMessage,
  unknownFieldProblem,
} from "./_fields.ts";
import type { Event } from "./event.ts";
import { describeValue, type Problem, problemsError } from "./problem.ts";

/**
 * A producer's record as it comes from NDJSON: fields named exactly like the Parquet columns.
 *
 * - `ts`: ISO-8601 text with `Z` or an offset, or a number of epoch milliseconds (see `parseTimestamp`).
 * - `metric_value`: a decimal string (exact); a JSON number only when it is exact (at most 6
 *   fraction digits and at most 2^53−1 once scaled by 10^6); a bigint is the UNSCALED value.
 *   Omitted means `0.0`, the document's "no value".
 * - `identifiers`: an object, or a string holding a JSON object (the seed's printSchema says
 *   `identifiers: string`); `id` and `device_id` are required and non-empty.
 * - `platform_properties`: an object with non-empty `osname` and `appversion`.
 * - `event_properties`, `user_properties`: objects; omitted means `{}`.
 * - Map values are strings (numbers, booleans and null are refused); keys are lowercased.
 */
export interface EventInput {
  /** UUID, any case; stored lowercase. */
  insert_id: string;
  /** The event's name, non-empty. */
  event_key: string;
  /** An instant: ISO-8601 with an offset, or epoch milliseconds. */
  ts: string | number;
  /** DECIMAL(24,6): decimal string, exact JSON number, or unscaled bigint; default `0.0`. */
  metric_value?: string | number | bigint;
  /** Identifiers, as an object or a JSON-object string. */
  identifiers: string | Record<string, string>;
  /** Event properties; default `{}`. */
  event_properties?: Record<string, string>;
  /** User properties; default `{}`. */
  user_properties?: Record<string, string>;
  /** Platform properties. */
  platform_properties: Record<string, string>;
}

/** The result of {@linkcode validateEventInput}. */
export type EventResult = { ok: true; event: Event } | { ok: false; problems: Problem[] };

/**
 * Validates and normalises one producer record. Never throws on bad data: it returns EVERY
 * problem of the record, each with its path, rule, message and (truncated) value.
 *
 * Refused: a record that is not a JSON object; unknown fields (with a hint such as
 * `did you mean "event_key"?`); missing required fields; and every field rule listed on
 * {@linkcode EventInput}.
 *
 * @example
 * ```ts
 * import { validateEventInput } from "@eventlake/schema";
 * const result = validateEventInput({
 *   insert_id: "8FB8E088-9245-4FCE-BB87-7E09D9917ED6",
 *   event_key: "purchase",
 *   ts: "2023-01-01 00:01:02.333999Z",
 *   metric_value: "91063.82",
 *   identifiers: '{"id":"u-1","Device_ID":"89ABCDEF-01234567-89ABCDEF"}',
 *   platform_properties: { osname: "iOS", appversion: "6.9.3" },
 * });
 * if (result.ok) {
 *   console.log(result.event.ts); // 1672531262333
 *   console.log(result.event.metric_value); // 91063820000n
 *   console.log(result.event.identifiers.device_id); // "89ABCDEF-01234567-89ABCDEF"
 * }
 * const bad = validateEventInput({ event_name: "purchase" });
 * if (!bad.ok) console.log(bad.problems.at(-1)?.message); // 'Unknown field "event_name": did you mean "event_key"?'
 * ```
 */
export function validateEventInput(input: unknown): EventResult {
  if (!isPlainObject(input)) {
    return {
      ok: false,
      problems: [{
        path: "",
        rule: "type",
        message: typeMessage("Record", "a JSON object", input),
        value: describeValue(input),
      }],
    };
  }
  let problems: Problem[] | undefined;
  const report: Report = (problem) => {
    (problems ??= []).push(problem);
  };
  const has = (key: string) => Object.hasOwn(input, key) && input[key] !== undefined;
  const field = <T>(
    key: string,
    parse: (value: unknown, path: string, report: Report) => T | undefined,
  ): T | undefined => {
    if (has(key)) return parse(input[key], key, report);
    report(missingFieldProblem(key));
    return undefined;
  };
  const ts = field("ts", tsField);
  const event_key = field("event_key", eventKeyField);
  const identifiers = field("identifiers", mapField);
  const insert_id = field("insert_id", insertIdField);
  const metric_value = has("metric_value")
    ? metricValueField(input.metric_value, "metric_value", report)
    : 0n;
  const user_properties = has("user_properties")
    ? mapField(input.user_properties, "user_properties", report)
    : {};
  const event_properties = has("event_properties")
    ? mapField(input.event_properties, "event_properties", report)
    : {};
  const platform_properties = field("platform_properties", mapField);
  for (const key of Object.keys(input)) {
    if (!INPUT_FIELDS.includes(key)) report(unknownFieldProblem(key));
  }
  if (problems !== undefined) return { ok: false, problems };
  return {
    ok: true,
    event: {
      ts: ts!,
      event_key: event_key!,
      identifiers: identifiers!,
      insert_id: insert_id!,
      metric_value: metric_value!,
      user_properties: user_properties!,
      event_properties: event_properties!,
      platform_properties: platform_properties!,
    },
  };
}

/**
 * Like {@linkcode validateEventInput}, but returns the event or throws an
 * `InvalidArgumentError` whose `details.problems` lists every problem.
 *
 * @example
 * ```ts
 * import { parseEventInput } from "@eventlake/schema";
 * try {
 *   parseEventInput({ insert_id: "nope" });
 * } catch (e) {
 *   console.log((e as Error).message); // 'Invalid event: ts: Field "ts" is missing (and 4 more)'
 * }
 * ```
 */
export function parseEventInput(input: unknown): Event {
  const result = validateEventInput(input);
  if (result.ok) return result.event;
  throw problemsError(result.problems);
}

/**
 * The valibot schema of a producer's record, for request validation and OpenAPI documents.
 *
 * @module
 */

import * as v from "valibot";
import {
  eventKeyField,
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
import type { Event, EventMap } from "./event.ts";
import { describeValue, type Problem } from "./problem.ts";
import type { EventInput } from "./validate.ts";

type Parse<T> = (value: unknown, path: string, report: Report) => T | undefined;

/** The message the field rule itself gives for a value the base type already refused. */
function messageOf(column: string, parse: Parse<unknown>): (issue: v.BaseIssue<unknown>) => string {
  return (issue) => {
    let message: string | undefined;
    parse(issue.input, column, (p) => {
      message ??= p.message;
    });
    return message ?? issue.message;
  };
}

/** Runs a shared field rule as a valibot transformation, turning its problems into issues. */
function rule<TIn, TOut>(column: string, parse: Parse<TOut>) {
  return v.rawTransform<TIn, TOut>(({ dataset, addIssue, NEVER }) => {
    const report: Report = (p) => {
      const key = p.path === column ? undefined : p.path.slice(column.length + 1);
      addIssue({
        message: p.message,
        expected: p.rule,
        input: p.value,
        received: p.value ?? "nothing",
        path: key === undefined
          ? undefined
          : [{ type: "object", origin: "value", input: {}, key, value: p.value }],
      });
    };
    return parse(dataset.value, column, report) ?? NEVER;
  });
}

const mapBase = (column: string) =>
  v.custom<Record<string, string>>(isPlainObject, messageOf(column, mapField));

const ENTRIES = {
  ts: v.pipe(
    v.union([v.string(), v.number()], messageOf("ts", tsField)),
    v.description(
      "Client timestamp: ISO-8601 with seconds and `Z` or an offset (`2023-01-01T00:01:02.333Z`), " +
        "or epoch milliseconds as a number; below a millisecond is truncated",
    ),
    rule<string | number, number>("ts", tsField),
  ),
  event_key: v.pipe(
    v.string(messageOf("event_key", eventKeyField)),
    v.description("The event's name, non-empty"),
    rule<string, string>("event_key", eventKeyField),
  ),
  identifiers: v.pipe(
    v.custom<string | Record<string, string>>(
      (x) => typeof x === "string" || isPlainObject(x),
      messageOf("identifiers", mapField),
    ),
    v.description(
      "Object of string values (or a string holding one); `id` and `device_id` required; " +
        "keys are stored lowercase",
    ),
    rule<string | Record<string, string>, EventMap>("identifiers", mapField),
  ),
  insert_id: v.pipe(
    v.string(messageOf("insert_id", insertIdField)),
    v.description("UUID, the de-duplication key; stored lowercase"),
    rule<string, string>("insert_id", insertIdField),
  ),
  metric_value: v.optional(
    v.pipe(
      v.union([v.string(), v.number(), v.bigint()], messageOf("metric_value", metricValueField)),
      v.description(
        'DECIMAL(24,6): a decimal string such as `"-12.5"` (at most 18 integer and 6 fraction ' +
          "digits), or a number only when exact; default `0.0` (no value)",
      ),
      rule<string | number | bigint, bigint>("metric_value", metricValueField),
    ),
    "0",
  ),
  user_properties: v.optional(
    v.pipe(
      mapBase("user_properties"),
      v.description("Object of string values; keys are stored lowercase; default `{}`"),
      rule<Record<string, string>, EventMap>("user_properties", mapField),
    ),
    {},
  ),
  event_properties: v.optional(
    v.pipe(
      mapBase("event_properties"),
      v.description("Object of string values; keys are stored lowercase; default `{}`"),
      rule<Record<string, string>, EventMap>("event_properties", mapField),
    ),
    {},
  ),
  platform_properties: v.pipe(
    mapBase("platform_properties"),
    v.description(
      "Object of string values; `osname` and `appversion` required; keys are stored lowercase",
    ),
    rule<Record<string, string>, EventMap>("platform_properties", mapField),
  ),
};

/**
 * The valibot schema of one producer record ({@linkcode EventInput} in, normalised
 * {@linkcode Event} out). It runs the same field rules as {@linkcode validateEventInput}, so both
 * accept the same records and produce the same events; `validateEventInput` additionally names
 * every unknown field (valibot's `strictObject` stops at the first) and says "must be a JSON
 * object" for an array. Convert its issues with {@linkcode problemsFromIssues}.
 *
 * For a JSON Schema (`@valibot/to-json-schema`), pass `errorMode: "ignore"`: the rules are
 * transformations, and `metric_value` also accepts a bigint.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { EventInputSchema, problemsFromIssues } from "@eventlake/schema";
 * const result = v.safeParse(EventInputSchema, { event_key: "" }, { abortEarly: false });
 * if (!result.success) console.log(problemsFromIssues(result.issues).map((p) => p.path));
 * // ["ts", "event_key", "identifiers", "insert_id", "platform_properties"]
 * ```
 */
export const EventInputSchema: v.GenericSchema<EventInput, Event> = v.strictObject(
  ENTRIES,
  (issue) => {
    if (issue.expected === "never") return unknownFieldProblem(String(issue.input)).message;
    const key = issue.path?.[0]?.key;
    if (key !== undefined) return missingFieldProblem(String(key)).message;
    return typeMessage("Record", "a JSON object", issue.input);
  },
);

/**
 * Converts the issues of {@linkcode EventInputSchema} into {@linkcode Problem}s, the shape
 * {@linkcode validateEventInput} returns.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { EventInputSchema, problemsFromIssues } from "@eventlake/schema";
 * const result = v.safeParse(EventInputSchema, 42);
 * if (!result.success) console.log(problemsFromIssues(result.issues)[0].rule); // "type"
 * ```
 */
export function problemsFromIssues(issues: readonly v.BaseIssue<unknown>[]): Problem[] {
  return issues.map((issue): Problem => {
    const path = issue.path?.map((item) => String(item.key)).join(".") ?? "";
    if (issue.type === "raw_transform") {
      const problem: Problem = { path, rule: issue.expected ?? "invalid", message: issue.message };
      if (typeof issue.input === "string") problem.value = issue.input;
      return problem;
    }
    if (issue.type === "strict_object" && issue.path !== undefined) {
      return issue.expected === "never"
        ? { path, rule: "unknown_field", message: issue.message }
        : { path, rule: "required", message: issue.message };
    }
    return { path, rule: "type", message: issue.message, value: describeValue(issue.input) };
  });
}

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import * as v from "valibot";
import { EventInputSchema, problemsFromIssues } from "./event_schema.ts";
import { eventToJson } from "./json.ts";
import type { Problem } from "./problem.ts";
import { generateEvents } from "./testing.ts";
import { type EventResult, validateEventInput } from "./validate.ts";

const good = () => JSON.parse(JSON.stringify(eventToJson(generateEvents(1, { seed: 9 })[0])));

function withField(key: string, value: unknown): Record<string, unknown> {
  const record = good();
  if (value === undefined) delete record[key];
  else record[key] = value;
  return record;
}

const ID = "8fb8e088-9245-4fce-bb87-7e09d9917ed6";

/** One case per rule and input form; the schema and the function must agree on each. */
const CASES: Array<[string, unknown]> = [
  ["a generated record", good()],
  ["not an object", 42],
  ["null", null],
  ["an empty object", {}],
  ["an unknown field", { ...good(), event_name: "x" }],
  ["two unknown fields", { ...good(), event_name: "x", timestamp: 1 }],
  ["an uppercase insert_id", withField("insert_id", ID.toUpperCase())],
  ["a bad insert_id", withField("insert_id", "nope")],
  ["a numeric insert_id", withField("insert_id", 7)],
  ["an empty event_key", withField("event_key", "")],
  ["a null event_key", withField("event_key", null)],
  ["ts with Z and a long fraction", withField("ts", "2023-01-01T00:01:02.333999Z")],
  ["ts in the seed's form with an offset", withField("ts", "2023-01-01 09:01:02.333+09:00")],
  ["ts without offset", withField("ts", "2023-01-01 00:01:02.333")],
  ["ts as epoch ms", withField("ts", 1672531262333)],
  ["ts as a fractional negative number", withField("ts", -0.5)],
  ["ts as digits in a string", withField("ts", "1672531262333")],
  ["ts as a boolean", withField("ts", true)],
  ["metric_value omitted", withField("metric_value", undefined)],
  ["metric_value at the upper limit", withField("metric_value", "999999999999999999.999999")],
  ["metric_value at the lower limit", withField("metric_value", "-999999999999999999.999999")],
  ["metric_value too many fraction digits", withField("metric_value", "0.0000001")],
  ["metric_value too many integer digits", withField("metric_value", "1000000000000000000")],
  ["metric_value exponent", withField("metric_value", "1e3")],
  ["metric_value exact number", withField("metric_value", 12.5)],
  ["metric_value inexact number", withField("metric_value", 0.1234567)],
  ["metric_value huge number", withField("metric_value", 123456789012345678)],
  ["metric_value bigint", withField("metric_value", 5n)],
  ["metric_value null", withField("metric_value", null)],
  [
    "identifiers as a JSON string",
    withField("identifiers", JSON.stringify({ id: "a", device_id: "b" })),
  ],
  ["identifiers as broken JSON", withField("identifiers", "{")],
  ["identifiers as a JSON array string", withField("identifiers", "[]")],
  ["identifiers without device_id", withField("identifiers", { id: "a" })],
  ["identifiers with an empty id", withField("identifiers", { id: "", device_id: "b" })],
  ["identifiers with a number", withField("identifiers", { id: 1, device_id: "b" })],
  ["identifiers with mixed-case keys", withField("identifiers", { ID: "a", Device_Id: "b" })],
  ["identifiers with a case clash", withField("identifiers", { id: "a", ID: "b", device_id: "c" })],
  ["identifiers as an array", withField("identifiers", [])],
  ["event_properties omitted", withField("event_properties", undefined)],
  ["event_properties with null", withField("event_properties", { a: null })],
  ["event_properties with an empty key", withField("event_properties", { "": "x" })],
  ["event_properties as a string", withField("event_properties", "{}")],
  ["user_properties with a boolean", withField("user_properties", { vip: true })],
  ["platform_properties without appversion", withField("platform_properties", { osname: "iOS" })],
  ["platform_properties missing", withField("platform_properties", undefined)],
  ["many problems at once", {
    ts: "x",
    event_key: "",
    identifiers: {},
    insert_id: "x",
    metric_value: "x",
    platform_properties: {},
  }],
];

function viaSchema(input: unknown): EventResult {
  const result = v.safeParse(EventInputSchema, input, { abortEarly: false });
  return result.success
    ? { ok: true, event: result.output }
    : { ok: false, problems: problemsFromIssues(result.issues) };
}

/** valibot's strictObject reports only the first unknown field. */
function firstUnknownOnly(problems: Problem[]): Problem[] {
  let seen = false;
  return problems.filter((p) => {
    if (p.rule !== "unknown_field") return true;
    if (seen) return false;
    seen = true;
    return true;
  });
}

Deno.test("EventInputSchema and validateEventInput() agree on every rule and input form", () => {
  for (const [name, input] of CASES) {
    const expected = validateEventInput(input);
    const actual = viaSchema(input);
    strictEqual(actual.ok, expected.ok, name);
    if (expected.ok && actual.ok) deepStrictEqual(actual.event, expected.event, name);
    if (!expected.ok && !actual.ok) {
      deepStrictEqual(actual.problems, firstUnknownOnly(expected.problems), name);
    }
  }
});

Deno.test("EventInputSchema and validateEventInput() agree on generated records", () => {
  for (const e of generateEvents(300, { seed: 11 })) {
    const input = JSON.parse(JSON.stringify(eventToJson(e)));
    deepStrictEqual(viaSchema(input), validateEventInput(input));
  }
});

Deno.test("EventInputSchema refuses an array record, as validateEventInput() does", () => {
  strictEqual(viaSchema([good()]).ok, false);
  strictEqual(validateEventInput([good()]).ok, false);
});

Deno.test("EventInputSchema stops at the first problem when asked to abort early", () => {
  const result = v.safeParse(EventInputSchema, { insert_id: "x" }, { abortEarly: true });
  ok(!result.success);
  strictEqual(result.issues.length, 1);
});

Deno.test("problemsFromIssues() keeps path, rule, message and value", () => {
  const result = v.safeParse(EventInputSchema, withField("insert_id", "nope"), {
    abortEarly: false,
  });
  ok(!result.success);
  deepStrictEqual(problemsFromIssues(result.issues), [{
    path: "insert_id",
    rule: "uuid",
    message: 'insert_id "nope" is not a UUID: expected 8-4-4-4-12 hexadecimal digits such as ' +
      '"8fb8e088-9245-4fce-bb87-7e09d9917ed6"',
    value: "nope",
  }]);
});

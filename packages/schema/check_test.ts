import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { checkEvent } from "./check.ts";
import type { Event } from "./event.ts";
import { eventToJson } from "./json.ts";
import { generateEvents } from "./testing.ts";
import { validateEventInput } from "./validate.ts";

function event(overrides: Partial<Record<keyof Event, unknown>> = {}): Event {
  return {
    insert_id: "8fb8e088-9245-4fce-bb87-7e09d9917ed6",
    event_key: "purchase",
    ts: 1672531262333,
    metric_value: 91063820000n,
    identifiers: { id: "u-1", device_id: "89ABCDEF-01234567-89ABCDEF", user_id: "49591" },
    event_properties: { product_id: "33537" },
    user_properties: {},
    platform_properties: { osname: "iOS", appversion: "6.9.3" },
    ...overrides,
  } as Event;
}

const rules = (e: Event) => checkEvent(e).map((p) => `${p.path} ${p.rule}`);

Deno.test("checkEvent() returns the same empty array for every valid event", () => {
  const first = checkEvent(event());
  strictEqual(first.length, 0);
  strictEqual(checkEvent(event({ metric_value: 0n })), first);
  ok(Object.isFrozen(first));
});

Deno.test("checkEvent() accepts null values in maps read from a file, except required keys", () => {
  deepStrictEqual(rules(event({ event_properties: { a: null } })), []);
  deepStrictEqual(rules(event({ identifiers: { id: "u", device_id: null } })), [
    "identifiers.device_id non_empty",
  ]);
});

Deno.test("checkEvent() accepts an uppercase UUID as read, and refuses a malformed one", () => {
  deepStrictEqual(rules(event({ insert_id: "8FB8E088-9245-4FCE-BB87-7E09D9917ED6" })), []);
  deepStrictEqual(rules(event({ insert_id: "8fb8e088-9245-4fce-bb87-7e09d9917ed" })), [
    "insert_id uuid",
  ]);
  deepStrictEqual(rules(event({ insert_id: 42 })), ["insert_id type"]);
});

Deno.test("checkEvent() refuses an empty event_key", () => {
  deepStrictEqual(checkEvent(event({ event_key: "" })), [{
    path: "event_key",
    rule: "non_empty",
    message: "event_key must not be empty",
    value: "",
  }]);
});

Deno.test("checkEvent() requires integer ts within years 0000-9999", () => {
  deepStrictEqual(rules(event({ ts: -62167219200000 })), []);
  deepStrictEqual(rules(event({ ts: 253402300799999 })), []);
  deepStrictEqual(rules(event({ ts: 1.5 })), ["ts integer"]);
  deepStrictEqual(rules(event({ ts: Number.NaN })), ["ts integer"]);
  deepStrictEqual(rules(event({ ts: "1672531262333" })), ["ts integer"]);
  deepStrictEqual(rules(event({ ts: 253402300800000 })), ["ts range"]);
});

Deno.test("checkEvent() requires a bigint metric_value within DECIMAL(24,6)", () => {
  deepStrictEqual(rules(event({ metric_value: 10n ** 24n - 1n })), []);
  deepStrictEqual(rules(event({ metric_value: -(10n ** 24n - 1n) })), []);
  deepStrictEqual(rules(event({ metric_value: 10n ** 24n })), ["metric_value decimal_precision"]);
  deepStrictEqual(rules(event({ metric_value: -(10n ** 24n) })), [
    "metric_value decimal_precision",
  ]);
  deepStrictEqual(rules(event({ metric_value: 1.5 })), ["metric_value type"]);
});

Deno.test("checkEvent() requires id, device_id, osname and appversion", () => {
  deepStrictEqual(rules(event({ identifiers: {}, platform_properties: { osname: "" } })), [
    "identifiers.id required",
    "identifiers.device_id required",
    "platform_properties.osname non_empty",
    "platform_properties.appversion required",
  ]);
});

Deno.test("checkEvent() refuses keys that are not lowercase, naming a case twin too", () => {
  deepStrictEqual(checkEvent(event({ event_properties: { Product_ID: "1" } })), [{
    path: "event_properties.Product_ID",
    rule: "key_lowercase",
    message: 'event_properties key "Product_ID" is not lowercase: keys are stored lowercase',
    value: "Product_ID",
  }]);
  deepStrictEqual(checkEvent(event({ user_properties: { grade: "a", Grade: "b" } })), [{
    path: "user_properties.Grade",
    rule: "key_case",
    message:
      'Keys "grade" and "Grade" of user_properties differ only in case: keys are stored lowercase',
    value: "Grade",
  }]);
  deepStrictEqual(rules(event({ user_properties: { "ÄPFEL": "x", äpfel: "y", 상품: "z" } })), [
    "user_properties.ÄPFEL key_case",
  ]);
  deepStrictEqual(rules(event({ user_properties: { "": "x" } })), ["user_properties. key_empty"]);
});

Deno.test("checkEvent() refuses map values that are neither strings nor null, and non-object maps", () => {
  deepStrictEqual(rules(event({ event_properties: { n: 1 } })), ["event_properties.n value_type"]);
  deepStrictEqual(rules(event({ user_properties: null })), ["user_properties type"]);
  deepStrictEqual(rules(event({ user_properties: ["a"] })), ["user_properties type"]);
});

Deno.test("checkEvent() reports every problem of an event at once", () => {
  deepStrictEqual(
    rules(event({
      insert_id: "x",
      event_key: "",
      ts: 0.5,
      metric_value: 10n ** 30n,
      identifiers: { ID: "u" },
      platform_properties: {},
    })),
    [
      "insert_id uuid",
      "event_key non_empty",
      "ts integer",
      "metric_value decimal_precision",
      "identifiers.ID key_lowercase",
      "identifiers.id required",
      "identifiers.device_id required",
      "platform_properties.osname required",
      "platform_properties.appversion required",
    ],
  );
});

Deno.test("checkEvent() passes every event validateEventInput() produces", () => {
  for (const e of generateEvents(500, { seed: 3 })) {
    const json = eventToJson(e);
    const shouted = {
      ...json,
      insert_id: json.insert_id.toUpperCase(),
      platform_properties: {
        OSNAME: e.platform_properties.osname,
        AppVersion: e.platform_properties.appversion,
      },
    };
    const result = validateEventInput(JSON.parse(JSON.stringify(shouted)));
    ok(result.ok);
    strictEqual(checkEvent(result.event).length, 0);
  }
});

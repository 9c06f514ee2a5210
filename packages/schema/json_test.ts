import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import type { Event } from "./event.ts";
import { eventToJson } from "./json.ts";
import { generateEvents } from "./testing.ts";
import { validateEventInput } from "./validate.ts";

const EVENT: Event = {
  insert_id: "8fb8e088-9245-4fce-bb87-7e09d9917ed6",
  event_key: "purchase",
  ts: -1,
  metric_value: -999999999999999999999999n,
  identifiers: { id: "u-1", device_id: "d-1" },
  event_properties: { 상품: "신발" },
  user_properties: {},
  platform_properties: { osname: "iOS", appversion: "6.9.3" },
};

Deno.test("eventToJson() prints ts with milliseconds and Z, metric_value as exact decimal text", () => {
  deepStrictEqual(eventToJson(EVENT), {
    ts: "1969-12-31T23:59:59.999Z",
    event_key: "purchase",
    identifiers: { id: "u-1", device_id: "d-1" },
    insert_id: "8fb8e088-9245-4fce-bb87-7e09d9917ed6",
    metric_value: "-999999999999999999.999999",
    user_properties: {},
    event_properties: { 상품: "신발" },
    platform_properties: { osname: "iOS", appversion: "6.9.3" },
  });
});

Deno.test("eventToJson() writes the columns in the Data Import document's order", () => {
  deepStrictEqual(Object.keys(eventToJson(EVENT)), [
    "ts",
    "event_key",
    "identifiers",
    "insert_id",
    "metric_value",
    "user_properties",
    "event_properties",
    "platform_properties",
  ]);
});

Deno.test("eventToJson() copies maps so the JSON form can be changed freely", () => {
  const json = eventToJson(EVENT);
  json.identifiers.id = "changed";
  strictEqual(EVENT.identifiers.id, "u-1");
});

Deno.test("eventToJson() round-trips through NDJSON and validateEventInput()", () => {
  for (const event of [EVENT, ...generateEvents(2000, { seed: 5 })]) {
    const line = JSON.stringify(eventToJson(event));
    deepStrictEqual(validateEventInput(JSON.parse(line)), { ok: true, event });
  }
});

Deno.test("eventToJson() throws a RangeError for a ts that no event can have", () => {
  throws(() => eventToJson({ ...EVENT, ts: 1.5 }), RangeError);
});

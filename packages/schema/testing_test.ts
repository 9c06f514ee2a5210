import { deepStrictEqual, notDeepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { checkEvent } from "./check.ts";
import { createEventGenerator, generateEvents } from "./testing.ts";

Deno.test("generateEvents() is deterministic for a seed and differs between seeds", () => {
  deepStrictEqual(generateEvents(200, { seed: 42 }), generateEvents(200, { seed: 42 }));
  notDeepStrictEqual(generateEvents(20, { seed: 42 }), generateEvents(20, { seed: 43 }));
  deepStrictEqual(generateEvents(5), generateEvents(5, { seed: 1 }));
  const next = createEventGenerator({ seed: 42 });
  deepStrictEqual([next(), next()], generateEvents(2, { seed: 42 }));
});

Deno.test("generateEvents() makes events that all pass checkEvent()", () => {
  const events = generateEvents(10_000, { seed: 7 });
  for (const e of events) deepStrictEqual(checkEvent(e), []);
});

Deno.test("generateEvents() puts every ts within the requested UTC day", () => {
  const start = Date.UTC(1969, 11, 31);
  for (const e of generateEvents(2000, { seed: 1, day: "1969-12-31" })) {
    ok(e.ts >= start && e.ts < start + 86_400_000, String(e.ts));
  }
});

Deno.test("generateEvents() keeps the key count of property maps within mapKeys, or empty", () => {
  const sizes = new Set<number>();
  for (const e of generateEvents(2000, { seed: 2, mapKeys: [2, 4] })) {
    for (const map of [e.event_properties, e.user_properties]) {
      const n = Object.keys(map).length;
      ok(n === 0 || (n >= 2 && n <= 4), String(n));
      sizes.add(n);
    }
  }
  deepStrictEqual([...sizes].sort(), [0, 2, 3, 4]);
  for (const e of generateEvents(50, { mapKeys: [0, 0] })) {
    strictEqual(Object.keys(e.event_properties).length, 0);
  }
});

Deno.test("generateEvents() covers the interesting values: big, negative, zero, non-ASCII, empty", () => {
  const events = generateEvents(10_000, { seed: 3 });
  const has = (f: (e: (typeof events)[number]) => boolean) => events.some(f);
  ok(
    has((e) => e.metric_value >= 10n ** 23n || e.metric_value <= -(10n ** 23n)),
    "18 integer digits",
  );
  ok(has((e) => e.metric_value < 0n), "negative");
  ok(has((e) => e.metric_value === 0n), "zero");
  ok(has((e) => e.metric_value % 1_000_000n !== 0n), "fraction digits");
  // deno-lint-ignore no-control-regex
  const nonAscii = /[^\u0000-\u007f]/;
  ok(
    has((e) => Object.values(e.event_properties).some((v) => nonAscii.test(v ?? ""))),
    "non-ASCII",
  );
  ok(has((e) => Object.keys(e.event_properties).length === 0), "empty event_properties");
  ok(has((e) => Object.keys(e.user_properties).length === 0), "empty user_properties");
  ok(has((e) => e.platform_properties.osname === "Android"));
  ok(has((e) => e.platform_properties.osname === "iOS"));
  ok(has((e) => e.identifiers.user_id !== undefined));
  ok(has((e) => e.identifiers.user_id === undefined));
  strictEqual(new Set(events.map((e) => e.insert_id)).size, events.length, "insert_id is unique");
});

Deno.test("generateEvents() makes version-4 UUIDs", () => {
  for (const e of generateEvents(500, { seed: 4 })) {
    ok(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(e.insert_id),
      e.insert_id,
    );
  }
});

Deno.test("generateEvents() throws a RangeError for invalid options", () => {
  throws(() => generateEvents(-1), RangeError);
  throws(() => generateEvents(1.5), RangeError);
  throws(() => generateEvents(1, { day: "2023-13-01" }), /day "2023-13-01" is not a UTC day/);
  throws(() => generateEvents(1, { day: "2023-1-1" }), RangeError);
  throws(() => generateEvents(1, { mapKeys: [4, 2] }), RangeError);
  throws(() => generateEvents(1, { mapKeys: [0, 13] }), RangeError);
  throws(() => generateEvents(1, { users: 0 }), RangeError);
  throws(() => generateEvents(1, { seed: Number.NaN }), RangeError);
});

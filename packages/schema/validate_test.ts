import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { EventlakeError, InvalidArgumentError } from "./errors.ts";
import type { Event } from "./event.ts";
import type { Problem } from "./problem.ts";
import { parseEventInput, validateEventInput } from "./validate.ts";

const ID = "8fb8e088-9245-4fce-bb87-7e09d9917ed6";

function input(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    ts: "2023-01-01T00:01:02.333Z",
    event_key: "purchase",
    identifiers: {
      id: ID,
      device_id: "89ABCDEF-01234567-89ABCDEF",
      user_id: "49591",
      session_id: "1659710029.4.1.1659710504.0",
    },
    insert_id: ID,
    metric_value: "0.0",
    user_properties: { grade: "GOLD", date_signed: "2022-07-01", date_recent: "2023-01-17" },
    event_properties: { product_id: "33537", product_category: "LEISURE", order_id: "291994100" },
    platform_properties: {
      osname: "Android",
      appversion: "6.9.0",
      language: "ko",
      osversion: "12",
      devicevendor: "samsung",
      versionname: "6.77.0-DEBUG",
      platform: "Mobile",
      devicemodel: "SM-S908N",
    },
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

function accepted(value: unknown): Event {
  const result = validateEventInput(value);
  if (!result.ok) throw new Error(`expected acceptance, got ${JSON.stringify(result.problems)}`);
  return result.event;
}

function problems(value: unknown): Problem[] {
  const result = validateEventInput(value);
  if (result.ok) throw new Error("expected problems, the record was accepted");
  return result.problems;
}

/** The only problem of a record; fails when there are more. */
function problem(value: unknown): Problem {
  const found = problems(value);
  strictEqual(found.length, 1, JSON.stringify(found));
  return found[0];
}

Deno.test("validateEventInput() accepts the Data Import document's example record", () => {
  deepStrictEqual(accepted(input()), {
    ts: 1672531262333,
    event_key: "purchase",
    identifiers: {
      id: ID,
      device_id: "89ABCDEF-01234567-89ABCDEF",
      user_id: "49591",
      session_id: "1659710029.4.1.1659710504.0",
    },
    insert_id: ID,
    metric_value: 0n,
    user_properties: { grade: "GOLD", date_signed: "2022-07-01", date_recent: "2023-01-17" },
    event_properties: { product_id: "33537", product_category: "LEISURE", order_id: "291994100" },
    platform_properties: {
      osname: "Android",
      appversion: "6.9.0",
      language: "ko",
      osversion: "12",
      devicevendor: "samsung",
      versionname: "6.77.0-DEBUG",
      platform: "Mobile",
      devicemodel: "SM-S908N",
    },
  });
});

Deno.test("validateEventInput() refuses a record that is not a JSON object", () => {
  for (const value of [null, 42, "{}", [input()], true, undefined, new Date(0)]) {
    const p = problem(value);
    strictEqual(p.path, "");
    strictEqual(p.rule, "type");
    ok(p.message.startsWith("Record must be a JSON object: received"), p.message);
  }
  deepStrictEqual(problem([1]), {
    path: "",
    rule: "type",
    message: "Record must be a JSON object: received array [1]",
    value: "[1]",
  });
  // An object without a prototype is still a JSON object.
  ok(validateEventInput(Object.assign(Object.create(null), input())).ok);
});

Deno.test("validateEventInput() names every missing required field", () => {
  deepStrictEqual(problems({}).map((p) => [p.path, p.rule]), [
    ["ts", "required"],
    ["event_key", "required"],
    ["identifiers", "required"],
    ["insert_id", "required"],
    ["platform_properties", "required"],
  ]);
  strictEqual(problem(input({ ts: undefined })).message, 'Field "ts" is missing');
  strictEqual(
    problem(input({ identifiers: undefined })).message,
    'Field "identifiers" is missing (an object with "id" and "device_id")',
  );
});

Deno.test("validateEventInput() defaults metric_value to 0.0 and property maps to {}", () => {
  const event = accepted(input({
    metric_value: undefined,
    event_properties: undefined,
    user_properties: undefined,
  }));
  strictEqual(event.metric_value, 0n);
  deepStrictEqual(event.event_properties, {});
  deepStrictEqual(event.user_properties, {});
});

Deno.test("validateEventInput() names unknown fields, with a hint for near misses", () => {
  deepStrictEqual(problem(input({ event_name: "purchase" })), {
    path: "event_name",
    rule: "unknown_field",
    message: 'Unknown field "event_name": did you mean "event_key"?',
  });
  strictEqual(problem(input({ TS: 1 })).message, 'Unknown field "TS": did you mean "ts"?');
  strictEqual(
    problem(input({ timestamp: 1 })).message,
    'Unknown field "timestamp": did you mean "ts"?',
  );
  strictEqual(
    problem(input({ insertid: ID })).message,
    'Unknown field "insertid": did you mean "insert_id"?',
  );
  strictEqual(
    problem(input({ platform_propertes: {} })).message,
    'Unknown field "platform_propertes": did you mean "platform_properties"?',
  );
  strictEqual(
    problem(input({ colour: "red" })).message,
    'Unknown field "colour": a record has only the fields ts, event_key, identifiers, insert_id, ' +
      "metric_value, user_properties, event_properties, platform_properties",
  );
  deepStrictEqual(
    problems(input({ a: 1, b: 2, __proto__x: 3 })).map((p) => p.path),
    ["a", "b", "__proto__x"],
  );
  deepStrictEqual(problems(JSON.parse('{"__proto__": 1}')).at(-1)?.path, "__proto__");
});

Deno.test("validateEventInput() stores insert_id as a lowercase UUID", () => {
  strictEqual(accepted(input({ insert_id: ID.toUpperCase() })).insert_id, ID);
  strictEqual(
    accepted(input({ insert_id: "00000000-0000-0000-0000-000000000000" })).insert_id.length,
    36,
  );
});

Deno.test("validateEventInput() refuses an insert_id that is not a UUID", () => {
  deepStrictEqual(problem(input({ insert_id: "abc" })), {
    path: "insert_id",
    rule: "uuid",
    message: 'insert_id "abc" is not a UUID: expected 8-4-4-4-12 hexadecimal digits such as ' +
      '"8fb8e088-9245-4fce-bb87-7e09d9917ed6"',
    value: "abc",
  });
  for (
    const bad of [
      "",
      ID.slice(1),
      `{${ID}}`,
      ID.replace(/-/g, ""),
      ID.replace("8fb8", "8fbg"),
      ` ${ID}`,
      `${ID.slice(0, 8)}_${ID.slice(9)}`,
    ]
  ) {
    strictEqual(problem(input({ insert_id: bad })).rule, "uuid", bad);
  }
  deepStrictEqual(problem(input({ insert_id: 42 })), {
    path: "insert_id",
    rule: "type",
    message: "insert_id must be a UUID string: received number 42",
    value: "42",
  });
  strictEqual(
    problem(input({ insert_id: null })).message,
    "insert_id must be a UUID string: received null",
  );
});

Deno.test("validateEventInput() requires a non-empty string event_key", () => {
  strictEqual(accepted(input({ event_key: "장바구니 담기" })).event_key, "장바구니 담기");
  deepStrictEqual(problem(input({ event_key: "" })), {
    path: "event_key",
    rule: "non_empty",
    message: "event_key must not be empty",
    value: "",
  });
  strictEqual(
    problem(input({ event_key: ["purchase"] })).message,
    'event_key must be a string: received array ["purchase"]',
  );
});

Deno.test("validateEventInput() reads ts as ISO-8601 with an offset or as epoch milliseconds", () => {
  strictEqual(accepted(input({ ts: "2023-01-01T00:01:02.333999Z" })).ts, 1672531262333);
  strictEqual(accepted(input({ ts: "2023-01-01 00:01:02.333Z" })).ts, 1672531262333);
  strictEqual(accepted(input({ ts: "2023-01-01T09:01:02.333+09:00" })).ts, 1672531262333);
  strictEqual(accepted(input({ ts: 1672531262333 })).ts, 1672531262333);
  strictEqual(accepted(input({ ts: "1969-12-31T23:59:59.9999Z" })).ts, -1);
});

Deno.test("validateEventInput() refuses a ts without an offset, as digits in a string, or of another type", () => {
  deepStrictEqual(problem(input({ ts: "2023-01-01 00:01:02.333" })), {
    path: "ts",
    rule: "offset",
    message:
      'Timestamp "2023-01-01 00:01:02.333" has no UTC offset: append "Z" for UTC or an offset such as "+09:00"',
    value: "2023-01-01 00:01:02.333",
  });
  strictEqual(problem(input({ ts: "1672531262333" })).rule, "format");
  strictEqual(problem(input({ ts: "2023-02-30T00:00:00Z" })).rule, "date");
  strictEqual(problem(input({ ts: 1e300 })).rule, "range");
  deepStrictEqual(problem(input({ ts: true })), {
    path: "ts",
    rule: "type",
    message: "ts must be an ISO-8601 string with an offset or a number of epoch milliseconds: " +
      "received boolean true",
    value: "true",
  });
});

Deno.test("validateEventInput() reads metric_value exactly from decimal strings up to DECIMAL(24,6)", () => {
  const metric = (value: unknown) => accepted(input({ metric_value: value })).metric_value;
  strictEqual(metric("0.0"), 0n);
  strictEqual(metric("0"), 0n);
  strictEqual(metric("-12.5"), -12500000n);
  strictEqual(metric("91063.82"), 91063820000n);
  strictEqual(metric("0.000001"), 1n);
  strictEqual(metric("-0.000001"), -1n);
  strictEqual(metric("1.5000000000"), 1500000n);
  strictEqual(metric("999999999999999999.999999"), 999999999999999999999999n);
  strictEqual(metric("-999999999999999999.999999"), -999999999999999999999999n);
  strictEqual(metric("000123.4"), 123400000n);
});

Deno.test("validateEventInput() refuses metric_value strings beyond DECIMAL(24,6) rather than rounding", () => {
  deepStrictEqual(problem(input({ metric_value: "0.0000001" })), {
    path: "metric_value",
    rule: "decimal_scale",
    message:
      'metric_value "0.0000001" has more than 6 fraction digits: DECIMAL(24,6) is never rounded',
    value: "0.0000001",
  });
  deepStrictEqual(problem(input({ metric_value: "1000000000000000000" })), {
    path: "metric_value",
    rule: "decimal_precision",
    message: 'metric_value "1000000000000000000" has more than 18 integer digits: DECIMAL(24,6) ' +
      "holds at most 999999999999999999.999999",
    value: "1000000000000000000",
  });
  for (const bad of ["", "1e3", "1,000.5", "abc", "1.2.3", "0x10", "NaN", "Infinity", "--1"]) {
    strictEqual(problem(input({ metric_value: bad })).rule, "decimal_syntax", bad);
  }
  ok(
    problem(input({ metric_value: "1e3" })).message.startsWith(
      'metric_value "1e3" is not a decimal number',
    ),
  );
});

Deno.test("validateEventInput() takes a JSON number as metric_value only when it is exact", () => {
  const metric = (value: unknown) => accepted(input({ metric_value: value })).metric_value;
  strictEqual(metric(0), 0n);
  strictEqual(metric(-0), 0n);
  strictEqual(metric(12.5), 12500000n);
  strictEqual(metric(0.1), 100000n);
  strictEqual(metric(-52046.076394), -52046076394n);
  strictEqual(metric(0.000001), 1n);
  strictEqual(metric(123456789.123456), 123456789123456n);
  strictEqual(metric(-9007199254.74099), -9007199254740990n);
  // 9007199254.740991 is stored as 9007199254.740992 = 2^53 / 10^6: beyond a safe integer once scaled.
  for (const bad of [0.1234567, 1e-7, 9007199254.740991, 123456789012345678, 1e21, Number.NaN]) {
    strictEqual(problem(input({ metric_value: bad })).rule, "inexact_number", String(bad));
  }
  deepStrictEqual(problem(input({ metric_value: 123456789012345678 })), {
    path: "metric_value",
    rule: "inexact_number",
    message:
      "metric_value 123456789012345680 cannot be carried exactly by a JSON number: send it " +
      "as a decimal string instead",
    value: "123456789012345680",
  });
});

Deno.test("validateEventInput() takes a bigint metric_value as the unscaled value", () => {
  strictEqual(accepted(input({ metric_value: 5n })).metric_value, 5n);
  strictEqual(
    accepted(input({ metric_value: -(10n ** 24n - 1n) })).metric_value,
    -(10n ** 24n - 1n),
  );
  strictEqual(problem(input({ metric_value: 10n ** 24n })).rule, "decimal_precision");
});

Deno.test("validateEventInput() refuses a null or non-numeric metric_value", () => {
  deepStrictEqual(problem(input({ metric_value: null })), {
    path: "metric_value",
    rule: "type",
    message: 'metric_value must not be null: omit it or send "0.0" for no value',
    value: "null",
  });
  strictEqual(
    problem(input({ metric_value: { value: 1 } })).message,
    'metric_value must be a decimal string or a JSON number: received object {"value":1}',
  );
});

Deno.test("validateEventInput() accepts identifiers as an object or as a JSON-object string", () => {
  const ids = {
    id: "u-1",
    device_id: "d-1",
    user_id: "49591",
    ga_session_id: "1",
    ga_device_id: "2",
    custom: "x",
  };
  deepStrictEqual(accepted(input({ identifiers: ids })).identifiers, ids);
  deepStrictEqual(accepted(input({ identifiers: JSON.stringify(ids) })).identifiers, ids);
  deepStrictEqual(problem(input({ identifiers: "{not json" })).rule, "json");
  ok(
    problem(input({ identifiers: "{not json" })).message.startsWith(
      "identifiers is a string but not valid JSON: ",
    ),
  );
  deepStrictEqual(problem(input({ identifiers: "[1]" })), {
    path: "identifiers",
    rule: "type",
    message:
      "identifiers must be an object of string values (or a string holding one): received array [1]",
    value: "[1]",
  });
  strictEqual(
    problem(input({ identifiers: '{"id":"u-1"}' })).message,
    'identifiers must contain "device_id"',
  );
});

Deno.test("validateEventInput() requires non-empty id and device_id in identifiers", () => {
  deepStrictEqual(problems(input({ identifiers: { user_id: "49591" } })), [
    { path: "identifiers.id", rule: "required", message: 'identifiers must contain "id"' },
    {
      path: "identifiers.device_id",
      rule: "required",
      message: 'identifiers must contain "device_id"',
    },
  ]);
  deepStrictEqual(problem(input({ identifiers: { id: "", device_id: "d" } })), {
    path: "identifiers.id",
    rule: "non_empty",
    message: "identifiers.id must not be empty",
    value: "",
  });
  // An empty optional identifier is kept.
  strictEqual(
    accepted(input({ identifiers: { id: "u", device_id: "d", user_id: "" } })).identifiers.user_id,
    "",
  );
});

Deno.test("validateEventInput() requires non-empty osname and appversion in platform_properties", () => {
  deepStrictEqual(problems(input({ platform_properties: { language: "ko" } })).map((p) => p.path), [
    "platform_properties.osname",
    "platform_properties.appversion",
  ]);
  strictEqual(
    problem(input({ platform_properties: { osname: "iOS", appversion: "" } })).rule,
    "non_empty",
  );
  // Only identifiers may come as a JSON-object string.
  strictEqual(
    problem(input({ platform_properties: '{"osname":"iOS","appversion":"1"}' })).message,
    'platform_properties must be an object of string values: received string "{"osname":"iOS","appversion":"1"}"',
  );
});

Deno.test("validateEventInput() stores map keys lowercase", () => {
  const event = accepted(input({
    identifiers: { ID: "u-1", Device_ID: "d-1", USER_ID: "7" },
    platform_properties: { OSName: "iOS", AppVersion: "6.9.3", Language: "ko-KR" },
    event_properties: { Product_ID: "33537", 상품: "신발" },
  }));
  deepStrictEqual(event.identifiers, { id: "u-1", device_id: "d-1", user_id: "7" });
  deepStrictEqual(event.platform_properties, {
    osname: "iOS",
    appversion: "6.9.3",
    language: "ko-KR",
  });
  deepStrictEqual(event.event_properties, { product_id: "33537", 상품: "신발" });
});

Deno.test("validateEventInput() refuses two keys of one map that differ only in case, naming both", () => {
  deepStrictEqual(problem(input({ event_properties: { Product_ID: "1", product_id: "2" } })), {
    path: "event_properties.product_id",
    rule: "key_case",
    message:
      'Keys "Product_ID" and "product_id" of event_properties differ only in case: keys are ' +
      "stored lowercase, send one of them",
    value: "product_id",
  });
  // The clash is found even when the first spelling's value was refused.
  deepStrictEqual(
    problems(input({ identifiers: { ID: 1, Id: "u", device_id: "d" } })).map((p) =>
      `${p.path} ${p.rule}`
    ),
    ["identifiers.ID value_type", "identifiers.Id key_case"],
  );
  const p = problem(input({ identifiers: { id: "u", device_id: "d", Device_ID: "D" } }));
  strictEqual(p.rule, "key_case");
  ok(p.message.includes('"device_id"') && p.message.includes('"Device_ID"'), p.message);
});

Deno.test("validateEventInput() refuses map values that are not strings", () => {
  deepStrictEqual(problem(input({ user_properties: { age: 42 } })), {
    path: "user_properties.age",
    rule: "value_type",
    message: 'user_properties.age must be a string: received number 42 (send "42")',
    value: "42",
  });
  strictEqual(
    problem(input({ user_properties: { vip: true } })).message,
    'user_properties.vip must be a string: received boolean true (send "true")',
  );
  strictEqual(
    problem(input({ user_properties: { gone: null } })).message,
    "user_properties.gone must be a string: received null (omit the key instead)",
  );
  strictEqual(problem(input({ user_properties: { nested: { a: "b" } } })).rule, "value_type");
  // A required key with a wrong value is reported once, not also as missing.
  deepStrictEqual(problems(input({ identifiers: { id: 7, device_id: "d" } })).map((p) => p.rule), [
    "value_type",
  ]);
});

Deno.test("validateEventInput() refuses empty map keys and maps of the wrong type", () => {
  deepStrictEqual(problem(input({ event_properties: { "": "x" } })), {
    path: "event_properties.",
    rule: "key_empty",
    message: "event_properties has an empty key: keys must have at least one character",
    value: "",
  });
  for (const bad of [null, [], "x", 1, new Map()]) {
    const p = problem(input({ user_properties: bad }));
    strictEqual(p.path, "user_properties");
    strictEqual(p.rule, "type");
  }
});

Deno.test("validateEventInput() keeps a __proto__ map key as data", () => {
  const record = JSON.parse(JSON.stringify(input()).replace('"grade"', '"__proto__"'));
  const event = accepted(record);
  ok(Object.hasOwn(event.user_properties, "__proto__"));
  strictEqual(Object.getPrototypeOf(event.user_properties), Object.prototype);
});

Deno.test("validateEventInput() returns every problem of a record", () => {
  const found = problems({
    ts: "2023-01-01 00:01:02",
    event_key: "",
    identifiers: { ID: 1, "": "x" },
    insert_id: "nope",
    metric_value: 0.1234567,
    event_properties: "{}",
    platform_properties: { OSName: "" },
    event_name: "x",
  });
  deepStrictEqual(found.map((p) => `${p.path} ${p.rule}`), [
    "ts offset",
    "event_key non_empty",
    "identifiers.ID value_type",
    "identifiers. key_empty",
    "identifiers.device_id required",
    "insert_id uuid",
    "metric_value inexact_number",
    "event_properties type",
    "platform_properties.osname non_empty",
    "platform_properties.appversion required",
    "event_name unknown_field",
  ]);
});

Deno.test("validateEventInput() cuts long offending values to 80 characters", () => {
  const long = "x".repeat(500);
  const p = problem(input({ insert_id: long }));
  strictEqual(p.value?.length, 80);
  ok(p.value?.endsWith("…"));
  ok(p.message.length < 300, "the message quotes the cut value");
});

Deno.test("validateEventInput() never throws on odd input", () => {
  const odd: unknown[] = [
    { ...input(), identifiers: { id: "u", device_id: "d", x: 1n } },
    { ...input(), metric_value: Symbol("x") },
    { ...input(), ts: Symbol("x") },
    { ...input(), event_properties: { a: () => 1 } },
    { ...input(), identifiers: "null" },
    { ...input(), identifiers: '"string"' },
    Object.create(null),
  ];
  for (const value of odd) {
    const result = validateEventInput(value);
    strictEqual(typeof result.ok, "boolean");
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  strictEqual(validateEventInput({ ...input(), event_properties: cyclic }).ok, false);
});

Deno.test("parseEventInput() returns the event or throws InvalidArgumentError with every problem", () => {
  strictEqual(parseEventInput(input()).ts, 1672531262333);
  throws(() => parseEventInput(input({ event_key: "", insert_id: "x" })), (e: unknown) => {
    ok(e instanceof InvalidArgumentError && e instanceof EventlakeError);
    strictEqual(e.code, "INVALID_ARGUMENT");
    strictEqual(e.message, "Invalid event: event_key: event_key must not be empty (and 1 more)");
    strictEqual((e.details.problems as Problem[]).length, 2);
    return true;
  });
});

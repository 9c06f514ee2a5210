import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { normaliseMapKeys } from "./map_keys.ts";

Deno.test("normaliseMapKeys() lowercases keys and keeps values as they are", () => {
  deepStrictEqual(normaliseMapKeys({ OSName: "iOS", appversion: "1", Ä: null }), {
    ok: true,
    map: { osname: "iOS", appversion: "1", ä: null },
  });
});

Deno.test("normaliseMapKeys() refuses keys that differ only in case, naming both", () => {
  deepStrictEqual(normaliseMapKeys({ Id: "a", id: "b", ID: "c" }, { path: "identifiers" }), {
    ok: false,
    problems: [
      {
        path: "identifiers.id",
        rule: "key_case",
        message:
          'Keys "Id" and "id" of identifiers differ only in case: keys are stored lowercase, ' +
          "send one of them",
        value: "id",
      },
      {
        path: "identifiers.ID",
        rule: "key_case",
        message:
          'Keys "Id" and "ID" of identifiers differ only in case: keys are stored lowercase, ' +
          "send one of them",
        value: "ID",
      },
    ],
  });
});

Deno.test("normaliseMapKeys() refuses an empty key", () => {
  const result = normaliseMapKeys({ "": "x" });
  ok(!result.ok);
  strictEqual(result.problems[0].rule, "key_empty");
  strictEqual(
    result.problems[0].message,
    "The map has an empty key: keys must have at least one character",
  );
});

Deno.test("normaliseMapKeys() returns a new map and keeps a __proto__ key as data", () => {
  const input = JSON.parse('{"__PROTO__": "x", "a": "b"}');
  const result = normaliseMapKeys<string>(input);
  ok(result.ok);
  ok(result.map !== input);
  ok(Object.hasOwn(result.map, "__proto__"));
  strictEqual(Object.getPrototypeOf(result.map), Object.prototype);
});

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { InvalidArgumentError } from "./errors.ts";
import { describeValue, formatProblems, PROBLEM_VALUE_MAX, problemsError } from "./problem.ts";

Deno.test("describeValue() renders any value as short text", () => {
  strictEqual(describeValue("abc"), "abc");
  strictEqual(describeValue(12.5), "12.5");
  strictEqual(describeValue(5n), "5n");
  strictEqual(describeValue(null), "null");
  strictEqual(describeValue(undefined), "undefined");
  strictEqual(describeValue({ a: [1, 2n] }), '{"a":[1,"2n"]}');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  strictEqual(describeValue(cyclic), "[object Object]");
  strictEqual(describeValue(Symbol("s")), "Symbol(s)");
});

Deno.test("describeValue() cuts long values to PROBLEM_VALUE_MAX characters", () => {
  const text = describeValue("y".repeat(1000));
  strictEqual(text.length, PROBLEM_VALUE_MAX);
  ok(text.endsWith("…"));
  strictEqual(describeValue("y".repeat(PROBLEM_VALUE_MAX)).length, PROBLEM_VALUE_MAX);
});

Deno.test("problemsError() makes an InvalidArgumentError carrying every problem", () => {
  const problems = [
    { path: "ts", rule: "offset", message: "no offset" },
    { path: "", rule: "type", message: "Record must be a JSON object" },
  ];
  const error = problemsError(problems, { subject: "line 3" });
  ok(error instanceof InvalidArgumentError);
  strictEqual(error.message, "Invalid line 3: ts: no offset (and 1 more)");
  deepStrictEqual(error.details.problems, problems);
  strictEqual(formatProblems(problems), "ts: no offset\nRecord must be a JSON object");
});

import { deepStrictEqual, throws } from "node:assert/strict";
import { InvalidArgumentError } from "@eventlake/schema";
import { parseCreateDataSourceRequest, parseSubmitRequest } from "./request.ts";

const ok = { query: "select 1", resultConfig: { bucketName: "test-bucket", path: "a/b" } };

Deno.test("parseSubmitRequest() accepts resultConfig nested or flat and normalises it", () => {
  deepStrictEqual(parseSubmitRequest(ok), { ...ok, reuseConfig: { reuse: false } });
  deepStrictEqual(
    parseSubmitRequest({
      query: "select 1",
      bucketName: "test-bucket",
      path: "data_query/result/",
    }),
    {
      query: "select 1",
      resultConfig: { bucketName: "test-bucket", path: "data_query/result" },
      reuseConfig: { reuse: false },
    },
  );
  deepStrictEqual(
    parseSubmitRequest({ ...ok, reuseConfig: { reuse: true, maxReuseAge: 1440 } }).reuseConfig,
    { reuse: true, maxReuseAge: 1440 },
  );
});

Deno.test("parseSubmitRequest() names the bad field and never echoes the validator", () => {
  const cases: [unknown, RegExp][] = [
    [null, /^Invalid query request: body must be a JSON object$/],
    [[], /body must be a JSON object/],
    [{ ...ok, query: undefined }, /"query" is required/],
    [{ ...ok, query: 42 }, /"query" must be a string/],
    [{ ...ok, query: " \n " }, /"query" must not be empty/],
    [{ query: "x" }, /"resultConfig.bucketName" is required/],
    [{ query: "x", bucketName: "test-bucket" }, /"resultConfig.path" is required/],
    [
      { ...ok, resultConfig: { bucketName: "B", path: "x" } },
      /"resultConfig.bucketName" must be 3-63/,
    ],
    [
      { ...ok, resultConfig: { bucketName: "test-bucket", path: "" } },
      /"resultConfig.path" must not be empty/,
    ],
    [
      { ...ok, resultConfig: { bucketName: "test-bucket", path: "a/../b" } },
      /must not contain "\.\." segments/,
    ],
    [
      { ...ok, resultConfig: { bucketName: "test-bucket", path: "a//b" } },
      /must not contain empty segments/,
    ],
    [{ ...ok, resultConfig: { bucketName: "test-bucket", path: "/a" } }, /must be relative/],
    [
      { ...ok, resultConfig: { bucketName: "test-bucket", path: "a\\b" } },
      /must not contain backslashes/,
    ],
    [
      { ...ok, reuseConfig: { reuse: true } },
      /"reuseConfig.maxReuseAge" is required when reuse is true/,
    ],
    [{ ...ok, reuseConfig: { reuse: true, maxReuseAge: 0 } }, /must be between 1 and 1440 minutes/],
    [
      { ...ok, reuseConfig: { reuse: true, maxReuseAge: 1441 } },
      /must be between 1 and 1440 minutes/,
    ],
    [
      { ...ok, reuseConfig: { reuse: true, maxReuseAge: 1.5 } },
      /"reuseConfig.maxReuseAge" must be an integer/,
    ],
    [{ ...ok, reuseConfig: { reuse: "yes" } }, /"reuseConfig.reuse" must be a boolean/],
  ];
  for (const [body, message] of cases) {
    throws(() => parseSubmitRequest(body), (e: Error) => {
      if (!(e instanceof InvalidArgumentError)) return false;
      if (!message.test(e.message)) throw new Error(`"${e.message}" does not match ${message}`);
      return !e.message.includes("Expected") && !e.message.includes("Received");
    });
  }
});

const source = {
  type: "MYSQL",
  name: "test_mysql",
  scope: "PRIVATE",
  instanceId: "db1",
  mysqlUser: "admin",
  mysqlPassword: "YWRtaW4K",
};

Deno.test("parseCreateDataSourceRequest() checks every field of a MySQL source", () => {
  deepStrictEqual(parseCreateDataSourceRequest(source), source);
  const cases: [unknown, RegExp][] = [
    [{ ...source, type: "POSTGRES" }, /"type" must be "MYSQL"/],
    [{ ...source, name: "ab" }, /"name" must be 3-72 lowercase letters/],
    [{ ...source, name: "a".repeat(73) }, /"name" must be 3-72/],
    [{ ...source, name: "Bad-Name" }, /"name" must be 3-72/],
    [{ ...source, scope: "public" }, /"scope" must be "PRIVATE" or "PUBLIC"/],
    [{ ...source, instanceId: "" }, /"instanceId" must not be empty/],
    [{ ...source, mysqlUser: undefined }, /"mysqlUser" is required/],
    [{ ...source, mysqlPassword: "abc" }, /"mysqlPassword" must be a base64 string/],
    [{ ...source, description: 7 }, /"description" must be a string/],
  ];
  for (const [body, message] of cases) {
    throws(() => parseCreateDataSourceRequest(body), message);
  }
});

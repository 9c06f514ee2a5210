import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { buildOpenApiDocument } from "./openapi.ts";
import { OPENAPI_DOCUMENT } from "./openapi_document.ts";
import { STATUS_BY_CODE } from "./errors.ts";

Deno.test("the committed openapi.json is what openapi.ts generates (regenerate: deno run -A apps/gateway/openapi.ts)", () => {
  deepStrictEqual(OPENAPI_DOCUMENT, JSON.parse(JSON.stringify(buildOpenApiDocument())));
});

Deno.test("the OpenAPI document lists every status code of the Open API per endpoint", () => {
  const paths = OPENAPI_DOCUMENT.paths as Record<
    string,
    Record<string, { responses: Record<string, unknown> }>
  >;
  const statuses = (path: string, method: string) =>
    Object.keys(paths[path][method].responses).sort();
  deepStrictEqual(statuses("/v1/data-query/query", "post"), [
    "202",
    "400",
    "401",
    "403",
    "404",
    "499",
    "503",
  ]);
  deepStrictEqual(statuses("/v1/data-query/query/{query-id}", "get"), [
    "200",
    "400",
    "401",
    "403",
    "404",
  ]);
  ok(statuses("/v1/data-query/query/{query-id}/abort", "put").includes("409"));
  ok(statuses("/v1/data-query/data-source", "post").includes("409"));
  ok(statuses("/v1/data-query/data-source/{data-source-name}", "delete").includes("404"));
});

Deno.test("the request body schemas come from the valibot schemas (bounds included)", () => {
  const schemas = (OPENAPI_DOCUMENT.components as { schemas: Record<string, unknown> }).schemas;
  const submit = schemas.SubmitQueryRequest as {
    properties: { reuseConfig: { properties: { maxReuseAge: Record<string, unknown> } } };
  };
  strictEqual(submit.properties.reuseConfig.properties.maxReuseAge.minimum, 1);
  strictEqual(submit.properties.reuseConfig.properties.maxReuseAge.maximum, 1440);
  const error = schemas.Error as { properties: { code: { enum: string[] } } };
  deepStrictEqual(error.properties.code.enum.sort(), Object.keys(STATUS_BY_CODE).sort());
});

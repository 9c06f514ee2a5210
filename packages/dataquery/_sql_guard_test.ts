import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { InvalidArgumentError } from "@eventlake/schema";
import { guardStatement, leadingKeyword } from "./_sql_guard.ts";

const table = (catalog: string, schema: string, name: string) => ({
  type: "BASE_TABLE",
  catalog_name: catalog,
  schema_name: schema,
  table_name: name,
});
const tree = (...nodes: unknown[]) =>
  JSON.stringify({ error: false, statements: [{ node: { from: nodes } }] });

Deno.test("leadingKeyword() skips comments, blanks and parentheses", () => {
  strictEqual(leadingKeyword("  -- hi\n /* x */ (copy t to 'x')"), "COPY");
  strictEqual(leadingKeyword("pragma version"), "PRAGMA");
  strictEqual(leadingKeyword("-- only a comment"), "");
});

Deno.test("guardStatement() lists base tables and leaves out unqualified CTE names", () => {
  const json = JSON.stringify({
    error: false,
    statements: [{
      node: {
        cte_map: { map: [{ key: "recent", value: {} }] },
        from: [
          table("", "", "recent"),
          table("data_catalog", "default", "events"),
          table("", "x", "recent"),
        ],
      },
    }],
  });
  deepStrictEqual(guardStatement("WITH recent AS (…) SELECT …", json).tables, [
    { catalog: "data_catalog", schema: "default", table: "events" },
    { catalog: "", schema: "x", table: "recent" },
  ]);
});

Deno.test("guardStatement() refuses non-queries by their keyword, with the reason", () => {
  const notSelect = JSON.stringify({
    error: true,
    error_type: "not implemented",
    error_message: "Only SELECT statements can be serialized to json!",
  });
  throws(
    () => guardStatement("ATTACH 'x.db'", notSelect),
    (e: unknown) =>
      e instanceof InvalidArgumentError &&
      e.message === 'Statement "ATTACH" is not allowed: data sources are managed by the service',
  );
  throws(
    () => guardStatement("INSERT INTO t VALUES (1)", notSelect),
    /Statement "INSERT" is not allowed: only one read-only query/,
  );
});

Deno.test("guardStatement() reports parser errors with the parser's message", () => {
  const error = JSON.stringify({
    error: true,
    error_type: "parser",
    error_message: 'syntax error at or near "FORM"',
  });
  throws(
    () => guardStatement("SELECT 1 FORM t", error),
    /^InvalidArgumentError: Parser Error: syntax error at or near "FORM"$/,
  );
});

Deno.test("guardStatement() refuses several statements, file-reading table functions and file names", () => {
  throws(
    () => guardStatement("a; b", JSON.stringify({ error: false, statements: [{}, {}] })),
    /Multiple statements are not allowed: found 2/,
  );
  throws(
    () => guardStatement("", JSON.stringify({ error: false, statements: [] })),
    /Query is empty/,
  );
  const fn = (name: string) => tree({ type: "TABLE_FUNCTION", function: { function_name: name } });
  throws(
    () => guardStatement("…", fn("read_csv_auto")),
    /Table function "read_csv_auto" is not allowed/,
  );
  throws(
    () => guardStatement("…", fn("parquet_metadata")),
    /Table function "parquet_metadata" is not allowed/,
  );
  deepStrictEqual(guardStatement("…", fn("range")).tables, []);
  throws(
    () => guardStatement("…", tree(table("", "", "s3://bucket/x.parquet"))),
    /Table "s3:\/\/bucket\/x.parquet" is not allowed/,
  );
  throws(
    () => guardStatement("…", tree(table("", "", "events.json"))),
    /Table "events.json" is not allowed/,
  );
  throws(() => guardStatement("…", "not json"), /Cannot parse the query/);
});

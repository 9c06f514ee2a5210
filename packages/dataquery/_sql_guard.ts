/**
 * The statement guard of the DuckDB engine: decides from DuckDB's own parse tree
 * (`json_serialize_sql()`) whether user SQL may run, and lists the tables it names.
 *
 * Allowed: exactly one read-only query — `SELECT`, `WITH`, `VALUES`, `FROM`-first, `SHOW`,
 * `DESCRIBE`, `SUMMARIZE` (DuckDB parses them all as a SELECT node). Refused, each with an
 * `InvalidArgumentError` naming the construct: every other statement (`COPY`, `ATTACH`, `DETACH`,
 * `INSTALL`, `LOAD`, `SET`, `RESET`, `PRAGMA`, `EXPORT`/`IMPORT DATABASE`, `CALL`, `USE`, DDL, DML,
 * `EXPLAIN` …), several statements in one text, table functions other than the pure generators in
 * {@linkcode ALLOWED_TABLE_FUNCTIONS} (so no `read_csv`, `read_parquet`, `read_json`, `glob`,
 * `read_text`, `read_blob`, `query_table` …), and table names that DuckDB would read as a file
 * (`FROM '/etc/passwd'`, `FROM 'x.csv'`). This runs on top of DuckDB's own lock
 * (`enable_external_access=false`, `lock_configuration=true`), not instead of it.
 *
 * This file does not import DuckDB: the engine passes the parse tree in.
 *
 * @module
 */
import { InvalidArgumentError } from "@eventlake/schema";

/** Table functions user SQL may call: generators that touch no file, URL or setting. */
export const ALLOWED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  "range",
  "generate_series",
  "unnest",
  "json_each",
  "json_tree",
]);

/** A table reference as written: missing parts are `""`. */
export interface TableRef {
  /** Catalog (data source), `""` when not written. */
  catalog: string;
  /** Schema (database), `""` when not written. */
  schema: string;
  /** Table. */
  table: string;
}

/** What the guard found in an allowed statement. */
export interface GuardResult {
  /** Base-table references, de-duplicated, CTE names excluded when written unqualified. */
  tables: TableRef[];
}

/** The JSON of `json_serialize_sql()`. */
interface SerializedSql {
  error: boolean;
  error_type?: string;
  error_message?: string;
  statements?: unknown[];
}

const FILE_LIKE = /[/\\:]|\.(csv|tsv|txt|parquet|json|jsonl|ndjson|gz|zst|xlsx|arrow|db|duckdb)$/i;

/** The first keyword of a statement, skipping comments, blanks and opening parentheses. */
export function leadingKeyword(sql: string): string {
  let s = sql;
  for (;;) {
    const before = s;
    s = s.replace(/^[\s(;]+/, "");
    s = s.replace(/^--[^\n]*(\n|$)/, "");
    s = s.replace(/^\/\*[\s\S]*?\*\//, "");
    if (s === before) break;
  }
  const m = /^[A-Za-z_]+/.exec(s);
  return m ? m[0].toUpperCase() : "";
}

function refuseStatement(sql: string): never {
  const keyword = leadingKeyword(sql);
  const what = keyword === "" ? "This statement" : `Statement "${keyword}"`;
  const why: Record<string, string> = {
    COPY: "the engine cannot read or write files",
    ATTACH: "data sources are managed by the service",
    DETACH: "data sources are managed by the service",
    INSTALL: "extensions cannot be installed",
    LOAD: "extensions cannot be loaded",
    FORCE: "extensions cannot be installed",
    SET: "engine settings cannot be changed; use X-Data-Source/X-Database for defaults",
    RESET: "engine settings cannot be changed",
    PRAGMA: "engine settings cannot be changed",
    EXPORT: "the engine cannot write files",
    IMPORT: "the engine cannot read files",
    CALL: "procedures cannot be called",
    USE: "use X-Data-Source/X-Database for defaults",
  };
  throw new InvalidArgumentError(
    `${what} is not allowed: ${
      why[keyword] ?? "only one read-only query (SELECT, WITH, VALUES, SHOW, DESCRIBE) can run"
    }`,
    { details: { statement: keyword || null } },
  );
}

/**
 * Checks user SQL from its parse tree; throws `InvalidArgumentError` on a refused construct and
 * on a syntax error (with DuckDB's message), else returns the table references.
 */
export function guardStatement(sql: string, serialized: string): GuardResult {
  let parsed: SerializedSql;
  try {
    parsed = JSON.parse(serialized) as SerializedSql;
  } catch (e) {
    throw new InvalidArgumentError("Cannot parse the query: the parser returned no tree", {
      cause: e,
    });
  }
  if (parsed.error) {
    if (parsed.error_type === "parser") {
      throw new InvalidArgumentError(`Parser Error: ${parsed.error_message ?? "syntax error"}`);
    }
    // "Only SELECT statements can be serialized": anything that is not a query.
    refuseStatement(sql);
  }
  const statements = parsed.statements ?? [];
  if (statements.length === 0) {
    throw new InvalidArgumentError("Query is empty: send one SELECT statement");
  }
  if (statements.length > 1) {
    throw new InvalidArgumentError(
      `Multiple statements are not allowed: found ${statements.length}, send one per query`,
    );
  }
  const cteNames = new Set<string>();
  const refs = new Map<string, TableRef>();
  walk(statements[0], (node) => {
    const cteMap = node.cte_map as { map?: { key?: unknown }[] } | undefined;
    for (const entry of cteMap?.map ?? []) {
      if (typeof entry.key === "string") cteNames.add(entry.key.toLowerCase());
    }
    if (node.type === "TABLE_FUNCTION") {
      const fn = node.function as { function_name?: unknown } | undefined;
      const name = typeof fn?.function_name === "string" ? fn.function_name.toLowerCase() : "";
      if (!ALLOWED_TABLE_FUNCTIONS.has(name)) {
        throw new InvalidArgumentError(
          `Table function "${name}" is not allowed: queries read tables of data sources, not files, URLs or engine state`,
          { details: { function: name } },
        );
      }
    }
    if (node.type === "BASE_TABLE") {
      const ref: TableRef = {
        catalog: String(node.catalog_name ?? ""),
        schema: String(node.schema_name ?? ""),
        table: String(node.table_name ?? ""),
      };
      if (FILE_LIKE.test(ref.table)) {
        throw new InvalidArgumentError(
          `Table "${ref.table}" is not allowed: queries cannot read files or URLs by name`,
          { details: { table: ref.table } },
        );
      }
      refs.set(`${ref.catalog}\u0000${ref.schema}\u0000${ref.table}`, ref);
    }
  });
  const tables = [...refs.values()].filter((r) =>
    r.catalog !== "" || r.schema !== "" || !cteNames.has(r.table.toLowerCase())
  );
  return { tables };
}

function walk(value: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
  } else if (value !== null && typeof value === "object") {
    const node = value as Record<string, unknown>;
    visit(node);
    for (const key in node) walk(node[key], visit);
  }
}

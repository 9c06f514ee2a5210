/**
 * `eventlake query "<SQL>"`: runs one query (embedded, or on a gateway with `--endpoint`), waits,
 * and prints every row of the result.
 *
 * Outcomes and exit codes: FINISHED → 0; a query the service refuses before running (bad
 * request, unknown data source or bucket) → the code of that error; a query that ends FAILED
 * (bad SQL, a missing table, a refused statement) → 2 with `Query "<id>" FAILED: <reason>`, or 6
 * when the reason is the time limit or a stopped service; ABORTED (Ctrl-C here: the query is aborted on the server
 * first; or aborted by someone else) → 130.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { QueryResultResponse, SubmitQueryInput } from "@eventlake/dataquery";
import {
  AbortedError,
  ConflictError,
  type EventlakeError,
  InvalidArgumentError,
  TimeoutError,
  UnavailableError,
} from "@eventlake/schema";
import type { OptionsSpec } from "../args.ts";
import type { Command, CommandContext } from "../command.ts";
import { CONFIG_FLAGS } from "../config.ts";
import { formatCount } from "../format.ts";
import { write } from "../io.ts";
import type { QueryBackend } from "../_client.ts";
import { openBackend } from "../_client_open.ts";
import { openFileSink, type OutputFormat, parseOutputFormat, writeRows } from "../_output.ts";
import { integerFlag } from "./export.ts";

/** Reads all of a byte stream as UTF-8 text. */
export async function readAllText(
  stream: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    if (signal?.aborted) throw new AbortedError("Interrupted");
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

async function readSql(context: CommandContext): Promise<string> {
  const { io, flags, args } = context;
  const inline = args.sql as string | undefined;
  const file = flags.file as string | undefined;
  if (inline !== undefined && file !== undefined) {
    throw new InvalidArgumentError("Give the SQL either as an argument or with --file, not both", {
      details: { hint: `Run "eventlake query --help" for usage` },
    });
  }
  let sql: string;
  if (inline !== undefined && inline !== "-") {
    sql = inline;
  } else if (file !== undefined && file !== "-") {
    const path = resolve(io.cwd, file);
    try {
      sql = await readFile(path, { encoding: "utf8", signal: context.signal });
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") {
        const { NotFoundError } = await import("@eventlake/schema");
        throw new NotFoundError(`Cannot read SQL file "${file}": it does not exist`);
      }
      throw new InvalidArgumentError(
        `Cannot read SQL file "${file}": ${error instanceof Error ? error.message : error}`,
        { cause: error },
      );
    }
  } else if (inline === "-" || file === "-" || !io.isTTY.stdin) {
    sql = await readAllText(io.stdin, context.signal);
  } else {
    throw new InvalidArgumentError("Missing SQL: give it as an argument, with --file or on stdin", {
      details: { hint: `eventlake query "SELECT 1"` },
    });
  }
  if (sql.trim() === "") {
    throw new InvalidArgumentError("The SQL is empty", {
      details: { hint: `eventlake query "SELECT 1"` },
    });
  }
  return sql;
}

/** The error a query that did not finish stands for. */
export function endedError(result: QueryResultResponse): EventlakeError {
  const { queryId, state, errorMessage } = result.queryInfo;
  const reason = errorMessage ?? "no reason given";
  if (state === "ABORTED") {
    return new AbortedError(`Query "${queryId}" was ABORTED: ${reason}`, {
      details: { queryId },
    });
  }
  if (/time limit|timed out|timeout/i.test(reason)) {
    return new TimeoutError(`Query "${queryId}" FAILED: ${reason}`, { details: { queryId } });
  }
  if (/service stopped/i.test(reason)) {
    return new UnavailableError(`Query "${queryId}" FAILED: ${reason}`, {
      details: { queryId, hint: "Run the query again" },
    });
  }
  return new InvalidArgumentError(`Query "${queryId}" FAILED: ${reason}`, {
    details: { queryId, hint: `"eventlake queries show ${queryId}" shows its details` },
  });
}

function statusLine(result: QueryResultResponse): string {
  const { queryId, state, queryStats } = result.queryInfo;
  const parts = [`Query ${queryId}`, state];
  if (state === "RUNNING") parts.push(`${Math.round(queryStats.progressPercentage ?? 0)}%`);
  parts.push(queryStats.elapsedTime);
  if (queryStats.scannedDataSize) parts.push(`scanned ${queryStats.scannedDataSize}`);
  return parts.join(" · ");
}

/** Aborts `queryId` on the server (best effort, at most 5 s): it may have ended meanwhile. */
async function abortOnServer(backend: QueryBackend, queryId: string): Promise<boolean> {
  try {
    await backend.abort(queryId, { signal: AbortSignal.timeout(5_000) });
    return true;
  } catch (error) {
    return error instanceof ConflictError;
  }
}

/**
 * Runs a query and prints all of its rows.
 *
 * @example
 * ```ts ignore
 * import { run } from "../cli.ts";
 * import { memoryIo } from "../_testing.ts";
 * const home = await Deno.makeTempDir();
 * const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
 * await run(["query", "SELECT 42 AS answer", "--format", "csv"], io);
 * console.log(io.stdoutText()); // "answer\r\n42\r\n"
 * ```
 */
export async function queryCommand(context: CommandContext): Promise<number> {
  const { io, flags, signal } = context;
  const format: OutputFormat = flags.json
    ? "json"
    : parseOutputFormat((flags.format as string | undefined) ?? "table");
  const reuse = integerFlag(flags.reuse, "reuse", 1);
  if (reuse !== undefined && reuse > 1440) {
    throw new InvalidArgumentError(`Invalid --reuse "${reuse}": expected 1 to 1440 minutes`);
  }
  const sql = await readSql(context);
  const { backend, config } = await openBackend(context, { engine: true });
  const values = config.values;
  const tty = io.isTTY.stderr;
  let queryId: string | undefined;
  let finished = false;
  try {
    const body: SubmitQueryInput = {
      query: sql,
      resultConfig: { bucketName: values.bucket, path: values.resultPath },
      ...(reuse !== undefined ? { reuseConfig: { reuse: true, maxReuseAge: reuse } } : {}),
    };
    const submitted = await backend.submit(body, {
      dataSource: values.dataSource,
      database: values.database,
      signal,
    });
    queryId = submitted.queryInfo.queryId;
    if (context.debug) await context.log(`Query ${queryId} submitted to ${backend.where}`);
    let lastLine = "";
    const result = await backend.wait(queryId, {
      signal,
      onUpdate: async (r) => {
        if (!tty) return;
        const line = statusLine(r);
        if (line !== lastLine) await write(io.stderr, `\r\x1b[2K${context.err.dim(line)}`);
        lastLine = line;
      },
    });
    if (tty && lastLine !== "") await write(io.stderr, "\r\x1b[2K");
    finished = true;
    if (result.queryInfo.state !== "FINISHED") throw endedError(result);

    const columns = result.columnData.map((c) => ({ name: c.name, type: c.type }));
    let rows = 0;
    if (columns.length > 0) {
      const out = flags.out as string | undefined;
      if (out !== undefined && out !== "-") {
        const path = resolve(io.cwd, out);
        const file = await openFileSink(path);
        try {
          rows = await writeRows(file.stream, columns, backend.rows(result, { signal }), {
            format,
            signal,
          });
        } finally {
          await file.close();
        }
      } else {
        rows = await writeRows(io.stdout, columns, backend.rows(result, { signal }), {
          format,
          signal,
        });
      }
    }
    const stats = result.queryInfo.queryStats;
    const reused = result.reuseConfig.reusedFrom ? `, reused ${result.reuseConfig.reusedFrom}` : "";
    await context.log(
      context.err.dim(
        `${formatCount(rows)} row${rows === 1 ? "" : "s"} · ${stats.elapsedTime} · ` +
          `scanned ${stats.scannedDataSize} · query ${queryId}${reused}`,
      ),
    );
    return 0;
  } catch (error) {
    if (signal.aborted) {
      if (queryId !== undefined && !finished) {
        if (tty) await write(io.stderr, "\r\x1b[2K").catch(() => {});
        const aborted = await abortOnServer(backend, queryId);
        throw new AbortedError(
          aborted
            ? `Interrupted: query "${queryId}" was aborted`
            : `Interrupted: could not abort query "${queryId}"`,
          { cause: error, details: { queryId } },
        );
      }
      throw new AbortedError("Interrupted", { cause: error });
    }
    throw error;
  } finally {
    await backend.close();
  }
}

/** Flags shared by the client commands (`query`, `queries`, `datasource`). */
export const CLIENT_FLAGS: OptionsSpec = Object.freeze<OptionsSpec>({
  ...CONFIG_FLAGS,
  local: {
    type: "boolean",
    description: "Use the embedded service on $EVENTLAKE_HOME even when an endpoint is configured",
  },
});

/** The `query` entry of the command table. */
export const QUERY_COMMAND: Command = Object.freeze<Command>({
  summary: "Run SQL (embedded, or on a gateway with --endpoint) and print every row",
  usage: `"<SQL>" | -f <file.sql> | < file.sql  [--format table|csv|json|ndjson] [--out file]`,
  description:
    "Submits the query, shows its progress on a terminal, waits, then prints ALL rows (read from\n" +
    "the stored result CSV, not only the API's first 1,000 rows). Without an endpoint (flag,\n" +
    "EVENTLAKE_ENDPOINT or config.json) the query runs in this process on the lake at lakeUrl and\n" +
    "its result lands in $EVENTLAKE_HOME/buckets/<bucket>/ (--results-dir moves that folder);\n" +
    "with one it runs on that gateway with the configured credential, and rows beyond 1,000 are\n" +
    "read from the bucket folder under --results-dir when it is visible here, else downloaded\n" +
    "from the gateway's result.csv route. Ctrl-C aborts the query on the server.\n" +
    "Exit 0 when FINISHED; 2 when it FAILED (bad SQL, missing table) or was refused; 6 when it\n" +
    "hit the time limit or the server is unreachable; 4 for a wrong credential; 130 when aborted.",
  positionals: [{ name: "sql", description: "The query (- for stdin)", required: false }],
  options: {
    file: {
      type: "string",
      short: "f",
      description: "Read the SQL from a file (- for stdin)",
      valueName: "file.sql",
    },
    format: {
      type: "string",
      description: "Output: table (default), csv, json or ndjson",
      valueName: "format",
    },
    json: { type: "boolean", description: "Same as --format json" },
    out: {
      type: "string",
      short: "o",
      description: "Write the rows to a file instead of stdout",
      valueName: "file",
    },
    reuse: {
      type: "string",
      description: "Answer from a result of the same query at most this old (1-1440)",
      valueName: "minutes",
    },
    ...CLIENT_FLAGS,
  },
  examples: [
    {
      command:
        `eventlake query "SELECT event_key, count(*) FROM data_catalog.default.events GROUP BY 1"`,
      description: "Run a query on the local lake and print a table",
    },
    {
      command: "eventlake query -f daily.sql --format csv --out daily.csv --reuse 60",
      description: "Run a file's query, reuse a result up to an hour old, write CSV",
    },
    {
      command:
        `EVENTLAKE_ENDPOINT=https://lake.example.com eventlake query "SELECT 1" --format ndjson`,
      description: "Run on a gateway (credential from EVENTLAKE_CREDENTIAL_ID/_SECRET)",
    },
  ],
  handler: queryCommand,
});

/**
 * `eventlake queries list|show|abort`: the query history, one query, aborting one.
 *
 * @module
 */
import type { HistoryFilters, QueryResultResponse } from "@eventlake/dataquery";
import { InvalidArgumentError } from "@eventlake/schema";
import type { Command, CommandContext } from "../command.ts";
import { formatCount, formatTable } from "../format.ts";
import { openBackend } from "../_client_open.ts";
import { writeRows } from "../_output.ts";
import { integerFlag } from "./export.ts";
import { CLIENT_FLAGS } from "./query.ts";

const ACTIONS = ["list", "show", "abort"] as const;

/** Checks the action positional of a command with sub-actions. */
export function actionArg(
  context: CommandContext,
  actions: readonly string[],
  command: string,
): string {
  const action = context.args.action as string;
  if (!actions.includes(action)) {
    throw new InvalidArgumentError(
      `Unknown action "${action}" of "eventlake ${command}": expected ${actions.join(", ")}`,
      { details: { hint: `Run "eventlake ${command} --help" for usage` } },
    );
  }
  return action;
}

/** The required id positional of an action. */
export function idArg(context: CommandContext, what: string, command: string): string {
  const id = context.args.id as string | undefined;
  if (id === undefined || id === "") {
    throw new InvalidArgumentError(`Missing argument <${what}>`, {
      details: { hint: `eventlake ${command} <${what}>` },
    });
  }
  return id;
}

function time(ms: number | undefined): string {
  return ms === undefined ? "-" : new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

async function list(context: CommandContext): Promise<void> {
  const { flags } = context;
  const filters: HistoryFilters = {};
  if (typeof flags["query-id"] === "string") filters.queryId = flags["query-id"];
  if (typeof flags.creator === "string") filters.creatorName = flags.creator;
  if (Array.isArray(flags.state)) {
    filters.states = flags.state.flatMap((s) => s.split(",")).map((s) => s.trim().toUpperCase());
  }
  const page = integerFlag(flags.page, "page", 0);
  if (page !== undefined) filters.page = page;
  const size = integerFlag(flags.size, "size", 1);
  if (size !== undefined) filters.size = size;
  if (typeof flags.sort === "string") filters.sort = flags.sort;
  const { backend } = await openBackend(context, { engine: false });
  try {
    const result = await backend.list(filters, { signal: context.signal });
    if (flags.json) {
      await context.print(JSON.stringify(result, null, 2));
      return;
    }
    const c = context.out;
    const rows = [
      ["QUERY ID", "STATE", "CREATED (UTC)", "ELAPSED", "SCANNED", "CREATOR", "QUERY"].map(c.bold),
      ...result.content.map((q) => [
        q.queryInfo.queryId,
        q.queryInfo.state,
        time(q.queryInfo.queryStats.createdAt),
        q.queryInfo.queryStats.elapsedTime,
        q.queryInfo.queryStats.scannedDataSize,
        q.creatorName,
        oneLine(q.queryInfo.queryTextPreview, 60),
      ]),
    ];
    await context.print(formatTable(rows));
    await context.log(
      context.err.dim(
        `Page ${result.number} of ${Math.max(1, result.totalPages)} (pages from 0), ` +
          `${formatCount(result.totalElements)} queries` +
          (result.last ? "" : `; next: --page ${result.number + 1}`),
      ),
    );
  } finally {
    await backend.close();
  }
}

/** The human form of `queries show`. */
export function describeQuery(result: QueryResultResponse): string[][] {
  const { queryInfo, resultConfig, reuseConfig } = result;
  const s = queryInfo.queryStats;
  const rows: [string, string | number | undefined][] = [
    ["Query", queryInfo.queryId],
    ["State", queryInfo.state],
    ["Error", queryInfo.errorMessage],
    ["Progress", `${s.progressPercentage}%`],
    ["Created", time(s.createdAt)],
    ["Completed", s.completedAt === undefined ? undefined : time(s.completedAt)],
    ["Elapsed", s.elapsedTime],
    ["Queued", s.queuedTime],
    ["Planning", s.planningTime],
    ["Execution", s.queryExecutionTime],
    ["Input rows", s.inputRows === undefined ? undefined : formatCount(s.inputRows)],
    ["Input size", s.inputDataSize],
    ["Scanned", `${s.scannedDataSize}${queryInfo.isScanned ? "" : " (not scanned)"}`],
    ["Output rows", formatCount(s.outputRows)],
    ["Output size", s.outputDataSize],
    ["Result", resultConfig.isStored ? resultConfig.storageUrl : "not stored"],
    ["Reused from", reuseConfig.reusedFrom],
    ["Columns", result.columnData.map((col) => `${col.name} ${col.type}`).join(", ") || undefined],
    ["Query", oneLine(queryInfo.queryTextPreview, 300)],
  ];
  return rows.filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => [k, String(v)]);
}

async function show(context: CommandContext): Promise<void> {
  const queryId = idArg(context, "query-id", "queries show");
  const page = integerFlag(context.flags.page, "page", 0) ?? 0;
  const { backend } = await openBackend(context, { engine: false });
  try {
    const result = await backend.get(queryId, { page, signal: context.signal });
    if (context.flags.json) {
      await context.print(JSON.stringify(result, null, 2));
      return;
    }
    // The first row of describeQuery is "Query" and the last the text: a header line in between.
    await context.print(
      formatTable(describeQuery(result).map(([k, v]) => [context.out.bold(k), v])),
    );
    if (result.columnData.length > 0 && result.queryData.length > 0) {
      await context.print("");
      await writeRows(context.io.stdout, result.columnData, [result.queryData], {
        format: "table",
      });
      await context.log(
        context.err.dim(
          `Rows of page ${result.number} of ${result.totalPages} (pages from 0, ${result.size} rows each; ` +
            `"eventlake query" prints all rows)`,
        ),
      );
    }
  } finally {
    await backend.close();
  }
}

async function abort(context: CommandContext): Promise<void> {
  const queryId = idArg(context, "query-id", "queries abort");
  const { backend } = await openBackend(context, { engine: false });
  try {
    await backend.abort(queryId, { signal: context.signal });
    if (context.flags.json) {
      await context.print(JSON.stringify({ queryInfo: { queryId, state: "ABORTED" } }));
    } else {
      await context.log(`Query ${queryId} aborted`);
    }
  } finally {
    await backend.close();
  }
}

/**
 * Lists, shows or aborts queries.
 *
 * @example
 * ```ts
 * import { run } from "../cli.ts";
 * import { memoryIo } from "../_testing.ts";
 * const home = await Deno.makeTempDir();
 * const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
 * await run(["queries", "list", "--json"], io);
 * console.log(JSON.parse(io.stdoutText()).totalElements); // 0
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export async function queriesCommand(context: CommandContext): Promise<void> {
  const action = actionArg(context, ACTIONS, "queries");
  if (action === "list") return await list(context);
  if (action === "show") return await show(context);
  return await abort(context);
}

/** The `queries` entry of the command table. */
export const QUERIES_COMMAND: Command = Object.freeze<Command>({
  summary: "List the query history, show a query, abort a query",
  usage:
    "list [--state S] [--creator NAME] [--sort field,dir] | show <query-id> | abort <query-id>",
  description:
    "Filters, sort and paging are the API's: --state (repeatable: QUEUED, RUNNING, FINISHED,\n" +
    "FAILED, ABORTED), --creator (exact), --query-id (part of the id), --sort field,asc|desc over\n" +
    "queryId, queryTextPreview, state, createdAt, elapsedTime, inputDataSize, creatorName,\n" +
    "storageUrl (default createdAt,desc), --page from 0, --size 1-1000 (default 20).\n" +
    "Embedded mode reads the same history as `eventlake serve` on this home.\n" +
    "Exit 3 for an unknown query, 4 for another user's query, 5 to abort an ended one.",
  positionals: [
    { name: "action", description: "list, show or abort" },
    { name: "id", description: "The query id (show, abort)", required: false },
  ],
  options: {
    json: { type: "boolean", description: "Print the API's JSON on stdout" },
    state: {
      type: "string",
      description: "Only these states (repeatable)",
      valueName: "state",
      multiple: true,
    },
    creator: { type: "string", description: "Only this creator", valueName: "name" },
    "query-id": { type: "string", description: "Only ids containing this", valueName: "text" },
    sort: { type: "string", description: "Sort, e.g. elapsedTime,desc", valueName: "field,dir" },
    page: { type: "string", description: "Page, from 0 (list, show)", valueName: "n" },
    size: { type: "string", description: "Page size, 1-1000 (list)", valueName: "n" },
    ...CLIENT_FLAGS,
  },
  examples: [
    { command: "eventlake queries list --state RUNNING", description: "What runs now" },
    {
      command: "eventlake queries list --sort elapsedTime,desc --size 5 --json",
      description: "The five slowest queries, as JSON",
    },
    { command: "eventlake queries show 20230101-120000-abcdefghij", description: "One query" },
    { command: "eventlake queries abort 20230101-120000-abcdefghij", description: "Stop it" },
  ],
  handler: queriesCommand,
});

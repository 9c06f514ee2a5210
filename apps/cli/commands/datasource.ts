/**
 * `eventlake datasource list|create|delete`: the data sources of the Data Query API.
 *
 * The MySQL password is never a flag (it would land in shell history and `ps`): it is read from
 * a prompt without echo when stdin is a terminal, else from the first line of stdin.
 *
 * @module
 */
import process from "node:process";
import { AbortedError, InvalidArgumentError } from "@eventlake/schema";
import type { Command, CommandContext } from "../command.ts";
import { formatTable } from "../format.ts";
import type { Io } from "../io.ts";
import { write } from "../io.ts";
import { openBackend } from "../_client_open.ts";
import { actionArg, idArg } from "./queries.ts";
import { CLIENT_FLAGS } from "./query.ts";

const ACTIONS = ["list", "create", "delete"] as const;

/** Turns the terminal's echo and line editing off (or back on); false when impossible. */
function setRawMode(raw: boolean): boolean {
  const stdin = process.stdin as { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  if (!stdin.isTTY || typeof stdin.setRawMode !== "function") return false;
  stdin.setRawMode(raw);
  return true;
}

/**
 * Reads one secret line: on a terminal from a prompt on stderr with echo off (raw mode), else
 * the first line of stdin. A trailing CR/LF is dropped.
 *
 * @example
 * ```ts
 * import { readSecretLine } from "./datasource.ts";
 * import { memoryIo } from "../_testing.ts";
 * console.log(await readSecretLine(memoryIo({ stdin: "s3cr3t\n" }), "Password: ")); // "s3cr3t"
 * ```
 */
export async function readSecretLine(
  io: Pick<Io, "stdin" | "stderr" | "isTTY" | "signal">,
  prompt: string,
): Promise<string> {
  const tty = io.isTTY.stdin;
  let raw = false;
  if (tty) {
    await write(io.stderr, prompt);
    try {
      // Echo off: only a real terminal (the process's own stdin) can do this.
      raw = setRawMode(true);
    } catch {
      raw = false;
    }
  }
  const decoder = new TextDecoder();
  let text = "";
  const reader = io.stdin.getReader();
  try {
    for (;;) {
      if (io.signal.aborted) throw new AbortedError("Interrupted");
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = decoder.decode(value, { stream: true });
      let ended = false;
      for (const ch of chunk) {
        if (ch === "\n" || ch === "\r") {
          ended = true;
          break;
        }
        if (raw && ch === "\u0003") throw new AbortedError("Interrupted");
        if (raw && (ch === "\u007f" || ch === "\b")) {
          text = text.slice(0, -1);
          continue;
        }
        text += ch;
      }
      if (ended) break;
    }
  } finally {
    reader.releaseLock();
    if (raw) {
      setRawMode(false);
      await write(io.stderr, "\n");
    }
  }
  return text;
}

async function list(context: CommandContext): Promise<void> {
  const { backend } = await openBackend(context, { engine: false });
  try {
    const sources = await backend.listDataSources({ signal: context.signal });
    if (context.flags.json) {
      await context.print(JSON.stringify(sources, null, 2));
      return;
    }
    const c = context.out;
    await context.print(formatTable([
      ["NAME", "TYPE", "SCOPE", "CREATOR", "DESCRIPTION"].map(c.bold),
      ...sources.map((s) => [s.name, s.type, s.scope, s.creatorName, s.description ?? ""]),
    ]));
  } finally {
    await backend.close();
  }
}

function required(context: CommandContext, flag: string): string {
  const value = context.flags[flag];
  if (typeof value !== "string" || value === "") {
    throw new InvalidArgumentError(`Missing --${flag} for "eventlake datasource create"`, {
      details: { hint: `Run "eventlake datasource --help" for usage` },
    });
  }
  return value;
}

async function create(context: CommandContext): Promise<void> {
  const name = idArg(context, "name", "datasource create");
  const instanceId = required(context, "instance");
  const mysqlUser = required(context, "user");
  const scope = String(context.flags.scope ?? "PRIVATE").toUpperCase();
  if (scope !== "PRIVATE" && scope !== "PUBLIC") {
    throw new InvalidArgumentError(
      `Invalid --scope "${context.flags.scope}": expected PRIVATE or PUBLIC`,
    );
  }
  const password = await readSecretLine(context.io, `MySQL password of "${mysqlUser}": `);
  if (password === "") {
    throw new InvalidArgumentError("The MySQL password is empty", {
      details: {
        hint: 'Type it at the prompt, or pipe it: printf %s "$PW" | eventlake datasource create …',
      },
    });
  }
  const body = {
    type: "MYSQL",
    name,
    scope,
    instanceId,
    mysqlUser,
    mysqlPassword: btoa(String.fromCharCode(...new TextEncoder().encode(password))),
    ...(typeof context.flags.description === "string"
      ? { description: context.flags.description }
      : {}),
  };
  // Embedded mode tests the connection with the engine, as the server does.
  const { backend } = await openBackend(context, { engine: true });
  try {
    const created = await backend.createDataSource(body, { signal: context.signal });
    if (context.flags.json) {
      await context.print(JSON.stringify(created, null, 2));
    } else {
      await context.log(`Data source ${created.name} created (${created.type}, ${created.scope})`);
    }
  } finally {
    await backend.close();
  }
}

async function remove(context: CommandContext): Promise<void> {
  const name = idArg(context, "name", "datasource delete");
  const { backend } = await openBackend(context, { engine: false });
  try {
    await backend.deleteDataSource(name, { signal: context.signal });
    if (context.flags.json) {
      await context.print(JSON.stringify({ name, deleted: true }));
    } else {
      await context.log(`Data source ${name} deleted`);
    }
  } finally {
    await backend.close();
  }
}

/**
 * Lists, creates or deletes data sources.
 *
 * @example
 * ```ts
 * import { run } from "../cli.ts";
 * import { memoryIo } from "../_testing.ts";
 * const home = await Deno.makeTempDir();
 * const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
 * await run(["datasource", "list", "--json"], io);
 * console.log(JSON.parse(io.stdoutText())[0].name); // "data_catalog"
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export async function datasourceCommand(context: CommandContext): Promise<void> {
  const action = actionArg(context, ACTIONS, "datasource");
  if (action === "list") return await list(context);
  if (action === "create") return await create(context);
  return await remove(context);
}

/** The `datasource` entry of the command table. */
export const DATASOURCE_COMMAND: Command = Object.freeze<Command>({
  summary: "List, create (MySQL) or delete data sources",
  usage:
    "list | create <name> --instance <id> --user <user> [--scope PRIVATE|PUBLIC] | delete <name>",
  description:
    "create asks for the MySQL password (no echo) on a terminal, else reads the first line of\n" +
    "stdin; there is no password flag, so it never lands in shell history. The server tests the\n" +
    "connection before saving. Exit 5 when the name exists or to delete a DATA_CATALOG source,\n" +
    "3 for an unknown source, 2 for an unknown instance or a failed connection test.",
  positionals: [
    { name: "action", description: "list, create or delete" },
    { name: "id", description: "The data source name (create, delete)", required: false },
  ],
  options: {
    json: { type: "boolean", description: "Print JSON on stdout" },
    instance: { type: "string", description: "MySQL instance id (create)", valueName: "id" },
    user: { type: "string", description: "MySQL user (create)", valueName: "user" },
    scope: {
      type: "string",
      description: "PRIVATE (default) or PUBLIC (create)",
      valueName: "scope",
    },
    description: { type: "string", description: "Free text (create)", valueName: "text" },
    ...CLIENT_FLAGS,
  },
  examples: [
    { command: "eventlake datasource list", description: "Every visible source" },
    {
      command: "eventlake datasource create shop_db --instance db1 --user reader --scope PUBLIC",
      description: "Add a MySQL source (asks for the password)",
    },
    {
      command: `printf %s "$PW" | eventlake datasource create shop_db --instance db1 --user reader`,
      description: "The same in a script, password on stdin",
    },
    { command: "eventlake datasource delete shop_db", description: "Remove it" },
  ],
  handler: datasourceCommand,
});

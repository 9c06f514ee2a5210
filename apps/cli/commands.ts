/**
 * THE command table: every `eventlake` subcommand, its help and its handler.
 *
 * Adding a command is one entry here plus a handler file `commands/<name>.ts`.
 *
 * @module
 */
import type { CommandTable } from "./command.ts";
import { CONFIG_FLAGS } from "./config.ts";
import { configCommand } from "./commands/config.ts";
import { helpCommand } from "./commands/help.ts";
import { inspectCommand } from "./commands/inspect.ts";
import { versionCommand } from "./commands/version.ts";

const JSON_FLAG = { json: { type: "boolean", description: "Print JSON on stdout" } } as const;

/** Every command, in the order `eventlake --help` lists them. */
export const COMMANDS: CommandTable = Object.freeze({
  inspect: {
    summary: "Show the schema, row groups, ts range and format variants of a Parquet file",
    usage: "<file.parquet> [--json]",
    description: "Reads only the file's footer (and the ts column when it has no statistics).\n" +
      "A Parquet file of another schema is described, with the problems that stop import.\n" +
      "Exit 3 when the file does not exist, 2 when it is not a readable Parquet file.",
    positionals: [{ name: "file.parquet", description: "A local Parquet file" }],
    options: JSON_FLAG,
    examples: [
      {
        command: "eventlake inspect dt=2023-01-01/000000000000.parquet",
        description: "Summarise one day's file",
      },
      {
        command: "eventlake inspect events.parquet --json | jq .rowCount",
        description: "Print the inspection as JSON and pick the row count",
      },
    ],
    handler: inspectCommand,
  },
  config: {
    summary: "Show each setting, its value (secrets masked) and where it came from",
    usage: "[--json] [--home <dir>] [--lake-url <url>] …",
    description: "Each setting comes from its flag, else its EVENTLAKE_* environment variable,\n" +
      "else $EVENTLAKE_HOME/config.json (keys: lakeUrl, resultsDir, port, endpoint,\n" +
      "credentialId, credentialSecret), else its default.",
    options: { ...JSON_FLAG, ...CONFIG_FLAGS },
    examples: [
      { command: "eventlake config", description: "Print the effective configuration" },
      {
        command: "EVENTLAKE_PORT=9000 eventlake config --json",
        description: "Print it as JSON; port comes from the environment",
      },
    ],
    handler: configCommand,
  },
  help: {
    summary: "Show the help of a command",
    usage: "[command]",
    positionals: [{ name: "command", description: "A command name", required: false }],
    options: {},
    examples: [{ command: "eventlake help inspect", description: "Options of inspect" }],
    handler: helpCommand,
  },
  version: {
    summary: "Print the version",
    usage: "[--json]",
    options: JSON_FLAG,
    examples: [{ command: "eventlake version", description: "Print the version" }],
    handler: versionCommand,
  },
});

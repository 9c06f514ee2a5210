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
import { IMPORT_OPTIONS, importCommand } from "./commands/import.ts";
import { inspectCommand } from "./commands/inspect.ts";
import { serveCommand } from "./commands/serve.ts";
import { exportCommand } from "./commands/export.ts";
import { validateCommand } from "./commands/validate.ts";
import { versionCommand } from "./commands/version.ts";
import { QUERY_COMMAND } from "./commands/query.ts";
import { QUERIES_COMMAND } from "./commands/queries.ts";
import { DATASOURCE_COMMAND } from "./commands/datasource.ts";
import { CREDENTIALS_COMMAND } from "./commands/credentials.ts";

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
  export: {
    summary: "Write events (NDJSON, JSON array, CSV, Parquet) as ready dt= partitions",
    usage: "<inputs…> --to <url> [--max-rejects N] [--date D] [--rejects file] [--json]",
    description:
      "Validates and normalises every record, groups records by the UTC day of ts, splits each\n" +
      "day into part files and writes parts, then _SUCCESS, to file://, s3://, gs:// or gcs://.\n" +
      "Inputs are files, globs or - (stdin); the format comes from the extension or the first bytes.\n" +
      "Rejected records go to the reject file (NDJSON: input, line, reasons, record). When more than\n" +
      "--max-rejects are rejected, their days get no _SUCCESS and the exit code is 2.\n" +
      "S3/GCS settings come from AWS_* (AWS_ENDPOINT_URL for S3-compatible stores) and\n" +
      "STORAGE_EMULATOR_HOST / GOOGLE_APPLICATION_CREDENTIALS.",
    positionals: [{
      name: "inputs",
      description: "Files, globs (data/*.ndjson, **/*.csv) or - for stdin",
      variadic: true,
    }],
    options: {
      ...JSON_FLAG,
      to: {
        type: "string",
        description: "Destination: a folder or file://, s3://, gs:// URL",
        valueName: "url",
      },
      "max-rejects": {
        type: "string",
        description: "Rejected records tolerated (default 0)",
        valueName: "n",
      },
      date: {
        type: "string",
        description: "Export only this UTC day; other days are rejected",
        valueName: "YYYY-MM-DD",
      },
      rejects: {
        type: "string",
        description:
          `Reject file (default eventlake-rejects.ndjson, written only when needed; - for none)`,
        valueName: "file",
      },
      format: {
        type: "string",
        description: "Input format: ndjson, json, csv or parquet",
        valueName: "format",
      },
      "part-rows": {
        type: "string",
        description: "Rows per part file (default 1000000)",
        valueName: "n",
      },
      "max-open-parts": {
        type: "string",
        description: "Part files written at once, one per day in flight (default 8)",
        valueName: "n",
      },
      "part-bytes": {
        type: "string",
        description: "Target size of a part file (default 256MiB)",
        valueName: "size",
      },
    },
    examples: [
      {
        command: "eventlake export events.ndjson --to s3://bucket/events",
        description: "Export one file to S3",
      },
      {
        command: "cat day.csv | eventlake export - --to ./lake --date 2023-01-01 --max-rejects 10",
        description: "Export one day from stdin, tolerating 10 bad records",
      },
    ],
    handler: exportCommand,
  },
  validate: {
    summary: "Check dt= partitions exactly as the importer will read them",
    usage: "<url> (--date D | --from D --to D) [--json]",
    description:
      "Checks layout (folder and part names, unexpected files), _SUCCESS present and 0 bytes,\n" +
      "each part's Parquet schema (exact or which tolerated variant), every record, insert_id\n" +
      "unique within the day and every ts inside the day (UTC). Exit 2 on any error.",
    positionals: [{
      name: "url",
      description: "The partitions' root: a folder or file://, s3://, gs:// URL",
    }],
    options: {
      ...JSON_FLAG,
      date: {
        type: "string",
        description: "A day to check (repeatable)",
        valueName: "YYYY-MM-DD",
        multiple: true,
      },
      from: { type: "string", description: "First day of a range", valueName: "YYYY-MM-DD" },
      to: {
        type: "string",
        description: "Last day of a range (inclusive)",
        valueName: "YYYY-MM-DD",
      },
      "max-problems": {
        type: "string",
        description: "Problems shown per day (default 20)",
        valueName: "n",
      },
    },
    examples: [
      {
        command: "eventlake validate s3://bucket/events --date 2023-01-01",
        description: "Check one day",
      },
      {
        command: "eventlake validate ./lake --from 2023-01-01 --to 2023-01-31 --json",
        description: "Check a month, as JSON",
      },
    ],
    handler: validateCommand,
  },
  query: QUERY_COMMAND,
  queries: QUERIES_COMMAND,
  datasource: DATASOURCE_COMMAND,
  credentials: CREDENTIALS_COMMAND,
  import: {
    summary:
      "Import daily Parquet partitions into the lake: run, job, backfill, status, schedule, check",
    usage: "run|job create|job list|job delete|backfill|status|schedule|check [options]",
    description:
      "run: one day (default D-1) of --source or --job: waits for _SUCCESS (with --wait),\n" +
      "de-duplicates insert_id (window --dedup-days), validates and lands it atomically.\n" +
      "job create|list|delete: stored jobs ($EVENTLAKE_HOME/import.db). backfill --job --from --to.\n" +
      "status: recent runs (--run <id> for one report). schedule: runs until Ctrl-C, each day\n" +
      "after its deadline, catching up missed days. check --source: credentials, listing, schema.\n" +
      "Credentials come from the environment (AWS_*, GOOGLE_APPLICATION_CREDENTIALS), never URLs.\n" +
      "Exit 0 when the day landed (SUCCEEDED or PARTIAL), 3 when MISSING, else the failure's code.",
    positionals: [
      { name: "action", description: "run, job, backfill, status, schedule or check" },
      {
        name: "rest",
        description: "job: create, list or delete [name]",
        required: false,
        variadic: true,
      },
    ],
    options: IMPORT_OPTIONS,
    examples: [
      {
        command: "eventlake import check --source s3://customer-bucket/test/prefix-custom",
        description: "Pre-flight: credentials, listing and a sample part's schema",
      },
      {
        command: "eventlake import run --source gs://customer-data/prefix --date 2023-01-01 --json",
        description: "Import one day now and print the run report as JSON",
      },
      {
        command:
          "eventlake import job create --name daily --source s3://b/p --deadline 13:00 --time-zone Asia/Seoul",
        description: "Store a daily job",
      },
      {
        command:
          "eventlake import backfill --job daily --from 2023-01-01 --to 2023-01-31 --concurrency 2",
        description: "Import a month, two days at a time",
      },
    ],
    handler: importCommand,
  },
  config: {
    summary: "Show each setting, its value (secrets masked) and where it came from",
    usage: "[--json] [--home <dir>] [--lake-url <url>] …",
    description: "Each setting comes from its flag, else its EVENTLAKE_* environment variable,\n" +
      "else $EVENTLAKE_HOME/config.json (keys: lakeUrl, resultsDir, port, endpoint,\n" +
      "credentialId, credentialSecret, dataSource, database, bucket, resultPath), else its\n" +
      "default. Secrets are masked.",
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
  serve: {
    summary: "Run the gateway: the Data Query Open API and the import API over HTTP",
    usage: "[--port <port>] [--hostname <host>] [--home <dir>]",
    description: "Serves the lake (--lake-url) with DuckDB. Every folder under --results-dir\n" +
      "(default $EVENTLAKE_HOME/buckets) is a result bucket of that name, shared with the\n" +
      "embedded CLI: bucket `results` is $EVENTLAKE_HOME/buckets/results/. A first start with\n" +
      "an empty home creates a credential (printed once), that bucket and a demo day of events.\n" +
      "The web console is served at / (http://127.0.0.1:8080/ by default); the full result of a\n" +
      "query downloads from /v1/data-query/query/{id}/result.csv. SIGTERM or Ctrl-C drains.",
    options: {
      ...CONFIG_FLAGS,
      hostname: {
        type: "string",
        description: "Interface to listen on (default 127.0.0.1)",
        valueName: "host",
      },
    },
    examples: [
      { command: "eventlake serve", description: "Serve on 127.0.0.1:8080" },
      {
        command: "EVENTLAKE_HOME=/srv/lake eventlake serve --port 9000",
        description: "Serve another home on port 9000",
      },
    ],
    handler: serveCommand,
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

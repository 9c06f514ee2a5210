/**
 * `eventlake import run|job create|job list|job delete|backfill|status|schedule|check`: the
 * importer of `@eventlake/dataimport` from the command line.
 *
 * Source credentials never come from the URL or from flags: S3 uses `AWS_ACCESS_KEY_ID` /
 * `AWS_SECRET_ACCESS_KEY` (`AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT_URL_S3`) or the
 * SDK's own chain; GCS a service-account key file (`--gcs-key-file` or
 * `GOOGLE_APPLICATION_CREDENTIALS`) or Application Default Credentials, and
 * `STORAGE_EMULATOR_HOST` for an emulator. Jobs and run reports live in
 * `$EVENTLAKE_HOME/import.db` — the same file `eventlake serve`'s import API uses, so both see the
 * same jobs and runs; the lake defaults to `$EVENTLAKE_HOME/lake/`. `--source` and `--lake-url`
 * take a URL or a folder path.
 *
 * The CLI opens no query service, so a landing here calls no `tableChanged`. A running gateway
 * still sees it: its next query reads the new day, and no earlier result is reused, because every
 * landing rewrites the table's `_VERSION` token, which the query service fingerprints before each
 * query. `tests/import_gateway_cli_test.ts` checks this.
 *
 * @module
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EventlakeError, InvalidArgumentError } from "@eventlake/schema";
import { type LakeTableRef, openStore, type OpenStoreConfig } from "@eventlake/storage";
import {
  backfillJob,
  checkSource,
  defaultImportDate,
  importDeadline,
  type ImportJob,
  type ImportJobSpec,
  ImportState,
  type OpenedJobStores,
  runImport,
  runJob,
  type RunReport,
  runSchedule,
  type SourceStoreOptions,
} from "@eventlake/dataimport";
import type { CommandContext } from "../command.ts";
import { loadConfig } from "../config.ts";
import { exitCodeOf } from "../exit_codes.ts";
import { formatBytes, formatCount, formatTable } from "../format.ts";
import { formatInspection } from "./inspect.ts";
import { storeUrlArg } from "./export.ts";

/** The flags of `eventlake import` (all actions share one table; each action checks its own). */
export const IMPORT_OPTIONS = {
  json: { type: "boolean", description: "Print JSON on stdout" },
  source: {
    type: "string",
    description: "Source prefix: s3://, gs://, file:// URL",
    valueName: "url",
  },
  date: {
    type: "string",
    description: "Day to import, YYYY-MM-DD (default: D-1 in the time zone)",
    valueName: "date",
  },
  from: { type: "string", description: "backfill: first day", valueName: "date" },
  to: { type: "string", description: "backfill: last day", valueName: "date" },
  job: { type: "string", description: "A stored job (name or id)", valueName: "name" },
  name: { type: "string", description: "job create: the new job's name", valueName: "name" },
  table: {
    type: "string",
    description: "Destination data_source.database.table (default data_catalog.default.events)",
    valueName: "ref",
  },
  deadline: {
    type: "string",
    description: "Daily load deadline HH:MM (default 13:00)",
    valueName: "HH:MM",
  },
  "time-zone": {
    type: "string",
    description: "IANA time zone of the deadline (default Asia/Seoul)",
    valueName: "zone",
  },
  "dedup-days": { type: "string", description: "Dedup window in days (default 7)", valueName: "n" },
  "start-date": {
    type: "string",
    description: "job create: first day the schedule imports",
    valueName: "date",
  },
  wait: {
    type: "boolean",
    description: "run: wait for _SUCCESS until the deadline (default: check once)",
  },
  concurrency: {
    type: "string",
    description: "backfill: days at a time (default 2)",
    valueName: "n",
  },
  "late-days": {
    type: "string",
    description: "schedule: days a MISSING day is watched for a late _SUCCESS (default 7)",
    valueName: "n",
  },
  run: { type: "string", description: "status: show one run's full report", valueName: "id" },
  limit: { type: "string", description: "status: runs to list (default 20)", valueName: "n" },
  "s3-endpoint": {
    type: "string",
    description: "S3-compatible endpoint (path-style) [AWS_ENDPOINT_URL_S3]",
    valueName: "url",
  },
  "s3-region": { type: "string", description: "S3 region [AWS_REGION]", valueName: "region" },
  "gcs-endpoint": {
    type: "string",
    description: "GCS API endpoint [STORAGE_EMULATOR_HOST]",
    valueName: "url",
  },
  "gcs-project": { type: "string", description: "GCS project id", valueName: "id" },
  "gcs-key-file": {
    type: "string",
    description: "GCS service-account key file [GOOGLE_APPLICATION_CREDENTIALS]",
    valueName: "path",
  },
  "lake-url": {
    type: "string",
    description: "Root of the event lake [EVENTLAKE_LAKE_URL]",
    valueName: "url",
  },
  home: {
    type: "string",
    description: "Directory of local state [EVENTLAKE_HOME]",
    valueName: "dir",
  },
} as const;

const ACTIONS = ["run", "job", "backfill", "status", "schedule", "check"];

function str(context: CommandContext, name: string): string | undefined {
  const v = context.flags[name];
  return typeof v === "string" ? v : undefined;
}

function int(context: CommandContext, name: string, min: number, max: number): number | undefined {
  const v = str(context, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) {
    throw new InvalidArgumentError(
      `Option "--${name}" must be a whole number from ${min} to ${max}: got "${v}"`,
    );
  }
  return n;
}

function need(context: CommandContext, name: string, action: string): string {
  const v = str(context, name);
  if (v === undefined) {
    throw new InvalidArgumentError(`"eventlake import ${action}" needs --${name}`, {
      details: { hint: `Run "eventlake import --help" for usage` },
    });
  }
  return v;
}

function parseTable(text: string | undefined): LakeTableRef | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(".");
  if (parts.length !== 3) {
    throw new InvalidArgumentError(`Invalid table "${text}": expected data_source.database.table`);
  }
  return { dataSource: parts[0], database: parts[1], table: parts[2] };
}

/** A lake location that is a plain absolute path becomes a `file://` URL. */
/** A store URL, or a folder path (relative to the working directory) as a `file://` URL. */
function toUrl(context: CommandContext, location: string): string {
  return storeUrlArg(location, context.io.cwd);
}

/** Store options for `url` from flags, the job's stored options and the environment. */
function storeConfig(
  context: CommandContext,
  stored: SourceStoreOptions = {},
): OpenStoreConfig {
  const env = context.io.env;
  const endpoint = str(context, "s3-endpoint") ?? stored.endpoint ?? env.AWS_ENDPOINT_URL_S3 ??
    env.AWS_ENDPOINT_URL;
  const region = str(context, "s3-region") ?? stored.region ?? env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ?? (endpoint ? "us-east-1" : undefined);
  const credentials = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    }
    : undefined;
  const apiEndpoint = str(context, "gcs-endpoint") ?? stored.apiEndpoint ??
    env.STORAGE_EMULATOR_HOST;
  const keyFilename = str(context, "gcs-key-file") ?? stored.keyFilename ??
    env.GOOGLE_APPLICATION_CREDENTIALS;
  const projectId = str(context, "gcs-project") ?? stored.projectId ??
    (apiEndpoint ? "demo-test" : undefined);
  return {
    s3: {
      ...(region ? { region } : {}),
      ...(endpoint ? { endpoint, forcePathStyle: stored.forcePathStyle ?? true } : {}),
      ...(credentials ? { credentials } : {}),
    },
    gcs: {
      ...(apiEndpoint ? { apiEndpoint } : {}),
      ...(keyFilename ? { keyFilename } : {}),
      ...(projectId ? { projectId } : {}),
    },
  };
}

/** The non-secret part of the store flags, stored with a job. */
function storedOptions(context: CommandContext): SourceStoreOptions {
  const out: SourceStoreOptions = {};
  const e = str(context, "s3-endpoint"), r = str(context, "s3-region");
  const g = str(context, "gcs-endpoint"), p = str(context, "gcs-project");
  const k = str(context, "gcs-key-file");
  if (e) (out.endpoint = e), (out.forcePathStyle = true);
  if (r) out.region = r;
  if (g) out.apiEndpoint = g;
  if (p) out.projectId = p;
  if (k) out.keyFilename = k;
  return out;
}

async function openState(
  context: CommandContext,
): Promise<{ state: ImportState; lakeUrl: string }> {
  const config = await loadConfig(context.io, { flags: context.flags, signal: context.signal });
  await mkdir(config.values.home, { recursive: true });
  return {
    state: ImportState.open(join(config.values.home, "import.db")),
    lakeUrl: toUrl(context, config.values.lakeUrl),
  };
}

async function openStores(
  context: CommandContext,
  sourceUrl: string,
  lakeUrl: string,
  stored?: SourceStoreOptions,
): Promise<OpenedJobStores> {
  const config = storeConfig(context, stored);
  if (lakeUrl.startsWith("file://")) {
    await mkdir(fileURLToPath(lakeUrl), { recursive: true });
  }
  const source = await openStore(sourceUrl, config);
  const lake = await openStore(lakeUrl, config);
  return {
    source: { store: source.store, prefix: source.prefix },
    lake: { store: lake.store, root: lake.prefix },
    async close() {
      await source.store.close();
      await lake.store.close();
    },
  };
}

/** One line per run: `2023-01-01  SUCCEEDED  accepted 990,000 …`. */
function reportLine(r: RunReport): string {
  return `${r.date}  ${r.status.padEnd(9)}  read ${formatCount(r.rowsRead)}, accepted ${
    formatCount(r.rowsAccepted)
  }, rejected ${formatCount(r.rowsRejected)}, duplicate ${formatCount(r.rowsDuplicate)}  (${
    (r.timings.totalMs / 1000).toFixed(1)
  } s, run ${r.runId})${r.error ? `\n  ${r.error.message}` : ""}`;
}

/**
 * The human-readable form of a run report.
 *
 * @example
 * ```ts
 * import { formatRunReport } from "./import.ts";
 * const text = formatRunReport({
 *   runId: "r1", date: "2023-01-01", status: "MISSING", source: "s3://b/p/", lake: "file:///l/",
 *   table: { dataSource: "data_catalog", database: "default", table: "events" },
 *   rowsRead: 0, rowsAccepted: 0, rowsRejected: 0, rowsDuplicate: 0, rowsDuplicateEarlier: 0,
 *   bytesRead: 0, bytesWritten: 0, dedupWindowDays: 7, reasons: [], variants: [], files: [],
 *   landed: [], error: { code: "NOT_FOUND", message: "Partition \"dt=2023-01-01\" is not ready" },
 *   timings: { startedAt: "", finishedAt: "", waitMs: 0, dedupMs: 0, importMs: 0, commitMs: 0, totalMs: 0 },
 * });
 * console.log(text.split("\n")[0]); // "Run r1: MISSING"
 * ```
 */
export function formatRunReport(r: RunReport): string {
  const lines = [`Run ${r.runId}: ${r.status}`];
  lines.push(formatTable([
    ["Date", r.date],
    ["Source", r.source],
    ["Table", `${r.table.dataSource}.${r.table.database}.${r.table.table} in ${r.lake}`],
    [
      "Rows",
      `read ${formatCount(r.rowsRead)}, accepted ${formatCount(r.rowsAccepted)}, rejected ${
        formatCount(r.rowsRejected)
      }, duplicate ${formatCount(r.rowsDuplicate)} (${
        formatCount(r.rowsDuplicateEarlier)
      } from earlier days, window ${r.dedupWindowDays} days)`,
    ],
    ["Bytes", `read ${formatBytes(r.bytesRead)}, written ${formatBytes(r.bytesWritten)}`],
    [
      "Timings",
      `wait ${r.timings.waitMs} ms, dedup ${r.timings.dedupMs} ms, import ${r.timings.importMs} ms, commit ${r.timings.commitMs} ms, total ${r.timings.totalMs} ms`,
    ],
  ], { indent: "  " }));
  if (r.error) lines.push(`  Error: ${r.error.message}`);
  if (r.files.length > 0) {
    lines.push("  Source files:");
    for (const f of r.files) {
      lines.push(
        `    ${f.key}  ${formatBytes(f.size)}  etag ${f.etag ?? "-"}${
          f.rows !== undefined ? `  ${formatCount(f.rows)} rows` : ""
        }`,
      );
    }
  }
  if (r.reasons.length > 0) {
    lines.push("  Rejections:");
    for (const reason of r.reasons) {
      lines.push(`    ${reason.rule}: ${formatCount(reason.count)}`);
      for (const s of reason.samples) lines.push(`      ${s.file} row ${s.row}: ${s.message}`);
    }
  }
  if (r.variants.length > 0) lines.push(`  Tolerated variants: ${r.variants.join(", ")}`);
  return lines.join("\n");
}

/** The exit code of a run: 0 when something landed, else its error's code. */
function exitOf(report: RunReport): number {
  if (report.status === "SUCCEEDED" || report.status === "PARTIAL") return 0;
  return exitCodeOf(new EventlakeError(report.error?.code as never ?? "INTERNAL", ""));
}

async function printReport(context: CommandContext, report: RunReport): Promise<void> {
  await context.print(
    context.flags.json ? JSON.stringify(report, null, 2) : formatRunReport(report),
  );
}

function progressLogger(context: CommandContext) {
  let bar: ReturnType<CommandContext["progress"]> | undefined;
  return {
    onProgress: async (p: { phase: string; rowsRead: number; rowsTotal?: number }) => {
      if (p.phase !== "import") return;
      bar ??= context.progress("Importing", { unit: "rows", total: p.rowsTotal });
      await bar.update(p.rowsRead);
    },
    done: async () => {
      await bar?.done();
      bar = undefined;
    },
  };
}

/**
 * `eventlake import …`: see the module documentation and `eventlake import --help`.
 *
 * @example
 * ```ts
 * import { run } from "../cli.ts";
 * import { memoryIo } from "../_testing.ts";
 * const io = memoryIo();
 * console.log(await run(["import", "fly"], io)); // 2
 * ```
 */
export async function importCommand(context: CommandContext): Promise<number | void> {
  const action = String(context.args.action);
  const rest = (context.args.rest as string[] | undefined) ?? [];
  if (!ACTIONS.includes(action)) {
    throw new InvalidArgumentError(
      `Unknown import action "${action}": expected one of ${ACTIONS.join(", ")}`,
      { details: { hint: `Run "eventlake import --help" for usage` } },
    );
  }
  if (action !== "job" && rest.length > 0) {
    throw new InvalidArgumentError(`Unexpected argument "${rest[0]}" after "import ${action}"`);
  }
  switch (action) {
    case "check":
      return await checkAction(context);
    case "run":
      return await runAction(context);
    case "job":
      return await jobAction(context, rest);
    case "backfill":
      return await backfillAction(context);
    case "status":
      return await statusAction(context);
    case "schedule":
      return await scheduleAction(context);
  }
}

async function checkAction(context: CommandContext): Promise<number> {
  const url = toUrl(context, need(context, "source", "check"));
  const source = await openStore(url, storeConfig(context));
  try {
    const check = await checkSource({ store: source.store, prefix: source.prefix }, {
      signal: context.signal,
    });
    if (context.flags.json) {
      await context.print(JSON.stringify(check, null, 2));
    } else {
      const c = context.out;
      await context.print(formatTable([
        ["Source", check.source],
        ["Listing", c.green("ok (credentials and prefix work)")],
        [
          "Days",
          check.dates.length === 0
            ? "none"
            : `${formatCount(check.dates.length)} (${check.dates[0]} … ${
              check.dates[check.dates.length - 1]
            })`,
        ],
        [
          "Ready days",
          check.readyDates.length === 0 ? "none recently" : check.readyDates.join(", "),
        ],
        ["Importable", check.importable ? c.green("yes") : c.red("no")],
      ]));
      if (check.sample) {
        await context.print(`\nSample part ${check.sample.key} (dt=${check.sample.date}):`);
        await context.print(formatInspection(check.sample.inspection, context.out));
      }
      for (const p of check.problems) await context.print(`${c.red("✗")} ${p}`);
    }
    return check.importable ? 0 : exitCodeOf(new EventlakeError("PRECONDITION_FAILED", ""));
  } finally {
    await source.store.close();
  }
}

async function runAction(context: CommandContext): Promise<number> {
  const { state, lakeUrl } = await openState(context);
  const progress = progressLogger(context);
  try {
    const jobName = str(context, "job");
    if (jobName !== undefined) {
      const job = state.getJob(jobName);
      const date = str(context, "date") ?? defaultImportDate(Date.now(), job.timeZone);
      const report = await runJob(state, job, date, {
        open: (j) => openStores(context, j.sourceUrl, j.lakeUrl ?? lakeUrl, j.sourceOptions),
        waitUntilDeadline: context.flags.wait === true,
        onProgress: progress.onProgress,
        signal: context.signal,
      });
      await progress.done();
      await printReport(context, report);
      return exitOf(report);
    }
    const sourceUrl = toUrl(context, need(context, "source", "run"));
    const timeZone = str(context, "time-zone") ?? "Asia/Seoul";
    const date = str(context, "date") ?? defaultImportDate(Date.now(), timeZone);
    const stores = await openStores(context, sourceUrl, lakeUrl);
    try {
      const report = await runImport(stores.source, date, {
        lake: stores.lake,
        table: parseTable(str(context, "table")),
        dedupWindowDays: int(context, "dedup-days", 0, 366),
        deadline: context.flags.wait === true
          ? importDeadline(date, { deadline: str(context, "deadline") ?? "13:00", timeZone })
          : undefined,
        onProgress: progress.onProgress,
        signal: context.signal,
      });
      await progress.done();
      state.recordRun(report);
      await printReport(context, report);
      return exitOf(report);
    } finally {
      await stores.close();
    }
  } finally {
    state.close();
  }
}

async function jobAction(context: CommandContext, rest: string[]): Promise<number> {
  const [verb, ...more] = rest;
  const { state } = await openState(context);
  try {
    if (verb === "create") {
      if (more.length > 0) throw new InvalidArgumentError(`Unexpected argument "${more[0]}"`);
      const spec: ImportJobSpec = {
        name: need(context, "name", "job create"),
        creatorName: context.io.env.USER || context.io.env.LOGNAME || "local",
        sourceUrl: toUrl(context, need(context, "source", "job create")),
        sourceOptions: storedOptions(context),
        ...(str(context, "lake-url") ? { lakeUrl: toUrl(context, str(context, "lake-url")!) } : {}),
        table: parseTable(str(context, "table")),
        deadline: str(context, "deadline"),
        timeZone: str(context, "time-zone"),
        dedupWindowDays: int(context, "dedup-days", 0, 366),
        startDate: str(context, "start-date"),
      };
      const job = state.createJob(spec);
      await context.print(
        context.flags.json
          ? JSON.stringify(job, null, 2)
          : `Created import job "${job.name}" (${job.id})`,
      );
      return 0;
    }
    if (verb === "list") {
      const jobs = state.listJobs();
      if (context.flags.json) {
        await context.print(JSON.stringify(jobs, null, 2));
      } else if (jobs.length === 0) {
        await context.print("No import jobs");
      } else {
        await context.print(formatTable([
          ["NAME", "SOURCE", "TABLE", "DEADLINE", "WINDOW", "CREATOR"],
          ...jobs.map((j: ImportJob) => [
            j.name,
            j.sourceUrl,
            `${j.table.dataSource}.${j.table.database}.${j.table.table}`,
            `${j.deadline} ${j.timeZone}`,
            `${j.dedupWindowDays}d`,
            j.creatorName,
          ]),
        ]));
      }
      return 0;
    }
    if (verb === "delete") {
      const name = more[0] ?? need(context, "job", "job delete");
      const job = state.deleteJob(name);
      await context.print(
        context.flags.json ? JSON.stringify(job, null, 2) : `Deleted import job "${job.name}"`,
      );
      return 0;
    }
    throw new InvalidArgumentError(
      `Unknown job action "${verb ?? ""}": expected create, list or delete`,
      { details: { hint: `Run "eventlake import --help" for usage` } },
    );
  } finally {
    state.close();
  }
}

async function backfillAction(context: CommandContext): Promise<number> {
  const { state, lakeUrl } = await openState(context);
  try {
    const job = state.getJob(need(context, "job", "backfill"));
    const reports = await backfillJob(state, job, {
      from: need(context, "from", "backfill"),
      to: need(context, "to", "backfill"),
      concurrency: int(context, "concurrency", 1, 64),
      open: (j) => openStores(context, j.sourceUrl, j.lakeUrl ?? lakeUrl, j.sourceOptions),
      onReport: context.flags.json ? undefined : (r) => context.log(reportLine(r)),
      signal: context.signal,
    });
    if (context.flags.json) await context.print(JSON.stringify(reports, null, 2));
    const worst = reports.map(exitOf).find((code) => code !== 0);
    return worst ?? 0;
  } finally {
    state.close();
  }
}

async function statusAction(context: CommandContext): Promise<number> {
  const { state } = await openState(context);
  try {
    const runId = str(context, "run");
    if (runId !== undefined) {
      await printReport(context, state.getRun(runId));
      return 0;
    }
    const runs = state.listRuns({
      job: str(context, "job"),
      date: str(context, "date"),
      limit: int(context, "limit", 1, 10_000) ?? 20,
    });
    if (context.flags.json) {
      await context.print(
        JSON.stringify(runs.map((r) => state.findRun(r.runId)?.report ?? r), null, 2),
      );
    } else if (runs.length === 0) {
      await context.print("No import runs");
    } else {
      await context.print(formatTable([
        ["RUN", "DATE", "STATUS", "STARTED", "JOB"],
        ...runs.map((r) => [r.runId, r.date, r.status, r.startedAt, r.jobId ?? "-"]),
      ]));
    }
    return 0;
  } finally {
    state.close();
  }
}

async function scheduleAction(context: CommandContext): Promise<number> {
  const { state, lakeUrl } = await openState(context);
  try {
    const job = str(context, "job");
    await context.log(
      `Scheduling ${job ? `job "${job}"` : "every import job"}; press Ctrl-C to stop`,
    );
    await runSchedule(state, {
      jobs: job ? [job] : undefined,
      lateDays: int(context, "late-days", 0, 366),
      open: (j) => openStores(context, j.sourceUrl, j.lakeUrl ?? lakeUrl, j.sourceOptions),
      onReport: (r) => context.log(reportLine(r)),
      signal: context.signal,
    });
    await context.log("Schedule stopped");
    return 0;
  } finally {
    state.close();
  }
}

/**
 * `eventlake export <inputs…> --to <url>`: records to ready `dt=` partitions.
 *
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  exportEvents,
  type ExportInput,
  type ExportSummary,
  type InputFormat,
} from "@eventlake/dataimport";
import { InvalidArgumentError } from "@eventlake/schema";
import type { OpenStoreConfig } from "@eventlake/storage";
import type { Colors } from "../color.ts";
import type { CommandContext } from "../command.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { formatBytes, formatCount, formatTable } from "../format.ts";

/** Name of the reject file when `--rejects` is not given (created only when needed). */
export const DEFAULT_REJECTS_FILE = "eventlake-rejects.ndjson";

/**
 * A store address from the command line: a URL as it is, a plain path as a `file://` URL
 * resolved against `cwd`.
 *
 * @example
 * ```ts
 * import { storeUrlArg } from "./export.ts";
 * console.log(storeUrlArg("lake", "/data")); // "file:///data/lake"
 * console.log(storeUrlArg("s3://bucket/events", "/data")); // "s3://bucket/events"
 * ```
 */
export function storeUrlArg(value: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  return pathToFileURL(resolve(cwd, value)).href.replace(/\/$/, "");
}

/**
 * The store options the environment gives, for the scheme of `url` only: for S3
 * `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (an S3-compatible endpoint, path-style),
 * `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`
 * (+ `AWS_SESSION_TOKEN`); for GCS `STORAGE_EMULATOR_HOST` (an emulator),
 * `GOOGLE_APPLICATION_CREDENTIALS` (a key file) and `GOOGLE_CLOUD_PROJECT`. Anything unset is
 * left to the SDK's own chain.
 *
 * @example
 * ```ts
 * import { storeConfigFromEnv } from "./export.ts";
 * const config = storeConfigFromEnv("s3://b/p", { AWS_ENDPOINT_URL: "http://127.0.0.1:9000" });
 * console.log(config.s3?.endpoint, config.s3?.forcePathStyle); // "http://127.0.0.1:9000" true
 * ```
 */
export function storeConfigFromEnv(
  url: string,
  env: Readonly<Record<string, string | undefined>>,
): OpenStoreConfig {
  const scheme = url.slice(0, url.indexOf(":")).toLowerCase();
  if (scheme === "s3") {
    const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
    const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
    const id = env.AWS_ACCESS_KEY_ID;
    const secret = env.AWS_SECRET_ACCESS_KEY;
    return {
      s3: {
        ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
        ...(region ? { region } : endpoint ? { region: "us-east-1" } : {}),
        ...(id && secret
          ? {
            credentials: {
              accessKeyId: id,
              secretAccessKey: secret,
              ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
            },
          }
          : {}),
      },
    };
  }
  if (scheme === "gs" || scheme === "gcs") {
    const emulator = env.STORAGE_EMULATOR_HOST;
    return {
      gcs: {
        ...(emulator
          ? { apiEndpoint: /^https?:\/\//.test(emulator) ? emulator : `http://${emulator}` }
          : {}),
        ...(env.GOOGLE_APPLICATION_CREDENTIALS && !emulator
          ? { keyFilename: env.GOOGLE_APPLICATION_CREDENTIALS }
          : {}),
        ...(env.GOOGLE_CLOUD_PROJECT ? { projectId: env.GOOGLE_CLOUD_PROJECT } : {}),
      },
    };
  }
  return {};
}

/** A flag that must be a whole number ≥ `min`, or `undefined` when absent. */
export function integerFlag(
  value: string | boolean | string[] | undefined,
  flag: string,
  min: number,
): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim().replace(/_/g, "");
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new InvalidArgumentError(
      `Invalid value "${String(value)}" for --${flag}: expected a whole number of at least ${min}`,
      { details: { flag, value: String(value) } },
    );
  }
  return n;
}

/** `--part-bytes`: a number of bytes with an optional KiB/MiB/GiB (or K/M/G) suffix. */
function bytesFlag(value: string | boolean | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\s*(k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(String(value).trim());
  if (m === null || Number(m[1]) < 1) {
    throw new InvalidArgumentError(
      `Invalid value "${
        String(value)
      }" for --part-bytes: expected a size such as 134217728, 128MiB or 1GiB`,
      { details: { flag: "part-bytes", value: String(value) } },
    );
  }
  const unit = (m[2] ?? "").toLowerCase()[0];
  return Number(m[1]) * (unit === "k" ? 1024 : unit === "m" ? 1 << 20 : unit === "g" ? 1 << 30 : 1);
}

const FORMATS: readonly InputFormat[] = ["ndjson", "json", "csv", "parquet"];

/**
 * The human-readable summary of an export.
 *
 * @example
 * ```ts
 * import { colors } from "../color.ts";
 * import { formatExportSummary } from "./export.ts";
 * const plain = colors({ env: {}, isTTY: { stdin: false, stdout: false, stderr: false } }, "stdout");
 * const text = formatExportSummary({
 *   to: "file:///lake", ok: true, records: 2, accepted: 2, rejected: 0, maxRejects: 0,
 *   rejectsByRule: {}, rejectedWithoutDate: 0, rejectSamples: [], warnings: [],
 *   days: [{ date: "2023-01-01", rows: 2, parts: 1, bytes: 2048, rejected: 0, committed: true }],
 * }, plain);
 * console.log(text.split("\n")[0]); // "Exported 2 of 2 records to file:///lake"
 * ```
 */
export function formatExportSummary(summary: ExportSummary, c: Colors): string {
  const lines = [
    `Exported ${formatCount(summary.accepted)} of ${
      formatCount(summary.records)
    } records to ${summary.to}` +
    (summary.rejected > 0
      ? ` (${formatCount(summary.rejected)} rejected, at most ${
        formatCount(summary.maxRejects)
      } allowed)`
      : ""),
  ];
  if (summary.days.length > 0) {
    lines.push("");
    lines.push(formatTable([
      [
        c.dim("DAY"),
        c.dim("ROWS"),
        c.dim("PARTS"),
        c.dim("SIZE"),
        c.dim("REJECTED"),
        c.dim("STATE"),
      ],
      ...summary.days.map((d) => [
        d.date,
        formatCount(d.rows),
        formatCount(d.parts),
        formatBytes(d.bytes),
        formatCount(d.rejected),
        d.committed
          ? c.green("ready (_SUCCESS written)")
          : c.red(`not ready: ${d.reason ?? "not committed"}`),
      ]),
    ], { indent: "  ", alignRight: [1, 2, 3, 4] }));
  }
  const rules = Object.entries(summary.rejectsByRule);
  if (rules.length > 0) {
    lines.push("", "Rejected records by rule:");
    lines.push(formatTable(
      rules.sort((a, b) => b[1] - a[1]).map(([rule, n]) => [rule, formatCount(n)]),
      { indent: "  ", alignRight: [1] },
    ));
    const sample = summary.rejectSamples[0];
    if (sample !== undefined) {
      const where = sample.line !== undefined ? `line ${sample.line}` : `row ${sample.row}`;
      const reason = sample.reasons[0];
      lines.push(
        "",
        `First rejected: "${sample.input}" ${where}: ${
          reason.path === "" ? reason.message : `${reason.path}: ${reason.message}`
        }`,
      );
    }
    if (summary.rejectsFile !== undefined) lines.push(`Rejected records: ${summary.rejectsFile}`);
  }
  return lines.join("\n");
}

/**
 * Exports records to `dt=` partitions (see `exportEvents` of `@eventlake/dataimport`); prints
 * the summary (`--json`: the `ExportSummary`). Exits 2 when more records were rejected than
 * `--max-rejects` allows (the affected days got no `_SUCCESS`).
 *
 * @example
 * ```ts
 * import { run } from "../cli.ts";
 * import { memoryIo } from "../_testing.ts";
 * const io = memoryIo({ stdin: "not json\n" });
 * console.log(await run(["export", "-", "--to", "memory://cli-doc/events", "--rejects", "-"], io)); // 2
 * ```
 */
export async function exportCommand(context: CommandContext): Promise<number> {
  const { flags, io, signal } = context;
  const to = flags.to;
  if (typeof to !== "string" || to === "") {
    throw new InvalidArgumentError("Missing --to <url>: where the partitions are written", {
      details: { hint: "e.g. --to s3://bucket/events or --to ./lake" },
    });
  }
  const format = flags.format as InputFormat | undefined;
  if (format !== undefined && !FORMATS.includes(format)) {
    throw new InvalidArgumentError(
      `Invalid value "${format}" for --format: expected one of ${FORMATS.join(", ")}`,
    );
  }
  const given = context.args.inputs;
  const names = Array.isArray(given) ? given : given === undefined ? [] : [given];
  if (names.filter((n) => n === "-").length > 1) {
    throw new InvalidArgumentError("Standard input (-) can be given only once");
  }
  const inputs: ExportInput[] = names.map((name) =>
    name === "-" ? { name: "stdin", stream: io.stdin, format } : name
  );
  const url = storeUrlArg(to, io.cwd);
  const rejectsFlag = typeof flags.rejects === "string" ? flags.rejects : DEFAULT_REJECTS_FILE;
  // `--rejects -` sends rejects nowhere (only counted in the summary).
  const rejectsTo = rejectsFlag === "-" ? undefined : resolve(io.cwd, rejectsFlag);

  const progress = context.progress("Exporting", { unit: "records" });
  let drawing: Promise<void> = Promise.resolve();
  let summary: ExportSummary;
  try {
    summary = await exportEvents(inputs, {
      to: url,
      storeConfig: storeConfigFromEnv(url, io.env),
      format,
      cwd: io.cwd,
      maxRejects: integerFlag(flags["max-rejects"], "max-rejects", 0),
      date: typeof flags.date === "string" ? flags.date : undefined,
      partRows: integerFlag(flags["part-rows"], "part-rows", 1),
      partBytes: bytesFlag(flags["part-bytes"]),
      maxOpenParts: integerFlag(flags["max-open-parts"], "max-open-parts", 1),
      rejectsTo,
      signal,
      onProgress: (p) => {
        drawing = drawing.then(() => progress.update(p.records));
      },
    });
  } finally {
    await drawing;
  }
  await progress.done(
    `Exporting: ${formatCount(summary.records)} records read, ${
      formatCount(summary.rejected)
    } rejected`,
  );
  if (summary.rejectsFile !== undefined) summary.rejectsFile = rejectsFlag;
  for (const warning of summary.warnings) {
    await context.log(context.err.yellow(`Warning: ${warning}`));
  }
  if (flags.json) await context.print(JSON.stringify(summary, null, 2));
  else await context.print(formatExportSummary(summary, context.out));
  if (summary.ok) return 0;
  const withheld = summary.days.filter((d) => !d.committed && d.rows > 0).map((d) => d.date);
  await context.log(context.err.red(
    `Error: ${summary.rejected} records rejected, more than --max-rejects ${summary.maxRejects}: ` +
      (withheld.length > 0
        ? `_SUCCESS withheld for ${withheld.join(", ")}`
        : "no day was marked ready"),
  ));
  return EXIT_CODES.INVALID_ARGUMENT;
}

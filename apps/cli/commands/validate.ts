/**
 * `eventlake validate <url> (--date D | --from D --to D)`: checks partitions as the importer
 * will read them.
 *
 * @module
 */
import { validatePartitions, type ValidationReport } from "@eventlake/dataimport";
import { InvalidArgumentError } from "@eventlake/schema";
import type { Colors } from "../color.ts";
import type { CommandContext } from "../command.ts";
import { EXIT_CODES } from "../exit_codes.ts";
import { formatBytes, formatCount } from "../format.ts";
import { integerFlag, storeConfigFromEnv, storeUrlArg } from "./export.ts";

/**
 * The human-readable report of a validation.
 *
 * @example
 * ```ts
 * import { colors } from "../color.ts";
 * import { formatValidation } from "./validate.ts";
 * const plain = colors({ env: {}, isTTY: { stdin: false, stdout: false, stderr: false } }, "stdout");
 * const text = formatValidation({
 *   url: "file:///lake", ok: true, problems: [],
 *   days: [{ date: "2023-01-01", verdict: "ok", state: "ready", parts: 1, rows: 3, bytes: 2048,
 *     variants: [], errors: 0, warnings: 0, problems: [] }],
 * }, plain);
 * console.log(text.split("\n")[1]); // "dt=2023-01-01  OK       1 part, 3 rows, 2.0 KiB, exact format"
 * ```
 */
export function formatValidation(report: ValidationReport, c: Colors): string {
  const lines = [`Partitions under ${report.url}`];
  for (const problem of report.problems) {
    lines.push(`  ${problem.severity === "error" ? c.red("✗") : c.yellow("!")} ${problem.message}`);
  }
  for (const day of report.days) {
    const verdict = day.verdict === "ok"
      ? c.green("OK     ")
      : day.verdict === "warning"
      ? c.yellow("WARNING")
      : c.red(day.verdict === "missing" ? "MISSING" : "ERROR  ");
    const ids = [...new Set(day.variants.map((v) => v.id))];
    const format = day.parts === 0
      ? ""
      : ids.length === 0
      ? ", exact format"
      : `, variants: ${ids.join(", ")}`;
    lines.push(
      `dt=${day.date}  ${verdict}  ${formatCount(day.parts)} part${day.parts === 1 ? "" : "s"}, ` +
        `${formatCount(day.rows)} rows, ${formatBytes(day.bytes)}${format}` +
        (day.errors + day.warnings > 0
          ? c.dim(` (${day.errors} errors, ${day.warnings} warnings)`)
          : ""),
    );
    for (const problem of day.problems) {
      lines.push(
        `  ${problem.severity === "error" ? c.red("✗") : c.yellow("!")} ${problem.message}`,
      );
    }
    const hidden = day.errors + day.warnings - day.problems.length;
    if (hidden > 0) lines.push(c.dim(`  … and ${formatCount(hidden)} more`));
  }
  const bad = report.days.filter((d) => d.errors > 0).length;
  lines.push(
    report.ok
      ? c.green(`All ${report.days.length} days can be imported`)
      : c.red(`${bad} of ${report.days.length} days have errors`),
  );
  return lines.join("\n");
}

/**
 * Validates partitions (see `validatePartitions` of `@eventlake/dataimport`) and prints a
 * verdict per day with its first problems (`--json`: the `ValidationReport`). Exits 2 when
 * any day has an error.
 *
 * @example
 * ```ts
 * import { run } from "../cli.ts";
 * import { memoryIo } from "../_testing.ts";
 * const io = memoryIo();
 * console.log(await run(["validate", "memory://validate-cli-doc/e", "--date", "2023-01-01"], io)); // 2
 * ```
 */
export async function validateCommand(context: CommandContext): Promise<number> {
  const { flags, io, signal } = context;
  const url = storeUrlArg(String(context.args.url), io.cwd);
  const dateFlag = flags.date;
  const dates = dateFlag === undefined
    ? undefined
    : (Array.isArray(dateFlag) ? dateFlag : [String(dateFlag)]);
  const from = typeof flags.from === "string" ? flags.from : undefined;
  const to = typeof flags.to === "string" ? flags.to : undefined;
  if (dates === undefined && from === undefined && to === undefined) {
    throw new InvalidArgumentError("Missing --date <YYYY-MM-DD>, or --from and --to", {
      details: { hint: "e.g. --date 2023-01-01 or --from 2023-01-01 --to 2023-01-31" },
    });
  }
  if (dates !== undefined && (from !== undefined || to !== undefined)) {
    throw new InvalidArgumentError("Give --date or --from/--to, not both");
  }
  if (dates === undefined && (from === undefined || to === undefined)) {
    throw new InvalidArgumentError(
      `Missing --${from === undefined ? "from" : "to"}: a range needs both`,
    );
  }
  const progress = context.progress("Validating", { unit: "rows" });
  let drawing: Promise<void> = Promise.resolve();
  let report: ValidationReport;
  try {
    report = await validatePartitions(url, {
      dates,
      from,
      to,
      storeConfig: storeConfigFromEnv(url, io.env),
      maxProblems: integerFlag(flags["max-problems"], "max-problems", 1),
      signal,
      onProgress: (p) => {
        drawing = drawing.then(() => progress.update(p.rows));
      },
    });
  } finally {
    await drawing;
  }
  await progress.done(
    `Validating: ${formatCount(report.days.reduce((n, d) => n + d.rows, 0))} rows checked`,
  );
  if (flags.json) await context.print(JSON.stringify(report, null, 2));
  else await context.print(formatValidation(report, context.out));
  return report.ok ? 0 : EXIT_CODES.INVALID_ARGUMENT;
}

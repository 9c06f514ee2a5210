/**
 * `eventlake inspect <file.parquet>`: what a Parquet file holds, read from its footer.
 *
 * @module
 */
import { resolve } from "node:path";
import { fileSource, inspectParquet, type ParquetInspection } from "@eventlake/parquet";
import type { Colors } from "../color.ts";
import type { CommandContext } from "../command.ts";
import { formatBytes, formatCount, formatTable } from "../format.ts";

/**
 * The aligned, human-readable summary of an inspection.
 *
 * @example
 * ```ts
 * import { colors } from "../color.ts";
 * import { formatInspection } from "./inspect.ts";
 * const plain = colors({ env: {}, isTTY: { stdin: false, stdout: false, stderr: false } }, "stdout");
 * const text = formatInspection({
 *   name: "a.parquet", sizeBytes: 2048, createdBy: null, rowCount: 0, codecs: ["SNAPPY"],
 *   columns: [{ path: "ts", physicalType: "INT64", logicalType: "TIMESTAMP(MILLIS, UTC)", repetition: "REQUIRED" }],
 *   rowGroups: [], ts: { min: null, max: null, source: "none" },
 *   variants: [], problems: [], exactFormat: true,
 * }, plain);
 * console.log(text.split("\n")[1]); // "Size         2.0 KiB (2,048 bytes)"
 * ```
 */
export function formatInspection(inspection: ParquetInspection, c: Colors): string {
  const label = (text: string): string => c.bold(text);
  const { ts } = inspection;
  const variants = groupVariants(inspection.variants);
  const format = inspection.exactFormat
    ? c.green("exact event format")
    : inspection.problems.length > 0
    ? c.red(`not readable as events (${plural(inspection.problems.length, "problem")})`)
    : c.yellow(
      `readable as events, with ${plural(variants.length, "tolerated variant")}: ${
        variants.map((v) => v.id).join(", ")
      }`,
    );
  const summary = [
    [label("File"), inspection.name],
    [
      label("Size"),
      `${formatBytes(inspection.sizeBytes)} (${formatCount(inspection.sizeBytes)} bytes)`,
    ],
    [label("Rows"), formatCount(inspection.rowCount)],
    [label("Row groups"), formatCount(inspection.rowGroups.length)],
    [label("Compression"), inspection.codecs.length > 0 ? inspection.codecs.join(", ") : "-"],
    [label("Created by"), inspection.createdBy ?? "-"],
    [
      label("ts range"),
      ts.min === null || ts.max === null
        ? c.dim(inspection.rowCount === 0 ? "- (no rows)" : "- (no ts column)")
        : `${ts.min} … ${ts.max} ${c.dim(`(from ${ts.source})`)}`,
    ],
    [label("Format"), format],
  ];

  const lines = [formatTable(summary), "", label("Schema")];
  lines.push(formatTable([
    [c.dim("COLUMN"), c.dim("PHYSICAL"), c.dim("LOGICAL"), c.dim("REPETITION")],
    ...inspection.columns.map((col) => [
      schemaName(col.path),
      col.physicalType ?? c.dim("group"),
      col.logicalType ?? "-",
      col.repetition,
    ]),
  ], { indent: "  " }));

  if (inspection.rowGroups.length > 0) {
    lines.push("", label("Row groups"));
    lines.push(formatTable([
      [c.dim("#"), c.dim("ROWS"), c.dim("COMPRESSED"), c.dim("UNCOMPRESSED")],
      ...inspection.rowGroups.map((rg, i) => [
        String(i),
        formatCount(rg.rows),
        formatBytes(rg.compressedBytes),
        formatBytes(rg.uncompressedBytes),
      ]),
    ], { indent: "  ", alignRight: [0, 1, 2, 3] }));
  }

  if (variants.length > 0) {
    lines.push("", label("Tolerated variants"));
    lines.push(formatTable(
      variants.flatMap((v) => [
        [c.yellow(v.id), v.details.join("; ")],
        ["", c.dim(`${v.columns.length === 1 ? "column" : "columns"}: ${v.columns.join(", ")}`)],
      ]),
      { indent: "  " },
    ));
  }
  if (inspection.problems.length > 0) {
    lines.push("", label("Problems"));
    for (const problem of inspection.problems) lines.push(`  ${c.red("✗")} ${problem}`);
  }
  return lines.join("\n");
}

/** A schema path as an indented tree: `identifiers.key_value.key` → `    key`. */
function schemaName(path: string): string {
  const parts = path.split(".");
  return "  ".repeat(parts.length - 1) + parts[parts.length - 1];
}

/** Variants by id, in order of first appearance, with the columns each concerns. */
function groupVariants(
  variants: ParquetInspection["variants"],
): { id: string; columns: string[]; details: string[] }[] {
  const byId = new Map<string, { id: string; columns: string[]; details: string[] }>();
  for (const v of variants) {
    let group = byId.get(v.id);
    if (group === undefined) {
      group = { id: v.id, columns: [], details: [] };
      byId.set(v.id, group);
    }
    if (!group.columns.includes(v.column)) group.columns.push(v.column);
    if (!group.details.includes(v.detail)) group.details.push(v.detail);
  }
  return [...byId.values()];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * Prints a Parquet file's schema, row groups, sizes, `ts` range and format variants
 * (`--json`: the `ParquetInspection` object of `@eventlake/parquet`).
 *
 * A missing file is a `NotFoundError` (exit 3); a file that is not Parquet, or is corrupt,
 * an `InvalidArgumentError` (exit 2) saying why. A Parquet file of another schema is
 * described, its problems listed (exit 0).
 *
 * @example
 * ```ts
 * import { run } from "../cli.ts";
 * import { memoryIo } from "../_testing.ts";
 * const io = memoryIo();
 * console.log(await run(["inspect", "/nonexistent.parquet"], io)); // 3
 * ```
 */
export async function inspectCommand(context: CommandContext): Promise<void> {
  const shown = String(context.args["file.parquet"]);
  const source = await fileSource(resolve(context.io.cwd, shown), { signal: context.signal });
  try {
    const inspection = await inspectParquet(source, { name: shown, signal: context.signal });
    if (context.flags.json) {
      await context.print(JSON.stringify(inspection, null, 2));
    } else {
      await context.print(formatInspection(inspection, context.out));
    }
  } finally {
    await source.close();
  }
}

/**
 * `eventlake inspect <file.parquet>`: what a Parquet file holds, read from its footer.
 *
 * @module
 */
import { resolve } from "node:path";
import {
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from "@eventlake/schema";
import type { Colors } from "../color.ts";
import type { CommandContext } from "../command.ts";
import { formatBytes, formatCount, formatTable } from "../format.ts";

/** The parts of an inspection the human summary shows. */
export interface InspectionView {
  /** File name as given. */
  name?: string;
  /** Bytes. */
  fileSize: number;
  /** Rows in the file. */
  rowCount: number;
  /** The writer, from the footer. */
  createdBy?: string;
  /** Matches the exact Data Import format (no variant). */
  exact: boolean;
  /** Compression codecs used. */
  codecs: string[];
  /** Leaf columns. */
  columns: { name: string; physicalType: string; logicalType?: string; repetition: string }[];
  /** Row groups. */
  rowGroups: { rows: number; compressedBytes: number; uncompressedBytes: number }[];
  /** Range of `ts`, ISO-8601, and where it was read from. */
  ts?: { min: string | null; max: string | null; from: string };
  /** Tolerated variants met. */
  variants: string[];
}

/**
 * The aligned, human-readable summary of an inspection.
 *
 * @example
 * ```ts
 * import { colors } from "../color.ts";
 * import { formatInspection } from "./inspect.ts";
 * const plain = colors({ env: {}, isTTY: { stdin: false, stdout: false, stderr: false } }, "stdout");
 * const text = formatInspection({
 *   fileSize: 2048, rowCount: 3, exact: true, codecs: ["SNAPPY"], variants: [],
 *   columns: [{ name: "ts", physicalType: "INT64", logicalType: "TIMESTAMP(MILLIS,UTC)", repetition: "REQUIRED" }],
 *   rowGroups: [{ rows: 3, compressedBytes: 900, uncompressedBytes: 1500 }],
 * }, plain);
 * console.log(text.split("\n")[1]); // "Size         2.0 KiB (2,048 bytes)"
 * ```
 */
export function formatInspection(inspection: InspectionView, c: Colors): string {
  const label = (text: string): string => c.bold(text);
  const summary: string[][] = [];
  if (inspection.name !== undefined) summary.push([label("File"), inspection.name]);
  summary.push(
    [
      label("Size"),
      `${formatBytes(inspection.fileSize)} (${formatCount(inspection.fileSize)} bytes)`,
    ],
    [label("Rows"), formatCount(inspection.rowCount)],
    [label("Row groups"), formatCount(inspection.rowGroups.length)],
    [label("Compression"), inspection.codecs.length > 0 ? inspection.codecs.join(", ") : "-"],
    [label("Created by"), inspection.createdBy ?? "-"],
  );
  if (inspection.ts) {
    const { min, max, from } = inspection.ts;
    summary.push([
      label("ts range"),
      min === null || max === null ? `- (no rows)` : `${min} … ${max} ${c.dim(`(from ${from})`)}`,
    ]);
  }
  summary.push([
    label("Format"),
    inspection.exact
      ? c.green("exact Data Import format")
      : c.yellow(`tolerated variant (${inspection.variants.length})`),
  ]);

  const lines = [formatTable(summary), "", label("Schema")];
  lines.push(formatTable([
    [c.dim("COLUMN"), c.dim("PHYSICAL"), c.dim("LOGICAL"), c.dim("REPETITION")],
    ...inspection.columns.map((col) => [
      col.name,
      col.physicalType,
      col.logicalType ?? "-",
      col.repetition,
    ]),
  ], { indent: "  " }));

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

  if (inspection.variants.length > 0) {
    lines.push("", label("Tolerated variants"));
    for (const variant of inspection.variants) lines.push(`  - ${variant}`);
  }
  return lines.join("\n");
}

/** Checks that `path` is an existing regular file, translating the file system's errors. */
export async function checkLocalFile(path: string, shown: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new NotFoundError(`Cannot find file "${shown}"`, { cause: error, details: { path } });
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new PermissionDeniedError(`Cannot read file "${shown}": permission denied`, {
        cause: error,
        details: { path },
      });
    }
    throw error;
  }
  if (!info.isFile) {
    throw new InvalidArgumentError(
      `Cannot inspect "${shown}": it is a directory, not a Parquet file`,
      {
        details: { path },
      },
    );
  }
}

/**
 * Prints a Parquet file's schema, row groups, sizes, `ts` range and format variants
 * (`--json`: the inspection object).
 */
export async function inspectCommand(context: CommandContext): Promise<void> {
  const shown = String(context.args["file.parquet"]);
  const path = resolve(context.io.cwd, shown);
  await checkLocalFile(path, shown);
  throw new UnavailableError(`Cannot inspect "${shown}": the Parquet reader is not built yet`);
}

/**
 * `inspectParquet`: what `eventlake inspect <file>` prints about one Parquet file.
 *
 * @module
 */
import { throwIfAborted } from "@eventlake/schema";
import type { ColumnMetaData, SchemaTree } from "hyparquet";
import { chunkRange, readExact, readFooter, sourceName } from "./_read_footer.ts";
import {
  type ColumnPlan,
  describeLogical,
  type ParquetVariant,
  resolveLayout,
} from "./_read_layout.ts";
import { decodeLeaf } from "./_read_chunk.ts";
import { assembleTs } from "./_read_columns.ts";
import type { ByteSource } from "./source.ts";

/** One schema node: a column, a map's inner group, or a leaf. */
export interface ParquetColumnInfo {
  /** Dotted path, e.g. `identifiers.key_value.key`. */
  path: string;
  /** Physical type of a leaf (`INT64`, `FIXED_LEN_BYTE_ARRAY(11)`, …); `null` for a group. */
  physicalType: string | null;
  /** Logical or converted type (`TIMESTAMP(MILLIS, UTC)`, `DECIMAL(24,6)`, `UTF8`, `MAP`), or `null`. */
  logicalType: string | null;
  /** `REQUIRED`, `OPTIONAL` or `REPEATED`. */
  repetition: string;
}

/** One row group. */
export interface ParquetRowGroupInfo {
  /** Rows in the group. */
  rows: number;
  /** Bytes of its column chunks as stored. */
  compressedBytes: number;
  /** Bytes of its column chunks once decompressed. */
  uncompressedBytes: number;
}

/** Everything {@linkcode inspectParquet} reports. JSON-serialisable: no bigint, no Date. */
export interface ParquetInspection {
  /** The file's name (the `name` option or the source's). */
  name: string;
  /** File size in bytes. */
  sizeBytes: number;
  /** The writer, from the footer (`created_by`), or `null`. */
  createdBy: string | null;
  /** Rows in the file. */
  rowCount: number;
  /** Schema nodes, depth-first. */
  columns: ParquetColumnInfo[];
  /** Row groups in file order. */
  rowGroups: ParquetRowGroupInfo[];
  /** Compression codecs used by any column chunk, sorted. */
  codecs: string[];
  /** Smallest and largest `ts` (ISO 8601 UTC, milliseconds floored), `null` when unknown or no rows. */
  ts: { min: string | null; max: string | null; source: "statistics" | "scan" | "none" };
  /** Tolerated variants met (see `ParquetVariantId`). */
  variants: ParquetVariant[];
  /** Why `readEvents` would refuse the file's schema; empty when it is readable. */
  problems: string[];
  /** Whether the file is exactly the format our writer writes (readable and no variant). */
  exactFormat: boolean;
}

/** Options of {@linkcode inspectParquet}. */
export interface InspectParquetOptions {
  /** Cancels the inspection. */
  signal?: AbortSignal;
  /** The file's name in the result and in error messages. */
  name?: string;
}

/**
 * Describes a Parquet file: schema, row groups, codecs, writer, `ts` range (from statistics
 * when every row group has them, otherwise by decoding the `ts` column only) and how it
 * compares with the event format. A file that is not Parquet or is corrupt rejects with an
 * `InvalidArgumentError`; a file of another schema is described, with `problems` saying why.
 *
 * @example
 * ```ts
 * import { bytesSource, inspectParquet } from "@eventlake/parquet";
 * const bytes = await Deno.readFile(new URL("./testdata/duckdb_events.parquet", import.meta.url));
 * const info = await inspectParquet(bytesSource(bytes), { name: "duckdb_events.parquet" });
 * console.log(info.rowCount, info.exactFormat, info.ts.min); // 3 false "2023-01-01T00:00:00.000Z"
 * ```
 */
export async function inspectParquet(
  source: ByteSource,
  options: InspectParquetOptions = {},
): Promise<ParquetInspection> {
  const name = sourceName(source, options.name);
  const { metadata, tree } = await readFooter(source, name, options.signal);
  const layout = resolveLayout(tree);
  const problems = layout.problems.map((p) => p.message);
  for (const extra of layout.extras) {
    problems.push(`Column "${extra}" is not part of the event format`);
  }
  const variants = [...layout.variants];
  const codecs = new Set<string>();
  const rowGroups = metadata.row_groups.map((group) => {
    let compressedBytes = 0;
    let uncompressedBytes = 0;
    for (const chunk of group.columns) {
      const meta = chunk.meta_data!;
      codecs.add(meta.codec);
      compressedBytes += Number(meta.total_compressed_size);
      uncompressedBytes += Number(meta.total_uncompressed_size);
    }
    return { rows: Number(group.num_rows), compressedBytes, uncompressedBytes };
  });
  const rowCount = rowGroups.reduce((sum, g) => sum + g.rows, 0);
  const tsPlan = layout.plans.get("ts");
  const ts = tsPlan?.kind === "ts" && rowCount > 0
    ? await tsRange(source, metadata, tsPlan, name, options.signal)
    : { min: null, max: null, source: "none" as const };
  return {
    name,
    sizeBytes: source.size,
    createdBy: metadata.created_by ?? null,
    rowCount,
    columns: describeColumns(tree),
    rowGroups,
    codecs: [...codecs].sort(),
    ts,
    variants,
    problems,
    exactFormat: problems.length === 0 && variants.length === 0,
  };
}

function describeColumns(tree: SchemaTree): ParquetColumnInfo[] {
  const out: ParquetColumnInfo[] = [];
  const visit = (node: SchemaTree): void => {
    const el = node.element;
    out.push({
      path: node.path.join("."),
      physicalType: node.children.length > 0
        ? null
        : el.type === "FIXED_LEN_BYTE_ARRAY"
        ? `FIXED_LEN_BYTE_ARRAY(${el.type_length})`
        : el.type ?? null,
      logicalType: describeLogical(el),
      repetition: el.repetition_type ?? "REQUIRED",
    });
    for (const child of node.children) visit(child);
  };
  for (const child of tree.children) visit(child);
  return out;
}

type TsPlan = Extract<ColumnPlan, { kind: "ts" }>;
type Meta = Awaited<ReturnType<typeof readFooter>>["metadata"];

async function tsRange(
  source: ByteSource,
  metadata: Meta,
  plan: TsPlan,
  name: string,
  signal?: AbortSignal,
): Promise<ParquetInspection["ts"]> {
  const fromStats = statsRange(metadata, plan);
  if (fromStats !== undefined) return { ...fromStats, source: "statistics" };
  let min = Infinity;
  let max = -Infinity;
  for (let g = 0; g < metadata.row_groups.length; g++) {
    throwIfAborted(signal);
    const group = metadata.row_groups[g];
    const meta = group.columns[plan.leaf.index].meta_data as ColumnMetaData;
    const { start, end } = chunkRange(meta);
    const bytes = await readExact(source, start, end - start, name, `row group ${g}`, signal);
    const leaf = decodeLeaf(bytes, plan.leaf, meta, { raw: true }, { name, rowGroup: g });
    const values = assembleTs(plan, leaf, Number(group.num_rows), () => {});
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min <= max
    ? { min: new Date(min).toISOString(), max: new Date(max).toISOString(), source: "scan" }
    : { min: null, max: null, source: "scan" };
}

/** `ts` range from column statistics, when every non-empty row group has usable ones. */
function statsRange(
  metadata: Meta,
  plan: TsPlan,
): { min: string | null; max: string | null } | undefined {
  if (plan.unit === "INT96") return undefined; // INT96 statistics are not ordered meaningfully
  const divisor = plan.unit === "MILLIS" ? 1n : plan.unit === "MICROS" ? 1000n : 1_000_000n;
  let min: bigint | undefined;
  let max: bigint | undefined;
  for (const group of metadata.row_groups) {
    if (Number(group.num_rows) === 0) continue;
    const stats = group.columns[plan.leaf.index].meta_data?.statistics;
    const lo = stats?.min_value ?? stats?.min;
    const hi = stats?.max_value ?? stats?.max;
    if (typeof lo !== "bigint" || typeof hi !== "bigint") {
      // All-null groups carry no min/max; anything else means we must scan.
      if (stats?.null_count !== undefined && Number(stats.null_count) === Number(group.num_rows)) {
        continue;
      }
      return undefined;
    }
    if (min === undefined || lo < min) min = lo;
    if (max === undefined || hi > max) max = hi;
  }
  const iso = (v: bigint | undefined): string | null => {
    if (v === undefined) return null;
    const q = v / divisor;
    const ms = Number(v < 0n && q * divisor !== v ? q - 1n : q);
    return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
  };
  return { min: iso(min), max: iso(max) };
}

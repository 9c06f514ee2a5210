/**
 * Matches a Parquet schema against the event format: finds each of the eight columns, checks
 * its type, and records every tolerated variant (DuckDB's OPTIONAL columns and MICROS
 * timestamps, Arrow's `entries` maps, BigQuery's key/value lists, maps as JSON text, ...).
 *
 * @module
 */
import type { SchemaElement, SchemaTree } from "hyparquet";
import { EVENT_COLUMNS, type EventColumn, MAP_COLUMNS, METRIC_SCALE } from "@eventlake/schema";

/**
 * Identifier of a tolerated departure from the exact event format.
 *
 * | id | meaning |
 * | --- | --- |
 * | `optional-columns` | a column (or part of a map) is OPTIONAL instead of REQUIRED (DuckDB); a real null is still refused |
 * | `ts-micros` / `ts-nanos` | `ts` is TIMESTAMP(MICROS) / TIMESTAMP(NANOS): floored to milliseconds |
 * | `ts-int96` | `ts` is a legacy INT96 timestamp: floored to milliseconds |
 * | `ts-not-utc` | `ts` is a TIMESTAMP not adjusted to UTC: its wall-clock value is read as UTC |
 * | `decimal-fixed-width` | `metric_value` is a FIXED_LEN_BYTE_ARRAY of another width than 11 (DuckDB writes 16) |
 * | `decimal-binary` | `metric_value` is a BYTE_ARRAY decimal |
 * | `decimal-int` | `metric_value` is an INT32/INT64 decimal |
 * | `decimal-precision` | `metric_value` is DECIMAL(p,s) with s ≤ 6 other than (24,6): rescaled, each value must fit |
 * | `map-json` | a map column is a string holding a JSON object |
 * | `map-entries-name` | a MAP's repeated group is named `entries` or `map` (Arrow writers) |
 * | `map-nonstandard-names` | a MAP's repeated group or its key/value fields have other names |
 * | `map-list` | a map is a LIST of key/value structs (BigQuery exports) |
 * | `string-binary` | a string column is BYTE_ARRAY without a UTF8 annotation: decoded as UTF-8 |
 * | `extra-columns` | the file has columns outside the event format: ignored (only with `allowExtraColumns`) |
 */
export type ParquetVariantId =
  | "optional-columns"
  | "ts-micros"
  | "ts-nanos"
  | "ts-int96"
  | "ts-not-utc"
  | "decimal-fixed-width"
  | "decimal-binary"
  | "decimal-int"
  | "decimal-precision"
  | "map-json"
  | "map-entries-name"
  | "map-nonstandard-names"
  | "map-list"
  | "string-binary"
  | "extra-columns";

/** A tolerated variant met in one file, reported once per column. */
export interface ParquetVariant {
  /** Which variant. */
  id: ParquetVariantId;
  /** The column it concerns. */
  column: string;
  /** Human-readable detail, e.g. `TIMESTAMP(MICROS) floored to milliseconds`. */
  detail: string;
}

/** A physical column ("leaf") the reader decodes. */
export interface Leaf {
  /** Index of its column chunk inside every row group. */
  index: number;
  /** Dotted path, e.g. `identifiers.key_value.key`. */
  path: string;
  /** Nodes from the root to the leaf. */
  schemaPath: SchemaTree[];
  /** The leaf's schema element. */
  element: SchemaElement;
  /** Maximum definition level. */
  maxDef: number;
  /** Maximum repetition level. */
  maxRep: number;
}

/** How one event column is stored and must be decoded. */
export type ColumnPlan =
  | { kind: "ts"; column: EventColumn; leaf: Leaf; unit: "MILLIS" | "MICROS" | "NANOS" | "INT96" }
  | { kind: "string"; column: EventColumn; leaf: Leaf }
  | { kind: "decimal"; column: EventColumn; leaf: Leaf; scale: number }
  | {
    kind: "map";
    column: EventColumn;
    key: Leaf;
    value: Leaf;
    /** Definition level from which the map is not null. */
    presentDef: number;
    /** Definition level from which an entry exists. */
    entryDef: number;
  }
  | { kind: "json"; column: EventColumn; leaf: Leaf };

/** The result of matching a schema. */
export interface Layout {
  /** Plans per column, present only when there is no problem. */
  plans: Map<EventColumn, ColumnPlan>;
  /** Schema mismatches, each a full sentence naming the column. */
  problems: { column: string; message: string }[];
  /** Tolerated variants met. */
  variants: ParquetVariant[];
  /** Top-level columns outside the format. */
  extras: string[];
}

/** What each column must be, as printed in messages. */
export const EXPECTED: Record<EventColumn, string> = {
  ts: "INT64 TIMESTAMP(MILLIS, UTC)",
  event_key: "BYTE_ARRAY UTF8",
  identifiers: "MAP<STRING, STRING>",
  insert_id: "BYTE_ARRAY UTF8",
  metric_value: "DECIMAL(24,6)",
  user_properties: "MAP<STRING, STRING>",
  event_properties: "MAP<STRING, STRING>",
  platform_properties: "MAP<STRING, STRING>",
};

const MAP_SET: ReadonlySet<string> = new Set(MAP_COLUMNS);

/** Describes a node's type the way Parquet tools print it: `FIXED_LEN_BYTE_ARRAY(16) DECIMAL(24,6)`. */
export function describeNode(node: SchemaTree): string {
  const el = node.element;
  if (node.children.length > 0) {
    const annotation = el.logical_type?.type ?? el.converted_type;
    return annotation ? `group (${annotation})` : "group";
  }
  const physical = el.type === "FIXED_LEN_BYTE_ARRAY"
    ? `FIXED_LEN_BYTE_ARRAY(${el.type_length})`
    : `${el.type}`;
  const logical = describeLogical(el);
  return logical ? `${physical} ${logical}` : physical;
}

/** The logical (or converted) type of an element, printed: `TIMESTAMP(MICROS, UTC)`, `UTF8`, … */
export function describeLogical(el: SchemaElement): string | null {
  const lt = el.logical_type;
  if (lt?.type === "TIMESTAMP" || lt?.type === "TIME") {
    return `${lt.type}(${lt.unit}${lt.isAdjustedToUTC ? ", UTC" : ""})`;
  }
  if (lt?.type === "DECIMAL" || el.converted_type === "DECIMAL") {
    const scale = lt?.type === "DECIMAL" ? lt.scale : el.scale;
    const precision = lt?.type === "DECIMAL" ? lt.precision : el.precision;
    return `DECIMAL(${precision},${scale ?? 0})`;
  }
  if (lt?.type === "STRING" || el.converted_type === "UTF8") return "UTF8";
  if (lt?.type === "INTEGER") return `INT(${lt.bitWidth}, ${lt.isSigned ? "signed" : "unsigned"})`;
  if (lt) return lt.type;
  return el.converted_type ?? null;
}

/** Matches the schema tree against the event format. */
export function resolveLayout(tree: SchemaTree): Layout {
  const leafIndex = new Map<string, number>();
  {
    let i = 0;
    const visit = (node: SchemaTree): void => {
      if (node.children.length === 0) leafIndex.set(node.path.join("."), i++);
      else for (const child of node.children) visit(child);
    };
    for (const child of tree.children) visit(child);
  }
  const layout: Layout = { plans: new Map(), problems: [], variants: [], extras: [] };
  const byName = new Map(tree.children.map((child) => [child.element.name, child]));
  for (const child of tree.children) {
    if (!(EVENT_COLUMNS as readonly string[]).includes(child.element.name)) {
      layout.extras.push(child.element.name);
    }
  }
  const ctx: Ctx = { tree, leafIndex, layout };
  for (const column of EVENT_COLUMNS) {
    const node = byName.get(column);
    if (node === undefined) {
      layout.problems.push({ column, message: `Column "${column}" is missing` });
      continue;
    }
    const plan = MAP_SET.has(column) ? planMap(ctx, column, node) : planScalar(ctx, column, node);
    if (plan !== undefined) layout.plans.set(column, plan);
  }
  return layout;
}

interface Ctx {
  tree: SchemaTree;
  leafIndex: Map<string, number>;
  layout: Layout;
}

function variant(ctx: Ctx, id: ParquetVariantId, column: string, detail: string): void {
  if (!ctx.layout.variants.some((v) => v.id === id && v.column === column)) {
    ctx.layout.variants.push({ id, column, detail });
  }
}

function mismatch(ctx: Ctx, column: EventColumn, node: SchemaTree, extra = ""): undefined {
  ctx.layout.problems.push({
    column,
    message: `Column "${column}" has type ${describeNode(node)}${extra}: expected ${
      EXPECTED[column]
    }`,
  });
  return undefined;
}

function makeLeaf(ctx: Ctx, node: SchemaTree): Leaf {
  const schemaPath: SchemaTree[] = [ctx.tree];
  let cur = ctx.tree;
  for (const part of node.path) {
    const next = cur.children.find((c) => c.element.name === part);
    if (next === undefined) break;
    schemaPath.push(next);
    cur = next;
  }
  let maxDef = 0;
  let maxRep = 0;
  for (const n of schemaPath.slice(1)) {
    if (n.element.repetition_type !== "REQUIRED") maxDef++;
    if (n.element.repetition_type === "REPEATED") maxRep++;
  }
  const path = node.path.join(".");
  return {
    index: ctx.leafIndex.get(path) ?? -1,
    path,
    schemaPath,
    element: node.element,
    maxDef,
    maxRep,
  };
}

function isString(el: SchemaElement): boolean {
  return el.type === "BYTE_ARRAY" &&
    (el.converted_type === "UTF8" || el.logical_type?.type === "STRING" ||
      el.converted_type === "JSON" || el.logical_type?.type === "JSON" ||
      el.converted_type === "ENUM" || el.logical_type?.type === "ENUM");
}

function isUnannotatedBinary(el: SchemaElement): boolean {
  return el.type === "BYTE_ARRAY" && el.converted_type === undefined &&
    el.logical_type === undefined;
}

function planScalar(ctx: Ctx, column: EventColumn, node: SchemaTree): ColumnPlan | undefined {
  const el = node.element;
  if (node.children.length > 0 || el.repetition_type === "REPEATED") {
    return mismatch(ctx, column, node);
  }
  const optional = el.repetition_type === "OPTIONAL";
  const leaf = makeLeaf(ctx, node);
  let plan: ColumnPlan | undefined;
  if (column === "ts") {
    plan = planTs(ctx, node, leaf);
  } else if (column === "metric_value") {
    plan = planDecimal(ctx, node, leaf);
  } else if (isString(el)) {
    plan = { kind: "string", column, leaf };
  } else if (isUnannotatedBinary(el)) {
    variant(ctx, "string-binary", column, "BYTE_ARRAY without UTF8 annotation decoded as UTF-8");
    plan = { kind: "string", column, leaf };
  } else {
    return mismatch(ctx, column, node);
  }
  if (plan !== undefined && optional) {
    variant(ctx, "optional-columns", column, "OPTIONAL column: a null value is refused per row");
  }
  return plan;
}

function planTs(ctx: Ctx, node: SchemaTree, leaf: Leaf): ColumnPlan | undefined {
  const el = node.element;
  if (el.type === "INT96") {
    variant(ctx, "ts-int96", "ts", "legacy INT96 timestamp floored to milliseconds");
    return { kind: "ts", column: "ts", leaf, unit: "INT96" };
  }
  if (el.type !== "INT64") return mismatch(ctx, "ts", node);
  const lt = el.logical_type;
  let unit: "MILLIS" | "MICROS" | "NANOS";
  let utc: boolean;
  if (lt?.type === "TIMESTAMP") {
    unit = lt.unit;
    utc = lt.isAdjustedToUTC;
  } else if (el.converted_type === "TIMESTAMP_MILLIS" || el.converted_type === "TIMESTAMP_MICROS") {
    unit = el.converted_type === "TIMESTAMP_MILLIS" ? "MILLIS" : "MICROS";
    utc = true;
  } else {
    return mismatch(ctx, "ts", node);
  }
  if (unit === "MICROS") {
    variant(ctx, "ts-micros", "ts", "TIMESTAMP(MICROS) floored to milliseconds");
  }
  if (unit === "NANOS") variant(ctx, "ts-nanos", "ts", "TIMESTAMP(NANOS) floored to milliseconds");
  if (!utc) variant(ctx, "ts-not-utc", "ts", "TIMESTAMP without UTC adjustment read as UTC");
  return { kind: "ts", column: "ts", leaf, unit };
}

function planDecimal(ctx: Ctx, node: SchemaTree, leaf: Leaf): ColumnPlan | undefined {
  const el = node.element;
  const lt = el.logical_type;
  const isDecimal = lt?.type === "DECIMAL" || el.converted_type === "DECIMAL";
  if (!isDecimal) return mismatch(ctx, "metric_value", node);
  const scale = (lt?.type === "DECIMAL" ? lt.scale : el.scale) ?? 0;
  const precision = (lt?.type === "DECIMAL" ? lt.precision : el.precision) ?? 0;
  if (scale > METRIC_SCALE || scale < 0) {
    return mismatch(ctx, "metric_value", node, `, scale ${scale} is more than ${METRIC_SCALE}`);
  }
  switch (el.type) {
    case "FIXED_LEN_BYTE_ARRAY":
      if (el.type_length !== 11) {
        variant(
          ctx,
          "decimal-fixed-width",
          "metric_value",
          `FIXED_LEN_BYTE_ARRAY(${el.type_length}) decimal decoded exactly`,
        );
      }
      if (!el.type_length || el.type_length > 32) {
        return mismatch(ctx, "metric_value", node, `, width ${el.type_length} is not supported`);
      }
      break;
    case "BYTE_ARRAY":
      variant(ctx, "decimal-binary", "metric_value", "BYTE_ARRAY decimal decoded exactly");
      break;
    case "INT32":
    case "INT64":
      variant(ctx, "decimal-int", "metric_value", `${el.type} decimal decoded exactly`);
      break;
    default:
      return mismatch(ctx, "metric_value", node);
  }
  if (precision !== 24 || scale !== METRIC_SCALE) {
    variant(
      ctx,
      "decimal-precision",
      "metric_value",
      `DECIMAL(${precision},${scale}) rescaled to DECIMAL(24,6); every value must fit`,
    );
  }
  return { kind: "decimal", column: "metric_value", leaf, scale };
}

const EXACT_MAP_NAMES = "key_value";

function planMap(ctx: Ctx, column: EventColumn, node: SchemaTree): ColumnPlan | undefined {
  const el = node.element;
  if (node.children.length === 0) {
    if (el.repetition_type === "REPEATED") return mismatch(ctx, column, node);
    if (isString(el) || isUnannotatedBinary(el)) {
      variant(ctx, "map-json", column, "string column holding a JSON object");
      if (el.repetition_type === "OPTIONAL") {
        variant(
          ctx,
          "optional-columns",
          column,
          "OPTIONAL column: a null value is refused per row",
        );
      }
      return { kind: "json", column, leaf: makeLeaf(ctx, node) };
    }
    return mismatch(ctx, column, node);
  }
  if (el.repetition_type === "REPEATED" || node.children.length !== 1) {
    return mismatch(ctx, column, node);
  }
  const annotation = el.logical_type?.type ?? el.converted_type;
  const repeated = node.children[0];
  if (repeated.element.repetition_type !== "REPEATED" || repeated.children.length === 0) {
    return mismatch(ctx, column, node);
  }
  let entry: SchemaTree = repeated;
  let asList = annotation !== "MAP" && annotation !== "MAP_KEY_VALUE";
  if (repeated.children.length === 1 && repeated.children[0].children.length === 2) {
    // three-level LIST: repeated group list { optional group element { key; value } }
    entry = repeated.children[0];
    asList = true;
  }
  if (entry.children.length !== 2 || entry.children.some((c) => c.children.length > 0)) {
    return mismatch(ctx, column, node);
  }
  if (entry !== repeated && entry.element.repetition_type === "REPEATED") {
    return mismatch(ctx, column, node);
  }
  const keyNode = entry.children.find((c) => c.element.name === "key") ?? entry.children[0];
  const valueNode = entry.children.find((c) => c.element.name === "value") ??
    entry.children.find((c) => c !== keyNode)!;
  for (const part of [keyNode, valueNode]) {
    if (part.element.repetition_type === "REPEATED") return mismatch(ctx, column, node);
    if (!isString(part.element)) {
      if (isUnannotatedBinary(part.element)) {
        variant(
          ctx,
          "string-binary",
          column,
          "BYTE_ARRAY without UTF8 annotation decoded as UTF-8",
        );
      } else {
        return mismatch(
          ctx,
          column,
          node,
          ` whose "${part.element.name}" is ${describeNode(part)}`,
        );
      }
    }
  }
  const groupName = repeated.element.name;
  const fieldNames = [keyNode.element.name, valueNode.element.name];
  if (asList) {
    variant(
      ctx,
      "map-list",
      column,
      `${annotation ?? "repeated group"} of key/value structs read as a map`,
    );
  } else if (groupName === "entries" || groupName === "map") {
    variant(ctx, "map-entries-name", column, `MAP group named "${groupName}"`);
  } else if (groupName !== EXACT_MAP_NAMES) {
    variant(ctx, "map-nonstandard-names", column, `MAP group named "${groupName}"`);
  }
  if (!asList && (fieldNames[0] !== "key" || fieldNames[1] !== "value")) {
    variant(
      ctx,
      "map-nonstandard-names",
      column,
      `MAP fields named "${fieldNames[0]}", "${fieldNames[1]}"`,
    );
  }
  if (
    el.repetition_type === "OPTIONAL" || keyNode.element.repetition_type === "OPTIONAL" ||
    (entry !== repeated && entry.element.repetition_type === "OPTIONAL")
  ) {
    variant(
      ctx,
      "optional-columns",
      column,
      "OPTIONAL map or key: a null map or key is refused per row",
    );
  }
  const key = makeLeaf(ctx, keyNode);
  const value = makeLeaf(ctx, valueNode);
  if (key.maxRep !== 1 || value.maxRep !== 1) return mismatch(ctx, column, node);
  let presentDef = 0;
  for (const n of key.schemaPath.slice(1)) {
    if (n === repeated) break;
    if (n.element.repetition_type !== "REQUIRED") presentDef++;
  }
  return { kind: "map", column, key, value, presentDef, entryDef: presentDef + 1 };
}

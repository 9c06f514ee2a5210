/**
 * The Parquet schema of a Data Import event file, as hyparquet-writer's thrift footer expects it.
 *
 * @module
 */

import type { SchemaElement } from "hyparquet";
import { EVENT_COLUMNS, METRIC_PRECISION, METRIC_SCALE } from "@eventlake/schema";

/** Width of `metric_value`'s FIXED_LEN_BYTE_ARRAY: the fewest bytes that hold DECIMAL(24,6). */
export const DECIMAL_WIDTH = 11;

const STRING = {
  type: "BYTE_ARRAY",
  converted_type: "UTF8",
  logical_type: { type: "STRING" },
} as const;

function mapElements(name: string): SchemaElement[] {
  return [
    {
      name,
      repetition_type: "REQUIRED",
      num_children: 1,
      converted_type: "MAP",
      logical_type: { type: "MAP" },
    },
    { name: "key_value", repetition_type: "REPEATED", num_children: 2 },
    { name: "key", repetition_type: "REQUIRED", ...STRING },
    { name: "value", repetition_type: "OPTIONAL", ...STRING },
  ];
}

function columnElements(name: string): SchemaElement[] {
  switch (name) {
    case "ts":
      return [{
        name,
        type: "INT64",
        repetition_type: "REQUIRED",
        converted_type: "TIMESTAMP_MILLIS",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" },
      }];
    case "event_key":
    case "insert_id":
      return [{ name, repetition_type: "REQUIRED", ...STRING }];
    case "metric_value":
      return [{
        name,
        type: "FIXED_LEN_BYTE_ARRAY",
        type_length: DECIMAL_WIDTH,
        repetition_type: "REQUIRED",
        converted_type: "DECIMAL",
        scale: METRIC_SCALE,
        precision: METRIC_PRECISION,
        logical_type: { type: "DECIMAL", scale: METRIC_SCALE, precision: METRIC_PRECISION },
      }];
    default:
      return mapElements(name);
  }
}

/** The flattened schema (root first), in the seed's column order. */
export const EVENT_SCHEMA: SchemaElement[] = [
  { name: "schema", num_children: EVENT_COLUMNS.length },
  ...EVENT_COLUMNS.flatMap(columnElements),
];

/** The leaf element at `path` (e.g. `["identifiers", "key_value", "key"]`). */
export function leafElement(path: readonly string[]): SchemaElement {
  const name = path[path.length - 1];
  const elements = columnElements(path[0]);
  const found = elements.find((e, i) => e.name === name && (path.length === 1 || i > 0));
  if (found === undefined) throw new TypeError(`No leaf "${path.join(".")}" in the event schema`);
  return found;
}

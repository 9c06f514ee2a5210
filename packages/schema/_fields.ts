/**
 * The field rules of a producer's record, shared by `validateEventInput` (hand-written loop) and
 * `EventInputSchema` (valibot), so both accept, refuse and normalise exactly alike.
 *
 * Every function reports each problem it finds through `report` and returns the normalised value,
 * or `undefined` when it reported at least one problem.
 *
 * @module
 */

import { DECIMAL_MAX_UNSCALED, parseDecimal } from "./decimal.ts";
import { EVENT_COLUMNS, type EventMap } from "./event.ts";
import type { Problem } from "./problem.ts";
import { describeValue } from "./problem.ts";
import { parseTimestamp } from "./timestamp.ts";

/** Receives one problem. */
export type Report = (problem: Problem) => void;

/** Columns a producer may send, in the order of the Data Import document's printSchema. */
export const INPUT_FIELDS: readonly string[] = EVENT_COLUMNS;

/** Columns a producer must send; the others default to `0.0` and `{}`. */
export const REQUIRED_FIELDS: readonly string[] = [
  "ts",
  "event_key",
  "identifiers",
  "insert_id",
  "platform_properties",
];

/** Keys each map column must contain, with a non-empty value. */
export const REQUIRED_KEYS: Readonly<Record<string, readonly string[]>> = {
  identifiers: ["id", "device_id"],
  platform_properties: ["osname", "appversion"],
  event_properties: [],
  user_properties: [],
};

/** Common wrong names of a field, for "did you mean" hints. */
const ALIASES: Readonly<Record<string, string>> = {
  event_name: "event_key",
  eventname: "event_key",
  event: "event_key",
  name: "event_key",
  key: "event_key",
  timestamp: "ts",
  time: "ts",
  event_time: "ts",
  client_timestamp: "ts",
  insertid: "insert_id",
  id: "insert_id",
  uuid: "insert_id",
  metric: "metric_value",
  value: "metric_value",
  metricvalue: "metric_value",
  identifier: "identifiers",
  ids: "identifiers",
  properties: "event_properties",
  props: "event_properties",
  event_props: "event_properties",
  user_props: "user_properties",
  platform: "platform_properties",
  platform_props: "platform_properties",
};

/** True for a JSON object: not null, not an array, not a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The message of a field of the wrong JSON type. */
export function typeMessage(path: string, expected: string, value: unknown): string {
  if (value === null) return `${path} must be ${expected}: received null`;
  const shown = typeof value === "string" ? `"${describeValue(value)}"` : describeValue(value);
  return `${path} must be ${expected}: received ${kindOf(value)} ${shown}`;
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (value === null) return "null";
  return typeof value;
}

/** The problem of a field that is not one of the columns, with a hint when it looks like one. */
export function unknownFieldProblem(key: string): Problem {
  const hint = suggestField(key);
  return {
    path: key,
    rule: "unknown_field",
    message: hint === undefined
      ? `Unknown field "${key}": a record has only the fields ${INPUT_FIELDS.join(", ")}`
      : `Unknown field "${key}": did you mean "${hint}"?`,
  };
}

function suggestField(key: string): string | undefined {
  const lower = key.toLowerCase().replace(/[-\s]/g, "_");
  if (INPUT_FIELDS.includes(lower)) return lower;
  const alias = ALIASES[lower] ?? ALIASES[lower.replace(/_/g, "")];
  if (alias !== undefined) return alias;
  let best: string | undefined;
  let bestDistance = 3;
  for (const field of INPUT_FIELDS) {
    const d = editDistance(lower, field);
    if (d < bestDistance) {
      bestDistance = d;
      best = field;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The problem of a required field that is absent. */
export function missingFieldProblem(key: string): Problem {
  const hint = key === "identifiers"
    ? ` (an object with "id" and "device_id")`
    : key === "platform_properties"
    ? ` (an object with "osname" and "appversion")`
    : "";
  return { path: key, rule: "required", message: `Field "${key}" is missing${hint}` };
}

/** True when a text has the shape of a UUID: 8-4-4-4-12 hexadecimal digits, any case. */
export function isUuid(text: string): boolean {
  if (text.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = text.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) {
      return false;
    }
  }
  return true;
}

/** The message of an `insert_id` that is not a UUID. */
export function uuidMessage(path: string, text: string): string {
  return `${path} "${describeValue(text)}" is not a UUID: expected 8-4-4-4-12 hexadecimal digits ` +
    `such as "8fb8e088-9245-4fce-bb87-7e09d9917ed6"`;
}

/** `insert_id`: a UUID, stored lowercase so that one UUID is one de-duplication key. */
export function insertIdField(value: unknown, path: string, report: Report): string | undefined {
  if (typeof value !== "string") {
    report({
      path,
      rule: "type",
      message: typeMessage(path, "a UUID string", value),
      value: describeValue(value),
    });
    return undefined;
  }
  if (!isUuid(value)) {
    report({ path, rule: "uuid", message: uuidMessage(path, value), value: describeValue(value) });
    return undefined;
  }
  return value.toLowerCase();
}

/** `event_key`: a non-empty string, kept as sent. */
export function eventKeyField(value: unknown, path: string, report: Report): string | undefined {
  if (typeof value !== "string") {
    report({
      path,
      rule: "type",
      message: typeMessage(path, "a string", value),
      value: describeValue(value),
    });
    return undefined;
  }
  if (value.length === 0) {
    report({ path, rule: "non_empty", message: `${path} must not be empty`, value: "" });
    return undefined;
  }
  return value;
}

/** `ts`: see `parseTimestamp`. */
export function tsField(value: unknown, path: string, report: Report): number | undefined {
  if (typeof value !== "string" && typeof value !== "number") {
    report({
      path,
      rule: "type",
      message: typeMessage(
        path,
        "an ISO-8601 string with an offset or a number of epoch milliseconds",
        value,
      ),
      value: describeValue(value),
    });
    return undefined;
  }
  const parsed = parseTimestamp(value);
  if (parsed.ok) return parsed.value;
  report({ path, rule: parsed.rule, message: parsed.message, value: describeValue(value) });
  return undefined;
}

const MAX_EXACT_UNSCALED = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * `metric_value`: DECIMAL(24,6) as the unscaled bigint. A decimal string is exact; a JSON number
 * only when its shortest form has at most 6 fraction digits and, scaled by 10^6, is a safe integer;
 * a bigint is taken as already unscaled.
 */
export function metricValueField(value: unknown, path: string, report: Report): bigint | undefined {
  if (typeof value === "string") {
    const parsed = parseDecimal(value);
    if (parsed.ok) return parsed.value;
    const shown = describeValue(value);
    const message = parsed.problem === "syntax"
      ? `${path} "${shown}" is not a decimal number: expected digits with an optional sign and ` +
        `point, such as "-12.5" (no exponent, no separators)`
      : parsed.problem === "scale"
      ? `${path} "${shown}" has more than 6 fraction digits: DECIMAL(24,6) is never rounded`
      : `${path} "${shown}" has more than 18 integer digits: DECIMAL(24,6) holds at most ` +
        `999999999999999999.999999`;
    report({ path, rule: `decimal_${parsed.problem}`, message, value: shown });
    return undefined;
  }
  if (typeof value === "number") {
    const text = String(value);
    const parsed = Number.isFinite(value) && !text.includes("e") ? parseDecimal(text) : undefined;
    if (
      parsed?.ok === true && parsed.value <= MAX_EXACT_UNSCALED &&
      parsed.value >= -MAX_EXACT_UNSCALED
    ) {
      return parsed.value + 0n;
    }
    report({
      path,
      rule: "inexact_number",
      message: `${path} ${text} cannot be carried exactly by a JSON number: send it as a decimal ` +
        "string instead",
      value: text,
    });
    return undefined;
  }
  if (typeof value === "bigint") {
    if (value <= DECIMAL_MAX_UNSCALED && value >= -DECIMAL_MAX_UNSCALED) return value;
    report({
      path,
      rule: "decimal_precision",
      message: `${path} ${value}n (unscaled) is outside DECIMAL(24,6)`,
      value: describeValue(value),
    });
    return undefined;
  }
  report({
    path,
    rule: "type",
    message: value === null
      ? `${path} must not be null: omit it or send "0.0" for no value`
      : typeMessage(path, "a decimal string or a JSON number", value),
    value: describeValue(value),
  });
  return undefined;
}

/**
 * A map column: an object of string values (for `identifiers` also a JSON-object string, as the
 * seed's printSchema shows `identifiers: string`). Keys are lowercased; empty and case-duplicate
 * keys, non-string values and missing required keys are reported.
 */
export function mapField(value: unknown, path: string, report: Report): EventMap | undefined {
  const jsonString = path === "identifiers";
  let map = value;
  if (typeof value === "string" && jsonString) {
    try {
      map = JSON.parse(value);
    } catch (e) {
      report({
        path,
        rule: "json",
        message: `${path} is a string but not valid JSON: ${(e as Error).message}`,
        value: describeValue(value),
      });
      return undefined;
    }
  }
  if (!isPlainObject(map)) {
    const expected = jsonString
      ? "an object of string values (or a string holding one)"
      : "an object of string values";
    report({
      path,
      rule: "type",
      message: typeMessage(path, expected, map),
      value: describeValue(value),
    });
    return undefined;
  }
  let failed = false;
  const out = normaliseMap<unknown, string>(map, path, (p) => {
    failed = true;
    report(p);
  }, (v, key) => {
    if (typeof v === "string") return v;
    failed = true;
    const keyPath = joinPath(path, key);
    const hint = v === null
      ? " (omit the key instead)"
      : typeof v === "number" || typeof v === "boolean"
      ? ` (send "${v}")`
      : "";
    report({
      path: keyPath,
      rule: "value_type",
      message: typeMessage(keyPath, "a string", v) + hint,
      value: describeValue(v),
    });
    return undefined;
  });
  for (const key of REQUIRED_KEYS[path] ?? []) {
    const v = out[key];
    if (v === undefined) {
      // Reported already when present under a non-string value or a clashing spelling.
      if (!failed || !hasKeyIgnoringCase(map, key)) {
        failed = true;
        report({
          path: `${path}.${key}`,
          rule: "required",
          message: `${path} must contain "${key}"`,
        });
      }
    } else if (v === "") {
      failed = true;
      report({
        path: `${path}.${key}`,
        rule: "non_empty",
        message: `${path}.${key} must not be empty`,
        value: "",
      });
    }
  }
  return failed ? undefined : out;
}

function hasKeyIgnoringCase(map: Record<string, unknown>, key: string): boolean {
  for (const k of Object.keys(map)) if (k.toLowerCase() === key) return true;
  return false;
}

/**
 * Shared by {@linkcode normaliseMapKeys} and the record validator: lowercases keys, reports empty
 * and case-duplicate keys, and passes each value through `value` (which may report and return
 * `undefined` to drop it).
 *
 * @internal
 */
export function normaliseMap<V, W = V>(
  map: Readonly<Record<string, V>>,
  path: string,
  report: (problem: Problem) => void,
  value: ((v: V, key: string) => W | undefined) | undefined,
): Record<string, W> {
  const out: Record<string, W> = {};
  // Lowercase keys whose value was refused: still taken, for the case-duplicate check.
  let dropped: Set<string> | undefined;
  const keys = Object.keys(map);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key === "") {
      report({
        path: joinPath(path, key),
        rule: "key_empty",
        message: `${path === "" ? "The map" : path} has an empty key: keys must have at least ` +
          "one character",
        value: "",
      });
      continue;
    }
    const lower = key.toLowerCase();
    if (Object.hasOwn(out, lower) || dropped?.has(lower) === true) {
      const first = keys.find((k) => k.toLowerCase() === lower);
      report({
        path: joinPath(path, key),
        rule: "key_case",
        message: `Keys "${first}" and "${key}" of ${path === "" ? "the map" : path} differ ` +
          "only in case: keys are stored lowercase, send one of them",
        value: describeValue(key),
      });
      continue;
    }
    const raw = map[key];
    const v = value === undefined ? raw as unknown as W : value(raw, key);
    if (v === undefined) {
      (dropped ??= new Set()).add(lower);
    } else if (lower === "__proto__") {
      Object.defineProperty(out, lower, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[lower] = v;
    }
  }
  return out;
}

/** `column.key`, or `key` for a map outside a record. */
export function joinPath(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

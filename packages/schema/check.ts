/**
 * The fast check of an already typed {@linkcode Event}, as read from a Parquet file.
 *
 * @module
 */

import { isUuid, REQUIRED_KEYS, uuidMessage } from "./_fields.ts";
import { DECIMAL_MAX_UNSCALED } from "./decimal.ts";
import type { Event, EventMap } from "./event.ts";
import { describeValue, type Problem } from "./problem.ts";
import { TS_MAX, TS_MIN } from "./timestamp.ts";

const NO_PROBLEMS: readonly Problem[] = Object.freeze([]);
const MIN_UNSCALED = -DECIMAL_MAX_UNSCALED;
const IDENTIFIER_KEYS = REQUIRED_KEYS.identifiers;
const PLATFORM_KEYS = REQUIRED_KEYS.platform_properties;

/**
 * Checks an event that is already typed (read from Parquet, or built in code) against the Data
 * Import rules, without normalising it: `insert_id` has the UUID shape (any case), `event_key`
 * is non-empty, `ts` is integer epoch milliseconds in years 0000–9999, `metric_value` is a bigint
 * within DECIMAL(24,6), every map key is lowercase and non-empty (a key that is not lowercase is
 * reported, and also its lowercase twin when both exist), map values are strings or null, and
 * `identifiers.id`, `identifiers.device_id`, `platform_properties.osname` and
 * `platform_properties.appversion` are non-empty strings.
 *
 * Built for the importer's hot loop: on a valid event it allocates nothing and returns the same
 * frozen empty array every time.
 *
 * @example
 * ```ts
 * import { checkEvent } from "@eventlake/schema";
 * const problems = checkEvent({
 *   insert_id: "8fb8e088-9245-4fce-bb87-7e09d9917ed6",
 *   event_key: "purchase",
 *   ts: 1672531262333,
 *   metric_value: 0n,
 *   identifiers: { id: "u-1", device_id: "d-1", User_ID: "49591" },
 *   event_properties: {},
 *   user_properties: {},
 *   platform_properties: { osname: "Android", appversion: "6.9.0" },
 * });
 * console.log(problems.map((p) => p.path)); // ["identifiers.User_ID"]
 * ```
 */
export function checkEvent(event: Event): readonly Problem[] {
  let problems: Problem[] | undefined;
  const id = event.insert_id;
  if (typeof id !== "string" || !isUuid(id)) {
    (problems ??= []).push({
      path: "insert_id",
      rule: typeof id === "string" ? "uuid" : "type",
      message: typeof id === "string" ? uuidMessage("insert_id", id) : "insert_id must be a string",
      value: describeValue(id),
    });
  }
  const key = event.event_key;
  if (typeof key !== "string" || key.length === 0) {
    (problems ??= []).push({
      path: "event_key",
      rule: typeof key === "string" ? "non_empty" : "type",
      message: typeof key === "string"
        ? "event_key must not be empty"
        : "event_key must be a string",
      value: describeValue(key),
    });
  }
  const ts = event.ts;
  if (!Number.isInteger(ts) || ts < TS_MIN || ts > TS_MAX) {
    (problems ??= []).push({
      path: "ts",
      rule: Number.isInteger(ts) ? "range" : "integer",
      message: Number.isInteger(ts)
        ? `ts ${ts} is outside years 0000–9999 UTC`
        : "ts must be integer epoch milliseconds",
      value: describeValue(ts),
    });
  }
  const metric = event.metric_value;
  if (typeof metric !== "bigint" || metric > DECIMAL_MAX_UNSCALED || metric < MIN_UNSCALED) {
    (problems ??= []).push({
      path: "metric_value",
      rule: typeof metric === "bigint" ? "decimal_precision" : "type",
      message: typeof metric === "bigint"
        ? "metric_value is outside DECIMAL(24,6)"
        : "metric_value must be the unscaled DECIMAL(24,6) bigint",
      value: describeValue(metric),
    });
  }
  problems = checkMap(event.identifiers, "identifiers", IDENTIFIER_KEYS, problems);
  problems = checkMap(event.user_properties, "user_properties", undefined, problems);
  problems = checkMap(event.event_properties, "event_properties", undefined, problems);
  problems = checkMap(event.platform_properties, "platform_properties", PLATFORM_KEYS, problems);
  return problems ?? NO_PROBLEMS;
}

function checkMap(
  map: EventMap,
  column: string,
  required: readonly string[] | undefined,
  problems: Problem[] | undefined,
): Problem[] | undefined {
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    (problems ??= []).push({
      path: column,
      rule: "type",
      message: `${column} must be an object of string values`,
      value: describeValue(map),
    });
    return problems;
  }
  for (const key in map) {
    if (!LOWERCASE_KEYS.has(key) && !isLowercaseKey(key)) {
      problems = keyProblem(map, column, key, problems);
    }
    const value = map[key];
    if (value !== null && typeof value !== "string") {
      (problems ??= []).push({
        path: `${column}.${key}`,
        rule: "value_type",
        message: `${column}.${key} must be a string or null`,
        value: describeValue(value),
      });
    }
  }
  if (required !== undefined) {
    for (let i = 0; i < required.length; i++) {
      const name = required[i];
      const value = map[name];
      if (typeof value !== "string" || value.length === 0) {
        const problem: Problem = value === undefined
          ? {
            path: `${column}.${name}`,
            rule: "required",
            message: `${column} must contain "${name}"`,
          }
          : {
            path: `${column}.${name}`,
            rule: "non_empty",
            message: `${column}.${name} must be a non-empty string`,
            value: describeValue(value),
          };
        (problems ??= []).push(problem);
      }
    }
  }
  return problems;
}

/**
 * Keys already seen to be lowercase. Keys repeat across events (a file has a few dozen distinct
 * keys), so one hash lookup replaces a character loop; bounded so odd data cannot grow it.
 */
const LOWERCASE_KEYS = new Set<string>();
const LOWERCASE_KEYS_MAX = 4096;

/** True for a non-empty key that lowercasing leaves unchanged; allocates only for non-ASCII keys. */
function isLowercaseKey(key: string): boolean {
  const n = key.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c >= 65 && c <= 90) return false;
    if (c >= 128) {
      if (key.toLowerCase() !== key) return false;
      break;
    }
  }
  if (LOWERCASE_KEYS.size < LOWERCASE_KEYS_MAX) LOWERCASE_KEYS.add(key);
  return true;
}

function keyProblem(
  map: EventMap,
  column: string,
  key: string,
  problems: Problem[] | undefined,
): Problem[] {
  problems ??= [];
  if (key === "") {
    problems.push({
      path: `${column}.`,
      rule: "key_empty",
      message: `${column} has an empty key`,
      value: "",
    });
    return problems;
  }
  const lower = key.toLowerCase();
  const twin = Object.hasOwn(map, lower);
  problems.push({
    path: `${column}.${key}`,
    rule: twin ? "key_case" : "key_lowercase",
    message: twin
      ? `Keys "${lower}" and "${key}" of ${column} differ only in case: keys are stored lowercase`
      : `${column} key "${key}" is not lowercase: keys are stored lowercase`,
    value: describeValue(key),
  });
  return problems;
}

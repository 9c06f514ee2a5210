/**
 * What is wrong with one record: the shared shape of every validation result.
 *
 * @module
 */

import { InvalidArgumentError } from "./errors.ts";

/**
 * One thing wrong with a record.
 *
 * - `path`: where, as dotted keys from the record's root (`"identifiers.device_id"`); `""` is the record itself.
 * - `rule`: a stable, machine-readable name of the broken rule (`"required"`, `"uuid"`, `"offset"`, …).
 * - `message`: a sentence for a human, naming the field and what to send instead.
 * - `value`: the offending value as text, cut to {@linkcode PROBLEM_VALUE_MAX} characters; absent when missing.
 */
export interface Problem {
  /** Dotted path of the field, `""` for the record itself. */
  path: string;
  /** Machine-readable rule name. */
  rule: string;
  /** Human-readable explanation. */
  message: string;
  /** The offending value as text, truncated. */
  value?: string;
}

/** Longest `Problem.value` kept, in UTF-16 code units (longer values end with `…`). */
export const PROBLEM_VALUE_MAX = 80;

/**
 * Renders any value as the short text kept in {@linkcode Problem.value}: strings as they are,
 * bigints with an `n` suffix, everything else as JSON; cut to {@linkcode PROBLEM_VALUE_MAX} characters.
 *
 * @example
 * ```ts
 * import { describeValue } from "@eventlake/schema";
 * console.log(describeValue({ a: 1 })); // '{"a":1}'
 * console.log(describeValue("x".repeat(100)).length); // 80
 * ```
 */
export function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "bigint") text = `${value}n`;
  else if (value === undefined) text = "undefined";
  else if (typeof value === "number" || typeof value === "boolean" || value === null) {
    text = String(value);
  } else {
    try {
      text = JSON.stringify(value, (_k, v) => typeof v === "bigint" ? `${v}n` : v) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > PROBLEM_VALUE_MAX ? text.slice(0, PROBLEM_VALUE_MAX - 1) + "…" : text;
}

/**
 * One line per problem, `path: message`, for logs and CLI output.
 *
 * @example
 * ```ts
 * import { formatProblems } from "@eventlake/schema";
 * console.log(formatProblems([{ path: "ts", rule: "required", message: "Field \"ts\" is missing" }]));
 * // 'ts: Field "ts" is missing'
 * ```
 */
export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => p.path === "" ? p.message : `${p.path}: ${p.message}`).join("\n");
}

/**
 * Builds the {@linkcode InvalidArgumentError} a caller throws for a refused record; the problems
 * are kept in `details.problems`.
 *
 * @example
 * ```ts
 * import { problemsError } from "@eventlake/schema";
 * const error = problemsError([{ path: "event_key", rule: "non_empty", message: "event_key is empty" }]);
 * console.log(error.code, error.message); // INVALID_ARGUMENT 'Invalid event: event_key: event_key is empty'
 * ```
 */
export function problemsError(
  problems: readonly Problem[],
  options: { subject?: string } = {},
): InvalidArgumentError {
  const subject = options.subject ?? "event";
  const first = problems[0];
  const head = first === undefined
    ? `Invalid ${subject}`
    : `Invalid ${subject}: ${
      first.path === "" ? first.message : `${first.path}: ${first.message}`
    }`;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return new InvalidArgumentError(head + more, { details: { problems: [...problems] } });
}

/**
 * Object keys: validation shared by every backend.
 *
 * @module
 */
import { InvalidArgumentError } from "@eventlake/schema";

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// deno-lint-ignore no-control-regex
const CONTROL_ALL = /[\u0000-\u001f\u007f]/g;

/**
 * Checks that `key` is a safe relative object key and returns it.
 * Refused: empty keys (unless `allowEmpty`, for prefixes), a leading `/`, `.` or `..` segments,
 * empty segments (`a//b`), backslashes, NUL and other control characters.
 *
 * @example
 * ```ts
 * import { checkKey } from "@eventlake/storage";
 * console.log(checkKey("events/dt=2023-01-01/_SUCCESS")); // "events/dt=2023-01-01/_SUCCESS"
 * ```
 */
export function checkKey(key: string, options: { allowEmpty?: boolean } = {}): string {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`Invalid object key "${printable(key)}": ${why}`, {
      details: { key: printable(key) },
    });
  };
  if (typeof key !== "string") fail("not a string");
  if (key === "") {
    if (options.allowEmpty) return key;
    fail("empty");
  }
  if (CONTROL.test(key)) fail("contains a control character");
  if (key.includes("\\")) fail("contains a backslash");
  if (key.startsWith("/")) fail("absolute keys are not allowed");
  const segments = key.split("/");
  // A trailing "/" (a prefix) leaves one empty last segment, which is fine.
  const inner = key.endsWith("/") ? segments.slice(0, -1) : segments;
  for (const s of inner) {
    if (s === "") fail("empty path segment");
    if (s === "." || s === "..") fail(`"${s}" segments are not allowed`);
  }
  return key;
}

function printable(key: unknown): string {
  const hex = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  return String(key).replace(CONTROL_ALL, hex).slice(0, 200);
}

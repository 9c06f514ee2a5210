/**
 * The ONE table that turns error codes into process exit codes.
 *
 * @module
 */
import { type ErrorCode, toEventlakeError } from "@eventlake/schema";

/** Exit code of a successful run. */
export const EXIT_OK = 0;
/** Exit code of a usage error (unknown command or flag, missing argument). */
export const EXIT_USAGE = 2;
/** Exit code after Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;
/** Exit code when stdout's reader went away (`eventlake … | head`): 128 + SIGPIPE, as a shell
 * reports a process killed by SIGPIPE; nothing is printed. */
export const EXIT_BROKEN_PIPE = 141;

/**
 * Exit code for every {@linkcode ErrorCode}.
 *
 * | exit | meaning | codes |
 * | --- | --- | --- |
 * | 0 | ok | |
 * | 1 | internal error | `INTERNAL` |
 * | 2 | usage or validation | `INVALID_ARGUMENT` |
 * | 3 | not found | `NOT_FOUND` |
 * | 4 | authentication or authorisation | `UNAUTHENTICATED`, `FORBIDDEN`, `PERMISSION_DENIED` |
 * | 5 | conflict | `CONFLICT`, `PRECONDITION_FAILED` |
 * | 6 | unavailable or timeout | `UNAVAILABLE`, `TIMEOUT`, `RESOURCE_EXHAUSTED` |
 * | 130 | interrupted | `ABORTED` |
 */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = Object.freeze({
  INTERNAL: 1,
  INVALID_ARGUMENT: EXIT_USAGE,
  NOT_FOUND: 3,
  UNAUTHENTICATED: 4,
  FORBIDDEN: 4,
  PERMISSION_DENIED: 4,
  CONFLICT: 5,
  PRECONDITION_FAILED: 5,
  UNAVAILABLE: 6,
  TIMEOUT: 6,
  RESOURCE_EXHAUSTED: 6,
  ABORTED: EXIT_INTERRUPTED,
});

/**
 * The exit code for an error: its code's entry in {@linkcode EXIT_CODES}; anything that is
 * not an `EventlakeError` is internal (1).
 *
 * @example
 * ```ts
 * import { NotFoundError } from "@eventlake/schema";
 * import { exitCodeOf } from "./exit_codes.ts";
 * console.log(exitCodeOf(new NotFoundError("Cannot find file \"x\""))); // 3
 * ```
 */
export function exitCodeOf(error: unknown): number {
  return EXIT_CODES[toEventlakeError(error).code] ?? 1;
}

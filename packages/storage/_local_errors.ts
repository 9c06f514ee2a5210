/**
 * The one table that turns Deno/Node file-system errors into the shared typed errors
 * (private; used by the local-folder backend and the file transfers only).
 *
 * @module
 */
import {
  ConflictError,
  EventlakeError,
  type EventlakeErrorOptions,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnavailableError,
} from "@eventlake/schema";

/** What the backend was doing: reads treat "a parent is a file" as "no such object". */
export type LocalOperation = "read" | "write" | "list" | "delete";

type Make = (message: string, options: EventlakeErrorOptions) => EventlakeError;

interface Row {
  /** `Deno.errors` class names and/or errno codes this row matches. */
  match: string[];
  /** Why, in words, for the message. */
  why: string;
  /** The typed error. */
  make: Make;
  /** The typed error when writing, where it differs. */
  write?: Make;
  /** Why, in words, when the error is about a local file path rather than a key. */
  pathWhy?: string;
  /** The typed error for a local file path, where it differs. */
  path?: Make;
}

const notFound: Make = (m, o) => new NotFoundError(m, o);
const conflict: Make = (m, o) => new ConflictError(m, o);
const denied: Make = (m, o) => new PermissionDeniedError(m, o);
const unavailable: Make = (m, o) => new UnavailableError(m, o);
const exhausted: Make = (m, o) => new ResourceExhaustedError(m, o);
const invalid: Make = (m, o) => new InvalidArgumentError(m, o);

const TABLE: Row[] = [
  {
    match: ["NotFound", "ENOENT"],
    why: "not found",
    make: notFound,
    pathWhy: "no such file or folder",
  },
  {
    match: ["PermissionDenied", "NotCapable", "EACCES", "EPERM"],
    why: "permission denied",
    make: denied,
  },
  { match: ["EROFS"], why: "read-only file system", make: denied },
  {
    // "a/b" where "a" is an object: there is no "a/b"; writing it clashes with "a".
    match: ["NotADirectory", "ENOTDIR"],
    why: "a parent of this key is an object",
    make: notFound,
    write: conflict,
    pathWhy: "a parent of the path is not a folder",
  },
  {
    // "a" where "a/…" objects exist: "a" is a prefix, not an object.
    match: ["IsADirectory", "EISDIR", "ENOTEMPTY"],
    why: "the key is a prefix of other objects",
    make: notFound,
    write: conflict,
    pathWhy: "it is a folder, not a file",
    path: invalid,
  },
  { match: ["AlreadyExists", "EEXIST"], why: "already exists", make: conflict },
  { match: ["ENOSPC", "EDQUOT"], why: "no space left on the device", make: exhausted },
  { match: ["EMFILE", "ENFILE"], why: "too many open files", make: exhausted },
  {
    match: ["ENAMETOOLONG"],
    why: "the key is too long for this file system",
    make: invalid,
    pathWhy: "the path is too long",
  },
  {
    match: ["FilesystemLoop", "ELOOP"],
    why: "too many levels of symbolic links",
    make: invalid,
  },
  {
    match: [
      "Busy",
      "EBUSY",
      "TimedOut",
      "ETIMEDOUT",
      "Interrupted",
      "EINTR",
      "WouldBlock",
      "EAGAIN",
    ],
    why: "the file system is busy",
    make: unavailable,
  },
  { match: ["EIO"], why: "input/output error", make: unavailable },
];

/**
 * Maps a file-system error to a typed error: `Cannot <op> "<key>" in <url>: <why>`.
 * Typed errors pass through unchanged; anything the table does not know becomes INTERNAL.
 */
export function mapFsError(
  error: unknown,
  op: LocalOperation,
  key: string,
  url: string,
): EventlakeError {
  if (error instanceof EventlakeError) return error;
  const name = error instanceof Error ? error.name : "";
  const code = typeof (error as { code?: unknown })?.code === "string"
    ? (error as { code: string }).code
    : "";
  const row = TABLE.find((r) => r.match.includes(name) || r.match.includes(code));
  const options = {
    cause: error,
    details: { key, operation: op, ...(code ? { errno: code } : {}) },
  };
  if (!row) {
    const detail = error instanceof Error ? error.message : String(error);
    return new InternalError(`Cannot ${op} "${key}" in ${url}: ${detail}`, options);
  }
  const make = op === "write" && row.write ? row.write : row.make;
  return make(`Cannot ${op} "${key}" in ${url}: ${row.why}`, options);
}

/**
 * Maps a file-system error about a local file (the source of an upload, the target of a
 * download) to a typed error: `<action>: "<path>": <why>`, e.g.
 * `Cannot upload "/tmp/a.bin" to "k" in memory://x: "/tmp/a.bin": no such file or folder`.
 * Typed errors pass through unchanged.
 */
export function mapPathError(error: unknown, action: string, path: string): EventlakeError {
  if (error instanceof EventlakeError) return error;
  const name = error instanceof Error ? error.name : "";
  const code = typeof (error as { code?: unknown })?.code === "string"
    ? (error as { code: string }).code
    : "";
  const row = TABLE.find((r) => r.match.includes(name) || r.match.includes(code));
  const options = { cause: error, details: { path, ...(code ? { errno: code } : {}) } };
  if (!row) {
    const detail = error instanceof Error ? error.message : String(error);
    return new InternalError(`${action}: "${path}": ${detail}`, options);
  }
  return (row.path ?? row.make)(`${action}: "${path}": ${row.pathWhy ?? row.why}`, options);
}

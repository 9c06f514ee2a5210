/**
 * The one family of typed errors that every eventlake package throws.
 *
 * Errors carry a {@linkcode ErrorCode}, never an HTTP status or an exit code:
 * the gateway maps codes to statuses in one table and the CLI maps them to
 * exit codes in one table.
 *
 * @module
 */

/**
 * What went wrong, independent of the transport that reports it.
 *
 * | code | meaning |
 * | --- | --- |
 * | `INVALID_ARGUMENT` | the caller's input (a flag, a field, a record, a file) is malformed |
 * | `UNAUTHENTICATED` | no credential, or a wrong one |
 * | `FORBIDDEN` | the identity may not touch this resource (another user's query, a PRIVATE source) |
 * | `NOT_FOUND` | the named thing does not exist |
 * | `CONFLICT` | the request clashes with the current state (duplicate name, abort of an ended query) |
 * | `PERMISSION_DENIED` | the service itself lacks a permission on a storage location |
 * | `PRECONDITION_FAILED` | a conditional write lost a race |
 * | `RESOURCE_EXHAUSTED` | a bounded queue or limit is full |
 * | `UNAVAILABLE` | a dependency is down or throttling, after retries |
 * | `TIMEOUT` | an operation exceeded its time limit |
 * | `ABORTED` | the operation was cancelled through its `AbortSignal` |
 * | `INTERNAL` | a bug or an unexpected failure |
 */
export type ErrorCode =
  | "INVALID_ARGUMENT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PERMISSION_DENIED"
  | "PRECONDITION_FAILED"
  | "RESOURCE_EXHAUSTED"
  | "UNAVAILABLE"
  | "TIMEOUT"
  | "ABORTED"
  | "INTERNAL";

/** Options accepted by every {@linkcode EventlakeError} constructor. */
export interface EventlakeErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Structured, secret-free facts about the failure (ids, keys, paths). */
  details?: Record<string, unknown>;
}

/**
 * Base class of every error eventlake throws on purpose.
 *
 * @example Catch by code
 * ```ts
 * import { EventlakeError, NotFoundError } from "@eventlake/schema";
 * try {
 *   throw new NotFoundError(`Cannot find query "q1"`, { details: { queryId: "q1" } });
 * } catch (e) {
 *   if (e instanceof EventlakeError && e.code === "NOT_FOUND") console.log(e.details.queryId);
 * }
 * ```
 */
export class EventlakeError extends Error {
  /** The transport-independent error code. */
  readonly code: ErrorCode;
  /** Structured, secret-free facts about the failure. */
  readonly details: Record<string, unknown>;

  /** Creates an error with an explicit code. */
  constructor(code: ErrorCode, message: string, options: EventlakeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "EventlakeError";
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** The caller's input is malformed: a flag, a request field, a record or a file. */
export class InvalidArgumentError extends EventlakeError {
  /** Creates the error. */
  constructor(message: string, options?: EventlakeErrorOptions) {
    super("INVALID_ARGUMENT", message, options);
    this.name = "InvalidArgumentError";
  }
}

/** No credential was given, or it is wrong. */
export class UnauthenticatedError extends EventlakeError {
  /** Creates the error. */
  constructor(message: string, options?: EventlakeErrorOptions) {
    super("UNAUTHENTICATED", message, options);
    this.name = "UnauthenticatedError";
  }
}

/** The identity may not act on this resource. */
export class ForbiddenError extends EventlakeError {
  /** Creates the error. */
  constructor(message: string, options?: EventlakeErrorOptions) {
    super("FORBIDDEN", message, options);
    this.name = "ForbiddenError";
  }
}

/** The named thing does not exist. */
export class NotFoundError extends EventlakeError {
  /** Creates the error. */
  constructor(message: string, options?: EventlakeErrorOptions) {
    super("NOT_FOUND", message, options);
    this.name = "NotFoundError";
  }
}

/** The request clashes with the current state. */
export class ConflictError extends EventlakeError {
  /** Creates the error. */
  constructor(message: string, options?: EventlakeErrorOptions) {
    super("CONFLICT", message, options);
    this.name = "ConflictError";
  }
}

/** The service lacks a permission on a storage location (the Open API's 499). */
export class PermissionDeniedError extends EventlakeError {
  /** Creates the error. */
  constructor(message: string, options?: EventlakeErrorOptions) {
    super("PERMISSION_DENIED", message, options);
    this.name = "PermissionDeniedError";
  }
}

/** A conditional operation lost a race. */
export class PreconditionFailedError extends EventlakeError {
  /** Creates the error. */
  constructor(message: string, options?: EventlakeErrorOptions) {
    super("PRECONDITION_FAILED", message, options);
    this.name = "PreconditionFailedError";
  }
}

/** A bounded queue or limit is full. */
export class ResourceExhaustedError extends EventlakeError {
  /** Creates the error. */
  constructor(message: string, options?: EventlakeErrorOptions) {
    super("RESOURCE_EXHAUSTED", message, options);
    this.name = "ResourceExhaustedError";
  }
}

/** A dependency is down or throttling, after bounded retries. */
export class UnavailableError extends EventlakeError {
  /** Creates the error. */
  constructor(message: string, options?: EventlakeErrorOptions) {
    super("UNAVAILABLE", message, options);
    this.name = "UnavailableError";
  }
}

/** An operation exceeded its time limit. */
export class TimeoutError extends EventlakeError {
  /** Creates the error. */
  constructor(message: string, options?: EventlakeErrorOptions) {
    super("TIMEOUT", message, options);
    this.name = "TimeoutError";
  }
}

/** The operation was cancelled through its `AbortSignal`. */
export class AbortedError extends EventlakeError {
  /** Creates the error. */
  constructor(message: string, options?: EventlakeErrorOptions) {
    super("ABORTED", message, options);
    this.name = "AbortedError";
  }
}

/** A bug or an unexpected failure. */
export class InternalError extends EventlakeError {
  /** Creates the error. */
  constructor(message: string, options?: EventlakeErrorOptions) {
    super("INTERNAL", message, options);
    this.name = "InternalError";
  }
}

/**
 * Throws an {@linkcode AbortedError} when `signal` is aborted.
 *
 * @example
 * ```ts
 * import { throwIfAborted } from "@eventlake/schema";
 * throwIfAborted(new AbortController().signal); // does nothing
 * ```
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new AbortedError("Operation aborted", { cause: signal.reason });
  }
}

/**
 * Returns the error as an {@linkcode EventlakeError}, wrapping anything else as `INTERNAL`.
 *
 * @example
 * ```ts
 * import { toEventlakeError } from "@eventlake/schema";
 * console.log(toEventlakeError(new Error("boom")).code); // "INTERNAL"
 * ```
 */
export function toEventlakeError(error: unknown): EventlakeError {
  if (error instanceof EventlakeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(message, { cause: error });
}

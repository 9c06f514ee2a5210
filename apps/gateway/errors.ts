/**
 * THE table that turns error codes into HTTP statuses, and the JSON body of every non-2xx
 * response. Handlers throw `EventlakeError`s; only `app.onError` (in `app.ts`) calls
 * {@linkcode errorResponseBody}.
 *
 * @module
 */
import { type ErrorCode, EventlakeError, toEventlakeError } from "@eventlake/schema";

/**
 * HTTP status of each error code. `PERMISSION_DENIED` is the Open API's 499 ("the service has no
 * permission on the result bucket"); `RESOURCE_EXHAUSTED` (a full queue) is 503 with
 * `Retry-After`, because the server, not the client, is out of capacity; `ABORTED` (the client
 * went away, or shutdown) is 499 as well in nginx's sense but is reported as 503 here, since
 * a client that still reads the answer was cut off by the server.
 */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = Object.freeze({
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PERMISSION_DENIED: 499,
  RESOURCE_EXHAUSTED: 503,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  ABORTED: 503,
  INTERNAL: 500,
});

/** The JSON body of every error response. */
export interface ErrorBody {
  /** The stable error code, e.g. `NOT_FOUND`. */
  code: ErrorCode;
  /** What is wrong, for a person. Generic for `INTERNAL`. */
  message: string;
  /** The request id (also in the `X-Request-Id` header). */
  requestId: string;
  /** The request field at fault, when one is. */
  field?: string;
}

/** An error translated for HTTP: status, body, extra headers and whether to log its stack. */
export interface HttpError {
  /** HTTP status. */
  status: number;
  /** JSON body. */
  body: ErrorBody;
  /** Extra response headers (`Retry-After`, `WWW-Authenticate`). */
  headers: Record<string, string>;
  /** The translated error (for the server log). */
  error: EventlakeError;
  /** True for unexpected failures: log them with their stack. */
  unexpected: boolean;
}

/**
 * Translates any thrown value into an {@linkcode HttpError}. Unknown errors become a generic
 * `INTERNAL` 500 whose message reveals nothing; the original stays in `error.cause`.
 *
 * @example
 * ```ts
 * import { NotFoundError } from "@eventlake/schema";
 * import { toHttpError } from "./errors.ts";
 * const e = toHttpError(new NotFoundError('Cannot find query "q1"'), "req-1");
 * console.log(e.status, e.body.code); // 404 "NOT_FOUND"
 * console.log(toHttpError(new Error("boom"), "req-2").body.message); // "Internal server error"
 * ```
 */
export function toHttpError(thrown: unknown, requestId: string): HttpError {
  const known = thrown instanceof EventlakeError;
  const error = known ? thrown : toEventlakeError(thrown);
  const unexpected = error.code === "INTERNAL";
  const status = STATUS_BY_CODE[error.code] ?? 500;
  const body: ErrorBody = {
    code: error.code,
    message: unexpected ? "Internal server error" : error.message,
    requestId,
  };
  const field = error.details.field;
  if (!unexpected && typeof field === "string" && field !== "") body.field = field;
  const headers: Record<string, string> = {};
  if (error.code === "RESOURCE_EXHAUSTED" || error.code === "UNAVAILABLE") {
    headers["Retry-After"] = "1";
  }
  if (error.code === "UNAUTHENTICATED") {
    headers["WWW-Authenticate"] = 'Credential realm="eventlake"';
  }
  return { status, body, headers, error, unexpected };
}

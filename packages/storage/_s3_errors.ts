/**
 * The one table that translates S3 failures into the shared typed errors (private).
 *
 * It matches on what an S3 error carries (the error `name`, which the SDK sets to the S3 error
 * code, a `Code` field, `$metadata.httpStatusCode`, a Node `code` such as `ECONNRESET`), never on
 * the SDK's classes, so this file does not import the SDK. The same table decides what the S3
 * store retries, so "retried, then `UnavailableError`" holds for exactly the same cases.
 *
 * Messages are written here, never copied from the server: an S3 error body can echo the
 * request (string to sign, access key id), and nothing of that kind may reach a message.
 *
 * @module
 */
import {
  AbortedError,
  EventlakeError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  PreconditionFailedError,
  UnavailableError,
} from "@eventlake/schema";

/** What an S3 failure means to a caller. */
export type S3ErrorKind =
  | "no_such_key"
  | "no_such_bucket"
  | "no_such_upload"
  | "access_denied"
  | "bad_credentials"
  | "no_credentials"
  | "no_region"
  | "precondition"
  | "invalid_range"
  | "invalid_request"
  | "aborted"
  | "unavailable"
  | "unknown";

/** S3 error codes (and SDK error names) by meaning. */
const BY_CODE: Readonly<Record<string, S3ErrorKind>> = {
  NoSuchKey: "no_such_key",
  NotFound: "no_such_key", // HEAD has no body: the SDK names a bare 404 "NotFound"
  NoSuchBucket: "no_such_bucket",
  NoSuchUpload: "no_such_upload",
  AccessDenied: "access_denied",
  AllAccessDisabled: "access_denied",
  AccountProblem: "access_denied",
  Forbidden: "access_denied",
  InvalidAccessKeyId: "bad_credentials",
  SignatureDoesNotMatch: "bad_credentials",
  InvalidToken: "bad_credentials",
  ExpiredToken: "bad_credentials",
  TokenRefreshRequired: "bad_credentials",
  InvalidSecurity: "bad_credentials",
  CredentialsProviderError: "no_credentials",
  PreconditionFailed: "precondition",
  InvalidRange: "invalid_range",
  InvalidArgument: "invalid_request",
  InvalidBucketName: "invalid_request",
  KeyTooLongError: "invalid_request",
  EntityTooLarge: "invalid_request",
  EntityTooSmall: "invalid_request",
  InvalidPart: "invalid_request",
  InvalidPartOrder: "invalid_request",
  AbortError: "aborted",
  // Throttling and server trouble: retried with backoff, then UnavailableError.
  SlowDown: "unavailable",
  Throttling: "unavailable",
  ThrottlingException: "unavailable",
  ThrottledException: "unavailable",
  RequestThrottled: "unavailable",
  RequestThrottledException: "unavailable",
  TooManyRequestsException: "unavailable",
  ProvisionedThroughputExceededException: "unavailable",
  RequestLimitExceeded: "unavailable",
  BandwidthLimitExceeded: "unavailable",
  ServiceUnavailable: "unavailable",
  InternalError: "unavailable",
  RequestTimeout: "unavailable",
  RequestTimeoutException: "unavailable",
  PriorRequestNotComplete: "unavailable",
  TimeoutError: "unavailable",
  // Network failures: Node error codes (from the HTTP handler) and their Deno names.
  ECONNREFUSED: "unavailable",
  ECONNRESET: "unavailable",
  ECONNABORTED: "unavailable",
  EPIPE: "unavailable",
  ETIMEDOUT: "unavailable",
  EAI_AGAIN: "unavailable",
  ENOTFOUND: "unavailable",
  EHOSTUNREACH: "unavailable",
  ENETUNREACH: "unavailable",
  ENETDOWN: "unavailable",
  ERR_STREAM_PREMATURE_CLOSE: "unavailable",
  ConnectionRefused: "unavailable",
  ConnectionReset: "unavailable",
  ConnectionAborted: "unavailable",
  BrokenPipe: "unavailable",
  TimedOut: "unavailable",
  NetworkError: "unavailable", // a broken response body (see s3.ts)
};

/** HTTP statuses by meaning, for errors whose code says nothing the table knows. */
const BY_STATUS: Readonly<Record<number, S3ErrorKind>> = {
  400: "invalid_request",
  401: "bad_credentials",
  403: "access_denied",
  404: "no_such_key",
  412: "precondition",
  416: "invalid_range",
  429: "unavailable",
  500: "unavailable",
  502: "unavailable",
  503: "unavailable",
  504: "unavailable",
};

interface ErrorFacts {
  code?: string;
  status?: number;
  requestId?: string;
  message: string;
}

function facts(error: unknown): ErrorFacts {
  if (typeof error !== "object" || error === null) return { message: String(error) };
  const e = error as {
    name?: unknown;
    Code?: unknown;
    code?: unknown;
    message?: unknown;
    $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  };
  const status = typeof e.$metadata?.httpStatusCode === "number"
    ? e.$metadata.httpStatusCode
    : undefined;
  const requestId = typeof e.$metadata?.requestId === "string" ? e.$metadata.requestId : undefined;
  const names = [e.Code, e.name, e.code].filter((n): n is string => typeof n === "string");
  // The first name the table knows wins; else the most specific one, for the message.
  const code = names.find((n) => n in BY_CODE) ??
    names.find((n) => n !== "Error" && n !== "S3ServiceException");
  return { code, status, requestId, message: typeof e.message === "string" ? e.message : "" };
}

/**
 * Classifies an S3 failure: by error code first, then by HTTP status, then by message (the few
 * SDK configuration errors that carry no code).
 */
export function classifyS3Error(error: unknown): S3ErrorKind {
  const { code, status, message } = facts(error);
  if (code !== undefined && code in BY_CODE) return BY_CODE[code];
  if (status !== undefined && status in BY_STATUS) return BY_STATUS[status];
  if (status !== undefined && status >= 500) return "unavailable";
  if (/region is missing/i.test(message)) return "no_region";
  if (/could not load credentials|credential is missing/i.test(message)) return "no_credentials";
  const retryable = (error as { $retryable?: unknown } | null)?.$retryable;
  if (retryable !== undefined && retryable !== null && retryable !== false) return "unavailable";
  return "unknown";
}

/** Whether the S3 store retries this failure (throttling, 5xx, network trouble). */
export function isRetryableS3Error(error: unknown): boolean {
  return classifyS3Error(error) === "unavailable";
}

/** Where a failure happened: the operation and what it touched. */
export interface S3ErrorContext {
  /** The store operation, e.g. `read`. */
  operation: string;
  /** The bucket. */
  bucket: string;
  /** The object key or prefix, when the operation has one. */
  key?: string;
  /** How many attempts were made, when the failure is final after retries. */
  attempts?: number;
}

/**
 * Translates an S3 failure into the shared typed error family. An error that already is an
 * `EventlakeError` is returned unchanged.
 */
export function mapS3Error(error: unknown, context: S3ErrorContext): EventlakeError {
  if (error instanceof EventlakeError) return error;
  const { bucket, key, operation } = context;
  const f = facts(error);
  const kind = classifyS3Error(error);
  const target = key === undefined || key === ""
    ? `bucket "${bucket}"`
    : `"${key}" in bucket "${bucket}"`;
  const details: Record<string, unknown> = { bucket, operation };
  if (key !== undefined) details.key = key;
  if (f.code !== undefined) details.s3Code = f.code;
  if (f.status !== undefined) details.httpStatus = f.status;
  if (f.requestId !== undefined) details.requestId = f.requestId;
  // Credential failures keep no cause: the SDK error may hold the string to sign and key id.
  const withCause = { cause: error, details };
  switch (kind) {
    case "no_such_key":
    case "no_such_upload":
      return new NotFoundError(`Cannot find ${target}`, withCause);
    case "no_such_bucket":
      return new NotFoundError(`Cannot ${operation} ${target}: bucket "${bucket}" does not exist`, {
        cause: error,
        details,
      });
    case "access_denied":
      return new PermissionDeniedError(
        `Cannot ${operation} ${target}: access denied by S3 (status ${f.status ?? 403})`,
        withCause,
      );
    case "bad_credentials":
      return new PermissionDeniedError(
        `Cannot ${operation} ${target}: S3 rejected the credentials (${
          f.code ?? "status " + f.status
        }); check the access key id and secret`,
        { details },
      );
    case "no_credentials":
      return new PermissionDeniedError(
        `Cannot ${operation} ${target}: no S3 credentials found; pass credentials or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)`,
        { details },
      );
    case "no_region":
      return new InvalidArgumentError(
        `Cannot ${operation} ${target}: no S3 region configured; pass region or set AWS_REGION`,
        { details },
      );
    case "precondition":
      return new PreconditionFailedError(
        `Cannot ${operation} ${target}: a precondition failed (the object changed)`,
        withCause,
      );
    case "invalid_range":
      return new InvalidArgumentError(
        `Cannot ${operation} ${target}: invalid byte range`,
        withCause,
      );
    case "invalid_request":
      return new InvalidArgumentError(
        `Cannot ${operation} ${target}: S3 refused the request (${f.code ?? "status " + f.status})`,
        withCause,
      );
    case "aborted":
      return new AbortedError(`Aborted: ${operation} ${target}`, withCause);
    case "unavailable": {
      const tries = context.attempts === undefined ? "" : ` after ${context.attempts} attempts`;
      return new UnavailableError(
        `Cannot ${operation} ${target}: S3 is unavailable${tries} (${
          f.code ?? "status " + f.status
        })`,
        withCause,
      );
    }
    case "unknown":
      return new InternalError(
        `Cannot ${operation} ${target}: unexpected S3 failure (${
          f.code ?? (f.status === undefined ? "no status" : "status " + f.status)
        }): ${f.message.slice(0, 200)}`,
        withCause,
      );
  }
}

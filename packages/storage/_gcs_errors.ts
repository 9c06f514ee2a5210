/**
 * The one table that turns Google Cloud Storage failures into eventlake's typed errors.
 *
 * It reads only the shape of the SDK's errors (`ApiError`: a numeric `code`, `errors[].reason`,
 * `message`; network errors: a string `code` such as `ECONNRESET`), so it does not import the SDK;
 * the store's own `fetch` calls hand it their HTTP answers in the same shape.
 * Messages name the bucket and key, never credentials; the SDK error itself is not kept as the
 * cause (it can carry request options), only a secret-free summary of it.
 *
 * @module
 */
import {
  AbortedError,
  EventlakeError,
  InternalError,
  NotFoundError,
  PermissionDeniedError,
  PreconditionFailedError,
  UnavailableError,
} from "@eventlake/schema";

/** What the store was doing, for the message: `Cannot read "gs://b/k"`. */
export interface GcsErrorContext {
  /** A verb phrase: `read`, `write`, `list`, `delete`, `stat`. */
  op: string;
  /** Bucket name. */
  bucket: string;
  /** The full object name (or listing prefix) inside the bucket, when the call had one. */
  name?: string;
  /** The error came from `fetch`, whose network failures are plain `TypeError`s. */
  fromFetch?: boolean;
}

/** The parts of an SDK error this table reads. */
interface GcsErrorShape {
  code?: unknown;
  retryAfterMs?: unknown;
  message?: unknown;
  errors?: unknown;
  name?: unknown;
}

const NETWORK_CODES = new Set([
  "econnreset",
  "econnrefused",
  "econnaborted",
  "etimedout",
  "esockettimedout",
  "eai_again",
  "epipe",
  "enotfound",
  "unexpected connection closure",
  "socket connection timeout",
]);

// 501 (not implemented) is not here: retrying it cannot help.
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** The HTTP status of an SDK error, or `undefined` for network errors. */
export function gcsStatus(error: unknown): number | undefined {
  const code = (error as GcsErrorShape | null)?.code;
  if (typeof code === "number") return code;
  if (typeof code === "string" && /^\d{3}$/.test(code)) return Number(code);
  return undefined;
}

function reasons(error: unknown): string[] {
  const errors = (error as GcsErrorShape | null)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors
    .map((e) => (e as { reason?: unknown } | null)?.reason)
    .filter((r): r is string => typeof r === "string")
    .map((r) => r.toLowerCase());
}

function networkCode(error: unknown): string | undefined {
  const code = (error as GcsErrorShape | null)?.code;
  const fromCode = typeof code === "string" ? code.toLowerCase() : undefined;
  if (fromCode && NETWORK_CODES.has(fromCode)) return fromCode;
  const cause = (error as { cause?: unknown } | null)?.cause;
  const causeCode = (cause as GcsErrorShape | null)?.code;
  if (typeof causeCode === "string" && NETWORK_CODES.has(causeCode.toLowerCase())) {
    return causeCode.toLowerCase();
  }
  return reasons(error).find((r) => NETWORK_CODES.has(r));
}

/**
 * Whether the SDK should retry after `error`: 408, 429, 5xx, and connection failures.
 * Used as the SDK's `retryOptions.retryableErrorFn`.
 */
export function isRetryableGcsError(error: unknown): boolean {
  const status = gcsStatus(error);
  if (status !== undefined) return RETRYABLE_STATUS.has(status);
  return networkCode(error) !== undefined;
}

function messageOf(error: unknown): string {
  const m = (error as GcsErrorShape | null)?.message;
  return typeof m === "string" ? m : String(error);
}

// A private key or token never belongs in a message; the SDK does not put one there, but a
// message built from a parse failure of a key file could. Cut anything that looks like one.
function scrub(text: string): string {
  return text
    .replace(
      /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
      "[private key]",
    )
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, "$1[token]")
    .replace(/ya29\.[A-Za-z0-9._-]+/g, "[token]")
    .slice(0, 500);
}

function isBucketMissing(error: unknown): boolean {
  const m = messageOf(error).toLowerCase();
  return m.includes("bucket does not exist") || m.includes("no such bucket") ||
    reasons(error).includes("bucketnotfound");
}

/**
 * Translates a failure of a GCS call (an SDK error, or an HTTP answer of our own `fetch` shaped
 * like one) into an `EventlakeError`:
 *
 * | failure | eventlake error |
 * | --- | --- |
 * | 404 (bucket) | `NotFoundError` `Cannot find GCS bucket "b"` |
 * | 404 (object) | `NotFoundError` `Cannot <op> "gs://b/k": no such object` |
 * | 401, 403 | `PermissionDeniedError` |
 * | 412 | `PreconditionFailedError` |
 * | 408, 429, 5xx, connection failures (after the retries) | `UnavailableError` |
 * | a `TypeError` from `fetch` (`fromFetch`: its network failure) | `UnavailableError` |
 * | an `AbortError` | `AbortedError` |
 * | anything else | `InternalError` |
 *
 * `EventlakeError`s pass through unchanged.
 */
export function mapGcsError(error: unknown, context: GcsErrorContext): EventlakeError {
  if (error instanceof EventlakeError) return error;
  const where = context.name === undefined
    ? `gs://${context.bucket}`
    : `gs://${context.bucket}/${context.name}`;
  const status = gcsStatus(error);
  const detail = scrub(messageOf(error));
  const details: Record<string, unknown> = { bucket: context.bucket };
  if (context.name !== undefined) details.key = context.name;
  if (status !== undefined) details.status = status;
  const rs = reasons(error);
  if (rs.length > 0) details.reason = rs[0];
  // A server's Retry-After (read from the response by the caller), honoured by withRetry.
  const retryAfterMs = (error as GcsErrorShape | null)?.retryAfterMs;
  if (typeof retryAfterMs === "number" && retryAfterMs >= 0) details.retryAfterMs = retryAfterMs;
  // The SDK error can hold request options; keep only a secret-free summary as the cause.
  const cause = new Error(detail);
  cause.name = typeof (error as GcsErrorShape | null)?.name === "string"
    ? String((error as GcsErrorShape).name)
    : "Error";
  const options = { cause, details };

  if (context.fromFetch && error instanceof TypeError) {
    return new UnavailableError(
      `Cannot ${context.op} "${where}": GCS is unreachable: ${detail}`,
      options,
    );
  }
  if ((error as GcsErrorShape | null)?.name === "AbortError") {
    return new AbortedError(`Cannot ${context.op} "${where}": aborted`, options);
  }
  switch (status) {
    case 404:
      if (isBucketMissing(error)) {
        return new NotFoundError(`Cannot find GCS bucket "${context.bucket}"`, options);
      }
      return new NotFoundError(`Cannot ${context.op} "${where}": no such object`, options);
    case 401:
    case 403:
      return new PermissionDeniedError(
        `Cannot ${context.op} "${where}": permission denied (HTTP ${status}): ${detail}`,
        options,
      );
    case 412:
      return new PreconditionFailedError(
        `Cannot ${context.op} "${where}": precondition failed: ${detail}`,
        options,
      );
  }
  if (isRetryableGcsError(error)) {
    const why = status !== undefined ? `HTTP ${status}` : networkCode(error) ?? "network error";
    return new UnavailableError(
      `Cannot ${context.op} "${where}": GCS is unavailable after retries (${why}): ${detail}`,
      options,
    );
  }
  const why = status !== undefined ? ` (HTTP ${status})` : "";
  return new InternalError(`Cannot ${context.op} "${where}"${why}: ${detail}`, options);
}

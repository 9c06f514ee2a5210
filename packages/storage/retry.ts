/**
 * Bounded, jittered exponential backoff for transient failures (throttling, 5xx), shared by
 * the cloud backends.
 *
 * @module
 */
import { AbortedError, EventlakeError } from "@eventlake/schema";
import type { SignalOptions } from "./store.ts";

/** Options of {@linkcode withRetry}. */
export interface RetryOptions extends SignalOptions {
  /** Retries after the first attempt (default 4, so at most 5 attempts). */
  retries?: number;
  /** Backoff base: the first retry waits about this long (default 100 ms). */
  baseMs?: number;
  /** Longest single wait (default 5,000 ms). */
  maxMs?: number;
  /** Whether a failure is worth another attempt (default {@linkcode isRetryableError}). */
  isRetryable?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to log; must not throw. */
  onRetry?: (event: { error: unknown; attempt: number; delayMs: number }) => void;
  /** Source of randomness in [0, 1) for the jitter (default `Math.random`; fix it in tests). */
  random?: () => number;
}

/**
 * The default retry rule: typed `UNAVAILABLE` errors (throttling, 5xx, timeouts of a
 * dependency after the backend mapped them). Everything else — not found, permission denied,
 * invalid argument, aborted — fails at once.
 *
 * @example
 * ```ts
 * import { isRetryableError } from "@eventlake/storage";
 * import { NotFoundError, UnavailableError } from "@eventlake/schema";
 * console.log(isRetryableError(new UnavailableError("Slow down"))); // true
 * console.log(isRetryableError(new NotFoundError("No such key"))); // false
 * ```
 */
export function isRetryableError(error: unknown): boolean {
  return error instanceof EventlakeError && error.code === "UNAVAILABLE";
}

/**
 * The wait before retry number `attempt` (1-based): `cap = min(maxMs, baseMs × 2^(attempt-1))`,
 * then a uniformly random wait in `[cap/2, cap)` ("equal jitter"), so many clients that failed
 * together do not retry together, yet every wait still grows.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "@eventlake/storage";
 * console.log(backoffDelay(3, { baseMs: 100, maxMs: 5000, random: () => 0 })); // 200
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: Pick<RetryOptions, "baseMs" | "maxMs" | "random"> = {},
): number {
  const base = options.baseMs ?? 100;
  const max = options.maxMs ?? 5000;
  const cap = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + (options.random ?? Math.random)() * (cap / 2));
}

/**
 * Runs `fn`, retrying retryable failures with bounded, jittered exponential backoff; the last
 * failure is rethrown when the retries run out. A wait never exceeds `maxMs`, except that a
 * `retryAfterMs` detail on the error (a server's Retry-After) is honoured up to `maxMs`.
 * Aborting the signal stops at once with an `AbortedError`.
 *
 * @example
 * ```ts
 * import { withRetry } from "@eventlake/storage";
 * import { UnavailableError } from "@eventlake/schema";
 * let calls = 0;
 * const value = await withRetry(async () => {
 *   if (++calls < 3) throw new UnavailableError("Slow down");
 *   return "done";
 * }, { baseMs: 1 });
 * console.log(value, calls); // "done" 3
 * ```
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const retries = Math.max(0, options.retries ?? 4);
  const isRetryable = options.isRetryable ?? isRetryableError;
  const { signal } = options;
  for (let attempt = 0;; attempt++) {
    if (signal?.aborted) {
      throw new AbortedError("Aborted before retrying", { cause: signal.reason });
    }
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= retries || signal?.aborted || !isRetryable(error, attempt)) throw error;
      let delayMs = backoffDelay(attempt + 1, options);
      const after = error instanceof EventlakeError ? error.details.retryAfterMs : undefined;
      if (typeof after === "number" && after > delayMs) {
        delayMs = Math.min(after, options.maxMs ?? 5000);
      }
      options.onRetry?.({ error, attempt: attempt + 1, delayMs });
      await sleep(delayMs, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError("Aborted while waiting to retry", { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

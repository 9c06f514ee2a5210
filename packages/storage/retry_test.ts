import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import {
  AbortedError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from "@eventlake/schema";
import { backoffDelay, isRetryableError, withRetry } from "./retry.ts";

Deno.test("withRetry() retries UNAVAILABLE failures and returns the first success", async () => {
  let calls = 0;
  const delays: number[] = [];
  const value = await withRetry((attempt) => {
    strictEqual(attempt, calls++);
    if (calls < 3) return Promise.reject(new UnavailableError("Slow down"));
    return Promise.resolve(42);
  }, { baseMs: 1, maxMs: 4, onRetry: (e) => delays.push(e.delayMs) });
  strictEqual(value, 42);
  strictEqual(calls, 3);
  strictEqual(delays.length, 2);
});

Deno.test("withRetry() gives up after the retries and rethrows the last failure", async () => {
  let calls = 0;
  await rejects(
    withRetry(() => {
      calls++;
      return Promise.reject(new UnavailableError(`Throttled ${calls}`));
    }, { retries: 2, baseMs: 1 }),
    /Throttled 3/,
  );
  strictEqual(calls, 3);
});

Deno.test("withRetry() does not retry not-found, permission or argument errors", async () => {
  for (const error of [new NotFoundError("No such key"), new PermissionDeniedError("Denied")]) {
    let calls = 0;
    await rejects(withRetry(() => (calls++, Promise.reject(error)), { baseMs: 1 }), error);
    strictEqual(calls, 1);
  }
  let calls = 0;
  await rejects(withRetry(() => (calls++, Promise.reject(new TypeError("bug"))), { baseMs: 1 }));
  strictEqual(calls, 1);
});

Deno.test("withRetry() stops waiting when the signal aborts", async () => {
  const controller = new AbortController();
  const started = withRetry(() => Promise.reject(new UnavailableError("Down")), {
    baseMs: 60_000,
    maxMs: 60_000,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 5);
  await rejects(started, AbortedError);
  await rejects(withRetry(() => Promise.resolve(1), { signal: AbortSignal.abort() }), AbortedError);
});

Deno.test("withRetry() honours a retryAfterMs detail up to maxMs", async () => {
  const delays: number[] = [];
  let calls = 0;
  await withRetry(() => {
    if (calls++ === 0) {
      return Promise.reject(new UnavailableError("Slow down", { details: { retryAfterMs: 30 } }));
    }
    return Promise.resolve();
  }, { baseMs: 1, maxMs: 20, onRetry: (e) => delays.push(e.delayMs) });
  deepStrictEqual(delays, [20]);
});

Deno.test("backoffDelay() grows exponentially, is jittered within [cap/2, cap) and capped", () => {
  const lo = (n: number) => backoffDelay(n, { baseMs: 100, maxMs: 1000, random: () => 0 });
  const hi = (n: number) => backoffDelay(n, { baseMs: 100, maxMs: 1000, random: () => 0.999 });
  deepStrictEqual([1, 2, 3, 4, 5, 6].map(lo), [50, 100, 200, 400, 500, 500]);
  deepStrictEqual([1, 2, 3, 4, 5, 6].map(hi), [100, 200, 400, 800, 1000, 1000]);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(3);
    ok(d >= 200 && d <= 400, `delay ${d}`);
  }
});

Deno.test("isRetryableError() accepts only UNAVAILABLE", () => {
  strictEqual(isRetryableError(new UnavailableError("x")), true);
  strictEqual(isRetryableError(new Error("x")), false);
  strictEqual(isRetryableError(new AbortedError("x")), false);
});

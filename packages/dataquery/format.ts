/**
 * The text forms of query statistics, as the Data Query Open API prints them
 * (`"25.6MB"`, `"12.81KB"`, `"439ms"`, `"9.83m"`).
 *
 * Sizes use base 1024 and the units `B`, `KB`, `MB`, `GB`, `TB`, `PB`; durations use `ms`
 * below one second, then `s`, `m` (minutes), `h` and `d`. Both keep at most two decimals with
 * trailing zeros trimmed, so `1536` bytes is `"1.5KB"` and `90_000` ms is `"1.5m"`.
 *
 * @module
 */

const SIZE_UNITS = ["B", "KB", "MB", "GB", "TB", "PB"] as const;

function trimmed(value: number): string {
  // Round to two decimals, then drop trailing zeros ("25.60" → "25.6", "3.00" → "3").
  return String(Math.round(value * 100) / 100);
}

/**
 * Formats a byte count: base 1024, at most two decimals, trailing zeros trimmed.
 *
 * @example
 * ```ts
 * import { formatBytes } from "@eventlake/dataquery";
 * console.log(formatBytes(0)); // "0B"
 * console.log(formatBytes(13_117)); // "12.81KB"
 * console.log(formatBytes(26_843_546)); // "25.6MB"
 * ```
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    throw new RangeError(`Invalid byte count "${bytes}": expected a finite number >= 0`);
  }
  let value = bytes;
  let unit = 0;
  // Move up a unit while the value would print as 1024 or more.
  while (unit < SIZE_UNITS.length - 1 && Math.round(value * 100) / 100 >= 1024) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)}B` : `${trimmed(value)}${SIZE_UNITS[unit]}`;
}

const DURATION_STEPS: readonly [limitMs: number, divisorMs: number, unit: string][] = [
  [60_000, 1_000, "s"],
  [3_600_000, 60_000, "m"],
  [86_400_000, 3_600_000, "h"],
  [Infinity, 86_400_000, "d"],
];

/**
 * Formats a duration in milliseconds: whole `ms` below one second, then seconds, minutes,
 * hours or days with at most two decimals, trailing zeros trimmed.
 *
 * @example
 * ```ts
 * import { formatDuration } from "@eventlake/dataquery";
 * console.log(formatDuration(439)); // "439ms"
 * console.log(formatDuration(1_500)); // "1.5s"
 * console.log(formatDuration(589_800)); // "9.83m"
 * console.log(formatDuration(4_320_000)); // "1.2h"
 * ```
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`Invalid duration "${ms}": expected a finite number of ms >= 0`);
  }
  if (Math.round(ms) < 1_000) return `${Math.round(ms)}ms`;
  for (const [limit, divisor, unit] of DURATION_STEPS) {
    // Use the unit whose rounded value stays below the next unit's threshold.
    if (Math.round((ms / divisor) * 100) / 100 * divisor < limit) {
      return `${trimmed(ms / divisor)}${unit}`;
    }
  }
  return `${trimmed(ms / 86_400_000)}d`;
}

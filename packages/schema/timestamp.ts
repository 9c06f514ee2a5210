/**
 * The `ts` column: an instant in UTC, carried as integer epoch milliseconds.
 *
 * The Data Import document says "UTC 기준의 Timestamp (Millis 미만은 절삭)": the sub-millisecond part
 * is TRUNCATED toward the past (floor), never rounded, also before 1970.
 *
 * @module
 */

/** Earliest accepted `ts`: `0000-01-01T00:00:00.000Z`, so every `ts` prints with a 4-digit year. */
export const TS_MIN = -62167219200000;
/** Latest accepted `ts`: `9999-12-31T23:59:59.999Z`. */
export const TS_MAX = 253402300799999;

/** Why a timestamp was refused. */
export type TimestampRule = "type" | "format" | "offset" | "date" | "range";

/** The result of {@linkcode parseTimestamp}: epoch milliseconds, or why the input was refused. */
export type TimestampParse =
  | { ok: true; value: number }
  | { ok: false; rule: TimestampRule; message: string };

// date, separator, time, fraction, offset (Z | ±HH | ±HHMM | ±HH:MM); seconds are required.
const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;
const DIGITS_RE = /^[+-]?\d+(?:\.\d*)?$/;

/**
 * Parses a producer's `ts` into epoch milliseconds (UTC), truncating (flooring) anything below
 * a millisecond.
 *
 * Accepted:
 * - an ISO-8601 / RFC 3339 text with seconds and an explicit offset: `2023-01-01T00:01:02.333Z`,
 *   `2023-01-01T09:01:02+09:00`, `+0900`, `+09`; a space may replace the `T`, as in the seed's
 *   `2023-01-01 00:01:02.333Z`; the fraction may have any number of digits (`.333999` → `.333`);
 * - a JSON number of epoch milliseconds; a fraction is floored (`-0.5` → `-1`).
 *
 * Refused, each with its own rule:
 * - a text without an offset (`"offset"`): UTC must be explicit, a local time is never guessed;
 * - a text of digits (`"format"`): epoch milliseconds go as a JSON number, so seconds and
 *   milliseconds cannot be confused in a string;
 * - an impossible date or time such as `2023-02-29` or `24:00:00` or a leap second `:60` (`"date"`);
 * - an instant outside years 0000–9999 (`"range"`), a non-finite number or another type (`"type"`).
 *
 * @example
 * ```ts
 * import { parseTimestamp } from "@eventlake/schema";
 * console.log(parseTimestamp("2023-01-01T00:01:02.333999Z")); // { ok: true, value: 1672531262333 }
 * console.log(parseTimestamp("1969-12-31T23:59:59.9999Z")); // { ok: true, value: -1 }
 * console.log(parseTimestamp("2023-01-01 00:01:02.333").ok); // false (no offset)
 * ```
 */
export function parseTimestamp(input: string | number): TimestampParse {
  if (typeof input === "number") return parseEpochMillis(input);
  if (typeof input !== "string") {
    return {
      ok: false,
      rule: "type",
      message: "Timestamp must be an ISO-8601 string or a number of epoch milliseconds",
    };
  }
  const m = ISO_RE.exec(input);
  if (m === null) {
    if (DIGITS_RE.test(input.trim())) {
      return {
        ok: false,
        rule: "format",
        message: `Timestamp "${input}" is a string of digits: ` +
          "send epoch milliseconds as a JSON number, or an ISO-8601 text such as " +
          `"2023-01-01T00:01:02.333Z"`,
      };
    }
    return {
      ok: false,
      rule: "format",
      message: `Timestamp "${input}" is not ISO-8601: expected "YYYY-MM-DDTHH:MM:SS[.fff]Z" ` +
        `or an offset such as "+09:00"`,
    };
  }
  if (m[8] === undefined && m[9] === undefined) {
    return {
      ok: false,
      rule: "offset",
      message: `Timestamp "${input}" has no UTC offset: append "Z" for UTC or an offset such as ` +
        `"+09:00"`,
    };
  }
  const year = +m[1], month = +m[2], day = +m[3];
  const hour = +m[4], minute = +m[5], second = +m[6];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return {
      ok: false,
      rule: "date",
      message: `Timestamp "${input}" names a day that does not exist`,
    };
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return {
      ok: false,
      rule: "date",
      message: `Timestamp "${input}" names a time that does not exist: hours 00–23, ` +
        "minutes and seconds 00–59",
    };
  }
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = +m[10], om = m[11] === undefined ? 0 : +m[11];
    if (oh > 23 || om > 59) {
      return {
        ok: false,
        rule: "offset",
        message: `Timestamp "${input}" has an impossible UTC offset: at most "±23:59"`,
      };
    }
    offsetMinutes = (oh * 60 + om) * (m[9] === "-" ? -1 : 1);
  }
  const frac = m[7];
  // Truncate the fraction to 3 digits: the fraction counts forward from the second, so cutting
  // digits floors the instant, before 1970 too.
  const millis = frac === undefined
    ? 0
    : +(frac.length >= 3 ? frac.slice(0, 3) : frac.padEnd(3, "0"));
  const days = daysFromCivil(year, month, day);
  const value = ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60000 + second * 1000 + millis;
  if (value < TS_MIN || value > TS_MAX) return rangeProblem(input);
  return { ok: true, value };
}

function parseEpochMillis(input: number): TimestampParse {
  if (!Number.isFinite(input)) {
    return {
      ok: false,
      rule: "type",
      message: `Timestamp ${input} is not a finite number of epoch milliseconds`,
    };
  }
  // `+ 0` turns -0 into 0.
  const value = Math.floor(input) + 0;
  if (value < TS_MIN || value > TS_MAX) return rangeProblem(String(input));
  return { ok: true, value };
}

function rangeProblem(text: string): TimestampParse {
  return {
    ok: false,
    rule: "range",
    message: `Timestamp "${text}" is outside years 0000–9999 UTC`,
  };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Formats epoch milliseconds as the NDJSON form of `ts`: ISO-8601 with milliseconds and `Z`.
 * Throws a `RangeError` for a value that is not an integer within {@linkcode TS_MIN}–{@linkcode TS_MAX}
 * (a programmer's mistake: a validated event never has one).
 *
 * @example
 * ```ts
 * import { formatTimestamp } from "@eventlake/schema";
 * console.log(formatTimestamp(1672531262333)); // "2023-01-01T00:01:02.333Z"
 * ```
 */
export function formatTimestamp(ms: number): string {
  if (!Number.isInteger(ms) || ms < TS_MIN || ms > TS_MAX) {
    throw new RangeError(
      `Cannot format timestamp ${ms}: expected integer epoch milliseconds in years 0000–9999`,
    );
  }
  return new Date(ms).toISOString();
}

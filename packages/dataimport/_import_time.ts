/**
 * Calendar arithmetic in a job's time zone with `Intl.DateTimeFormat` only (no tz library).
 *
 * @module
 */
import { InvalidArgumentError } from "@eventlake/schema";

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
    } catch {
      throw new InvalidArgumentError(
        `Invalid time zone "${timeZone}": expected an IANA name such as "Asia/Seoul" or "UTC"`,
      );
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Checks an IANA time zone name and returns it. */
export function checkTimeZone(timeZone: string): string {
  formatter(timeZone);
  return timeZone;
}

/** Wall-clock fields of instant `t` in `timeZone`. */
function wallClock(t: number, timeZone: string): number[] {
  const parts = formatter(timeZone).formatToParts(new Date(t));
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return [get("year"), get("month"), get("day"), get("hour"), get("minute"), get("second")];
}

/** `timeZone`'s offset from UTC at instant `t`, in ms. */
function offsetAt(t: number, timeZone: string): number {
  const [y, mo, d, h, mi, s] = wallClock(t, timeZone);
  return Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(t / 1000) * 1000;
}

/** The local calendar day (`YYYY-MM-DD`) of instant `t` in `timeZone`. */
export function localDate(t: number, timeZone: string): string {
  const [y, mo, d] = wallClock(t, timeZone);
  return `${String(y).padStart(4, "0")}-${pad(mo)}-${pad(d)}`;
}

/** `date` plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The instant of wall-clock `date` `time` (`HH:MM`) in `timeZone`. */
export function zonedInstant(date: string, time: string, timeZone: string): number {
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let t = wall - offsetAt(wall, timeZone);
  // Once more at the candidate: right across a DST change.
  t = wall - offsetAt(t, timeZone);
  return t;
}

/** Checks a `HH:MM` time of day and returns it. */
export function checkTimeOfDay(time: string): string {
  const m = /^(\d{2}):(\d{2})$/.exec(time);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) {
    throw new InvalidArgumentError(`Invalid deadline "${time}": expected HH:MM, e.g. "13:00"`);
  }
  return time;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

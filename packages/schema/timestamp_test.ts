import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { formatTimestamp, parseTimestamp, TS_MAX, TS_MIN } from "./timestamp.ts";

function ms(input: string | number): number {
  const parsed = parseTimestamp(input);
  if (!parsed.ok) throw new Error(`expected ${input} to parse: ${parsed.message}`);
  return parsed.value;
}

function refused(input: string | number): { rule: string; message: string } {
  const parsed = parseTimestamp(input);
  if (parsed.ok) throw new Error(`expected ${input} to be refused, got ${parsed.value}`);
  return { rule: parsed.rule, message: parsed.message };
}

Deno.test("parseTimestamp() reads ISO-8601 with Z and fractions of any length", () => {
  strictEqual(ms("2023-01-01T00:01:02Z"), 1672531262000);
  strictEqual(ms("2023-01-01T00:01:02.3Z"), 1672531262300);
  strictEqual(ms("2023-01-01T00:01:02.33Z"), 1672531262330);
  strictEqual(ms("2023-01-01T00:01:02.333Z"), 1672531262333);
  strictEqual(ms("2023-01-01T00:01:02.333999Z"), 1672531262333);
  strictEqual(ms("2023-01-01T00:01:02.999999999Z"), 1672531262999);
  strictEqual(ms("2023-01-01t00:01:02.333z"), 1672531262333);
});

Deno.test("parseTimestamp() truncates below a millisecond, never rounds", () => {
  strictEqual(ms("2023-01-01T00:01:02.3339Z"), 1672531262333);
  strictEqual(ms("2023-01-01T00:01:02.9995Z"), 1672531262999);
  strictEqual(ms(1672531262333.9), 1672531262333);
});

Deno.test("parseTimestamp() floors sub-millisecond parts before 1970", () => {
  strictEqual(ms("1969-12-31T23:59:59.9999Z"), -1);
  strictEqual(ms("1969-12-31T23:59:59.999999Z"), -1);
  strictEqual(ms("1969-12-31T23:59:59.0005Z"), -1000);
  strictEqual(ms("1900-06-15T12:00:00.1239Z"), Date.UTC(1900, 5, 15, 12, 0, 0, 123));
  strictEqual(ms(-0.5), -1);
  strictEqual(ms(-1.999), -2);
  strictEqual(ms(1.999), 1);
  ok(Object.is(ms(-0), 0), "-0 becomes 0");
  ok(Object.is(ms(-0.0001 + 0.0001), 0));
});

Deno.test("parseTimestamp() accepts the seed's space-separated form only with an explicit offset", () => {
  strictEqual(ms("2023-01-01 00:01:02.333Z"), 1672531262333);
  strictEqual(ms("2023-01-01 09:01:02.333+09:00"), 1672531262333);
  const problem = refused("2023-01-01 00:01:02.333");
  strictEqual(problem.rule, "offset");
  strictEqual(
    problem.message,
    'Timestamp "2023-01-01 00:01:02.333" has no UTC offset: append "Z" for UTC or an offset such as "+09:00"',
  );
  strictEqual(refused("2023-01-01T00:01:02").rule, "offset");
});

Deno.test("parseTimestamp() applies offsets written as ±HH:MM, ±HHMM and ±HH", () => {
  const utc = 1672531262333;
  strictEqual(ms("2023-01-01T09:01:02.333+09:00"), utc);
  strictEqual(ms("2023-01-01T09:01:02.333+0900"), utc);
  strictEqual(ms("2023-01-01T09:01:02.333+09"), utc);
  strictEqual(ms("2022-12-31T18:31:02.333-05:30"), utc);
  strictEqual(ms("2023-01-01T00:01:02.333-00:00"), utc);
  strictEqual(refused("2023-01-01T00:01:02+24:00").rule, "offset");
  strictEqual(refused("2023-01-01T00:01:02+09:60").rule, "offset");
});

Deno.test("parseTimestamp() agrees with Date on ISO texts it prints", () => {
  let x = 12345;
  for (let i = 0; i < 2000; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const value = Math.floor((x / 2147483648) * (TS_MAX - TS_MIN)) + TS_MIN;
    strictEqual(ms(new Date(value).toISOString()), value);
  }
});

Deno.test("parseTimestamp() refuses days and times that do not exist", () => {
  strictEqual(ms("2024-02-29T00:00:00Z"), Date.UTC(2024, 1, 29));
  strictEqual(ms("2000-02-29T00:00:00Z"), Date.UTC(2000, 1, 29));
  for (
    const text of [
      "2023-02-29T00:00:00Z",
      "1900-02-29T00:00:00Z",
      "2023-13-01T00:00:00Z",
      "2023-00-10T00:00:00Z",
      "2023-04-31T00:00:00Z",
      "2023-01-00T00:00:00Z",
      "2023-01-01T24:00:00Z",
      "2023-01-01T23:60:00Z",
      "2016-12-31T23:59:60Z",
    ]
  ) {
    strictEqual(refused(text).rule, "date", text);
  }
  ok(refused("2023-02-29T00:00:00Z").message.includes('"2023-02-29T00:00:00Z"'));
});

Deno.test("parseTimestamp() refuses digits in a string and other formats, with a hint", () => {
  deepStrictEqual(refused("1672531262333"), {
    rule: "format",
    message: 'Timestamp "1672531262333" is a string of digits: send epoch milliseconds as a JSON ' +
      'number, or an ISO-8601 text such as "2023-01-01T00:01:02.333Z"',
  });
  for (
    const text of [
      "",
      "2023-01-01",
      "2023-01-01T00:01Z",
      " 2023-01-01T00:01:02Z",
      "2023-01-01T00:01:02Z ",
      "2023/01/01 00:01:02Z",
      "Sun, 01 Jan 2023 00:01:02 GMT",
      "20230101T000102Z",
      "+2023-01-01T00:01:02Z",
    ]
  ) {
    strictEqual(refused(text).rule, "format", text);
  }
});

Deno.test("parseTimestamp() keeps instants within years 0000-9999", () => {
  strictEqual(ms("0000-01-01T00:00:00Z"), TS_MIN);
  strictEqual(ms("9999-12-31T23:59:59.999Z"), TS_MAX);
  strictEqual(ms(TS_MIN), TS_MIN);
  strictEqual(ms(TS_MAX), TS_MAX);
  strictEqual(refused("9999-12-31T23:59:59.999-00:01").rule, "range");
  strictEqual(refused("0000-01-01T00:00:00+00:01").rule, "range");
  strictEqual(refused(TS_MAX + 1).rule, "range");
  strictEqual(refused(TS_MIN - 0.5).rule, "range");
  strictEqual(
    refused(1e20).message,
    'Timestamp "100000000000000000000" is outside years 0000–9999 UTC',
  );
});

Deno.test("parseTimestamp() refuses non-finite numbers and other types", () => {
  strictEqual(refused(Number.NaN).rule, "type");
  strictEqual(refused(Number.POSITIVE_INFINITY).rule, "type");
  strictEqual(parseTimestamp(null as unknown as string).ok, false);
});

Deno.test("formatTimestamp() prints milliseconds and Z, and round-trips through parseTimestamp()", () => {
  strictEqual(formatTimestamp(1672531262333), "2023-01-01T00:01:02.333Z");
  strictEqual(formatTimestamp(-1), "1969-12-31T23:59:59.999Z");
  strictEqual(formatTimestamp(TS_MIN), "0000-01-01T00:00:00.000Z");
  strictEqual(formatTimestamp(TS_MAX), "9999-12-31T23:59:59.999Z");
  for (const value of [TS_MIN, -1, 0, 1, 1672531262333, TS_MAX]) {
    strictEqual(ms(formatTimestamp(value)), value);
  }
});

Deno.test("formatTimestamp() throws a RangeError for a value that is not a valid ts", () => {
  throws(() => formatTimestamp(1.5), RangeError);
  throws(() => formatTimestamp(TS_MAX + 1), RangeError);
  throws(() => formatTimestamp(Number.NaN), RangeError);
});

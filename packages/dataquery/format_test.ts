import { strictEqual, throws } from "node:assert/strict";
import { formatBytes, formatDuration } from "./format.ts";

Deno.test("formatBytes() prints the Open API's sizes: base 1024, two decimals, zeros trimmed", () => {
  strictEqual(formatBytes(0), "0B");
  strictEqual(formatBytes(1023), "1023B");
  strictEqual(formatBytes(1024), "1KB");
  strictEqual(formatBytes(1536), "1.5KB");
  strictEqual(formatBytes(13_117), "12.81KB");
  strictEqual(formatBytes(26_843_546), "25.6MB");
  strictEqual(formatBytes(1024 * 1024 - 1), "1MB"); // 1023.999… KB rounds up to the next unit
  strictEqual(formatBytes(5 * 1024 ** 3), "5GB");
  strictEqual(formatBytes(3 * 1024 ** 5), "3PB");
});

Deno.test("formatDuration() prints ms, s, m, h and d as the Open API", () => {
  strictEqual(formatDuration(0), "0ms");
  strictEqual(formatDuration(439), "439ms");
  strictEqual(formatDuration(999.4), "999ms");
  strictEqual(formatDuration(999.6), "1s");
  strictEqual(formatDuration(1_500), "1.5s");
  strictEqual(formatDuration(59_999), "1m");
  strictEqual(formatDuration(589_800), "9.83m");
  strictEqual(formatDuration(571_200), "9.52m");
  strictEqual(formatDuration(30 * 60_000), "30m");
  strictEqual(formatDuration(4_320_000), "1.2h");
  strictEqual(formatDuration(36 * 3_600_000), "1.5d");
});

Deno.test("formatBytes() and formatDuration() reject negative and non-finite values", () => {
  throws(() => formatBytes(-1), /Invalid byte count "-1"/);
  throws(() => formatDuration(NaN), /Invalid duration "NaN"/);
});

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { decodeDecimalBytes, encodeDecimalBytes, formatDecimal, parseDecimal } from "./decimal.ts";

Deno.test("parseDecimal() carries 18 integer and 6 fraction digits exactly", () => {
  assertEquals(parseDecimal("123456789012345678.123456"), {
    ok: true,
    value: 123456789012345678123456n,
  });
  assertEquals(parseDecimal("-0.000001"), { ok: true, value: -1n });
  assertEquals(parseDecimal("0.0"), { ok: true, value: 0n });
  assertEquals(parseDecimal(".5"), { ok: true, value: 500000n });
  assertEquals(parseDecimal("1.5000000"), { ok: true, value: 1500000n });
});

Deno.test("parseDecimal() refuses rather than rounds", () => {
  assertEquals(parseDecimal("0.0000001"), { ok: false, problem: "scale" });
  assertEquals(parseDecimal("1234567890123456789"), { ok: false, problem: "precision" });
  assertEquals(parseDecimal("1e3"), { ok: false, problem: "syntax" });
  assertEquals(parseDecimal(""), { ok: false, problem: "syntax" });
  assertEquals(parseDecimal("1.2.3"), { ok: false, problem: "syntax" });
});

Deno.test("formatDecimal() prints six fraction digits like DuckDB", () => {
  assertEquals(formatDecimal(123450000n), "123.450000");
  assertEquals(formatDecimal(-1n), "-0.000001");
  assertEquals(formatDecimal(0n), "0.000000");
  assertEquals(formatDecimal(123456789012345678123456n), "123456789012345678.123456");
});

Deno.test("decimal bytes round-trip at 11 and 16 bytes", () => {
  const values = [0n, 1n, -1n, 255n, -256n, 10n ** 24n - 1n, -(10n ** 24n - 1n)];
  for (let i = 0; i < 1000; i++) {
    values.push(BigInt(Math.floor((Math.random() - 0.5) * 2 ** 53)) * 1000003n);
  }
  for (const v of values) {
    for (const width of [11, 16]) {
      assertEquals(decodeDecimalBytes(encodeDecimalBytes(v, width)), v);
    }
  }
});

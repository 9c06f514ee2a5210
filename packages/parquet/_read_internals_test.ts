import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { decodeDecimalBytes, encodeDecimalBytes } from "@eventlake/schema";
import { decodeDecimal } from "./_read_decimal.ts";
import { readHybrid } from "./_read_rle.ts";
import { assembleTs } from "./_read_columns.ts";
import type { ColumnPlan, Leaf } from "./_read_layout.ts";

Deno.test("decodeDecimal() agrees with decodeDecimalBytes on both its fast and slow paths", () => {
  let seed = 7;
  const byte = () => (seed = (seed * 1103515245 + 12345) % 2147483648) & 0xff;
  for (let i = 0; i < 20_000; i++) {
    const width = [11, 16, 8, 6, 4][i % 5];
    const bytes = Uint8Array.from({ length: width }, byte);
    // Make half of them small: sign-extend from a random position.
    if (i % 2 === 0) {
      const keep = 1 + (i % width);
      const fill = bytes[width - keep] & 0x80 ? 0xff : 0;
      bytes.fill(fill, 0, width - keep);
    }
    strictEqual(decodeDecimal(bytes), decodeDecimalBytes(bytes));
  }
  for (
    const v of [
      0n,
      -1n,
      1n,
      2n ** 47n - 1n,
      -(2n ** 47n),
      2n ** 47n,
      10n ** 24n - 1n,
      -(10n ** 24n - 1n),
    ]
  ) {
    strictEqual(decodeDecimal(encodeDecimalBytes(v, 11)), v);
    strictEqual(decodeDecimal(encodeDecimalBytes(v, 16)), v);
  }
});

Deno.test("readHybrid() decodes RLE and bit-packed runs and refuses truncated input", () => {
  // RLE: 5 × value 3 (width 2) then bit-packed group of 8 values 0..7 (width 3).
  const rle = new Uint8Array([5 << 1, 3]);
  const out = new Uint8Array(5);
  strictEqual(readHybrid(rle, 0, rle.length, 2, out, 5), 2);
  deepStrictEqual(out, new Uint8Array([3, 3, 3, 3, 3]));
  // values 0..7 packed LSB-first in 3 bits: 0b10001000, 0b11000110, 0b11111010
  const packed = new Uint8Array([(1 << 1) | 1, 0x88, 0xc6, 0xfa]);
  const out2 = new Uint8Array(8);
  readHybrid(packed, 0, packed.length, 3, out2, 8);
  deepStrictEqual(out2, new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]));
  throws(() => readHybrid(packed, 0, 2, 3, new Uint8Array(8), 8), RangeError);
  throws(() => readHybrid(new Uint8Array([]), 0, 0, 1, new Uint8Array(1), 1), RangeError);
});

function tsPlan(
  unit: "MILLIS" | "MICROS" | "NANOS" | "INT96",
): Extract<ColumnPlan, { kind: "ts" }> {
  const leaf = {
    index: 0,
    path: "ts",
    schemaPath: [],
    element: { name: "ts" },
    maxDef: 0,
    maxRep: 0,
  } as Leaf;
  return { kind: "ts", column: "ts", leaf, unit };
}

Deno.test("assembleTs() floors MICROS, NANOS and INT96 nanoseconds to milliseconds, also before 1970", () => {
  const problems: string[] = [];
  const sink = (row: number, _c: string, m: string) => void problems.push(`${row} ${m}`);
  const data = (values: ArrayLike<unknown>) => ({
    count: values.length,
    defs: null,
    reps: null,
    values: values as bigint[],
  });
  deepStrictEqual(
    [...assembleTs(
      tsPlan("MICROS"),
      data(BigInt64Array.from([1999n, -1n, -1000n, -1001n])),
      4,
      sink,
    )],
    [1, -1, -1, -2],
  );
  deepStrictEqual(
    [...assembleTs(
      tsPlan("NANOS"),
      data(BigInt64Array.from([1_999_999n, -1n, 1_672_531_200_123_456_789n])),
      3,
      sink,
    )],
    [1, -1, 1672531200123],
  );
  // INT96 reaches assembleTs as nanoseconds since the epoch (hyparquet's day/nanos split, kept raw).
  deepStrictEqual([...assembleTs(tsPlan("INT96"), data([-1n, 86_400_000_000_000n]), 2, sink)], [
    -1,
    86_400_000,
  ]);
  deepStrictEqual(problems, []);
  const far = assembleTs(tsPlan("MILLIS"), data(BigInt64Array.from([2n ** 62n])), 1, sink);
  strictEqual(Number.isNaN(far[0]), true);
  deepStrictEqual(problems, [`0 is out of range: ${2n ** 62n} millis`]);
});

Deno.test("readHybrid() unpacks widths 1 to 12 exactly, including partial final groups", () => {
  let seed = 3;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let width = 1; width <= 12; width++) {
    for (const count of [1, 7, 8, 9, 64, 203]) {
      const values = Array.from({ length: count }, () => Math.floor(rand() * (1 << width)));
      const groups = Math.ceil(count / 8);
      // Bit-pack LSB first, padded to whole groups.
      const packed = new Uint8Array(1 + groups * width);
      packed[0] = (groups << 1) | 1;
      let bit = 8;
      for (const v of values) {
        for (let b = 0; b < width; b++, bit++) if ((v >> b) & 1) packed[bit >> 3] |= 1 << (bit & 7);
      }
      const out = width <= 8 ? new Uint8Array(count) : new Uint32Array(count);
      readHybrid(packed, 0, packed.length, width, out, count);
      deepStrictEqual([...out], values, `width ${width}, count ${count}`);
    }
  }
});

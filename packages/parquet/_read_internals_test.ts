import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { decodeDecimalBytes, encodeDecimalBytes } from "@eventlake/schema";
import { decodeDecimal } from "./_read_decimal.ts";
import { readHybrid } from "./_read_rle.ts";
import { assembleTs, CorruptColumnError, MapCursor, MapShapes } from "./_read_columns.ts";
import { DictPage, LazyValues, type Page, PlainStrings } from "./_read_chunk.ts";
import { snappyDecompressInto } from "./_read_snappy.ts";
import { snappyCompressInto } from "./_write_snappy.ts";
import { Bytes } from "./_write_bytes.ts";
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

Deno.test("readHybrid() unpacks widths 1 to 24 exactly, including partial final groups", () => {
  let seed = 3;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let width = 1; width <= 24; width++) {
    for (const count of [1, 7, 8, 9, 64, 203, 1000]) {
      const values = Array.from({ length: count }, () => Math.floor(rand() * (1 << width)));
      const groups = Math.ceil(count / 8);
      // Bit-pack LSB first, padded to whole groups, after a 2-byte ULEB128 header.
      const packed = new Uint8Array(2 + groups * width);
      packed[0] = (((groups << 1) | 1) & 0x7f) | 0x80;
      packed[1] = ((groups << 1) | 1) >> 7;
      let bit = 16;
      for (const v of values) {
        for (let b = 0; b < width; b++, bit++) if ((v >> b) & 1) packed[bit >> 3] |= 1 << (bit & 7);
      }
      const out = width <= 8 ? new Uint8Array(count) : new Uint32Array(count);
      readHybrid(packed, 0, packed.length, width, out, count);
      deepStrictEqual([...out], values, `width ${width}, count ${count}`);
    }
  }
});

Deno.test("readHybrid() unpacks long width-1 runs exactly at any output alignment", () => {
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const count of [64, 65, 1000, 70_001]) {
    const values = Array.from({ length: count }, () => (rand() < 0.7 ? 1 : 0));
    const groups = Math.ceil(count / 8);
    // Header as ULEB128, then the bits LSB first.
    const header: number[] = [];
    for (let h = (groups << 1) | 1;; h >>>= 7) {
      if (h < 0x80) {
        header.push(h);
        break;
      }
      header.push((h & 0x7f) | 0x80);
    }
    const packed = new Uint8Array(header.length + groups);
    packed.set(header);
    values.forEach((v, i) => packed[header.length + (i >> 3)] |= v << (i & 7));
    for (const shift of [0, 1, 2, 3, 5]) {
      const backing = new Uint8Array(count + shift + 3).fill(9);
      const out = backing.subarray(shift, shift + count);
      readHybrid(packed, 0, packed.length, 1, out, count);
      deepStrictEqual([...out], values, `count ${count}, shift ${shift}`);
      deepStrictEqual([...backing.subarray(0, shift)], new Array(shift).fill(9));
      deepStrictEqual([...backing.subarray(shift + count)], [9, 9, 9], "nothing written past out");
    }
  }
});

/** A MAP column's plan: required map, repeated key_value, required key, optional value. */
function mapPlan(): Extract<ColumnPlan, { kind: "map" }> {
  const leaf = (path: string, maxDef: number): Leaf =>
    ({ index: 0, path, schemaPath: [], element: { name: path }, maxDef, maxRep: 1 }) as Leaf;
  return {
    kind: "map",
    column: "event_properties",
    key: leaf("event_properties.key_value.key", 1),
    value: leaf("event_properties.key_value.value", 2),
    presentDef: 0,
    entryDef: 1,
  };
}

/** Key and value leaves for rows of entries (`[]`: an empty map; a null key or value: null). */
function mapLeaves(rows: [string | null, string | null][][], dictionary = false) {
  const reps: number[] = [];
  const kDefs: number[] = [];
  const vDefs: number[] = [];
  const keys: string[] = [];
  const values: string[] = [];
  for (const row of rows) {
    if (row.length === 0) {
      reps.push(0);
      kDefs.push(0);
      vDefs.push(0);
      continue;
    }
    row.forEach(([k, v], i) => {
      reps.push(i === 0 ? 0 : 1);
      kDefs.push(k === null ? 0 : 1); // a null key: written as an absent entry level
      vDefs.push(v === null ? 1 : 2);
      if (k !== null) keys.push(k);
      if (v !== null) values.push(v);
    });
  }
  const leaf = (defs: number[], vals: string[]) => {
    let pages: Page<string>[] = [vals];
    if (dictionary) {
      // Two pages of indices into one dictionary, as a dictionary-encoded chunk has.
      const dict = [...new Set(vals)];
      const indices = Uint32Array.from(vals, (v) => dict.indexOf(v));
      const half = indices.length >> 1;
      pages = [new DictPage(dict, indices.slice(0, half)), new DictPage(dict, indices.slice(half))];
    }
    return {
      count: reps.length,
      // As decodeLeaf does: no definition levels when every entry is at the maximum.
      defs: defs.every((d) => d === Math.max(...defs)) && vals.length === reps.length
        ? null
        : Uint8Array.from(defs),
      reps: Uint8Array.from(reps),
      values: new LazyValues<string>(pages, vals.length, "string"),
    };
  };
  return { keys: leaf(kDefs, keys), values: leaf(vDefs, values) };
}

Deno.test("MapCursor builds the same maps before and after a key sequence gets a factory", () => {
  const shape: [string, string | null][] = [["b", "1"], ["a", null], ["0", "z"], ["c", "3"]];
  const rows: [string | null, string | null][][] = [];
  for (let i = 0; i < 60; i++) {
    rows.push(shape.map(([k, v]) => [k, v === null ? null : `${v}${i}`]));
    if (i % 7 === 0) rows.push([]);
  }
  for (const dictionary of [false, true]) {
    const { keys, values } = mapLeaves(rows, dictionary);
    const shapes = new MapShapes();
    const cursor = new MapCursor(mapPlan(), keys, values, rows.length, shapes);
    for (const row of rows) {
      const map = cursor.next();
      strictEqual(cursor.problem, null);
      strictEqual(Object.getPrototypeOf(map), Object.prototype);
      deepStrictEqual(Object.entries(map), Object.entries(Object.fromEntries(row)));
    }
  }
});

Deno.test("MapCursor reports duplicate and null keys on every row, however often they repeat", () => {
  const rows: [string | null, string | null][][] = [];
  for (let i = 0; i < 40; i++) {
    rows.push([["k", "1"], ["j", "2"], ["k", "3"]], [["k", "1"], [null, "x"]]);
  }
  for (const dictionary of [false, true]) {
    const { keys, values } = mapLeaves(rows, dictionary);
    const cursor = new MapCursor(mapPlan(), keys, values, rows.length);
    for (let i = 0; i < rows.length; i++) {
      const map = cursor.next();
      strictEqual(cursor.problem, i % 2 === 0 ? 'has the key "k" twice' : "has a null key");
      deepStrictEqual(map, i % 2 === 0 ? { k: "3", j: "2" } : { k: "1" });
    }
  }
});

Deno.test("MapCursor keeps a __proto__ key as an own entry without touching the prototype", () => {
  const rows: [string, string][][] = [];
  for (let i = 0; i < 40; i++) rows.push([["__proto__", `p${i}`], ["x", "1"]]);
  const { keys, values } = mapLeaves(rows);
  const cursor = new MapCursor(mapPlan(), keys, values, rows.length);
  for (let i = 0; i < rows.length; i++) {
    const map = cursor.next();
    strictEqual(cursor.problem, null);
    strictEqual(Object.getPrototypeOf(map), Object.prototype);
    deepStrictEqual(Object.keys(map), ["__proto__", "x"]);
    strictEqual(Object.getOwnPropertyDescriptor(map, "__proto__")?.value, `p${i}`);
  }
});

Deno.test("MapCursor refuses keys and values whose repetition levels disagree", () => {
  const { keys, values } = mapLeaves([[["a", "1"], ["b", "2"]], [["c", "3"]]]);
  values.reps![2] = 1;
  throws(
    () => new MapCursor(mapPlan(), keys, values, 2),
    (e: Error) => e instanceof CorruptColumnError && /disagree at entry 2/.test(e.message),
  );
  const ok = mapLeaves([[["a", "1"], ["b", "2"]], [["c", "3"]]]);
  throws(
    () => new MapCursor(mapPlan(), ok.keys, ok.values, 3),
    (e: Error) =>
      e instanceof CorruptColumnError && /has 2 rows where the row group has 3/.test(e.message),
  );
});

Deno.test("PlainStrings decodes ASCII, UTF-8 and invalid bytes like TextDecoder, value by value", () => {
  const utf8 = new TextDecoder();
  const enc = new TextEncoder();
  const cases: Uint8Array[][] = [
    ["abc", "", "0123456789abcdef-uuid"].map((s) => enc.encode(s)),
    ["abc", "한국어", "x"].map((s) => enc.encode(s)),
    [enc.encode("ok"), Uint8Array.of(0x61, 0xff, 0x62), enc.encode("\uFFFD")],
    [enc.encode("a".repeat(200)), enc.encode("b")], // a length prefix that is not ASCII
  ];
  for (const values of cases) {
    const parts: number[] = [7, 7, 7]; // the page may start with other bytes
    for (const v of values) parts.push(v.length & 0xff, v.length >> 8, 0, 0, ...v);
    const page = Uint8Array.from(parts);
    const strings = new PlainStrings(page, 3, values.length);
    deepStrictEqual(strings.toArray(), values.map((v) => utf8.decode(v)));
  }
  throws(() => new PlainStrings(Uint8Array.of(5, 0, 0, 0, 65), 0, 1), RangeError);
});

Deno.test("snappyDecompressInto() decodes every element kind, overlapping references included", () => {
  let seed = 5;
  const rand = (n: number) =>
    Math.floor((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 * n);
  for (let round = 0; round < 100; round++) {
    // A random valid stream: literals with 0-4 length bytes, copies with 1-, 2- and 4-byte
    // offsets, overlapping (offset < length) ones too; the expected bytes built alongside.
    const expected: number[] = [];
    const body: number[] = [];
    const elements = 1 + rand(60);
    for (let e = 0; e < elements; e++) {
      const kind = expected.length === 0 ? 0 : rand(4);
      if (kind === 0) {
        const len = e === 0 && round % 25 === 0
          ? 70_000 + rand(1000) // 3 length bytes
          : 1 + [rand(60), 60 + rand(200), 256 + rand(3000)][rand(3)];
        const bytes = Array.from({ length: len }, () => rand(256));
        if (len <= 60) body.push((len - 1) << 2);
        else if (len - 1 < 256) body.push(60 << 2, len - 1);
        else if (len - 1 < 65536) body.push(61 << 2, (len - 1) & 0xff, (len - 1) >> 8);
        else body.push(62 << 2, (len - 1) & 0xff, ((len - 1) >> 8) & 0xff, (len - 1) >> 16);
        for (const b of bytes) body.push(b), expected.push(b);
        continue;
      }
      const range = rand(3) === 0 ? 8 : kind === 1 ? 2047 : 70_000; // short: overlapping
      const offset = 1 + rand(Math.min(expected.length, range));
      let len: number;
      if (kind === 1) {
        len = 4 + rand(8);
        body.push(1 | ((len - 4) << 2) | ((offset >> 8) << 5), offset & 0xff);
      } else if (kind === 2 && offset < 65536) {
        len = 1 + rand(64);
        body.push(2 | ((len - 1) << 2), offset & 0xff, offset >> 8);
      } else {
        len = 1 + rand(64);
        body.push(3 | ((len - 1) << 2), offset & 0xff, (offset >> 8) & 0xff, offset >> 16, 0);
      }
      for (let i = 0; i < len; i++) expected.push(expected[expected.length - offset]);
    }
    const header: number[] = [];
    for (let n = expected.length;; n = Math.floor(n / 128)) {
      if (n < 128) {
        header.push(n);
        break;
      }
      header.push((n & 0x7f) | 0x80);
    }
    const input = Uint8Array.from([...header, ...body]);
    const out = new Uint8Array(expected.length);
    snappyDecompressInto(input, out);
    let diff = -1;
    for (let i = 0; i < out.length && diff < 0; i++) if (out[i] !== expected[i]) diff = i;
    strictEqual(diff, -1, `round ${round}: first difference at byte ${diff}`);
  }
});

Deno.test("snappyCompressInto() output decompresses to its input at every length, UUID text and runs included", () => {
  let seed = 11;
  const rand = (n: number) =>
    Math.floor((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 * n);
  const hex = "0123456789abcdef";
  const text = (n: number) => {
    // Length-prefixed UUID-like strings (short literals between short matches), runs and noise.
    const out: number[] = [];
    while (out.length < n) {
      const kind = rand(3);
      if (kind === 0) {
        out.push(36, 0, 0, 0);
        for (let i = 0; i < 36; i++) {
          out.push(i === 8 || i === 13 || i === 18 || i === 23 ? 45 : hex.charCodeAt(rand(16)));
        }
      } else if (kind === 1) {
        const b = rand(256);
        for (let i = rand(90); i >= 0; i--) out.push(b);
      } else {
        for (let i = rand(70); i >= 0; i--) out.push(rand(256));
      }
    }
    return Uint8Array.from(out.slice(0, n));
  };
  const sizes = [0, 1, 3, 4, 15, 16, 17, 31, 32, 33, 100, 1000, 65_535, 65_536, 65_537, 200_000];
  for (const size of sizes) {
    const input = text(size);
    const out = new Bytes(8);
    out.pos = 0;
    snappyCompressInto(input, out);
    const back = new Uint8Array(size);
    snappyDecompressInto(out.buf.subarray(0, out.pos), back);
    deepStrictEqual(back, input, `size ${size}`);
  }
});

Deno.test("snappyDecompressInto() refuses corrupt data with a RangeError", () => {
  const bad: [number[], number][] = [
    [[3, 8, 97, 98, 99], 3], // valid: a literal of 3 bytes
    [[4, 8, 97, 98, 99], 4], // stops one byte short
    [[2, 8, 97, 98, 99], 2], // more data than declared
    [[5, 4, 97, 5, 2], 5], // reference 2 back from byte 1
    [[5, 4, 97, 2, 0], 5], // reference 0 back
    [[3, 12, 97], 3], // literal past the end of the input
    [[0x80, 0x80, 0x80, 0x80, 0x80, 1], 1], // length header too long
  ];
  for (const [bytes, size] of bad.slice(1)) {
    throws(() => snappyDecompressInto(Uint8Array.from(bytes), new Uint8Array(size)), RangeError);
  }
  const ok = new Uint8Array(3);
  snappyDecompressInto(Uint8Array.from(bad[0][0]), ok);
  deepStrictEqual([...ok], [97, 98, 99]);
});

Deno.test("assembleTs() converts MILLIS and MICROS exactly on both sides of its 2^52 fast path", () => {
  const problems: string[] = [];
  const sink = (row: number, _c: string, m: string) => void problems.push(`${row} ${m}`);
  const data = (values: BigInt64Array) => ({
    count: values.length,
    defs: null,
    reps: null,
    values,
  });
  const big = [2n ** 52n - 1n, -(2n ** 52n), 2n ** 52n, -(2n ** 52n) - 1n, 1_700_000_000_123n, -1n];
  deepStrictEqual(
    [...assembleTs(tsPlan("MILLIS"), data(BigInt64Array.from(big)), big.length, sink)],
    big.map(Number),
  );
  const micros = [-1n, 1_700_000_000_123_999n, 2n ** 60n + 999n, -(2n ** 60n) - 1n];
  deepStrictEqual(
    [...assembleTs(tsPlan("MICROS"), data(BigInt64Array.from(micros)), micros.length, sink)],
    micros.map((v) => Number(v / 1000n - (v < 0n && v % 1000n !== 0n ? 1n : 0n))),
  );
  deepStrictEqual(problems, []);
});

Deno.test("MapCursor reads chunks without nulls or empty maps like any other", () => {
  const rows: [string, string][][] = [];
  for (let i = 0; i < 50; i++) {
    rows.push([["osname", `o${i % 3}`], ["appversion", "1.0"], ["language", "ko"]]);
    if (i % 10 === 0) rows.push([["id", `u${i}`], ["id", "dup"]]);
  }
  for (const dictionary of [false, true]) {
    const { keys, values } = mapLeaves(rows, dictionary);
    strictEqual(keys.defs, null);
    strictEqual(values.defs, null);
    const cursor = new MapCursor(mapPlan(), keys, values, rows.length);
    for (const row of rows) {
      const map = cursor.next();
      const duplicate = row[0][0] === "id";
      strictEqual(cursor.problem, duplicate ? 'has the key "id" twice' : null);
      deepStrictEqual(Object.entries(map), Object.entries(Object.fromEntries(row)));
    }
  }
});

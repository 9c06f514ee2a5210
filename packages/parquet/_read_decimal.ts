/**
 * Exact decoding of DECIMAL bytes with a fast path for values that fit in 48 bits.
 *
 * @module
 */
import { decodeDecimalBytes } from "@eventlake/schema";

/**
 * Decodes a big-endian two's complement DECIMAL exactly. Values that fit in 48 bits
 * (|unscaled| < 2^47, i.e. |value| < 140737488.355328 at scale 6: nearly all metrics) take
 * a Number fast path; the rest go through `decodeDecimalBytes`.
 */
export function decodeDecimal(b: Uint8Array): bigint {
  return decodeDecimalAt(b, 0, b.length);
}

/** {@linkcode decodeDecimal} of `b[at..at+n)`, without creating a view for the fast path. */
export function decodeDecimalAt(b: Uint8Array, at: number, n: number): bigint {
  if (n >= 6) {
    const neg = b[at] & 0x80;
    const fill = neg ? 0xff : 0;
    const last = at + n - 6;
    let small = (b[last] & 0x80) === neg;
    for (let i = at; small && i < last; i++) small = b[i] === fill;
    if (small) {
      let v = b[last] * 0x10000000000 + b[last + 1] * 0x100000000 + b[last + 2] * 0x1000000 +
        b[last + 3] * 0x10000 + b[last + 4] * 0x100 + b[last + 5];
      if (neg) v -= 0x1000000000000;
      return BigInt(v);
    }
  }
  return decodeDecimalBytes(b.subarray(at, at + n));
}

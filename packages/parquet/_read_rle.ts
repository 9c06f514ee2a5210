/**
 * The RLE / bit-packed hybrid decoder for levels and dictionary indices, written for speed:
 * it reads straight from a `Uint8Array` into a typed array, a byte at a time into a 32-bit
 * accumulator. Widths above 24 bits (dictionaries of more than 16M entries) are refused.
 *
 * @module
 */

/**
 * Decodes `count` values of `width` bits from `bytes[pos..end)` into `out[0..count)`.
 * Returns the position after the last run read. Throws `RangeError` on truncated input.
 */
export function readHybrid(
  bytes: Uint8Array,
  pos: number,
  end: number,
  width: number,
  out: Uint8Array | Uint32Array,
  count: number,
): number {
  if (width > 24) throw new RangeError(`bit width ${width} is not supported`);
  const mask = (1 << width) - 1;
  const byteWidth = (width + 7) >> 3;
  let seen = 0;
  while (seen < count) {
    // ULEB128 run header
    let header = 0;
    let scale = 1;
    let b: number;
    do {
      if (pos >= end) {
        throw new RangeError(`run header past the end after ${seen} of ${count} values`);
      }
      b = bytes[pos++];
      header += (b & 0x7f) * scale;
      scale *= 128;
    } while (b & 0x80);
    if (header % 2 === 1) {
      const groups = (header - 1) / 2;
      const runBytes = groups * width;
      if (pos + runBytes > end) {
        throw new RangeError(`bit-packed run of ${groups * 8} values past the end`);
      }
      const stop = Math.min(count, seen + groups * 8);
      let at = pos;
      let buf = 0;
      let bits = 0;
      for (let i = seen; i < stop; i++) {
        while (bits < width) {
          buf |= bytes[at++] << bits;
          bits += 8;
        }
        out[i] = buf & mask;
        buf >>>= width;
        bits -= width;
      }
      pos += runBytes;
      seen = stop === count ? count : seen + groups * 8;
    } else {
      const run = header / 2;
      if (pos + byteWidth > end) throw new RangeError(`RLE run value past the end`);
      let value = 0;
      for (let i = 0; i < byteWidth; i++) value |= bytes[pos + i] << (8 * i);
      pos += byteWidth;
      if (run === 0) continue;
      const stop = Math.min(count, seen + run);
      out.fill(value & mask, seen, stop);
      seen = stop;
    }
  }
  return pos;
}

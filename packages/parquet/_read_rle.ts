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
      if (width === 1) {
        // Levels of maps and optional columns: one byte is eight values.
        let i = seen;
        for (; i + 8 <= stop; i += 8) {
          const b = bytes[at++];
          out[i] = b & 1;
          out[i + 1] = (b >> 1) & 1;
          out[i + 2] = (b >> 2) & 1;
          out[i + 3] = (b >> 3) & 1;
          out[i + 4] = (b >> 4) & 1;
          out[i + 5] = (b >> 5) & 1;
          out[i + 6] = (b >> 6) & 1;
          out[i + 7] = b >> 7;
        }
        for (let k = 0; i < stop; i++, k++) out[i] = (bytes[at] >> k) & 1;
      } else if (width === 2) {
        let i = seen;
        for (; i + 4 <= stop; i += 4) {
          const b = bytes[at++];
          out[i] = b & 3;
          out[i + 1] = (b >> 2) & 3;
          out[i + 2] = (b >> 4) & 3;
          out[i + 3] = b >> 6;
        }
        for (let k = 0; i < stop; i++, k += 2) out[i] = (bytes[at] >> k) & 3;
      } else {
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

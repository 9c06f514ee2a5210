/**
 * The RLE / bit-packed hybrid decoder for levels and dictionary indices, written for speed:
 * it reads straight from a `Uint8Array` into a typed array, a byte at a time into a 32-bit
 * accumulator. Widths above 24 bits (dictionaries of more than 16M entries) are refused.
 *
 * @module
 */

/** Whether typed arrays are little-endian here (then a word holds bytes in index order). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Per byte of a width-1 run, its bits 0–3 (`LOW`) and 4–7 (`HIGH`) as four 0/1 bytes. */
const LOW = new Uint32Array(256);
const HIGH = new Uint32Array(256);
for (let b = 0; b < 256; b++) {
  for (let k = 0; k < 4; k++) {
    LOW[b] |= ((b >> k) & 1) << (8 * k);
    HIGH[b] |= ((b >> (k + 4)) & 1) << (8 * k);
  }
}
/** Width-1 runs at least this long are unpacked a word at a time. */
const WORD_RUN = 64;

/** Scratch words for runs whose output does not start on a 4-byte boundary. */
const SCRATCH_WORDS = new Uint32Array(1 << 13);
const SCRATCH_BYTES = new Uint8Array(SCRATCH_WORDS.buffer);

/**
 * Unpacks the width-1 values `out[i..)` from `bytes[at..)`, eight per byte, through two 32-bit
 * words per byte, for as many whole bytes as fit before `stop`; `out` is a `Uint8Array`.
 * Returns the index after the last value written.
 */
function unpackBitsWords(
  bytes: Uint8Array,
  at: number,
  out: Uint8Array,
  i: number,
  stop: number,
): number {
  const total = (stop - i) >> 3; // whole input bytes
  if (((out.byteOffset + i) & 3) === 0) {
    const words = new Uint32Array(out.buffer, out.byteOffset + i, total << 1);
    for (let w = 0; w < words.length; w += 2) {
      const b = bytes[at++];
      words[w] = LOW[b];
      words[w + 1] = HIGH[b];
    }
    return i + (total << 3);
  }
  // A word view cannot start here: unpack into aligned scratch, then copy.
  const words = SCRATCH_WORDS;
  let left = total;
  while (left > 0) {
    const chunk = Math.min(left, words.length >> 1);
    for (let w = 0, end = chunk << 1; w < end; w += 2) {
      const b = bytes[at++];
      words[w] = LOW[b];
      words[w + 1] = HIGH[b];
    }
    out.set(SCRATCH_BYTES.subarray(0, chunk << 3), i);
    i += chunk << 3;
    left -= chunk;
  }
  return i;
}

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
  let view: DataView | undefined;
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
        if (LITTLE_ENDIAN && stop - i >= WORD_RUN && out instanceof Uint8Array) {
          const next = unpackBitsWords(bytes, at, out, i, stop);
          at += (next - i) >> 3;
          i = next;
        }
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
        // Each value from the 32-bit little-endian window at its first byte (widths up to
        // 24 plus a shift of up to 7 fit), while the window stays inside the run.
        let i = seen;
        let bit = 0;
        const safe = pos + runBytes - 3;
        view ??= new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (; i < stop; i++) {
          const p = at + (bit >>> 3);
          if (p >= safe) break;
          out[i] = (view.getUint32(p, true) >>> (bit & 7)) & mask;
          bit += width;
        }
        // The last few values: a byte at a time.
        at += bit >>> 3;
        let buf = 0;
        let bits = 0;
        if ((bit & 7) !== 0 && i < stop) {
          buf = bytes[at++] >> (bit & 7);
          bits = 8 - (bit & 7);
        }
        for (; i < stop; i++) {
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

/**
 * The end of a DATA_PAGE (v1) page's levels at `at`: a 4-byte little-endian length, then that
 * many bytes of hybrid runs (which start at `at + 4`). Throws when they pass the page's end.
 */
export function v1LevelsEnd(page: Uint8Array, at: number): number {
  if (at + 4 > page.length) throw new RangeError("levels start past the page end");
  const len = (page[at] | page[at + 1] << 8 | page[at + 2] << 16 | page[at + 3] << 24) >>> 0;
  if (at + 4 + len > page.length) {
    throw new RangeError(`levels claim ${len} bytes past the page end`);
  }
  return at + 4 + len;
}

/**
 * Snappy decompression of Parquet pages.
 *
 * hyparquet ships a Snappy decompressor, but it copies every literal and back reference
 * through a byte-at-a-time helper; on event files (UUID strings: long literals, many short
 * copies) that made it a sixth of the read. This one copies long literals with the
 * typed-array built-in and everything else whole 32-bit words at a time (byte by byte only
 * near the ends and for references to the last 1-3 bytes), and checks every element
 * against both buffers, so a corrupt page is an error, never a silent short page.
 *
 * @module
 */

/** Literals at least this long are copied by the built-in. */
const BULK = 64;

/**
 * Decompresses the raw Snappy data `input` into `output`, which must be exactly as long as
 * the decompressed data. Throws `RangeError` naming the problem when the data is corrupt or
 * its length differs from `output`'s.
 */
export function snappyDecompressInto(input: Uint8Array, output: Uint8Array): void {
  const inEnd = input.length;
  const outEnd = output.length;
  let pos = 0;
  // Preamble: the decompressed length as a varint of at most 5 bytes.
  let declared = 0;
  let scale = 1;
  for (;;) {
    if (pos >= inEnd || pos >= 5) throw new RangeError("snappy: unreadable length header");
    const b = input[pos++];
    declared += (b & 0x7f) * scale;
    scale *= 128;
    if (b < 0x80) break;
  }
  if (declared !== outEnd) {
    throw new RangeError(`snappy: data holds ${declared} bytes where ${outEnd} were expected`);
  }
  const src = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const dst = new DataView(output.buffer, output.byteOffset, output.byteLength);
  let out = 0;
  // One loop, each element checked against both buffers. Elements that leave at least 8
  // bytes of room after them in both buffers copy whole little-endian 32-bit words, the bytes
  // written past an element being overwritten by the next; only elements near either end
  // copy byte by byte. (An earlier version left this word-copying loop for good at the first
  // long literal, so most of a UUID page went byte by byte.)
  const inSafe = inEnd - 8;
  const outSafe = outEnd - 8;
  while (pos < inEnd) {
    const c = input[pos++];
    const kind = c & 3;
    if (kind === 0) {
      let len = c >>> 2;
      if (len >= 60) {
        const n = len - 59;
        if (pos + n > inEnd) throw new RangeError("snappy: literal length past the end");
        len = input[pos];
        if (n > 1) len |= input[pos + 1] << 8;
        if (n > 2) len |= input[pos + 2] << 16;
        if (n > 3) len = (len | input[pos + 3] << 24) >>> 0;
        pos += n;
      }
      len += 1;
      if (pos + len > inEnd) throw new RangeError("snappy: literal past the end of the input");
      if (out + len > outEnd) throw new RangeError("snappy: literal past the end of the output");
      if (len <= 16 && pos + 16 <= inEnd && out + 16 <= outEnd) {
        // Most literals are short: a fixed 16 bytes, no loop to mispredict.
        dst.setInt32(out, src.getInt32(pos, true), true);
        dst.setInt32(out + 4, src.getInt32(pos + 4, true), true);
        dst.setInt32(out + 8, src.getInt32(pos + 8, true), true);
        dst.setInt32(out + 12, src.getInt32(pos + 12, true), true);
      } else if (len >= BULK) {
        output.set(input.subarray(pos, pos + len), out);
      } else if (pos + len <= inSafe && out + len <= outSafe) {
        for (let i = 0; i < len; i += 4) dst.setInt32(out + i, src.getInt32(pos + i, true), true);
      } else {
        for (let i = 0; i < len; i++) output[out + i] = input[pos + i];
      }
      pos += len;
      out += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= inEnd) throw new RangeError("snappy: reference past the end of the input");
      len = ((c >>> 2) & 7) + 4;
      offset = ((c >>> 5) << 8) | input[pos++];
    } else if (kind === 2) {
      if (pos + 2 > inEnd) throw new RangeError("snappy: reference past the end of the input");
      len = (c >>> 2) + 1;
      offset = input[pos] | input[pos + 1] << 8;
      pos += 2;
    } else {
      if (pos + 4 > inEnd) throw new RangeError("snappy: reference past the end of the input");
      len = (c >>> 2) + 1;
      offset = (input[pos] | input[pos + 1] << 8 | input[pos + 2] << 16 | input[pos + 3] << 24) >>>
        0;
      pos += 4;
    }
    if (offset === 0 || offset > out) {
      throw new RangeError(`snappy: reference ${offset} bytes back from byte ${out}`);
    }
    if (out + len > outEnd) throw new RangeError("snappy: reference past the end of the output");
    const from = out - offset;
    if (len <= 16 && offset >= 4 && out + 16 <= outEnd) {
      // Short references likewise: four words in order, each reading bytes already final.
      dst.setInt32(out, dst.getInt32(from, true), true);
      dst.setInt32(out + 4, dst.getInt32(from + 4, true), true);
      dst.setInt32(out + 8, dst.getInt32(from + 8, true), true);
      dst.setInt32(out + 12, dst.getInt32(from + 12, true), true);
    } else if (offset >= 4 && out + len <= outSafe) {
      // Four bytes at a time: each word's source ends before its destination starts, so it
      // reads bytes already final, as the byte-by-byte definition does; the bytes written
      // past the reference are overwritten by the next element.
      for (let i = 0; i < len; i += 4) dst.setInt32(out + i, dst.getInt32(from + i, true), true);
    } else {
      // References to the last 1-3 bytes repeat them: byte order matters.
      for (let i = 0; i < len; i++) output[out + i] = output[from + i];
    }
    out += len;
  }
  if (out !== outEnd) {
    throw new RangeError(`snappy: data ends after ${out} of ${outEnd} bytes`);
  }
}

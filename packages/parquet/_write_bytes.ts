/**
 * Byte-level building blocks of the writer: a reusable growable buffer, bulk UTF-8
 * encoding of strings as PLAIN BYTE_ARRAY values, and the RLE / bit-packed hybrid.
 *
 * Everything here is allocation-aware: buffers grow by doubling and are reused
 * from one row group to the next, and the hot loops touch typed arrays only.
 *
 * @module
 */

const encoder = new TextEncoder();

/** A growable byte buffer, reused across row groups: `reset()` keeps the memory. */
export class Bytes {
  /** The backing bytes; only `[0, pos)` is meaningful. */
  buf: Uint8Array;
  /** A view over {@linkcode Bytes.buf} for multi-byte writes. */
  view: DataView;
  /** Number of bytes written. */
  pos = 0;

  constructor(initialSize = 1 << 16) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Forgets the content, keeps the memory. */
  reset(): void {
    this.pos = 0;
  }

  /** Shrinks the memory back to `size` when it grew past `limit` (after an outlier row group). */
  trim(limit: number, size: number): void {
    if (this.buf.length > limit) {
      this.buf = new Uint8Array(size);
      this.view = new DataView(this.buf.buffer);
    }
    this.pos = 0;
  }

  /** The written bytes, as a view (not a copy). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * Appends `s` as a PLAIN BYTE_ARRAY value (4-byte little-endian length, then UTF-8).
 * ASCII is copied by a plain loop (no call per string into the encoder); the first
 * non-ASCII character hands the whole string to `TextEncoder.encodeInto`.
 *
 * @returns true when the string was pure ASCII
 */
export function appendPlainString(out: Bytes, s: string): boolean {
  const n = s.length;
  out.ensure(4 + n * 3);
  const buf = out.buf;
  const start = out.pos;
  let p = start + 4;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      const { written } = encoder.encodeInto(s, buf.subarray(start + 4));
      out.view.setInt32(start, written, true);
      out.pos = start + 4 + written;
      return false;
    }
    buf[p++] = c;
  }
  const len = p - start - 4;
  buf[start] = len & 0xff;
  buf[start + 1] = (len >>> 8) & 0xff;
  buf[start + 2] = (len >>> 16) & 0xff;
  buf[start + 3] = len >>> 24;
  out.pos = p;
  return true;
}

/** Byte length of `s` in UTF-8 (lone surrogates count as U+FFFD, as `TextEncoder` writes them). */
export function utf8Length(s: string): number {
  let len = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) len += 1;
    else if (c < 0x800) len += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        len += 4;
        i++;
      } else len += 3;
    } else len += 3;
  }
  return len;
}

/**
 * Compares two strings in UTF-8 byte order (= code point order), the order Parquet
 * statistics of BYTE_ARRAY use. JS `<` compares UTF-16 units, which misplaces
 * characters above U+FFFF against U+E000..U+FFFF; this fixes exactly that case.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  return unitRank(a.charCodeAt(i)) - unitRank(b.charCodeAt(i));
}

function unitRank(u: number): number {
  // Surrogates stand for code points >= 0x10000: they sort after U+E000..U+FFFF.
  if (u >= 0xd800 && u <= 0xdfff) return u + 0x2000;
  if (u >= 0xe000) return u - 0x800;
  return u;
}

/** Appends an unsigned LEB128 varint. */
function appendVarint(out: Bytes, value: number): void {
  out.ensure(5);
  const buf = out.buf;
  let p = out.pos;
  while (value > 0x7f) {
    buf[p++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[p++] = value;
  out.pos = p;
}

/**
 * Appends `values[start, end)` in the RLE / bit-packed hybrid encoding (without a length prefix).
 * Runs of 8 or more equal values become RLE runs; everything else is bit-packed in groups of 8.
 *
 * @returns the number of bytes written
 */
export function appendHybrid(
  out: Bytes,
  values: Uint8Array | Uint16Array | Int32Array,
  start: number,
  end: number,
  bitWidth: number,
): number {
  const begin = out.pos;
  const valueBytes = (bitWidth + 7) >> 3;
  let i = start;
  let packedStart = -1;
  let packedGroups = 0;
  while (i < end) {
    const v = values[i];
    let run = 1;
    while (i + run < end && values[i + run] === v) run++;
    if (run >= 8) {
      if (packedGroups > 0) {
        appendPacked(out, values, packedStart, packedGroups, end, bitWidth);
        packedGroups = 0;
      }
      appendVarint(out, run << 1);
      out.ensure(valueBytes);
      for (let b = 0; b < valueBytes; b++) out.buf[out.pos++] = (v >>> (b * 8)) & 0xff;
      i += run;
    } else {
      if (packedGroups === 0) packedStart = i;
      packedGroups++;
      i += 8;
    }
  }
  if (packedGroups > 0) appendPacked(out, values, packedStart, packedGroups, end, bitWidth);
  return out.pos - begin;
}

function appendPacked(
  out: Bytes,
  values: Uint8Array | Uint16Array | Int32Array,
  start: number,
  groups: number,
  end: number,
  bitWidth: number,
): void {
  appendVarint(out, (groups << 1) | 1);
  out.ensure(groups * bitWidth + 1);
  const buf = out.buf;
  let p = out.pos;
  const stop = start + groups * 8;
  if (bitWidth === 1 && stop <= end) {
    // Repetition levels and 0/1 definition levels: one byte per group of 8.
    for (let i = start; i < stop; i += 8) {
      buf[p++] = values[i] | (values[i + 1] << 1) | (values[i + 2] << 2) | (values[i + 3] << 3) |
        (values[i + 4] << 4) | (values[i + 5] << 5) | (values[i + 6] << 6) | (values[i + 7] << 7);
    }
    out.pos = p;
    return;
  }
  let acc = 0;
  let bits = 0;
  for (let i = start; i < stop; i++) {
    const v = i < end ? values[i] : 0;
    acc |= v << bits;
    bits += bitWidth;
    while (bits >= 8) {
      buf[p++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) buf[p++] = acc & 0xff;
  out.pos = p;
}

/** Bits needed to store values up to `max` (at least 1, so no reader meets a zero width). */
export function bitWidthOf(max: number): number {
  let w = 1;
  while (max >= 2 ** w) w++;
  return w;
}

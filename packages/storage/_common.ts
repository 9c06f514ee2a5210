/**
 * Small helpers shared by the memory and local backends (private).
 *
 * @module
 */
import { AbortedError, InvalidArgumentError } from "@eventlake/schema";
import type { ByteRange, ListEntry, ObjectInfo } from "./store.ts";
import { checkKey } from "./keys.ts";

/**
 * Compares two keys the way S3 orders them: by the bytes of their UTF-8 encoding, which is
 * code-point order. Plain `<` on JS strings compares UTF-16 code units, which differs for
 * characters above U+FFFF versus U+E000–U+FFFF; this fixes that case up.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Checks a key that names an object (not a prefix): a safe key that does not end in `/`. */
export function checkObjectKey(key: string): string {
  checkKey(key);
  if (key.endsWith("/")) {
    throw new InvalidArgumentError(
      `Invalid object key "${key}": a key ending in "/" names a prefix, not an object`,
      { details: { key } },
    );
  }
  return key;
}

/** Checks a listing prefix (may be empty) and a delimiter. */
export function checkListArgs(prefix: string, delimiter: string | undefined): void {
  checkKey(prefix, { allowEmpty: true });
  if (delimiter !== undefined && (typeof delimiter !== "string" || delimiter === "")) {
    throw new InvalidArgumentError(
      `Invalid list delimiter "${String(delimiter)}": must be non-empty`,
    );
  }
}

/** Validates a range and clamps it to an object of `size` bytes: returns `[start, end)`. */
export function resolveRange(
  key: string,
  size: number,
  range: ByteRange | undefined,
): [number, number] {
  if (range === undefined) return [0, size];
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new InvalidArgumentError(
      `Invalid byte range of "${key}": offset and length must be non-negative integers, got ${offset} and ${length}`,
      { details: { key, offset, length } },
    );
  }
  const start = Math.min(offset, size);
  return [start, Math.min(size, start + length)];
}

/** The error an operation rejects with when its signal fires. */
export function abortedError(signal: AbortSignal, what: string): AbortedError {
  return new AbortedError(`Aborted: ${what}`, { cause: signal.reason });
}

/** Throws an {@linkcode AbortedError} naming the operation when `signal` has fired. */
export function checkSignal(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(signal, what);
}

/**
 * Folds a lexicographically ordered run of objects under `prefix` by `delimiter`: keys holding
 * the delimiter after the prefix become one `prefix` entry each (emitted where its first key
 * would be, which is its sorted position too).
 */
export async function* foldByDelimiter(
  objects: AsyncIterable<ObjectInfo> | Iterable<ObjectInfo>,
  prefix: string,
  delimiter: string | undefined,
): AsyncGenerator<ListEntry> {
  let last: string | undefined;
  for await (const info of objects) {
    if (delimiter !== undefined) {
      const i = info.key.indexOf(delimiter, prefix.length);
      if (i >= 0) {
        const common = info.key.slice(0, i + delimiter.length);
        if (common !== last) {
          last = common;
          yield { kind: "prefix", prefix: common };
        }
        continue;
      }
    }
    yield { kind: "object", ...info };
  }
}

/** Concatenates chunks into one array. */
export function concatBytes(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0].byteLength === total) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

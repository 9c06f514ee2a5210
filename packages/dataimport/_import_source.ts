/**
 * Byte access to one object of a store: a {@linkcode ByteSource} for our reader and an
 * `AsyncBuffer` for hyparquet (used to read only the `insert_id` column).
 *
 * @module
 */
import type { ByteSource } from "@eventlake/parquet";
import type { ObjectStore } from "@eventlake/storage";

/** A {@linkcode ByteSource} over `key` of `store`, whose size is already known. */
export function storeSource(
  store: ObjectStore,
  key: string,
  size: number,
): ByteSource & { name: string } {
  return {
    name: key,
    size,
    read(offset: number, length: number, options: { signal?: AbortSignal } = {}) {
      const len = Math.max(0, Math.min(length, size - offset));
      if (len === 0) return Promise.resolve(new Uint8Array(0));
      return store.read(key, { range: { offset, length: len }, signal: options.signal });
    },
  };
}

/** hyparquet's `AsyncBuffer` over `key` of `store`. */
export function storeAsyncBuffer(
  store: ObjectStore,
  key: string,
  size: number,
  signal: AbortSignal | undefined,
): { byteLength: number; slice(start: number, end?: number): Promise<ArrayBuffer> } {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      if (stop <= start) return new ArrayBuffer(0);
      const bytes = await store.read(key, {
        range: { offset: start, length: stop - start },
        signal,
      });
      return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? bytes.buffer as ArrayBuffer
        : bytes.slice().buffer as ArrayBuffer;
    },
  };
}

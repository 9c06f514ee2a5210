/**
 * Byte access to one object of a store: a {@linkcode ByteSource} for our reader and an
 * `AsyncBuffer` for hyparquet (used to read only the `insert_id` column).
 *
 * @module
 */
import type { ByteSource } from "@eventlake/parquet";
import type { ObjectStore } from "@eventlake/storage";

/**
 * A {@linkcode ByteSource} over `key` of `store`, whose size is already known. Its `readInto`
 * reads a local store's file straight into the caller's buffer (a BYOB read of
 * `readStream`, which transfers the buffer); other stores read a range and copy it.
 */
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
    async readInto(offset: number, target: Uint8Array, options: { signal?: AbortSignal } = {}) {
      const len = Math.max(0, Math.min(target.byteLength, size - offset));
      if (len === 0) return target.subarray(0, 0);
      const range = { offset, length: len };
      if (!store.url.startsWith("file:")) {
        const bytes = await store.read(key, { range, signal: options.signal });
        const filled = target.subarray(0, Math.min(bytes.byteLength, len));
        filled.set(bytes.subarray(0, filled.byteLength));
        return filled;
      }
      const reader = (await store.readStream(key, { range, signal: options.signal }))
        .getReader({ mode: "byob" });
      // Read before the first read: a transfer detaches `target` (its byteOffset becomes 0).
      const base = target.byteOffset;
      let buffer = target.buffer as ArrayBuffer;
      let got = 0;
      try {
        while (got < len) {
          const { done, value } = await reader.read(
            new Uint8Array(buffer, base + got, len - got),
          );
          if (value !== undefined) buffer = value.buffer as ArrayBuffer;
          if (done) break;
          got += value.byteLength;
        }
      } finally {
        // Closes the file when the read stopped early (abort, failure).
        if (got < len) await reader.cancel().catch(() => {});
        reader.releaseLock();
      }
      return new Uint8Array(buffer, base, got);
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

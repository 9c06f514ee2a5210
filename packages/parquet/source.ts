/**
 * Random-access byte sources for Parquet readers.
 *
 * @module
 */

/**
 * Random access to the bytes of one file: a local file, an object-store key read by ranges,
 * or bytes in memory. Readers fetch the footer first, then one column chunk at a time.
 */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Reads `length` bytes at `offset` (fewer only at the end of the source). */
  read(offset: number, length: number, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /**
   * Optional: reads up to `target.byteLength` bytes at `offset` into `target`'s memory and
   * resolves to the filled part (shorter only at the end of the source), so a reader can reuse
   * one buffer instead of getting a fresh one per read. A source may transfer `target`'s
   * `ArrayBuffer` (as a BYOB stream reader does): use the result, which views the same memory
   * at the same offset, and not `target`, afterwards. Readers call {@linkcode ByteSource.read}
   * when a source has no `readInto`.
   */
  readInto?(
    offset: number,
    target: Uint8Array,
    options?: { signal?: AbortSignal },
  ): Promise<Uint8Array>;
}

/**
 * A {@linkcode ByteSource} over bytes already in memory.
 *
 * @example
 * ```ts
 * import { bytesSource } from "@eventlake/parquet";
 * const src = bytesSource(new Uint8Array([1, 2, 3]));
 * console.log(src.size, await src.read(1, 2)); // 3 Uint8Array(2) [ 2, 3 ]
 * ```
 */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read(offset: number, length: number): Promise<Uint8Array> {
      return Promise.resolve(bytes.subarray(offset, Math.min(offset + length, bytes.byteLength)));
    },
  };
}

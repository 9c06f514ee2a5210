/**
 * A Parquet {@linkcode ByteSource} over one object of an {@linkcode ObjectStore}, read by ranges.
 *
 * @module
 */
import type { ByteSource } from "@eventlake/parquet";
import type { ObjectInfo, ObjectStore } from "@eventlake/storage";

/** A byte source reading `object` from `store` by ranges; `name` names it in errors. */
export function storeSource(
  store: ObjectStore,
  object: ObjectInfo,
): ByteSource & { name: string } {
  return {
    name: object.key,
    size: object.size,
    read: (offset, length, options) =>
      store.read(object.key, { range: { offset, length }, signal: options?.signal }),
  };
}

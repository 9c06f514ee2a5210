/**
 * Result buckets: the service resolves the `bucketName` of a request to an object store.
 *
 * @module
 */
import type { ObjectStore, SignalOptions } from "@eventlake/storage";

/** Where a named bucket's objects live: a store, and a key prefix inside it. */
export interface ResolvedBucket {
  /** The store that holds the bucket's objects. */
  store: ObjectStore;
  /** Key prefix of the bucket inside `store` (`""` or ending in `/`). */
  prefix?: string;
}

/** Resolves bucket names. An unknown bucket resolves to `undefined`. */
export interface BucketResolver {
  /** The bucket called `name`, or `undefined` when there is none. */
  resolve(name: string, options?: SignalOptions): Promise<ResolvedBucket | undefined>;
}

/**
 * A resolver over a fixed set of buckets, e.g. from the service configuration.
 *
 * @example
 * ```ts
 * import { createStaticBucketResolver } from "@eventlake/dataquery";
 * const resolver = createStaticBucketResolver({});
 * console.log(await resolver.resolve("missing")); // undefined
 * ```
 */
export function createStaticBucketResolver(
  buckets: Record<string, ObjectStore | ResolvedBucket>,
): BucketResolver {
  const table = new Map<string, ResolvedBucket>();
  for (const [name, value] of Object.entries(buckets)) {
    const bucket: ResolvedBucket = "store" in value ? value : { store: value };
    if (bucket.prefix !== undefined && bucket.prefix !== "" && !bucket.prefix.endsWith("/")) {
      throw new TypeError(`Invalid prefix of bucket "${name}": must be empty or end in "/"`);
    }
    table.set(name, bucket);
  }
  return {
    resolve(name: string): Promise<ResolvedBucket | undefined> {
      return Promise.resolve(table.get(name));
    },
  };
}

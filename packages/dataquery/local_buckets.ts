/**
 * The embedded default of result buckets: every folder directly under a root folder
 * (`$EVENTLAKE_HOME/buckets/` by convention) is a bucket of that name, stored with the local
 * backend of `@eventlake/storage`.
 *
 * @module
 */
import { join } from "node:path";
import { PermissionDeniedError } from "@eventlake/schema";
import { createLocalStore, type ObjectStore } from "@eventlake/storage";
import type { BucketResolver, ResolvedBucket } from "./buckets.ts";

/** Options of {@linkcode createLocalBucketResolver}. */
export interface LocalBucketResolverOptions {
  /** Passed to the local stores: fsync every write (default true). */
  durable?: boolean;
}

const BUCKET_RE = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/**
 * Resolves a bucket name to the folder `<root>/<name>/`; a name with no such folder is unknown.
 * Folders are looked up on every call, so a bucket made while the service runs is found.
 *
 * @example
 * ```ts
 * import { createLocalBucketResolver } from "@eventlake/dataquery";
 * const home = await Deno.makeTempDir();
 * await Deno.mkdir(`${home}/buckets/test-bucket`, { recursive: true });
 * const buckets = createLocalBucketResolver(`${home}/buckets`);
 * console.log((await buckets.resolve("test-bucket")) !== undefined); // true
 * console.log(await buckets.resolve("missing")); // undefined
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export function createLocalBucketResolver(
  root: string,
  options: LocalBucketResolverOptions = {},
): BucketResolver {
  if (typeof root !== "string" || root === "") {
    throw new TypeError(`Invalid bucket root "${String(root)}": must be a folder path`);
  }
  const stores = new Map<string, ObjectStore>();
  return {
    async resolve(name: string): Promise<ResolvedBucket | undefined> {
      if (!BUCKET_RE.test(name) || name.includes("..")) return undefined;
      const dir = join(root, name);
      try {
        if (!(await Deno.stat(dir)).isDirectory) return undefined;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        if (e instanceof Deno.errors.PermissionDenied) {
          throw new PermissionDeniedError(
            `No permission on bucket "${name}": cannot open its folder`,
            {
              cause: e,
              details: { bucketName: name },
            },
          );
        }
        throw e;
      }
      let store = stores.get(name);
      if (!store) {
        store = createLocalStore(dir, { durable: options.durable });
        stores.set(name, store);
      }
      return { store };
    },
  };
}

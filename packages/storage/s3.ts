/**
 * The S3 backend (placeholder; being implemented).
 *
 * @module
 */
import type { ObjectStore } from "./store.ts";
import { InternalError } from "@eventlake/schema";

/** Options of {@linkcode createS3Store}. */
export interface S3StoreOptions {
  /** Bucket name. */
  bucket: string;
  /** AWS region, e.g. `us-east-1`. */
  region?: string;
  /** Custom endpoint for S3-compatible stores, e.g. `http://127.0.0.1:8080`. */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible stores. */
  forcePathStyle?: boolean;
  /** Static credentials; when absent the standard AWS environment/profile chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * Creates an {@linkcode ObjectStore} over one S3 bucket.
 *
 * @example
 * ```ts ignore
 * import { createS3Store } from "@eventlake/storage";
 * const store = createS3Store({ bucket: "my-bucket", region: "us-east-1" });
 * ```
 */
export function createS3Store(options: S3StoreOptions): ObjectStore {
  throw new InternalError(`S3 store for "${options.bucket}" is not implemented yet`);
}

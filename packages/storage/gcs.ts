/**
 * The Google Cloud Storage backend (placeholder; being implemented).
 *
 * @module
 */
import type { ObjectStore } from "./store.ts";
import { InternalError } from "@eventlake/schema";

/** Options of {@linkcode createGcsStore}. */
export interface GcsStoreOptions {
  /** Bucket name. */
  bucket: string;
  /** Google Cloud project id. */
  projectId?: string;
  /** A service-account key: a path to the JSON file. */
  keyFilename?: string;
  /** A service-account key: the parsed JSON (client_email, private_key, …). */
  credentials?: Record<string, unknown>;
  /** API endpoint, e.g. an emulator at `http://127.0.0.1:9199`. */
  apiEndpoint?: string;
}

/**
 * Creates an {@linkcode ObjectStore} over one GCS bucket.
 *
 * @example
 * ```ts ignore
 * import { createGcsStore } from "@eventlake/storage";
 * const store = createGcsStore({ bucket: "my-bucket" });
 * ```
 */
export function createGcsStore(options: GcsStoreOptions): ObjectStore {
  throw new InternalError(`GCS store for "${options.bucket}" is not implemented yet`);
}

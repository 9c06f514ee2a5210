/**
 * `@eventlake/storage` — one object-store interface over a local folder, S3, GCS and memory,
 * with the `dt=` partition protocol of the Data Import format.
 *
 * - Stores: {@linkcode createLocalStore} (a folder, the embedded default), {@linkcode createS3Store},
 *   {@linkcode createGcsStore}, {@linkcode createMemoryStore}; {@linkcode openStore} parses
 *   `file://`, `s3://`, `gs://`/`gcs://` addresses.
 * - File transfers: {@linkcode uploadFile} (a local file to a key) and {@linkcode downloadFile}
 *   (a key to a local file, through a temporary file renamed into place, so the target never
 *   holds a part). The local store copies in the kernel (`Deno.copyFile`); the others stream the
 *   file through their write (S3 multipart, GCS resumable) and read, in bounded memory.
 * - Partitions: {@linkcode openPartitionWriter}, {@linkcode partitionStatus},
 *   {@linkcode listPartitionDates}, {@linkcode listPartitionParts}.
 *
 * @example
 * ```ts
 * import { checkKey } from "@eventlake/storage";
 * console.log(checkKey("events/dt=2023-01-01/000000000000.parquet")); // "events/dt=2023-01-01/000000000000.parquet"
 * ```
 *
 * @example Upload a local file and download it again
 * ```ts
 * import { createLocalStore, downloadFile, uploadFile } from "@eventlake/storage";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/day.ndjson`, "{}\n");
 * const store = createLocalStore(`${dir}/bucket`);
 * await uploadFile(store, "incoming/day.ndjson", `${dir}/day.ndjson`);
 * await downloadFile(store, "incoming/day.ndjson", `${dir}/copy.ndjson`);
 * console.log(await Deno.readTextFile(`${dir}/copy.ndjson`)); // "{}\n"
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export type * from "./store.ts";
export * from "./keys.ts";
export * from "./lake.ts";
export * from "./memory.ts";
export * from "./local.ts";
export * from "./partition.ts";
export * from "./retry.ts";
export * from "./transfer.ts";
export * from "./url.ts";
export * from "./s3.ts";
export * from "./gcs.ts";

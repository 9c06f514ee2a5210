/**
 * File transfers: upload a local file to a key, download a key to a local file — what
 * `aws s3 cp` and GCS `bucket.upload` / `file.download` do, for every {@linkcode ObjectStore}.
 *
 * A store with a fast path of its own (the local-folder store copies in the kernel with
 * `Deno.copyFile`) uses it; every other store streams the file through its own
 * {@linkcode ObjectStore.write} (a multipart upload on S3, a resumable one on GCS) and
 * {@linkcode ObjectStore.readStream}, in 1 MiB chunks, never holding the whole file.
 *
 * - **Atomic at the destination**: a download writes a temporary file beside the target and
 *   renames it over the target at the end, so the target holds the old file or the whole new one
 *   and never a part, even when the download fails or is aborted. An upload is as atomic as the
 *   store's write (all of them: a reader sees the old object or the new one).
 * - **Errors**: the store's typed errors (`NotFoundError` for a missing key,
 *   `PermissionDeniedError`, `InvalidArgumentError` for a bad key, `AbortedError`), and for the
 *   local file a clear error naming its path: `NotFoundError` when the file to upload or the
 *   download's folder does not exist (a download does not make folders), `InvalidArgumentError`
 *   when the path is a folder, `PermissionDeniedError` when it cannot be read or written.
 *
 * @module
 */
import { resolve } from "node:path";
import { InvalidArgumentError } from "@eventlake/schema";
import type { DownloadFileOptions, ObjectInfo, ObjectStore, UploadFileOptions } from "./store.ts";
import { checkObjectKey, checkSignal } from "./_common.ts";
import { checkTargetPath, CHUNK, fileReadable, openSourceFile, streamToFile } from "./_files.ts";
import { mapPathError } from "./_local_errors.ts";

/**
 * Uploads the local file at `path` to `key` (replacing any object there) and returns the new
 * object's facts.
 *
 * @example
 * ```ts
 * import { createMemoryStore, uploadFile } from "@eventlake/storage";
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "hello");
 * const store = createMemoryStore();
 * const info = await uploadFile(store, "greetings/hello.txt", path);
 * console.log(info.size); // 5
 * await Deno.remove(path);
 * ```
 */
export async function uploadFile(
  store: ObjectStore,
  key: string,
  path: string,
  options: UploadFileOptions = {},
): Promise<ObjectInfo> {
  checkPath(path, "upload", key);
  if (typeof store.uploadFile === "function") return await store.uploadFile(key, path, options);
  const action = `Cannot upload "${path}" to "${key}" in ${store.url}`;
  checkSignal(options.signal, `upload "${path}" to "${key}" in ${store.url}`);
  checkObjectKey(key);
  const { file, size } = await openSourceFile(resolve(path), action);
  const stream = fileReadable(file, 0, size, {
    chunkSize: CHUNK,
    signal: options.signal,
    what: `upload "${path}" to "${key}" in ${store.url}`,
    onError: (e) => mapPathError(e, action, path),
  });
  try {
    return await store.write(key, stream, options);
  } finally {
    // A write that failed before it read the stream leaves the file open: cancel closes it.
    if (!stream.locked) await stream.cancel().catch(() => {});
  }
}

/**
 * Downloads `key` to the local file `path` (its folder must exist; a file there is replaced,
 * atomically) and returns the object's key and size.
 *
 * @example
 * ```ts
 * import { createMemoryStore, downloadFile } from "@eventlake/storage";
 * const store = createMemoryStore();
 * await store.write("greetings/hello.txt", new TextEncoder().encode("hello"));
 * const dir = await Deno.makeTempDir();
 * await downloadFile(store, "greetings/hello.txt", `${dir}/hello.txt`);
 * console.log(await Deno.readTextFile(`${dir}/hello.txt`)); // "hello"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function downloadFile(
  store: ObjectStore,
  key: string,
  path: string,
  options: DownloadFileOptions = {},
): Promise<ObjectInfo> {
  checkPath(path, "download", key);
  if (typeof store.downloadFile === "function") {
    return await store.downloadFile(key, path, options);
  }
  const what = `download "${key}" from ${store.url} to "${path}"`;
  const action = `Cannot ${what}`;
  checkSignal(options.signal, what);
  checkObjectKey(key);
  const target = resolve(path);
  await checkTargetPath(target, action);
  const { signal } = options;
  const stream = await store.readStream(key, { signal });
  const size = await streamToFile(stream, target, {
    durable: options.durable ?? true,
    signal,
    action,
    what,
  });
  return { key, size };
}

function checkPath(path: string, op: string, key: string): void {
  if (typeof path !== "string" || path === "" || path.includes("\0")) {
    throw new InvalidArgumentError(
      `Cannot ${op} "${key}": invalid local path ${JSON.stringify(String(path))}`,
      { details: { key } },
    );
  }
}

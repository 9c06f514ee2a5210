/**
 * The S3 backend in the storage benchmark (`scripts/bench/storage.ts` finds this module):
 * OpenStack Swift with s3api, started on 127.0.0.1 for the run (`scripts/s3-server/start.sh`)
 * and stopped by PID. Swift keeps its data on `/dev/shm` when there is one (its object server
 * fsyncs every object on its event loop), and runs as separate Python processes, so the peak RSS
 * is that of our client alone. Uploads are multipart (8 MiB parts, 4 in flight).
 *
 * @module
 */
import type { StorageBenchBackend } from "./storage.ts";
import { createS3Store } from "@eventlake/storage";
import { S3_OWNER, startS3Server } from "../../packages/storage/_s3_server.ts";

export const backend: StorageBenchBackend = {
  name: "s3 (Swift s3api, data on /dev/shm)",
  async open() {
    const server = await startS3Server();
    if (typeof server === "string") return server;
    const bucket = "eventlake-bench";
    await server.createBucket(bucket);
    const store = createS3Store({
      bucket,
      region: "us-east-1",
      endpoint: server.endpoint,
      forcePathStyle: true,
      credentials: { ...S3_OWNER },
    });
    return { store, prefix: "bench/", close: () => Promise.resolve(server.stop()) };
  },
};

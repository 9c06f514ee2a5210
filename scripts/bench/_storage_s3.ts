/**
 * The S3 backend in the storage benchmark (`scripts/bench/storage.ts` finds this module):
 * OpenStack Swift with s3api, started on 127.0.0.1 for the run (`scripts/s3-server/start.sh`)
 * and stopped by PID. Swift keeps its data on `/dev/shm` when there is one (its object server
 * fsyncs every object on its event loop), and runs as separate Python processes, so the peak RSS
 * is that of our client alone. Uploads are multipart (8 MiB parts, 4 in flight). Each transfer
 * runs in a child process that `connect`s to the server started here.
 *
 * @module
 */
import type { StorageBenchBackend } from "./storage.ts";
import { createS3Store, type S3Store } from "@eventlake/storage";
import { S3_OWNER, startS3Server } from "../../packages/storage/_s3_server.ts";

export const backend: StorageBenchBackend = {
  name: "s3 (Swift s3api, data on /dev/shm)",
  async open() {
    const server = await startS3Server();
    if (typeof server === "string") return server;
    const bucket = "eventlake-bench";
    await server.createBucket(bucket);
    const connection = { endpoint: server.endpoint, bucket };
    return {
      store: connect(connection),
      prefix: "bench/",
      connection,
      close: () => Promise.resolve(server.stop()),
    };
  },
  connect: (connection) => connect(connection as { endpoint: string; bucket: string }),
};

function connect({ endpoint, bucket }: { endpoint: string; bucket: string }): S3Store {
  return createS3Store({
    bucket,
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: { ...S3_OWNER },
  });
}

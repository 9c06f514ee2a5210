/**
 * The GCS backend in the storage benchmark (`scripts/bench/storage.ts` finds this module): the
 * Cloud Storage emulator of firebase-tools, started on 127.0.0.1 for the run and stopped by PID.
 *
 * The emulator refuses one-request bodies over 130 MB and finalizes a resumable upload on its
 * first chunk, so chunked uploads cannot pass it. Our store streams a resumable upload as ONE
 * PUT without a Content-Type, which the emulator's size-limited body parser leaves alone: 256 MB
 * objects do upload (and read back intact). The emulator runs in its own Node process, so the
 * peak RSS is that of our client (plus the benchmark's own buffers). Each transfer runs in a
 * child process that `connect`s to the emulator started here.
 *
 * @module
 */
import type { StorageBenchBackend } from "./storage.ts";
import { createGcsStore, type ObjectStore } from "@eventlake/storage";
import { startGcsEmulator } from "../../packages/storage/_gcs_server.ts";

export const backend: StorageBenchBackend = {
  name: "gcs (firebase-tools emulator)",
  async open() {
    const emulator = await startGcsEmulator();
    if (typeof emulator === "string") return emulator;
    const connection = { endpoint: emulator.endpoint };
    return {
      store: connect(connection),
      prefix: "bench/",
      connection,
      close: () => Promise.resolve(emulator.stop()),
    };
  },
  connect: (connection) => connect(connection as { endpoint: string }),
};

function connect({ endpoint }: { endpoint: string }): ObjectStore {
  return createGcsStore({
    bucket: "eventlake-bench",
    apiEndpoint: endpoint,
    projectId: "demo-test",
  });
}

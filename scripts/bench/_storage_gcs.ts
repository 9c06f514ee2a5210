/**
 * The GCS backend in the storage benchmark (`scripts/bench/storage.ts` finds this module): the
 * Cloud Storage emulator of firebase-tools, started on 127.0.0.1 for the run and stopped by PID.
 *
 * The emulator refuses request bodies over 130 MB and finalizes a resumable upload on its first
 * chunk (no chunked uploads), so a 256 MB object cannot be uploaded to it at all: the largest
 * size measured is 128 MB (`--mb 128`). The emulator runs in its own Node process, so the peak
 * RSS is that of our client alone.
 *
 * @module
 */
import type { StorageBenchBackend } from "./storage.ts";
import { createGcsStore } from "@eventlake/storage";
import { startGcsEmulator } from "../../packages/storage/_gcs_server.ts";

/** The emulator's body limit ("130mb" in its body parser), rounded down to whole MiB sizes. */
const EMULATOR_MAX_BYTES = 128 * 2 ** 20;

export const backend: StorageBenchBackend = {
  name: "gcs (firebase-tools emulator)",
  maxBytes: EMULATOR_MAX_BYTES,
  async open() {
    const emulator = await startGcsEmulator();
    if (typeof emulator === "string") return emulator;
    const store = createGcsStore({
      bucket: "eventlake-bench",
      apiEndpoint: emulator.endpoint,
      projectId: "demo-test",
    });
    return { store, prefix: "bench/", close: () => Promise.resolve(emulator.stop()) };
  },
};

/**
 * End to end against the Cloud Storage emulator (scripts/gcs-emulator): export every input
 * format to `gcs://`, validate, break days, validate again.
 */
import { startGcsEmulator } from "../packages/storage/_gcs_server.ts";
import { objectStoreScenario } from "./_export_validate_helpers.ts";

const emulator = await startGcsEmulator();
const ignore = typeof emulator === "string";
if (typeof emulator === "string") console.warn(`GCS export/validate tests skipped: ${emulator}`);

Deno.test({
  name:
    "export to GCS (emulator) and validate: ready days pass; withheld, corrupt, duplicate and non-empty _SUCCESS are named",
  ignore,
  // The SDK keeps pooled sockets and timers between calls: the sanitizers cannot apply.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (typeof emulator === "string") return;
    try {
      await objectStoreScenario("gcs://eventlake-export/test/prefix-custom", {
        STORAGE_EMULATOR_HOST: emulator.endpoint,
        GOOGLE_CLOUD_PROJECT: "demo-test",
      });
    } finally {
      emulator.stop();
    }
  },
});

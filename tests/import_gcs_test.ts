/**
 * End to end against the Cloud Storage emulator (scripts/gcs-emulator): the importer's whole
 * scenario (see `_import_helpers.ts`) with the source on GCS.
 */
import { startGcsEmulator } from "../packages/storage/_gcs_server.ts";
import { importScenario } from "./_import_helpers.ts";

const emulator = await startGcsEmulator();
const ignore = typeof emulator === "string";
if (typeof emulator === "string") console.warn(`GCS import tests skipped: ${emulator}`);

Deno.test({
  name:
    "import from GCS: check, run, re-run, missing, late _SUCCESS, duplicates, bad rows, corrupt and wrong-schema parts, abort, DuckDB-written part",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (typeof emulator === "string") return;
    try {
      await importScenario(
        "gs://customer-data-hackle/test/prefix-custom",
        { gcs: { apiEndpoint: emulator.endpoint, projectId: "demo-test" } },
        { STORAGE_EMULATOR_HOST: emulator.endpoint },
      );
    } finally {
      emulator.stop();
    }
  },
});

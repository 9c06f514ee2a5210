/**
 * End to end with a local-folder source: the importer's whole scenario (see `_import_helpers.ts`).
 */
import { importScenario } from "./_import_helpers.ts";

Deno.test({
  name:
    "import from a local folder: check, run, re-run, missing, late _SUCCESS, duplicates, bad rows, corrupt and wrong-schema parts, abort, DuckDB-written part",
  // DuckDB's native instance keeps threads between tests.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "eventlake-import-src-" });
    try {
      await importScenario(`file://${dir}`, {}, {});
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * End to end against the real S3 server (OpenStack Swift + s3api, started by scripts/s3-server):
 * the importer's whole scenario (see `_import_helpers.ts`) with the source on S3.
 */
import { S3_OWNER, startS3Server } from "../packages/storage/_s3_server.ts";
import { importScenario } from "./_import_helpers.ts";

const server = await startS3Server();
const ignore = typeof server === "string";
if (typeof server === "string") console.warn(`S3 import tests skipped: ${server}`);
const BUCKET = "eventlake-import";
if (typeof server !== "string") await server.createBucket(BUCKET);

Deno.test({
  name:
    "import from S3: check, run, re-run, missing, late _SUCCESS, duplicates, bad rows, corrupt and wrong-schema parts, abort, DuckDB-written part",
  ignore,
  // The AWS SDK keeps pooled sockets between calls: the sanitizers cannot apply.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (typeof server === "string") return;
    try {
      const credentials = {
        accessKeyId: S3_OWNER.accessKeyId,
        secretAccessKey: S3_OWNER.secretAccessKey,
      };
      await importScenario(
        `s3://${BUCKET}/test/prefix-custom`,
        {
          s3: { endpoint: server.endpoint, region: "us-east-1", forcePathStyle: true, credentials },
        },
        {
          AWS_ENDPOINT_URL_S3: server.endpoint,
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        },
      );
    } finally {
      server.stop();
    }
  },
});

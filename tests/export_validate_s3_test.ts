/**
 * End to end against the real S3 server (OpenStack Swift + s3api, started by
 * scripts/s3-server): export every input format, validate, break days, validate again.
 */
import { S3_OWNER, startS3Server } from "../packages/storage/_s3_server.ts";
import { objectStoreScenario } from "./_export_validate_helpers.ts";

const server = await startS3Server();
const ignore = typeof server === "string";
if (typeof server === "string") console.warn(`S3 export/validate tests skipped: ${server}`);
const BUCKET = "eventlake-export";
if (typeof server !== "string") await server.createBucket(BUCKET);

Deno.test({
  name:
    "export to S3 and validate: ready days pass; withheld, corrupt, duplicate and non-empty _SUCCESS are named",
  ignore,
  // The AWS SDK keeps pooled sockets between calls: the sanitizers cannot apply.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (typeof server === "string") return;
    try {
      await objectStoreScenario(`s3://${BUCKET}/lake`, {
        AWS_ENDPOINT_URL: server.endpoint,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: S3_OWNER.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3_OWNER.secretAccessKey,
      });
    } finally {
      server.stop();
    }
  },
});

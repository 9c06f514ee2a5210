// Test-only: runs the Cloud Storage emulator of firebase-tools (pinned in package.json) as a plain
// Node module, without Java. The emulator's GCS JSON API routes (/storage/v1, /upload/storage/v1,
// /download/storage/v1) never evaluate security rules, so the Java rules runtime is replaced by
// no-ops. Usage: node server.mjs PORT DIR [OWNER_PID] — binds 127.0.0.1 only, keeps blobs under
// DIR, prints "ready PORT" on stdout once it accepts requests, and stops cleanly on SIGTERM/SIGINT
// or, when OWNER_PID is given, once that process is gone (a test runner that crashed) — then it
// also removes DIR, which nobody else is left to clean up: give it a folder of its own.
import { createRequire } from "node:module";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [portArg, dirArg, ownerArg] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port <= 0 || port > 65535 || !dirArg) {
  console.error(
    `Usage: node server.mjs PORT DIR (got port "${portArg ?? ""}", dir "${dirArg ?? ""}")`,
  );
  process.exit(2);
}
mkdirSync(dirArg, { recursive: true });
// The emulator keeps blobs in `${os.tmpdir()}/firebase/storage/blobs`; os.tmpdir() reads TMPDIR.
process.env.TMPDIR = dirArg;

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "package.json"));
const lib = "firebase-tools/lib/emulator";
const { StorageRulesRuntime } = require(`${lib}/storage/rules/runtime`);
const { StorageEmulator } = require(`${lib}/storage/index`);
const { EmulatorRegistry } = require(`${lib}/registry`);

StorageRulesRuntime.prototype.start = async function () {};
StorageRulesRuntime.prototype.stop = async function () {};
StorageEmulator.prototype.createRulesManager = function () {
  return {
    start: async () => {},
    stop: async () => {},
    getRuleset: () => undefined,
    setSourceFile: async () => {},
  };
};

const emulator = new StorageEmulator({
  host: "127.0.0.1",
  port,
  projectId: "demo-test",
  auto_download: false,
});

let stopping = false;
async function stop(code, removeDir = false) {
  if (stopping) return;
  stopping = true;
  try {
    await EmulatorRegistry.stopAll();
  } catch (e) {
    console.error(`gcs-emulator: stop failed: ${e?.message ?? e}`);
  }
  if (removeDir) rmSync(dirArg, { recursive: true, force: true });
  process.exit(code);
}
process.on("SIGTERM", () => stop(0));
process.on("SIGINT", () => stop(0));

try {
  await EmulatorRegistry.start(emulator);
} catch (e) {
  console.error(`gcs-emulator: cannot start on 127.0.0.1:${port}: ${e?.message ?? e}`);
  process.exit(1);
}
console.log(`ready ${port}`);

const owner = Number(ownerArg);
if (ownerArg !== undefined && Number.isInteger(owner) && owner > 0) {
  setInterval(() => {
    try {
      process.kill(owner, 0);
    } catch {
      stop(0, true);
    }
  }, 1000).unref();
}

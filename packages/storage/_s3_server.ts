/**
 * Test-side helper: starts the throwaway S3 server (OpenStack Swift + s3api, via
 * `scripts/s3-server/start.sh`) once per test module in a temporary folder, and stops it by the
 * PIDs the script wrote (on demand, and on unload as a fallback). Not part of the published
 * package.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPTS = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/s3-server");

/** Access key and secret of a tempauth user of the test server. */
export interface S3TestUser {
  /** Access key id, `account:user`. */
  accessKeyId: string;
  /** Secret access key. */
  secretAccessKey: string;
}

/** The owner of the test buckets (admin of account `AUTH_test`). */
export const S3_OWNER: S3TestUser = { accessKeyId: "test:tester", secretAccessKey: "testing" };
/** A user of the same account with no rights on any bucket: every request gets 403. */
export const S3_NO_RIGHTS: S3TestUser = { accessKeyId: "test:reader", secretAccessKey: "reading" };

/** A running test server. */
export interface S3TestServer {
  /** `http://127.0.0.1:PORT`: the S3 endpoint (path-style, region `us-east-1`). */
  endpoint: string;
  /** Creates a bucket owned by {@linkcode S3_OWNER} (through Swift's own API); idempotent. */
  createBucket(name: string): Promise<void>;
  /** Stops the server by its PIDs and removes its folder (also done on unload). */
  stop(): void;
}

/**
 * Starts the server, or returns why it cannot (then the caller registers its tests as ignored
 * and prints the reason).
 */
export async function startS3Server(): Promise<S3TestServer | string> {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-s3-", dir: await memoryDir() });
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    globalThis.removeEventListener("unload", stop);
    try {
      new Deno.Command("bash", {
        args: [join(SCRIPTS, "stop.sh"), dir],
        stdout: "null",
        stderr: "null",
      }).outputSync();
    } catch {
      // bash is gone: nothing more can be done from here
    }
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already removed
    }
  };
  globalThis.addEventListener("unload", stop);
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("bash", {
      args: [join(SCRIPTS, "start.sh"), dir],
      stdout: "piped",
      stderr: "piped",
      env: { RUST_BACKTRACE: "" },
    }).output();
  } catch (e) {
    stop();
    return `cannot run scripts/s3-server/start.sh: ${(e as Error).message}`;
  }
  if (!out.success) {
    stop();
    const why = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" / ");
    return out.code === 2
      ? `the S3 server (Swift) is not installed: ${why}`
      : `the S3 server (Swift) did not start: ${why || `exit code ${out.code}`}`;
  }
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const endpoint = lines[lines.length - 1];
  return { endpoint, createBucket: (name) => createBucket(endpoint, name), stop };
}

/**
 * A RAM-backed folder (`/dev/shm`) when there is one: Swift's object server calls fsync() on
 * its event loop for every PUT, which on a disk makes each write wait for the device.
 */
async function memoryDir(): Promise<string | undefined> {
  try {
    const info = await Deno.stat("/dev/shm");
    if (!info.isDirectory) return undefined;
    const probe = await Deno.makeTempDir({ dir: "/dev/shm", prefix: "eventlake-probe-" });
    await Deno.remove(probe);
    return "/dev/shm";
  } catch {
    return undefined;
  }
}

async function createBucket(endpoint: string, name: string): Promise<void> {
  const auth = await fetch(`${endpoint}/auth/v1.0`, {
    headers: { "X-Auth-User": S3_OWNER.accessKeyId, "X-Auth-Key": S3_OWNER.secretAccessKey },
  });
  await auth.body?.cancel();
  const token = auth.headers.get("x-auth-token");
  const storageUrl = auth.headers.get("x-storage-url");
  if (!auth.ok || !token || !storageUrl) {
    throw new Error(`Cannot log in to the test S3 server: status ${auth.status}`);
  }
  const put = await fetch(`${storageUrl}/${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: { "X-Auth-Token": token },
  });
  await put.body?.cancel();
  if (!put.ok) throw new Error(`Cannot create bucket "${name}": status ${put.status}`);
}

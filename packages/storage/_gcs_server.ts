/**
 * Test-side helper: starts the Cloud Storage emulator (`scripts/gcs-emulator/start.sh`) on a free
 * 127.0.0.1 port with its blobs in a temporary folder, and stops it by PID when the test process
 * unloads (and, should this process die first, the emulator notices and exits). Not part of the
 * published package.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPTS = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/gcs-emulator");

/** A running emulator. */
export interface GcsEmulator {
  /** `http://127.0.0.1:PORT`, for `apiEndpoint`. */
  endpoint: string;
  /** Stops the emulator by its PID and removes its folder (also done on unload). */
  stop(): void;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts the emulator, or returns why it cannot (then the caller registers its tests as ignored
 * and prints the reason).
 */
export async function startGcsEmulator(): Promise<GcsEmulator | string> {
  try {
    await Deno.stat(join(SCRIPTS, "node_modules/firebase-tools/package.json"));
  } catch {
    return "the GCS emulator is not installed (run scripts/install/gcs.sh)";
  }
  const dir = await Deno.makeTempDir({ prefix: "eventlake-gcs-" });
  const stop = () => {
    try {
      new Deno.Command("bash", {
        args: [join(SCRIPTS, "stop.sh"), dir],
        stdout: "null",
        stderr: "null",
      })
        .outputSync();
    } catch {
      // nothing more to do: the process is gone or bash is
    }
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // already removed
    }
    globalThis.removeEventListener("unload", stop);
  };
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freePort();
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("bash", {
        // Our PID: the emulator exits by itself if this process dies without stopping it.
        args: [join(SCRIPTS, "start.sh"), String(port), dir, String(Deno.pid)],
        stdout: "piped",
        stderr: "piped",
        env: { RUST_BACKTRACE: "" },
      }).output();
    } catch (e) {
      stop();
      return `cannot run scripts/gcs-emulator/start.sh: ${(e as Error).message}`;
    }
    if (out.success) {
      globalThis.addEventListener("unload", stop);
      return { endpoint: new TextDecoder().decode(out.stdout).trim(), stop };
    }
    lastError = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" / ");
    if (out.code === 3) break; // not installed: retrying cannot help
  }
  stop();
  return `the GCS emulator did not start: ${lastError || "no output"}`;
}

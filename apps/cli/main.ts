/**
 * The `eventlake` executable: builds the real {@linkcode Io} from `Deno.*`, calls `run()` and
 * exits with its code. The only place that calls `Deno.exit`.
 *
 * ```sh
 * deno run -A apps/cli/main.ts --help
 * ```
 *
 * @module
 */
import { run } from "./cli.ts";
import type { Io } from "./io.ts";

/** The {@linkcode Io} of this process; Ctrl-C aborts `signal` (a second Ctrl-C exits at once). */
export function denoIo(): Io {
  const controller = new AbortController();
  const onInterrupt = (): void => {
    if (controller.signal.aborted) Deno.exit(130);
    controller.abort(new DOMException("Interrupted", "AbortError"));
  };
  try {
    Deno.addSignalListener("SIGINT", onInterrupt);
  } catch {
    // No signal support (e.g. some Windows consoles): Ctrl-C then ends the process directly.
  }
  let columns: number | undefined;
  try {
    columns = Deno.consoleSize().columns;
  } catch {
    columns = undefined;
  }
  return {
    stdout: Deno.stdout.writable,
    stderr: Deno.stderr.writable,
    stdin: Deno.stdin.readable,
    env: Deno.env.toObject(),
    cwd: Deno.cwd(),
    isTTY: {
      stdin: Deno.stdin.isTerminal(),
      stdout: Deno.stdout.isTerminal(),
      stderr: Deno.stderr.isTerminal(),
    },
    columns,
    signal: controller.signal,
  };
}

if (import.meta.main) {
  Deno.exit(await run(Deno.args, denoIo()));
}

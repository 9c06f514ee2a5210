/**
 * `eventlake version`.
 *
 * @module
 */
import type { CommandContext } from "../command.ts";
import { VERSION } from "../version.ts";

/**
 * Prints the version (`--json`: `{"version": "…"}`).
 *
 * @example
 * ```ts
 * import { run } from "../cli.ts";
 * import { memoryIo } from "../_testing.ts";
 * const io = memoryIo();
 * await run(["version", "--json"], io);
 * console.log(JSON.parse(io.stdoutText()).version); // "0.1.0"
 * ```
 */
export async function versionCommand(context: CommandContext): Promise<void> {
  await context.print(
    context.flags.json ? JSON.stringify({ version: VERSION }) : `eventlake ${VERSION}`,
  );
}

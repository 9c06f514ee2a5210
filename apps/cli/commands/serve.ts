/**
 * `eventlake serve`: runs the gateway (the Data Query Open API and the import API) over the
 * embedded default under `$EVENTLAKE_HOME`. See `apps/gateway/server.ts`.
 *
 * @module
 */
import type { CommandContext } from "../command.ts";
import { loadConfig } from "../config.ts";
import { bootstrapMessage, startServer } from "../../gateway/server.ts";

/**
 * Starts the gateway and waits until it stops (Ctrl-C or SIGTERM drains it). On a first start
 * with an empty home, prints the new credential and a first query once.
 *
 * @example
 * ```ts ignore
 * import { run } from "../cli.ts";
 * await run(["serve", "--port", "8080"]);
 * ```
 */
export async function serveCommand(context: CommandContext): Promise<void> {
  const config = await loadConfig(context.io, { flags: context.flags, signal: context.signal });
  const { home, port, lakeUrl, resultsDir } = config.values;
  // One setting for every process on this home: the CLI's embedded mode reads the same folder.
  const bucketsDir = resultsDir;
  const key = context.io.env.EVENTLAKE_ENCRYPTION_KEY;
  const hostname = typeof context.flags.hostname === "string"
    ? context.flags.hostname
    : "127.0.0.1";
  const server = await startServer({
    home,
    port,
    hostname,
    lakeUrl,
    bucketsDir,
    encryptionKey: key !== undefined && key !== "" ? key : undefined,
    signal: context.signal,
    writeLog: (text) => void context.log(text.trimEnd()),
  });
  if (server.bootstrap) await context.print(bootstrapMessage(server.bootstrap, server.url));
  await context.log(`eventlake gateway listening on ${server.url} (home ${home})`);
  await server.finished;
}

/**
 * Picks where the client commands run: the remote gateway when an endpoint is configured (flag,
 * `EVENTLAKE_ENDPOINT` or `config.json`) and `--local` is not given, else the embedded service
 * on `$EVENTLAKE_HOME`.
 *
 * @module
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Identity } from "@eventlake/dataquery";
import type { CommandContext } from "./command.ts";
import { loadConfig, type LoadedConfig } from "./config.ts";
import { createRemoteBackend, type QueryBackend } from "./_client.ts";
import { embeddedBackend, localResultCsvOpener, openEmbeddedService } from "./_embedded.ts";

/** Options of {@linkcode openBackend}. */
export interface OpenBackendOptions {
  /** Embedded mode needs the DuckDB engine (queries, data-source connection tests). */
  engine: boolean;
}

/** An open backend and the configuration it came from. */
export interface OpenedBackend {
  /** The backend. */
  backend: QueryBackend;
  /** The configuration. */
  config: LoadedConfig;
}

/** Whether the configuration selects remote mode. */
export function isRemote(config: LoadedConfig, flags: CommandContext["flags"]): boolean {
  return flags.local !== true && config.sources.endpoint.kind !== "default";
}

/** The identity of embedded mode without a credential: the local user. */
export function localIdentity(env: Readonly<Record<string, string | undefined>>): Identity {
  return { name: env.EVENTLAKE_USER || env.USER || env.USERNAME || "local" };
}

/**
 * Opens the backend the flags and configuration select. In embedded mode a configured credential
 * is checked (a wrong one is `UNAUTHENTICATED`, exit 4) and its identity used; without one the
 * caller is the local user (`EVENTLAKE_USER`, else `USER`).
 *
 * @example
 * ```ts
 * import { openBackend } from "./_client_open.ts";
 * import { memoryIo } from "./_testing.ts";
 * const home = await Deno.makeTempDir();
 * const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
 * const { backend } = await openBackend({ io, flags: {}, signal: io.signal }, { engine: false });
 * console.log(backend.mode); // "embedded"
 * await backend.close();
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export async function openBackend(
  context: Pick<CommandContext, "io" | "flags" | "signal">,
  options: OpenBackendOptions,
): Promise<OpenedBackend> {
  const { io, flags, signal } = context;
  const config = await loadConfig(io, { flags, signal });
  const values = config.values;
  if (isRemote(config, flags)) {
    const backend = createRemoteBackend(values.endpoint, {
      credentialId: values.credentialId,
      credentialSecret: values.credentialSecret,
      openResultCsv: localResultCsvOpener(values.resultsDir),
    });
    return { backend, config };
  }
  const embedded = await openEmbeddedService(values, { env: io.env, engine: options.engine });
  try {
    const identity = values.credentialId && values.credentialSecret
      ? await embedded.service.authenticate(values.credentialId, values.credentialSecret)
      : localIdentity(io.env);
    if (values.bucket === "results" && config.sources.bucket.kind === "default") {
      // The default result bucket of embedded mode is made on first use.
      await mkdir(join(values.resultsDir, values.bucket), { recursive: true });
    }
    return { backend: embeddedBackend(embedded, { identity, where: values.home }), config };
  } catch (error) {
    await embedded.close();
    throw error;
  }
}

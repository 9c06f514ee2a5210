/**
 * `eventlake config`: every setting, its value (secrets masked) and where it came from.
 *
 * @module
 */
import type { CommandContext } from "../command.ts";
import {
  CONFIG_KEYS,
  type ConfigKey,
  describeSource,
  loadConfig,
  type LoadedConfig,
  maskSecret,
} from "../config.ts";
import { formatTable } from "../format.ts";

/** One setting as `eventlake config --json` prints it. */
export interface ConfigReportEntry {
  /** The value (a secret masked), or `null` when unset. */
  value: string | number | null;
  /** `--flag`, `EVENTLAKE_*`, the config file's path, `default` or `unset`. */
  source: string;
  /** The environment variable that sets it. */
  env: string;
  /** Whether `value` is masked. */
  masked: boolean;
}

/** What `eventlake config --json` prints. */
export interface ConfigReport {
  /** Path of `config.json`. */
  file: string;
  /** Whether it exists. */
  fileFound: boolean;
  /** Every setting, by key. */
  settings: Record<ConfigKey, ConfigReportEntry>;
}

/**
 * The printable form of a loaded configuration, secrets masked.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { configReport } from "./config.ts";
 * const home = await Deno.makeTempDir();
 * const env = { EVENTLAKE_HOME: home, EVENTLAKE_CREDENTIAL_SECRET: "0123456789abcdefWXYZ" };
 * const report = configReport(await loadConfig({ env, cwd: home }));
 * console.log(report.settings.credentialSecret.value); // "********WXYZ"
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export function configReport(config: LoadedConfig): ConfigReport {
  const settings = {} as Record<ConfigKey, ConfigReportEntry>;
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
    const spec = CONFIG_KEYS[key];
    const raw = config.values[key];
    const masked = spec.secret && typeof raw === "string";
    settings[key] = {
      value: raw === undefined ? null : masked ? maskSecret(String(raw)) : raw,
      source: describeSource(config.sources[key]),
      env: spec.env,
      masked,
    };
  }
  return { file: config.file, fileFound: config.fileFound, settings };
}

/**
 * Prints the configuration (human table, or `--json`).
 *
 * @example
 * ```ts
 * import { run } from "../cli.ts";
 * import { memoryIo } from "../_testing.ts";
 * const home = await Deno.makeTempDir();
 * const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
 * await run(["config", "--json", "--port", "9000"], io);
 * console.log(JSON.parse(io.stdoutText()).settings.port); // { value: 9000, source: "--port", … }
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export async function configCommand(context: CommandContext): Promise<void> {
  const config = await loadConfig(context.io, { flags: context.flags, signal: context.signal });
  const report = configReport(config);
  if (context.flags.json) {
    await context.print(JSON.stringify(report, null, 2));
    return;
  }
  const c = context.out;
  const rows = [[c.bold("KEY"), c.bold("VALUE"), c.bold("SOURCE")]];
  for (const [key, entry] of Object.entries(report.settings)) {
    rows.push([
      key,
      entry.value === null ? c.dim("-") : String(entry.value),
      entry.source === "default" || entry.source === "unset" ? c.dim(entry.source) : entry.source,
    ]);
  }
  await context.print(formatTable(rows));
  await context.print(
    `\nconfig file: ${report.file}${report.fileFound ? "" : c.dim(" (not found)")}`,
  );
}

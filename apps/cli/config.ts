/**
 * The CLI's configuration: flags, then `EVENTLAKE_*` environment variables, then
 * `$EVENTLAKE_HOME/config.json`, then defaults — remembering where each value came from.
 *
 * This is local-filesystem code: it reads `config.json` with `Deno.readTextFile`.
 *
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import {
  InvalidArgumentError,
  PermissionDeniedError,
  throwIfAborted,
  toEventlakeError,
} from "@eventlake/schema";
import type { FlagValues, OptionSpec, OptionsSpec } from "./args.ts";
import type { Io } from "./io.ts";
import { didYouMean } from "./suggest.ts";

/** Name of a configuration key (as written in `config.json`). */
export type ConfigKey =
  | "home"
  | "lakeUrl"
  | "resultsDir"
  | "port"
  | "endpoint"
  | "credentialId"
  | "credentialSecret"
  | "dataSource"
  | "database"
  | "bucket"
  | "resultPath";

/** How a key is set and shown. */
export interface ConfigKeySpec {
  /** Long flag name, without `--`. */
  readonly flag: string;
  /** Environment variable. */
  readonly env: string;
  /** One line for help and `eventlake config`. */
  readonly description: string;
  /** Shown masked, never in full. */
  readonly secret: boolean;
  /** How the value is checked and normalised. */
  readonly kind: "dir" | "location" | "port" | "http-url" | "string";
  /** May be set in `config.json` (`home` cannot: the file lives in it). */
  readonly inFile: boolean;
  /** The flag's value in help (default from `kind`: `dir`, `port` or `url`). */
  readonly valueName?: string;
}

/** Every configuration key, in display order. */
export const CONFIG_KEYS: Readonly<Record<ConfigKey, ConfigKeySpec>> = Object.freeze({
  home: {
    flag: "home",
    env: "EVENTLAKE_HOME",
    description: "Directory of local state and config.json (default ~/.eventlake)",
    secret: false,
    kind: "dir",
    inFile: false,
  },
  lakeUrl: {
    flag: "lake-url",
    env: "EVENTLAKE_LAKE_URL",
    description: "Root of the event lake: a directory, file://, s3:// or gs:// URL",
    secret: false,
    kind: "location",
    inFile: true,
  },
  resultsDir: {
    flag: "results-dir",
    env: "EVENTLAKE_RESULTS_DIR",
    description: "Folder of result buckets, one subfolder each (default $EVENTLAKE_HOME/buckets)",
    secret: false,
    kind: "dir",
    inFile: true,
  },
  port: {
    flag: "port",
    env: "EVENTLAKE_PORT",
    description: "Port the gateway listens on",
    secret: false,
    kind: "port",
    inFile: true,
  },
  endpoint: {
    flag: "endpoint",
    env: "EVENTLAKE_ENDPOINT",
    description: "Base URL of the Data Query API the client commands call",
    secret: false,
    kind: "http-url",
    inFile: true,
  },
  credentialId: {
    flag: "credential-id",
    env: "EVENTLAKE_CREDENTIAL_ID",
    description: "Credential-ID sent to the Data Query API",
    valueName: "id",
    secret: false,
    kind: "string",
    inFile: true,
  },
  credentialSecret: {
    flag: "credential-secret",
    env: "EVENTLAKE_CREDENTIAL_SECRET",
    description: "Credential-Secret sent to the Data Query API (prefer the environment or file)",
    secret: true,
    kind: "string",
    inFile: true,
  },
  dataSource: {
    flag: "data-source",
    env: "EVENTLAKE_DATA_SOURCE",
    description: "Default data source of queries (the X-Data-Source header)",
    valueName: "name",
    secret: false,
    kind: "string",
    inFile: true,
  },
  database: {
    flag: "database",
    env: "EVENTLAKE_DATABASE",
    description: "Default database of queries (the X-Database header)",
    valueName: "name",
    secret: false,
    kind: "string",
    inFile: true,
  },
  bucket: {
    flag: "bucket",
    env: "EVENTLAKE_BUCKET",
    description: "Bucket the query results are written to (locally: a folder of resultsDir)",
    valueName: "name",
    secret: false,
    kind: "string",
    inFile: true,
  },
  resultPath: {
    flag: "result-path",
    env: "EVENTLAKE_RESULT_PATH",
    description: "Path of the query results inside the bucket",
    valueName: "path",
    secret: false,
    kind: "string",
    inFile: true,
  },
});

/**
 * Name of the folder of result buckets inside `$EVENTLAKE_HOME`, the default of `resultsDir`
 * (and of the gateway's `bucketsDir`): `$EVENTLAKE_HOME/buckets/<bucket>/`.
 */
export const DEFAULT_BUCKETS_FOLDER = "buckets";

/** Default result bucket of `eventlake query`: `$EVENTLAKE_HOME/buckets/results/` by default. */
export const DEFAULT_BUCKET = "results";
/** Default result path of `eventlake query` inside the bucket. */
export const DEFAULT_RESULT_PATH = "cli";

/** Default port of the gateway. */
export const DEFAULT_PORT = 8080;

/** Where a configuration value came from. */
export type ConfigSource =
  | { readonly kind: "flag"; readonly name: string }
  | { readonly kind: "env"; readonly name: string }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "default" }
  | { readonly kind: "unset" };

/** The resolved configuration values. */
export interface ConfigValues {
  /** Absolute path of the state directory. */
  readonly home: string;
  /** Absolute directory path, or a `file://`, `s3://` or `gs://` URL. */
  readonly lakeUrl: string;
  /**
   * Absolute path of the folder of result buckets: every subfolder is a bucket of that name
   * (default `$EVENTLAKE_HOME/buckets`; the key keeps its old name for compatibility).
   */
  readonly resultsDir: string;
  /** 1–65535. */
  readonly port: number;
  /** `http(s)://` URL without a trailing slash. */
  readonly endpoint: string;
  /** Credential id, if configured. */
  readonly credentialId?: string;
  /** Credential secret, if configured. Never print it: see {@linkcode maskSecret}. */
  readonly credentialSecret?: string;
  /** Default data source of queries, if configured. */
  readonly dataSource?: string;
  /** Default database of queries, if configured. */
  readonly database?: string;
  /** Result bucket of queries. */
  readonly bucket: string;
  /** Result path inside the bucket. */
  readonly resultPath: string;
}

/** The result of {@linkcode loadConfig}. */
export interface LoadedConfig {
  /** The values. */
  readonly values: ConfigValues;
  /** Where each value came from. */
  readonly sources: Readonly<Record<ConfigKey, ConfigSource>>;
  /** Absolute path of `config.json` (it may not exist). */
  readonly file: string;
  /** Whether `config.json` exists. */
  readonly fileFound: boolean;
}

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Parsed flags; keys are the flag names of {@linkcode CONFIG_KEYS}. */
  flags?: FlagValues;
  /** Cancels reading the file. */
  signal?: AbortSignal;
}

/**
 * The flags that override configuration, for commands that use it.
 * `--credential-secret` is deliberately absent: command lines are visible to other users.
 */
export const CONFIG_FLAGS: OptionsSpec = Object.freeze(
  Object.fromEntries(
    (Object.entries(CONFIG_KEYS) as [ConfigKey, ConfigKeySpec][])
      .filter(([, spec]) => !spec.secret)
      .map(([, spec]): [string, OptionSpec] => [spec.flag, {
        type: "string",
        description: `${spec.description} [${spec.env}]`,
        valueName: spec.valueName ??
          (spec.kind === "port" ? "port" : spec.kind === "dir" ? "dir" : "url"),
      }]),
  ),
);

/**
 * Shows a source the way `eventlake config` prints it.
 *
 * @example
 * ```ts
 * import { describeSource } from "./config.ts";
 * console.log(describeSource({ kind: "env", name: "EVENTLAKE_PORT" })); // "EVENTLAKE_PORT"
 * ```
 */
export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case "flag":
      return `--${source.name}`;
    case "env":
      return source.name;
    case "file":
      return source.path;
    case "default":
      return "default";
    case "unset":
      return "unset";
  }
}

/**
 * Masks a secret: only its last four characters show, and only when it is long enough
 * (16+) that they give nothing away.
 *
 * @example
 * ```ts
 * import { maskSecret } from "./config.ts";
 * console.log(maskSecret("s3cr3t")); // "********"
 * console.log(maskSecret("0123456789abcdefWXYZ")); // "********WXYZ"
 * ```
 */
export function maskSecret(value: string): string {
  return value.length >= 16 ? `********${value.slice(-4)}` : "********";
}

function sourceLabel(source: ConfigSource): string {
  return source.kind === "file" ? `"${source.path}"` : describeSource(source);
}

function checkValue(
  key: ConfigKey,
  raw: unknown,
  source: ConfigSource,
  base: string,
): string | number {
  const spec = CONFIG_KEYS[key];
  const where = sourceLabel(source);
  if (spec.kind === "port") {
    const n = typeof raw === "number"
      ? raw
      : typeof raw === "string" && /^\s*\d+\s*$/.test(raw)
      ? Number(raw)
      : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new InvalidArgumentError(
        `Invalid ${key} ${JSON.stringify(raw)} from ${where}: expected an integer from 1 to 65535`,
        { details: { key, source: describeSource(source) } },
      );
    }
    return n;
  }
  if (typeof raw !== "string") {
    throw new InvalidArgumentError(
      `Invalid ${key} ${JSON.stringify(raw)} from ${where}: expected a string`,
      { details: { key, source: describeSource(source) } },
    );
  }
  const value = raw.trim();
  if (value === "") {
    throw new InvalidArgumentError(`Invalid ${key} from ${where}: it is empty`, {
      details: { key, source: describeSource(source) },
    });
  }
  const bad = (why: string): InvalidArgumentError =>
    new InvalidArgumentError(`Invalid ${key} "${value}" from ${where}: ${why}`, {
      details: { key, source: describeSource(source) },
    });
  switch (spec.kind) {
    case "dir":
      return resolvePath(value, base);
    case "location": {
      const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
      if (scheme === undefined) return resolvePath(value, base);
      if (!["file", "s3", "gs"].includes(scheme)) {
        throw bad(`expected a directory or a file://, s3:// or gs:// URL`);
      }
      if (scheme !== "file" && !/^[a-z]+:\/\/[^/]+/i.test(value)) {
        throw bad("the bucket is missing");
      }
      return value;
    }
    case "http-url": {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw bad("expected an http:// or https:// URL");
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw bad("expected an http:// or https:// URL");
      }
      return value.replace(/\/+$/, "");
    }
    default:
      return value;
  }
}

function resolvePath(value: string, base: string): string {
  return isAbsolute(value) ? resolve(value) : resolve(base, value);
}

function expandHome(value: string, userHome: string | undefined): string {
  if (value !== "~" && !value.startsWith("~/")) return value;
  if (userHome === undefined) {
    throw new InvalidArgumentError(`Cannot expand "~" in "${value}": HOME is not set`);
  }
  return userHome + value.slice(1);
}

async function readConfigFile(
  path: string,
  signal: AbortSignal | undefined,
): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path, { signal });
  } catch (error) {
    throwIfAborted(signal);
    if (error instanceof Deno.errors.NotFound) return undefined;
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new PermissionDeniedError(`Cannot read config file "${path}": permission denied`, {
        cause: error,
      });
    }
    throw new InvalidArgumentError(
      `Cannot read config file "${path}": ${toEventlakeError(error).message}`,
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(
      `Cannot parse config file "${path}": ${jsonProblem(text, error)}`,
      { cause: error, details: { path } },
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidArgumentError(
      `Cannot use config file "${path}": expected a JSON object, found ${
        parsed === null ? "null" : Array.isArray(parsed) ? "an array" : typeof parsed
      }`,
      { details: { path } },
    );
  }
  return parsed as Record<string, unknown>;
}

/** V8's JSON error, with the line and column when it only gives a position. */
function jsonProblem(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/line \d+ column \d+/.test(message)) return message;
  const at = /position (\d+)/.exec(message);
  if (!at) return message;
  const before = text.slice(0, Number(at[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `${message} (line ${line} column ${column})`;
}

/**
 * Loads the configuration: each key from its flag, else its `EVENTLAKE_*` variable, else
 * `$EVENTLAKE_HOME/config.json`, else its default. Relative paths resolve against the
 * working directory (flags, environment) or the config file's directory (file values).
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const home = await Deno.makeTempDir();
 * const config = await loadConfig(
 *   { env: { EVENTLAKE_HOME: home, EVENTLAKE_PORT: "9000" }, cwd: home },
 *   { flags: { port: "9100" } },
 * );
 * console.log(config.values.port, config.sources.port); // 9100 { kind: "flag", name: "port" }
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export async function loadConfig(
  io: Pick<Io, "env" | "cwd">,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  const flags = options.flags ?? {};
  const env = io.env;
  const userHome = env.HOME || env.USERPROFILE || undefined;
  const values: Partial<Record<ConfigKey, string | number>> = {};
  const sources: Partial<Record<ConfigKey, ConfigSource>> = {};

  const fromFlagOrEnv = (key: ConfigKey): boolean => {
    const spec = CONFIG_KEYS[key];
    const flag = flags[spec.flag];
    if (typeof flag === "string") {
      const source: ConfigSource = { kind: "flag", name: spec.flag };
      values[key] = checkValue(key, expandHome(flag, userHome), source, io.cwd);
      sources[key] = source;
      return true;
    }
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== "") {
      const source: ConfigSource = { kind: "env", name: spec.env };
      values[key] = checkValue(key, expandHome(fromEnv, userHome), source, io.cwd);
      sources[key] = source;
      return true;
    }
    return false;
  };

  if (!fromFlagOrEnv("home")) {
    if (userHome === undefined) {
      throw new InvalidArgumentError(
        "Cannot find the eventlake home: neither EVENTLAKE_HOME nor HOME is set",
        { details: { hint: "Set EVENTLAKE_HOME or pass --home <dir>" } },
      );
    }
    values.home = join(userHome, ".eventlake");
    sources.home = { kind: "default" };
  }
  const home = values.home as string;
  const file = join(home, "config.json");
  const keys = Object.keys(CONFIG_KEYS) as ConfigKey[];

  const pending = keys.filter((key) => key !== "home" && !fromFlagOrEnv(key));
  const fromFile = await readConfigFile(file, options.signal);
  if (fromFile !== undefined) {
    const fileKeys = keys.filter((key) => CONFIG_KEYS[key].inFile);
    for (const name of Object.keys(fromFile)) {
      if (!fileKeys.includes(name as ConfigKey)) {
        const hint = name === "home"
          ? "The home cannot be set in its own config.json: use EVENTLAKE_HOME or --home"
          : didYouMean(name, fileKeys) ?? `Known keys: ${fileKeys.join(", ")}`;
        throw new InvalidArgumentError(`Unknown key "${name}" in config file "${file}"`, {
          details: { path: file, key: name, hint },
        });
      }
    }
    for (const key of pending) {
      if (!(key in fromFile) || fromFile[key] === null) continue;
      const source: ConfigSource = { kind: "file", path: file };
      const raw = fromFile[key];
      values[key] = checkValue(
        key,
        typeof raw === "string" ? expandHome(raw, userHome) : raw,
        source,
        dirname(file),
      );
      sources[key] = source;
    }
  }

  const defaults: Partial<Record<ConfigKey, string | number>> = {
    lakeUrl: join(home, "lake"),
    resultsDir: join(home, DEFAULT_BUCKETS_FOLDER),
    port: DEFAULT_PORT,
    bucket: DEFAULT_BUCKET,
    resultPath: DEFAULT_RESULT_PATH,
  };
  for (const key of keys) {
    if (sources[key] !== undefined) continue;
    const value = key === "endpoint" ? `http://127.0.0.1:${values.port}` : defaults[key];
    if (value === undefined) {
      sources[key] = { kind: "unset" };
    } else {
      values[key] = value;
      sources[key] = { kind: "default" };
    }
  }

  return {
    values: values as unknown as ConfigValues,
    sources: sources as Record<ConfigKey, ConfigSource>,
    file,
    fileFound: fromFile !== undefined,
  };
}

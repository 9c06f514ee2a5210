/**
 * Argument parsing for one command, on top of `parseArgs` from `node:util`
 * (JSR's `@std/cli` is unreachable here; swap it in where JSR is available).
 *
 * `parseArgs` runs in its lenient mode and this module does the checking, so every mistake
 * becomes an `InvalidArgumentError` that names the flag or argument and points to `--help`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { InvalidArgumentError } from "@eventlake/schema";
import { didYouMean } from "./suggest.ts";

/** One `--flag` of a command. */
export interface OptionSpec {
  /** `"boolean"` for a switch, `"string"` for a flag that takes a value. */
  readonly type: "boolean" | "string";
  /** One-letter alias, e.g. `"h"` for `-h`. */
  readonly short?: string;
  /** One line for the help text. */
  readonly description: string;
  /** Placeholder of the value in the help text, e.g. `"port"` → `--port <port>`. */
  readonly valueName?: string;
  /** The flag may repeat; its value is then an array. */
  readonly multiple?: boolean;
}

/** One positional argument of a command. */
export interface PositionalSpec {
  /** Name shown in usage, e.g. `"file.parquet"` → `<file.parquet>`. */
  readonly name: string;
  /** One line for the help text. */
  readonly description: string;
  /** Whether it must be given (default `true`). */
  readonly required?: boolean;
  /** Takes all remaining arguments (only the last positional). */
  readonly variadic?: boolean;
}

/** The flags of a command, by long name. */
export type OptionsSpec = Readonly<Record<string, OptionSpec>>;

/** Values of the parsed flags: `true` for a switch, a string, or strings for a repeated flag. */
export type FlagValues = Readonly<Record<string, string | boolean | string[] | undefined>>;

/** The result of {@linkcode parseCommandArgs}. */
export interface ParsedArgs {
  /** Flag values by long name. */
  readonly flags: FlagValues;
  /** Positional arguments by name (a variadic one is an array). */
  readonly args: Readonly<Record<string, string | string[] | undefined>>;
  /** All positional arguments in order. */
  readonly positionals: readonly string[];
}

/** Options of {@linkcode parseCommandArgs}. */
export interface ParseCommandArgsOptions {
  /** The command line that `--help` belongs to, for hints, e.g. `"eventlake inspect"`. */
  command: string;
  /** Positional arguments, in order. */
  positionals?: readonly PositionalSpec[];
}

/** The way a flag is written in help and errors: `--name`. */
function flagName(name: string): string {
  return `--${name}`;
}

function usageError(message: string, command: string, suggestion?: string): InvalidArgumentError {
  const help = `Run "${command} --help" for usage`;
  return new InvalidArgumentError(message, {
    details: { hint: suggestion ? `${suggestion} ${help}` : help },
  });
}

/**
 * Parses `argv` against a command's flags and positionals.
 *
 * @example
 * ```ts
 * import { parseCommandArgs } from "./args.ts";
 * const parsed = parseCommandArgs(["a.parquet", "--json"], {
 *   json: { type: "boolean", description: "Print JSON" },
 * }, { command: "eventlake inspect", positionals: [{ name: "file", description: "A file" }] });
 * console.log(parsed.flags.json, parsed.args.file); // true "a.parquet"
 * ```
 */
export function parseCommandArgs(
  argv: readonly string[],
  options: OptionsSpec,
  context: ParseCommandArgsOptions,
): ParsedArgs {
  const { command } = context;
  const positionalSpecs = context.positionals ?? [];
  const parseOptions: Record<
    string,
    { type: "boolean" | "string"; short?: string; multiple?: boolean }
  > = {};
  for (const [name, spec] of Object.entries(options)) {
    parseOptions[name] = { type: spec.type };
    if (spec.multiple) parseOptions[name].multiple = true;
    if (spec.short) {
      parseOptions[name].short = spec.short;
    }
  }
  const { tokens } = parseArgs({
    args: [...argv],
    options: parseOptions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  const flags: Record<string, string | boolean | string[] | undefined> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== "option") continue;
    const spec = options[token.name];
    if (spec === undefined) {
      const known = Object.keys(options).map(flagName);
      throw usageError(
        `Unknown option "${token.rawName}" for "${command}"`,
        command,
        didYouMean(token.rawName.startsWith("--") ? token.rawName : `--${token.name}`, known),
      );
    }
    const shown = token.rawName.startsWith("--")
      ? token.rawName
      : `${token.rawName}, --${token.name}`;
    if (spec.type === "boolean") {
      if (token.value !== undefined) {
        throw usageError(`Option "${shown}" does not take a value: got "${token.value}"`, command);
      }
      flags[token.name] = true;
      continue;
    }
    // A string flag: its value is the next argument, unless that looks like another flag.
    if (
      token.value === undefined ||
      (!token.inlineValue && token.value.startsWith("-") && token.value !== "-")
    ) {
      const placeholder = spec.valueName ?? "value";
      throw usageError(
        `Option "${shown}" needs a value: ${flagName(token.name)} <${placeholder}>`,
        command,
      );
    }
    if (spec.multiple) {
      const prev = flags[token.name];
      flags[token.name] = Array.isArray(prev) ? [...prev, token.value] : [token.value];
    } else {
      flags[token.name] = token.value;
    }
  }

  const args: Record<string, string | string[] | undefined> = {};
  let i = 0;
  for (const spec of positionalSpecs) {
    if (spec.variadic) {
      args[spec.name] = positionals.slice(i);
      if (spec.required !== false && positionals.length <= i) {
        throw usageError(`Missing argument <${spec.name}>: ${spec.description}`, command);
      }
      i = positionals.length;
      break;
    }
    if (i < positionals.length) {
      args[spec.name] = positionals[i++];
    } else if (spec.required !== false) {
      throw usageError(`Missing argument <${spec.name}>: ${spec.description}`, command);
    }
  }
  if (i < positionals.length) {
    throw usageError(`Unexpected argument "${positionals[i]}"`, command);
  }
  return { flags, args, positionals };
}

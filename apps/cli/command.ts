/**
 * What a command is: the shape of one entry of the command table in `commands.ts`.
 *
 * @module
 */
import type { FlagValues, OptionsSpec, PositionalSpec } from "./args.ts";
import type { Colors } from "./color.ts";
import type { Io } from "./io.ts";
import type { Progress, ProgressOptions } from "./progress.ts";

/** One example in a command's help. */
export interface CommandExample {
  /** The full command line, e.g. `eventlake inspect a.parquet --json`. */
  readonly command: string;
  /** What it does. */
  readonly description: string;
}

/** What a handler receives. */
export interface CommandContext {
  /** The command's name, e.g. `"inspect"`. */
  readonly name: string;
  /** Streams, environment, working directory. */
  readonly io: Io;
  /** Parsed flags by long name (global ones included). */
  readonly flags: FlagValues;
  /** Positional arguments by name. */
  readonly args: Readonly<Record<string, string | string[] | undefined>>;
  /** Aborted on Ctrl-C: pass it to everything that waits. */
  readonly signal: AbortSignal;
  /** Styles for stdout (identity when colours are off). */
  readonly out: Colors;
  /** Styles for stderr. */
  readonly err: Colors;
  /** `--debug` or `EVENTLAKE_DEBUG=1`. */
  readonly debug: boolean;
  /** The whole command table (for `help`). */
  readonly commands: CommandTable;
  /** Writes a line of data to stdout. */
  print(text: string): Promise<void>;
  /** Writes a line of progress or log to stderr. */
  log(text: string): Promise<void>;
  /** Starts a progress report on stderr (a bar on a terminal, plain lines otherwise). */
  progress(label: string, options?: ProgressOptions): Progress;
}

/**
 * Runs a command. Returns its exit code (`0` when it returns nothing); reports failure by
 * throwing an `EventlakeError` — never by printing an error or exiting itself.
 */
export type CommandHandler = (context: CommandContext) => Promise<number | void>;

/** One entry of the command table. */
export interface Command {
  /** One line for the overview. */
  readonly summary: string;
  /** Arguments after the command name, e.g. `<file.parquet> [--json]`. */
  readonly usage: string;
  /** A paragraph for the command's help. */
  readonly description?: string;
  /** Positional arguments, in order. */
  readonly positionals?: readonly PositionalSpec[];
  /** The command's own flags (`--help`, `--debug` and `--no-color` are added to all). */
  readonly options: OptionsSpec;
  /** At least one example. */
  readonly examples: readonly CommandExample[];
  /** The code. */
  readonly handler: CommandHandler;
}

/** The command table: name → command. */
export type CommandTable = Readonly<Record<string, Command>>;

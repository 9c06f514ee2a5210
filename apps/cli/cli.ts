/**
 * `run()`: the whole CLI as a function of its arguments and an {@linkcode Io}, so every command
 * is testable in-process. Only `main.ts` turns the result into a process exit.
 *
 * @module
 */
import { AbortedError, EventlakeError, InvalidArgumentError } from "@eventlake/schema";
import { parseCommandArgs } from "./args.ts";
import { type Colors, colors } from "./color.ts";
import type { CommandContext, CommandTable } from "./command.ts";
import { COMMANDS } from "./commands.ts";
import { EXIT_BROKEN_PIPE, EXIT_OK, EXIT_USAGE, exitCodeOf } from "./exit_codes.ts";
import { GLOBAL_OPTIONS, renderCommandHelp, renderOverview } from "./help.ts";
import { type Io, write, writeLine } from "./io.ts";
import { createProgress } from "./progress.ts";
import { didYouMean } from "./suggest.ts";
import { VERSION } from "./version.ts";

/** Options of {@linkcode run}. */
export interface RunOptions {
  /** The command table (default: the real one); tests pass their own. */
  commands?: CommandTable;
}

const TOP_LEVEL_FLAGS = ["--help", "-h", "--version", "-V", "--debug", "--no-color"];

/** Arguments before a `--`. */
function flagsPart(args: readonly string[]): readonly string[] {
  const end = args.indexOf("--");
  return end === -1 ? args : args.slice(0, end);
}

function envFlag(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/** The io with colours forced off (for `--no-color`). */
function withoutColor(io: Io): Io {
  return { ...io, env: { ...io.env, NO_COLOR: "1" } };
}

/**
 * Runs the `eventlake` command line and returns the exit code.
 *
 * Errors are reported as `eventlake: <message>` (and a hint) on stderr, and their code picks
 * the exit code from the one table in `exit_codes.ts`.
 *
 * @example
 * ```ts
 * import { run } from "./cli.ts";
 * import { memoryIo } from "./_testing.ts";
 * const io = memoryIo();
 * console.log(await run(["--version"], io), io.stdoutText()); // 0 "eventlake 0.1.0\n"
 * ```
 */
export async function run(
  args: readonly string[],
  io: Io,
  options: RunOptions = {},
): Promise<number> {
  const commands = options.commands ?? COMMANDS;
  const globals = flagsPart(args);
  const debug = globals.includes("--debug") || envFlag(io.env.EVENTLAKE_DEBUG);
  if (globals.includes("--no-color")) io = withoutColor(io);
  try {
    return await dispatch(args, io, commands, debug);
  } catch (error) {
    return await report(error, io, debug);
  }
}

async function dispatch(
  args: readonly string[],
  io: Io,
  commands: CommandTable,
  debug: boolean,
): Promise<number> {
  const out = colors(io, "stdout");
  let i = 0;
  for (; i < args.length && args[i].startsWith("-") && args[i] !== "--"; i++) {
    const flag = args[i];
    if (flag === "--help" || flag === "-h") {
      await write(io.stdout, renderOverview(commands, out));
      return EXIT_OK;
    }
    if (flag === "--version" || flag === "-V") {
      await writeLine(io.stdout, `eventlake ${VERSION}`);
      return EXIT_OK;
    }
    if (flag === "--debug" || flag === "--no-color") continue;
    throw new InvalidArgumentError(`Unknown option "${flag}"`, {
      details: {
        hint: [didYouMean(flag, TOP_LEVEL_FLAGS), `Run "eventlake --help" for usage`]
          .filter(Boolean).join(" "),
      },
    });
  }
  if (args[i] === "--") i++;
  const name = args[i];
  if (name === undefined) {
    await write(io.stderr, renderOverview(commands, colors(io, "stderr")));
    return EXIT_USAGE;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (command === undefined) {
    throw new InvalidArgumentError(`Unknown command "${name}"`, {
      details: {
        hint: [
          didYouMean(name, Object.keys(commands)),
          `Run "eventlake --help" for the list of commands`,
        ].filter(Boolean).join(" "),
      },
    });
  }
  const rest = args.slice(i + 1);
  const restFlags = flagsPart(rest);
  if (restFlags.includes("--help") || restFlags.includes("-h")) {
    await write(io.stdout, renderCommandHelp(name, command, out));
    return EXIT_OK;
  }
  const parsed = parseCommandArgs(rest, { ...command.options, ...GLOBAL_OPTIONS }, {
    command: `eventlake ${name}`,
    positionals: command.positionals,
  });
  const context: CommandContext = {
    name,
    io,
    flags: parsed.flags,
    args: parsed.args,
    signal: io.signal,
    out,
    err: colors(io, "stderr"),
    debug,
    commands,
    print: (text) => writeLine(io.stdout, text),
    log: (text) => writeLine(io.stderr, text),
    progress: (label, progressOptions) => createProgress(io, label, progressOptions),
  };
  try {
    return (await command.handler(context)) ?? EXIT_OK;
  } catch (error) {
    // Whatever a handler throws after Ctrl-C is a consequence of the interruption.
    if (io.signal.aborted && !(error instanceof AbortedError)) {
      throw new AbortedError("Interrupted", { cause: error });
    }
    throw error;
  }
}

function hintOf(error: unknown): string | undefined {
  if (!(error instanceof EventlakeError)) return undefined;
  const hint = error.details.hint;
  return typeof hint === "string" && hint !== "" ? hint : undefined;
}

function stackOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    const text = current instanceof Error ? current.stack ?? String(current) : String(current);
    parts.push(depth === 0 ? text : `Caused by: ${text}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join("\n");
}

/** Prints the error on stderr and returns its exit code. */
async function report(error: unknown, io: Io, debug: boolean): Promise<number> {
  // The reader of stdout is gone (`| head`): stop quietly, like a process killed by SIGPIPE.
  if (error instanceof Error && error.name === "BrokenPipe" && !debug) return EXIT_BROKEN_PIPE;
  const c: Colors = colors(io, "stderr");
  const code = exitCodeOf(error);
  const expected = error instanceof EventlakeError && error.code !== "INTERNAL";
  const message = error instanceof Error ? error.message : `Unexpected error: ${String(error)}`;
  const lines = [`${c.red(c.bold("eventlake:"))} ${message}`];
  const hint = hintOf(error);
  if (hint) lines.push(`${c.yellow("hint:")} ${hint}`);
  if (debug) {
    lines.push(c.dim(stackOf(error)));
  } else if (!expected) {
    lines.push(
      `${c.yellow("hint:")} Run again with --debug (or EVENTLAKE_DEBUG=1) to see the stack trace`,
    );
  }
  try {
    await writeLine(io.stderr, lines.join("\n"));
  } catch {
    // stderr is gone (closed pipe): the exit code still tells.
  }
  return code;
}

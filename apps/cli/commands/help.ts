/**
 * `eventlake help [command]`.
 *
 * @module
 */
import { InvalidArgumentError } from "@eventlake/schema";
import type { CommandContext } from "../command.ts";
import { renderCommandHelp, renderOverview } from "../help.ts";
import { write } from "../io.ts";
import { didYouMean } from "../suggest.ts";

/**
 * Prints the overview, or the help of the named command.
 *
 * @example
 * ```ts
 * import { run } from "../cli.ts";
 * import { memoryIo } from "../_testing.ts";
 * const io = memoryIo();
 * await run(["help", "inspect"], io);
 * console.log(io.stdoutText().startsWith("eventlake inspect")); // true
 * ```
 */
export async function helpCommand(context: CommandContext): Promise<void> {
  const name = context.args.command;
  if (typeof name !== "string") {
    await write(context.io.stdout, renderOverview(context.commands, context.out));
    return;
  }
  const command = Object.hasOwn(context.commands, name) ? context.commands[name] : undefined;
  if (command === undefined) {
    throw new InvalidArgumentError(`Unknown command "${name}"`, {
      details: {
        hint: [
          didYouMean(name, Object.keys(context.commands)),
          `Run "eventlake --help" for the list of commands`,
        ].filter(Boolean).join(" "),
      },
    });
  }
  await write(context.io.stdout, renderCommandHelp(name, command, context.out));
}

/**
 * Help texts, rendered from the command table.
 *
 * @module
 */
import type { OptionsSpec } from "./args.ts";
import type { Colors } from "./color.ts";
import type { Command, CommandTable } from "./command.ts";
import { formatTable } from "./format.ts";
import { VERSION } from "./version.ts";

/** Flags every command accepts. */
export const GLOBAL_OPTIONS: OptionsSpec = Object.freeze({
  help: { type: "boolean", short: "h", description: "Show this help" },
  debug: {
    type: "boolean",
    description: "Print stack traces of unexpected errors [EVENTLAKE_DEBUG=1]",
  },
  "no-color": { type: "boolean", description: "Never colour the output [NO_COLOR=1]" },
});

function optionRows(options: OptionsSpec): string[][] {
  return Object.entries(options).map(([name, spec]) => {
    const value = spec.type === "string" ? ` <${spec.valueName ?? "value"}>` : "";
    const short = spec.short ? `-${spec.short}, ` : "    ";
    return [`${short}--${name}${value}`, spec.description];
  });
}

/**
 * The overview printed by `eventlake --help`.
 *
 * @example
 * ```ts
 * import { colors } from "./color.ts";
 * import { renderOverview } from "./help.ts";
 * const plain = colors({ env: {}, isTTY: { stdin: false, stdout: false, stderr: false } }, "stdout");
 * console.log(renderOverview({}, plain).startsWith("eventlake")); // true
 * ```
 */
export function renderOverview(commands: CommandTable, c: Colors): string {
  const rows = Object.entries(commands).map(([name, cmd]) => [c.cyan(name), cmd.summary]);
  const examples = Object.values(commands).flatMap((cmd) => cmd.examples.slice(0, 1));
  return [
    `eventlake ${VERSION} — import events into a Parquet lake and query them`,
    "",
    c.bold("Usage:"),
    "  eventlake <command> [arguments] [options]",
    "  eventlake help <command>",
    "",
    c.bold("Commands:"),
    formatTable(rows, { indent: "  " }),
    "",
    c.bold("Global options:"),
    formatTable([
      ...optionRows(GLOBAL_OPTIONS),
      ["-V, --version", "Print the version"],
    ], { indent: "  " }),
    "",
    c.bold("Examples:"),
    ...examples.map((e) => `  ${e.command}`),
    "",
    `Run "eventlake help <command>" for a command's options and examples.`,
    "",
  ].join("\n");
}

/**
 * The help of one command, printed by `eventlake <command> --help` and `eventlake help <command>`.
 *
 * @example
 * ```ts
 * import { colors } from "./color.ts";
 * import { renderCommandHelp } from "./help.ts";
 * const plain = colors({ env: {}, isTTY: { stdin: false, stdout: false, stderr: false } }, "stdout");
 * const text = renderCommandHelp("hello", {
 *   summary: "Say hello",
 *   usage: "[--loud]",
 *   options: {},
 *   examples: [{ command: "eventlake hello", description: "Greets" }],
 *   handler: () => Promise.resolve(),
 * }, plain);
 * console.log(text.split("\n")[0]); // "eventlake hello — Say hello"
 * ```
 */
export function renderCommandHelp(name: string, command: Command, c: Colors): string {
  const lines = [
    `eventlake ${name} — ${command.summary}`,
    "",
    c.bold("Usage:"),
    `  eventlake ${name} ${command.usage}`.trimEnd(),
  ];
  if (command.description) {
    lines.push(
      "",
      ...command.description.split("\n").map((l) => l ? `  ${l}` : l),
    );
  }
  if (command.positionals && command.positionals.length > 0) {
    lines.push(
      "",
      c.bold("Arguments:"),
      formatTable(
        command.positionals.map((p) => [`<${p.name}>${p.variadic ? "..." : ""}`, p.description]),
        { indent: "  " },
      ),
    );
  }
  lines.push(
    "",
    c.bold("Options:"),
    formatTable(optionRows({ ...command.options, ...GLOBAL_OPTIONS }), { indent: "  " }),
  );
  if (command.examples.length > 0) {
    lines.push("", c.bold("Examples:"));
    for (const example of command.examples) {
      lines.push(`  ${example.command}`, `      ${c.dim(example.description)}`);
    }
  }
  lines.push("");
  return lines.join("\n");
}

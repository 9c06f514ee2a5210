/**
 * Colours for terminal output: only on a TTY, never when `NO_COLOR` is set.
 *
 * @module
 */
import type { Io } from "./io.ts";

/** Text styles; each is the identity when colours are off. */
export interface Colors {
  /** Whether styles emit ANSI escapes. */
  readonly enabled: boolean;
  /** Bold text. */
  bold(text: string): string;
  /** Dimmed text. */
  dim(text: string): string;
  /** Red text (errors). */
  red(text: string): string;
  /** Yellow text (warnings, hints). */
  yellow(text: string): string;
  /** Green text (success). */
  green(text: string): string;
  /** Cyan text (names). */
  cyan(text: string): string;
}

/**
 * Whether output to `stream` may carry colours: the stream is a terminal and `NO_COLOR` is
 * not set to a non-empty value (https://no-color.org).
 *
 * @example
 * ```ts
 * import { colorEnabled } from "./color.ts";
 * const io = { env: { NO_COLOR: "1" }, isTTY: { stdin: true, stdout: true, stderr: true } };
 * console.log(colorEnabled(io, "stdout")); // false
 * ```
 */
export function colorEnabled(
  io: Pick<Io, "env" | "isTTY">,
  stream: "stdout" | "stderr",
): boolean {
  const noColor = io.env.NO_COLOR;
  if (noColor !== undefined && noColor !== "") return false;
  if (io.env.TERM === "dumb") return false;
  return io.isTTY[stream];
}

function style(enabled: boolean, open: number, close: number): (text: string) => string {
  return enabled ? (text) => `\x1b[${open}m${text}\x1b[${close}m` : (text) => text;
}

/**
 * The styles for one stream.
 *
 * @example
 * ```ts
 * import { colors } from "./color.ts";
 * const io = { env: {}, isTTY: { stdin: false, stdout: false, stderr: false } };
 * console.log(colors(io, "stderr").red("plain")); // "plain"
 * ```
 */
export function colors(io: Pick<Io, "env" | "isTTY">, stream: "stdout" | "stderr"): Colors {
  const on = colorEnabled(io, stream);
  return {
    enabled: on,
    bold: style(on, 1, 22),
    dim: style(on, 2, 22),
    red: style(on, 31, 39),
    yellow: style(on, 33, 39),
    green: style(on, 32, 39),
    cyan: style(on, 36, 39),
  };
}

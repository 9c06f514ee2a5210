/**
 * Progress reporting on stderr: a redrawn bar on a terminal, plain lines otherwise (logs, CI).
 *
 * @module
 */
import { colors } from "./color.ts";
import { type Io, write } from "./io.ts";

/** Options of {@linkcode createProgress}. */
export interface ProgressOptions {
  /** What is being counted, e.g. `"rows"`. Default `"items"`. */
  unit?: string;
  /** Expected total, when known: enables the percentage and the bar. */
  total?: number;
  /** Plain-line mode: print a line at every this many percent (default 10), or every
   * `everyItems` items when the total is unknown (default 100000). */
  everyPercent?: number;
  /** Plain-line mode without a total: print a line every this many items. */
  everyItems?: number;
}

/** A running progress report. */
export interface Progress {
  /** Sets the number of items done so far. */
  update(done: number): Promise<void>;
  /** Adds `n` items done. */
  advance(n: number): Promise<void>;
  /** Ends the report with a final line (and clears the bar on a terminal). */
  done(message?: string): Promise<void>;
}

function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/**
 * Starts a progress report for `label` on `io.stderr`.
 *
 * On a terminal the report is one line redrawn in place (`\r`); otherwise it prints a plain
 * line each time another `everyPercent` percent (or `everyItems` items) is done, so logs stay
 * short. Never writes to stdout.
 *
 * @example
 * ```ts
 * import { createProgress } from "./progress.ts";
 * const io = {
 *   stderr: new WritableStream<Uint8Array>(),
 *   env: {},
 *   isTTY: { stdin: false, stdout: false, stderr: false },
 * };
 * const p = createProgress(io, "Reading", { total: 4, unit: "rows" });
 * await p.advance(2);
 * await p.done();
 * ```
 */
export function createProgress(
  io: Pick<Io, "stderr" | "env" | "isTTY" | "columns">,
  label: string,
  options: ProgressOptions = {},
): Progress {
  const unit = options.unit ?? "items";
  const total = options.total !== undefined && options.total > 0 ? options.total : undefined;
  const tty = io.isTTY.stderr;
  const c = colors(io, "stderr");
  const everyPercent = options.everyPercent ?? 10;
  const everyItems = options.everyItems ?? 100_000;
  let current = 0;
  let lastStep = 0;
  let lastDraw = 0;
  let ended = false;

  const describe = (): string => {
    if (total === undefined) return `${label}: ${formatCount(current)} ${unit}`;
    const pct = Math.min(100, Math.floor((current / total) * 100));
    return `${label}: ${formatCount(current)}/${formatCount(total)} ${unit} (${pct}%)`;
  };

  const render = async (): Promise<void> => {
    if (ended) return;
    if (tty) {
      // Redraw at most ~12 times a second: a terminal is slower than a tight loop.
      const now = Date.now();
      if (now - lastDraw < 80) return;
      lastDraw = now;
      let line = describe();
      if (total !== undefined) {
        const width = Math.max(10, Math.min(40, (io.columns ?? 80) - line.length - 4));
        const filled = Math.min(width, Math.round((current / total) * width));
        line = `${c.cyan("█".repeat(filled))}${c.dim("░".repeat(width - filled))} ${line}`;
      }
      await write(io.stderr, `\r\x1b[2K${line}`);
      return;
    }
    const step = total !== undefined
      ? Math.floor((current / total) * 100 / everyPercent)
      : Math.floor(current / everyItems);
    if (step > lastStep) {
      lastStep = step;
      await write(io.stderr, describe() + "\n");
    }
  };

  return {
    update(done: number): Promise<void> {
      current = done;
      return render();
    },
    advance(n: number): Promise<void> {
      current += n;
      return render();
    },
    async done(message?: string): Promise<void> {
      if (ended) return;
      ended = true;
      const final = message ?? `${label}: ${formatCount(current)} ${unit} done`;
      await write(io.stderr, (tty ? "\r\x1b[2K" : "") + final + "\n");
    },
  };
}

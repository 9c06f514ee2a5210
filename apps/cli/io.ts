/**
 * The command's view of the outside world, so every command runs in-process in tests.
 *
 * `main.ts` builds the real {@linkcode Io} from `Deno.*`; tests build one over memory with
 * `memoryIo()` from `_testing.ts`. Commands never touch `Deno.stdout`, `Deno.env` or
 * `Deno.exit` themselves.
 *
 * @module
 */

/** Which of the standard streams are attached to a terminal. */
export interface TtyFlags {
  /** Standard input is a terminal. */
  readonly stdin: boolean;
  /** Standard output is a terminal. */
  readonly stdout: boolean;
  /** Standard error is a terminal. */
  readonly stderr: boolean;
}

/** Everything a command may use to talk to its caller. */
export interface Io {
  /** Data only: what a script pipes on. */
  readonly stdout: WritableStream<Uint8Array>;
  /** Progress, logs and errors. */
  readonly stderr: WritableStream<Uint8Array>;
  /** Input data (e.g. events piped in). */
  readonly stdin: ReadableStream<Uint8Array>;
  /** Environment variables. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Working directory that relative paths resolve against. */
  readonly cwd: string;
  /** Which streams are terminals. */
  readonly isTTY: TtyFlags;
  /** Width of the terminal in columns, when known. */
  readonly columns?: number;
  /** Aborted when the user presses Ctrl-C. */
  readonly signal: AbortSignal;
}

const encoder = new TextEncoder();

/**
 * Writes `text` to a stream without keeping its lock, so other writers can follow.
 *
 * @example
 * ```ts
 * import { write } from "./io.ts";
 * const chunks: Uint8Array[] = [];
 * await write(new WritableStream({ write: (c) => void chunks.push(c) }), "hi\n");
 * console.log(chunks.length); // 1
 * ```
 */
export async function write(stream: WritableStream<Uint8Array>, text: string): Promise<void> {
  if (text === "") return;
  const writer = stream.getWriter();
  try {
    await writer.write(encoder.encode(text));
  } finally {
    writer.releaseLock();
  }
}

/**
 * Writes `text` and a newline.
 *
 * @example
 * ```ts
 * import { writeLine } from "./io.ts";
 * await writeLine(new WritableStream(), "hello");
 * ```
 */
export function writeLine(stream: WritableStream<Uint8Array>, text: string): Promise<void> {
  return write(stream, text + "\n");
}

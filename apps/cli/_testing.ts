/**
 * Test helpers: an in-memory {@linkcode Io}.
 *
 * @module
 */
import type { Io, TtyFlags } from "./io.ts";

/** Options of {@linkcode memoryIo}. */
export interface MemoryIoOptions {
  /** Environment (default: empty, i.e. no HOME). */
  env?: Record<string, string | undefined>;
  /** Working directory (default `/`). */
  cwd?: string;
  /** Terminal flags (default: none is a terminal). */
  isTTY?: Partial<TtyFlags>;
  /** Text on stdin. */
  stdin?: string;
  /** Ctrl-C signal. */
  signal?: AbortSignal;
  /** Terminal width. */
  columns?: number;
}

/** An {@linkcode Io} whose output is collected in memory. */
export interface MemoryIo extends Io {
  /** Everything written to stdout, decoded. */
  stdoutText(): string;
  /** Everything written to stderr, decoded. */
  stderrText(): string;
}

function collector(): { stream: WritableStream<Uint8Array>; text(): string } {
  const chunks: Uint8Array[] = [];
  return {
    stream: new WritableStream<Uint8Array>({ write: (chunk) => void chunks.push(chunk.slice()) }),
    text: () => {
      const decoder = new TextDecoder();
      return chunks.map((c) => decoder.decode(c, { stream: true })).join("") + decoder.decode();
    },
  };
}

/**
 * An in-memory {@linkcode Io} for `run()` in tests.
 *
 * @example
 * ```ts
 * import { memoryIo } from "./_testing.ts";
 * import { writeLine } from "./io.ts";
 * const io = memoryIo();
 * await writeLine(io.stdout, "x");
 * console.log(io.stdoutText()); // "x\n"
 * ```
 */
export function memoryIo(options: MemoryIoOptions = {}): MemoryIo {
  const out = collector();
  const err = collector();
  const input = new TextEncoder().encode(options.stdin ?? "");
  return {
    stdout: out.stream,
    stderr: err.stream,
    stdin: new ReadableStream<Uint8Array>({
      start(controller) {
        if (input.length > 0) controller.enqueue(input);
        controller.close();
      },
    }),
    env: options.env ?? {},
    cwd: options.cwd ?? "/",
    isTTY: { stdin: false, stdout: false, stderr: false, ...options.isTTY },
    columns: options.columns,
    signal: options.signal ?? new AbortController().signal,
    stdoutText: out.text,
    stderrText: err.text,
  };
}

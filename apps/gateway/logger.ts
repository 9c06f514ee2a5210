/**
 * Structured access and error logs: one JSON object per line, buffered and written in batches
 * so the request path does not wait for I/O. No headers, bodies or query strings are logged,
 * so credentials and SQL never reach the log.
 *
 * @module
 */

/** One access-log record. */
export interface AccessLogEntry {
  /** ISO-8601 time the response was sent. */
  time: string;
  /** The request id. */
  requestId: string;
  /** HTTP method. */
  method: string;
  /** The matched route pattern, e.g. `/v1/data-query/query/:queryId`. */
  route: string;
  /** The path, without the query string. */
  path: string;
  /** HTTP status. */
  status: number;
  /** Handling time in milliseconds. */
  durationMs: number;
  /** The caller's name, once authenticated. */
  identity?: string;
  /** The error code of a non-2xx response. */
  code?: string;
}

/** Where the gateway logs. */
export interface Logger {
  /** Records one request. */
  access(entry: AccessLogEntry): void;
  /** Records a server-side failure (with its stack). */
  error(message: string, fields?: Record<string, unknown>): void;
  /** Records a notable event (start, drain, stop). */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Writes out what is buffered. */
  flush(): void;
}

/** Options of {@linkcode createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Records buffered before a write (default 256). */
  batch?: number;
  /** Longest a record waits in the buffer, ms (default 1,000). */
  maxDelayMs?: number;
}

/**
 * A logger writing JSON lines through `write` (e.g. to stderr) in batches.
 *
 * @example
 * ```ts
 * import { createJsonLogger } from "./logger.ts";
 * const lines: string[] = [];
 * const logger = createJsonLogger((text) => lines.push(text));
 * logger.error("Cannot start", { port: 80 });
 * logger.flush();
 * console.log(JSON.parse(lines[0]).message); // "Cannot start"
 * ```
 */
export function createJsonLogger(
  write: (text: string) => void,
  options: JsonLoggerOptions = {},
): Logger {
  const batch = options.batch ?? 256;
  const maxDelay = options.maxDelayMs ?? 1_000;
  let buffer: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (buffer.length === 0) return;
    const text = buffer.join("\n") + "\n";
    buffer = [];
    write(text);
  };
  const push = (line: string) => {
    buffer.push(line);
    if (buffer.length >= batch) flush();
    else if (timer === undefined) timer = setTimeout(flush, maxDelay);
  };
  return {
    access(entry: AccessLogEntry): void {
      push(`{"level":"info","kind":"access",${JSON.stringify(entry).slice(1)}`);
    },
    error(message: string, fields: Record<string, unknown> = {}): void {
      push(JSON.stringify({ level: "error", time: new Date().toISOString(), message, ...fields }));
    },
    info(message: string, fields: Record<string, unknown> = {}): void {
      push(JSON.stringify({ level: "info", time: new Date().toISOString(), message, ...fields }));
    },
    flush,
  };
}

/**
 * A logger that drops everything (the default of `createApp`).
 *
 * @example
 * ```ts
 * import { nullLogger } from "./logger.ts";
 * nullLogger.error("ignored");
 * ```
 */
export const nullLogger: Logger = Object.freeze({
  access(): void {},
  error(): void {},
  info(): void {},
  flush(): void {},
});

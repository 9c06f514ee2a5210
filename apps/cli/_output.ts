/**
 * Query rows on stdout or in a file: an aligned table, CSV, JSON or NDJSON. Rows are streamed
 * (CSV, JSON, NDJSON never hold the result in memory; the table must, to align its columns).
 *
 * Values stay the engine's exact text (decimals keep every digit); SQL NULL is `NULL` in the
 * table, the empty unquoted field in CSV (`""` is the empty string, as in the stored result) and
 * `null` in JSON and NDJSON.
 *
 * @module
 */
import { open } from "node:fs/promises";
import { InvalidArgumentError, PermissionDeniedError, throwIfAborted } from "@eventlake/schema";
import { visibleWidth } from "./format.ts";
import { didYouMean } from "./suggest.ts";

/** Output formats of query rows. */
export const OUTPUT_FORMATS = ["table", "csv", "json", "ndjson"] as const;

/** One of {@linkcode OUTPUT_FORMATS}. */
export type OutputFormat = typeof OUTPUT_FORMATS[number];

/**
 * Checks a `--format` value.
 *
 * @example
 * ```ts
 * import { parseOutputFormat } from "./_output.ts";
 * console.log(parseOutputFormat("NDJSON")); // "ndjson"
 * ```
 */
export function parseOutputFormat(value: string): OutputFormat {
  const format = value.trim().toLowerCase();
  if ((OUTPUT_FORMATS as readonly string[]).includes(format)) return format as OutputFormat;
  throw new InvalidArgumentError(
    `Invalid format "${value}": expected ${OUTPUT_FORMATS.join(", ")}`,
    { details: { hint: didYouMean(format, OUTPUT_FORMATS) ?? "" } },
  );
}

/** One result column. */
export interface OutputColumn {
  /** Column name. */
  name: string;
  /** Engine type, e.g. `bigint` (numbers are right-aligned in the table). */
  type?: string;
}

/** Rows in batches (a batch per chunk or page: per-row async iteration costs more than the work). */
export type RowBatches =
  | AsyncIterable<readonly (readonly (string | null)[])[]>
  | Iterable<readonly (readonly (string | null)[])[]>;

/** Options of {@linkcode writeRows}. */
export interface WriteRowsOptions {
  /** The format. */
  format: OutputFormat;
  /** Stops writing (the rows read so far are written). */
  signal?: AbortSignal;
}

const NUMERIC_TYPE =
  /^(tinyint|smallint|integer|int|bigint|hugeint|u\w*int|float|double|real|decimal|numeric)/i;
const FLUSH_CHARS = 64 * 1024;
// deno-lint-ignore no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

/** Quotes a CSV field when it must be: `"`, `,`, CR, LF, or the empty string; NULL is empty. */
function csvField(value: string | null): string {
  if (value === null) return "";
  if (value === "" || /[",\r\n]/.test(value)) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

/** Table cell: control characters shown escaped, so one row stays one line. */
function tableCell(value: string | null): string {
  if (value === null) return "NULL";
  return value.replace(
    CONTROL_CHARS,
    (ch) =>
      ch === "\n"
        ? "\\n"
        : ch === "\r"
        ? "\\r"
        : ch === "\t"
        ? "\\t"
        : `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/**
 * Writes batches of rows to `sink` in `format` and returns how many rows were written. The sink's lock is held
 * while writing and released at the end; the sink is not closed.
 *
 * @example
 * ```ts
 * import { writeRows } from "./_output.ts";
 * let text = "";
 * const sink = new WritableStream<Uint8Array>({ write: (c) => void (text += new TextDecoder().decode(c)) });
 * const batches = [[["1", "a"]], [["22", null]]];
 * await writeRows(sink, [{ name: "n", type: "integer" }, { name: "s" }], batches, { format: "table" });
 * console.log(text);
 * //  n  s
 * // --  ----
 * //  1  a
 * // 22  NULL
 * ```
 */
export async function writeRows(
  sink: WritableStream<Uint8Array>,
  columns: readonly OutputColumn[],
  batches: RowBatches,
  options: WriteRowsOptions,
): Promise<number> {
  const encoder = new TextEncoder();
  const writer = sink.getWriter();
  let buffer = "";
  const flush = async (): Promise<void> => {
    if (buffer === "") return;
    const chunk = encoder.encode(buffer);
    buffer = "";
    await writer.write(chunk);
  };
  const emit = async (text: string): Promise<void> => {
    buffer += text;
    if (buffer.length >= FLUSH_CHARS) await flush();
  };
  const names = columns.map((c) => c.name);
  let count = 0;
  try {
    switch (options.format) {
      case "csv": {
        await emit(names.map(csvField).join(",") + "\r\n");
        for await (const batch of batches) {
          throwIfAborted(options.signal);
          for (const row of batch) {
            for (let i = 0; i < row.length; i++) {
              if (i > 0) buffer += ",";
              const value = row[i];
              if (value !== null) buffer += csvField(value);
            }
            buffer += "\r\n";
          }
          count += batch.length;
          if (buffer.length >= FLUSH_CHARS) await flush();
        }
        break;
      }
      case "ndjson":
      case "json": {
        const json = options.format === "json";
        if (json) await emit("[");
        for await (const batch of batches) {
          throwIfAborted(options.signal);
          for (const row of batch) {
            const object: Record<string, string | null> = {};
            for (let i = 0; i < names.length; i++) object[names[i]] = row[i] ?? null;
            const text = JSON.stringify(object);
            buffer += json ? (count === 0 ? "\n" : ",\n") + text : text + "\n";
            count++;
          }
          if (buffer.length >= FLUSH_CHARS) await flush();
        }
        if (json) await emit(count === 0 ? "]\n" : "\n]\n");
        break;
      }
      case "table": {
        const cells: string[][] = [names.map(tableCell)];
        for await (const batch of batches) {
          throwIfAborted(options.signal);
          for (const row of batch) cells.push(row.map(tableCell));
          count += batch.length;
        }
        // A loop, not Math.max(...column): a spread of a million cells overflows the stack.
        const widths = names.map(() => 1);
        for (const row of cells) {
          for (let i = 0; i < widths.length; i++) {
            const w = visibleWidth(row[i] ?? "");
            if (w > widths[i]) widths[i] = w;
          }
        }
        const right = columns.map((c) => c.type !== undefined && NUMERIC_TYPE.test(c.type));
        const line = (row: readonly string[]): string =>
          row.map((cell, i) => {
            const pad = " ".repeat(Math.max(0, widths[i] - visibleWidth(cell)));
            return right[i] ? pad + cell : i === row.length - 1 ? cell : cell + pad;
          }).join("  ").trimEnd() + "\n";
        await emit(line(cells[0]));
        await emit(widths.map((w) => "-".repeat(Math.max(1, w))).join("  ") + "\n");
        for (let r = 1; r < cells.length; r++) {
          buffer += line(cells[r]);
          if (buffer.length >= FLUSH_CHARS) await flush();
        }
        break;
      }
    }
    await flush();
  } finally {
    writer.releaseLock();
  }
  return count;
}

/** A file opened for writing, as a stream. */
export interface FileSink {
  /** Bytes written here go to the file. */
  stream: WritableStream<Uint8Array>;
  /** Closes the file (after the last write). */
  close(): Promise<void>;
}

/**
 * Creates (or truncates) `path` and returns a stream into it.
 *
 * @example
 * ```ts
 * import { openFileSink, writeRows } from "./_output.ts";
 * const dir = await Deno.makeTempDir();
 * const file = await openFileSink(`${dir}/rows.csv`);
 * await writeRows(file.stream, [{ name: "n" }], [[["1"]]], { format: "csv" });
 * await file.close();
 * console.log(await Deno.readTextFile(`${dir}/rows.csv`)); // "n\r\n1\r\n"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openFileSink(path: string): Promise<FileSink> {
  let handle;
  try {
    handle = await open(path, "w");
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === "ENOENT"
      ? "its folder does not exist"
      : code === "EISDIR"
      ? "it is a folder"
      : error instanceof Error
      ? error.message
      : String(error);
    const options = { cause: error, details: { path } };
    throw code === "EACCES" || code === "EPERM"
      ? new PermissionDeniedError(`Cannot write "${path}": permission denied`, options)
      : new InvalidArgumentError(`Cannot write "${path}": ${why}`, options);
  }
  const file = handle;
  let closed = false;
  return {
    stream: new WritableStream<Uint8Array>({
      async write(chunk) {
        let offset = 0;
        while (offset < chunk.length) {
          const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
          offset += bytesWritten;
        }
      },
    }),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await file.close();
    },
  };
}

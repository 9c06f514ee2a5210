/**
 * Reads a stored query result: RFC 4180 CSV as the Data Query service writes it (CRLF or LF line
 * ends, `"` quoting with `""` escapes), where an empty UNQUOTED field is SQL NULL and `""` is the
 * empty string.
 *
 * @module
 */
import { InvalidArgumentError, throwIfAborted } from "@eventlake/schema";

/**
 * Parses CSV records from a byte stream, one array per record (`null` for NULL).
 *
 * @example
 * ```ts
 * import { parseCsvStream } from "./_client_csv.ts";
 * const bytes = new TextEncoder().encode('a,b\r\n1,\r\n"x,y",""\r\n');
 * const records = [];
 * for await (const r of parseCsvStream(ReadableStream.from([bytes]))) records.push(r);
 * console.log(records); // [["a", "b"], ["1", null], ["x,y", ""]]
 * ```
 */
export async function* parseCsvStream(
  stream: ReadableStream<Uint8Array>,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<(string | null)[]> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let record: (string | null)[] = [];
  let field = "";
  let quoted = false; // the current field started with a quote
  let inQuotes = false; // inside the quotes now
  let afterQuote = false; // just saw a quote inside quotes (closing, or the first of "")
  let fieldStarted = false;
  let line = 1;
  const endField = (): void => {
    record.push(!quoted && field === "" ? null : field);
    field = "";
    quoted = false;
    fieldStarted = false;
  };
  const reader = stream.getReader();
  try {
    let pendingCr = false;
    for (;;) {
      throwIfAborted(options.signal);
      const { done, value } = await reader.read();
      const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      const out: (string | null)[][] = [];
      for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (pendingCr) {
          pendingCr = false;
          if (ch === "\n") continue;
        }
        if (inQuotes) {
          if (afterQuote) {
            afterQuote = false;
            if (ch === '"') {
              field += '"';
              continue;
            }
            inQuotes = false; // the quote closed the field: fall through
          } else if (ch === '"') {
            afterQuote = true;
            continue;
          } else {
            if (ch === "\n") line++;
            field += ch;
            continue;
          }
        }
        if (ch === ",") {
          endField();
        } else if (ch === "\r" || ch === "\n") {
          endField();
          out.push(record);
          record = [];
          line++;
          if (ch === "\r") pendingCr = true;
        } else if (ch === '"' && !fieldStarted) {
          quoted = true;
          inQuotes = true;
          fieldStarted = true;
        } else {
          if (quoted) {
            throw new InvalidArgumentError(
              `Cannot read the result CSV: unexpected "${ch}" after a closing quote on line ${line}`,
            );
          }
          field += ch;
          fieldStarted = true;
        }
      }
      yield* out;
      if (done) break;
    }
    if (inQuotes && !afterQuote) {
      throw new InvalidArgumentError(
        `Cannot read the result CSV: a quoted field is not closed at the end (line ${line})`,
      );
    }
    if (fieldStarted || quoted || record.length > 0) {
      endField();
      yield record;
    }
  } finally {
    reader.releaseLock();
    await stream.cancel().catch(() => {});
  }
}

/**
 * Reads a stored query result: RFC 4180 CSV as the Data Query service writes it (CRLF or LF line
 * ends, `"` quoting with `""` escapes), where an empty UNQUOTED field is SQL NULL and `""` is the
 * empty string.
 *
 * The parser scans with `indexOf`/`charCodeAt` and cuts fields with `slice` (no per-character
 * string building): a record cut by a chunk edge is parsed again with the next chunk.
 *
 * @module
 */
import { InvalidArgumentError, throwIfAborted } from "@eventlake/schema";

const COMMA = 44;
const CR = 13;
const LF = 10;
const QUOTE = 34;

/**
 * Parses the complete records of `text` into `out` and returns where the unparsed rest begins
 * (the start of a record the text does not finish, unless `final`).
 */
function parseRecords(
  text: string,
  final: boolean,
  out: (string | null)[][],
  recordBase: number,
): number {
  const len = text.length;
  let pos = 0;
  const fail = (why: string): never => {
    throw new InvalidArgumentError(
      `Cannot read the result CSV: ${why} in record ${recordBase + out.length + 1}`,
    );
  };
  records: while (pos < len) {
    const recordStart = pos;
    const record: (string | null)[] = [];
    for (;;) {
      if (pos < len && text.charCodeAt(pos) === QUOTE) {
        let value = "";
        let p = pos + 1;
        for (;;) {
          const q = text.indexOf('"', p);
          if (q === -1) {
            if (final) fail("a quoted field is not closed");
            return recordStart;
          }
          if (q + 1 >= len && !final) return recordStart; // `"` or `""`: the next chunk tells
          if (q + 1 < len && text.charCodeAt(q + 1) === QUOTE) {
            value += text.slice(p, q + 1);
            p = q + 2;
            continue;
          }
          value += text.slice(p, q);
          pos = q + 1;
          break;
        }
        record.push(value);
      } else {
        let p = pos;
        while (p < len) {
          const c = text.charCodeAt(p);
          if (c === COMMA || c === CR || c === LF) break;
          if (c === QUOTE) fail("a quote inside an unquoted field");
          p++;
        }
        if (p >= len && !final) return recordStart;
        record.push(p === pos ? null : text.slice(pos, p));
        pos = p;
      }
      if (pos >= len) {
        out.push(record);
        return len;
      }
      const c = text.charCodeAt(pos);
      if (c === COMMA) {
        pos++;
        continue;
      }
      if (c === CR) {
        if (pos + 1 >= len && !final) return recordStart;
        pos += pos + 1 < len && text.charCodeAt(pos + 1) === LF ? 2 : 1;
        out.push(record);
        continue records;
      }
      if (c === LF) {
        pos++;
        out.push(record);
        continue records;
      }
      fail(`unexpected "${text[pos]}" after a closing quote`);
    }
  }
  return pos;
}

/**
 * Parses CSV records from a byte stream in batches (one batch per chunk read), `null` for NULL.
 *
 * @example
 * ```ts
 * import { parseCsvBatches } from "./_client_csv.ts";
 * const bytes = new TextEncoder().encode("a\r\n1\r\n");
 * for await (const batch of parseCsvBatches(ReadableStream.from([bytes]))) console.log(batch); // [["a"], ["1"]]
 * ```
 */
export async function* parseCsvBatches(
  stream: ReadableStream<Uint8Array>,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<(string | null)[][]> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const reader = stream.getReader();
  let rest = "";
  let records = 0;
  try {
    for (;;) {
      throwIfAborted(options.signal);
      const { done, value } = await reader.read();
      const text = rest + (done ? decoder.decode() : decoder.decode(value, { stream: true }));
      const batch: (string | null)[][] = [];
      const used = parseRecords(text, done, batch, records);
      rest = used === text.length ? "" : text.slice(used);
      records += batch.length;
      if (batch.length > 0) yield batch;
      if (done) break;
    }
  } finally {
    reader.releaseLock();
    await stream.cancel().catch(() => {});
  }
}

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
  for await (const batch of parseCsvBatches(stream, options)) yield* batch;
}

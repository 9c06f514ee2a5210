/**
 * Input readers of `exportEvents`: NDJSON, a JSON array, CSV and Parquet, from local files,
 * globs or a stream (stdin). Records come out in batches with where they were found, not yet
 * validated: the exporter validates them with the schema package.
 *
 * This is local-filesystem code (it opens files and walks folders with `Deno.*`).
 *
 * @module
 */
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import {
  type Event,
  EVENT_COLUMNS,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  type Problem,
  throwIfAborted,
} from "@eventlake/schema";
import { type ByteSource, bytesSource, fileSource, readEventBatches } from "@eventlake/parquet";

/** A format of input records. */
export type InputFormat = "ndjson" | "json" | "csv" | "parquet";

/** The formats, for messages and flags. */
export const INPUT_FORMATS: readonly InputFormat[] = ["ndjson", "json", "csv", "parquet"];

/** An input given as a stream (stdin, a download): `name` is used in messages. */
export interface StreamInput {
  /** Shown in messages and in the reject file, e.g. `"stdin"`. */
  name: string;
  /** The bytes. */
  stream: ReadableStream<Uint8Array>;
  /** The format; sniffed from the first bytes when absent. */
  format?: InputFormat;
}

/** An input: a local file path or glob (`data/*.ndjson`, `**` for any depth), or a stream. */
export type ExportInput = string | StreamInput;

/** One record as read, not yet validated. */
export type InputRecord =
  /** A JSON value (NDJSON line, array element, CSV row turned into an object). */
  | { kind: "value"; input: string; line: number; value: unknown }
  /** An event read from a Parquet file (typed already). */
  | { kind: "event"; input: string; row: number; event: Event }
  /** Something that could not become a record (bad JSON, a CSV row of the wrong width). */
  | {
    kind: "invalid";
    input: string;
    line?: number;
    row?: number;
    text: string;
    problems: Problem[];
  };

/** Where a record was found, for messages: `line 12` or `row 3`. */
export function positionOf(record: InputRecord): string {
  if (record.kind === "value") return `line ${record.line}`;
  if (record.kind === "event") return `row ${record.row}`;
  return record.line !== undefined ? `line ${record.line}` : `row ${record.row}`;
}

/** Options of {@linkcode readInputs}. */
export interface ReadInputsOptions {
  /** Resolves relative paths (default: the process's working directory). */
  cwd?: string;
  /** Forces a format for every input (default: by extension, else sniffed). */
  format?: InputFormat;
  /** Records per yielded batch (default 1024). */
  batchSize?: number;
  /** Cancels reading. */
  signal?: AbortSignal;
}

/** Longest raw text kept for an invalid record. */
const TEXT_MAX = 1000;
const GLOB_CHARS = /[*?[]/;

function cut(text: string): string {
  return text.length > TEXT_MAX ? text.slice(0, TEXT_MAX - 1) + "…" : text;
}

/**
 * Expands the inputs to concrete sources: each glob to its matching files (sorted), each
 * path checked to exist. A glob that matches nothing, or a missing file, is a `NotFoundError`
 * naming it.
 */
export async function expandInputs(
  inputs: readonly ExportInput[],
  options: { cwd?: string; signal?: AbortSignal } = {},
): Promise<(StreamInput | { name: string; path: string })[]> {
  const cwd = options.cwd ?? Deno.cwd();
  const out: (StreamInput | { name: string; path: string })[] = [];
  for (const input of inputs) {
    throwIfAborted(options.signal);
    if (typeof input !== "string") {
      out.push(input);
      continue;
    }
    if (input === "") throw new InvalidArgumentError('Cannot read input "": the path is empty');
    if (GLOB_CHARS.test(input)) {
      const files = await expandGlob(input, cwd);
      if (files.length === 0) {
        throw new NotFoundError(`Cannot read "${input}": no file matches the pattern`, {
          details: { input },
        });
      }
      for (const path of files) {
        out.push({ name: isAbsolute(input) ? path : relative(cwd, path), path });
      }
      continue;
    }
    const path = resolve(cwd, input);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (e) {
      throw openError(e, input);
    }
    if (!info.isFile) {
      throw new InvalidArgumentError(`Cannot read "${input}": not a file`, { details: { input } });
    }
    out.push({ name: input, path });
  }
  return out;
}

/** Files under the glob's fixed leading folders that match it, sorted. */
async function expandGlob(pattern: string, cwd: string): Promise<string[]> {
  const absolute = resolve(cwd, pattern);
  const parts = absolute.split(sep);
  let i = 0;
  while (i < parts.length && !GLOB_CHARS.test(parts[i])) i++;
  const base = parts.slice(0, i).join(sep) || sep;
  const re = globRegExp(parts.slice(i).join("/"));
  const found: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return;
      throw openError(e, dir);
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const r = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory) await walk(path, r);
      else if (entry.isFile && re.test(r)) found.push(path);
    }
  };
  await walk(base, "");
  return found.sort();
}

/** `*` and `?` stay within a folder, `**` crosses folders, `[abc]` is a class. */
function globRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") {
        i++;
        re += "(?:.*/)?";
      } else re += ".*";
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\");
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** An error of opening a local input, translated. */
function openError(error: unknown, name: string): Error {
  const why = (error as Error).message;
  if (error instanceof Deno.errors.NotFound) {
    return new NotFoundError(`Cannot read "${name}": no such file`, { details: { input: name } });
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new PermissionDeniedError(`Cannot read "${name}": permission denied`, {
      details: { input: name },
    });
  }
  return new InternalError(`Cannot read "${name}": ${why}`, { cause: error });
}

/** The format a file name implies, if any. */
function formatOfName(name: string): InputFormat | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith(".parquet")) return "parquet";
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".ndjson") || lower.endsWith(".jsonl")) return "ndjson";
  return undefined;
}

/** The format the first bytes suggest: Parquet magic, `[`, `{`, else CSV. */
function sniff(head: Uint8Array): InputFormat {
  if (
    head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31
  ) {
    return "parquet";
  }
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3; // BOM
  for (; i < head.length; i++) {
    const c = head[i];
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (c === 0x5b) return "json";
    if (c === 0x7b) return "ndjson";
    return "csv";
  }
  return "ndjson";
}

/** Reads the first chunk of a stream and returns it with a stream that yields everything. */
async function peek(
  stream: ReadableStream<Uint8Array>,
): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const reader = stream.getReader();
  const first = await reader.read();
  const head = first.done ? new Uint8Array(0) : first.value;
  let sentHead = first.done;
  const replay = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentHead) {
        sentHead = true;
        controller.enqueue(head);
        return;
      }
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  if (first.done) reader.releaseLock();
  return { head, stream: replay };
}

/**
 * Reads every input in order and yields its records in batches. A fatal problem of an input
 * (unreadable file, broken JSON array, CSV header) throws an `InvalidArgumentError` naming the
 * input and the line; a bad record is yielded as `kind: "invalid"` instead.
 */
export async function* readInputs(
  inputs: readonly ExportInput[],
  options: ReadInputsOptions = {},
): AsyncGenerator<InputRecord[], void, undefined> {
  const { signal } = options;
  const batchSize = options.batchSize ?? 1024;
  for (const input of await expandInputs(inputs, options)) {
    throwIfAborted(signal);
    let format = options.format ?? ("path" in input ? formatOfName(input.name) : input.format);
    if (format === "parquet") {
      yield* readParquet(input, batchSize, signal);
      continue;
    }
    let stream: ReadableStream<Uint8Array>;
    if ("path" in input) {
      try {
        stream = (await Deno.open(input.path)).readable;
      } catch (e) {
        throw openError(e, input.name);
      }
    } else stream = input.stream;
    if (format === undefined) {
      const peeked = await peek(stream);
      stream = peeked.stream;
      format = sniff(peeked.head);
      if (format === "parquet") {
        yield* readParquet({ name: input.name, stream, format }, batchSize, signal);
        continue;
      }
    }
    const text = stream.pipeThrough(new TextDecoderStream("utf-8", { ignoreBOM: false }));
    const chunks = format === "csv"
      ? readCsv(text, input.name, signal)
      : format === "json"
      ? readJsonArray(text, input.name, signal)
      : readNdjson(text, input.name, signal);
    let batch: InputRecord[] = [];
    try {
      for await (const records of chunks) {
        for (const record of records) batch.push(record);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    } catch (e) {
      if (e instanceof TypeError && /decode|encoded/i.test(e.message)) {
        throw new InvalidArgumentError(`Cannot read "${input.name}": the text is not valid UTF-8`, {
          cause: e,
          details: { input: input.name },
        });
      }
      throw e;
    }
    if (batch.length > 0) yield batch;
  }
}

/** Yields the lines of a text stream with their 1-based numbers, one array per chunk. */
async function* lines(
  text: ReadableStream<string>,
  signal: AbortSignal | undefined,
): AsyncGenerator<[string, number][], void, undefined> {
  let rest = "";
  let line = 0;
  for await (const chunk of text) {
    throwIfAborted(signal);
    const out: [string, number][] = [];
    let start = 0;
    const data = rest + chunk;
    for (let nl = data.indexOf("\n"); nl >= 0; nl = data.indexOf("\n", start)) {
      line++;
      const end = nl > start && data.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      out.push([data.slice(start, end), line]);
      start = nl + 1;
    }
    rest = data.slice(start);
    if (out.length > 0) yield out;
  }
  if (rest !== "") yield [[rest.endsWith("\r") ? rest.slice(0, -1) : rest, line + 1]];
}

async function* readNdjson(
  text: ReadableStream<string>,
  name: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<InputRecord[], void, undefined> {
  for await (const chunk of lines(text, signal)) {
    const out: InputRecord[] = [];
    for (const [line, number] of chunk) {
      if (line.trim() === "") continue;
      out.push(parseJsonRecord(line, name, number, "Line"));
    }
    if (out.length > 0) yield out;
  }
}

function parseJsonRecord(text: string, name: string, line: number, what: string): InputRecord {
  try {
    return { kind: "value", input: name, line, value: JSON.parse(text) };
  } catch (e) {
    return {
      kind: "invalid",
      input: name,
      line,
      text: cut(text),
      problems: [{
        path: "",
        rule: "json",
        message: `${what} is not valid JSON: ${(e as Error).message}`,
        value: cut(text).slice(0, 80),
      }],
    };
  }
}

/**
 * A JSON array, streamed: the text is split into its top-level elements (tracking strings and
 * nesting), and each element is parsed on its own, so memory holds one element at a time.
 */
async function* readJsonArray(
  text: ReadableStream<string>,
  name: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<InputRecord[], void, undefined> {
  let state: "before" | "element" | "after" = "before";
  let depth = 0;
  let inString = false;
  let escape = false;
  let line = 1;
  let elementLine = 1;
  let parts: string[] = [];
  let elementStarted = false;
  let sawComma = false;
  let count = 0;
  const fail = (message: string): never => {
    throw new InvalidArgumentError(`Cannot read "${name}" line ${line}: ${message}`, {
      details: { input: name, line },
    });
  };
  for await (const chunk of text) {
    throwIfAborted(signal);
    const out: InputRecord[] = [];
    let start = elementStarted ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 10) line++;
      if (state === "before") {
        if (c === 0x5b) {
          state = "element";
          continue;
        }
        if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff) continue;
        fail('expected a JSON array starting with "["');
      }
      if (state === "after") {
        if (c === 32 || c === 9 || c === 10 || c === 13) continue;
        fail("unexpected text after the end of the JSON array");
      }
      if (inString) {
        if (escape) escape = false;
        else if (c === 0x5c) escape = true;
        else if (c === 0x22) inString = false;
        continue;
      }
      if (depth === 0 && (c === 0x2c || c === 0x5d)) {
        if (elementStarted) {
          if (start >= 0) parts.push(chunk.slice(start, i));
          out.push(parseJsonRecord(parts.join(""), name, elementLine, `Element ${count}`));
          count++;
          parts = [];
          start = -1;
          elementStarted = false;
          sawComma = c === 0x2c;
        } else if (c === 0x2c || sawComma) {
          fail(c === 0x2c ? 'unexpected ",": an element is missing' : 'trailing "," before "]"');
        }
        if (c === 0x5d) state = "after";
        continue;
      }
      if (!elementStarted) {
        if (c === 32 || c === 9 || c === 10 || c === 13) continue;
        elementStarted = true;
        elementLine = line;
        start = i;
      }
      if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) depth--;
    }
    if (elementStarted && start >= 0) parts.push(chunk.slice(start));
    if (out.length > 0) yield out;
  }
  if (state === "before") fail("the input is empty, expected a JSON array");
  if (state === "element") fail('the JSON array is not closed with "]"');
}

/** Columns whose CSV cell is a JSON object. */
const CSV_MAP_COLUMNS = new Set([
  "identifiers",
  "event_properties",
  "user_properties",
  "platform_properties",
]);
/** Columns whose empty CSV cell means "omitted" (the schema's default applies). */
const CSV_OPTIONAL = new Set(["metric_value", "event_properties", "user_properties"]);

/**
 * CSV (RFC 4180): a header row naming exactly the event columns (any order); fields separated
 * by `,`, quoted with `"` (a quote inside is doubled), records by CRLF or LF. Map columns hold
 * JSON objects; `ts` is ISO-8601 text or integer epoch milliseconds.
 */
async function* readCsv(
  text: ReadableStream<string>,
  name: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<InputRecord[], void, undefined> {
  let header: string[] | undefined;
  for await (const rows of csvRecords(text, name, signal)) {
    const out: InputRecord[] = [];
    for (const [fields, line, raw] of rows) {
      if (header === undefined) {
        header = checkCsvHeader(fields, name);
        continue;
      }
      if (fields.length === 1 && fields[0] === "") continue; // blank line
      if (fields.length !== header.length) {
        out.push({
          kind: "invalid",
          input: name,
          line,
          text: cut(raw),
          problems: [{
            path: "",
            rule: "csv",
            message: `Row has ${fields.length} fields, the header has ${header.length}`,
            value: cut(raw).slice(0, 80),
          }],
        });
        continue;
      }
      const value: Record<string, unknown> = {};
      const problems: Problem[] = [];
      for (let i = 0; i < header.length; i++) {
        const column = header[i];
        const cell = fields[i];
        if (cell === "" && CSV_OPTIONAL.has(column)) continue;
        if (cell === "" && column !== "event_key") continue; // reported as missing by the schema
        if (CSV_MAP_COLUMNS.has(column)) {
          try {
            value[column] = JSON.parse(cell);
          } catch (e) {
            problems.push({
              path: column,
              rule: "json",
              message: `${column} must be a JSON object: ${(e as Error).message}`,
              value: cell.slice(0, 80),
            });
          }
        } else if (column === "ts" && /^-?\d+$/.test(cell)) value.ts = Number(cell);
        else value[column] = cell;
      }
      if (problems.length > 0) {
        out.push({ kind: "invalid", input: name, line, text: cut(raw), problems });
      } else out.push({ kind: "value", input: name, line, value });
    }
    if (out.length > 0) yield out;
  }
  if (header === undefined) {
    throw new InvalidArgumentError(`Cannot read "${name}" line 1: the CSV header row is missing`, {
      details: { input: name, line: 1 },
    });
  }
}

function checkCsvHeader(fields: string[], name: string): string[] {
  const names = fields.map((f, i) => i === 0 ? f.replace(/^\ufeff/, "").trim() : f.trim());
  const expected: readonly string[] = EVENT_COLUMNS;
  const unknown = names.filter((n) => !expected.includes(n));
  const missing = expected.filter((n) => !names.includes(n));
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (unknown.length + missing.length + repeated.length > 0) {
    const why = [
      unknown.length > 0 ? `unknown ${unknown.map((n) => `"${n}"`).join(", ")}` : "",
      missing.length > 0 ? `missing ${missing.map((n) => `"${n}"`).join(", ")}` : "",
      repeated.length > 0 ? `repeated ${repeated.map((n) => `"${n}"`).join(", ")}` : "",
    ].filter((s) => s !== "").join("; ");
    throw new InvalidArgumentError(
      `Cannot read "${name}" line 1: the CSV header must name exactly the columns ${
        expected.join(", ")
      }: ${why}`,
      { details: { input: name, line: 1, header: names } },
    );
  }
  return names;
}

/** Splits CSV text into records: `[fields, first line, raw text]`. */
async function* csvRecords(
  text: ReadableStream<string>,
  name: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<[string[], number, string][], void, undefined> {
  let fields: string[] = [];
  let field = "";
  let quoted = false; // inside quotes
  let wasQuoted = false; // the current field was quoted
  let pendingQuote = false; // saw a quote inside quotes: end or escaped quote
  let line = 1;
  let recordLine = 1;
  let raw = "";
  let any = false;
  const out: [string[], number, string][] = [];
  const endRecord = () => {
    fields.push(field);
    out.push([fields, recordLine, raw]);
    fields = [];
    field = "";
    raw = "";
    wasQuoted = false;
    any = false;
  };
  const fail = (message: string): never => {
    throw new InvalidArgumentError(`Cannot read "${name}" line ${line}: ${message}`, {
      details: { input: name, line },
    });
  };
  let skipLf = false;
  for await (const chunk of text) {
    throwIfAborted(signal);
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i];
      if (skipLf) {
        skipLf = false;
        if (ch === "\n") {
          line++;
          continue;
        }
      }
      if (!any) {
        any = true;
        recordLine = line;
      }
      if (ch === "\n") line++;
      if (quoted) {
        if (pendingQuote) {
          pendingQuote = false;
          if (ch === '"') {
            field += '"';
            raw += ch;
            continue;
          }
          quoted = false; // the quote closed the field: fall through
        } else if (ch === '"') {
          pendingQuote = true;
          raw += ch;
          continue;
        } else {
          field += ch;
          raw += ch;
          continue;
        }
      }
      if (ch === ",") {
        fields.push(field);
        field = "";
        wasQuoted = false;
        raw += ch;
      } else if (ch === "\n" || ch === "\r") {
        if (ch === "\r") skipLf = true;
        endRecord();
      } else if (ch === '"') {
        if (field !== "" || wasQuoted) fail("a quote must open its field (RFC 4180)");
        quoted = true;
        wasQuoted = true;
        raw += ch;
      } else {
        if (wasQuoted) fail("text after the closing quote of a field");
        field += ch;
        raw += ch;
      }
    }
    if (out.length > 0) yield out.splice(0);
  }
  if (quoted && !pendingQuote) fail("a quoted field is not closed");
  if (any) endRecord();
  if (out.length > 0) yield out;
}

async function* readParquet(
  input: StreamInput | { name: string; path: string },
  batchSize: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<InputRecord[], void, undefined> {
  let source: ByteSource & { close?: () => Promise<void> };
  if ("path" in input) source = await fileSource(input.path, { signal });
  else {
    // Parquet needs random access: a stream is read into memory first.
    const bytes = new Uint8Array(await new Response(input.stream).arrayBuffer());
    source = bytesSource(bytes);
  }
  const invalid: InputRecord[] = [];
  let row = 0;
  try {
    for await (
      const events of readEventBatches(source, {
        name: input.name,
        batchSize,
        signal,
        onInvalidRow: (error) => {
          const details = error.details as { row?: number; column?: string } | undefined;
          invalid.push({
            kind: "invalid",
            input: input.name,
            row: details?.row ?? -1,
            text: "",
            problems: [{ path: details?.column ?? "", rule: "parquet", message: error.message }],
          });
        },
      })
    ) {
      const out: InputRecord[] = [];
      // Rows skipped as invalid come before the batch that follows them.
      let k = 0;
      for (const event of events) {
        while (k < invalid.length && (invalid[k] as { row: number }).row <= row) {
          out.push(invalid[k++]);
          row++;
        }
        out.push({ kind: "event", input: input.name, row, event });
        row++;
      }
      out.push(...invalid.slice(k));
      row += invalid.length - k;
      invalid.length = 0;
      yield out;
    }
    if (invalid.length > 0) yield invalid.splice(0);
  } finally {
    await source.close?.();
  }
}

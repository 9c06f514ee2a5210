/**
 * Test helpers for whole Parquet files in memory: write events to bytes, read them back,
 * transcode with a keep-mask, walk the page headers, and query files with DuckDB.
 *
 * @module
 */

import type { ColumnMetaData, PageHeader } from "hyparquet";
import { parquetMetadata } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import type { Event } from "@eventlake/schema";
import { bytesSource } from "./source.ts";
import { readEvents } from "./read.ts";
import { writeEvents } from "./write.ts";
import { openTranscode, TranscodeWriter } from "./_transcode.ts";

/** The parts, one after the other, in one array. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `events` written by `writeEvents` into one array. */
export async function toBytes(
  events: Event[],
  options: { rowGroupSize?: number; compression?: "SNAPPY" | "UNCOMPRESSED" } = {},
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await writeEvents(events, new WritableStream({ write: (c) => void chunks.push(c) }), options);
  return concat(chunks);
}

/** Every event of the file `bytes`, through `readEvents` (the object path). */
export async function readAll(bytes: Uint8Array): Promise<Event[]> {
  const out: Event[] = [];
  for await (const e of readEvents(bytesSource(bytes))) out.push(e);
  return out;
}

/**
 * Transcodes every row group of `bytes` (the import's fast path), keeping rows for which
 * `keep(row)` is true; `fallbacks` counts the row groups the fast path declined (dropped here).
 */
export async function transcode(
  bytes: Uint8Array,
  keep: (row: number) => boolean,
): Promise<{ bytes: Uint8Array; fallbacks: number }> {
  const source = bytesSource(bytes);
  const file = await openTranscode(source);
  if (file === undefined) throw new Error("the file is not in the exact schema");
  const chunks: Uint8Array[] = [];
  const writer = new TranscodeWriter(new WritableStream({ write: (c) => void chunks.push(c) }));
  let start = 0;
  let fallbacks = 0;
  try {
    for (let g = 0; g < file.rowGroups; g++) {
      const group = file.decode(g, await file.fetch(source, g));
      const rows = file.rows(g);
      if (group === undefined) {
        fallbacks++;
        start += rows;
        continue;
      }
      const mask = new Uint8Array(rows);
      let kept = 0;
      for (let r = 0; r < rows; r++) if (keep(start + r)) kept += mask[r] = 1;
      if (kept > 0) await writer.append(kept, group.encode(mask, kept));
      start += rows;
    }
    await writer.close();
  } finally {
    file.release();
  }
  return { bytes: concat(chunks), fallbacks };
}

/** One page of a file, as {@linkcode pagesOf} yields it. */
export interface FilePage {
  /** The row group. */
  group: number;
  /** The column's dotted path, e.g. `identifiers.key_value.value`. */
  column: string;
  /** The column chunk's metadata. */
  meta: ColumnMetaData;
  header: PageHeader;
  /** Offset in the file of the page's body (after its header). */
  body: number;
}

/** Every page of every column chunk of the file `bytes`, in file order. */
export function* pagesOf(bytes: Uint8Array): Generator<FilePage> {
  const meta = parquetMetadata(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (const [group, rowGroup] of meta.row_groups.entries()) {
    for (const chunk of rowGroup.columns) {
      const m = chunk.meta_data!;
      const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
      const reader = { view, offset: start };
      while (reader.offset < start + Number(m.total_compressed_size)) {
        const header: PageHeader = parquetHeader(reader);
        yield { group, column: m.path_in_schema.join("."), meta: m, header, body: reader.offset };
        reader.offset += header.compressed_page_size;
      }
    }
  }
}

/**
 * Per row group of the file `bytes`: the `is_compressed` flag of each DATA_PAGE_V2 of the column
 * at dotted path `column`, checking that the chunk's codec is SNAPPY.
 */
export function dataPageCompression(bytes: Uint8Array, column: string): boolean[][] {
  const groups: boolean[][] = [];
  for (const page of pagesOf(bytes)) {
    if (page.column !== column) continue;
    if (page.meta.codec !== "SNAPPY") {
      throw new Error(`${column}: codec ${page.meta.codec}, not SNAPPY`);
    }
    const flags = groups[page.group] ??= [];
    const v2 = page.header.data_page_header_v2;
    if (v2) flags.push(v2.is_compressed ?? true);
  }
  return groups;
}

/**
 * Writes `files` (name → bytes) into a temporary folder and runs `fn` with a query function on
 * an in-memory DuckDB whose home is that folder; removes everything after.
 */
export async function withDuckDb<T>(
  files: Record<string, Uint8Array>,
  fn: (query: (sql: string) => Promise<unknown[][]>, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-parquet-test-" });
  try {
    for (const [name, bytes] of Object.entries(files)) {
      await Deno.writeFile(`${dir}/${name}`, bytes);
    }
    // Imported here: tests that only walk pages must load where DuckDB cannot.
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const db = await DuckDBInstance.create(":memory:", {
      home_directory: dir,
      extension_directory: `${dir}/ext`,
    });
    const conn = await db.connect();
    try {
      return await fn(async (sql) => (await conn.runAndReadAll(sql)).getRows(), dir);
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

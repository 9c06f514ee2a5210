/**
 * Reads only the `insert_id` column of a Parquet object (one row group at a time), through
 * hyparquet: the importer's pre-pass over the day and its scan of the window's earlier days
 * fetch a few percent of each file this way instead of decoding every column.
 *
 * @module
 */
import { parquetMetadataAsync, parquetRead } from "hyparquet";
import {
  AbortedError,
  EventlakeError,
  InvalidArgumentError,
  throwIfAborted,
} from "@eventlake/schema";
import type { ObjectStore } from "@eventlake/storage";
import { openTranscode } from "@eventlake/parquet/transcode";
import { storeAsyncBuffer, storeSource } from "./_import_source.ts";

const utf8 = new TextDecoder();

/**
 * Like {@linkcode forEachInsertId}, but an id of a part in our exact schema that is a UUID is
 * handed over as its bytes (`bytes(buffer, at)`, returning `undefined` when it refuses them),
 * without making a string: the pre-pass over a 10,000,000-row day then creates no string per
 * row. Other ids, and parts of other layouts, go to `text` (through hyparquet).
 */
export async function forEachInsertIdFast(
  store: ObjectStore,
  key: string,
  size: number,
  each: {
    bytes: (buffer: Uint8Array, at: number) => boolean | undefined;
    text: (id: string) => void;
  },
  signal: AbortSignal | undefined,
): Promise<number> {
  const source = storeSource(store, key, size);
  try {
    const file = await openTranscode(source, { name: key, signal });
    if (file !== undefined) {
      const visit = (buffer: Uint8Array, at: number, length: number) => {
        if (length === 36 && each.bytes(buffer, at) !== undefined) return;
        if (length > 0) each.text(utf8.decode(buffer.subarray(at, at + length)));
      };
      let done = true;
      try {
        for (let g = 0; g < file.rowGroups && done; g++) {
          throwIfAborted(signal);
          done = file.forEachId(g, await file.fetch(source, g, { signal, idsOnly: true }), visit);
        }
      } finally {
        file.release();
      }
      // Ids visited before a chunk the transcoder declines are visited again: adding and
      // marking are idempotent.
      if (done) return file.totalRows;
    }
  } catch (error) {
    if (signal?.aborted || error instanceof AbortedError) throw error;
    // Unreadable here: hyparquet reads it again and reports what is wrong.
  }
  return forEachInsertId(store, key, size, each.text, signal);
}

/**
 * Calls `each` with every non-null `insert_id` of the object, in file order; returns the row
 * count. A file hyparquet cannot read, or without an `insert_id` column, rejects with an
 * `InvalidArgumentError` naming the key.
 */
export async function forEachInsertId(
  store: ObjectStore,
  key: string,
  size: number,
  each: (id: string) => void,
  signal: AbortSignal | undefined,
): Promise<number> {
  const file = storeAsyncBuffer(store, key, size, signal);
  let metadata;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw rethrow(error, key);
  }
  if (!metadata.schema.some((s) => s.name === "insert_id")) {
    throw new InvalidArgumentError(
      `Cannot read Parquet file "${key}": it has no "insert_id" column`,
      { details: { file: key } },
    );
  }
  let row = 0;
  for (const group of metadata.row_groups) {
    throwIfAborted(signal);
    const rows = Number(group.num_rows);
    try {
      await parquetRead({
        file,
        metadata,
        columns: ["insert_id"],
        rowStart: row,
        rowEnd: row + rows,
        onChunk(chunk) {
          const data = chunk.columnData;
          // A chunk may reach outside the requested rows: take only ours.
          const from = Math.max(0, row - chunk.rowStart);
          const to = Math.min(data.length, row + rows - chunk.rowStart);
          for (let i = from; i < to; i++) {
            const id = data[i];
            if (typeof id === "string" && id !== "") each(id);
          }
        },
      });
    } catch (error) {
      throw rethrow(error, key);
    }
    row += rows;
  }
  return row;
}

/** Rows of a Parquet object, from its footer. */
export async function parquetRowCount(
  store: ObjectStore,
  key: string,
  size: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  try {
    const metadata = await parquetMetadataAsync(storeAsyncBuffer(store, key, size, signal));
    return Number(metadata.num_rows);
  } catch (error) {
    throw rethrow(error, key);
  }
}

function rethrow(error: unknown, key: string): unknown {
  if (error instanceof EventlakeError) return error;
  return new InvalidArgumentError(
    `Cannot read the insert_id column of Parquet file "${key}": ${
      error instanceof Error ? error.message : String(error)
    }`,
    { cause: error, details: { file: key } },
  );
}

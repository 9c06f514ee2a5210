/**
 * Reads only the `insert_id` column of a Parquet object (one row group at a time), through
 * hyparquet: the importer's pre-pass over the day and its scan of the window's earlier days
 * fetch a few percent of each file this way instead of decoding every column.
 *
 * @module
 */
import { parquetMetadataAsync, parquetRead } from "hyparquet";
import { EventlakeError, InvalidArgumentError, throwIfAborted } from "@eventlake/schema";
import type { ObjectStore } from "@eventlake/storage";
import { storeAsyncBuffer } from "./_import_source.ts";

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

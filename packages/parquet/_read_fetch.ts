/**
 * Fetching the column chunks of one row group (shared by the reader and the transcoder):
 * neighbouring chunks are read in one range, optionally into one reused buffer.
 *
 * @module
 */
import { AbortedError, throwIfAborted } from "@eventlake/schema";
import type { ColumnChunk } from "hyparquet";
import { badFile, chunkRange, readExact } from "./_read_footer.ts";
import type { ByteSource } from "./source.ts";

/** Ranges closer than this are fetched in one read. */
export const COALESCE_GAP = 1 << 20;

/**
 * A buffer reused from fetch to fetch (grown when a group needs more): the chunks of the last
 * fetch into it view it until the next one.
 */
export interface FetchBuffer {
  bytes: Uint8Array;
}

/**
 * Fetches the chunks of the leaves `indexes` of a row group whose chunks are `columns`: a map
 * from leaf index to its bytes. With `into`, all ranges land in `into.bytes` (grown when too
 * small), so the chunks view it and the next fetch into it overwrites them; otherwise each
 * range is a fresh buffer.
 */
export async function fetchChunks(
  source: ByteSource,
  columns: readonly ColumnChunk[],
  indexes: readonly number[],
  name: string,
  what: string,
  signal: AbortSignal | undefined,
  into?: FetchBuffer,
): Promise<Map<number, Uint8Array>> {
  const wanted = indexes.map((index) => ({ index, ...chunkRange(columns[index].meta_data!) }))
    .sort((a, b) => a.start - b.start);
  // Runs of neighbouring chunks: [first, last, start, end, at in `into`].
  const runs: [number, number, number, number, number][] = [];
  let total = 0;
  for (let i = 0; i < wanted.length;) {
    let j = i;
    let end = wanted[i].end;
    while (j + 1 < wanted.length && wanted[j + 1].start - end <= COALESCE_GAP) {
      j++;
      end = Math.max(end, wanted[j].end);
    }
    runs.push([i, j, wanted[i].start, end, total]);
    total += end - wanted[i].start;
    i = j + 1;
  }
  const out = new Map<number, Uint8Array>();
  if (into === undefined) {
    for (const [i, j, start, end] of runs) {
      const bytes = await readExact(source, start, end - start, name, what, signal);
      for (let k = i; k <= j; k++) {
        out.set(wanted[k].index, bytes.subarray(wanted[k].start - start, wanted[k].end - start));
      }
    }
    return out;
  }
  if (into.bytes.byteLength < total) {
    // Drop the old buffer first; grow by a quarter so slightly larger groups do not regrow.
    into.bytes = new Uint8Array(0);
    into.bytes = new Uint8Array(Math.max(total, Math.ceil(total * 1.25)));
  }
  const capacity = into.bytes.byteLength; // before a transfer detaches `into.bytes`
  for (const [, , start, end, at] of runs) {
    const filled = await readExactInto(
      source,
      start,
      into.bytes.subarray(at, at + end - start),
      name,
      what,
      signal,
    );
    // A source may have transferred the buffer: keep the one the bytes are in now.
    if (filled.buffer !== into.bytes.buffer) {
      into.bytes = new Uint8Array(filled.buffer, filled.byteOffset - at, capacity);
    }
  }
  // Views only now: a transfer during the reads detaches views of the earlier buffer.
  for (const [i, j, start, , at] of runs) {
    for (let k = i; k <= j; k++) {
      out.set(
        wanted[k].index,
        into.bytes.subarray(at + wanted[k].start - start, at + wanted[k].end - start),
      );
    }
  }
  return out;
}

/**
 * Reads exactly `target.byteLength` bytes at `offset` into `target`'s memory (through
 * `readInto`, or `read` and a copy), or fails naming the file. Resolves to the filled view (see
 * {@linkcode ByteSource.readInto}: the buffer may have been transferred).
 */
export async function readExactInto(
  source: ByteSource,
  offset: number,
  target: Uint8Array,
  name: string,
  what: string,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  throwIfAborted(signal);
  const length = target.byteLength;
  if (offset < 0 || offset + length > source.size) {
    throw badFile(
      name,
      `${what} spans bytes ${offset}..${offset + length} but the file has ${source.size} bytes`,
    );
  }
  let filled: Uint8Array;
  try {
    if (source.readInto !== undefined) {
      filled = await source.readInto(offset, target, { signal });
    } else {
      const bytes = await source.read(offset, length, { signal });
      filled = target.subarray(0, Math.min(bytes.byteLength, length));
      filled.set(bytes.subarray(0, filled.byteLength));
    }
  } catch (error) {
    if (signal?.aborted) throw new AbortedError("Operation aborted", { cause: signal.reason });
    throw error;
  }
  if (filled.byteLength < length) {
    throw badFile(
      name,
      `${what} is truncated: expected ${length} bytes at offset ${offset}, got ${filled.byteLength}`,
    );
  }
  return filled;
}

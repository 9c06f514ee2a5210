/**
 * The importer's columnar fast path for parts in our exact schema: each source row group is
 * decoded and checked column by column (`@eventlake/parquet/transcode`), de-duplicated on the
 * `insert_id` bytes, and re-encoded with a keep-mask into the lake file — no `Event`, no
 * string per value.
 *
 * It covers clean data with duplicates: a row group with any row the object path would reject
 * (or rewrite, e.g. lowercase an uppercase `insert_id`) makes the rest of the part go through
 * `importPart` (the object path), which skips the rows already taken, so counts, reasons,
 * samples and row numbers are exactly the object path's. A part in another layout (a tolerated
 * variant) goes through the object path whole.
 *
 * Output: the kept rows of each source row group land in row groups of at most `rowGroupSize`
 * rows (as the object path's writer), split where a file reaches `maxRowsPerFile`; rows from
 * the object path land in files of their own (a switch between the paths starts a new file).
 *
 * Memory: one source row group at a time (its column chunks decoded into buffers reused from
 * group to group), the next group's bytes being fetched, and one landed column chunk.
 *
 * @module
 */
import { AbortedError, throwIfAborted, TS_MAX, TS_MIN } from "@eventlake/schema";
import { type ByteSource, DEFAULT_ROW_GROUP_SIZE } from "@eventlake/parquet";
import {
  openTranscode,
  type TranscodeFile,
  type TranscodeGroup,
  TranscodeWriter,
} from "@eventlake/parquet/transcode";
import { closeOutput, importPart, type PartContext } from "./_import_part.ts";

/** Test switch: with `enabled` false every part takes the object path (this thread only). */
export const fastPath: { enabled: boolean } = { enabled: true };

/** `keep` byte of a row: dropped as a duplicate of an earlier day (its ts outside the day). */
const EARLIER = 2;

/**
 * The keep-mask of the group being imported, reused from group to group (this thread imports
 * one group at a time).
 */
let keepScratch = new Uint8Array(0);

/** Imports one part, through the fast path where it can (see the module documentation). */
export async function importPartFast(
  ctx: PartContext,
  key: string,
  source: ByteSource,
): Promise<void> {
  const { signal } = ctx;
  let file: TranscodeFile | undefined;
  if (!fastPath.enabled) return importPart(ctx, key, source);
  try {
    file = await openTranscode(source, { name: key, signal });
  } catch (error) {
    if (signal?.aborted || error instanceof AbortedError) throw error;
    file = undefined;
  }
  if (file === undefined) return importPart(ctx, key, source);
  const groups = file.rowGroups;
  const fetch = (g: number) => file.fetch(source, g, { signal });
  let next = groups > 0 ? fetch(0) : undefined;
  let start = 0;
  try {
    for (let g = 0; g < groups; g++) {
      throwIfAborted(signal);
      let bytes: Map<number, Uint8Array>;
      try {
        bytes = await next!;
      } catch (error) {
        if (signal?.aborted || error instanceof AbortedError) throw error;
        // Unreadable here: the object path reads it again and reports what is wrong.
        next = undefined;
        return await importPart(ctx, key, source, { skipRows: start });
      }
      const group = file.decode(g, bytes);
      bytes.clear();
      // Fetch the next row group while this one is checked and written (after the decode,
      // so two groups' bytes are not held at once).
      next = g + 1 < groups ? fetch(g + 1) : undefined;
      next?.catch(() => {});
      if (group === undefined || !(await importGroup(ctx, group))) {
        return await importPart(ctx, key, source, { skipRows: start });
      }
      start += group.rows;
      await ctx.onBatch?.();
    }
  } finally {
    next?.catch(() => {});
    file.release();
  }
}

/**
 * Claims, counts and writes the rows of a checked group; `false` (having changed nothing)
 * when a row's `ts` is outside the day and the row is not a resend of an earlier day's.
 */
async function importGroup(ctx: PartContext, group: TranscodeGroup): Promise<boolean> {
  const { ids, counts, signal } = ctx;
  const { rows, ts, idBytes, idAt } = group;
  const dayStart = Date.parse(`${ctx.date}T00:00:00.000Z`);
  const dayEnd = dayStart + 86_400_000;
  if (keepScratch.length < rows) keepScratch = new Uint8Array(rows);
  const keep = keepScratch.subarray(0, rows).fill(0);
  // 1. Rows outside the day: only resends of an earlier day's rows are handled here.
  for (let r = 0; r < rows; r++) {
    const t = ts[r];
    if (t >= dayStart && t < dayEnd) continue;
    if (t >= TS_MIN && t <= TS_MAX && ids.isEarlierBytes(idBytes, idAt[r])) keep[r] = EARLIER;
    else return false;
  }
  // 2. Claims, in row order.
  let kept = 0;
  let duplicate = 0;
  let earlier = 0;
  for (let r = 0; r < rows; r++) {
    if (keep[r] === EARLIER) {
      keep[r] = 0;
      duplicate++;
      earlier++;
      continue;
    }
    const claim = ids.claimBytes(idBytes, idAt[r]);
    if (claim === "new") {
      keep[r] = 1;
      kept++;
    } else {
      duplicate++;
      if (claim === "earlier") earlier++;
    }
  }
  counts.rowsRead += rows;
  counts.rowsDuplicate += duplicate;
  counts.rowsDuplicateEarlier += earlier;
  counts.rowsAccepted += kept;
  ctx.paths.fast += rows;
  // 3. Write in row groups of at most rowGroupSize rows (as the object path's writer), starting
  // a new file where one reaches maxRowsPerFile.
  const groupSize = ctx.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  let from = 0;
  let left = kept;
  while (left > 0) {
    if (ctx.current?.kind === "events") await closeOutput(ctx);
    if (ctx.current === undefined) {
      const file = await ctx.newFile();
      ctx.current = { kind: "groups", file, writer: new TranscodeWriter(file.sink) };
    }
    const writer = ctx.current.writer as TranscodeWriter;
    const take = Math.min(left, ctx.maxRowsPerFile - writer.rows, groupSize);
    let to = from;
    for (let n = 0; n < take; to++) n += keep[to];
    await writer.append(take, group.encode(keep, take, from, to), { signal });
    from = to;
    left -= take;
    if (writer.rows >= ctx.maxRowsPerFile) await closeOutput(ctx);
  }
  return true;
}

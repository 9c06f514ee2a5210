/**
 * Importing one part: read → check → claim the id → write, with the counters, the rejection
 * reasons and the rotation of output files. Used in-process and by `_import_worker.ts`.
 *
 * @module
 */
import {
  AbortedError,
  checkEvent,
  type Event,
  type EventlakeError,
  type InvalidArgumentError,
  type Problem,
  toEventlakeError,
} from "@eventlake/schema";
import { type ByteSource, EventBatchWriter, readEventBatches } from "@eventlake/parquet";
import type { TranscodeWriter } from "@eventlake/parquet/transcode";
import type { InsertIdSet } from "./dedup.ts";

/** Rows counted by a part (or a run). */
export interface PartCounts {
  rowsRead: number;
  rowsAccepted: number;
  rowsRejected: number;
  rowsDuplicate: number;
  rowsDuplicateEarlier: number;
}

/** Rows rejected for one rule. */
export interface ReasonEntry {
  rule: string;
  count: number;
  samples: { file: string; row: number; message: string }[];
}

/** Rejections by rule, with a few samples each. */
export class Reasons {
  #byRule = new Map<string, ReasonEntry>();
  constructor(readonly samples: number) {}
  add(rule: string, file: string, row: number, message: string): void {
    let r = this.#byRule.get(rule);
    if (r === undefined) {
      r = { rule, count: 0, samples: [] };
      this.#byRule.set(rule, r);
    }
    r.count++;
    if (r.samples.length < this.samples) r.samples.push({ file, row, message });
  }
  merge(entries: readonly ReasonEntry[]): void {
    for (const e of entries) {
      let r = this.#byRule.get(e.rule);
      if (r === undefined) {
        r = { rule: e.rule, count: 0, samples: [] };
        this.#byRule.set(e.rule, r);
      }
      r.count += e.count;
      for (const s of e.samples) if (r.samples.length < this.samples) r.samples.push(s);
    }
  }
  list(): ReasonEntry[] {
    return [...this.#byRule.values()].sort((a, b) => b.count - a.count);
  }
}

/** A part-level failure (unreadable, corrupt or of another schema). */
export class PartError extends Error {
  constructor(readonly key: string, readonly kind: string, readonly error: EventlakeError) {
    super(error.message);
  }
}

/** An output file being written. */
export interface OutputFile {
  key: string;
  sink: WritableStream<Uint8Array>;
  /** Resolves to the file's size once stored. */
  written: Promise<{ size: number }>;
}

/** What a finished output file holds. */
export interface FinishedFile {
  key: string;
  rows: number;
  bytes: number;
}

/** Rows read through each path (diagnostics: see `RunTimings`). */
export interface PathCounts {
  /** Rows of row groups transcoded column by column (`_import_fast.ts`). */
  fast: number;
  /** Rows read as events (`importPart`). */
  object: number;
}

/** The output file left open between parts: written from events or from transcoded groups. */
export type CurrentOutput =
  | { kind: "events"; file: OutputFile; writer: EventBatchWriter }
  | { kind: "groups"; file: OutputFile; writer: TranscodeWriter };

/** Everything {@linkcode importPart} needs. */
export interface PartContext {
  /** The partition's day, `YYYY-MM-DD`: a row whose `ts` is outside it (UTC) is rejected. */
  date: string;
  ids: InsertIdSet;
  counts: PartCounts;
  reasons: Reasons;
  variants: Set<string>;
  newFile: () => Promise<OutputFile>;
  files: FinishedFile[];
  rowGroupSize?: number;
  maxRowsPerFile: number;
  signal?: AbortSignal;
  onBatch?: () => void | Promise<void>;
  /** Rows per path. */
  paths: PathCounts;
  /** The output file left open between parts (same worker or process). */
  current?: CurrentOutput;
}

const UPPER_HEX = /[A-F]/;

function ruleOf(problem: Problem): string {
  const column = problem.path.split(".")[0] || "row";
  return `${column}.${problem.rule}`;
}

/** Closes the open output file, if any. */
export async function closeOutput(ctx: PartContext): Promise<void> {
  const current = ctx.current;
  if (!current) return;
  ctx.current = undefined;
  const summary = current.kind === "events"
    ? await current.writer.close({ signal: ctx.signal })
    : await current.writer.close({ signal: ctx.signal });
  const info = await current.file.written;
  ctx.files.push({ key: current.file.key, rows: summary.rows, bytes: info.size });
}

/** Aborts the open output file, if any. */
export async function abortOutput(ctx: PartContext, reason: unknown): Promise<void> {
  const current = ctx.current;
  ctx.current = undefined;
  await current?.writer.abort(reason).catch(() => {});
}

/**
 * Imports one part into the context's output files, as events. With `skipRows`, the part's
 * first rows are read but neither counted nor written (the fast path took them).
 */
export async function importPart(
  ctx: PartContext,
  key: string,
  source: ByteSource,
  options: { skipRows?: number } = {},
): Promise<void> {
  const skip = options.skipRows ?? 0;
  const { counts, reasons, ids, signal } = ctx;
  const dayStart = Date.parse(`${ctx.date}T00:00:00.000Z`);
  const dayEnd = dayStart + 86_400_000;
  const invalid: number[] = [];
  let nextRow = 0;
  let p = 0;
  const onInvalidRow = (error: InvalidArgumentError) => {
    const row = Number(error.details.row ?? -1);
    invalid.push(row);
    if (row < skip) return;
    ctx.paths.object++;
    counts.rowsRead++;
    counts.rowsRejected++;
    reasons.add("row.unreadable", key, row, error.message);
  };
  const batches = readEventBatches(source, {
    signal,
    name: key,
    onInvalidRow,
    onVariant: (v) => void ctx.variants.add(v.id),
  });
  try {
    for await (const batch of batches) {
      for (let b = 0; b < batch.length; b++) {
        while (p < invalid.length && invalid[p] === nextRow) {
          p++;
          nextRow++;
        }
        const row = nextRow++;
        if (row < skip) continue;
        const event: Event = batch[b];
        ctx.paths.object++;
        counts.rowsRead++;
        const problems = checkEvent(event);
        if (problems.length > 0) {
          counts.rowsRejected++;
          reasons.add(ruleOf(problems[0]), key, row, problems.map((x) => x.message).join("; "));
          continue;
        }
        if (!(event.ts >= dayStart && event.ts < dayEnd)) {
          // A resend of a row an earlier day landed keeps its old ts: a duplicate, not bad data.
          if (ids.isEarlier(event.insert_id)) {
            counts.rowsDuplicate++;
            counts.rowsDuplicateEarlier++;
            continue;
          }
          counts.rowsRejected++;
          reasons.add(
            "ts_outside_day",
            key,
            row,
            `ts ${
              Number.isFinite(event.ts) ? new Date(event.ts).toISOString() : String(event.ts)
            } is outside the day ${ctx.date} (UTC)`,
          );
          continue;
        }
        const claim = ids.claim(event.insert_id);
        if (claim !== "new") {
          counts.rowsDuplicate++;
          if (claim === "earlier") counts.rowsDuplicateEarlier++;
          continue;
        }
        if (UPPER_HEX.test(event.insert_id)) event.insert_id = event.insert_id.toLowerCase();
        if (ctx.current?.kind === "groups") await closeOutput(ctx);
        if (ctx.current === undefined) {
          const file = await ctx.newFile();
          ctx.current = {
            kind: "events",
            file,
            writer: new EventBatchWriter(file.sink, { rowGroupSize: ctx.rowGroupSize }),
          };
        }
        const writer = ctx.current.writer as EventBatchWriter;
        if (writer.append(event)) await writer.drain({ signal });
        counts.rowsAccepted++;
        if (writer.rows >= ctx.maxRowsPerFile) await closeOutput(ctx);
      }
      await ctx.onBatch?.();
    }
  } catch (error) {
    if (signal?.aborted || error instanceof AbortedError) throw error;
    const e = toEventlakeError(error);
    if (e.code === "INVALID_ARGUMENT" || e.code === "NOT_FOUND") {
      throw new PartError(key, "unreadable", e);
    }
    throw error;
  }
}

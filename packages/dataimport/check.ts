/**
 * The pre-flight check of a source: the credentials work, the prefix lists, and a sample part's
 * schema is shown, before any job is created or run.
 *
 * @module
 */
import { inspectParquet, type ParquetInspection } from "@eventlake/parquet";
import { listPartitionDates, partitionStatus } from "@eventlake/storage/partition";
import { redactUrl } from "@eventlake/storage/url";
import type { ImportSource } from "./run.ts";
import { storeSource } from "./_import_source.ts";

/** What {@linkcode checkSource} found. */
export interface SourceCheck {
  /** The source address (no secrets). */
  source: string;
  /** Days found under the prefix (`dt=YYYY-MM-DD/` folders), oldest first. */
  dates: string[];
  /** Days with `_SUCCESS`, among the latest ones looked at (at most `lookBack`). */
  readyDates: string[];
  /** The newest ready day's first part, inspected; absent when no day is ready. */
  sample?: {
    /** The day. */
    date: string;
    /** The part's key. */
    key: string;
    /** Its etag. */
    etag?: string;
    /** What the part holds. */
    inspection: ParquetInspection;
  };
  /** Whether a sample exists and our reader can import it (`problems` empty). */
  importable: boolean;
  /** Things to fix, in words. */
  problems: string[];
}

/**
 * Lists the source prefix (proving the credentials and the prefix), finds the newest ready day
 * among the last `lookBack` (default 14), and inspects its first part's schema. Credential and
 * permission failures reject with the store's typed errors (`PermissionDeniedError`, …).
 *
 * @example
 * ```ts
 * import { createMemoryStore } from "@eventlake/storage";
 * import { checkSource } from "@eventlake/dataimport";
 * const check = await checkSource({ store: createMemoryStore(), prefix: "events/" });
 * console.log(check.dates, check.problems); // [] [ 'No "dt=YYYY-MM-DD/" folder under "memory://memory/events/"' ]
 * ```
 */
export async function checkSource(
  source: ImportSource,
  options: { lookBack?: number; signal?: AbortSignal } = {},
): Promise<SourceCheck> {
  const { signal } = options;
  const where = redactUrl(`${source.store.url.replace(/\/$/, "")}/${source.prefix}`);
  const dates = await listPartitionDates(source.store, source.prefix, { signal });
  const result: SourceCheck = {
    source: where,
    dates,
    readyDates: [],
    importable: false,
    problems: [],
  };
  if (dates.length === 0) {
    result.problems.push(`No "dt=YYYY-MM-DD/" folder under "${where}"`);
    return result;
  }
  const recent = dates.slice(-(options.lookBack ?? 14)).reverse();
  for (const date of recent) {
    const status = await partitionStatus(source.store, source.prefix, date, { signal });
    if (status.state !== "ready") continue;
    result.readyDates.push(date);
    if (result.sample || status.parts.length === 0) continue;
    const part = status.parts[0];
    const inspection = await inspectParquet(storeSource(source.store, part.key, part.size), {
      name: part.key,
      signal,
    });
    result.sample = {
      date,
      key: part.key,
      ...(part.etag !== undefined ? { etag: part.etag } : {}),
      inspection,
    };
    for (const p of inspection.problems) result.problems.push(`${part.key}: ${p}`);
  }
  result.readyDates.sort();
  if (result.readyDates.length === 0) {
    result.problems.push(
      `No day among the latest ${recent.length} under "${where}" has a _SUCCESS marker`,
    );
  }
  result.importable = result.sample !== undefined && result.sample.inspection.problems.length === 0;
  return result;
}

/**
 * The producer's check of `dt=` partitions, made exactly as the importer will read them.
 *
 * @module
 */
import { checkEvent, InvalidArgumentError, throwIfAborted } from "@eventlake/schema";
import { type ParquetVariant, readEventBatches } from "@eventlake/parquet";
import type { ObjectStore, OpenStoreConfig } from "@eventlake/storage";
import {
  checkPartitionDate,
  listPartitionDates,
  partitionStatus,
} from "@eventlake/storage/partition";
import { openStore, redactUrl } from "@eventlake/storage/url";
import { InsertIdSet } from "./_producer_ids.ts";
import { storeSource } from "./_producer_source.ts";

const DAY_MS = 86_400_000;
/** Default number of problems kept per day (all are counted). */
export const DEFAULT_MAX_PROBLEMS = 20;

/** Options of {@linkcode validatePartitions}. */
export interface ValidateOptions {
  /** The days to check (`YYYY-MM-DD`); each is checked whether it exists or not. */
  dates?: readonly string[];
  /** First day of a range (with `to`): the days found in the range are checked. */
  from?: string;
  /** Last day of a range, inclusive. */
  to?: string;
  /** Key prefix inside a store given directly (default `""`; a URL carries its own). */
  prefix?: string;
  /** Options of the store opened from a URL. */
  storeConfig?: OpenStoreConfig;
  /** Problems kept per day, the first ones in reading order (default 20); all are counted. */
  maxProblems?: number;
  /** Cancels the check. */
  signal?: AbortSignal;
  /** Called after each part file. */
  onProgress?: (progress: ValidateProgress) => void;
}

/** Progress of {@linkcode validatePartitions}. */
export interface ValidateProgress {
  /** The day being checked. */
  date: string;
  /** The part just checked. */
  part: string;
  /** Rows checked so far, all days. */
  rows: number;
  /** Parts checked so far, all days. */
  parts: number;
}

/**
 * One problem found. `error`: the importer would refuse the day or lose data. `warning`:
 * the importer reads the day, but something is odd.
 */
export interface ValidationProblem {
  /** How bad. */
  severity: "error" | "warning";
  /**
   * What rule: `missing` (no partition), `success_missing`, `success_not_empty`,
   * `unexpected_file`, `missing_part`, `empty_day`, `folder_name`, `unreadable` (corrupt or not
   * Parquet), `schema`, `invalid_row`, `record` (a field rule; see `path`), `duplicate_insert_id`,
   * `ts_outside_day`.
   */
  rule: string;
  /** For a human: says what and where. */
  message: string;
  /** The object's key, when it concerns one. */
  file?: string;
  /** The 0-based row within `file`, when it concerns one. */
  row?: number;
  /** The field, for record problems. */
  path?: string;
}

/** The verdict on one day. */
export interface DayValidation {
  /** `YYYY-MM-DD`. */
  date: string;
  /** `ok`, `warning` (readable, with warnings), `error` (refused or lossy), `missing`. */
  verdict: "ok" | "warning" | "error" | "missing";
  /** `missing`, `in_progress` (no `_SUCCESS`) or `ready`. */
  state: "missing" | "in_progress" | "ready";
  /** Part files. */
  parts: number;
  /** Rows read. */
  rows: number;
  /** Bytes of the parts. */
  bytes: number;
  /** Tolerated Parquet variants met, per file (an empty list: the exact format). */
  variants: { file: string; id: string; column: string; detail: string }[];
  /** Number of errors. */
  errors: number;
  /** Number of warnings. */
  warnings: number;
  /** The first problems (see `maxProblems`). */
  problems: ValidationProblem[];
}

/** What {@linkcode validatePartitions} found. */
export interface ValidationReport {
  /** Where, secrets masked. */
  url: string;
  /** `true` when no day has an error. */
  ok: boolean;
  /** Per day, in date order. */
  days: DayValidation[];
  /** Problems of the prefix itself (folder names), not of a day. */
  problems: ValidationProblem[];
}

/** Whether `date` is within `from`…`to`, inclusive. */
function inRange(date: string, from: string, to: string): boolean {
  return date >= from && date <= to;
}

/**
 * Checks `dt=` partitions the way the importer reads them: the layout (folder names, part
 * names and numbering, unexpected files), `_SUCCESS` present and 0 bytes, each part's Parquet
 * schema (exact, or which tolerated variants), every record valid (`checkEvent`), `insert_id`
 * unique within the day (exact, see `InsertIdSet`), and every `ts` inside the day (UTC).
 * Parts are streamed one row group at a time.
 *
 * `dates` names days to check (a missing one is an error); `from`/`to` checks the days that
 * exist in the range (none is an error). Never throws for bad data: problems are the report.
 *
 * @example
 * ```ts
 * import { exportEvents, validatePartitions } from "@eventlake/dataimport";
 * import { eventToJson } from "@eventlake/schema";
 * import { generateEvents } from "@eventlake/schema/testing";
 * const text = generateEvents(3).map((e) => JSON.stringify(eventToJson(e)) + "\n").join("");
 * const stream = ReadableStream.from([new TextEncoder().encode(text)]);
 * await exportEvents([{ name: "stdin", stream }], { to: "memory://validate-doc/events" });
 * const report = await validatePartitions("memory://validate-doc/events", { dates: ["2023-01-01"] });
 * console.log(report.ok, report.days[0].verdict, report.days[0].rows); // true "ok" 3
 * ```
 */
export async function validatePartitions(
  target: string | ObjectStore,
  options: ValidateOptions = {},
): Promise<ValidationReport> {
  const { signal } = options;
  const maxProblems = options.maxProblems ?? DEFAULT_MAX_PROBLEMS;
  const ranged = options.from !== undefined || options.to !== undefined;
  if (options.dates !== undefined && ranged) {
    throw new InvalidArgumentError("Cannot validate: give dates or a from/to range, not both");
  }
  if (ranged && (options.from === undefined || options.to === undefined)) {
    throw new InvalidArgumentError("Cannot validate: a range needs both from and to");
  }
  if (!ranged && (options.dates === undefined || options.dates.length === 0)) {
    throw new InvalidArgumentError("Cannot validate: give the dates or a from/to range to check");
  }
  const wanted = options.dates?.map(checkPartitionDate);
  const from = options.from === undefined ? undefined : checkPartitionDate(options.from);
  const to = options.to === undefined ? undefined : checkPartitionDate(options.to);
  if (from !== undefined && to !== undefined && from > to) {
    throw new InvalidArgumentError(`Cannot validate: from "${from}" is after to "${to}"`);
  }

  let store: ObjectStore;
  let prefix: string;
  let url: string;
  let own = false;
  if (typeof target === "string") {
    const opened = await openStore(target, options.storeConfig);
    store = opened.store;
    prefix = opened.prefix;
    url = redactUrl(target);
    own = true;
  } else {
    store = target;
    prefix = options.prefix ?? "";
    if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
    url = `${store.url.replace(/\/$/, "")}/${prefix}`;
  }

  try {
    if (/(^|\/)dt=[^/]*\/$/.test(prefix)) {
      throw new InvalidArgumentError(
        `Cannot validate "${url}": it names a dt= partition; give the prefix above the dt= folders and the day with dates`,
        { details: { url } },
      );
    }
    const report: ValidationReport = { url, ok: true, days: [], problems: [] };
    // Folder names the importer would skip: `dt=` folders that are not a calendar day.
    for await (const entry of store.list(prefix, { delimiter: "/", signal })) {
      if (entry.kind !== "prefix") continue;
      const name = entry.prefix.slice(prefix.length, -1);
      if (!name.startsWith("dt=")) continue;
      const date = name.slice(3);
      let valid = true;
      try {
        valid = checkPartitionDate(date) === date;
      } catch {
        valid = false;
      }
      if (!valid) {
        report.problems.push({
          severity: "error",
          rule: "folder_name",
          message: `Folder "${name}" is not a partition: the name must be dt=YYYY-MM-DD, ` +
            `so the importer skips it`,
          file: entry.prefix,
        });
      }
    }
    let dates: string[];
    if (wanted !== undefined) dates = [...new Set(wanted)].sort();
    else {
      dates = (await listPartitionDates(store, prefix, { signal }))
        .filter((d) => inRange(d, from!, to!));
      if (dates.length === 0) {
        report.problems.push({
          severity: "error",
          rule: "missing",
          message: `No partition from ${from} to ${to} under "${url}"`,
        });
      }
    }
    const totals = { rows: 0, parts: 0 };
    for (const date of dates) {
      throwIfAborted(signal);
      report.days.push(await validateDay(store, prefix, date, maxProblems, totals, options));
    }
    report.ok = report.problems.every((p) => p.severity !== "error") &&
      report.days.every((d) => d.errors === 0);
    return report;
  } finally {
    if (own) await store.close();
  }
}

async function validateDay(
  store: ObjectStore,
  prefix: string,
  date: string,
  maxProblems: number,
  totals: { rows: number; parts: number },
  options: ValidateOptions,
): Promise<DayValidation> {
  const { signal } = options;
  const status = await partitionStatus(store, prefix, date, { signal });
  const day: DayValidation = {
    date,
    verdict: "ok",
    state: status.state,
    parts: status.parts.length,
    rows: 0,
    bytes: status.parts.reduce((n, p) => n + p.size, 0),
    variants: [],
    errors: 0,
    warnings: 0,
    problems: [],
  };
  const add = (problem: ValidationProblem): void => {
    if (problem.severity === "error") day.errors++;
    else day.warnings++;
    if (day.problems.length < maxProblems) day.problems.push(problem);
  };
  const where = `Partition "dt=${date}"`;
  if (status.state === "missing") {
    add({ severity: "error", rule: "missing", message: `${where} does not exist` });
    day.verdict = "missing";
    return day;
  }
  if (status.state === "in_progress") {
    add({
      severity: "error",
      rule: "success_missing",
      message: `${where} has no _SUCCESS: the importer waits for it and skips the day`,
    });
  }
  for (const problem of status.problems) {
    if (problem.kind === "success_not_empty") {
      add({
        severity: "error",
        rule: "success_not_empty",
        message: `${where}: _SUCCESS must be 0 bytes, it has ${problem.size}`,
        file: problem.key,
      });
    } else if (problem.kind === "missing_part") {
      add({
        severity: "error",
        rule: "missing_part",
        message: `${where}: part "${problem.name}" is missing, the numbering has a gap`,
        file: `${status.prefix}${problem.name}`,
      });
    } else {
      const name = problem.key.slice(status.prefix.length);
      const data = /\.parquet$/i.test(name);
      add({
        severity: data ? "error" : "warning",
        rule: "unexpected_file",
        message: data
          ? `${where}: "${name}" is not named like a part (000000000000.parquet): the importer ignores it and its rows would be lost`
          : `${where}: unexpected file "${name}", ignored by the importer`,
        file: problem.key,
      });
    }
  }
  if (status.parts.length === 0) {
    add({
      severity: status.state === "ready" ? "warning" : "error",
      rule: "empty_day",
      message: `${where} has no part files`,
    });
  }

  const dayStart = Date.parse(`${date}T00:00:00Z`);
  const dayEnd = dayStart + DAY_MS;
  const ids = new InsertIdSet();
  const partNames: string[] = [];
  for (let p = 0; p < status.parts.length; p++) {
    const part = status.parts[p];
    const file = part.key;
    const short = file.slice(status.prefix.length);
    partNames.push(short);
    let row = 0;
    const variants: ParquetVariant[] = [];
    let variantsKept = false;
    const invalidRows: { row: number; message: string; column?: string }[] = [];
    try {
      for await (
        const batch of readEventBatches(storeSource(store, part), {
          name: file,
          signal,
          onVariant: (v) => variants.push(v),
          onInvalidRow: (error) => {
            const details = error.details as { row?: number; column?: string } | undefined;
            invalidRows.push({
              row: details?.row ?? -1,
              column: details?.column,
              message: error.message,
            });
          },
        })
      ) {
        if (!variantsKept) {
          variantsKept = true;
          for (const v of variants) day.variants.push({ file, ...v });
        }
        // Rows refused by the reader were skipped: number the events around them.
        invalidRows.sort((a, b) => a.row - b.row);
        let k = 0;
        for (const event of batch) {
          while (k < invalidRows.length && invalidRows[k].row === row) {
            const bad = invalidRows[k++];
            add({
              severity: "error",
              rule: "invalid_row",
              message: bad.message,
              file,
              row: bad.row,
              path: bad.column,
            });
            row++;
          }
          for (const problem of checkEvent(event)) {
            add({
              severity: "error",
              rule: "record",
              message: `${short} row ${row}: ${problem.path}: ${problem.message}`,
              file,
              row,
              path: problem.path,
            });
          }
          if (event.ts < dayStart || event.ts >= dayEnd || !Number.isFinite(event.ts)) {
            add({
              severity: "error",
              rule: "ts_outside_day",
              message: `${short} row ${row}: ts ${
                Number.isFinite(event.ts) ? new Date(event.ts).toISOString() : String(event.ts)
              } is outside the day ${date} (UTC)`,
              file,
              row,
              path: "ts",
            });
          }
          if (typeof event.insert_id === "string") {
            const seen = ids.add(event.insert_id, p, row);
            if (seen !== undefined) {
              add({
                severity: "error",
                rule: "duplicate_insert_id",
                message: `${short} row ${row}: insert_id "${event.insert_id}" repeats ${
                  partNames[seen.part] ?? "part " + seen.part
                } row ${seen.row}`,
                file,
                row,
                path: "insert_id",
              });
            }
          }
          row++;
        }
        for (const bad of invalidRows.slice(k)) {
          add({
            severity: "error",
            rule: "invalid_row",
            message: bad.message,
            file,
            row: bad.row,
            path: bad.column,
          });
          row++;
        }
        invalidRows.length = 0;
        day.rows += batch.length;
        totals.rows += batch.length;
      }
      if (!variantsKept) { for (const v of variants) day.variants.push({ file, ...v }); }
      for (const bad of invalidRows) {
        add({
          severity: "error",
          rule: "invalid_row",
          message: bad.message,
          file,
          row: bad.row,
          path: bad.column,
        });
      }
    } catch (error) {
      // A bad file is a finding (go on with the next part); a store failure or abort is not.
      if (signal?.aborted || !(error instanceof InvalidArgumentError)) throw error;
      const message = (error as Error).message;
      const schema = /^Column "/.test(message);
      add({
        severity: "error",
        rule: schema ? "schema" : "unreadable",
        message: row > 0 ? `${message} (after ${row} rows)` : message,
        file,
        ...(row > 0 ? { row } : {}),
      });
    }
    totals.parts++;
    options.onProgress?.({ date, part: file, rows: totals.rows, parts: totals.parts });
  }
  day.verdict = day.errors > 0 ? "error" : day.warnings > 0 ? "warning" : "ok";
  return day;
}

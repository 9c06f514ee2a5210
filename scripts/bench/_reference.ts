/**
 * The speed of the machine a benchmark runs on, measured against the machine the issues' targets
 * were set on.
 *
 * Issue 2 measured its references "here on 2 cores" — among them DuckDB's own one-thread
 * `COPY` of 1,000,000 bench events from an in-memory table to Parquet: **450,000 rows/s** —
 * and set the targets of issues 2 and 4 on that machine. Its speed is not ours: a shared
 * virtual machine's 2 cores run the very same DuckDB `COPY` at 158–213k rows/s from one hour
 * to the next. So every benchmark that has an absolute target measures that same DuckDB
 * `COPY` in the same run, and states the target both as written and at this run's speed
 * (`target × DuckDB here ÷ 450,000`), i.e. as a ratio to the same-run reference.
 *
 * @module
 */

/** Issue 2's figure for DuckDB's one-thread `COPY` of 1M bench events (rows/s). */
export const ISSUE_DUCKDB_COPY_ONE_THREAD = 450_000;

/** `target` (rows/s, as an issue states it) at the speed of this run's machine. */
export function targetHere(target: number, duckdbCopyHere: number): number {
  return target * duckdbCopyHere / ISSUE_DUCKDB_COPY_ONE_THREAD;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/**
 * One Markdown paragraph: `what` measured `rate` rows/s; the issue's `target`, as written and
 * at this run's speed (from `duckdbCopyHere`, DuckDB's one-thread COPY measured in this run).
 */
export function targetVerdict(
  what: string,
  rate: number,
  target: number,
  duckdbCopyHere: number,
): string {
  const here = targetHere(target, duckdbCopyHere);
  const ratio = target / ISSUE_DUCKDB_COPY_ONE_THREAD;
  return `Target ${fmt(target)} rows/s, set where DuckDB's one-thread COPY of these rows ran ` +
    `${fmt(ISSUE_DUCKDB_COPY_ONE_THREAD)} rows/s (issue 2); in this run that COPY ran ` +
    `${fmt(duckdbCopyHere)} rows/s, so the target at this machine's speed is **${fmt(here)} ` +
    `rows/s** (${ratio.toFixed(3)}× DuckDB's COPY). ${what}: ${fmt(rate)} rows/s = ` +
    `${(rate / duckdbCopyHere).toFixed(3)}× DuckDB's COPY — ` +
    `${rate >= here ? "**met**" : "**not met**"} at this machine's speed; the absolute ` +
    `${fmt(target)} ${rate >= target ? "met" : "not reached on this machine"}.`;
}

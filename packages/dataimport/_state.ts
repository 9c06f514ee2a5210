/**
 * The importer's SQLite schema (`node:sqlite`): jobs and run reports. A date is "finished" for a
 * job when one of its runs ended SUCCEEDED, PARTIAL or MISSING (FAILED runs are retried).
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { InvalidArgumentError } from "@eventlake/schema";

/** Version of the schema below plus {@linkcode MIGRATIONS}; a newer file is refused. */
export const STATE_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  creator_name TEXT NOT NULL,
  spec TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY,
  job_id TEXT,
  date TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  report TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_job_date ON runs (job_id, date);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at);
`;

/**
 * Steps from version `i + 1` to `i + 2`. 2: pending runs (QUEUED/RUNNING, `finished_at` and
 * `report` empty) record their owner, for owner-aware recovery (the gateway's service shares
 * this file with the CLI).
 */
const MIGRATIONS: readonly string[] = [
  "ALTER TABLE runs ADD COLUMN owner TEXT;",
];

/** Opens (creating when absent) the state database at `path`. */
export function openStateDb(path: string): DatabaseSync {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new InvalidArgumentError(
      `Cannot open import state "${path}": ${error instanceof Error ? error.message : error}`,
      { cause: error, details: { path } },
    );
  }
  try {
    db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;");
    const version = Number(
      (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
    );
    if (version > STATE_VERSION) {
      throw new InvalidArgumentError(
        `Cannot open import state "${path}": it has schema version ${version}, this eventlake knows ${STATE_VERSION}`,
        { details: { path } },
      );
    }
    db.exec("BEGIN IMMEDIATE");
    try {
      const current = Number(
        (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
      );
      db.exec(SCHEMA);
      for (let v = Math.max(current, 1); v < STATE_VERSION; v++) {
        db.exec(MIGRATIONS[v - 1]);
      }
      db.exec(`PRAGMA user_version = ${STATE_VERSION}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  } catch (error) {
    db.close();
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError(
      `Cannot open import state "${path}": ${error instanceof Error ? error.message : error}`,
      { cause: error, details: { path } },
    );
  }
  return db;
}

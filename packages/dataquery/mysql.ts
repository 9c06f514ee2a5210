/**
 * MySQL data sources through `mysql2` (the only file that imports it): a connection check and a
 * streamed read of one table with its columns mapped to DuckDB types, so the DuckDB engine can
 * stage MySQL tables beside lake tables (DuckDB's own MySQL extension cannot be installed offline).
 *
 * Values travel as MySQL's own text rendering (exact decimals, `YYYY-MM-DD hh:mm:ss` datetimes);
 * zero dates (`0000-00-00`) become `null`; binary strings and BLOBs stay bytes.
 *
 * @module
 */
import mysql from "mysql2";
import {
  AbortedError,
  EventlakeError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  throwIfAborted,
  TimeoutError,
  UnavailableError,
} from "@eventlake/schema";
import type { EngineDataSource } from "./engine.ts";

/** A MySQL data source as the engine receives it. */
export type MysqlDataSource = Extract<EngineDataSource, { type: "MYSQL" }>;

/** A column of a MySQL table, with the DuckDB type it is staged as. */
export interface MysqlColumn {
  /** Column name. */
  name: string;
  /** DuckDB type, e.g. `BIGINT`, `DECIMAL(10,2)`, `VARCHAR`, `BLOB`. */
  duckdbType: string;
}

/** A value read from MySQL: text, bytes (binary columns) or `null`. */
export type MysqlValue = string | Uint8Array | null;

/** An open read of one MySQL table. */
export interface MysqlTableReader {
  /** The table's columns. */
  columns: MysqlColumn[];
  /** Row batches. Consume once; breaking off closes the connection. */
  rows: AsyncIterable<MysqlValue[][]>;
}

/** Options of {@linkcode readMysqlTable}. */
export interface ReadMysqlTableOptions {
  /** Refuse a table with more rows than this (default 1,000,000). */
  rowLimit?: number;
  /** Rows per yielded batch (default 2,048). */
  batchSize?: number;
  /** Cancels the read (the connection is destroyed). */
  signal?: AbortSignal;
}

/** Default row limit of a staged MySQL table. */
export const DEFAULT_MYSQL_ROW_LIMIT = 1_000_000;

const CONNECT_TIMEOUT_MS = 10_000;
const BINARY_CHARSET = 63;
const UNSIGNED_FLAG = 32;

/** One table of MySQL error codes to the shared error family. */
function mapMysqlError(error: unknown, source: MysqlDataSource): EventlakeError {
  if (error instanceof EventlakeError) return error;
  const e = error as { code?: string; errno?: number; message?: string };
  const where = `${source.instance.host}:${source.instance.port}`;
  const message = e.message ?? String(error);
  switch (e.code) {
    case "ER_ACCESS_DENIED_ERROR":
    case "ER_DBACCESS_DENIED_ERROR":
    case "ER_TABLEACCESS_DENIED_ERROR":
    case "ER_COLUMNACCESS_DENIED_ERROR":
    case "ER_ACCESS_DENIED_NO_PASSWORD_ERROR":
      return new PermissionDeniedError(`MySQL refused access at "${where}": ${message}`, {
        cause: error,
      });
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ECONNRESET":
    case "EAI_AGAIN":
    case "PROTOCOL_CONNECTION_LOST":
      return new UnavailableError(`Cannot reach MySQL at "${where}": ${message}`, {
        cause: error,
      });
    case "ETIMEDOUT":
      return new TimeoutError(`Cannot reach MySQL at "${where}": connection timed out`, {
        cause: error,
      });
    case "ER_NO_SUCH_TABLE":
    case "ER_BAD_DB_ERROR":
      return new NotFoundError(`MySQL data source "${source.name}": ${message}`, { cause: error });
    case "ER_CON_COUNT_ERROR":
    case "ER_TOO_MANY_USER_CONNECTIONS":
      return new ResourceExhaustedError(`MySQL at "${where}": ${message}`, { cause: error });
    default:
      return new InvalidArgumentError(`MySQL data source "${source.name}": ${message}`, {
        cause: error,
      });
  }
}

function connect(source: MysqlDataSource): mysql.Connection {
  return mysql.createConnection({
    host: source.instance.host,
    port: source.instance.port,
    user: source.user,
    password: source.password,
    ssl: source.instance.tls ? {} : undefined,
    connectTimeout: CONNECT_TIMEOUT_MS,
    rowsAsArray: true,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
}

function onAbort(signal: AbortSignal | undefined, conn: mysql.Connection): () => void {
  if (!signal) return () => {};
  const abort = () => conn.destroy();
  signal.addEventListener("abort", abort, { once: true });
  return () => signal.removeEventListener("abort", abort);
}

/**
 * Connects to a MySQL data source and runs `SELECT 1`. Rejects with `PermissionDeniedError` when
 * the login is refused, `UnavailableError`/`TimeoutError` when the host cannot be reached.
 *
 * @example
 * ```ts ignore
 * await testMysqlSource({ type: "MYSQL", name: "shop", instance, user: "app", password: "…" });
 * ```
 */
export async function testMysqlSource(
  source: MysqlDataSource,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  throwIfAborted(options.signal);
  const conn = connect(source);
  const release = onAbort(options.signal, conn);
  try {
    await new Promise<void>((resolve, reject) => {
      conn.query("SELECT 1", (error) => (error ? reject(error) : resolve()));
    });
  } catch (e) {
    if (options.signal?.aborted) throw new AbortedError("MySQL connection check was aborted");
    throw mapMysqlError(e, source);
  } finally {
    release();
    conn.destroy();
  }
}

/** Maps a MySQL result field to the DuckDB type its values are staged as. */
export function duckdbTypeOf(field: {
  columnType?: number;
  type?: number;
  flags: number | string[];
  decimals: number;
  columnLength?: number;
  characterSet?: number;
}): string {
  const type = field.columnType ?? field.type ?? 253;
  const unsigned = typeof field.flags === "number"
    ? (field.flags & UNSIGNED_FLAG) !== 0
    : field.flags.includes("UNSIGNED");
  const binary = field.characterSet === BINARY_CHARSET;
  switch (type) {
    case 1: // TINY
      return unsigned ? "UTINYINT" : "TINYINT";
    case 2: // SHORT
      return unsigned ? "USMALLINT" : "SMALLINT";
    case 3: // LONG
    case 9: // INT24
      return unsigned ? "UINTEGER" : "INTEGER";
    case 8: // LONGLONG
      return unsigned ? "UBIGINT" : "BIGINT";
    case 13: // YEAR
      return "INTEGER";
    case 0: // DECIMAL
    case 246: { // NEWDECIMAL
      const scale = field.decimals;
      const precision = (field.columnLength ?? 65) - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1);
      return precision >= 1 && precision <= 38 && scale <= precision
        ? `DECIMAL(${precision},${scale})`
        : "VARCHAR";
    }
    case 4: // FLOAT
      return "FLOAT";
    case 5: // DOUBLE
      return "DOUBLE";
    case 7: // TIMESTAMP
    case 12: // DATETIME
      return "TIMESTAMP";
    case 10: // DATE
    case 14: // NEWDATE
      return "DATE";
    case 16: // BIT
      return "UBIGINT";
    case 249: // TINY_BLOB
    case 250: // MEDIUM_BLOB
    case 251: // LONG_BLOB
    case 252: // BLOB
    case 253: // VAR_STRING
    case 254: // STRING
    case 15: // VARCHAR
      return binary ? "BLOB" : "VARCHAR";
    case 255: // GEOMETRY
      return "BLOB";
    default: // TIME (can exceed 24 h), JSON, ENUM, SET, NULL …
      return "VARCHAR";
  }
}

/** Quotes a MySQL identifier. */
function quoteId(name: string): string {
  return "`" + name.replaceAll("`", "``") + "`";
}

/**
 * Streams one MySQL table (`SELECT * FROM db.table`), refusing tables with more than `rowLimit`
 * rows with a `ResourceExhaustedError`. The read applies back-pressure (the connection pauses
 * while a batch waits to be consumed).
 *
 * @example
 * ```ts ignore
 * const { columns, rows } = await readMysqlTable(source, { database: "shop", table: "users" });
 * for await (const batch of rows) console.log(batch.length);
 * ```
 */
export async function readMysqlTable(
  source: MysqlDataSource,
  ref: { database: string; table: string },
  options: ReadMysqlTableOptions = {},
): Promise<MysqlTableReader> {
  const rowLimit = options.rowLimit ?? DEFAULT_MYSQL_ROW_LIMIT;
  const batchSize = options.batchSize ?? 2048;
  const signal = options.signal;
  throwIfAborted(signal);
  const conn = connect(source);
  const release = onAbort(signal, conn);
  const decoder = new TextDecoder();
  let columns: MysqlColumn[] | undefined;
  let kinds: ("text" | "bytes" | "bit" | "date")[] = [];
  let pending: MysqlValue[][] = [];
  const ready: MysqlValue[][][] = [];
  let done = false;
  let failure: unknown;
  let count = 0;
  let wake: (() => void) | undefined;
  let gotFields: ((ok: boolean) => void) | undefined;
  const fieldsKnown = new Promise<boolean>((resolve) => (gotFields = resolve));
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const finish = (error?: unknown) => {
    if (done) return;
    done = true;
    failure = error;
    if (pending.length > 0) ready.push(pending);
    pending = [];
    gotFields?.(error === undefined);
    notify();
  };
  const sql = `SELECT * FROM ${quoteId(ref.database)}.${quoteId(ref.table)} LIMIT ${rowLimit + 1}`;
  const query = conn.query({
    sql,
    rowsAsArray: true,
    typeCast: (field: { buffer: () => Uint8Array | null }) => field.buffer(),
  });
  query.on("fields", (fields: mysql.FieldPacket[]) => {
    columns = fields.map((f) => ({ name: f.name, duckdbType: duckdbTypeOf(f) }));
    kinds = columns.map((c, i) => {
      const t = fields[i].columnType ?? fields[i].type;
      if (c.duckdbType === "BLOB") return "bytes";
      if (t === 16) return "bit";
      if (c.duckdbType === "DATE" || c.duckdbType === "TIMESTAMP") return "date";
      return "text";
    });
    gotFields?.(true);
  });
  query.on("result", (raw: unknown) => {
    count++;
    if (count > rowLimit) {
      finish(
        new ResourceExhaustedError(
          `MySQL table "${ref.database}.${ref.table}" of data source "${source.name}" has more than ${rowLimit} rows: the DuckDB engine stages at most that many (option mysqlRowLimit)`,
        ),
      );
      conn.destroy();
      return;
    }
    const values = raw as (Uint8Array | null)[];
    const row: MysqlValue[] = new Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null) row[i] = null;
      else if (kinds[i] === "bytes") row[i] = new Uint8Array(v);
      else if (kinds[i] === "bit") {
        let n = 0n;
        for (const byte of v) n = (n << 8n) | BigInt(byte);
        row[i] = String(n);
      } else {
        const text = decoder.decode(v);
        row[i] = kinds[i] === "date" && text.startsWith("0000-00-00") ? null : text;
      }
    }
    pending.push(row);
    if (pending.length >= batchSize) {
      ready.push(pending);
      pending = [];
      if (ready.length >= 2) conn.pause();
      notify();
    }
  });
  query.on("error", (error: unknown) => finish(error));
  query.on("end", () => finish());

  await fieldsKnown;
  if (columns === undefined) {
    release();
    conn.destroy();
    if (signal?.aborted) throw new AbortedError("MySQL read was aborted");
    throw mapMysqlError(failure, source);
  }
  async function* rows(): AsyncGenerator<MysqlValue[][]> {
    try {
      for (;;) {
        const batch = ready.shift();
        if (batch) {
          conn.resume();
          yield batch;
          continue;
        }
        if (done) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (failure !== undefined) {
        if (signal?.aborted) throw new AbortedError("MySQL read was aborted");
        throw mapMysqlError(failure, source);
      }
    } finally {
      release();
      conn.destroy();
    }
  }
  return { columns, rows: rows() };
}

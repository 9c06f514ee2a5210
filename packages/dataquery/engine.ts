/**
 * The interface between the query service (lifecycle, results, state) and the SQL engines
 * that run statements: embedded DuckDB (the default) and Trino (scale-out).
 *
 * @module
 */

/** One result column: its name and the engine's type name, lowercase (`bigint`, `varchar`, `decimal(24,6)`). */
export interface ColumnInfo {
  /** Column name. */
  name: string;
  /** Engine type name, lowercase. */
  type: string;
}

/** Measured statistics an engine reports; every field is optional (unknown ≠ 0). */
export interface EngineStats {
  /** Progress, 0–100. */
  progressPercentage?: number;
  /** Rows read from tables. */
  inputRows?: number;
  /** Bytes read from tables. */
  inputBytes?: number;
  /** Bytes scanned in storage (0 when nothing was scanned). */
  scannedBytes?: number;
  /** Time spent planning, ms. */
  planningMs?: number;
  /** Time spent executing, ms. */
  executionMs?: number;
}

/** A MySQL server registered in the service configuration, addressed by `instanceId`. */
export interface MysqlInstance {
  /** The id clients name in `instanceId`. */
  instanceId: string;
  /** Host name or address. */
  host: string;
  /** TCP port. */
  port: number;
  /** Use TLS. */
  tls?: boolean;
}

/** A data source as the engine needs it. */
export type EngineDataSource =
  | {
    /** Lake catalog: its tables are the lake tables the import lands. */
    type: "DATA_CATALOG";
    /** Catalog name, e.g. `data_catalog`. */
    name: string;
  }
  | {
    /** A MySQL server reached through a driver. */
    type: "MYSQL";
    /** Source name. */
    name: string;
    /** Where the server is. */
    instance: MysqlInstance;
    /** MySQL user. */
    user: string;
    /** MySQL password (decrypted; never logged). */
    password: string;
  };

/** What a statement runs with. */
export interface ExecuteContext {
  /** Default data source (X-Data-Source). */
  dataSource?: string;
  /** Default database (X-Database). */
  database?: string;
  /** The data sources this caller may use (PRIVATE ones of other users are absent). */
  dataSources: EngineDataSource[];
  /** Aborts the statement (abort API, time limit, shutdown). */
  signal: AbortSignal;
  /** Called with running statistics while the statement runs. */
  onProgress?: (stats: EngineStats) => void;
}

/** A running or finished statement's output. */
export interface EngineResult {
  /** Result columns; `null` for statements without a result set (DDL, SET …). */
  columns: ColumnInfo[] | null;
  /** Row batches, values as strings (`null` stays null). Consume once. */
  rows: AsyncIterable<(string | null)[][]>;
  /** Final statistics, valid once `rows` is exhausted. */
  stats(): EngineStats;
}

/** A SQL engine. Statement failures reject with an `EventlakeError` whose message is the engine's. */
export interface QueryEngine {
  /** `duckdb` or `trino`. */
  readonly name: string;
  /** Runs one statement. */
  execute(sql: string, context: ExecuteContext): Promise<EngineResult>;
  /** Checks that a data source is reachable (MySQL connection at creation time). */
  testDataSource(source: EngineDataSource, options?: { signal?: AbortSignal }): Promise<void>;
  /** Tells the engine that a lake table's data changed (an import landed). */
  tableChanged(ref: { dataSource: string; database: string; table: string }): void;
  /** Releases the engine. */
  close(): Promise<void>;
}

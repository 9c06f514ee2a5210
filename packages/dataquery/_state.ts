/**
 * The service's durable state in SQLite (`node:sqlite`): queries with their statistics and first
 * pages, data sources and credentials. WAL mode; every multi-statement change is a transaction;
 * the schema carries a `schema_version` and is migrated forward on open.
 *
 * @module
 */
import process from "node:process";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { InvalidArgumentError } from "@eventlake/schema";
import type {
  CredentialRecord,
  DataSourceRecord,
  HistoryQuery,
  HistorySortField,
  QueryRecord,
  QueryState,
  QueryStateStore,
  ReuseLookup,
  StoredStats,
} from "./state.ts";

/**
 * `node:sqlite`, loaded when a SQLite state is opened rather than by a static import, so that
 * modules reaching this file (the service) stay loadable where `node:sqlite` does not exist
 * (edge runtimes) as long as they use another {@linkcode QueryStateStore}.
 */
function sqlite(): typeof import("node:sqlite") {
  return process.getBuiltinModule("node:sqlite") as typeof import("node:sqlite");
}

const MIGRATIONS: readonly string[] = [
  // 1: the first schema.
  `CREATE TABLE queries (
     query_id TEXT PRIMARY KEY,
     creator_name TEXT NOT NULL,
     query_text TEXT NOT NULL,
     preview TEXT NOT NULL,
     reuse_key TEXT NOT NULL,
     data_source TEXT,
     database TEXT,
     state TEXT NOT NULL CHECK (state IN ('QUEUED','RUNNING','FINISHED','FAILED','ABORTED')),
     error_message TEXT,
     bucket_name TEXT NOT NULL,
     result_path TEXT NOT NULL,
     storage_url TEXT NOT NULL,
     csv_key TEXT,
     reuse INTEGER NOT NULL,
     max_reuse_age INTEGER,
     expire_at INTEGER,
     reused_from TEXT,
     lake_fingerprint TEXT,
     created_at INTEGER NOT NULL,
     started_at INTEGER,
     completed_at INTEGER,
     input_bytes INTEGER,
     stats_json TEXT NOT NULL DEFAULT '{}',
     is_scanned INTEGER NOT NULL DEFAULT 0,
     is_stored INTEGER NOT NULL DEFAULT 0,
     columns_json TEXT,
     rows_json TEXT
   );
   CREATE INDEX queries_reuse ON queries (reuse_key, creator_name, state, created_at);
   CREATE INDEX queries_created ON queries (created_at);
   CREATE TABLE data_sources (
     name TEXT PRIMARY KEY,
     scope TEXT NOT NULL CHECK (scope IN ('PRIVATE','PUBLIC')),
     description TEXT,
     creator_name TEXT NOT NULL,
     instance_id TEXT NOT NULL,
     mysql_user TEXT NOT NULL,
     password_sealed TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE credentials (
     credential_id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     secret_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     revoked_at INTEGER
   );
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // 2: the service instance that runs a QUEUED/RUNNING query (owner-aware recovery).
  `ALTER TABLE queries ADD COLUMN owner TEXT;`,
];

/** SQL of each history sort field (a fixed table: never user text). */
const SORT_SQL: Readonly<Record<HistorySortField, string>> = {
  queryId: "query_id",
  queryTextPreview: "preview",
  state: "state",
  createdAt: "created_at",
  elapsedTime: "(coalesce(completed_at, :now) - created_at)",
  inputDataSize: "coalesce(input_bytes, 0)",
  creatorName: "creator_name",
  storageUrl: "storage_url",
};

type Row = Record<string, SQLInputValue>;

function toQuery(row: Row): QueryRecord {
  const json = <T>(v: SQLInputValue): T | null => (v === null ? null : JSON.parse(String(v)) as T);
  const num = (v: SQLInputValue): number | null => (v === null ? null : Number(v));
  return {
    queryId: String(row.query_id),
    creatorName: String(row.creator_name),
    queryText: String(row.query_text),
    preview: String(row.preview),
    reuseKey: String(row.reuse_key),
    dataSource: row.data_source === null ? null : String(row.data_source),
    database: row.database === null ? null : String(row.database),
    state: String(row.state) as QueryState,
    errorMessage: row.error_message === null ? null : String(row.error_message),
    bucketName: String(row.bucket_name),
    resultPath: String(row.result_path),
    storageUrl: String(row.storage_url),
    csvKey: row.csv_key === null ? null : String(row.csv_key),
    reuse: Number(row.reuse) === 1,
    maxReuseAge: num(row.max_reuse_age),
    expireAt: num(row.expire_at),
    reusedFrom: row.reused_from === null ? null : String(row.reused_from),
    lakeFingerprint: row.lake_fingerprint === null ? null : String(row.lake_fingerprint),
    createdAt: Number(row.created_at),
    startedAt: num(row.started_at),
    completedAt: num(row.completed_at),
    inputBytes: num(row.input_bytes),
    stats: json<StoredStats>(row.stats_json) ?? {},
    isScanned: Number(row.is_scanned) === 1,
    isStored: Number(row.is_stored) === 1,
    columns: json(row.columns_json),
    rows: json(row.rows_json),
    owner: row.owner === null || row.owner === undefined ? null : String(row.owner),
  };
}

function queryParams(q: QueryRecord): Record<string, SQLInputValue> {
  return {
    query_id: q.queryId,
    creator_name: q.creatorName,
    query_text: q.queryText,
    preview: q.preview,
    reuse_key: q.reuseKey,
    data_source: q.dataSource,
    database: q.database,
    state: q.state,
    error_message: q.errorMessage,
    bucket_name: q.bucketName,
    result_path: q.resultPath,
    storage_url: q.storageUrl,
    csv_key: q.csvKey,
    reuse: q.reuse ? 1 : 0,
    max_reuse_age: q.maxReuseAge,
    expire_at: q.expireAt,
    reused_from: q.reusedFrom,
    lake_fingerprint: q.lakeFingerprint,
    created_at: q.createdAt,
    started_at: q.startedAt,
    completed_at: q.completedAt,
    input_bytes: q.inputBytes,
    stats_json: JSON.stringify(q.stats),
    is_scanned: q.isScanned ? 1 : 0,
    is_stored: q.isStored ? 1 : 0,
    columns_json: q.columns === null ? null : JSON.stringify(q.columns),
    rows_json: q.rows === null ? null : JSON.stringify(q.rows),
    owner: q.owner ?? null,
  };
}

const QUERY_COLUMNS = Object.keys(queryParams({
  stats: {},
  columns: null,
  rows: null,
} as unknown as QueryRecord));

/** The values of {@linkcode QUERY_COLUMNS}, in order. */
function positional(q: QueryRecord): SQLInputValue[] {
  const params = queryParams(q);
  return QUERY_COLUMNS.map((c) => params[c]);
}

/** The SQLite-backed state. */
export class StateStore implements QueryStateStore {
  readonly #db: DatabaseSync;
  readonly #insertQuery: StatementSync;
  readonly #getQuery: StatementSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(path: string) {
    try {
      this.#db = new (sqlite().DatabaseSync)(path);
      this.#db.exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
      );
      this.#migrate();
    } catch (cause) {
      if (cause instanceof InvalidArgumentError) throw cause;
      throw new InvalidArgumentError(
        `Cannot open the query state "${path}": ${(cause as Error).message}`,
        { cause, details: { statePath: path } },
      );
    }
    this.#insertQuery = this.#stmt(
      `INSERT INTO queries (${QUERY_COLUMNS.join(", ")}) VALUES (${
        QUERY_COLUMNS.map(() => "?").join(", ")
      })`,
    );
    this.#getQuery = this.#stmt("SELECT * FROM queries WHERE query_id = ?");
  }

  #migrate(): void {
    this.#db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const row = this.#stmt("SELECT version FROM schema_version").get() as Row | undefined;
    let version = row ? Number(row.version) : 0;
    if (version > MIGRATIONS.length) {
      throw new InvalidArgumentError(
        `Cannot open the query state: its schema version ${version} is newer than this build (${MIGRATIONS.length})`,
      );
    }
    while (version < MIGRATIONS.length) {
      this.transaction(() => {
        this.#db.exec(MIGRATIONS[version]);
        this.#db.exec("DELETE FROM schema_version");
        this.#stmt("INSERT INTO schema_version (version) VALUES (?)").run(version + 1);
      });
      version++;
    }
  }

  /** A prepared statement, compiled once per SQL text. */
  #stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  /** Inserts a query; returns false when the id is taken. */
  insertQuery(q: QueryRecord): boolean {
    try {
      this.#insertQuery.run(...positional(q));
      return true;
    } catch (e) {
      if (String((e as Error).message).includes("UNIQUE")) return false;
      throw e;
    }
  }

  /** Reads a query. */
  getQuery(queryId: string): QueryRecord | undefined {
    const row = this.#getQuery.get(queryId) as Row | undefined;
    return row ? toQuery(row) : undefined;
  }

  /** Marks a QUEUED query RUNNING. */
  setRunning(queryId: string, startedAt: number): void {
    this.#stmt("UPDATE queries SET state = 'RUNNING', started_at = ? WHERE query_id = ?")
      .run(startedAt, queryId);
  }

  /** Writes every field of a query back. */
  updateQuery(q: QueryRecord): void {
    // Positional parameters: node:sqlite binds named ones about 4x slower.
    const sets = QUERY_COLUMNS.map((c) => `${c} = ?`);
    this.#stmt(`UPDATE queries SET ${sets.join(", ")} WHERE query_id = ?`)
      .run(...positional(q), q.queryId);
  }

  /** Ids of queries in the given states, oldest first. */
  queryIdsInStates(states: QueryState[]): string[] {
    const marks = states.map(() => "?").join(", ");
    return (this.#stmt(
      `SELECT query_id FROM queries WHERE state IN (${marks}) ORDER BY created_at, query_id`,
    ).all(...states) as Row[]).map((r) => String(r.query_id));
  }

  /** FINISHED queries with this reuse key by this creator, created at or after `since`, newest first. */
  reuseCandidates(lookup: ReuseLookup, since: number): QueryRecord[] {
    return (this.#stmt(
      `SELECT * FROM queries WHERE reuse_key = ? AND creator_name = ? AND state = 'FINISHED'
         AND created_at >= ? ORDER BY created_at DESC LIMIT 5`,
    ).all(lookup.reuseKey, lookup.creatorName, since) as Row[]).map(toQuery);
  }

  /** A page of history and the total count. */
  history(h: HistoryQuery): { total: number; records: QueryRecord[] } {
    const where: string[] = [];
    const params: Record<string, SQLInputValue> = {};
    if (h.queryId !== undefined) {
      where.push("instr(query_id, :query_id) > 0");
      params.query_id = h.queryId;
    }
    if (h.creatorName !== undefined) {
      where.push("creator_name = :creator_name");
      params.creator_name = h.creatorName;
    }
    if (h.states && h.states.length > 0) {
      where.push(`state IN (${h.states.map((_, i) => `:state${i}`).join(", ")})`);
      h.states.forEach((s, i) => params[`state${i}`] = s);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    const totalRow = this.#stmt(`SELECT count(*) AS n FROM queries ${clause}`)
      .get(params) as Row;
    const direction = h.descending ? "DESC" : "ASC";
    const order = `${SORT_SQL[h.orderBy]} ${direction}, query_id ${direction}`;
    const sql = `SELECT * FROM queries ${clause} ORDER BY ${order} LIMIT :limit OFFSET :offset`;
    const pageParams: Record<string, SQLInputValue> = {
      ...params,
      limit: h.limit,
      offset: h.offset,
    };
    // SQLite refuses named parameters the statement does not use: :now only appears in some orders.
    if (sql.includes(":now")) pageParams.now = h.now;
    const records = (this.#stmt(sql).all(pageParams) as Row[]).map(toQuery);
    return { total: Number(totalRow.n), records };
  }

  /** Reads a setting. */
  getSetting(key: string): string | undefined {
    const row = this.#stmt("SELECT value FROM settings WHERE key = ?").get(key) as
      | Row
      | undefined;
    return row ? String(row.value) : undefined;
  }

  /** Writes a setting. */
  setSetting(key: string, value: string): void {
    this.#stmt(
      "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(key, value);
  }

  /** Every MYSQL data source. */
  listDataSources(): DataSourceRecord[] {
    return (this.#stmt("SELECT * FROM data_sources ORDER BY name").all() as Row[]).map((
      r,
    ) => ({
      name: String(r.name),
      scope: String(r.scope) as "PRIVATE" | "PUBLIC",
      description: r.description === null ? null : String(r.description),
      creatorName: String(r.creator_name),
      instanceId: String(r.instance_id),
      mysqlUser: String(r.mysql_user),
      passwordSealed: String(r.password_sealed),
      createdAt: Number(r.created_at),
    }));
  }

  /** Inserts a data source; returns false when the name is taken. */
  insertDataSource(d: DataSourceRecord): boolean {
    const result = this.#stmt(
      `INSERT INTO data_sources (name, scope, description, creator_name, instance_id, mysql_user,
         password_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
    ).run(
      d.name,
      d.scope,
      d.description,
      d.creatorName,
      d.instanceId,
      d.mysqlUser,
      d.passwordSealed,
      d.createdAt,
    );
    return Number(result.changes) === 1;
  }

  /** Deletes a data source; returns whether it existed. */
  deleteDataSource(name: string): boolean {
    return Number(this.#stmt("DELETE FROM data_sources WHERE name = ?").run(name).changes) ===
      1;
  }

  /** Inserts a credential. */
  insertCredential(c: CredentialRecord): void {
    this.#stmt(
      "INSERT INTO credentials (credential_id, name, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)",
    ).run(c.credentialId, c.name, c.secretHash, c.createdAt, c.revokedAt);
  }

  /** Every credential, oldest first. */
  listCredentials(): CredentialRecord[] {
    return (this.#stmt("SELECT * FROM credentials ORDER BY created_at, credential_id")
      .all() as Row[]).map((r) => ({
        credentialId: String(r.credential_id),
        name: String(r.name),
        secretHash: String(r.secret_hash),
        createdAt: Number(r.created_at),
        revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
      }));
  }

  /** One credential. */
  getCredential(credentialId: string): CredentialRecord | undefined {
    const r = this.#stmt("SELECT * FROM credentials WHERE credential_id = ?").get(
      credentialId,
    ) as Row | undefined;
    if (!r) return undefined;
    return {
      credentialId: String(r.credential_id),
      name: String(r.name),
      secretHash: String(r.secret_hash),
      createdAt: Number(r.created_at),
      revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    };
  }

  /** Marks a credential revoked; returns whether it existed. */
  revokeCredential(credentialId: string, at: number): boolean {
    return Number(
      this.#stmt(
        "UPDATE credentials SET revoked_at = coalesce(revoked_at, ?) WHERE credential_id = ?",
      ).run(at, credentialId).changes,
    ) === 1;
  }

  /** Every change is durable once its statement returned. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Closes the database. */
  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}

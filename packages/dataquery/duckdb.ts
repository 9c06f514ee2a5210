/**
 * The embedded DuckDB engine (the default `QueryEngine`), the only file that imports
 * `@duckdb/node-api`.
 *
 * ## Names
 * Each data source is a DuckDB catalog and each database a schema, so `source.database.table`
 * resolves as in the Open API; X-Data-Source / X-Database become `USE source.database` on the
 * query's connection (a DATA_CATALOG source without X-Database uses `default`). Without them a
 * query must qualify its tables.
 *
 * ## Lake tables (DATA_CATALOG)
 * Every lake table (`<lake>/<source>/<db>/<table>/dt=…/_MANIFEST.json`) is a view over
 * `read_parquet([the files the day manifests name], hive_partitioning=true)` with a `dt` VARCHAR
 * column, so a `WHERE dt = '…'` predicate prunes whole files (DuckDB's profile shows
 * "Scanning Files: 1/N"). Before each query, the engine compares every referenced table's `_VERSION`
 * token with the one its view was built from and rebuilds the view when it changed, or when
 * {@linkcode DuckDbEngine.tableChanged} was called: a landing by any process is visible to the next
 * query without a restart. DuckDB reads only local files here (no httpfs offline): the lake must be
 * a local folder (`file://` store). Over an S3/GCS lake every lake query fails with a message that
 * says so; use the Trino engine to scale out.
 *
 * ## MySQL tables (MYSQL)
 * Tables of a MYSQL source named by a query are read through `mysql2` (see `mysql.ts`) into
 * temporary tables of the query's own connection (at most `mysqlRowLimit` rows each, default
 * 1,000,000; a larger table fails the query with a clear error), with MySQL types mapped to DuckDB
 * types; `source.db.table` is a view over that connection's copy. So one query joins lake and
 * MySQL tables, and no other query ever sees the copy.
 *
 * ## Locked down
 * After setup the instance runs with `enable_external_access=false` (only the lake folder and the
 * engine's profile folder are readable, via `allowed_directories`) and `lock_configuration=true`
 * (only the per-connection profiling and progress options stay settable, via `allowed_configs`). On top, every
 * statement passes the guard of `_sql_guard.ts`, which reads DuckDB's own parse tree and refuses
 * everything but one read-only query, file-reading table functions, file names as tables and
 * unknown or invisible data sources. A refusal rejects `execute` with an `InvalidArgumentError`
 * naming the construct; the service records it as a FAILED query with that message.
 * Known limits: metadata queries (`SHOW ALL TABLES`, `information_schema`) list the names of every
 * catalog attached so far, including MySQL sources other users created (names only: staged rows
 * live in the staging query's own connection). When a landing deletes a day's old files between
 * a query's `_VERSION` check and DuckDB opening them, the engine rebuilds the views and starts the
 * query once more; a query already streaming rows when that happens fails with DuckDB's
 * "file not found" message.
 *
 * ## Values, types and statistics
 * Values are DuckDB's own `::VARCHAR` rendering (exact decimals, `2023-01-01 00:00:00+00` for
 * timestamps with time zone, the session time zone being UTC); SQL NULL stays `null`. Types are
 * DuckDB's names in lowercase (`bigint`, `decimal(24,6)`, `map(varchar, varchar)`).
 * Statistics come from DuckDB's JSON profile of the query (written per connection):
 * `inputRows` = rows produced by the table scans; `scannedBytes` = bytes of the lake files the
 * scans opened (sizes from the manifests, files named in the profile); `inputBytes` =
 * `scannedBytes` plus the bytes of the MySQL values staged for the query; `planningMs` = guard,
 * view refresh, MySQL staging and DuckDB's planner/optimizer time; `executionMs` = DuckDB's query
 * latency. `progressPercentage` is polled from DuckDB's query progress.
 *
 * @module
 */
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import {
  AbortedError,
  InvalidArgumentError,
  toEventlakeError,
  UnavailableError,
} from "@eventlake/schema";
import {
  lakeTablePrefix,
  type LakeTableRef,
  listLakeDays,
  type ObjectStore,
  readDayManifest,
  readTableVersion,
} from "@eventlake/storage";
import type {
  ColumnInfo,
  EngineDataSource,
  EngineResult,
  EngineStats,
  ExecuteContext,
  QueryEngine,
} from "./engine.ts";
import { guardStatement, type TableRef } from "./_sql_guard.ts";
import { mapDuckDbError } from "./_duckdb_errors.ts";
import {
  DEFAULT_MYSQL_ROW_LIMIT,
  type MysqlDataSource,
  readMysqlTable,
  testMysqlSource,
} from "./mysql.ts";

/** Options of {@linkcode createDuckDbEngine}. */
export interface DuckDbEngineOptions {
  /** Folder the engine owns: DuckDB's home, extension, temp and profile folders go below it. */
  home: string;
  /** The lake the import lands (a local-folder store; see the module notes for S3/GCS). */
  lake?: ObjectStore;
  /** Key prefix of the lake inside `lake`, ending in `/` (default `""`). */
  lakeRoot?: string;
  /** DuckDB worker threads (default: DuckDB's, one per core). */
  threads?: number;
  /** DuckDB memory limit, e.g. `"4GB"` (default: DuckDB's, 80% of RAM). */
  memoryLimit?: string;
  /** Rows a staged MySQL table may have (default 1,000,000). */
  mysqlRowLimit?: number;
  /** How often running statistics are reported, ms (default 500). */
  progressIntervalMs?: number;
}

const PROFILE_SETTINGS = JSON.stringify({
  CUMULATIVE_ROWS_SCANNED: "true",
  OPERATOR_CARDINALITY: "true",
  OPERATOR_TYPE: "true",
  OPERATOR_NAME: "true",
  EXTRA_INFO: "true",
  LATENCY: "true",
  PLANNER: "true",
  PHYSICAL_PLANNER: "true",
  ALL_OPTIMIZERS: "true",
});

/** The only settings left changeable after the lock: set by the engine on each query's connection. */
const PER_QUERY_SETTINGS = [
  "enable_profiling",
  "profiling_output",
  "custom_profiling_settings",
  "enable_progress_bar",
  "enable_progress_bar_print",
  "progress_bar_time",
];

/**
 * DuckDB's native binding is loaded on first use, not when this module is imported: importing
 * `@eventlake/dataquery` needs no FFI permission, and code that never creates a DuckDB engine
 * never loads it.
 */
let duckdbModule: Promise<typeof import("@duckdb/node-api")> | undefined;
function loadDuckDb(): Promise<typeof import("@duckdb/node-api")> {
  duckdbModule ??= import("@duckdb/node-api");
  return duckdbModule;
}

const SYSTEM_CATALOGS = new Set(["system"]);

/** Quotes a DuckDB identifier. */
function qi(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a DuckDB string literal. */
function ql(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

interface LakeTableState {
  token: string | null;
  stale: boolean;
  files: Map<string, number>;
}

interface ProfileNode {
  operator_type?: string;
  operator_cardinality?: number;
  extra_info?: Record<string, unknown>;
  children?: ProfileNode[];
  latency?: number;
  planner?: number;
  physical_planner?: number;
  all_optimizers?: number;
}

/**
 * Creates the embedded DuckDB engine: one in-memory DuckDB instance, locked down after setup; one
 * connection per running query (so an abort interrupts exactly that query).
 *
 * @example
 * ```ts
 * import { createDuckDbEngine } from "@eventlake/dataquery";
 * const home = await Deno.makeTempDir();
 * const engine = await createDuckDbEngine({ home });
 * const controller = new AbortController();
 * const result = await engine.execute("SELECT 40 + 2 AS answer", {
 *   dataSources: [],
 *   signal: controller.signal,
 * });
 * for await (const batch of result.rows) console.log(result.columns, batch); // [{ name: "answer", type: "integer" }] [["42"]]
 * await engine.close();
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export async function createDuckDbEngine(options: DuckDbEngineOptions): Promise<DuckDbEngine> {
  const home = options.home;
  const profileDir = join(home, "duckdb", "profiles");
  for (const dir of ["home", "extensions", "temp", "profiles"]) {
    await mkdir(join(home, "duckdb", dir), { recursive: true });
  }
  let lakeDir: string | undefined;
  if (options.lake && options.lake.url.startsWith("file:")) {
    lakeDir = fileURLToPath(options.lake.url).replace(/\/?$/, "/");
  }
  const config: Record<string, string> = {
    home_directory: join(home, "duckdb", "home"),
    extension_directory: join(home, "duckdb", "extensions"),
    temp_directory: join(home, "duckdb", "temp"),
    autoinstall_known_extensions: "false",
  };
  if (options.threads !== undefined) config.threads = String(options.threads);
  if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
  const { DuckDBInstance } = await loadDuckDb();
  const instance = await DuckDBInstance.create(":memory:", config);
  const setup = await instance.connect();
  try {
    const allowed = [profileDir.replace(/\/?$/, "/")];
    if (lakeDir) allowed.push(lakeDir);
    await setup.run("SET TimeZone = 'UTC'");
    await setup.run(`SET allowed_directories = [${allowed.map(ql).join(", ")}]`);
    await setup.run(
      `SET allowed_configs = [${PER_QUERY_SETTINGS.map(ql).join(", ")}]`,
    );
    await setup.run("SET enable_external_access = false");
    await setup.run("SET lock_configuration = true");
  } catch (e) {
    setup.closeSync();
    instance.closeSync();
    throw mapDuckDbError(e);
  }
  return new DuckDbEngine(instance, setup, { ...options, lakeDir, profileDir });
}

/** The embedded DuckDB engine; create it with {@linkcode createDuckDbEngine}. */
export class DuckDbEngine implements QueryEngine {
  /** Always `duckdb`. */
  readonly name = "duckdb";
  readonly #instance: DuckDBInstance;
  readonly #admin: DuckDBConnection;
  readonly #lake?: ObjectStore;
  readonly #lakeRoot: string;
  readonly #lakeDir?: string;
  readonly #profileDir: string;
  readonly #mysqlRowLimit: number;
  readonly #progressMs: number;
  readonly #tables = new Map<string, LakeTableState>();
  readonly #catalogs = new Set<string>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #open = new Set<DuckDBConnection>();
  /** DuckDB calls running on its threads: {@linkcode DuckDbEngine.close} waits for them. */
  readonly #inflight = new Set<Promise<unknown>>();
  #seq = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** Use {@linkcode createDuckDbEngine}. */
  constructor(
    instance: DuckDBInstance,
    admin: DuckDBConnection,
    options: DuckDbEngineOptions & { lakeDir?: string; profileDir: string },
  ) {
    this.#instance = instance;
    this.#admin = admin;
    this.#lake = options.lake;
    this.#lakeRoot = options.lakeRoot ?? "";
    this.#lakeDir = options.lakeDir;
    this.#profileDir = options.profileDir;
    this.#mysqlRowLimit = options.mysqlRowLimit ?? DEFAULT_MYSQL_ROW_LIMIT;
    this.#progressMs = options.progressIntervalMs ?? 500;
  }

  /** Runs one read-only statement; see the module notes for names, guard and statistics. */
  async execute(sql: string, context: ExecuteContext): Promise<EngineResult> {
    if (this.#closed) throw new UnavailableError("DuckDB engine is closed");
    const { signal } = context;
    if (signal.aborted) throw new AbortedError("Query was aborted before it started");
    const startedAt = performance.now();
    const conn = await this.#op(() => this.#instance.connect());
    this.#open.add(conn);
    // Never into a connection close() has freed.
    const interrupt = () => {
      if (this.#open.has(conn)) conn.interrupt();
    };
    signal.addEventListener("abort", interrupt, { once: true });
    let handedOver = false;
    let progressTimer: ReturnType<typeof setInterval> | undefined;
    const profilePath = join(this.#profileDir, `q${++this.#seq}-${crypto.randomUUID()}.json`);
    try {
      const serialized = await this.#scalar(conn, `SELECT json_serialize_sql(${ql(sql)})`);
      const { tables } = guardStatement(sql, serialized);
      const sources = new Map(context.dataSources.map((s) => [s.name, s]));
      const defaultSource = context.dataSource === undefined
        ? undefined
        : sources.get(context.dataSource);
      if (context.dataSource !== undefined && !defaultSource) {
        throw new InvalidArgumentError(
          `Unknown data source "${context.dataSource}": it does not exist or is not visible to you`,
        );
      }
      // Prepare every catalog the query touches: lake views, staged MySQL tables.
      let stagedBytes = 0;
      const stagedKeys = new Set<string>();
      const lakeRefs: LakeTableRef[] = [];
      if (defaultSource) await this.#ensureCatalog(defaultSource, context.database);
      for (const ref of tables) {
        const resolved = this.#resolve(ref, context);
        if (!resolved) continue;
        const source = sources.get(resolved.catalog);
        if (!source) {
          if (ref.catalog !== "" && !SYSTEM_CATALOGS.has(resolved.catalog)) {
            throw new InvalidArgumentError(
              `Unknown data source "${ref.catalog}" in "${ref.catalog}.${ref.schema}.${ref.table}": it does not exist or is not visible to you`,
            );
          }
          continue;
        }
        await this.#ensureCatalog(source);
        if (source.type === "DATA_CATALOG") {
          const lakeRef = {
            dataSource: source.name,
            database: resolved.schema.toLowerCase(),
            table: resolved.table.toLowerCase(),
          };
          lakeRefs.push(lakeRef);
          await this.#refreshLakeTable(lakeRef, signal);
        } else {
          const key = `${resolved.schema}.${resolved.table}`;
          if (stagedKeys.has(key)) continue;
          stagedKeys.add(key);
          stagedBytes += await this.#stageMysql(
            conn,
            source,
            resolved.schema,
            resolved.table,
            signal,
          );
        }
        if (signal.aborted) throw signal.reason;
      }
      if (defaultSource) {
        const database = context.database ??
          (defaultSource.type === "DATA_CATALOG" ? "default" : undefined);
        await this.#op(() =>
          conn.run(
            database === undefined
              ? `USE ${qi(defaultSource.name)}`
              : `USE ${qi(defaultSource.name)}.${qi(database)}`,
          )
        );
      }
      // DuckDB's own ::VARCHAR rendering of every value, on DuckDB's canonical text of the query.
      const canonical = await this.#scalar(
        conn,
        `SELECT json_deserialize_sql(${ql(serialized)}::JSON)`,
      );
      // Query progress is tracked only with the progress bar on (never printed here).
      await this.#op(() =>
        conn.run(
          `SET enable_profiling = 'json'; SET profiling_output = ${ql(profilePath)}; ` +
            `SET custom_profiling_settings = ${ql(PROFILE_SETTINGS)}; ` +
            "SET enable_progress_bar = true; SET enable_progress_bar_print = false; " +
            "SET progress_bar_time = 0",
        )
      );
      const stats: EngineStats = { progressPercentage: 0 };
      const start = async () => {
        const typed = await this.#op(() => conn.prepare(sql));
        const columns: ColumnInfo[] = [];
        for (let i = 0; i < typed.columnCount; i++) {
          columns.push({
            name: typed.columnName(i),
            type: typed.columnType(i).toString().toLowerCase(),
          });
        }
        typed.destroySync();
        const prepared = await this.#op(() =>
          conn.prepare(
            `SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (\n${canonical}\n) AS "__eventlake_result"`,
          )
        );
        if (signal.aborted) throw signal.reason;
        // An aggregate does most of its work inside stream(): poll progress from here on.
        clearInterval(progressTimer);
        progressTimer = setInterval(() => {
          if (!this.#open.has(conn)) return; // closed: no call into a freed connection
          try {
            const p = conn.progress.percentage;
            if (p >= 0) {
              stats.progressPercentage = Math.min(100, p);
              context.onProgress?.({ progressPercentage: stats.progressPercentage });
            }
          } catch {
            // progress is advisory
          }
        }, this.#progressMs);
        return { columns, result: await this.#op(() => prepared.stream()) };
      };
      let started: Awaited<ReturnType<typeof start>>;
      try {
        started = await start();
      } catch (e) {
        if (signal.aborted || lakeRefs.length === 0 || !this.#isVanishedLakeFile(e)) throw e;
        // An import replaced a day's files between the _VERSION check and DuckDB opening them:
        // rebuild the views from the new manifests and start once more.
        for (const ref of lakeRefs) {
          this.tableChanged(ref);
          await this.#refreshLakeTable(ref, signal);
        }
        started = await start();
      }
      const { columns, result } = started;
      const setupMs = performance.now() - startedAt;
      handedOver = true;
      const timer = progressTimer;
      const generator = this.#rows(conn, result, {
        timer,
        signal,
        interrupt,
        profilePath,
        stats,
        setupMs,
        stagedBytes,
        width: columns.length,
      });
      // A generator closed before its first next() never runs its finally: release here then.
      let pulled = false;
      const cleanUp = () => {
        clearInterval(timer);
        interrupt();
        signal.removeEventListener("abort", interrupt);
        this.#release(conn);
        rm(profilePath, { force: true }).catch(() => {});
      };
      const rows: AsyncIterable<(string | null)[][]> = {
        [Symbol.asyncIterator]: () => ({
          next: () => {
            pulled = true;
            return generator.next();
          },
          return: (value?: unknown) => {
            if (!pulled) cleanUp();
            return generator.return(value as undefined);
          },
        }),
      };
      return { columns, rows, stats: () => ({ ...stats }) };
    } catch (e) {
      if (signal.aborted) throw abortError(signal);
      throw mapDuckDbError(e);
    } finally {
      if (!handedOver) {
        clearInterval(progressTimer);
        signal.removeEventListener("abort", interrupt);
        this.#release(conn);
        rm(profilePath, { force: true }).catch(() => {});
      }
    }
  }

  async *#rows(
    conn: DuckDBConnection,
    result: { fetchChunk(): Promise<{ rowCount: number; getRows(): unknown[][] } | null> },
    o: {
      timer: ReturnType<typeof setInterval> | undefined;
      signal: AbortSignal;
      interrupt: () => void;
      profilePath: string;
      stats: EngineStats;
      setupMs: number;
      stagedBytes: number;
      width: number;
    },
  ): AsyncGenerator<(string | null)[][]> {
    let finished = false;
    try {
      for (;;) {
        let chunk;
        try {
          chunk = await this.#op(() => result.fetchChunk());
        } catch (e) {
          if (o.signal.aborted) throw abortError(o.signal);
          throw mapDuckDbError(e);
        }
        if (!chunk || chunk.rowCount === 0) break;
        yield chunk.getRows() as (string | null)[][];
      }
      finished = true;
      o.stats.progressPercentage = 100;
      Object.assign(o.stats, await this.#readProfile(o.profilePath, o.setupMs, o.stagedBytes));
    } finally {
      clearInterval(o.timer);
      if (!finished) o.interrupt();
      o.signal.removeEventListener("abort", o.interrupt);
      this.#release(conn);
      rm(o.profilePath, { force: true }).catch(() => {});
    }
  }

  async #readProfile(path: string, setupMs: number, stagedBytes: number): Promise<EngineStats> {
    let profile: ProfileNode;
    try {
      profile = JSON.parse(await readFile(path, "utf8")) as ProfileNode;
    } catch {
      return { planningMs: setupMs };
    }
    let inputRows = 0;
    let scannedBytes = 0;
    let unknownFiles = false;
    const scans: Record<string, unknown>[] = [];
    const visit = (node: ProfileNode) => {
      if (node.operator_type === "TABLE_SCAN") {
        inputRows += node.operator_cardinality ?? 0;
        if (node.extra_info?.["Function"] === "READ_PARQUET") scans.push(node.extra_info);
      }
      for (const child of node.children ?? []) visit(child);
    };
    visit(profile);
    for (const info of scans) {
      const bytes = await this.#scanBytes(info);
      if (bytes === undefined) unknownFiles = true;
      else scannedBytes += bytes;
    }
    const planning = ((profile.planner ?? 0) + (profile.physical_planner ?? 0) +
      (profile.all_optimizers ?? 0)) * 1000;
    const stats: EngineStats = {
      inputRows,
      planningMs: Math.round(setupMs + planning),
      executionMs: Math.round((profile.latency ?? 0) * 1000),
    };
    if (!unknownFiles) {
      stats.scannedBytes = scannedBytes;
      stats.inputBytes = scannedBytes + stagedBytes;
    }
    return stats;
  }

  /**
   * Bytes of the lake files one Parquet scan opened, from its profile entry: the files it names,
   * or, when DuckDB shortened the list ("…, ..."), the files whose `dt` passes the scan's own
   * "File Filters" (evaluated by DuckDB over the table's days), checked against its
   * "Total Files Read" and "Scanning Files: kept/total" counts. `undefined` when that cannot be
   * established.
   */
  async #scanBytes(info: Record<string, unknown>): Promise<number | undefined> {
    const names = String(info["Filename(s)"] ?? "").split(/\n|,\s+/).map((n) => n.trim())
      .filter((n) => n !== "");
    const truncated = names.at(-1) === "...";
    if (truncated) names.pop();
    if (names.length === 0) return undefined;
    const table = [...this.#tables.values()].find((t) => t.files.has(names[0]));
    if (!table) return undefined;
    if (!truncated) {
      let sum = 0;
      for (const name of names) {
        const bytes = table.files.get(name);
        if (bytes === undefined) return undefined;
        sum += bytes;
      }
      return sum;
    }
    const all = [...table.files];
    const read = Number(info["Total Files Read"]);
    if (read === table.files.size) return all.reduce((n, [, bytes]) => n + bytes, 0);
    const [kept, total] = String(info["Scanning Files"] ?? "").split("/").map(Number);
    // A scan stopped early (LIMIT) read fewer files than it kept: which ones is not known.
    if (kept !== read || total !== table.files.size) return undefined;
    const filter = info["File Filters"];
    if (typeof filter !== "string" || filter === "") return undefined;
    const dtOf = (path: string) => /\/dt=([^/]+)\//.exec(path)?.[1];
    const days = [...new Set(all.map(([path]) => dtOf(path)).filter((d) => d !== undefined))];
    try {
      const reader = await this.#op(() =>
        this.#admin.runAndReadAll(
          `SELECT dt FROM (VALUES ${
            days.map((d) => `(${ql(d)})`).join(", ")
          }) AS t(dt) WHERE ${filter}`,
        )
      );
      const passing = new Set(reader.getRows().map((row) => String(row[0])));
      const files = all.filter(([path]) => passing.has(dtOf(path) ?? ""));
      if (files.length !== kept) return undefined;
      return files.reduce((n, [, bytes]) => n + bytes, 0);
    } catch {
      return undefined;
    }
  }

  /** Whether DuckDB failed because a lake file it was told to read is gone. */
  #isVanishedLakeFile(error: unknown): boolean {
    const message = error instanceof Error ? error.message : String(error);
    return this.#lakeDir !== undefined && message.includes(this.#lakeDir) &&
      /IO Error: (No files found|Cannot open file)/i.test(message);
  }

  /**
   * Starts one asynchronous DuckDB call, unless the engine is closing, and tracks it until it
   * settles: `close()` frees connections only once none runs on DuckDB's threads (freeing a
   * connection under a running prepare crashed the process).
   */
  #op<T>(start: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new UnavailableError("DuckDB engine is closed"));
    const running = start();
    this.#inflight.add(running);
    const settled = () => void this.#inflight.delete(running);
    running.then(settled, settled);
    return running;
  }

  #release(conn: DuckDBConnection): void {
    if (!this.#open.delete(conn)) return;
    try {
      conn.closeSync();
    } catch {
      // already closed
    }
  }

  async #scalar(conn: DuckDBConnection, sql: string): Promise<string> {
    const reader = await this.#op(() => conn.runAndReadAll(sql));
    return String(reader.getRows()[0][0]);
  }

  /** Resolves a written reference against the defaults; `undefined` when it names no source table. */
  #resolve(ref: TableRef, context: ExecuteContext): TableRef | undefined {
    if (ref.catalog !== "") {
      // DuckDB identifiers are case-insensitive; data source names are lowercase.
      return { catalog: ref.catalog.toLowerCase(), schema: ref.schema || "main", table: ref.table };
    }
    if (context.dataSource === undefined) return undefined;
    const isLake = context.dataSources.some((s) =>
      s.name === context.dataSource && s.type === "DATA_CATALOG"
    );
    const schema = ref.schema || context.database || (isLake ? "default" : "");
    if (schema === "") return undefined;
    return { catalog: context.dataSource, schema, table: ref.table };
  }

  /** Serialises work on one key (catalog setup, a table's view). */
  async #locked<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    this.#locks.set(key, next);
    try {
      return await next;
    } finally {
      if (this.#locks.get(key) === next) this.#locks.delete(key);
    }
  }

  async #ensureCatalog(source: EngineDataSource, database?: string): Promise<void> {
    if (!/^[a-z0-9_]{1,72}$/.test(source.name)) {
      throw new InvalidArgumentError(`Invalid data source name "${source.name}"`);
    }
    if (!this.#catalogs.has(source.name)) {
      await this.#locked(`catalog:${source.name}`, async () => {
        if (this.#catalogs.has(source.name)) return;
        await this.#op(() =>
          this.#admin.run(`ATTACH IF NOT EXISTS ':memory:' AS ${qi(source.name)}`)
        );
        if (source.type === "DATA_CATALOG") {
          await this.#op(() =>
            this.#admin.run(`CREATE SCHEMA IF NOT EXISTS ${qi(source.name)}."default"`)
          );
          await this.#loadLakeCatalog(source.name);
        }
        this.#catalogs.add(source.name);
      });
    }
    if (database !== undefined) {
      // USE of a database whose first table has not landed yet still works (and lists nothing).
      await this.#op(() =>
        this.#admin.run(`CREATE SCHEMA IF NOT EXISTS ${qi(source.name)}.${qi(database)}`)
      );
    }
  }

  /** Builds views for every table of a lake catalog (so SHOW TABLES lists them). */
  async #loadLakeCatalog(catalog: string): Promise<void> {
    if (!this.#lake) return;
    for await (const database of this.#childNames(`${this.#lakeRoot}${catalog}/`)) {
      for await (const table of this.#childNames(`${this.#lakeRoot}${catalog}/${database}/`)) {
        await this.#refreshLakeTable({ dataSource: catalog, database, table });
      }
    }
  }

  async *#childNames(prefix: string): AsyncIterable<string> {
    for await (const entry of this.#lake!.list(prefix, { delimiter: "/" })) {
      if (entry.kind !== "prefix") continue;
      const name = entry.prefix.slice(prefix.length).replace(/\/$/, "");
      if (/^[a-z0-9_]{1,72}$/.test(name)) yield name;
    }
  }

  async #refreshLakeTable(ref: LakeTableRef, signal?: AbortSignal): Promise<void> {
    if (
      !this.#lake || !/^[a-z0-9_]{1,72}$/.test(ref.database) ||
      !/^[a-z0-9_]{1,72}$/.test(ref.table)
    ) return;
    const key = `${ref.dataSource}.${ref.database}.${ref.table}`;
    const root = this.#lakeRoot;
    const version = await readTableVersion(this.#lake, ref, { root, signal });
    const known = this.#tables.get(key);
    const token = version?.token ?? null;
    if (known && !known.stale && known.token === token) return;
    await this.#locked(`table:${key}`, async () => {
      const current = this.#tables.get(key);
      if (current && !current.stale && current.token === token) return;
      const target = `${qi(ref.dataSource)}.${qi(ref.database)}.${qi(ref.table)}`;
      if (!this.#lakeDir) {
        throw new InvalidArgumentError(
          `Cannot read lake table "${key}": the DuckDB engine reads only a local lake folder and this lake is at "${
            this.#lake!.url
          }"; use the Trino engine`,
        );
      }
      const files = new Map<string, number>();
      const prefix = `${this.#lakeDir}${root}${lakeTablePrefix(ref)}`;
      for (const date of await listLakeDays(this.#lake!, ref, { root, signal })) {
        const manifest = await readDayManifest(this.#lake!, ref, date, { root, signal });
        for (const file of manifest?.files ?? []) files.set(`${prefix}${file.key}`, file.bytes);
      }
      if (files.size === 0) {
        await this.#op(() => this.#admin.run(`DROP VIEW IF EXISTS ${target}`));
      } else {
        await this.#op(() =>
          this.#admin.run(
            `CREATE SCHEMA IF NOT EXISTS ${qi(ref.dataSource)}.${qi(ref.database)}`,
          )
        );
        const list = [...files.keys()].map(ql).join(", ");
        await this.#op(() =>
          this.#admin.run(
            `CREATE OR REPLACE VIEW ${target} AS SELECT * FROM read_parquet([${list}], hive_partitioning = true, hive_types = {'dt': VARCHAR})`,
          )
        );
      }
      this.#tables.set(key, { token, stale: false, files });
    });
  }

  /** Copies one MySQL table into the connection's temp catalog; returns the staged value bytes. */
  async #stageMysql(
    conn: DuckDBConnection,
    source: MysqlDataSource,
    database: string,
    table: string,
    signal: AbortSignal,
  ): Promise<number> {
    const reader = await readMysqlTable(source, { database, table }, {
      rowLimit: this.#mysqlRowLimit,
      signal,
    });
    const temp = `__mysql__${source.name}__${database}__${table}`;
    await this.#op(() =>
      conn.run(
        `CREATE OR REPLACE TEMP TABLE ${qi(temp)} (${
          reader.columns.map((c) => `${qi(c.name)} ${c.duckdbType}`).join(", ")
        })`,
      )
    );
    const appender = await this.#op(() => conn.createAppender(temp, "main", "temp"));
    let bytes = 0;
    try {
      for await (const batch of reader.rows) {
        // The appender writes into the connection synchronously: not once close() freed it.
        if (!this.#open.has(conn)) throw new UnavailableError("DuckDB engine is closed");
        for (const row of batch) {
          for (const value of row) {
            if (value === null) appender.appendNull();
            else if (typeof value === "string") {
              appender.appendVarchar(value);
              bytes += value.length;
            } else {
              appender.appendBlob(value);
              bytes += value.length;
            }
          }
          appender.endRow();
        }
        if (signal.aborted) throw signal.reason;
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    await this.#locked(`mysql:${source.name}.${database}.${table}`, async () => {
      // Created from this connection: the view binds against its own temp table.
      await this.#op(() =>
        conn.run(`CREATE SCHEMA IF NOT EXISTS ${qi(source.name)}.${qi(database)}`)
      );
      await this.#op(() =>
        conn.run(
          `CREATE OR REPLACE VIEW ${qi(source.name)}.${qi(database)}.${
            qi(table)
          } AS SELECT * FROM temp.main.${qi(temp)}`,
        )
      );
    });
    return bytes;
  }

  /** Connects to a MySQL source and runs `SELECT 1`; lake catalogs need no check. */
  async testDataSource(
    source: EngineDataSource,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    if (source.type === "MYSQL") await testMysqlSource(source, options);
  }

  /** Marks a lake table's view stale; the next query that names it rebuilds it. */
  tableChanged(ref: { dataSource: string; database: string; table: string }): void {
    const state = this.#tables.get(`${ref.dataSource}.${ref.database}.${ref.table}`);
    if (state) state.stale = true;
  }

  /**
   * Interrupts running queries and closes the DuckDB instance, once every DuckDB call still
   * running has returned (they fail fast once interrupted); later calls are refused.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    for (const conn of this.#open) {
      try {
        conn.interrupt();
      } catch {
        // ignore
      }
    }
    this.#closing = (async () => {
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
      for (const conn of [...this.#open]) this.#release(conn);
      try {
        this.#admin.closeSync();
        this.#instance.closeSync();
      } catch (e) {
        throw toEventlakeError(e);
      }
    })();
    return this.#closing;
  }
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  return reason instanceof Error ? reason : new AbortedError("Query was aborted");
}

/** A plain, unlocked, in-memory DuckDB instance (fixtures and benchmark references only). */
export interface PlainDuckDb {
  /** Runs one statement; returns its rows with every value as a string (`null` kept). */
  run(sql: string): Promise<(string | null)[][]>;
  /** Closes the instance. */
  close(): void;
}

/**
 * Opens a separate, unlocked, in-memory DuckDB instance: the reference a benchmark compares the
 * engine with, and the writer of fixtures. Not re-exported by `mod.ts`.
 *
 * @example
 * ```ts ignore
 * const db = await openPlainDuckDb();
 * console.log(await db.run("SELECT 42")); // [["42"]]
 * db.close();
 * ```
 */
export async function openPlainDuckDb(options: { threads?: number } = {}): Promise<PlainDuckDb> {
  const config: Record<string, string> = {};
  if (options.threads !== undefined) config.threads = String(options.threads);
  const { DuckDBInstance } = await loadDuckDb();
  const instance = await DuckDBInstance.create(":memory:", config);
  const conn = await instance.connect();
  return {
    async run(sql: string): Promise<(string | null)[][]> {
      const reader = await conn.runAndReadAll(sql);
      return reader.getRows().map((row) => row.map((v) => (v === null ? null : String(v))));
    },
    close(): void {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * Writes the result of `sql` to a Parquet file with a separate, unlocked DuckDB instance.
 * For fixtures and benchmarks only (not re-exported by `mod.ts`).
 *
 * @example
 * ```ts ignore
 * await writeParquetWithDuckDb("SELECT 1 AS x", "/tmp/x.parquet");
 * ```
 */
export async function writeParquetWithDuckDb(sql: string, path: string): Promise<void> {
  const db = await openPlainDuckDb();
  try {
    await db.run(`COPY (${sql}) TO ${ql(path)} (FORMAT parquet)`);
  } finally {
    db.close();
  }
}

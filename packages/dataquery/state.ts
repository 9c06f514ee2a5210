/**
 * What the query service keeps durably, behind one interface ({@linkcode QueryStateStore}), and
 * the implementations that need no filesystem: {@linkcode createMemoryState} and
 * {@linkcode createObjectStoreState}. The default, SQLite under `$EVENTLAKE_HOME`, is
 * `createSqliteState` in `./state_sqlite.ts` (what `statePath` opens).
 *
 * The interface is synchronous on purpose: the service reads and writes its state on every
 * request and the SQLite store answers in microseconds. Stores over remote storage therefore
 * serve from memory and write behind ({@linkcode QueryStateStore.flush} waits for the writes).
 *
 * @module
 */
import { InvalidArgumentError, toEventlakeError } from "@eventlake/schema";
import type { ObjectStore, SignalOptions } from "@eventlake/storage";
import type { EngineStats } from "./engine.ts";

/** Query states, exactly the Open API's names. */
export type QueryState = "QUEUED" | "RUNNING" | "FINISHED" | "FAILED" | "ABORTED";

/** A query's statistics as the service keeps them (raw numbers; formatting happens on read). */
export interface StoredStats extends EngineStats {
  /** Rows written to the result. */
  outputRows?: number;
  /** Bytes of the result CSV. */
  outputBytes?: number;
}

/** One stored query. */
export interface QueryRecord {
  /** The query id. */
  queryId: string;
  /** Who submitted it. */
  creatorName: string;
  /** The SQL as submitted. */
  queryText: string;
  /** The first 300 characters of the SQL. */
  preview: string;
  /** Normalised text + data source + database: equal keys may reuse each other's results. */
  reuseKey: string;
  /** Default data source. */
  dataSource: string | null;
  /** Default database. */
  database: string | null;
  /** Lifecycle state. */
  state: QueryState;
  /** Why it FAILED or was ABORTED. */
  errorMessage: string | null;
  /** Result bucket. */
  bucketName: string;
  /** Result folder inside the bucket. */
  resultPath: string;
  /** `s3://…` style URL of the result folder. */
  storageUrl: string;
  /** Key of the result CSV, when one was written. */
  csvKey: string | null;
  /** Whether reuse was asked for. */
  reuse: boolean;
  /** Minutes a reused result may be old. */
  maxReuseAge: number | null;
  /** When the result stops being reusable (epoch ms). */
  expireAt: number | null;
  /** The query this one's result came from. */
  reusedFrom: string | null;
  /** Lake fingerprint when it started (voids reuse after imports). */
  lakeFingerprint: string | null;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms. */
  startedAt: number | null;
  /** Epoch ms. */
  completedAt: number | null;
  /** Bytes the engine read. */
  inputBytes: number | null;
  /** Statistics. */
  stats: StoredStats;
  /** Whether the engine scanned data. */
  isScanned: boolean;
  /** Whether result files were written. */
  isStored: boolean;
  /** Result columns. */
  columns: { name: string; type: string }[] | null;
  /** The first rows of the result, for pages. */
  rows: (string | null)[][] | null;
  /**
   * The service instance that runs this query while it is QUEUED or RUNNING (see
   * `ownerToken` in `service.ts`); `null` for rows written before owners were recorded.
   */
  owner: string | null;
}

/** One stored data source (MYSQL sources only; DATA_CATALOG ones come from the lake). */
export interface DataSourceRecord {
  /** Name. */
  name: string;
  /** Who may see it. */
  scope: "PRIVATE" | "PUBLIC";
  /** Free text. */
  description: string | null;
  /** Creator. */
  creatorName: string;
  /** MySQL instance id. */
  instanceId: string;
  /** MySQL user. */
  mysqlUser: string;
  /** The password, encrypted. */
  passwordSealed: string;
  /** Epoch ms. */
  createdAt: number;
}

/** One stored credential. */
export interface CredentialRecord {
  /** Credential id. */
  credentialId: string;
  /** Creator name it authenticates as. */
  name: string;
  /** Hash of the secret (`_secrets.ts` format). */
  secretHash: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms, once revoked. */
  revokedAt: number | null;
}

/** Fields query history can be sorted by (the Open API's names). */
export type HistorySortField =
  | "queryId"
  | "queryTextPreview"
  | "state"
  | "createdAt"
  | "elapsedTime"
  | "inputDataSize"
  | "creatorName"
  | "storageUrl";

/** History filters after validation. */
export interface HistoryQuery {
  /** Substring of the query id. */
  queryId?: string;
  /** Exact creator name. */
  creatorName?: string;
  /** Any of these states (empty or absent: all). */
  states?: QueryState[];
  /** Sort field; ties are broken by query id in the same direction. */
  orderBy: HistorySortField;
  /** Descending order. */
  descending: boolean;
  /** Page size. */
  limit: number;
  /** Records to skip. */
  offset: number;
  /** Epoch ms: the end of still-running queries for `elapsedTime`. */
  now: number;
}

/** A reuse lookup: the newest FINISHED queries with this key by this creator. */
export interface ReuseLookup {
  /** Reuse key. */
  reuseKey: string;
  /** Creator name. */
  creatorName: string;
}

/** The state the query service keeps: queries, data sources, credentials and settings. */
export interface QueryStateStore {
  /** Runs `fn` as one unit of change (all of it or none where the store can promise it). */
  transaction<T>(fn: () => T): T;
  /** Inserts a query; returns false when the id is taken. */
  insertQuery(q: QueryRecord): boolean;
  /** Reads a query (a copy: change it and call `updateQuery`). */
  getQuery(queryId: string): QueryRecord | undefined;
  /** Marks a QUEUED query RUNNING. */
  setRunning(queryId: string, startedAt: number): void;
  /** Writes every field of a query back. */
  updateQuery(q: QueryRecord): void;
  /** Ids of queries in the given states, oldest first. */
  queryIdsInStates(states: QueryState[]): string[];
  /** FINISHED queries of `lookup` created at or after `since`, newest first, at most 5. */
  reuseCandidates(lookup: ReuseLookup, since: number): QueryRecord[];
  /** A page of history and the total count. */
  history(h: HistoryQuery): { total: number; records: QueryRecord[] };
  /** Reads a setting. */
  getSetting(key: string): string | undefined;
  /** Writes a setting. */
  setSetting(key: string, value: string): void;
  /** Every data source, by name. */
  listDataSources(): DataSourceRecord[];
  /** Inserts a data source; returns false when the name is taken. */
  insertDataSource(d: DataSourceRecord): boolean;
  /** Deletes a data source; returns whether it existed. */
  deleteDataSource(name: string): boolean;
  /** Inserts a credential. */
  insertCredential(c: CredentialRecord): void;
  /** Every credential, oldest first. */
  listCredentials(): CredentialRecord[];
  /** One credential. */
  getCredential(credentialId: string): CredentialRecord | undefined;
  /** Marks a credential revoked; returns whether it existed. */
  revokeCredential(credentialId: string, at: number): boolean;
  /** Resolves when every change made so far is durable (at once for synchronous stores). */
  flush(options?: SignalOptions): Promise<void>;
  /** Releases the store (after a flush for write-behind stores). */
  close(): Promise<void>;
}

const clone = <T>(value: T): T => structuredClone(value);

function sortValue(q: QueryRecord, field: HistorySortField, now: number): string | number {
  switch (field) {
    case "queryId":
      return q.queryId;
    case "queryTextPreview":
      return q.preview;
    case "state":
      return q.state;
    case "createdAt":
      return q.createdAt;
    case "elapsedTime":
      return (q.completedAt ?? now) - q.createdAt;
    case "inputDataSize":
      return q.inputBytes ?? 0;
    case "creatorName":
      return q.creatorName;
    case "storageUrl":
      return q.storageUrl;
  }
}

const compare = (a: string | number, b: string | number): number => a < b ? -1 : a > b ? 1 : 0;

/** Change listener of {@linkcode MemoryState} (what the object-store state writes behind). */
type Change =
  | { kind: "query"; id: string }
  | { kind: "dataSource"; id: string }
  | { kind: "credential"; id: string }
  | { kind: "settings" };

/** State held in maps; every read and write copies, so callers never share objects with it. */
class MemoryState implements QueryStateStore {
  readonly queries = new Map<string, QueryRecord>();
  readonly dataSources = new Map<string, DataSourceRecord>();
  readonly credentials = new Map<string, CredentialRecord>();
  readonly settings = new Map<string, string>();
  onChange: (change: Change) => void = () => {};

  transaction<T>(fn: () => T): T {
    // Synchronous code cannot interleave with other callers; a throw leaves earlier writes (as
    // the service only batches independent updates in transactions, that is acceptable).
    return fn();
  }

  insertQuery(q: QueryRecord): boolean {
    if (this.queries.has(q.queryId)) return false;
    this.queries.set(q.queryId, clone(q));
    this.onChange({ kind: "query", id: q.queryId });
    return true;
  }

  getQuery(queryId: string): QueryRecord | undefined {
    const q = this.queries.get(queryId);
    return q ? clone(q) : undefined;
  }

  setRunning(queryId: string, startedAt: number): void {
    const q = this.queries.get(queryId);
    if (!q) return;
    q.state = "RUNNING";
    q.startedAt = startedAt;
    this.onChange({ kind: "query", id: queryId });
  }

  updateQuery(q: QueryRecord): void {
    if (!this.queries.has(q.queryId)) return;
    this.queries.set(q.queryId, clone(q));
    this.onChange({ kind: "query", id: q.queryId });
  }

  queryIdsInStates(states: QueryState[]): string[] {
    return [...this.queries.values()].filter((q) => states.includes(q.state))
      .sort((a, b) => a.createdAt - b.createdAt || compare(a.queryId, b.queryId))
      .map((q) => q.queryId);
  }

  reuseCandidates(lookup: ReuseLookup, since: number): QueryRecord[] {
    return [...this.queries.values()].filter((q) =>
      q.reuseKey === lookup.reuseKey && q.creatorName === lookup.creatorName &&
      q.state === "FINISHED" && q.createdAt >= since
    ).sort((a, b) => b.createdAt - a.createdAt).slice(0, 5).map(clone);
  }

  history(h: HistoryQuery): { total: number; records: QueryRecord[] } {
    const matching = [...this.queries.values()].filter((q) =>
      (h.queryId === undefined || q.queryId.includes(h.queryId)) &&
      (h.creatorName === undefined || q.creatorName === h.creatorName) &&
      (!h.states || h.states.length === 0 || h.states.includes(q.state))
    );
    const sign = h.descending ? -1 : 1;
    matching.sort((a, b) =>
      sign * (compare(sortValue(a, h.orderBy, h.now), sortValue(b, h.orderBy, h.now)) ||
        compare(a.queryId, b.queryId))
    );
    return {
      total: matching.length,
      records: matching.slice(h.offset, h.offset + h.limit).map(clone),
    };
  }

  getSetting(key: string): string | undefined {
    return this.settings.get(key);
  }

  setSetting(key: string, value: string): void {
    this.settings.set(key, value);
    this.onChange({ kind: "settings" });
  }

  listDataSources(): DataSourceRecord[] {
    return [...this.dataSources.values()].sort((a, b) => compare(a.name, b.name)).map(clone);
  }

  insertDataSource(d: DataSourceRecord): boolean {
    if (this.dataSources.has(d.name)) return false;
    this.dataSources.set(d.name, clone(d));
    this.onChange({ kind: "dataSource", id: d.name });
    return true;
  }

  deleteDataSource(name: string): boolean {
    const existed = this.dataSources.delete(name);
    if (existed) this.onChange({ kind: "dataSource", id: name });
    return existed;
  }

  insertCredential(c: CredentialRecord): void {
    this.credentials.set(c.credentialId, clone(c));
    this.onChange({ kind: "credential", id: c.credentialId });
  }

  listCredentials(): CredentialRecord[] {
    return [...this.credentials.values()].sort((a, b) =>
      a.createdAt - b.createdAt || compare(a.credentialId, b.credentialId)
    ).map(clone);
  }

  getCredential(credentialId: string): CredentialRecord | undefined {
    const c = this.credentials.get(credentialId);
    return c ? clone(c) : undefined;
  }

  revokeCredential(credentialId: string, at: number): boolean {
    const c = this.credentials.get(credentialId);
    if (!c) return false;
    c.revokedAt ??= at;
    this.onChange({ kind: "credential", id: credentialId });
    return true;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A state kept only in memory. It does not survive a restart (nor an edge isolate's restart):
 * use it for tests and throwaway services, and {@linkcode createObjectStoreState} for durability.
 *
 * @example
 * ```ts
 * import { createMemoryState } from "@eventlake/dataquery/service";
 * const state = createMemoryState();
 * state.setSetting("greeting", "hello");
 * console.log(state.getSetting("greeting")); // "hello"
 * ```
 */
export function createMemoryState(): QueryStateStore {
  return new MemoryState();
}

/** Options of {@linkcode createObjectStoreState}. */
export interface ObjectStoreStateOptions extends SignalOptions {
  /** Key prefix of the state inside the store (default `"_eventlake_state/"`; ends in `/`). */
  prefix?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A state kept as JSON objects in an {@linkcode ObjectStore} (an S3 bucket, say), for runtimes
 * without a filesystem: `<prefix>queries/<id>.json`, `<prefix>credentials/<id>.json`,
 * `<prefix>data_sources/<name>.json` and `<prefix>settings.json`. Everything is read once when
 * the state opens and then served from memory; changes are written behind, in order per object
 * ({@linkcode QueryStateStore.flush} waits for them, `close` flushes). A failed write is kept
 * and reported by the next `flush`.
 *
 * Limits: each process (isolate) sees the objects that existed when it opened plus its own
 * changes; another isolate's later changes are seen after a restart. Run one writer per prefix,
 * or route a query's requests to one isolate.
 *
 * @example
 * ```ts
 * import { createObjectStoreState } from "@eventlake/dataquery/service";
 * import { createMemoryStore } from "@eventlake/storage";
 * const bucket = createMemoryStore();
 * const state = await createObjectStoreState(bucket);
 * state.setSetting("lake_generation", "3");
 * await state.close();
 * const again = await createObjectStoreState(bucket);
 * console.log(again.getSetting("lake_generation")); // "3"
 * ```
 */
export async function createObjectStoreState(
  store: ObjectStore,
  options: ObjectStoreStateOptions = {},
): Promise<QueryStateStore> {
  const prefix = options.prefix ?? "_eventlake_state/";
  if (prefix !== "" && !prefix.endsWith("/")) {
    throw new RangeError(`Invalid state prefix "${prefix}": expected "" or a prefix ending in "/"`);
  }
  const state = new MemoryState();
  const signal = options.signal;
  const readJson = async <T>(key: string): Promise<T> => {
    const bytes = await store.read(key, { signal });
    try {
      return JSON.parse(decoder.decode(bytes)) as T;
    } catch (cause) {
      throw new InvalidArgumentError(
        `Cannot open the query state: object "${key}" is not JSON`,
        { cause, details: { key } },
      );
    }
  };
  for await (const entry of store.list(prefix, { signal })) {
    if (!("size" in entry)) continue;
    const rest = entry.key.slice(prefix.length);
    const slash = rest.indexOf("/");
    const folder = slash < 0 ? "" : rest.slice(0, slash);
    if (rest === "settings.json") {
      const settings = await readJson<Record<string, string>>(entry.key);
      for (const [k, v] of Object.entries(settings)) state.settings.set(k, v);
    } else if (folder === "queries" && rest.endsWith(".json")) {
      const q = await readJson<QueryRecord>(entry.key);
      q.owner ??= null;
      state.queries.set(q.queryId, q);
    } else if (folder === "credentials" && rest.endsWith(".json")) {
      const c = await readJson<CredentialRecord>(entry.key);
      state.credentials.set(c.credentialId, c);
    } else if (folder === "data_sources" && rest.endsWith(".json")) {
      const d = await readJson<DataSourceRecord>(entry.key);
      state.dataSources.set(d.name, d);
    }
  }
  return new ObjectStoreState(state, store, prefix);
}

/** Keys of objects named by ids: ids are `[A-Za-z0-9_-]`, encoded anyway so no id escapes. */
const idKey = (id: string): string => encodeURIComponent(id);

class ObjectStoreState implements QueryStateStore {
  readonly #state: MemoryState;
  readonly #store: ObjectStore;
  readonly #prefix: string;
  /** Pending write per object key: the latest content wins; writes of one key never overlap. */
  readonly #dirty = new Set<string>();
  #chain: Promise<void> = Promise.resolve();
  #failure: unknown;

  constructor(state: MemoryState, store: ObjectStore, prefix: string) {
    this.#state = state;
    this.#store = store;
    this.#prefix = prefix;
    state.onChange = (change) => this.#schedule(change);
  }

  #key(change: Change): string {
    switch (change.kind) {
      case "query":
        return `${this.#prefix}queries/${idKey(change.id)}.json`;
      case "dataSource":
        return `${this.#prefix}data_sources/${idKey(change.id)}.json`;
      case "credential":
        return `${this.#prefix}credentials/${idKey(change.id)}.json`;
      case "settings":
        return `${this.#prefix}settings.json`;
    }
  }

  /** The object's current content, or undefined when it should not exist. */
  #content(change: Change): unknown {
    switch (change.kind) {
      case "query":
        return this.#state.queries.get(change.id);
      case "dataSource":
        return this.#state.dataSources.get(change.id);
      case "credential":
        return this.#state.credentials.get(change.id);
      case "settings":
        return Object.fromEntries(this.#state.settings);
    }
  }

  #schedule(change: Change): void {
    const key = this.#key(change);
    if (this.#dirty.has(key)) return; // a queued write will pick up the latest content
    this.#dirty.add(key);
    this.#chain = this.#chain.then(async () => {
      this.#dirty.delete(key);
      const content = this.#content(change);
      try {
        if (content === undefined) await this.#store.delete(key);
        else await this.#store.write(key, encoder.encode(JSON.stringify(content)));
      } catch (e) {
        this.#failure ??= e;
      }
    });
  }

  transaction<T>(fn: () => T): T {
    return this.#state.transaction(fn);
  }
  insertQuery(q: QueryRecord): boolean {
    return this.#state.insertQuery(q);
  }
  getQuery(queryId: string): QueryRecord | undefined {
    return this.#state.getQuery(queryId);
  }
  setRunning(queryId: string, startedAt: number): void {
    this.#state.setRunning(queryId, startedAt);
  }
  updateQuery(q: QueryRecord): void {
    this.#state.updateQuery(q);
  }
  queryIdsInStates(states: QueryState[]): string[] {
    return this.#state.queryIdsInStates(states);
  }
  reuseCandidates(lookup: ReuseLookup, since: number): QueryRecord[] {
    return this.#state.reuseCandidates(lookup, since);
  }
  history(h: HistoryQuery): { total: number; records: QueryRecord[] } {
    return this.#state.history(h);
  }
  getSetting(key: string): string | undefined {
    return this.#state.getSetting(key);
  }
  setSetting(key: string, value: string): void {
    this.#state.setSetting(key, value);
  }
  listDataSources(): DataSourceRecord[] {
    return this.#state.listDataSources();
  }
  insertDataSource(d: DataSourceRecord): boolean {
    return this.#state.insertDataSource(d);
  }
  deleteDataSource(name: string): boolean {
    return this.#state.deleteDataSource(name);
  }
  insertCredential(c: CredentialRecord): void {
    this.#state.insertCredential(c);
  }
  listCredentials(): CredentialRecord[] {
    return this.#state.listCredentials();
  }
  getCredential(credentialId: string): CredentialRecord | undefined {
    return this.#state.getCredential(credentialId);
  }
  revokeCredential(credentialId: string, at: number): boolean {
    return this.#state.revokeCredential(credentialId, at);
  }

  async flush(options: SignalOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await this.#chain;
    if (this.#failure !== undefined) {
      const cause = this.#failure;
      this.#failure = undefined;
      throw toEventlakeError(cause);
    }
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

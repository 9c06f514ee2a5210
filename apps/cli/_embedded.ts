/**
 * The embedded Data Query service: the same wiring `eventlake serve` needs (state in
 * `$EVENTLAKE_HOME/dataquery.sqlite`, result buckets as the folders of `resultsDir` (default
 * `$EVENTLAKE_HOME/buckets`: every folder there is a bucket of that name), the lake at
 * `lakeUrl`, the DuckDB engine), and a {@linkcode QueryBackend} over it for the client commands.
 *
 * ## Sharing the home with a running server
 * Query history, data sources and credentials live in one SQLite file (WAL mode), so `eventlake
 * queries list` shows what `eventlake serve` ran and the other way round. The DuckDB engine is an
 * IN-MEMORY instance with views over the lake's Parquet files (it never opens a DuckDB database
 * file), so the CLI and a server on the same home do not lock each other out.
 *
 * CAVEAT (in `@eventlake/dataquery`, not here): opening the service marks queries that are QUEUED
 * or RUNNING in the state as FAILED ("the service stopped"), which is right after a crash but
 * wrong for queries a live server is running at that moment. So {@linkcode openEmbeddedService}
 * first peeks at the state read-only: when it lists unfinished queries AND a server answers at
 * the configured endpoint, it refuses (`ConflictError`, exit 5) and says to use `--endpoint`.
 * When no server answers, the unfinished queries are a crash's leftovers and recovery is right.
 *
 * ## Encryption key
 * MySQL passwords are stored encrypted with `EVENTLAKE_ENCRYPTION_KEY`, else with the key in
 * `$EVENTLAKE_HOME/secret.key` (created on first use, mode 0600): a server and the CLI on one home
 * share it.
 *
 * @module
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createDuckDbEngine,
  createLocalBucketResolver,
  createQueryService,
  type Identity,
  type QueryEngine,
  type QueryService,
  type SubmitQueryInput,
} from "@eventlake/dataquery";
import {
  AbortedError,
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
} from "@eventlake/schema";
import { type ObjectStore, openStore } from "@eventlake/storage";
import type { ConfigValues } from "./config.ts";
import {
  type BackendSubmitOptions,
  type CallOptions,
  type QueryBackend,
  type ResultCsvOpener,
  resultRows,
  sleep,
} from "./_client.ts";

/**
 * How many queries the state at `statePath` lists as QUEUED or RUNNING, read without opening the
 * service (0 when the file does not exist or cannot be read).
 */
export function unfinishedQueries(statePath: string): number {
  try {
    const db = new DatabaseSync(statePath, { readOnly: true });
    try {
      const row = db.prepare(
        "SELECT count(*) AS n FROM queries WHERE state IN ('QUEUED', 'RUNNING')",
      ).get() as { n?: number } | undefined;
      return Number(row?.n ?? 0);
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/** Whether anything answers HTTP at `endpoint` within `ms`. */
async function answers(endpoint: string, ms: number): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/healthz`, { signal: AbortSignal.timeout(ms) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** Options of {@linkcode openEmbeddedService}. */
export interface EmbeddedServiceOptions {
  /** Environment (for `EVENTLAKE_ENCRYPTION_KEY` and S3/GCS settings of the lake). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Start the DuckDB engine (default true). Without it the service manages state only and every query fails. */
  engine?: boolean;
  /** DuckDB threads (default DuckDB's). */
  threads?: number;
}

/** An open embedded service and what it was built from. */
export interface EmbeddedService {
  /** The service. */
  readonly service: QueryService;
  /** The lake store, when the lake is configured. */
  readonly lake?: ObjectStore;
  /** Opens a stored result file of a bucket (`undefined` when the bucket does not exist). */
  readonly openResultCsv: ResultCsvOpener;
  /** Closes the service, the engine and the lake store. */
  close(): Promise<void>;
}

const KEY_RE = /^[0-9a-f]{64}$/;

/** The encryption key of stored MySQL passwords: the environment's, else `$home/secret.key`. */
async function encryptionKey(
  home: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  const fromEnv = env.EVENTLAKE_ENCRYPTION_KEY;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (fromEnv.length < 16) {
      throw new InvalidArgumentError(
        "Invalid EVENTLAKE_ENCRYPTION_KEY: use at least 16 characters",
      );
    }
    return fromEnv;
  }
  const path = join(home, "secret.key");
  try {
    const text = (await readFile(path, "utf8")).trim();
    if (!KEY_RE.test(text)) {
      throw new InvalidArgumentError(
        `Invalid key file "${path}": expected 64 hex digits`,
        { details: { hint: "Restore the file, or set EVENTLAKE_ENCRYPTION_KEY" } },
      );
    }
    return text;
  } catch (error) {
    if (errno(error) !== "ENOENT") throw mapFsError(error, path);
  }
  const key = Array.from(crypto.getRandomValues(new Uint8Array(32)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  try {
    await mkdir(home, { recursive: true });
    await writeFile(path, key + "\n", { flag: "wx", mode: 0o600 });
    return key;
  } catch (error) {
    // Another process created it first: use theirs.
    if (errno(error) === "EEXIST") return (await readFile(path, "utf8")).trim();
    throw mapFsError(error, path);
  }
}

/** The Node.js error code of a file-system error (`ENOENT`, …). */
function errno(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function mapFsError(error: unknown, path: string): Error {
  if (error instanceof InvalidArgumentError) return error;
  if (errno(error) === "EACCES" || errno(error) === "EPERM") {
    return new PermissionDeniedError(`Cannot use "${path}": permission denied`, { cause: error });
  }
  return new UnavailableError(
    `Cannot use "${path}": ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

/** An engine for state-only commands: every query fails, saying why. */
const NO_ENGINE: QueryEngine = {
  name: "none",
  execute: () =>
    Promise.reject(new UnavailableError("No query engine in this command: use eventlake query")),
  testDataSource: () => Promise.resolve(),
  tableChanged: () => {},
  close: () => Promise.resolve(),
};

/**
 * Opens the embedded Data Query service of a home: state `$home/dataquery.sqlite`, buckets the
 * folders of `resultsDir`, the lake at `lakeUrl`, DuckDB's files under `$home/engine`.
 *
 * @example
 * ```ts
 * import { openEmbeddedService } from "./_embedded.ts";
 * const home = await Deno.makeTempDir();
 * const embedded = await openEmbeddedService({
 *   home, lakeUrl: `${home}/lake`, resultsDir: `${home}/buckets`, port: 8080,
 *   endpoint: "http://127.0.0.1:8080", bucket: "results", resultPath: "cli",
 * }, { engine: false });
 * const { credentialId } = await embedded.service.createCredential("me@example.com");
 * console.log(credentialId.length > 0); // true
 * await embedded.close();
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export async function openEmbeddedService(
  config: ConfigValues,
  options: EmbeddedServiceOptions = {},
): Promise<EmbeddedService> {
  const env = options.env ?? {};
  await mkdir(config.home, { recursive: true }).catch((e) => {
    throw mapFsError(e, config.home);
  });
  const statePath = join(config.home, "dataquery.sqlite");
  const unfinished = unfinishedQueries(statePath);
  if (unfinished > 0 && await answers(config.endpoint, 500)) {
    throw new ConflictError(
      `Cannot open the embedded service on "${config.home}": ${unfinished} of its queries are ` +
        `QUEUED or RUNNING and a server answers at ${config.endpoint}`,
      {
        details: {
          hint: `Call that server instead: --endpoint ${config.endpoint} with a credential ` +
            "(opening the state here would mark its running queries FAILED)",
        },
      },
    );
  }
  const key = await encryptionKey(config.home, env);
  const lakeUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(config.lakeUrl)
    ? config.lakeUrl
    : pathToFileURL(config.lakeUrl).href;
  let lake: ObjectStore | undefined;
  let lakeRoot = "";
  if (options.engine !== false) {
    const { storeConfigFromEnv } = await import("./commands/export.ts");
    const opened = await openStore(lakeUrl, storeConfigFromEnv(lakeUrl, env));
    lake = opened.store;
    lakeRoot = opened.prefix;
  }
  let engine: QueryEngine = NO_ENGINE;
  if (options.engine !== false) {
    try {
      engine = await createDuckDbEngine({
        // Not the server's "engine" folder: two DuckDB instances must not share a temp folder.
        home: join(config.home, "engine-cli"),
        lake,
        lakeRoot,
        threads: options.threads,
      });
    } catch (error) {
      await lake?.close();
      throw error;
    }
  }
  let service: QueryService;
  try {
    service = createQueryService({
      engine,
      statePath,
      buckets: createLocalBucketResolver(config.resultsDir),
      encryptionKey: key,
      lakeStore: lake,
      lakeRoot,
    });
  } catch (error) {
    await engine.close();
    await lake?.close();
    throw error;
  }
  const openResultCsv = localResultCsvOpener(config.resultsDir);
  let closed = false;
  return {
    service,
    lake,
    openResultCsv,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        await service.close();
      } finally {
        await engine.close();
        await lake?.close();
      }
    },
  };
}

/** Opens result CSVs from the bucket folders of `resultsDir` (for a server on this machine). */
export function localResultCsvOpener(resultsDir: string): ResultCsvOpener {
  const buckets = createLocalBucketResolver(resultsDir);
  return async (bucketName, key, o) => {
    const bucket = await buckets.resolve(bucketName, o);
    if (bucket === undefined) return undefined;
    try {
      return await bucket.store.readStream(`${bucket.prefix ?? ""}${key}`, o);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  };
}

/** Rejects with `AbortedError` when `signal` aborts; the promise is left to settle alone. */
function raced<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(new AbortedError("Interrupted"));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError("Interrupted"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Options of {@linkcode embeddedBackend}. */
export interface EmbeddedBackendOptions {
  /** Who calls. */
  identity: Identity;
  /** Where the service lives (the home), for messages. */
  where: string;
}

/**
 * A {@linkcode QueryBackend} over an embedded service, calling as `options.identity`.
 *
 * @example
 * ```ts
 * import { embeddedBackend, openEmbeddedService } from "./_embedded.ts";
 * const home = await Deno.makeTempDir();
 * const embedded = await openEmbeddedService({
 *   home, lakeUrl: `${home}/lake`, resultsDir: `${home}/buckets`, port: 8080,
 *   endpoint: "http://127.0.0.1:8080", bucket: "results", resultPath: "cli",
 * }, { engine: false });
 * const backend = embeddedBackend(embedded, { identity: { name: "me" }, where: home });
 * console.log((await backend.list({})).totalElements); // 0
 * await backend.close();
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export function embeddedBackend(
  embedded: EmbeddedService,
  options: EmbeddedBackendOptions,
): QueryBackend {
  const { identity, where } = options;
  const { service } = embedded;
  const backend: QueryBackend = {
    mode: "embedded",
    where,
    submit: (body: SubmitQueryInput, options: BackendSubmitOptions = {}) =>
      service.submit(identity, body, options),
    get: (queryId, options = {}) => service.get(identity, queryId, { page: options.page }),
    list: (filters) => service.list(identity, filters),
    abort: (queryId) => service.abort(identity, queryId),
    async wait(queryId, options = {}) {
      const settled = service.settled(queryId, { signal: options.signal });
      if (options.onUpdate === undefined) {
        await raced(settled, options.signal);
        return await service.get(identity, queryId);
      }
      let ended = false;
      settled.then(() => ended = true, () => ended = true);
      for (;;) {
        const result = await service.get(identity, queryId);
        await options.onUpdate(result);
        if (["FINISHED", "FAILED", "ABORTED"].includes(result.queryInfo.state)) return result;
        const tick = new AbortController();
        try {
          await raced(
            Promise.race([settled.catch(() => {}), sleep(200, tick.signal).catch(() => {})]),
            options.signal,
          );
        } finally {
          tick.abort();
        }
        if (ended) {
          const final = await service.get(identity, queryId);
          await options.onUpdate(final);
          return final;
        }
      }
    },
    rows: (result, options: CallOptions = {}) =>
      resultRows(result, {
        ...options,
        getPage: (page) => service.get(identity, result.queryInfo.queryId, { page }),
        open: embedded.openResultCsv,
        where,
      }),
    listDataSources: (options = {}) => service.listDataSources(identity, options),
    createDataSource: (body, options = {}) => service.createDataSource(identity, body, options),
    deleteDataSource: (name) => service.deleteDataSource(identity, name),
    close: () => embedded.close(),
  };
  return backend;
}

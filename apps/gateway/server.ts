/**
 * The embedded gateway: `Deno.serve` of the Hono app over the local default — the lake under
 * `$EVENTLAKE_HOME/lake`, DuckDB, SQLite state (`dataquery.sqlite`, `import.db`) and
 * result buckets as folders of `bucketsDir`: every folder under it is a bucket of that name
 * (default `$EVENTLAKE_HOME/buckets/`, so the default bucket `results` is
 * `$EVENTLAKE_HOME/buckets/results/`). It is the CLI's `resultsDir` setting, so the CLI's
 * embedded mode and the server see the same buckets, state and `secret.key`. A home made before
 * this default kept its buckets in `$EVENTLAKE_HOME/results/`: move that folder to
 * `$EVENTLAKE_HOME/buckets` (or pass it as `bucketsDir`).
 *
 * First start (empty home): creates a credential (printed once), a `results` bucket, and a demo
 * day of generated events exported to `$EVENTLAKE_HOME/sources/demo/dt=…/` and imported into
 * `data_catalog.default.events` by a run of the import job "demo", so the first query returns
 * rows. Later starts find the `.bootstrapped` marker and change nothing.
 *
 * SIGTERM/SIGINT drain: `/healthz` turns 503 and new work is refused with 503; in-flight requests
 * are answered; queued and running queries finish (or, past `drainTimeoutMs`, end FAILED); the
 * running import run finishes (a run lands atomically, so an aborted one leaves nothing).
 *
 * Run directly: `EVENTLAKE_HOME=… deno run -A apps/gateway/server.ts [--port N]`.
 *
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { InvalidArgumentError, toEventlakeError } from "@eventlake/schema";
import {
  createDuckDbEngine,
  createLocalBucketResolver,
  createQueryService,
  type QueryService,
} from "@eventlake/dataquery";
import { DEFAULT_LAKE_TABLE, type ObjectStore, openStore } from "@eventlake/storage";
import { writeEvents } from "@eventlake/parquet";
import { generateEvents } from "@eventlake/schema/testing";
import type { Hono } from "hono";
import { createApp, type GatewayEnv } from "./app.ts";
import { createJsonLogger, type Logger } from "./logger.ts";
import { createMetrics } from "./metrics.ts";
import { createLocalImportService, type LocalImportService } from "./import_service.ts";
import { createConsoleApp } from "./console/mod.ts";

/**
 * The folder of result buckets inside the home when `bucketsDir` is not given:
 * `$EVENTLAKE_HOME/buckets/<bucket>/` (the same default as the CLI's `resultsDir`).
 */
export const DEFAULT_BUCKETS_FOLDER = "buckets";

/** Options of {@linkcode startServer}. */
export interface StartServerOptions {
  /** The state directory (`$EVENTLAKE_HOME`). */
  home: string;
  /** Port (default 8080; 0 = any free port). */
  port?: number;
  /** Interface (default `127.0.0.1`). */
  hostname?: string;
  /** The lake: a folder or `file://` URL (default `<home>/lake`). */
  lakeUrl?: string;
  /**
   * Folder of result buckets, one subfolder per bucket (default `<home>/buckets`, the CLI's
   * `resultsDir` default).
   */
  bucketsDir?: string;
  /** Key encrypting stored MySQL passwords (default: `<home>/secret.key`, created once). */
  encryptionKey?: string;
  /** Events in the first start's demo day (default 5,000). */
  demoEvents?: number;
  /** Longest a drain waits for queries before failing them, ms (default 30,000). */
  drainTimeoutMs?: number;
  /** Writes log lines (default: stderr). */
  writeLog?: (text: string) => void;
  /** Stops the server (as SIGTERM does). */
  signal?: AbortSignal;
  /** Also stop on SIGTERM and SIGINT (default true). */
  handleSignals?: boolean;
}

/** What a first start created. */
export interface BootstrapResult {
  /** The credential id. */
  credentialId: string;
  /** The secret: shown once, stored only as a hash. */
  credentialSecret: string;
  /** Its owner's name. */
  name: string;
  /** The demo day. */
  demoDate: string;
  /** Rows the demo import landed. */
  demoRows: number;
}

/** A running gateway. */
export interface RunningServer {
  /** `http://host:port`. */
  url: string;
  /** The bound port. */
  port: number;
  /** The app (for tests). */
  app: Hono<GatewayEnv>;
  /** The query service. */
  queryService: QueryService;
  /** Set on a first start. */
  bootstrap?: BootstrapResult;
  /** Drains and stops; resolves when everything is closed. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
}

const MARKER = ".bootstrapped";

async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(dir)) return false;
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return true;
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** The service's encryption key of stored MySQL passwords: created once, mode 0600. */
async function loadOrCreateKey(home: string): Promise<string> {
  const path = join(home, "secret.key");
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const key = Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  try {
    await Deno.writeTextFile(path, key + "\n", { mode: 0o600, createNew: true });
  } catch (e) {
    // Another process on this home (the CLI) created it first: use theirs.
    if (e instanceof Deno.errors.AlreadyExists) return (await Deno.readTextFile(path)).trim();
    throw e;
  }
  return key;
}

/** Writes one generated day as a source partition, then imports it through a job run. */
async function bootstrapDemo(
  home: string,
  bucketsDir: string,
  imports: LocalImportService,
  service: QueryService,
  events: number,
  clock: () => number,
): Promise<BootstrapResult> {
  const owner = "admin@localhost";
  const credential = await service.createCredential(owner);
  await Deno.mkdir(join(bucketsDir, "results"), { recursive: true });
  const demoDate = new Date(clock() - 86_400_000).toISOString().slice(0, 10);
  const sourceDir = join(home, "sources", "demo");
  const dayDir = join(sourceDir, `dt=${demoDate}`);
  await Deno.mkdir(dayDir, { recursive: true });
  const file = await Deno.open(join(dayDir, "000000000000.parquet"), {
    write: true,
    create: true,
    truncate: true,
  });
  await writeEvents(generateEvents(events, { day: demoDate, seed: 7 }), file.writable);
  await Deno.writeFile(join(dayDir, "_SUCCESS"), new Uint8Array(0));
  const identity = { name: owner };
  const job = await imports.createJob(identity, {
    name: "demo",
    sourceUrl: pathToFileURL(sourceDir).href,
  });
  const [run] = await imports.startRuns(identity, job.jobId, { date: demoDate });
  const done = await imports.settled(run.runId);
  if (done.state !== "SUCCEEDED") {
    throw new InvalidArgumentError(
      `Cannot import the demo day "${demoDate}": the run ended ${done.state}${
        done.report?.error ? `: ${done.report.error.message}` : ""
      }`,
    );
  }
  return {
    credentialId: credential.credentialId,
    credentialSecret: credential.credentialSecret,
    name: owner,
    demoDate,
    demoRows: done.report?.rowsAccepted ?? 0,
  };
}

/**
 * Starts the embedded gateway (see the module notes).
 *
 * @example
 * ```ts ignore
 * import { startServer } from "./server.ts";
 * const server = await startServer({ home: "/tmp/eventlake", port: 0, handleSignals: false });
 * console.log(server.bootstrap?.credentialId);
 * await server.shutdown();
 * ```
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const home = options.home;
  const clock = Date.now;
  const firstStart = await isEmptyDir(home);
  await Deno.mkdir(home, { recursive: true, mode: 0o700 });
  const bucketsDir = options.bucketsDir ?? join(home, DEFAULT_BUCKETS_FOLDER);
  await Deno.mkdir(bucketsDir, { recursive: true });
  const lakeUrl = options.lakeUrl ?? join(home, "lake");
  const lakeHref = /^[a-z][a-z0-9+.-]*:\/\//i.test(lakeUrl) ? lakeUrl : pathToFileURL(lakeUrl).href;
  if (!lakeHref.startsWith("file:")) {
    throw new InvalidArgumentError(
      `Invalid lake "${lakeUrl}": the embedded server reads a local lake folder (DuckDB); use the edge entry with Trino for S3/GCS`,
    );
  }
  const opened = await openStore(lakeHref);
  const lakeStore: ObjectStore = opened.store;
  const lakeRoot = opened.prefix;
  await Deno.mkdir(new URL(lakeHref), { recursive: true });

  const write = options.writeLog ??
    ((text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text)));
  const logger: Logger = createJsonLogger(write);
  const metrics = createMetrics();
  const engine = await createDuckDbEngine({
    home: join(home, "engine"),
    lake: lakeStore,
    lakeRoot,
  });
  const buckets = createLocalBucketResolver(bucketsDir);
  const service = createQueryService({
    engine,
    statePath: join(home, "dataquery.sqlite"),
    buckets,
    encryptionKey: options.encryptionKey ?? await loadOrCreateKey(home),
    lakeStore,
    lakeRoot,
  });
  const imports = createLocalImportService({
    statePath: join(home, "import.db"), // shared with `eventlake import job …`
    lake: { store: lakeStore, root: lakeRoot },
    onLanded: (table) => service.tableChanged(table),
    onRunEnded: (state) => metrics.observeImportRun(state),
  });

  let bootstrap: BootstrapResult | undefined;
  if (firstStart || !(await exists(join(home, MARKER)))) {
    if ((await service.listCredentials()).length === 0) {
      bootstrap = await bootstrapDemo(
        home,
        bucketsDir,
        imports,
        service,
        options.demoEvents ?? 5_000,
        clock,
      );
    }
    await Deno.writeTextFile(join(home, MARKER), new Date(clock()).toISOString() + "\n");
  }

  let draining = false;
  const app = createApp({
    queryService: service,
    importService: imports,
    logger,
    metrics,
    isDraining: () => draining,
    console: createConsoleApp({
      queryService: service,
      buckets,
      defaults: {
        dataSource: DEFAULT_LAKE_TABLE.dataSource,
        database: DEFAULT_LAKE_TABLE.database,
        bucketName: "results",
        path: "console",
      },
    }),
  });

  const ready = Promise.withResolvers<{ port: number; hostname: string }>();
  const server = Deno.serve({
    port: options.port ?? 8080,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: (addr) => ready.resolve(addr),
  }, app.fetch);
  const addr = await ready.promise;

  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      draining = true;
      logger.info("Draining: refusing new work, finishing queries", { kind: "lifecycle" });
      const drained = service.close({ drain: true });
      const timeout = new Promise<"timeout">((resolve) => {
        const t = setTimeout(() => resolve("timeout"), options.drainTimeoutMs ?? 30_000);
        drained.finally(() => clearTimeout(t));
      });
      if ((await Promise.race([drained.then(() => "ok" as const), timeout])) === "timeout") {
        logger.error("Drain timed out: queries still running end FAILED", { kind: "lifecycle" });
        await service.close({ drain: false }).catch(() => {});
        await drained.catch(() => {});
      }
      await imports.close({ drain: false });
      await server.shutdown();
      await engine.close();
      logger.info("Stopped", { kind: "lifecycle" });
      logger.flush();
    })().catch((e) => {
      logger.error("Shutdown failed", { error: toEventlakeError(e).message });
      logger.flush();
    });
    return stopping;
  };

  const signals: Deno.Signal[] = ["SIGTERM", "SIGINT"];
  const onSignal = () => void shutdown();
  if (options.handleSignals ?? true) {
    for (const s of signals) Deno.addSignalListener(s, onSignal);
  }
  options.signal?.addEventListener("abort", onSignal, { once: true });
  const finished = server.finished.then(async () => {
    await stopping;
    if (options.handleSignals ?? true) {
      for (const s of signals) Deno.removeSignalListener(s, onSignal);
    }
  });

  return {
    url: `http://${addr.hostname}:${addr.port}`,
    port: addr.port,
    app,
    queryService: service,
    bootstrap,
    shutdown,
    finished,
  };
}

/**
 * The lines printed once on a first start: the credential and a first curl query.
 *
 * @example
 * ```ts
 * import { bootstrapMessage } from "./server.ts";
 * const text = bootstrapMessage({
 *   credentialId: "id1", credentialSecret: "s1", name: "admin@localhost",
 *   demoDate: "2023-01-01", demoRows: 10,
 * }, "http://127.0.0.1:8080");
 * console.log(text.includes("Credential-Secret: s1")); // true
 * ```
 */
export function bootstrapMessage(b: BootstrapResult, url: string): string {
  return [
    "",
    "eventlake: first start — created a credential (shown only now; store it safely):",
    `  Credential-ID:     ${b.credentialId}`,
    `  Credential-Secret: ${b.credentialSecret}`,
    `  owner:             ${b.name}`,
    `  demo data:         ${b.demoRows} events of ${b.demoDate} in data_catalog.default.events`,
    "",
    "Try:",
    `  curl -s -X POST '${url}/v1/data-query/query' \\`,
    `    -H 'Credential-ID: ${b.credentialId}' -H 'Credential-Secret: ${b.credentialSecret}' \\`,
    "    -H 'Content-Type: application/json' -H 'X-Data-Source: data_catalog' -H 'X-Database: default' \\",
    `    -d '{"query":"select event_key, count(*) from ${DEFAULT_LAKE_TABLE.table} group by 1","resultConfig":{"bucketName":"results","path":"demo"}}'`,
    "",
  ].join("\n");
}

/**
 * The command line of `deno run -A apps/gateway/server.ts` (and `main.ts`):
 * `[--port N] [--home DIR]` (home default `$EVENTLAKE_HOME`, else `~/.eventlake`). Prints a first
 * start's credential on stdout, then serves until SIGTERM/SIGINT.
 *
 * @example
 * ```ts ignore
 * import { serveFromCommandLine } from "./server.ts";
 * await serveFromCommandLine(["--port", "8080"]);
 * ```
 */
export async function serveFromCommandLine(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { port: { type: "string" }, home: { type: "string" } },
  });
  const home = values.home ?? Deno.env.get("EVENTLAKE_HOME") ??
    join(Deno.env.get("HOME") ?? ".", ".eventlake");
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError(`Invalid port "${values.port}": expected 0-65535`);
  }
  const server = await startServer({ home, port });
  if (server.bootstrap) console.log(bootstrapMessage(server.bootstrap, server.url));
  console.error(`eventlake gateway listening on ${server.url} (home ${home})`);
  await server.finished;
}

if (import.meta.main) await serveFromCommandLine(Deno.args);

import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { DatabaseSync } from "node:sqlite";
import {
  AbortedError,
  InvalidArgumentError,
  PermissionDeniedError,
  UnavailableError,
} from "@eventlake/schema";
import { createMemoryStore, type ObjectStore } from "@eventlake/storage";
import type { EngineDataSource, EngineResult, ExecuteContext, QueryEngine } from "./engine.ts";
import { createStaticBucketResolver } from "./buckets.ts";
import {
  createQueryService,
  type Identity,
  normalizeQueryText,
  type QueryService,
  type QueryServiceOptions,
  type ResultMetadata,
} from "./service.ts";

// ----------------------------------------------------------------------------- test doubles

/**
 * A scripted engine (a test double of the SERVICE's tests; the real engines have their own):
 * - `rows N [W]`: N rows of W (default 2) varchar columns, in batches of 250; every 7th value NULL
 * - `special`: one row of awkward CSV values
 * - `ddl`: no result set
 * - `fail <message>`: rejects with that message
 * - `wait`: runs until its signal aborts; `stubborn`: ignores the signal forever
 * - `gate <name>`: waits for `engine.open(name)`, then returns one row
 * - `badrow`: a row with the wrong number of values
 */
class FakeEngine implements QueryEngine {
  readonly name = "fake";
  executions: string[] = [];
  contexts: ExecuteContext[] = [];
  tested: EngineDataSource[] = [];
  changed: unknown[] = [];
  running = 0;
  maxRunning = 0;
  testFailure: Error | undefined;
  #gates = new Map<string, { promise: Promise<void>; resolve: () => void }>();

  #gate(name: string) {
    let gate = this.#gates.get(name);
    if (!gate) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => resolve = r);
      gate = { promise, resolve };
      this.#gates.set(name, gate);
    }
    return gate;
  }

  open(name: string): void {
    this.#gate(name).resolve();
  }

  async execute(sql: string, context: ExecuteContext): Promise<EngineResult> {
    this.executions.push(sql);
    this.contexts.push(context);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      return await this.#execute(sql.trim(), context);
    } finally {
      this.running--;
    }
  }

  async #execute(sql: string, context: ExecuteContext): Promise<EngineResult> {
    const [verb, ...args] = sql.split(/\s+/);
    const stats = { inputRows: 10, inputBytes: 2048, scannedBytes: 2048, planningMs: 3 };
    const result = (
      columns: EngineResult["columns"],
      rows: (string | null)[][][],
    ): EngineResult => ({
      columns,
      rows: (async function* () {
        for (const batch of rows) {
          await Promise.resolve();
          yield batch;
        }
      })(),
      stats: () => stats,
    });
    switch (verb) {
      case "rows": {
        const n = Number(args[0]);
        const w = Number(args[1] ?? 2);
        const columns = Array.from(
          { length: w },
          (_, j) => ({ name: `c${j + 1}`, type: "varchar" }),
        );
        const batches: (string | null)[][][] = [];
        for (let start = 0; start < n; start += 250) {
          const batch: (string | null)[][] = [];
          for (let i = start; i < Math.min(n, start + 250); i++) {
            batch.push(columns.map((_, j) => ((i + j) % 7 === 6 ? null : `r${i}c${j + 1}`)));
          }
          batches.push(batch);
        }
        return result(columns, batches);
      }
      case "special":
        return result([{ name: "a,b", type: "varchar" }, { name: "x", type: "bigint" }], [[
          ['say "hi"', null],
          ["line\nbreak", ""],
          ["plain", "1"],
        ]]);
      case "constant":
        return {
          columns: [{ name: "one", type: "integer" }],
          rows: (async function* () {
            yield [["1"]];
          })(),
          stats: () => ({ inputRows: 0, inputBytes: 0, scannedBytes: 0 }),
        };
      case "ddl":
        return result(null, []);
      case "fail":
        throw new InvalidArgumentError(args.join(" "));
      case "badrow":
        return result([{ name: "a", type: "varchar" }], [[["1", "2"]]]);
      case "wait":
        await new Promise((_, reject) => {
          context.signal.addEventListener("abort", () => reject(context.signal.reason), {
            once: true,
          });
        });
        throw new Error("unreachable");
      case "stubborn":
        await new Promise(() => {});
        throw new Error("unreachable");
      case "stream": {
        // One batch, then wait for the gate, then another batch.
        const gate = this.#gate(args[0]).promise;
        return {
          columns: [{ name: "s", type: "varchar" }],
          rows: (async function* () {
            yield Array.from({ length: 250 }, (_, i) => [`first ${i}`]);
            await gate;
            yield [["second"]];
          })(),
          stats: () => stats,
        };
      }
      case "gate":
        context.onProgress?.({ progressPercentage: 40, inputRows: 4 });
        await this.#gate(args[0]).promise;
        return result([{ name: "g", type: "varchar" }], [[[args[0]]]]);
      default:
        throw new InvalidArgumentError(`Unknown fake statement "${sql}"`);
    }
  }

  testDataSource(source: EngineDataSource): Promise<void> {
    this.tested.push(source);
    return this.testFailure ? Promise.reject(this.testFailure) : Promise.resolve();
  }

  tableChanged(ref: unknown): void {
    this.changed.push(ref);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const ALICE: Identity = { name: "alice@example.com" };
const BOB: Identity = { name: "bob@example.com" };
const KEY = "a test encryption key of enough length";

interface Setup {
  service: QueryService;
  engine: FakeEngine;
  bucket: ObjectStore;
  lake: ObjectStore;
  now: { ms: number | undefined };
  [Symbol.asyncDispose](): Promise<void>;
}

function setup(overrides: Partial<QueryServiceOptions> = {}): Setup {
  const engine = new FakeEngine();
  const bucket = createMemoryStore({ name: "results" });
  const locked = createMemoryStore({
    name: "locked",
    faults: (op) => op === "write" ? new PermissionDeniedError("Access denied") : undefined,
  });
  const lake = createMemoryStore({ name: "lake" });
  const now = { ms: undefined as number | undefined };
  const service = createQueryService({
    engine,
    statePath: ":memory:",
    buckets: createStaticBucketResolver({
      "test-bucket": bucket,
      "locked-bucket": locked,
      "sub-bucket": { store: bucket, prefix: "nested/" },
    }),
    encryptionKey: KEY,
    mysqlInstances: [{ instanceId: "db1", host: "127.0.0.1", port: 33306 }],
    workers: 2,
    queueSize: 3,
    lakeStore: lake,
    clock: () => now.ms ?? Date.now(),
    ...overrides,
  });
  return {
    service,
    engine,
    bucket,
    lake,
    now,
    async [Symbol.asyncDispose]() {
      await service.close();
    },
  };
}

const body = (query: string, extra: Record<string, unknown> = {}) => ({
  query,
  resultConfig: { bucketName: "test-bucket", path: "data_query/result" },
  ...extra,
});

async function run(s: Setup, query: string, who = ALICE, extra = {}) {
  const { queryInfo } = await s.service.submit(who, body(query, extra));
  await s.service.settled(queryInfo.queryId);
  return queryInfo.queryId;
}

async function text(store: ObjectStore, key: string): Promise<string> {
  return new TextDecoder().decode(await store.read(key));
}

async function keys(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.list("")) if (e.kind === "object") out.push(e.key);
  return out;
}

function tick(ms = 0): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await tick(2);
  }
  throw new Error("Condition not reached");
}

// ----------------------------------------------------------------------------- lifecycle

Deno.test("submit() queues a query that runs to FINISHED with a seed-shaped result", async () => {
  await using s = setup();
  s.now.ms = Date.UTC(2025, 2, 27, 15, 30, 53);
  const submitted = await s.service.submit(ALICE, body("rows 3"));
  strictEqual(submitted.queryInfo.state, "QUEUED");
  ok(/^20250327-153053-[A-Za-z0-9]{10}$/.test(submitted.queryInfo.queryId));
  deepStrictEqual(Object.keys(submitted), ["queryInfo"]);
  const id = submitted.queryInfo.queryId;
  strictEqual(await s.service.settled(id), "FINISHED");
  const r = await s.service.get(ALICE, id);
  strictEqual(r.queryInfo.state, "FINISHED");
  strictEqual(r.queryInfo.queryTextPreview, "rows 3");
  strictEqual(r.queryInfo.isScanned, true);
  deepStrictEqual(Object.keys(r), [
    "queryInfo",
    "resultConfig",
    "reuseConfig",
    "columnData",
    "queryData",
    "totalPages",
    "totalElements",
    "number",
    "size",
    "numberOfElements",
  ]);
  deepStrictEqual(r.resultConfig, {
    bucketName: "test-bucket",
    path: "data_query/result/2025/03/27",
    storageUrl: "test-bucket/data_query/result/2025/03/27",
    storeType: "BASIC",
    isStored: true,
  });
  deepStrictEqual(r.reuseConfig, { reuse: false });
  deepStrictEqual(r.columnData, [
    { name: "c1", index: 1, type: "varchar" },
    { name: "c2", index: 2, type: "varchar" },
  ]);
  deepStrictEqual(r.queryData, [["r0c1", "r0c2"], ["r1c1", "r1c2"], ["r2c1", "r2c2"]]);
  deepStrictEqual(
    [r.totalPages, r.totalElements, r.number, r.size, r.numberOfElements],
    [1, 3, 0, 100, 3],
  );
  const stats = r.queryInfo.queryStats;
  strictEqual(stats.progressPercentage, 100);
  strictEqual(stats.inputRows, 10);
  strictEqual(stats.inputDataSize, "2KB");
  strictEqual(stats.outputRows, 3);
  strictEqual(stats.createdAt, Date.UTC(2025, 2, 27, 15, 30, 53));
  strictEqual(stats.completedAt, Date.UTC(2025, 2, 27, 15, 30, 53));
  strictEqual(stats.planningTime, "3ms");
  strictEqual(stats.elapsedTime, "0ms");
  strictEqual(stats.queuedTime, "0ms");
});

Deno.test("a finished query's CSV is RFC 4180 and its metadata names its hash, size and columns", async () => {
  await using s = setup();
  s.now.ms = Date.UTC(2024, 10, 26, 1, 18, 48);
  const id = await run(s, "special");
  const csvKey = `data_query/result/2024/11/26/${id}.csv`;
  const csv = await text(s.bucket, csvKey);
  strictEqual(csv, '"a,b",x\r\n"say ""hi""",\r\n"line\nbreak",""\r\nplain,1\r\n');
  const meta = JSON.parse(
    await text(s.bucket, `data_query/result/2024/11/26/${id}.metadata`),
  ) as ResultMetadata;
  const bytes = new TextEncoder().encode(csv);
  strictEqual(meta.version, 1);
  strictEqual(meta.queryId, id);
  deepStrictEqual(meta.csv, {
    key: csvKey,
    bytes: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    rows: 3,
    header: true,
    encoding: "utf-8",
    lineEnding: "CRLF",
    null: "empty-unquoted",
  });
  deepStrictEqual(meta.columns, [
    { name: "a,b", index: 1, type: "varchar" },
    { name: "x", index: 2, type: "bigint" },
  ]);
  strictEqual(meta.stats.outputBytes, bytes.length);
  strictEqual(meta.reusedFrom, null);
  const r = await s.service.get(ALICE, id);
  deepStrictEqual(r.queryData, [['say "hi"', null], ["line\nbreak", ""], ["plain", "1"]]);
  strictEqual(r.queryInfo.queryStats.outputDataSize, `${bytes.length}B`);
});

Deno.test("a bucket with a prefix stores results under it", async () => {
  await using s = setup();
  s.now.ms = Date.UTC(2024, 0, 2);
  const { queryInfo } = await s.service.submit(ALICE, {
    query: "rows 1",
    bucketName: "sub-bucket",
    path: "out",
  });
  await s.service.settled(queryInfo.queryId);
  ok(await s.bucket.exists(`nested/out/2024/01/02/${queryInfo.queryId}.csv`));
});

Deno.test("get() pages the first 1,000 rows in pages of 100 while outputRows counts all", async () => {
  await using s = setup();
  const id = await run(s, "rows 2500");
  const first = await s.service.get(ALICE, id, { page: 0 });
  deepStrictEqual([first.totalPages, first.totalElements, first.numberOfElements], [10, 1000, 100]);
  strictEqual(first.queryInfo.queryStats.outputRows, 2500);
  const last = await s.service.get(ALICE, id, { page: 9 });
  strictEqual(last.number, 9);
  deepStrictEqual(last.queryData[0], ["r900c1", "r900c2"]);
  deepStrictEqual(last.queryData[99], ["r999c1", null]); // every 7th value is NULL
  const csv = await text(s.bucket, `${first.resultConfig.path}/${id}.csv`);
  strictEqual(csv.split("\r\n").length, 2502); // header + 2500 rows + the empty tail
  await rejects(
    s.service.get(ALICE, id, { page: 10 }),
    /Invalid page "10": expected an integer from 0 to 9/,
  );
  await rejects(s.service.get(ALICE, id, { page: -1 }), InvalidArgumentError);
});

Deno.test("a page past the kept rows is empty", async () => {
  await using s = setup();
  const id = await run(s, "rows 150");
  const r = await s.service.get(ALICE, id, { page: 5 });
  deepStrictEqual([r.totalPages, r.totalElements, r.numberOfElements, r.queryData], [
    2,
    150,
    0,
    [],
  ]);
});

Deno.test("a statement without a result set finishes without files", async () => {
  await using s = setup();
  const id = await run(s, "ddl");
  const r = await s.service.get(ALICE, id);
  strictEqual(r.queryInfo.state, "FINISHED");
  strictEqual(r.resultConfig.isStored, false);
  deepStrictEqual([r.columnData, r.queryData, r.totalElements], [[], [], 0]);
  deepStrictEqual(await keys(s.bucket), []);
});

Deno.test("a constant query is not scanned", async () => {
  await using s = setup();
  const id = await run(s, "constant");
  const r = await s.service.get(ALICE, id);
  strictEqual(r.queryInfo.isScanned, false);
  strictEqual((await s.service.list(ALICE)).content[0].queryInfo.queryStats.scannedDataSize, "0B");
});

Deno.test("a failing statement ends FAILED with the engine's message and no files", async () => {
  await using s = setup();
  const id = await run(s, "fail Table data_catalog.default.nope does not exist");
  const r = await s.service.get(ALICE, id);
  strictEqual(r.queryInfo.state, "FAILED");
  strictEqual(r.queryInfo.errorMessage, "Table data_catalog.default.nope does not exist");
  strictEqual(r.resultConfig.isStored, false);
  deepStrictEqual(await keys(s.bucket), []);
});

Deno.test("an engine row of the wrong width fails the query and removes the partial CSV", async () => {
  await using s = setup();
  const id = await run(s, "badrow");
  const r = await s.service.get(ALICE, id);
  strictEqual(r.queryInfo.state, "FAILED");
  ok(r.queryInfo.errorMessage?.includes("returned a row of 2 values for 1 columns"));
  deepStrictEqual(await keys(s.bucket), []);
});

Deno.test("a result write that fails during the run makes the query FAILED with the reason", async () => {
  let failCsv = false;
  const flaky = createMemoryStore({
    faults: (op, key) =>
      failCsv && op === "write" && key.endsWith(".csv")
        ? new UnavailableError("Slow down: throttled")
        : undefined,
  });
  await using s = setup({ buckets: createStaticBucketResolver({ "test-bucket": flaky }) });
  failCsv = true;
  const id = await run(s, "rows 5");
  const r = await s.service.get(ALICE, id);
  strictEqual(r.queryInfo.state, "FAILED");
  strictEqual(r.queryInfo.errorMessage, "Slow down: throttled");
});

// ----------------------------------------------------------------------------- concurrency

Deno.test("the worker pool runs at most `workers` queries and a full queue is a clear error", async () => {
  await using s = setup();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push((await s.service.submit(ALICE, body(`gate g${i}`))).queryInfo.queryId);
  }
  await until(() => s.engine.running === 2);
  const states = await Promise.all(
    ids.map(async (id) => (await s.service.get(ALICE, id)).queryInfo.state),
  );
  deepStrictEqual(states, ["RUNNING", "RUNNING", "QUEUED", "QUEUED", "QUEUED"]);
  await rejects(s.service.submit(ALICE, body("gate g5")), (e: Error & { code: string }) => {
    strictEqual(e.code, "RESOURCE_EXHAUSTED");
    strictEqual(e.message, "Too many queries: 3 are queued; retry later");
    return true;
  });
  const running = await s.service.get(ALICE, ids[0]);
  strictEqual(running.queryInfo.queryStats.progressPercentage, 40);
  strictEqual(running.queryInfo.queryStats.inputRows, 4);
  for (let i = 0; i < 5; i++) s.engine.open(`g${i}`);
  for (const id of ids) strictEqual(await s.service.settled(id), "FINISHED");
  strictEqual(s.engine.maxRunning, 2);
});

Deno.test("many queries submitted at once all finish", async () => {
  await using s = setup({ queueSize: 200, workers: 3 });
  const ids = await Promise.all(
    Array.from(
      { length: 60 },
      async (_, i) => (await s.service.submit(ALICE, body(`rows ${i % 5}`))).queryInfo.queryId,
    ),
  );
  deepStrictEqual(new Set(ids).size, 60);
  for (const id of ids) strictEqual(await s.service.settled(id), "FINISHED");
  ok(s.engine.maxRunning <= 3);
});

// ----------------------------------------------------------------------------- abort and time limit

Deno.test("abort() interrupts a running query, frees its worker and leaves no files", async () => {
  await using s = setup({ workers: 1 });
  const a = (await s.service.submit(ALICE, body("wait"))).queryInfo.queryId;
  const b = (await s.service.submit(ALICE, body("rows 1"))).queryInfo.queryId;
  await until(async () => (await s.service.get(ALICE, a)).queryInfo.state === "RUNNING");
  await rejects(s.service.abort(BOB, a), /Cannot abort query ".*": only its creator may abort it/);
  await s.service.abort(ALICE, a);
  const r = await s.service.get(ALICE, a);
  strictEqual(r.queryInfo.state, "ABORTED");
  strictEqual(r.queryInfo.errorMessage, "Query was aborted by its creator");
  ok(r.queryInfo.queryStats.completedAt !== undefined);
  strictEqual(await s.service.settled(b), "FINISHED");
  await rejects(s.service.abort(ALICE, a), (e: Error & { code: string }) => {
    strictEqual(e.code, "CONFLICT");
    ok(e.message.includes("already ended as ABORTED"));
    return true;
  });
  await rejects(s.service.abort(ALICE, b), /already ended as FINISHED/);
  deepStrictEqual((await keys(s.bucket)).filter((k) => k.includes(a)), []);
});

Deno.test("abort() frees the worker even when the engine ignores the signal", async () => {
  await using s = setup({ workers: 1 });
  const a = (await s.service.submit(ALICE, body("stubborn"))).queryInfo.queryId;
  const b = (await s.service.submit(ALICE, body("rows 1"))).queryInfo.queryId;
  await until(() => s.engine.running === 1);
  await s.service.abort(ALICE, a);
  strictEqual(await s.service.settled(b), "FINISHED");
  strictEqual((await s.service.get(ALICE, a)).queryInfo.state, "ABORTED");
});

Deno.test("abort() of a queued query removes it from the queue", async () => {
  await using s = setup({ workers: 1 });
  const a = (await s.service.submit(ALICE, body("gate q"))).queryInfo.queryId;
  const b = (await s.service.submit(ALICE, body("rows 1"))).queryInfo.queryId;
  await s.service.abort(ALICE, b);
  strictEqual((await s.service.get(ALICE, b)).queryInfo.state, "ABORTED");
  s.engine.open("q");
  strictEqual(await s.service.settled(a), "FINISHED");
  deepStrictEqual(s.engine.executions, ["gate q"]);
});

Deno.test("abort() and get() of an unknown query are not found", async () => {
  await using s = setup();
  await rejects(
    s.service.abort(ALICE, "20250101-000000-AAAAAAAAAA"),
    /Cannot find query "20250101-000000-AAAAAAAAAA"/,
  );
  await rejects(
    s.service.get(ALICE, "nope"),
    (e: Error & { code: string }) => e.code === "NOT_FOUND",
  );
});

Deno.test("get() of another user's query is forbidden", async () => {
  await using s = setup();
  const id = await run(s, "rows 1");
  await rejects(s.service.get(BOB, id), (e: Error & { code: string }) => e.code === "FORBIDDEN");
});

Deno.test("a query over its time limit ends FAILED and frees its worker", async () => {
  await using s = setup({ timeLimitMs: 30, workers: 1 });
  const a = (await s.service.submit(ALICE, body("wait"))).queryInfo.queryId;
  const b = (await s.service.submit(ALICE, body("rows 1"))).queryInfo.queryId;
  strictEqual(await s.service.settled(a), "FAILED");
  strictEqual(
    (await s.service.get(ALICE, a)).queryInfo.errorMessage,
    "Query exceeded the time limit of 30ms",
  );
  strictEqual(await s.service.settled(b), "FINISHED");
});

Deno.test("the default time limit is 30 minutes", async () => {
  const { DEFAULT_TIME_LIMIT_MS } = await import("./service.ts");
  strictEqual(DEFAULT_TIME_LIMIT_MS, 30 * 60_000);
});

// ----------------------------------------------------------------------------- buckets and bad input

Deno.test("submit() rejects an unknown bucket, an unwritable bucket and bad bodies", async () => {
  await using s = setup();
  await rejects(
    s.service.submit(ALICE, { query: "rows 1", bucketName: "no-such", path: "x" }),
    (e: Error & { code: string }) =>
      e.code === "NOT_FOUND" && e.message === 'Cannot find bucket "no-such"',
  );
  await rejects(
    s.service.submit(ALICE, { query: "rows 1", bucketName: "locked-bucket", path: "x" }),
    (e: Error & { code: string }) =>
      e.code === "PERMISSION_DENIED" &&
      e.message.startsWith('No permission on bucket "locked-bucket"'),
  );
  await rejects(
    s.service.submit(ALICE, { query: "rows 1", bucketName: "test-bucket", path: "../etc" }),
    /"path" must not contain "\.\." segments/,
  );
  await rejects(
    s.service.submit(ALICE, { query: "rows 1", bucketName: "test-bucket", path: "/abs" }),
    /"path" must be relative/,
  );
  await rejects(
    s.service.submit(ALICE, { query: "", ...body("x").resultConfig }),
    /"query" must not be empty/,
  );
  await rejects(
    s.service.submit(ALICE, body("rows 1", { reuseConfig: { reuse: true } })),
    /"reuseConfig.maxReuseAge" is required when reuse is true/,
  );
  await rejects(
    s.service.submit(ALICE, body("rows 1"), { dataSource: "bad\nname" }),
    /Invalid data source/,
  );
  await rejects(
    s.service.submit({ name: "" }, body("rows 1")),
    (e: Error & { code: string }) => e.code === "UNAUTHENTICATED",
  );
  deepStrictEqual(s.engine.executions, []);
});

Deno.test("submit() passes the default data source and database and the caller's sources to the engine", async () => {
  await using s = setup();
  await s.lake.write("test_catalog/default/t/_VERSION", new TextEncoder().encode('{"token":"1"}'));
  await run(s, "rows 1", ALICE, {});
  await s.service.submit(ALICE, body("rows 2"), { dataSource: "data_catalog", database: "default" })
    .then((r) => s.service.settled(r.queryInfo.queryId));
  const context = s.engine.contexts[1];
  strictEqual(context.dataSource, "data_catalog");
  strictEqual(context.database, "default");
  deepStrictEqual(context.dataSources, [
    { type: "DATA_CATALOG", name: "data_catalog" },
    { type: "DATA_CATALOG", name: "test_catalog" },
  ]);
});

// ----------------------------------------------------------------------------- reuse

const REUSE = { reuseConfig: { reuse: true, maxReuseAge: 60 } };

Deno.test("reuse answers an identical query from the earlier result without running it", async () => {
  await using s = setup();
  s.now.ms = Date.UTC(2025, 2, 27, 6, 0, 0);
  const first = await run(s, "rows 5", ALICE, REUSE);
  s.now.ms += 10 * 60_000;
  const submitted = await s.service.submit(ALICE, body("  rows   5 ;", REUSE));
  strictEqual(submitted.queryInfo.state, "FINISHED");
  const second = submitted.queryInfo.queryId;
  ok(second !== first);
  deepStrictEqual(s.engine.executions, ["rows 5"]);
  const a = await s.service.get(ALICE, first);
  const b = await s.service.get(ALICE, second);
  strictEqual(b.queryInfo.isScanned, false);
  deepStrictEqual(b.reuseConfig, {
    reuse: true,
    expireAt: Date.UTC(2025, 2, 27, 7, 0, 0),
    reusedFrom: first,
  });
  deepStrictEqual(a.reuseConfig, { reuse: true, expireAt: Date.UTC(2025, 2, 27, 7, 0, 0) });
  deepStrictEqual(b.queryData, a.queryData);
  deepStrictEqual(b.columnData, a.columnData);
  deepStrictEqual(b.resultConfig, a.resultConfig);
  strictEqual(b.queryInfo.queryStats.outputRows, 5);
  strictEqual(b.queryInfo.queryStats.scannedDataSize, "0B");
  // The reused query's own .metadata stands beside the original's files and says where it came from.
  const folder = b.resultConfig.path;
  const original = JSON.parse(
    await text(s.bucket, `${folder}/${first}.metadata`),
  ) as ResultMetadata;
  const reused = JSON.parse(await text(s.bucket, `${folder}/${second}.metadata`)) as ResultMetadata;
  strictEqual(reused.queryId, second);
  strictEqual(reused.reusedFrom, first);
  deepStrictEqual(reused.csv, original.csv);
  strictEqual(reused.csv.key, `${folder}/${first}.csv`);
  strictEqual(original.reusedFrom, null);
});

Deno.test("reuse misses for another text, defaults, user, age, or without reuse", async () => {
  await using s = setup();
  s.now.ms = Date.UTC(2025, 2, 27, 6, 0, 0);
  await run(s, "rows 5", ALICE, REUSE);
  await run(s, "rows 6", ALICE, REUSE); // other text
  await s.service.submit(ALICE, body("rows 5", REUSE), { database: "other" })
    .then((r) => s.service.settled(r.queryInfo.queryId)); // other default database
  await run(s, "rows 5", BOB, REUSE); // other user
  await run(s, "rows 5", ALICE); // reuse not asked
  s.now.ms += 61 * 60_000;
  await run(s, "rows 5", ALICE, REUSE); // too old
  strictEqual(s.engine.executions.length, 6);
  // "rows 5" inside quotes is not the same text as rows 5
  strictEqual(normalizeQueryText("select ' a  b '  ;"), "select ' a  b '");
});

Deno.test("reuse misses when the earlier result's CSV is gone", async () => {
  await using s = setup();
  const first = await run(s, "rows 2", ALICE, REUSE);
  await s.bucket.deletePrefix("");
  await run(s, "rows 2", ALICE, REUSE);
  strictEqual(s.engine.executions.length, 2);
  ok(first);
});

Deno.test("a landed import (a new table _VERSION) voids reuse", async () => {
  await using s = setup();
  const versionKey = "data_catalog/default/events/_VERSION";
  const version = (token: string) =>
    new TextEncoder().encode(JSON.stringify({ token, changedAt: new Date().toISOString() }));
  await s.lake.write(versionKey, version("v1"));
  await run(s, "rows 2", ALICE, REUSE);
  await run(s, "rows 2", ALICE, REUSE);
  strictEqual(s.engine.executions.length, 1);
  await s.lake.write(versionKey, version("v2"));
  await run(s, "rows 2", ALICE, REUSE);
  strictEqual(s.engine.executions.length, 2);
});

Deno.test("tableChanged() voids reuse and tells the engine", async () => {
  await using s = setup();
  await run(s, "rows 2", ALICE, REUSE);
  const ref = { dataSource: "data_catalog", database: "default", table: "events" };
  s.service.tableChanged(ref);
  await run(s, "rows 2", ALICE, REUSE);
  strictEqual(s.engine.executions.length, 2);
  deepStrictEqual(s.engine.changed, [ref]);
});

// ----------------------------------------------------------------------------- history

Deno.test("list() filters by queryId, creatorName and states, sorts and pages in the seed's shape", async () => {
  await using s = setup();
  const base = Date.UTC(2025, 2, 14, 14, 33, 49);
  const ids: Record<string, string> = {};
  const plan: [string, string, Identity][] = [
    ["a", "rows 1", ALICE],
    ["b", "fail boom", ALICE],
    ["c", "rows 3", BOB],
    ["d", "ddl", BOB],
  ];
  for (const [i, [name, query, who]] of plan.entries()) {
    s.now.ms = base + i * 1000;
    ids[name] = await run(s, query, who);
  }
  const all = await s.service.list(ALICE);
  deepStrictEqual(all.content.map((c) => c.queryInfo.queryId), [ids.d, ids.c, ids.b, ids.a]);
  deepStrictEqual(Object.keys(all).sort(), [
    "content",
    "empty",
    "first",
    "last",
    "number",
    "numberOfElements",
    "pageable",
    "size",
    "sort",
    "totalElements",
    "totalPages",
  ]);
  deepStrictEqual(all.content[3], {
    queryInfo: {
      queryId: ids.a,
      state: "FINISHED",
      queryStats: { scannedDataSize: "2KB", createdAt: base, elapsedTime: "0ms" },
      queryTextPreview: "rows 1",
      isScanned: true,
    },
    resultConfig: { storageUrl: "test-bucket/data_query/result/2025/03/14" },
    reuseConfig: { reuse: false },
    creatorName: ALICE.name,
  });
  deepStrictEqual(all.sort, { sorted: false, unsorted: true, empty: true });

  const bob = await s.service.list(ALICE, { creatorName: BOB.name });
  deepStrictEqual(bob.content.map((c) => c.queryInfo.queryId), [ids.d, ids.c]);
  const byId = await s.service.list(ALICE, { queryId: ids.b.slice(-10) });
  deepStrictEqual(byId.content.map((c) => c.queryInfo.queryId), [ids.b]);
  const failedOrDdl = await s.service.list(ALICE, { states: ["FAILED"] });
  deepStrictEqual(failedOrDdl.content.map((c) => c.queryInfo.queryId), [ids.b]);
  const twoStates = await s.service.list(ALICE, {
    states: "FAILED,FINISHED",
    sort: "createdAt,asc",
  });
  strictEqual(twoStates.totalElements, 4);
  deepStrictEqual(twoStates.content.map((c) => c.queryInfo.queryId), [ids.a, ids.b, ids.c, ids.d]);

  const page = await s.service.list(ALICE, { page: "1", size: "3", sort: "createdAt,asc" });
  deepStrictEqual(page.content.map((c) => c.queryInfo.queryId), [ids.d]);
  deepStrictEqual(
    {
      pageable: page.pageable,
      totalPages: page.totalPages,
      totalElements: page.totalElements,
      last: page.last,
      first: page.first,
      numberOfElements: page.numberOfElements,
      size: page.size,
      number: page.number,
      empty: page.empty,
    },
    {
      pageable: {
        pageNumber: 1,
        pageSize: 3,
        sort: { sorted: true, unsorted: false, empty: false },
        offset: 3,
        unpaged: false,
        paged: true,
      },
      totalPages: 2,
      totalElements: 4,
      last: true,
      first: false,
      numberOfElements: 1,
      size: 3,
      number: 1,
      empty: false,
    },
  );
});

Deno.test("list() sorts by every documented field in both directions", async () => {
  await using s = setup();
  const base = Date.UTC(2025, 0, 1);
  const plan: [string, Identity, string, number][] = [
    // query, who, path, elapsed ms
    ["rows 1", BOB, "p3", 300],
    ["constant", ALICE, "p1", 100],
    ["fail x", ALICE, "p2", 200],
  ];
  const ids: string[] = [];
  for (const [i, [query, who, path, elapsed]] of plan.entries()) {
    s.now.ms = base + i * 60_000;
    const { queryInfo } = await s.service.submit(who, {
      query,
      resultConfig: { bucketName: "test-bucket", path },
    });
    // Let the clock move while it runs so elapsed times differ.
    s.now.ms += elapsed;
    await s.service.settled(queryInfo.queryId);
    ids.push(queryInfo.queryId);
  }
  const order = async (sort: string) =>
    (await s.service.list(ALICE, { sort })).content.map((c) => ids.indexOf(c.queryInfo.queryId));
  deepStrictEqual(await order("queryId,asc"), [0, 1, 2]);
  deepStrictEqual(await order("queryId,desc"), [2, 1, 0]);
  deepStrictEqual(await order("queryTextPreview,asc"), [1, 2, 0]);
  deepStrictEqual(await order("queryTextPreview,desc"), [0, 2, 1]);
  deepStrictEqual(await order("state,asc"), [2, 0, 1]);
  deepStrictEqual(await order("state,desc"), [1, 0, 2]);
  deepStrictEqual(await order("createdAt,asc"), [0, 1, 2]);
  deepStrictEqual(await order("createdAt,desc"), [2, 1, 0]);
  deepStrictEqual(await order("elapsedTime,asc"), [1, 2, 0]);
  deepStrictEqual(await order("elapsedTime,desc"), [0, 2, 1]);
  deepStrictEqual(await order("inputDataSize,asc"), [1, 2, 0]);
  deepStrictEqual((await order("inputDataSize,desc"))[0], 0);
  deepStrictEqual(await order("creatorName,asc"), [1, 2, 0]);
  deepStrictEqual(await order("creatorName,desc"), [0, 2, 1]);
  deepStrictEqual(await order("storageUrl,asc"), [1, 2, 0]);
  deepStrictEqual(await order("storageUrl,desc"), [0, 2, 1]);
  deepStrictEqual(await order("createdAt"), [0, 1, 2]);
});

Deno.test("list() rejects unknown sort fields, directions, states and bad paging", async () => {
  await using s = setup();
  await rejects(
    s.service.list(ALICE, { sort: "password,asc" }),
    /Invalid sort field "password": expected one of queryId/,
  );
  await rejects(s.service.list(ALICE, { sort: "state,up" }), /Invalid sort "state,up"/);
  await rejects(
    s.service.list(ALICE, { states: ["DONE"] }),
    /Invalid state "DONE": expected one of QUEUED/,
  );
  await rejects(s.service.list(ALICE, { page: "-1" }), /Invalid page "-1"/);
  await rejects(s.service.list(ALICE, { size: "0" }), /Invalid size "0"/);
  await rejects(s.service.list(ALICE, { size: "x" }), /Invalid size "x"/);
  const empty = await s.service.list(ALICE);
  deepStrictEqual([empty.content, empty.empty, empty.totalPages, empty.first, empty.last], [
    [],
    true,
    0,
    true,
    true,
  ]);
});

// ----------------------------------------------------------------------------- data sources

const MYSQL = {
  type: "MYSQL",
  name: "test_mysql",
  scope: "PRIVATE",
  description: "test mysql",
  instanceId: "db1",
  mysqlUser: "admin",
  mysqlPassword: "YWRtaW4K",
};

Deno.test("data sources: DATA_CATALOG from the lake, MYSQL created after a connection test", async () => {
  await using s = setup();
  await s.lake.write("test_catalog/default/t/_VERSION", new Uint8Array(0));
  const created = await s.service.createDataSource(ALICE, MYSQL);
  deepStrictEqual(created, {
    scope: "PRIVATE",
    creatorName: ALICE.name,
    type: "MYSQL",
    description: "test mysql",
    name: "test_mysql",
  });
  // The seed's "YWRtaW4K" is base64 of "admin\n" and means "admin".
  deepStrictEqual(s.engine.tested, [{
    type: "MYSQL",
    name: "test_mysql",
    instance: { instanceId: "db1", host: "127.0.0.1", port: 33306 },
    user: "admin",
    password: "admin",
  }]);
  await s.service.createDataSource(BOB, {
    ...MYSQL,
    name: "bob_public",
    scope: "PUBLIC",
    description: undefined,
  });
  deepStrictEqual(await s.service.listDataSources(ALICE), [
    { scope: "NONE", creatorName: "-", type: "DATA_CATALOG", name: "data_catalog" },
    { scope: "NONE", creatorName: "-", type: "DATA_CATALOG", name: "test_catalog" },
    { scope: "PUBLIC", creatorName: BOB.name, type: "MYSQL", name: "bob_public" },
    {
      scope: "PRIVATE",
      creatorName: ALICE.name,
      type: "MYSQL",
      description: "test mysql",
      name: "test_mysql",
    },
  ]);
  // PRIVATE is invisible and unusable to others.
  deepStrictEqual((await s.service.listDataSources(BOB)).map((d) => d.name), [
    "data_catalog",
    "test_catalog",
    "bob_public",
  ]);
  await run(s, "rows 1", BOB);
  deepStrictEqual(s.engine.contexts[0].dataSources.map((d) => d.name), [
    "data_catalog",
    "test_catalog",
    "bob_public",
  ]);
  await run(s, "rows 1", ALICE);
  const mine = s.engine.contexts[1].dataSources.find((d) => d.name === "test_mysql");
  strictEqual(mine?.type === "MYSQL" ? mine.password : undefined, "admin");
});

Deno.test("data sources: duplicates conflict, bad bodies and unknown instances are invalid", async () => {
  await using s = setup();
  await s.service.createDataSource(ALICE, MYSQL);
  await rejects(
    s.service.createDataSource(BOB, MYSQL),
    (e: Error & { code: string }) =>
      e.code === "CONFLICT" &&
      e.message === 'Cannot create data source "test_mysql": the name is taken',
  );
  await rejects(
    s.service.createDataSource(ALICE, { ...MYSQL, name: "data_catalog" }),
    /the name is taken/,
  );
  await rejects(
    s.service.createDataSource(ALICE, { ...MYSQL, name: "AB" }),
    /"name" must be 3-72 lowercase/,
  );
  await rejects(
    s.service.createDataSource(ALICE, { ...MYSQL, scope: "ALL" }),
    /"scope" must be "PRIVATE" or "PUBLIC"/,
  );
  await rejects(
    s.service.createDataSource(ALICE, { ...MYSQL, type: "DATA_CATALOG" }),
    /"type" must be "MYSQL"/,
  );
  await rejects(
    s.service.createDataSource(ALICE, { ...MYSQL, mysqlPassword: "not base64!" }),
    /"mysqlPassword" must be a base64 string/,
  );
  await rejects(
    s.service.createDataSource(ALICE, { ...MYSQL, name: "other", instanceId: "db9" }),
    /"instanceId" names no registered MySQL instance: "db9"/,
  );
  await rejects(
    s.service.createDataSource(ALICE, { ...MYSQL, mysqlUser: undefined }),
    /"mysqlUser" is required/,
  );
});

Deno.test("data sources: a failed connection test is explained and nothing is stored", async () => {
  await using s = setup();
  s.engine.testFailure = new UnavailableError("connect ECONNREFUSED 127.0.0.1:33306");
  await rejects(s.service.createDataSource(ALICE, MYSQL), (e: Error & { code: string }) => {
    strictEqual(e.code, "UNAVAILABLE");
    strictEqual(
      e.message,
      'Cannot connect data source "test_mysql" to MySQL instance "db1" as "admin": connect ECONNREFUSED 127.0.0.1:33306',
    );
    return true;
  });
  s.engine.testFailure = new Error("Access denied for user 'admin'");
  await rejects(
    s.service.createDataSource(ALICE, MYSQL),
    (e: Error & { code: string }) => e.code === "INVALID_ARGUMENT",
  );
  deepStrictEqual((await s.service.listDataSources(ALICE)).map((d) => d.name), ["data_catalog"]);
});

Deno.test("data sources: delete by the creator; unknown is not found; others' are forbidden; DATA_CATALOG is a conflict", async () => {
  await using s = setup();
  await s.service.createDataSource(ALICE, MYSQL);
  await s.service.createDataSource(ALICE, { ...MYSQL, name: "shared_db", scope: "PUBLIC" });
  await rejects(
    s.service.deleteDataSource(BOB, "test_mysql"),
    (e: Error & { code: string }) => e.code === "FORBIDDEN",
  );
  await rejects(
    s.service.deleteDataSource(BOB, "shared_db"),
    (e: Error & { code: string }) => e.code === "FORBIDDEN",
  );
  await rejects(
    s.service.deleteDataSource(ALICE, "data_catalog"),
    (e: Error & { code: string }) =>
      e.code === "CONFLICT" && /DATA_CATALOG sources belong to the lake/.test(e.message),
  );
  await rejects(
    s.service.deleteDataSource(ALICE, "nothing_here"),
    /Cannot find data source "nothing_here"/,
  );
  await rejects(s.service.deleteDataSource(ALICE, "../x"), InvalidArgumentError);
  await s.service.deleteDataSource(ALICE, "test_mysql");
  deepStrictEqual((await s.service.listDataSources(ALICE)).map((d) => d.name), [
    "data_catalog",
    "shared_db",
  ]);
});

// ----------------------------------------------------------------------------- credentials

Deno.test("credentials: the secret is shown once, stored hashed, checked, listed and revoked", async () => {
  await using s = setup();
  const created = await s.service.createCredential("testor1@kakaoenterprise.com");
  deepStrictEqual(Object.keys(created), ["credentialId", "credentialSecret"]);
  ok(created.credentialSecret.length >= 32);
  deepStrictEqual(await s.service.authenticate(created.credentialId, created.credentialSecret), {
    name: "testor1@kakaoenterprise.com",
    credentialId: created.credentialId,
  });
  await rejects(
    s.service.authenticate(created.credentialId, "wrong"),
    (e: Error & { code: string }) =>
      e.code === "UNAUTHENTICATED" && e.message === "Invalid credential",
  );
  await rejects(s.service.authenticate("unknown", created.credentialSecret), /Invalid credential/);
  await rejects(s.service.authenticate("", ""), /Invalid credential/);
  const listed = await s.service.listCredentials();
  strictEqual(listed.length, 1);
  strictEqual(JSON.stringify(listed).includes(created.credentialSecret), false);
  await s.service.revokeCredential(created.credentialId);
  await rejects(
    s.service.authenticate(created.credentialId, created.credentialSecret),
    /Invalid credential/,
  );
  strictEqual((await s.service.listCredentials())[0].revoked, true);
  await rejects(s.service.revokeCredential("nope"), /Cannot find credential "nope"/);
  await rejects(s.service.createCredential(""), /Invalid credential name/);
});

// ----------------------------------------------------------------------------- state

/** An owner token of a process on this host that does not exist (pids stay below 2^22). */
const DEAD_OWNER = JSON.stringify({
  host: hostname(),
  pid: 2_000_000_000,
  start: 1,
  instance: "dead",
});

/** Makes the state at `statePath` say its unfinished queries belong to a process that died. */
function orphanUnfinished(statePath: string): void {
  const db = new DatabaseSync(statePath);
  try {
    db.prepare("UPDATE queries SET owner = ? WHERE state IN ('QUEUED', 'RUNNING')").run(
      DEAD_OWNER,
    );
  } finally {
    db.close();
  }
}

Deno.test("state survives a restart; queries whose process died come back FAILED with the reason", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = `${dir}/state.sqlite`;
  const engine = new FakeEngine();
  const bucket = createMemoryStore();
  const options = {
    engine,
    statePath,
    buckets: createStaticBucketResolver({ "test-bucket": bucket }),
    encryptionKey: KEY,
    mysqlInstances: [{ instanceId: "db1", host: "127.0.0.1", port: 33306 }],
    workers: 1,
  };
  try {
    const first = createQueryService(options);
    const done = (await first.submit(ALICE, body("rows 120"))).queryInfo.queryId;
    await first.settled(done);
    const running = (await first.submit(ALICE, body("stubborn"))).queryInfo.queryId;
    const queued = (await first.submit(ALICE, body("rows 1"))).queryInfo.queryId;
    await until(() => engine.running === 1);
    await first.createDataSource(ALICE, MYSQL);
    const credential = await first.createCredential("alice@example.com");

    // A second process opens the same state after the first died with work in flight.
    orphanUnfinished(statePath);
    const second = createQueryService(options);
    try {
      const r = await second.get(ALICE, done, { page: 1 });
      strictEqual(r.queryInfo.state, "FINISHED");
      deepStrictEqual([r.totalElements, r.numberOfElements], [120, 20]);
      strictEqual(r.queryInfo.queryStats.outputRows, 120);
      const crashed = await second.get(ALICE, running);
      strictEqual(crashed.queryInfo.state, "FAILED");
      strictEqual(
        crashed.queryInfo.errorMessage,
        "The service stopped while the query was RUNNING: submit it again",
      );
      strictEqual((await second.get(ALICE, queued)).queryInfo.state, "FAILED");
      strictEqual(
        (await second.get(ALICE, queued)).queryInfo.errorMessage,
        "The service stopped while the query was QUEUED: submit it again",
      );
      deepStrictEqual((await second.listDataSources(ALICE)).map((d) => d.name), [
        "data_catalog",
        "test_mysql",
      ]);
      strictEqual(
        (await second.authenticate(credential.credentialId, credential.credentialSecret)).name,
        "alice@example.com",
      );
    } finally {
      await second.close();
      await first.close();
    }
    // Secrets at rest: no plain password or credential secret in the database.
    const db = new DatabaseSync(statePath);
    const sealed = db.prepare("SELECT password_sealed AS p FROM data_sources").get() as {
      p: string;
    };
    const dump = JSON.stringify([
      db.prepare("SELECT * FROM data_sources").all(),
      db.prepare("SELECT * FROM credentials").all(),
      db.prepare("SELECT version FROM schema_version").all(),
    ]);
    db.close();
    ok(sealed.p.startsWith("v1:") && !sealed.p.includes("admin"));
    ok(!dump.includes("YWRtaW4K"));
    ok(!dump.includes(credential.credentialSecret));
    ok(dump.includes('"version":2'));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("opening the state again leaves the queries of a live service alone", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = `${dir}/state.sqlite`;
  const engine = new FakeEngine();
  const options = {
    engine,
    statePath,
    buckets: createStaticBucketResolver({ "test-bucket": createMemoryStore() }),
    encryptionKey: KEY,
    workers: 1,
  };
  try {
    const serve = createQueryService(options);
    const running = (await serve.submit(ALICE, body("gate one"))).queryInfo.queryId;
    const queued = (await serve.submit(ALICE, body("rows 2"))).queryInfo.queryId;
    await until(() => engine.running === 1);
    // The CLI's embedded mode opens the same home while `serve` runs.
    const embedded = createQueryService(options);
    strictEqual((await embedded.get(ALICE, running)).queryInfo.state, "RUNNING");
    strictEqual((await embedded.get(ALICE, queued)).queryInfo.state, "QUEUED");
    await embedded.close();
    engine.open("one");
    strictEqual(await serve.settled(running), "FINISHED");
    strictEqual(await serve.settled(queued), "FINISHED");
    await serve.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a query of another live process survives a second open and fails once that process died", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = `${dir}/state.sqlite`;
  // The other process: `eventlake serve`, say, running a query that does not end by itself.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { createQueryService } from ${
        JSON.stringify(new URL("./service.ts", import.meta.url).href)
      };
       import { createStaticBucketResolver } from ${
        JSON.stringify(new URL("./buckets.ts", import.meta.url).href)
      };
       import { createMemoryStore } from "@eventlake/storage";
       const service = createQueryService({
         engine: { name: "hang", execute: () => new Promise(() => {}), testDataSource: async () => {},
                   tableChanged: () => {}, close: async () => {} },
         statePath: ${JSON.stringify(statePath)},
         buckets: createStaticBucketResolver({ "test-bucket": createMemoryStore() }),
         encryptionKey: ${JSON.stringify(KEY)},
       });
       const r = await service.submit({ name: "alice@example.com" },
         { query: "hang", resultConfig: { bucketName: "test-bucket", path: "out" } });
       console.log(r.queryInfo.queryId);
       setInterval(() => {}, 60_000);`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const queryId = out.trim();
    ok(queryId.length > 0, "the child submitted a query");
    const options = {
      engine: new FakeEngine(),
      statePath,
      buckets: createStaticBucketResolver({ "test-bucket": createMemoryStore() }),
      encryptionKey: KEY,
    };
    await until(async () => {
      const probe = createQueryService(options);
      try {
        return (await probe.get(ALICE, queryId)).queryInfo.state === "RUNNING";
      } finally {
        await probe.close();
      }
    });
    const second = createQueryService(options);
    strictEqual((await second.get(ALICE, queryId)).queryInfo.state, "RUNNING");
    await second.close();

    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    const third = createQueryService(options);
    const r = await third.get(ALICE, queryId);
    strictEqual(r.queryInfo.state, "FAILED");
    strictEqual(
      r.queryInfo.errorMessage,
      "The service stopped while the query was RUNNING: submit it again",
    );
    await third.close();
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a wrong encryption key cannot read stored passwords", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const statePath = `${dir}/state.sqlite`;
    const engine = new FakeEngine();
    const base = {
      engine,
      statePath,
      buckets: createStaticBucketResolver({ "test-bucket": createMemoryStore() }),
      mysqlInstances: [{ instanceId: "db1", host: "127.0.0.1", port: 33306 }],
    };
    const a = createQueryService({ ...base, encryptionKey: KEY });
    await a.createDataSource(ALICE, MYSQL);
    await a.close();
    const b = createQueryService({ ...base, encryptionKey: "another key, also long enough" });
    const id = (await b.submit(ALICE, body("rows 1"))).queryInfo.queryId;
    await b.settled(id);
    const r = await b.get(ALICE, id);
    strictEqual(r.queryInfo.state, "FAILED");
    ok(r.queryInfo.errorMessage?.startsWith("Cannot decrypt a stored data source password"));
    await b.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("close({ drain: true }) lets work finish; close() fails what is left and refuses new work", async () => {
  {
    await using s = setup({ workers: 1 });
    const a = (await s.service.submit(ALICE, body("rows 3"))).queryInfo.queryId;
    const b = (await s.service.submit(ALICE, body("rows 4"))).queryInfo.queryId;
    const closing = s.service.close({ drain: true });
    await rejects(s.service.submit(ALICE, body("rows 1")), /shutting down/);
    await closing;
    ok(await s.bucket.exists(`data_query/result/${dateOf()}/${a}.csv`));
    ok(await s.bucket.exists(`data_query/result/${dateOf()}/${b}.csv`));
  }
  {
    const s = setup({ workers: 1 });
    const statePath = ":memory:";
    void statePath;
    const a = (await s.service.submit(ALICE, body("wait"))).queryInfo.queryId;
    const b = (await s.service.submit(ALICE, body("rows 1"))).queryInfo.queryId;
    await until(() => s.engine.running === 1);
    const states: string[] = [];
    const watch = Promise.all(
      [a, b].map((id) =>
        s.service.settled(id).then((st) => states.push(st)).catch((e) => ok(e instanceof Error))
      ),
    );
    await s.service.close();
    await watch;
    await rejects(s.service.submit(ALICE, body("rows 1")), /The query service is closed/);
    deepStrictEqual(await keys(s.bucket), []);
  }
});

function dateOf(): string {
  const d = new Date();
  return `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, "0")}/${
    String(d.getUTCDate()).padStart(2, "0")
  }`;
}

Deno.test("settled() stops waiting when its signal aborts", async () => {
  await using s = setup();
  const id = (await s.service.submit(ALICE, body("gate never"))).queryInfo.queryId;
  const controller = new AbortController();
  const waiting = s.service.settled(id, { signal: controller.signal });
  controller.abort();
  await rejects(waiting, AbortedError);
  s.engine.open("never");
  await s.service.settled(id);
});

Deno.test("submit() refuses another user's PRIVATE source (forbidden) and an unknown one (invalid)", async () => {
  await using s = setup();
  await s.service.createDataSource(ALICE, MYSQL);
  await rejects(
    s.service.submit(BOB, body("rows 1"), { dataSource: "test_mysql" }),
    (e: Error & { code: string }) =>
      e.code === "FORBIDDEN" && /"test_mysql": it is PRIVATE to its creator/.test(e.message),
  );
  await rejects(
    s.service.submit(ALICE, body("rows 1"), { dataSource: "nothing" }),
    InvalidArgumentError,
  );
  const { queryInfo } = await s.service.submit(ALICE, body("rows 1"), { dataSource: "test_mysql" });
  strictEqual(await s.service.settled(queryInfo.queryId), "FINISHED");
});

Deno.test("tableChanged() rejects a malformed table reference", async () => {
  await using s = setup();
  let error: unknown;
  try {
    s.service.tableChanged({ dataSource: "data_catalog", database: "../x", table: "events" });
  } catch (e) {
    error = e;
  }
  ok(error instanceof InvalidArgumentError);
});

Deno.test("a closed service answers UNAVAILABLE instead of touching its closed state", async () => {
  const s = setup();
  const id = await run(s, "rows 1");
  await s.service.close();
  await rejects(s.service.get(ALICE, id), UnavailableError);
  await rejects(s.service.list(ALICE), UnavailableError);
  await rejects(s.service.settled(id), UnavailableError);
  await rejects(s.service.authenticate("a", "b"), UnavailableError);
  await s.service.close(); // idempotent
});

Deno.test("abort() while the CSV is being written stops the stream and leaves no files", async () => {
  await using s = setup();
  const id = (await s.service.submit(ALICE, body("stream s1"))).queryInfo.queryId;
  await until(async () => (await s.service.get(ALICE, id)).queryInfo.queryStats.outputRows === 250);
  const running = await s.service.get(ALICE, id);
  strictEqual(running.queryInfo.state, "RUNNING");
  deepStrictEqual([running.columnData, running.queryData], [[], []]);
  await s.service.abort(ALICE, id);
  strictEqual((await s.service.get(ALICE, id)).queryInfo.state, "ABORTED");
  s.engine.open("s1");
  await tick(5);
  deepStrictEqual(await keys(s.bucket), []);
  strictEqual((await s.service.get(ALICE, id)).queryInfo.state, "ABORTED");
});

Deno.test("the result reaches the store as a stream of chunks, not one buffer", async () => {
  const inner = createMemoryStore();
  const chunks: number[] = [];
  const counting: ObjectStore = {
    url: inner.url,
    list: (prefix, options) => inner.list(prefix, options),
    head: (key, options) => inner.head(key, options),
    exists: (key, options) => inner.exists(key, options),
    read: (key, options) => inner.read(key, options),
    readStream: (key, options) => inner.readStream(key, options),
    delete: (key, options) => inner.delete(key, options),
    deletePrefix: (prefix, options) => inner.deletePrefix(prefix, options),
    close: () => inner.close(),
    write: () => Promise.reject(new Error("replaced below")),
  };
  counting.write = (key, data, options) => {
    if (!(data instanceof ReadableStream)) return inner.write(key, data, options);
    const counted = data.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          if (key.endsWith(".csv")) chunks.push(chunk.length);
          controller.enqueue(chunk);
        },
      }),
    );
    return inner.write(key, counted, options);
  };
  await using s = setup({ buckets: createStaticBucketResolver({ "test-bucket": counting }) });
  const id = await run(s, "rows 1000");
  strictEqual((await s.service.get(ALICE, id)).queryInfo.state, "FINISHED");
  strictEqual(chunks.length, 5); // header + 4 batches of 250 rows
});

Deno.test("reuse works across a restart, and a tableChanged() before it still voids it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const engine = new FakeEngine();
    const options = {
      engine,
      statePath: `${dir}/state.sqlite`,
      buckets: createStaticBucketResolver({ "test-bucket": createMemoryStore() }),
      encryptionKey: KEY,
    };
    const submitAndWait = async (service: QueryService) => {
      const { queryInfo } = await service.submit(ALICE, body("rows 2", REUSE));
      await service.settled(queryInfo.queryId);
    };
    const a = createQueryService(options);
    await submitAndWait(a);
    await a.close();
    const b = createQueryService(options);
    await submitAndWait(b);
    strictEqual(engine.executions.length, 1); // reused after the restart
    b.tableChanged({ dataSource: "data_catalog", database: "default", table: "events" });
    await b.close();
    const c = createQueryService(options);
    await submitAndWait(c);
    strictEqual(engine.executions.length, 2); // the change survived the restart
    await c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("queryTextPreview is the first 300 characters of the query", async () => {
  await using s = setup();
  const query = "rows 1" + " ".repeat(400) + "2";
  const id = await run(s, query);
  const r = await s.service.get(ALICE, id);
  strictEqual(r.queryInfo.queryTextPreview, query.slice(0, 300));
  strictEqual((await s.service.list(ALICE)).content[0].queryInfo.queryTextPreview.length, 300);
});

Deno.test("createQueryService() explains a state path it cannot open", () => {
  let error: unknown;
  try {
    createQueryService({
      engine: new FakeEngine(),
      statePath: "/nonexistent-folder-for-eventlake/state.sqlite",
      buckets: createStaticBucketResolver({}),
      encryptionKey: KEY,
    });
  } catch (e) {
    error = e;
  }
  ok(error instanceof InvalidArgumentError);
  ok(
    error.message.startsWith(
      'Cannot open the query state "/nonexistent-folder-for-eventlake/state.sqlite": ',
    ),
  );
});

import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { InvalidArgumentError } from "@eventlake/schema";
import { createMemoryStore } from "@eventlake/storage";
import {
  createMemoryState,
  createObjectStoreState,
  type QueryRecord,
  type QueryStateStore,
} from "./state.ts";
import { createSqliteState } from "./state_sqlite.ts";
import { createQueryService } from "./service.ts";
import { createStaticBucketResolver } from "./buckets.ts";
import type { QueryEngine } from "./engine.ts";

function query(id: string, overrides: Partial<QueryRecord> = {}): QueryRecord {
  return {
    queryId: id,
    creatorName: "alice@example.com",
    queryText: `SELECT '${id}'`,
    preview: `SELECT '${id}'`,
    reuseKey: "k1",
    dataSource: null,
    database: null,
    state: "QUEUED",
    errorMessage: null,
    bucketName: "b",
    resultPath: "out/2026/11/22",
    storageUrl: "b/out/2026/11/22",
    csvKey: null,
    reuse: false,
    maxReuseAge: null,
    expireAt: null,
    reusedFrom: null,
    lakeFingerprint: null,
    createdAt: 1_000,
    startedAt: null,
    completedAt: null,
    inputBytes: null,
    stats: {},
    isScanned: false,
    isStored: false,
    columns: null,
    rows: null,
    owner: null,
    ...overrides,
  };
}

/** The same contract for every implementation. */
const implementations: [string, () => Promise<QueryStateStore>][] = [
  ["SQLite", () => Promise.resolve(createSqliteState(":memory:"))],
  ["memory", () => Promise.resolve(createMemoryState())],
  ["object store", () => createObjectStoreState(createMemoryStore())],
];

for (const [name, open] of implementations) {
  Deno.test(`${name} state: queries are inserted once, read back as copies and updated`, async () => {
    const state = await open();
    try {
      ok(state.insertQuery(query("q1", { stats: { inputRows: 3 }, owner: "o" })));
      strictEqual(state.insertQuery(query("q1")), false);
      const q = state.getQuery("q1")!;
      deepStrictEqual(q, query("q1", { stats: { inputRows: 3 }, owner: "o" }));
      q.state = "FAILED";
      strictEqual(state.getQuery("q1")!.state, "QUEUED", "a read is a copy");
      state.setRunning("q1", 2_000);
      deepStrictEqual([state.getQuery("q1")!.state, state.getQuery("q1")!.startedAt], [
        "RUNNING",
        2_000,
      ]);
      state.updateQuery({ ...q, rows: [["a", null]], columns: [{ name: "x", type: "varchar" }] });
      deepStrictEqual(state.getQuery("q1")!.rows, [["a", null]]);
      strictEqual(state.getQuery("nope"), undefined);
    } finally {
      await state.close();
    }
  });

  Deno.test(`${name} state: history filters, sorts with query id ties and pages`, async () => {
    const state = await open();
    try {
      state.insertQuery(query("a1", { createdAt: 3, state: "FINISHED", completedAt: 10 }));
      state.insertQuery(query("b2", { createdAt: 1, creatorName: "bob", inputBytes: 50 }));
      state.insertQuery(query("c3", { createdAt: 3, state: "FAILED", completedAt: 4 }));
      state.insertQuery(query("d4", { createdAt: 2, state: "RUNNING" }));
      const ids = (h: Partial<Parameters<QueryStateStore["history"]>[0]>) =>
        state.history({
          orderBy: "createdAt",
          descending: true,
          limit: 10,
          offset: 0,
          now: 100,
          ...h,
        }).records.map((q) => q.queryId);
      deepStrictEqual(ids({}), ["c3", "a1", "d4", "b2"]);
      deepStrictEqual(ids({ descending: false }), ["b2", "d4", "a1", "c3"]);
      deepStrictEqual(ids({ orderBy: "elapsedTime" }), ["b2", "d4", "a1", "c3"]);
      deepStrictEqual(ids({ orderBy: "inputDataSize" }), ["b2", "d4", "c3", "a1"]);
      deepStrictEqual(ids({ states: ["FINISHED", "FAILED"] }), ["c3", "a1"]);
      deepStrictEqual(ids({ creatorName: "bob" }), ["b2"]);
      deepStrictEqual(ids({ queryId: "4" }), ["d4"]);
      const page = state.history({
        orderBy: "queryId",
        descending: false,
        limit: 2,
        offset: 2,
        now: 100,
      });
      deepStrictEqual([page.total, page.records.map((q) => q.queryId)], [4, ["c3", "d4"]]);
      deepStrictEqual(state.queryIdsInStates(["QUEUED", "RUNNING"]), ["b2", "d4"]);
    } finally {
      await state.close();
    }
  });

  Deno.test(`${name} state: reuse candidates are the creator's newest FINISHED ones`, async () => {
    const state = await open();
    try {
      state.insertQuery(query("old", { state: "FINISHED", createdAt: 5 }));
      state.insertQuery(query("new", { state: "FINISHED", createdAt: 9 }));
      state.insertQuery(query("failed", { state: "FAILED", createdAt: 10 }));
      state.insertQuery(query("bobs", { state: "FINISHED", createdAt: 11, creatorName: "bob" }));
      state.insertQuery(query("other", { state: "FINISHED", createdAt: 12, reuseKey: "k2" }));
      const lookup = { reuseKey: "k1", creatorName: "alice@example.com" };
      deepStrictEqual(state.reuseCandidates(lookup, 0).map((q) => q.queryId), ["new", "old"]);
      deepStrictEqual(state.reuseCandidates(lookup, 6).map((q) => q.queryId), ["new"]);
    } finally {
      await state.close();
    }
  });

  Deno.test(`${name} state: settings, data sources and credentials`, async () => {
    const state = await open();
    try {
      strictEqual(state.getSetting("x"), undefined);
      state.setSetting("x", "1");
      state.setSetting("x", "2");
      strictEqual(state.getSetting("x"), "2");
      const source = {
        name: "src",
        scope: "PRIVATE" as const,
        description: null,
        creatorName: "alice@example.com",
        instanceId: "db1",
        mysqlUser: "u",
        passwordSealed: "v1:x",
        createdAt: 1,
      };
      ok(state.insertDataSource(source));
      strictEqual(state.insertDataSource(source), false);
      deepStrictEqual(state.listDataSources(), [source]);
      ok(state.deleteDataSource("src"));
      strictEqual(state.deleteDataSource("src"), false);
      const credential = {
        credentialId: "c1",
        name: "alice@example.com",
        secretHash: "ab",
        createdAt: 1,
        revokedAt: null,
      };
      state.insertCredential(credential);
      deepStrictEqual(state.getCredential("c1"), credential);
      ok(state.revokeCredential("c1", 7));
      ok(state.revokeCredential("c1", 9));
      strictEqual(state.getCredential("c1")!.revokedAt, 7, "the first revocation counts");
      strictEqual(state.revokeCredential("c2", 9), false);
      strictEqual(state.listCredentials().length, 1);
      await state.flush();
    } finally {
      await state.close();
    }
  });
}

Deno.test("object-store state survives a restart: every change is in the bucket after flush", async () => {
  const bucket = createMemoryStore();
  const first = await createObjectStoreState(bucket, { prefix: "state/" });
  first.insertQuery(query("q1"));
  first.setRunning("q1", 5);
  first.setSetting("lake_generation", "4");
  first.insertCredential({
    credentialId: "c1",
    name: "alice@example.com",
    secretHash: "ab",
    createdAt: 1,
    revokedAt: null,
  });
  await first.close();
  ok(await bucket.exists("state/queries/q1.json"));
  const second = await createObjectStoreState(bucket, { prefix: "state/" });
  deepStrictEqual(second.getQuery("q1"), query("q1", { state: "RUNNING", startedAt: 5 }));
  strictEqual(second.getSetting("lake_generation"), "4");
  strictEqual(second.getCredential("c1")!.name, "alice@example.com");
  await second.close();
});

Deno.test("object-store state reports a failed write at flush and names a damaged object", async () => {
  const failing = createMemoryStore({
    faults: (op) => op === "write" ? new InvalidArgumentError("Disk full") : undefined,
  });
  const state = await createObjectStoreState(failing);
  state.setSetting("x", "1");
  await rejects(state.flush(), /Disk full/);
  await state.flush(); // reported once

  const bucket = createMemoryStore();
  await bucket.write("_eventlake_state/queries/q1.json", new TextEncoder().encode("{oops"));
  await rejects(
    createObjectStoreState(bucket),
    (e: Error) =>
      e instanceof InvalidArgumentError &&
      e.message ===
        'Cannot open the query state: object "_eventlake_state/queries/q1.json" is not JSON',
  );
  await rejects(
    createObjectStoreState(bucket, { prefix: "no-slash" }),
    /Invalid state prefix "no-slash"/,
  );
});

const idleEngine: QueryEngine = {
  name: "idle",
  execute: () => new Promise(() => {}),
  testDataSource: () => Promise.resolve(),
  tableChanged: () => {},
  close: () => Promise.resolve(),
};

Deno.test("createQueryService() over an object-store state fails only queries whose owner is gone", async () => {
  const bucket = createMemoryStore();
  const seed = await createObjectStoreState(bucket);
  const now = Date.now();
  // A query of an edge isolate that cannot be probed, well inside its time limit: kept.
  const recent = JSON.stringify({ host: "elsewhere", pid: 1, start: 1, instance: "x" });
  seed.insertQuery(query("recent", { state: "RUNNING", owner: recent, createdAt: now - 1_000 }));
  // The same owner, older than the time limit plus the grace: failed.
  seed.insertQuery(query("stale", { state: "RUNNING", owner: recent, createdAt: now - 3_600_000 }));
  // No owner recorded (an older build): failed.
  seed.insertQuery(query("legacy", { createdAt: now }));
  await seed.close();
  const service = createQueryService({
    engine: idleEngine,
    state: await createObjectStoreState(bucket),
    buckets: createStaticBucketResolver({}),
    encryptionKey: "0123456789abcdef0123456789abcdef",
    timeLimitMs: 60_000,
  });
  await service.close({ drain: true });
  const after = await createObjectStoreState(bucket);
  strictEqual(after.getQuery("recent")!.state, "RUNNING");
  strictEqual(after.getQuery("stale")!.state, "FAILED");
  strictEqual(
    after.getQuery("legacy")!.errorMessage,
    "The service stopped while the query was QUEUED: submit it again",
  );
});

Deno.test("createQueryService() takes exactly one of statePath and state", () => {
  const base = {
    engine: idleEngine,
    buckets: createStaticBucketResolver({}),
    encryptionKey: "0123456789abcdef0123456789abcdef",
  };
  let error: unknown;
  try {
    createQueryService({ ...base, statePath: ":memory:", state: createMemoryState() });
  } catch (e) {
    error = e;
  }
  ok(error instanceof TypeError && /exactly one of statePath and state/.test(error.message));
});

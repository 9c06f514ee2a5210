import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ImportState } from "./job.ts";

Deno.test("ImportState.open() migrates a version 1 file and keeps its jobs and runs", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/import.db`;
  try {
    const old = new DatabaseSync(path);
    old.exec(`
      CREATE TABLE jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, creator_name TEXT NOT NULL,
        spec TEXT NOT NULL, created_at TEXT NOT NULL);
      CREATE TABLE runs (run_id TEXT PRIMARY KEY, job_id TEXT, date TEXT NOT NULL, status TEXT NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT NOT NULL, report TEXT NOT NULL);
      INSERT INTO runs VALUES ('r1', NULL, '2023-01-01', 'SUCCEEDED', '2023-01-02T00:00:00.000Z',
        '2023-01-02T00:00:01.000Z', '{"runId":"r1","rowsAccepted":3}');
      PRAGMA user_version = 1;`);
    old.close();
    const state = ImportState.open(path);
    try {
      strictEqual(state.getRun("r1").rowsAccepted, 3);
      deepStrictEqual(state.listRuns().map((r) => r.status), ["SUCCEEDED"]);
    } finally {
      state.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ImportState queues and starts runs, and fails them once their owner closed", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/import.db`;
  try {
    const owner = ImportState.open(path);
    const job = owner.createJob({ name: "j", creatorName: "me", sourceUrl: "memory://b/p" });
    owner.queueRun({ runId: "q", jobId: job.id, date: "2023-01-01" });
    owner.queueRun({ runId: "r", jobId: job.id, date: "2023-01-02" });
    ok(owner.startRun("r"));
    strictEqual(owner.startRun("r"), false, "only a QUEUED run starts");
    throws(() => owner.queueRun({ runId: "q", jobId: job.id, date: "2023-01-01" }), {
      code: "CONFLICT",
    });
    throws(() => owner.getRun("q"), /it is QUEUED/);
    strictEqual(owner.findRun("q")?.finishedAt, undefined);
    const other = ImportState.open(path);
    deepStrictEqual(other.listRuns().map((r) => r.status).sort(), ["QUEUED", "RUNNING"]);
    other.close();
    owner.close();
    const next = ImportState.open(path);
    try {
      deepStrictEqual(next.listRuns().map((r) => r.status), ["FAILED", "FAILED"]);
      deepStrictEqual([...next.finishedDates(job.id)], [], "a FAILED date is retried");
    } finally {
      next.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

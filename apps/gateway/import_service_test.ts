import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  createMemoryStore,
  DEFAULT_LAKE_TABLE,
  openStore,
  readDayManifest,
} from "@eventlake/storage";
import { writeEvents } from "@eventlake/parquet";
import { generateEvents } from "@eventlake/schema/testing";
import { ImportState } from "@eventlake/dataimport";
import { createLocalImportService } from "./import_service.ts";
import type { ImportRunView } from "./import_api.ts";
import { testGateway } from "./_testing.ts";

async function writeDay(url: string, date: string, count: number): Promise<void> {
  const { store, prefix } = await openStore(url);
  const part = new TransformStream<Uint8Array, Uint8Array>();
  const written = store.write(`${prefix}dt=${date}/000000000000.parquet`, part.readable);
  await writeEvents(generateEvents(count, { day: date }), part.writable);
  await written;
  await store.write(`${prefix}dt=${date}/_SUCCESS`, new Uint8Array(0));
}

function json(headers: Record<string, string>, body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { ...headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
}

Deno.test("the import API creates jobs, runs a date and a backfill, lists runs with reports, checks and deletes", async () => {
  const source = `memory://gw-import-${crypto.randomUUID().slice(0, 8)}/events`;
  await writeDay(source, "2023-01-01", 20);
  await writeDay(source, "2023-01-02", 10);
  const lake = createMemoryStore();
  const landed: string[] = [];
  const imports = createLocalImportService({
    statePath: ":memory:",
    lake: { store: lake },
    onLanded: (_table, date) => void landed.push(date),
  });
  const gw = await testGateway({ importService: imports });
  try {
    let res = await gw.app.request(
      "/v1/data-import/jobs",
      json(gw.alice, { name: "daily", sourceUrl: source, dedupWindowDays: 1 }),
    );
    strictEqual(res.status, 201);
    const job = await res.json();
    strictEqual(job.creatorName, "alice@example.com");
    deepStrictEqual(job.table, DEFAULT_LAKE_TABLE);

    for (
      const bad of [
        { sourceUrl: source },
        { name: "x", sourceUrl: "relative/path" },
        { name: "x", sourceUrl: source, dedupWindowDays: 400 },
        { name: "x", sourceUrl: source, table: { dataSource: "A", database: "b", table: "c" } },
      ]
    ) {
      res = await gw.app.request("/v1/data-import/jobs", json(gw.alice, bad));
      strictEqual(res.status, 400, JSON.stringify(bad));
      strictEqual((await res.json()).code, "INVALID_ARGUMENT");
    }

    res = await gw.app.request("/v1/data-import/jobs", { headers: gw.alice });
    strictEqual((await res.json()).jobs.length, 1);
    res = await gw.app.request("/v1/data-import/jobs", { headers: gw.bob });
    strictEqual((await res.json()).jobs.length, 0, "jobs belong to their creator");
    res = await gw.app.request(`/v1/data-import/jobs/${job.jobId}`, { headers: gw.alice });
    strictEqual(res.status, 200);
    res = await gw.app.request(`/v1/data-import/jobs/${job.jobId}`, { headers: gw.bob });
    strictEqual(res.status, 403);
    res = await gw.app.request(`/v1/data-import/jobs/job-nope`, { headers: gw.alice });
    strictEqual(res.status, 404);

    // One date.
    res = await gw.app.request(
      `/v1/data-import/jobs/${job.jobId}/runs`,
      json(gw.alice, { date: "2023-01-01" }),
    );
    strictEqual(res.status, 202);
    const [one] = (await res.json()).runs as ImportRunView[];
    strictEqual(one.state, "QUEUED");
    const done = await imports.settled(one.runId);
    strictEqual(done.state, "SUCCEEDED");
    strictEqual(done.report?.rowsAccepted, 20);
    strictEqual((await readDayManifest(lake, DEFAULT_LAKE_TABLE, "2023-01-01"))?.rows, 20);

    // A backfill: one run per day; a day without _SUCCESS is MISSING.
    res = await gw.app.request(
      `/v1/data-import/jobs/${job.jobId}/runs`,
      json(gw.alice, { from: "2023-01-02", to: "2023-01-03" }),
    );
    strictEqual(res.status, 202);
    const runs = (await res.json()).runs as ImportRunView[];
    deepStrictEqual(runs.map((r) => r.date), ["2023-01-02", "2023-01-03"]);
    const states = [];
    for (const r of runs) states.push((await imports.settled(r.runId)).state);
    deepStrictEqual(states, ["SUCCEEDED", "MISSING"]);
    deepStrictEqual(landed, ["2023-01-01", "2023-01-02"]);

    for (
      const bad of [{}, { date: "2023-02-30" }, { from: "2023-01-05", to: "2023-01-01" }, {
        date: "2023-01-01",
        from: "2023-01-01",
        to: "2023-01-02",
      }, { from: "2020-01-01", to: "2023-01-01" }]
    ) {
      res = await gw.app.request(`/v1/data-import/jobs/${job.jobId}/runs`, json(gw.alice, bad));
      strictEqual(res.status, 400, JSON.stringify(bad));
    }
    res = await gw.app.request(
      `/v1/data-import/jobs/${job.jobId}/runs`,
      json(gw.bob, { date: "2023-01-01" }),
    );
    strictEqual(res.status, 403);

    res = await gw.app.request(`/v1/data-import/jobs/${job.jobId}/runs`, { headers: gw.alice });
    strictEqual(res.status, 200);
    const listed = (await res.json()).runs as ImportRunView[];
    strictEqual(listed.length, 3);
    ok(listed.every((r) => r.report !== undefined), "each run carries its report");

    res = await gw.app.request(`/v1/data-import/jobs/${job.jobId}/runs/${one.runId}`, {
      headers: gw.alice,
    });
    strictEqual(res.status, 200);
    strictEqual((await res.json()).report.rowsAccepted, 20);
    res = await gw.app.request(`/v1/data-import/jobs/${job.jobId}/runs/run-nope`, {
      headers: gw.alice,
    });
    strictEqual(res.status, 404);

    res = await gw.app.request(
      "/v1/data-import/check",
      json(gw.alice, { sourceUrl: source, date: "2023-01-01" }),
    );
    strictEqual(res.status, 200);
    const check = await res.json();
    strictEqual(check.ok, true);
    strictEqual(check.days.length, 1);
    res = await gw.app.request("/v1/data-import/check", json(gw.alice, { date: "2023-01-01" }));
    strictEqual(res.status, 400);

    const metrics = await (await gw.app.request("/metrics")).text();
    ok(metrics.includes("eventlake_import_runs_running 0"));

    res = await gw.app.request(`/v1/data-import/jobs/${job.jobId}`, {
      method: "DELETE",
      headers: gw.bob,
    });
    strictEqual(res.status, 403);
    res = await gw.app.request(`/v1/data-import/jobs/${job.jobId}`, {
      method: "DELETE",
      headers: gw.alice,
    });
    strictEqual(res.status, 200);
    res = await gw.app.request(`/v1/data-import/jobs/${job.jobId}`, { headers: gw.alice });
    strictEqual(res.status, 404);
  } finally {
    await imports.close();
    await gw.close();
  }
});

Deno.test("createLocalImportService() marks runs left QUEUED by a dead process as FAILED", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = `${dir}/import.db`;
  const me = { name: "me@example.com" };
  const first = createLocalImportService({ statePath, lake: { store: createMemoryStore() } });
  const job = await first.createJob(me, { name: "j", sourceUrl: "memory://gw-dead/events" });
  const [run] = await first.startRuns(me, job.jobId, { date: "2023-01-01" });
  await first.close(); // not drained: the queued run stays QUEUED in the file
  const second = createLocalImportService({ statePath, lake: { store: createMemoryStore() } });
  try {
    const view = await second.getRun(me, job.jobId, run.runId);
    ok(view.state === "FAILED" || view.state === "MISSING", view.state);
  } finally {
    await second.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the import service and the CLI's ImportState share one file: same jobs, same runs", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = `${dir}/import.db`;
  const source = `memory://gw-shared-${crypto.randomUUID().slice(0, 8)}/events`;
  await writeDay(source, "2023-01-01", 7);
  const me = { name: "me@example.com" };
  const imports = createLocalImportService({ statePath, lake: { store: createMemoryStore() } });
  try {
    const job = await imports.createJob(me, { name: "shared", sourceUrl: source });
    const [run] = await imports.startRuns(me, job.jobId, { date: "2023-01-01" });
    strictEqual((await imports.settled(run.runId)).state, "SUCCEEDED");
    const cli = ImportState.open(statePath);
    try {
      const [seen] = cli.listJobs({ creatorName: me.name });
      strictEqual(seen.id, job.jobId);
      strictEqual(seen.name, "shared");
      strictEqual(cli.getRun(run.runId).rowsAccepted, 7);
      deepStrictEqual([...cli.finishedDates(job.jobId)], ["2023-01-01"]);
      // A job the CLI creates is the gateway's too (for its creator).
      cli.createJob({ name: "from-cli", creatorName: me.name, sourceUrl: source });
    } finally {
      cli.close();
    }
    deepStrictEqual((await imports.listJobs(me)).map((j) => j.name).sort(), ["from-cli", "shared"]);
  } finally {
    await imports.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("opening the import service leaves a live owner's queued run alone and fails it once that owner closed", async () => {
  const dir = await Deno.makeTempDir();
  const statePath = `${dir}/import.db`;
  const me = { name: "me@example.com" };
  const cli = ImportState.open(statePath);
  const job = cli.createJob({ name: "j", creatorName: me.name, sourceUrl: "memory://gw-live/e" });
  const queued = cli.queueRun({ runId: "run-live", jobId: job.id, date: "2023-01-01" });
  try {
    const first = createLocalImportService({ statePath, lake: { store: createMemoryStore() } });
    strictEqual((await first.getRun(me, job.id, queued.runId)).state, "QUEUED");
    await first.close();
    cli.close();
    const second = createLocalImportService({ statePath, lake: { store: createMemoryStore() } });
    try {
      strictEqual((await second.getRun(me, job.id, queued.runId)).state, "FAILED");
    } finally {
      await second.close();
    }
  } finally {
    cli.close();
    await Deno.remove(dir, { recursive: true });
  }
});

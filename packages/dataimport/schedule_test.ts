import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { DEFAULT_LAKE_TABLE, readDayManifest } from "@eventlake/storage/lake";
import { createMemoryStore } from "@eventlake/storage/memory";
import {
  backfillJob,
  dateRange,
  defaultImportDate,
  dueDates,
  importDeadline,
  mapConcurrent,
  runJob,
  runSchedule,
} from "./schedule.ts";
import { ImportState } from "./job.ts";
import { events, writeDay } from "./_import_testing.ts";
import { PermissionDeniedError, toEventlakeError } from "@eventlake/schema";

Deno.test("importDeadline() is the deadline on the next day in the job's time zone, DST included", () => {
  strictEqual(
    new Date(importDeadline("2023-01-01", { deadline: "13:00", timeZone: "Asia/Seoul" }))
      .toISOString(),
    "2023-01-02T04:00:00.000Z",
  );
  // New York: EST before 2023-03-12, EDT from then on.
  strictEqual(
    new Date(importDeadline("2023-03-10", { deadline: "09:00", timeZone: "America/New_York" }))
      .toISOString(),
    "2023-03-11T14:00:00.000Z",
  );
  strictEqual(
    new Date(importDeadline("2023-03-12", { deadline: "09:00", timeZone: "America/New_York" }))
      .toISOString(),
    "2023-03-13T13:00:00.000Z",
  );
  throws(() => importDeadline("2023-01-01", { deadline: "25:00", timeZone: "UTC" }), /HH:MM/);
  throws(
    () => importDeadline("2023-01-01", { deadline: "13:00", timeZone: "Mars/Olympus" }),
    /time zone/,
  );
});

Deno.test("defaultImportDate() is yesterday in the time zone", () => {
  const t = Date.UTC(2023, 0, 1, 16, 0); // 2023-01-02 01:00 KST
  strictEqual(defaultImportDate(t, "Asia/Seoul"), "2023-01-01");
  strictEqual(defaultImportDate(t, "UTC"), "2022-12-31");
});

Deno.test("dateRange() and dueDates() cover the range and skip finished days", () => {
  deepStrictEqual(dateRange("2024-02-28", "2024-03-01"), [
    "2024-02-28",
    "2024-02-29",
    "2024-03-01",
  ]);
  throws(() => dateRange("2023-01-02", "2023-01-01"), /the end is before the start/);
  const job = { startDate: "2023-01-01", deadline: "13:00", timeZone: "Asia/Seoul" };
  // 2023-01-04 12:59 KST: 01-02's deadline passed, 01-03's not yet.
  const now = Date.UTC(2023, 0, 4, 3, 59);
  deepStrictEqual(dueDates(job, now, new Set()), ["2023-01-01", "2023-01-02"]);
  deepStrictEqual(dueDates(job, now + 60_000, new Set(["2023-01-02"])), [
    "2023-01-01",
    "2023-01-03",
  ]);
});

Deno.test("mapConcurrent() never runs more than the bound at once", async () => {
  let running = 0, peak = 0;
  const out = await mapConcurrent([1, 2, 3, 4, 5, 6], async (n) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    return n;
  }, { concurrency: 2 });
  deepStrictEqual(out, [1, 2, 3, 4, 5, 6]);
  strictEqual(peak, 2);
  await rejects(mapConcurrent([1], (n) => Promise.resolve(n), { concurrency: 0 }), /concurrency/);
});

function setup() {
  const source = createMemoryStore();
  const lake = createMemoryStore();
  const state = ImportState.open(":memory:");
  const job = state.createJob({
    name: "daily",
    creatorName: "alice",
    sourceUrl: "memory://src/p",
    timeZone: "UTC",
    deadline: "06:00",
    startDate: "2023-01-01",
  });
  const open = () =>
    Promise.resolve({
      source: { store: source, prefix: "p/" },
      lake: { store: lake },
      close: () => Promise.resolve(),
    });
  return { source, lake, state, job, open };
}

Deno.test("runJob() records reports; backfillJob() runs a range", async () => {
  const { source, lake, state, job, open } = setup();
  await writeDay(source, "p/", "2023-01-01", [events(5, 1)]);
  await writeDay(source, "p/", "2023-01-02", [events(6, 2, "2023-01-02")]);
  const one = await runJob(state, job, "2023-01-01", { open, waitUntilDeadline: false });
  strictEqual(one.status, "SUCCEEDED");
  strictEqual(state.getRun(one.runId).rowsAccepted, 5);
  const all = await backfillJob(state, job, { open, from: "2023-01-01", to: "2023-01-03" });
  deepStrictEqual(all.map((r) => r.status), ["SUCCEEDED", "SUCCEEDED", "MISSING"]);
  strictEqual((await readDayManifest(lake, DEFAULT_LAKE_TABLE, "2023-01-02"))?.rows, 6);
  deepStrictEqual([...state.finishedDates(job.id)].sort(), [
    "2023-01-01",
    "2023-01-02",
    "2023-01-03",
  ]);
  strictEqual(state.listRuns({ job: "daily" }).length, 4);
});

Deno.test("runSchedule() catches up missed days once, skips finished ones, then waits for the next deadline", async () => {
  const { source, state, job, open } = setup();
  for (const d of ["2023-01-01", "2023-01-02", "2023-01-03"]) {
    await writeDay(source, "p/", d, [events(3, d.charCodeAt(9), d)]);
  }
  // Day 01 was already imported before the "restart".
  await runJob(state, job, "2023-01-01", { open, waitUntilDeadline: false });
  let clock = Date.UTC(2023, 0, 4, 7); // 01-03's deadline (01-04 06:00 UTC) has passed
  const stop = new AbortController();
  const ran: string[] = [];
  const sleeps: number[] = [];
  await runSchedule(state, {
    open,
    now: () => clock,
    onReport: (r) => void ran.push(`${r.date}:${r.status}`),
    sleep: (ms) => {
      sleeps.push(ms);
      clock += ms;
      if (sleeps.length === 2) stop.abort();
      return Promise.resolve();
    },
    maxSleepMs: 24 * 3600_000,
    signal: stop.signal,
  });
  // Catch-up ran 02 and 03; after sleeping to 01-05 06:00, 01-04 came due and is MISSING.
  deepStrictEqual(ran, ["2023-01-02:SUCCEEDED", "2023-01-03:SUCCEEDED", "2023-01-04:MISSING"]);
  strictEqual(sleeps[0], 23 * 3600_000);
  ok(state.finishedDates(job.id).has("2023-01-04"));
});

Deno.test("runSchedule() imports a MISSING day once its _SUCCESS comes late, within lateDays", async () => {
  const { source, state, job, open } = setup();
  await writeDay(source, "p/", "2023-01-01", [events(3, 1)]);
  let clock = Date.UTC(2023, 0, 3, 7); // 01-02's deadline (01-03 06:00 UTC) has passed
  const stop = new AbortController();
  const ran: string[] = [];
  const passes: (() => Promise<void>)[] = [
    // After the first pass, day 02 arrives late.
    () => writeDay(source, "p/", "2023-01-02", [events(4, 2, "2023-01-02")]),
    () => Promise.resolve(),
  ];
  await runSchedule(state, {
    open,
    now: () => clock,
    onReport: (r) => void ran.push(`${r.date}:${r.status}`),
    sleep: async () => {
      clock += 60_000;
      const next = passes.shift();
      if (next === undefined) stop.abort();
      else await next();
    },
    signal: stop.signal,
  });
  // 01 imported, 02 MISSING at its deadline; the next pass finds 02 ready and imports it; the
  // pass after that has nothing to do.
  deepStrictEqual(ran, ["2023-01-01:SUCCEEDED", "2023-01-02:MISSING", "2023-01-02:SUCCEEDED"]);
  deepStrictEqual(state.lateDates(job.id, "2023-01-01"), []);
  strictEqual(state.getRun(state.listRuns({ job: "daily" })[0].runId).rowsAccepted, 4);
});

Deno.test("runSchedule() leaves a MISSING day older than lateDays, and refuses a bad lateDays", async () => {
  const { source, state, job, open } = setup();
  await runJob(state, job, "2023-01-01", { open, waitUntilDeadline: false });
  deepStrictEqual(state.lateDates(job.id, "2023-01-01"), ["2023-01-01"]);
  await writeDay(source, "p/", "2023-01-01", [events(3, 1)]);
  const clock = Date.UTC(2023, 0, 10, 7); // 01-01 is 9 days back
  const stop = new AbortController();
  const ran: string[] = [];
  await runSchedule(state, {
    open,
    now: () => clock,
    lateDays: 3,
    jobs: ["daily"],
    onReport: (r) => void ran.push(`${r.date}:${r.status}`),
    sleep: () => {
      stop.abort();
      return Promise.resolve();
    },
    signal: stop.signal,
  });
  // The catch-up ran 02..09 (all MISSING); 01, ready now but 9 days back, was not looked at.
  ok(!ran.some((r) => r.startsWith("2023-01-01")), ran.join(","));
  strictEqual(state.lateDates(job.id, "2023-01-01")[0], "2023-01-01");
  for (const lateDays of [-1, 1.5, 400]) {
    await rejects(runSchedule(state, { open, lateDays }), /lateDays/);
  }
});

Deno.test("runJob() records a failed run with its source and lake URLs redacted", async () => {
  const { source, lake, state, job } = setup();
  await writeDay(source, "p/", "2023-01-01", [events(2, 1)]);
  // createJob() refuses such URLs, but a job may come from elsewhere (an older state, a caller):
  // the failed-run record must still not keep the secrets.
  const leaky = {
    ...job,
    sourceUrl: "s3://AKIAUSERNAME:hunter2pw@src-bucket/events/prefix?X-Amz-Signature=sigSECRET1" +
      "&region=ap-northeast-2&X-Amz-Credential=AKIACRED%2F20230101%2Fs3",
    lakeUrl: "gs://lakeuser:lakePW42@lake-bucket/lake/root?token=tokSECRET2&x=1",
  };
  const secrets = [
    "AKIAUSERNAME",
    "hunter2pw",
    "sigSECRET1",
    "AKIACRED",
    "lakeuser",
    "lakePW42",
    "tokSECRET2",
  ];
  const cases = [
    {
      // Opening the stores fails.
      open: () => Promise.reject(new PermissionDeniedError("the service may not list the source")),
      signal: undefined,
      code: "PERMISSION_DENIED",
      message: /may not list the source/,
    },
    {
      // The stores open, the run itself fails (aborted).
      open: () =>
        Promise.resolve({
          source: { store: source, prefix: "p/" },
          lake: { store: lake },
          close: () => Promise.resolve(),
        }),
      signal: AbortSignal.abort(),
      code: "ABORTED",
      message: /./,
    },
  ];
  for (const c of cases) {
    const before = new Set(state.listRuns({ job: "daily" }).map((r) => r.runId));
    await rejects(
      runJob(state, leaky, "2023-01-01", {
        open: c.open,
        signal: c.signal,
        waitUntilDeadline: false,
      }),
      (e: Error & { code?: string }) => toEventlakeError(e).code === c.code,
    );
    const added = state.listRuns({ job: "daily" }).filter((r) => !before.has(r.runId));
    strictEqual(added.length, 1, c.code);
    strictEqual(added[0].status, "FAILED");
    const record = state.getRun(added[0].runId);
    strictEqual(record.status, "FAILED");
    strictEqual(record.date, "2023-01-01");
    strictEqual(record.error?.code, c.code);
    ok(c.message.test(record.error?.message ?? ""), record.error?.message);
    const json = JSON.stringify(record);
    for (const secret of secrets) {
      ok(!json.includes(secret), `${c.code}: "${secret}" leaked: ${json}`);
    }
    strictEqual(
      record.source,
      "s3://***@src-bucket/events/prefix?X-Amz-Signature=***&region=ap-northeast-2&X-Amz-Credential=***",
    );
    strictEqual(record.lake, "gs://***@lake-bucket/lake/root?token=***&x=1");
  }
});

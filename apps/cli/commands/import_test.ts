import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { generateEvents } from "@eventlake/schema/testing";
import { writeEvents } from "@eventlake/parquet";
import { run } from "../cli.ts";
import { memoryIo } from "../_testing.ts";

async function sourceDay(dir: string, date: string, rows: number, ready = true): Promise<void> {
  const day = join(dir, `dt=${date}`);
  await Deno.mkdir(day, { recursive: true });
  const file = await Deno.open(join(day, "000000000000.parquet"), { write: true, create: true });
  await writeEvents(generateEvents(rows, { seed: rows, day: date }), file.writable);
  if (ready) await Deno.writeFile(join(day, "_SUCCESS"), new Uint8Array(0));
}

async function withHome(fn: (home: string, src: string) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "eventlake-import-cli-" });
  try {
    await fn(home, join(home, "src"));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("eventlake import run --source --date --json lands the day and prints the report", async () => {
  await withHome(async (home, src) => {
    await sourceDay(src, "2023-01-01", 40);
    const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
    const code = await run(
      ["import", "run", "--source", `file://${src}`, "--date", "2023-01-01", "--json"],
      io,
    );
    strictEqual(code, 0, io.stderrText());
    const report = JSON.parse(io.stdoutText());
    strictEqual(report.status, "SUCCEEDED");
    strictEqual(report.rowsAccepted, 40);
    const manifest = JSON.parse(
      await Deno.readTextFile(
        join(home, "lake/data_catalog/default/events/dt=2023-01-01/_MANIFEST.json"),
      ),
    );
    strictEqual(manifest.rows, 40);
    // The run is stored: status lists it.
    const io2 = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(await run(["import", "status"], io2), 0);
    ok(io2.stdoutText().includes(report.runId), io2.stdoutText());
  });
});

Deno.test("eventlake import run exits 3 with a MISSING report when _SUCCESS is absent", async () => {
  await withHome(async (home, src) => {
    await sourceDay(src, "2023-01-01", 5, false);
    const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
    const code = await run(
      ["import", "run", "--source", `file://${src}`, "--date", "2023-01-01"],
      io,
    );
    strictEqual(code, 3);
    ok(io.stdoutText().includes("MISSING"), io.stdoutText());
    ok(io.stdoutText().includes("_SUCCESS is missing"), io.stdoutText());
  });
});

Deno.test("eventlake import job create|list|delete and backfill over stored jobs", async () => {
  await withHome(async (home, src) => {
    await sourceDay(src, "2023-01-01", 10);
    await sourceDay(src, "2023-01-02", 12);
    const env = { EVENTLAKE_HOME: home, USER: "alice" };
    let io = memoryIo({ env });
    strictEqual(
      await run([
        "import",
        "job",
        "create",
        "--name",
        "daily",
        "--source",
        `file://${src}`,
        "--deadline",
        "09:30",
        "--time-zone",
        "UTC",
        "--dedup-days",
        "3",
      ], io),
      0,
      io.stderrText(),
    );
    io = memoryIo({ env });
    strictEqual(await run(["import", "job", "list", "--json"], io), 0);
    const jobs = JSON.parse(io.stdoutText());
    deepStrictEqual(
      jobs.map((j: Record<string, unknown>) => [j.name, j.deadline, j.creatorName]),
      [["daily", "09:30", "alice"]],
    );
    io = memoryIo({ env });
    strictEqual(
      await run([
        "import",
        "backfill",
        "--job",
        "daily",
        "--from",
        "2023-01-01",
        "--to",
        "2023-01-03",
        "--json",
      ], io),
      3, // 2023-01-03 has no partition: MISSING
    );
    const reports = JSON.parse(io.stdoutText());
    deepStrictEqual(reports.map((r: { status: string }) => r.status), [
      "SUCCEEDED",
      "SUCCEEDED",
      "MISSING",
    ]);
    io = memoryIo({ env });
    strictEqual(await run(["import", "job", "delete", "daily"], io), 0);
    io = memoryIo({ env });
    strictEqual(await run(["import", "job", "delete", "daily"], io), 3);
    ok(io.stderrText().includes(`Cannot find import job "daily"`), io.stderrText());
  });
});

Deno.test("eventlake import check --source shows the sample part's schema", async () => {
  await withHome(async (home, src) => {
    await sourceDay(src, "2023-01-01", 3);
    const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(
      await run(["import", "check", "--source", `file://${src}`], io),
      0,
      io.stderrText(),
    );
    const out = io.stdoutText();
    ok(out.includes("2023-01-01"), out);
    ok(out.includes("metric_value"), out);
    const empty = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(await run(["import", "check", "--source", `file://${home}/nothing`], empty), 5);
  });
});

Deno.test("eventlake import refuses unknown actions, missing flags and credentials in URLs", async () => {
  await withHome(async (home) => {
    const env = { EVENTLAKE_HOME: home };
    let io = memoryIo({ env });
    strictEqual(await run(["import", "launch"], io), 2);
    ok(io.stderrText().includes(`Unknown import action "launch"`));
    io = memoryIo({ env });
    strictEqual(await run(["import", "backfill", "--job", "x"], io), 3);
    io = memoryIo({ env });
    strictEqual(await run(["import", "run", "--date", "2023-01-01"], io), 2);
    ok(io.stderrText().includes("needs --source"), io.stderrText());
    io = memoryIo({ env });
    strictEqual(await run(["import", "check", "--source", "s3://AKIA:secret@bucket/p"], io), 2);
    ok(!io.stderrText().includes("secret"), io.stderrText());
    io = memoryIo({ env });
    strictEqual(await run(["import", "schedule", "--late-days", "seven"], io), 2);
    ok(io.stderrText().includes(`"--late-days" must be a whole number`), io.stderrText());
  });
});

Deno.test("eventlake import run accepts folder paths for --source and --lake-url, relative to the working directory", async () => {
  await withHome(async (home, src) => {
    await sourceDay(src, "2023-01-01", 12);
    const io = memoryIo({ env: { EVENTLAKE_HOME: home }, cwd: home });
    const code = await run(
      [
        "import",
        "run",
        "--source",
        "./src",
        "--lake-url",
        "my lake",
        "--date",
        "2023-01-01",
        "--json",
      ],
      io,
    );
    strictEqual(code, 0, io.stderrText());
    strictEqual(JSON.parse(io.stdoutText()).rowsAccepted, 12);
    const manifest = JSON.parse(
      await Deno.readTextFile(
        join(home, "my lake/data_catalog/default/events/dt=2023-01-01/_MANIFEST.json"),
      ),
    );
    strictEqual(manifest.rows, 12);
    const check = memoryIo({ env: { EVENTLAKE_HOME: home }, cwd: home });
    strictEqual(await run(["import", "check", "--source", "src"], check), 0, check.stderrText());
  });
});

import { ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { eventToJson } from "@eventlake/schema";
import { generateEvents } from "@eventlake/schema/testing";
import { memoryIo } from "../_testing.ts";
import { run } from "../cli.ts";

async function withLake(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-cli-validate-" });
  try {
    const stdin = [
      ...generateEvents(5, { day: "2023-01-01" }),
      ...generateEvents(5, { day: "2023-01-02", seed: 2 }),
    ].map((e) => JSON.stringify(eventToJson(e))).join("\n");
    strictEqual(await run(["export", "-", "--to", "lake"], memoryIo({ cwd: dir, stdin })), 0);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("validate prints OK per day and exits 0 for days an export wrote", async () => {
  await withLake(async (dir) => {
    const io = memoryIo({ cwd: dir });
    strictEqual(
      await run(["validate", "lake", "--from", "2023-01-01", "--to", "2023-01-31"], io),
      0,
    );
    const out = io.stdoutText();
    ok(out.includes("dt=2023-01-01  OK       1 part, 5 rows"), out);
    ok(out.includes("dt=2023-01-02  OK"), out);
    ok(out.includes("All 2 days can be imported"), out);
  });
});

Deno.test("validate exits 2 and lists the problem with its file when a day is broken", async () => {
  await withLake(async (dir) => {
    await Deno.remove(join(dir, "lake/dt=2023-01-02/_SUCCESS"));
    await Deno.writeTextFile(join(dir, "lake/dt=2023-01-01/_SUCCESS"), "x");
    const io = memoryIo({ cwd: dir });
    strictEqual(
      await run(["validate", "lake", "--date", "2023-01-01", "--date", "2023-01-02"], io),
      2,
    );
    const out = io.stdoutText();
    ok(out.includes("_SUCCESS must be 0 bytes, it has 1"), out);
    ok(out.includes('Partition "dt=2023-01-02" has no _SUCCESS'), out);
    ok(out.includes("2 of 2 days have errors"), out);
  });
});

Deno.test("validate --json prints the report; a missing day is an error", async () => {
  await withLake(async (dir) => {
    const io = memoryIo({ cwd: dir });
    strictEqual(await run(["validate", "lake", "--date", "2023-03-01", "--json"], io), 2);
    const report = JSON.parse(io.stdoutText());
    strictEqual(report.ok, false);
    strictEqual(report.days[0].verdict, "missing");
  });
});

Deno.test("validate refuses unclear dates with exit 2", async () => {
  for (
    const [args, message] of [
      [["validate", "lake"], /Missing --date/],
      [["validate", "lake", "--from", "2023-01-01"], /Missing --to/],
      [["validate", "lake", "--date", "2023-01-01", "--to", "2023-01-02"], /not both/],
    ] as [string[], RegExp][]
  ) {
    const io = memoryIo({ cwd: "/tmp" });
    strictEqual(await run(args, io), 2, args.join(" "));
    ok(message.test(io.stderrText()), io.stderrText());
  }
});

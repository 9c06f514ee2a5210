/**
 * End to end on a local folder: `eventlake export` of every input format (files, a glob and
 * stdin, good and bad records mixed), then `eventlake validate`, in-process and through
 * `deno run` of the CLI's entry module.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bytesSource, readEvents } from "@eventlake/parquet";
import type { Event } from "@eventlake/schema";
import { createLocalStore, listPartitionParts } from "@eventlake/storage";
import { memoryIo } from "../apps/cli/_testing.ts";
import { run } from "../apps/cli/cli.ts";
import { BAD_RECORDS, goodEvents, writeInputs } from "./_export_validate_helpers.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

async function readLake(root: string, date: string): Promise<Event[]> {
  const store = createLocalStore(root);
  const out: Event[] = [];
  for (const part of await listPartitionParts(store, "", date)) {
    for await (const e of readEvents(bytesSource(await store.read(part.key)))) out.push(e);
  }
  await store.close();
  return out;
}

function sortById(events: Event[]): Event[] {
  return [...events].sort((a, b) => a.insert_id < b.insert_id ? -1 : 1);
}

Deno.test("export of NDJSON, JSON array, CSV, Parquet and stdin, then validate: same events back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-e2e-local-" });
  try {
    const events = goodEvents(300);
    const { files, stdin, bad } = await writeInputs(dir, events);

    // Too many rejects: both days lose a record, neither is marked ready, exit 2.
    let io = memoryIo({ cwd: dir, stdin });
    strictEqual(await run(["export", ...files, "-", "--to", "lake", "--json"], io), 2);
    let summary = JSON.parse(io.stdoutText());
    strictEqual(summary.rejected, bad);
    deepStrictEqual(summary.days.map((d: { committed: boolean }) => d.committed), [false, false]);
    const rejects = (await Deno.readTextFile(join(dir, "eventlake-rejects.ndjson"))).trim()
      .split("\n").map((l) => JSON.parse(l));
    deepStrictEqual(rejects.map((r) => r.input), ["a.ndjson", "b.json", "c.csv", "stdin"]);
    deepStrictEqual([rejects[0].line, rejects[2].line, rejects[3].line], [121, 122, 121]);
    // The JSON array is pretty-printed: the line is where the bad element starts.
    const jsonLines = (await Deno.readTextFile(join(dir, "b.json"))).split("\n");
    strictEqual(jsonLines[rejects[1].line - 1], " {");
    ok(jsonLines.slice(rejects[1].line, rejects[1].line + 12).join("").includes("not-a-uuid"));
    deepStrictEqual(rejects[1].record, BAD_RECORDS[1]);
    io = memoryIo({ cwd: dir });
    strictEqual(await run(["validate", "lake", "--date", "2023-01-01"], io), 2);
    ok(io.stdoutText().includes("has no _SUCCESS"), io.stdoutText());

    // Within --max-rejects: every day is committed; a glob picks the same files.
    io = memoryIo({ cwd: dir, stdin });
    strictEqual(
      await run(["export", "[abcd].*", "-", "--to", "lake", "--max-rejects", "4", "--json"], io),
      0,
    );
    summary = JSON.parse(io.stdoutText());
    deepStrictEqual(
      summary.days.map((d: { date: string; rows: number; committed: boolean }) => [
        d.date,
        d.rows,
        d.committed,
      ]),
      [["2023-01-01", 300, true], ["2023-01-02", 300, true]],
    );
    deepStrictEqual(summary.rejectsByRule, { non_empty: 2, uuid: 2 });

    io = memoryIo({ cwd: dir });
    strictEqual(
      await run(["validate", "lake", "--from", "2023-01-01", "--to", "2023-01-02"], io),
      0,
    );
    ok(io.stdoutText().includes("All 2 days can be imported"), io.stdoutText());

    for (const date of ["2023-01-01", "2023-01-02"]) {
      const back = await readLake(join(dir, "lake"), date);
      const expected = events.filter((e) => new Date(e.ts).toISOString().startsWith(date));
      deepStrictEqual(sortById(back), sortById(expected));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("export --date keeps one day, rejecting the records of the others", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-e2e-date-" });
  try {
    const events = goodEvents(20);
    const { stdin } = await writeInputs(dir, events);
    const io = memoryIo({ cwd: dir, stdin });
    const code = await run(
      ["export", "a.ndjson", "--to", "lake", "--date", "2023-01-02", "--json", "--rejects", "-"],
      io,
    );
    strictEqual(code, 2); // a.ndjson holds 2023-01-01 records: rejected by --date
    const summary = JSON.parse(io.stdoutText());
    ok(summary.rejectsByRule.date > 0);
    strictEqual(
      summary.days.find((d: { date: string }) => d.date === "2023-01-02").committed,
      true,
    );
    const missing = memoryIo({ cwd: dir });
    strictEqual(await run(["validate", "lake", "--date", "2023-01-01", "--json"], missing), 2);
    strictEqual(JSON.parse(missing.stdoutText()).days[0].verdict, "missing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno run of the CLI: export from a piped stdin, validate, exit codes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-e2e-proc-" });
  try {
    const events = goodEvents(50);
    const { stdin } = await writeInputs(dir, events);
    const cli = (args: string[], input?: string) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(ROOT, "apps/cli/main.ts"), ...args],
        cwd: dir,
        stdin: input === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1", RUST_BACKTRACE: "" },
      }).spawn();
      if (input !== undefined) {
        const writer = child.stdin.getWriter();
        writer.write(new TextEncoder().encode(input)).then(() => writer.close());
      }
      return child.output();
    };
    let out = await cli(["export", "-", "--to", "lake", "--max-rejects", "1"], stdin);
    strictEqual(out.code, 0, new TextDecoder().decode(out.stderr));
    ok(new TextDecoder().decode(out.stdout).includes("rejected, at most 1 allowed"));
    out = await cli(["validate", "lake", "--from", "2023-01-01", "--to", "2023-12-31", "--json"]);
    strictEqual(out.code, 0, new TextDecoder().decode(out.stdout));
    strictEqual(JSON.parse(new TextDecoder().decode(out.stdout)).ok, true);
    await Deno.writeTextFile(join(dir, "lake/dt=2023-01-01/notes.parquet"), "x");
    out = await cli(["validate", "lake", "--date", "2023-01-01"]);
    strictEqual(out.code, 2);
    ok(new TextDecoder().decode(out.stdout).includes("its rows would be lost"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

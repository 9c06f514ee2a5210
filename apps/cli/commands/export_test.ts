import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { eventToJson } from "@eventlake/schema";
import { generateEvents } from "@eventlake/schema/testing";
import { memoryIo } from "../_testing.ts";
import { run } from "../cli.ts";
import { storeConfigFromEnv, storeUrlArg } from "./export.ts";

function lines(n: number, day = "2023-01-01"): string {
  return generateEvents(n, { day }).map((e) => JSON.stringify(eventToJson(e))).join("\n") + "\n";
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-cli-export-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("export reads stdin, writes a ready day into a folder and prints the summary", async () => {
  await withDir(async (dir) => {
    const io = memoryIo({ cwd: dir, stdin: lines(5) });
    strictEqual(await run(["export", "-", "--to", "lake"], io), 0);
    const out = io.stdoutText();
    ok(out.startsWith(`Exported 5 of 5 records to file://${dir}/lake`), out);
    ok(out.includes("ready (_SUCCESS written)"), out);
    strictEqual((await Deno.stat(join(dir, "lake/dt=2023-01-01/_SUCCESS"))).size, 0);
    await Deno.stat(join(dir, "lake/dt=2023-01-01/000000000000.parquet"));
    // Progress goes to stderr only.
    ok(io.stderrText().includes("Exporting: 5 records read, 0 rejected"), io.stderrText());
  });
});

Deno.test("export --json prints the summary object on stdout and nothing else", async () => {
  await withDir(async (dir) => {
    const io = memoryIo({ cwd: dir, stdin: lines(3) });
    strictEqual(await run(["export", "-", "--to", `file://${dir}/lake`, "--json"], io), 0);
    const summary = JSON.parse(io.stdoutText());
    strictEqual(summary.ok, true);
    deepStrictEqual(summary.days.map((d: { date: string; rows: number }) => [d.date, d.rows]), [[
      "2023-01-01",
      3,
    ]]);
  });
});

Deno.test("export exits 2 past --max-rejects, withholds _SUCCESS and writes the reject file", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "in.ndjson"), lines(4) + '{"event_key":"x"}\n');
    const io = memoryIo({ cwd: dir });
    strictEqual(await run(["export", "in.ndjson", "--to", "lake"], io), 2);
    ok(io.stderrText().includes("1 records rejected, more than --max-rejects 0"), io.stderrText());
    ok(io.stdoutText().includes("Rejected records: eventlake-rejects.ndjson"), io.stdoutText());
    const rejects = (await Deno.readTextFile(join(dir, "eventlake-rejects.ndjson"))).trim().split(
      "\n",
    );
    strictEqual(rejects.length, 1);
    const line = JSON.parse(rejects[0]);
    strictEqual(line.input, "in.ndjson");
    strictEqual(line.line, 5);
    deepStrictEqual(line.record, { event_key: "x" });
    let success = true;
    try {
      await Deno.stat(join(dir, "lake/dt=2023-01-01/_SUCCESS"));
    } catch {
      success = false;
    }
    strictEqual(success, false);

    const again = memoryIo({ cwd: dir });
    strictEqual(
      await run([
        "export",
        "in.ndjson",
        "--to",
        "lake",
        "--max-rejects",
        "1",
        "--rejects",
        "r.ndjson",
      ], again),
      0,
    );
    strictEqual((await Deno.stat(join(dir, "lake/dt=2023-01-01/_SUCCESS"))).size, 0);
  });
});

Deno.test("export refuses bad flags with exit 2 and a message naming the flag", async () => {
  const cases: [string[], RegExp][] = [
    [["export", "-"], /Missing --to <url>/],
    [["export", "-", "--to", "memory://x", "--max-rejects", "many"], /--max-rejects/],
    [["export", "-", "--to", "memory://x", "--format", "xml"], /--format: expected one of/],
    [["export", "-", "--to", "memory://x", "--part-bytes", "lots"], /--part-bytes/],
    [["export", "-", "--to", "memory://x", "--date", "2023-02-30"], /no such calendar day/],
  ];
  for (const [args, message] of cases) {
    const io = memoryIo({ stdin: "" });
    strictEqual(await run(args, io), 2, args.join(" "));
    ok(message.test(io.stderrText()), io.stderrText());
  }
  const io = memoryIo({ stdin: "" });
  strictEqual(await run(["export", "/nonexistent/x.ndjson", "--to", "memory://x"], io), 3);
  ok(io.stderrText().includes('Cannot read "/nonexistent/x.ndjson": no such file'));
});

Deno.test("export prints plain progress lines when stderr is not a terminal, a bar when it is", async () => {
  await withDir(async (dir) => {
    // Two batches of 1024 records or more make progress lines; 100,000 records would be slow, so
    // the plain mode is checked on its final line and the TTY mode on its carriage returns.
    const plain = memoryIo({ cwd: dir, stdin: lines(10) });
    strictEqual(await run(["export", "-", "--to", "lake", "--rejects", "-"], plain), 0);
    ok(!plain.stderrText().includes("\r"));
    const tty = memoryIo({ cwd: dir, stdin: lines(10), isTTY: { stderr: true } });
    strictEqual(await run(["export", "-", "--to", "lake2", "--rejects", "-"], tty), 0);
    ok(tty.stderrText().includes("\r"), JSON.stringify(tty.stderrText()));
  });
});

Deno.test("storeUrlArg() and storeConfigFromEnv() turn paths and environment into store settings", () => {
  strictEqual(storeUrlArg("gs://b/p", "/x"), "gs://b/p");
  strictEqual(storeUrlArg("/abs/lake", "/x"), "file:///abs/lake");
  deepStrictEqual(
    storeConfigFromEnv("s3://b/p", {
      AWS_ENDPOINT_URL_S3: "http://127.0.0.1:1",
      AWS_ACCESS_KEY_ID: "id",
      AWS_SECRET_ACCESS_KEY: "secret",
    }),
    {
      s3: {
        endpoint: "http://127.0.0.1:1",
        forcePathStyle: true,
        region: "us-east-1",
        credentials: { accessKeyId: "id", secretAccessKey: "secret" },
      },
    },
  );
  deepStrictEqual(storeConfigFromEnv("gcs://b/p", { STORAGE_EMULATOR_HOST: "127.0.0.1:9" }), {
    gcs: { apiEndpoint: "http://127.0.0.1:9" },
  });
  deepStrictEqual(storeConfigFromEnv("file:///x", { AWS_REGION: "x" }), {});
});

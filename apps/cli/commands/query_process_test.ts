/**
 * The client commands as a subprocess: `deno run -A apps/cli/main.ts …`, the way the compiled
 * binary runs them (`deno compile` needs a download unavailable here).
 */
import { ok, strictEqual } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { makeHome } from "../_client_testing.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

function eventlake(args: string[], home: string, stdin?: string): Deno.ChildProcess {
  const env: Record<string, string> = { EVENTLAKE_HOME: home, NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "DENO_NO_UPDATE_CHECK"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", MAIN, ...args],
    env,
    clearEnv: true,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(stdin)).then(() => writer.close());
  }
  return child;
}

Deno.test("eventlake query as a process: 2,500 CSV rows on stdout, the summary on stderr, exit 0; bad SQL exit 2", async () => {
  const home = await makeHome();
  try {
    const out = await eventlake(["query", "SELECT * FROM range(2500)", "--format", "csv"], home)
      .output();
    const stderr = new TextDecoder().decode(out.stderr);
    strictEqual(out.code, 0, stderr);
    const lines = new TextDecoder().decode(out.stdout).split("\r\n");
    strictEqual(lines.length, 2502); // header, 2,500 rows, "" after the last CRLF
    strictEqual(lines[2500], "2499");
    ok(stderr.includes("2,500 rows"), stderr);

    const bad = await eventlake(["query"], home, "SELEC 1").output();
    strictEqual(bad.code, 2);
    ok(new TextDecoder().decode(bad.stderr).includes("FAILED"));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("eventlake query as a process: SIGINT aborts the running query, exit 130, and the history says ABORTED", async () => {
  const home = await makeHome();
  try {
    const child = eventlake(["query", "SELECT sum(i) FROM range(1000000000000) t(i)"], home);
    // Wait until the query runs: its state is in the shared SQLite history.
    const { DatabaseSync } = await import("node:sqlite");
    const deadline = Date.now() + 60_000;
    for (;;) {
      let running = false;
      try {
        const db = new DatabaseSync(`${home}/dataquery.sqlite`, { readOnly: true });
        try {
          running = db.prepare("SELECT count(*) AS n FROM queries WHERE state = 'RUNNING'")
            .get()?.n === 1;
        } finally {
          db.close();
        }
      } catch {
        running = false; // not created yet
      }
      if (running) break;
      if (Date.now() > deadline) throw new Error("The query never started");
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGINT");
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    strictEqual(out.code, 130, stderr);
    ok(/query "[\w-]+" was aborted/.test(stderr), stderr);
    const list = await eventlake(["queries", "list", "--json"], home).output();
    const page = JSON.parse(new TextDecoder().decode(list.stdout));
    strictEqual(page.content[0].queryInfo.state, "ABORTED");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

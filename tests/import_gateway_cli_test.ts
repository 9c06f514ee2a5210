/**
 * A CLI import next to a running gateway: the CLI has no query service open, yet the gateway's
 * next query sees the new day and a reused result is voided, because every landing rewrites the
 * table's `_VERSION` token, which the query service fingerprints. Both share `import.db`.
 */
import { ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { writeEvents } from "@eventlake/parquet";
import { generateEvents } from "@eventlake/schema/testing";
import { startServer } from "../apps/gateway/server.ts";
import { run } from "../apps/cli/cli.ts";
import { memoryIo } from "../apps/cli/_testing.ts";

interface QueryInfo {
  queryId: string;
  state: string;
  /** False for a reused result (answered without scanning). */
  isScanned?: boolean;
}

async function sourceDay(dir: string, date: string, rows: number): Promise<void> {
  const day = join(dir, `dt=${date}`);
  await Deno.mkdir(day, { recursive: true });
  const file = await Deno.open(join(day, "000000000000.parquet"), { write: true, create: true });
  await writeEvents(generateEvents(rows, { seed: rows, day: date }), file.writable);
  await Deno.writeFile(join(day, "_SUCCESS"), new Uint8Array(0));
}

Deno.test({
  name:
    "a CLI import makes a running gateway's next query see the new day and voids a reused result",
  // DuckDB's native instance keeps threads between tests.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "eventlake-import-gw-cli-" });
    const server = await startServer({
      home,
      port: 0,
      handleSignals: false,
      demoEvents: 50,
      writeLog: () => {},
    });
    try {
      const boot = server.bootstrap!;
      const headers = {
        "Credential-ID": boot.credentialId,
        "Credential-Secret": boot.credentialSecret,
        "Content-Type": "application/json",
      };
      const count = async (): Promise<{ n: number; info: QueryInfo }> => {
        const submit = await fetch(`${server.url}/v1/data-query/query`, {
          method: "POST",
          headers,
          body: JSON.stringify({
            query: "select count(distinct insert_id) as n from data_catalog.default.events",
            resultConfig: { bucketName: "results", path: "cli-import" },
            reuseConfig: { reuse: true, maxReuseAge: 60 },
          }),
        });
        strictEqual(submit.status, 202, await submit.clone().text());
        const id = (await submit.json()).queryInfo.queryId as string;
        for (let i = 0; i < 400; i++) {
          const body = await (await fetch(`${server.url}/v1/data-query/query/${id}?page=0`, {
            headers,
          })).json();
          if (!["QUEUED", "RUNNING"].includes(body.queryInfo.state)) {
            strictEqual(body.queryInfo.state, "FINISHED", JSON.stringify(body.queryInfo));
            return { n: Number(body.queryData[0][0]), info: body.queryInfo };
          }
          await new Promise((r) => setTimeout(r, 25));
        }
        throw new Error(`Query "${id}" did not end`);
      };

      const before = await count();
      strictEqual(before.n, 50);
      const reused = await count();
      strictEqual(before.info.isScanned, true);
      strictEqual(reused.info.isScanned, false, "an unchanged lake reuses the result");

      // The CLI imports another day into the same home's lake, in its own state handle.
      const src = join(home, "cli-src");
      await sourceDay(src, "2023-01-01", 30);
      const io = memoryIo({ env: { EVENTLAKE_HOME: home }, cwd: home });
      const code = await run(
        ["import", "run", "--source", "./cli-src", "--date", "2023-01-01", "--json"],
        io,
      );
      strictEqual(code, 0, io.stderrText());

      const after = await count();
      strictEqual(after.n, 80, "the gateway's next query sees the CLI's day");
      strictEqual(after.info.isScanned, true, "the landing voided reuse");

      // One job store: the CLI lists the gateway's demo job and run.
      const jobs = memoryIo({ env: { EVENTLAKE_HOME: home } });
      strictEqual(await run(["import", "job", "list"], jobs), 0, jobs.stderrText());
      ok(jobs.stdoutText().includes("demo"), jobs.stdoutText());
    } finally {
      await server.shutdown();
      await server.finished;
      await Deno.remove(home, { recursive: true });
    }
  },
});

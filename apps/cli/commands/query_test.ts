import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { run } from "../cli.ts";
import { memoryIo } from "../_testing.ts";
import { makeHome, startGateway, until } from "../_client_testing.ts";
import { parseCsvStream } from "../_client_csv.ts";
import { exitCodeOf } from "../exit_codes.ts";
import { endedError } from "./query.ts";
import type { QueryResultResponse } from "@eventlake/dataquery";

const SLOW_SQL = "SELECT sum(i) FROM range(1000000000000) t(i)";

async function csvRecords(text: string): Promise<(string | null)[][]> {
  const records: (string | null)[][] = [];
  const stream = ReadableStream.from([new TextEncoder().encode(text)]);
  for await (const r of parseCsvStream(stream)) records.push(r);
  return records;
}

/** Every file path under `dir` (recursively; none when it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) out.push(...await filesUnder(path));
      else out.push(path);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return out;
}

function checkRange(format: string, out: string, n: number): void {
  if (format === "ndjson") {
    const lines = out.trimEnd().split("\n").map((l) => JSON.parse(l));
    strictEqual(lines.length, n);
    deepStrictEqual(lines[n - 1], { range: String(n - 1) });
  } else if (format === "json") {
    const rows = JSON.parse(out);
    strictEqual(rows.length, n);
    deepStrictEqual(rows[0], { range: "0" });
  } else if (format === "table") {
    const lines = out.trimEnd().split("\n");
    strictEqual(lines.length, n + 2);
    strictEqual(lines[0].trim(), "range");
    strictEqual(lines[n + 1].trim(), String(n - 1));
  }
}

Deno.test("query (embedded) prints all 2,500 rows of range(2500) in every format, not only 1,000", async () => {
  const home = await makeHome();
  try {
    for (const format of ["csv", "json", "ndjson", "table"]) {
      const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
      const code = await run(["query", "SELECT * FROM range(2500)", "--format", format], io);
      strictEqual(code, 0, io.stderrText());
      const out = io.stdoutText();
      if (format === "csv") {
        const records = await csvRecords(out);
        strictEqual(records.length, 2501);
        deepStrictEqual(records[0], ["range"]);
        deepStrictEqual(records[2500], ["2499"]);
      } else {
        checkRange(format, out, 2500);
      }
      ok(io.stderrText().includes("2,500 rows"), io.stderrText());
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("query (embedded) reads the lake table, keeps NULL apart from the empty string, and writes --out", async () => {
  const home = await makeHome(30);
  try {
    const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
    const sql = "SELECT event_key, count(*) AS n, sum(metric_value) AS total " +
      "FROM data_catalog.default.events WHERE dt = '2023-01-01' GROUP BY 1 ORDER BY 1";
    strictEqual(await run(["query", sql, "--format", "csv"], io), 0, io.stderrText());
    deepStrictEqual(await csvRecords(io.stdoutText()), [
      ["event_key", "n", "total"],
      ["buy", "10", "232.500000"],
      ["click", "10", "217.500000"],
      ["view", "10", "202.500000"],
    ]);

    const out = join(home, "out.ndjson");
    const io2 = memoryIo({ env: { EVENTLAKE_HOME: home }, cwd: home });
    const code = await run(
      [
        "query",
        "SELECT NULL AS a, '' AS b, 'x,\"y\"' AS c",
        "--format",
        "csv",
        "--out",
        "out.ndjson",
      ],
      io2,
    );
    strictEqual(code, 0, io2.stderrText());
    strictEqual(io2.stdoutText(), "");
    strictEqual(await Deno.readTextFile(out), 'a,b,c\r\n,"","x,""y"""\r\n');
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("query reads the SQL from --file and from stdin, and --json means --format json", async () => {
  const home = await makeHome();
  try {
    await Deno.writeTextFile(join(home, "q.sql"), "SELECT 7 AS seven");
    const io = memoryIo({ env: { EVENTLAKE_HOME: home }, cwd: home });
    strictEqual(await run(["query", "-f", "q.sql", "--json"], io), 0, io.stderrText());
    deepStrictEqual(JSON.parse(io.stdoutText()), [{ seven: "7" }]);

    const io2 = memoryIo({ env: { EVENTLAKE_HOME: home }, stdin: "SELECT 'piped' AS s\n" });
    strictEqual(await run(["query", "--format", "ndjson"], io2), 0, io2.stderrText());
    strictEqual(io2.stdoutText(), '{"s":"piped"}\n');
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("query rejects bad input before running: empty SQL, both SQL and --file, unknown format, --reuse out of range (exit 2)", async () => {
  const home = await makeHome();
  try {
    const cases: [string[], RegExp][] = [
      [["query", "   "], /The SQL is empty/],
      [["query", "SELECT 1", "-f", "x.sql"], /not both/],
      [
        ["query", "SELECT 1", "--format", "xml"],
        /Invalid format "xml": expected table, csv, json, ndjson/,
      ],
      [["query", "SELECT 1", "--reuse", "2000"], /--reuse "2000"/],
      [["query", "SELECT 1", "--password", "x"], /Unknown option "--password"/],
    ];
    for (const [args, message] of cases) {
      const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
      strictEqual(await run(args, io), 2, args.join(" "));
      ok(message.test(io.stderrText()), io.stderrText());
    }
    const io = memoryIo({ env: { EVENTLAKE_HOME: home }, cwd: home });
    strictEqual(await run(["query", "-f", "missing.sql"], io), 3);
    ok(io.stderrText().includes('Cannot read SQL file "missing.sql"'));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("query with bad SQL or a missing table exits 2 with the FAILED reason, and the query stays in history", async () => {
  const home = await makeHome();
  try {
    const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(await run(["query", "SELEC 1"], io), 2);
    ok(/Query "[\w-]+" FAILED: .*syntax error/i.test(io.stderrText()), io.stderrText());
    strictEqual(io.stdoutText(), "");

    const io2 = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(await run(["query", "SELECT * FROM data_catalog.default.nope"], io2), 2);
    ok(io2.stderrText().includes("FAILED"), io2.stderrText());

    const io3 = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(await run(["queries", "list", "--state", "FAILED", "--json"], io3), 0);
    strictEqual(JSON.parse(io3.stdoutText()).totalElements, 2);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("query --reuse answers a repeated query from the earlier result", async () => {
  const home = await makeHome();
  try {
    const first = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(
      await run(["query", "SELECT 1 AS one", "--reuse", "60", "--format", "csv"], first),
      0,
    );
    const second = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(
      await run(["query", "SELECT 1 AS one", "--reuse", "60", "--format", "csv"], second),
      0,
    );
    strictEqual(second.stdoutText(), "one\r\n1\r\n");
    ok(second.stderrText().includes("reused "), second.stderrText());
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("query (embedded): Ctrl-C aborts the running query, which ends ABORTED, and exits 130", async () => {
  const home = await makeHome();
  try {
    const controller = new AbortController();
    const io = memoryIo({
      env: { EVENTLAKE_HOME: home },
      signal: controller.signal,
      isTTY: { stderr: true },
    });
    const done = run(["query", SLOW_SQL], io);
    await until(() => io.stderrText().includes("RUNNING"));
    controller.abort();
    strictEqual(await done, 130);
    const id = /Query ([\w-]+)/.exec(io.stderrText())![1];
    ok(io.stderrText().includes(`query "${id}" was aborted`), io.stderrText());
    const show = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(await run(["queries", "show", id, "--json"], show), 0);
    strictEqual(JSON.parse(show.stdoutText()).queryInfo.state, "ABORTED");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("query (embedded): every folder under $EVENTLAKE_HOME/buckets is a bucket of that name; a missing one is exit 3", async () => {
  const home = await makeHome();
  try {
    await Deno.mkdir(join(home, "buckets", "reports"), { recursive: true });
    const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
    const args = ["query", "SELECT 7 AS n", "--format", "csv", "--bucket", "reports"];
    strictEqual(await run([...args, "--result-path", "daily"], io), 0, io.stderrText());
    strictEqual(io.stdoutText(), "n\r\n7\r\n");
    const id = /query (\S+)$/m.exec(io.stderrText())![1];
    ok(
      (await filesUnder(join(home, "buckets", "reports", "daily"))).some((f) =>
        f.endsWith(`/${id}.csv`)
      ),
      `no ${id}.csv under buckets/reports/daily`,
    );
    // The default bucket is made on first use, as $EVENTLAKE_HOME/buckets/results.
    const plain = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(await run(["query", "SELECT 1", "--format", "csv"], plain), 0);
    ok((await Deno.stat(join(home, "buckets", "results"))).isDirectory);

    const missing = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(await run(["query", "SELECT 1", "--bucket", "nope"], missing), 3);
    ok(missing.stderrText().includes('"nope"'), missing.stderrText());
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("query --endpoint runs on a real gateway: all rows (CSV from the shared buckets folder), wrong credential 4, unknown query 3", async () => {
  const home = await makeHome();
  const gateway = await startGateway(home);
  try {
    const env = gateway.env;
    for (const format of ["ndjson", "json", "table"]) {
      const io = memoryIo({ env });
      strictEqual(
        await run(["query", "SELECT * FROM range(2500)", "--format", format], io),
        0,
        io.stderrText(),
      );
      checkRange(format, io.stdoutText(), 2500);
    }
    const csv = memoryIo({ env });
    strictEqual(await run(["query", "SELECT * FROM range(2500)", "--format", "csv"], csv), 0);
    strictEqual((await csvRecords(csv.stdoutText())).length, 2501);

    // The result files are where both defaults put them: $EVENTLAKE_HOME/buckets/results/cli/.
    const id = /query (\S+)$/m.exec(csv.stderrText())![1];
    ok(
      (await filesUnder(join(home, "buckets", "results", "cli"))).some((f) =>
        f.endsWith(`/${id}.csv`)
      ),
      `no ${id}.csv under buckets/results/cli`,
    );

    const bad = memoryIo({ env: { ...env, EVENTLAKE_CREDENTIAL_SECRET: "wrong-secret" } });
    strictEqual(await run(["query", "SELECT 1"], bad), 4);
    const missing = memoryIo({ env: { ...env, EVENTLAKE_CREDENTIAL_SECRET: "" } });
    strictEqual(await run(["query", "SELECT 1"], missing), 4);
    ok(missing.stderrText().includes("Missing credential"), missing.stderrText());

    const failed = memoryIo({ env });
    strictEqual(await run(["query", "SELEC 1"], failed), 2);
    ok(failed.stderrText().includes("FAILED"));

    const unknown = memoryIo({ env });
    strictEqual(await run(["queries", "show", "20230101-000000-xxxxxxxxxx"], unknown), 3);
  } finally {
    await gateway.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("query --endpoint with the buckets folder hidden streams all 2,500 rows from the gateway's result.csv", async () => {
  const home = await makeHome();
  const gateway = await startGateway(home);
  try {
    const env = {
      ...gateway.env,
      // Not where the server keeps its buckets: the CSV is not readable locally.
      EVENTLAKE_RESULTS_DIR: join(home, "nowhere"),
    };
    for (const format of ["ndjson", "table"]) {
      const io = memoryIo({ env });
      strictEqual(
        await run(["query", "SELECT * FROM range(2500)", "--format", format], io),
        0,
        io.stderrText(),
      );
      checkRange(format, io.stdoutText(), 2500);
      ok(io.stderrText().includes("2,500 rows"), io.stderrText());
    }
    // Quoting, NULL and the empty string survive the download.
    const csv = memoryIo({ env });
    const sql = "SELECT i, CASE WHEN i % 3 = 0 THEN NULL WHEN i % 3 = 1 THEN '' " +
      "ELSE 'a,\"b\"' || i END AS s FROM range(1500) t(i)";
    strictEqual(await run(["query", sql, "--format", "csv"], csv), 0, csv.stderrText());
    const records = await csvRecords(csv.stdoutText());
    strictEqual(records.length, 1501);
    deepStrictEqual(records[0], ["i", "s"]);
    deepStrictEqual(records.slice(1, 4), [["0", null], ["1", ""], ["2", 'a,"b"2']]);
    deepStrictEqual(records[1500], ["1499", 'a,"b"1499']);

    // At most 1,000 rows still come from the API's pages.
    const paged = memoryIo({ env });
    strictEqual(await run(["query", "SELECT * FROM range(1000)", "--format", "ndjson"], paged), 0);
    checkRange("ndjson", paged.stdoutText(), 1000);
    // The folder really is hidden: nothing was created there.
    await rejects(Deno.stat(join(home, "nowhere", "results")), { name: "NotFound" });
  } finally {
    await gateway.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("query --endpoint: Ctrl-C aborts the query on the server and exits 130", async () => {
  const home = await makeHome();
  const gateway = await startGateway(home);
  try {
    const controller = new AbortController();
    const io = memoryIo({
      env: {
        EVENTLAKE_HOME: home,
        EVENTLAKE_CREDENTIAL_ID: gateway.credentialId,
        EVENTLAKE_CREDENTIAL_SECRET: gateway.credentialSecret,
      },
      signal: controller.signal,
      isTTY: { stderr: true },
    });
    const done = run(["query", SLOW_SQL, "--endpoint", gateway.url], io);
    await until(() => io.stderrText().includes("RUNNING"));
    controller.abort();
    strictEqual(await done, 130);
    const id = /Query ([\w-]+)/.exec(io.stderrText())![1];
    await gateway.service.settled(id);
    const result = await gateway.service.get({ name: "tester@example.com" }, id);
    strictEqual(result.queryInfo.state, "ABORTED");
  } finally {
    await gateway.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("query cannot reach an endpoint: exit 6 naming the endpoint", async () => {
  const home = await makeHome();
  try {
    const io = memoryIo({
      env: {
        EVENTLAKE_HOME: home,
        EVENTLAKE_CREDENTIAL_ID: "id",
        EVENTLAKE_CREDENTIAL_SECRET: "secret",
      },
    });
    strictEqual(await run(["query", "SELECT 1", "--endpoint", "http://127.0.0.1:9"], io), 6);
    ok(io.stderrText().includes("Cannot reach the Data Query API at http://127.0.0.1:9"));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("endedError() maps how a query ended to an exit code: FAILED 2, time limit or stopped service 6, ABORTED 130", () => {
  const ended = (state: string, errorMessage: string) =>
    ({ queryInfo: { queryId: "q1", state, errorMessage } }) as unknown as QueryResultResponse;
  strictEqual(exitCodeOf(endedError(ended("FAILED", "Parser Error: syntax error"))), 2);
  strictEqual(exitCodeOf(endedError(ended("FAILED", "Query exceeded the time limit of 30m"))), 6);
  strictEqual(
    exitCodeOf(endedError(ended("FAILED", "The service stopped while the query was RUNNING"))),
    6,
  );
  strictEqual(exitCodeOf(endedError(ended("ABORTED", "Query was aborted by its creator"))), 130);
  strictEqual(
    endedError(ended("FAILED", "Parser Error: x")).message,
    'Query "q1" FAILED: Parser Error: x',
  );
});

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { run } from "../cli.ts";
import { memoryIo } from "../_testing.ts";
import { makeHome, startGateway } from "../_client_testing.ts";

Deno.test("queries list shows the embedded history with the API's filters and sort; show and abort name the query", async () => {
  const home = await makeHome();
  try {
    const env = { EVENTLAKE_HOME: home, EVENTLAKE_USER: "alice" };
    for (const sql of ["SELECT 1", "SELECT 2", "SELEC 3"]) {
      await run(["query", sql], memoryIo({ env }));
    }
    const all = memoryIo({ env });
    strictEqual(await run(["queries", "list", "--json", "--sort", "queryTextPreview,asc"], all), 0);
    const page = JSON.parse(all.stdoutText());
    strictEqual(page.totalElements, 3);
    deepStrictEqual(
      page.content.map((q: { queryInfo: { queryTextPreview: string } }) =>
        q.queryInfo.queryTextPreview
      ),
      ["SELEC 3", "SELECT 1", "SELECT 2"],
    );
    strictEqual(page.content[1].creatorName, "alice");

    const failed = memoryIo({ env });
    strictEqual(
      await run(["queries", "list", "--state", "failed", "--size", "1", "--json"], failed),
      0,
    );
    strictEqual(JSON.parse(failed.stdoutText()).content[0].queryInfo.state, "FAILED");

    const table = memoryIo({ env });
    strictEqual(await run(["queries", "list", "--size", "2"], table), 0);
    const lines = table.stdoutText().trimEnd().split("\n");
    strictEqual(lines.length, 3);
    ok(lines[0].startsWith("QUERY ID"), lines[0]);
    ok(table.stderrText().includes("3 queries; next: --page 1"), table.stderrText());

    const id = page.content[1].queryInfo.queryId;
    const show = memoryIo({ env });
    strictEqual(await run(["queries", "show", id], show), 0);
    ok(show.stdoutText().includes("FINISHED"), show.stdoutText());
    ok(show.stdoutText().includes("SELECT 1"));
    const showJson = memoryIo({ env });
    strictEqual(await run(["queries", "show", id, "--json"], showJson), 0);
    deepStrictEqual(JSON.parse(showJson.stdoutText()).queryData, [["1"]]);

    // An ended query cannot be aborted: conflict, exit 5.
    const abort = memoryIo({ env });
    strictEqual(await run(["queries", "abort", id], abort), 5);
    // Another user's query: its rows are not theirs (exit 4).
    const other = memoryIo({ env: { ...env, EVENTLAKE_USER: "bob" } });
    strictEqual(await run(["queries", "show", id], other), 4);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("queries rejects an unknown action, a missing id and bad paging (exit 2); an unknown id is exit 3", async () => {
  const home = await makeHome();
  try {
    const env = { EVENTLAKE_HOME: home };
    const cases: [string[], number, string][] = [
      [["queries", "lst"], 2, 'Unknown action "lst"'],
      [["queries", "show"], 2, "Missing argument <query-id>"],
      [["queries", "list", "--size", "0"], 2, "--size"],
      [["queries", "list", "--sort", "bogus,asc"], 2, "bogus"],
      [["queries", "list", "--state", "DONE"], 2, "DONE"],
      [["queries", "show", "20230101-000000-abcdefghij"], 3, "Cannot find query"],
      [["queries", "abort", "20230101-000000-abcdefghij"], 3, "Cannot find query"],
    ];
    for (const [args, code, text] of cases) {
      const io = memoryIo({ env });
      strictEqual(await run(args, io), code, `${args.join(" ")}: ${io.stderrText()}`);
      ok(io.stderrText().includes(text), `${args.join(" ")}: ${io.stderrText()}`);
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("queries list and abort --endpoint go through the gateway", async () => {
  const home = await makeHome();
  const gateway = await startGateway(home);
  try {
    const env = gateway.env;
    const submitted = await gateway.service.submit(
      { name: "tester@example.com" },
      {
        query: "SELECT sum(i) FROM range(1000000000000) t(i)",
        resultConfig: { bucketName: "results", path: "cli" },
      },
    );
    const id = submitted.queryInfo.queryId;
    const list = memoryIo({ env });
    strictEqual(await run(["queries", "list", "--query-id", id, "--json"], list), 0);
    strictEqual(JSON.parse(list.stdoutText()).content[0].queryInfo.queryId, id);
    const abort = memoryIo({ env });
    strictEqual(await run(["queries", "abort", id, "--json"], abort), 0, abort.stderrText());
    deepStrictEqual(JSON.parse(abort.stdoutText()), {
      queryInfo: { queryId: id, state: "ABORTED" },
    });
    strictEqual(await gateway.service.settled(id), "ABORTED");
  } finally {
    await gateway.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("embedded mode refuses to open a home whose live server runs queries (exit 5), so they are not marked FAILED", async () => {
  const home = await makeHome();
  const gateway = await startGateway(home);
  try {
    const submitted = await gateway.service.submit(
      { name: "tester@example.com" },
      {
        query: "SELECT sum(i) FROM range(1000000000000) t(i)",
        resultConfig: { bucketName: "results", path: "cli" },
      },
    );
    const id = submitted.queryInfo.queryId;
    const env = { EVENTLAKE_HOME: home, EVENTLAKE_PORT: new URL(gateway.url).port };
    const io = memoryIo({ env });
    strictEqual(await run(["queries", "list"], io), 5, io.stderrText());
    ok(io.stderrText().includes(`--endpoint ${gateway.url}`), io.stderrText());
    const state = (await gateway.service.get({ name: "tester@example.com" }, id)).queryInfo.state;
    ok(state === "RUNNING" || state === "QUEUED", state);
    await gateway.service.abort({ name: "tester@example.com" }, id);
  } finally {
    await gateway.close();
    await Deno.remove(home, { recursive: true });
  }
});

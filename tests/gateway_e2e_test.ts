import { ok, strictEqual } from "node:assert/strict";
import { startServer } from "../apps/gateway/server.ts";

async function waitFinished(
  url: string,
  headers: Record<string, string>,
  queryId: string,
): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${url}/v1/data-query/query/${queryId}?page=0`, { headers });
    const body = await res.json();
    if (!["QUEUED", "RUNNING"].includes(body.queryInfo.state)) return body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Query "${queryId}" did not end`);
}

Deno.test("gateway end to end over a socket: first start bootstraps, the README query returns rows, a restart keeps the home, shutdown drains", async () => {
  const home = await Deno.makeTempDir();
  try {
    const server = await startServer({
      home,
      port: 0,
      handleSignals: false,
      demoEvents: 500,
      writeLog: () => {},
    });
    let stopped = false;
    try {
      const boot = server.bootstrap;
      ok(boot, "a first start bootstraps");
      strictEqual(boot.demoRows, 500);
      const headers = {
        "Credential-ID": boot.credentialId,
        "Credential-Secret": boot.credentialSecret,
      };
      const submit = await fetch(`${server.url}/v1/data-query/query`, {
        method: "POST",
        headers: {
          ...headers,
          "Content-Type": "application/json",
          "X-Data-Source": "data_catalog",
          "X-Database": "default",
        },
        body: JSON.stringify({
          query: "select event_key, count(*) as n from events group by 1 order by 1",
          resultConfig: { bucketName: "results", path: "demo" },
        }),
      });
      strictEqual(submit.status, 202);
      const { queryInfo } = await submit.json();
      strictEqual(queryInfo.state, "QUEUED");
      const result = await waitFinished(server.url, headers, queryInfo.queryId);
      strictEqual((result.queryInfo as { state: string }).state, "FINISHED");
      ok((result.queryData as unknown[]).length > 0, "the demo day has rows");
      const total = (result.queryData as string[][]).reduce((s, r) => s + Number(r[1]), 0);
      strictEqual(total, 500);
      ok(await Deno.stat(`${home}/buckets/results/demo`));
      const page = await fetch(`${server.url}/`);
      strictEqual(page.status, 200, "the web console is mounted at /");
      ok((page.headers.get("content-type") ?? "").startsWith("text/html"));
      await page.body?.cancel();

      // In-flight work survives a shutdown: the queued query finishes, then the server stops.
      const again = await fetch(`${server.url}/v1/data-query/query`, {
        method: "POST",
        headers: { ...headers, "Content-Type": "application/json" },
        body: JSON.stringify({
          query: "select count(*) from data_catalog.default.events",
          bucketName: "results",
          path: "demo",
        }),
      });
      strictEqual(again.status, 202);
      const id = (await again.json()).queryInfo.queryId;
      await server.shutdown();
      await server.finished;
      stopped = true;

      const second = await startServer({ home, port: 0, handleSignals: false, writeLog: () => {} });
      try {
        strictEqual(second.bootstrap, undefined, "a later start changes nothing");
        const res = await fetch(`${second.url}/v1/data-query/query/${id}`, { headers });
        strictEqual(res.status, 200);
        strictEqual((await res.json()).queryInfo.state, "FINISHED");
      } finally {
        await second.shutdown();
        await second.finished;
      }
    } finally {
      if (!stopped) {
        await server.shutdown();
        await server.finished;
      }
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

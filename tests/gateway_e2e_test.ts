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

Deno.test("SIGTERM drains a `deno run` server: the query submitted just before finishes, the process exits 0", async () => {
  const home = await Deno.makeTempDir();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const serverModule = new URL("../apps/gateway/server.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", serverModule, "--port", String(port), "--home", home],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let printed = "";
    while (!/Credential-Secret:\s+\S+/.test(printed)) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`The server exited early:\n${printed}`);
      printed += value;
    }
    const drainStdout = (async () => {
      while (!(await reader.read()).done) { /* drain */ }
    })();
    const headers = {
      "Credential-ID": /Credential-ID:\s+(\S+)/.exec(printed)![1],
      "Credential-Secret": /Credential-Secret:\s+(\S+)/.exec(printed)![1],
    };
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      try {
        const res = await fetch(`${url}/healthz`);
        await res.body?.cancel();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const res = await fetch(`${url}/v1/data-query/query`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({
        query: "select count(*) from data_catalog.default.events",
        bucketName: "results",
        path: "drain",
      }),
    });
    strictEqual(res.status, 202);
    const id = (await res.json()).queryInfo.queryId;
    child.kill("SIGTERM");
    const status = await child.status;
    await drainStdout;
    strictEqual(status.code, 0, await stderr);
    ok((await stderr).includes('"message":"Stopped"'));

    const again = await startServer({ home, port: 0, handleSignals: false, writeLog: () => {} });
    try {
      const got = await fetch(`${again.url}/v1/data-query/query/${id}`, { headers });
      strictEqual((await got.json()).queryInfo.state, "FINISHED");
    } finally {
      await again.shutdown();
      await again.finished;
    }
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await stderr.catch(() => "");
    await Deno.remove(home, { recursive: true });
  }
});

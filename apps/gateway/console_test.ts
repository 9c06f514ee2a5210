import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { CONSOLE_ASSETS, CONSOLE_CSP, createConsoleApp } from "./console/mod.ts";
import { CONSOLE_JS } from "./console/client.ts";
import { unitGateway } from "./console/_testing.ts";

const ALICE = { name: "alice@example.com" };
const RESULT = { resultConfig: { bucketName: "results", path: "dq" } };

Deno.test("console page renders the sign-in form, the panels and the form defaults", async () => {
  const app = createConsoleApp({
    title: "Lake console",
    defaults: { dataSource: "data_catalog", database: "default", bucketName: "results", path: "p" },
  });
  const res = await app.request("/");
  strictEqual(res.status, 200);
  strictEqual(res.headers.get("content-type"), "text/html; charset=UTF-8");
  strictEqual(res.headers.get("cache-control"), "no-cache");
  strictEqual(res.headers.get("content-security-policy"), CONSOLE_CSP);
  strictEqual(res.headers.get("x-content-type-options"), "nosniff");
  const html = await res.text();
  ok(html.startsWith("<!doctype html>"));
  ok(html.includes("<title>Lake console</title>"));
  for (
    const id of [
      "signin-form",
      "panel-query",
      "panel-history",
      "panel-sources",
      "panel-imports",
      "download",
      "abort",
    ]
  ) {
    ok(html.includes(`id="${id}"`), id);
  }
  ok(html.includes(`src="${CONSOLE_ASSETS.js.path}"`));
  ok(html.includes(`href="${CONSOLE_ASSETS.css.path}"`));
  ok(html.includes('data-default="data_catalog"'));
  ok(html.includes('id="q-bucket" type="text" required spellcheck="false" value="results"'));
  for (const state of ["QUEUED", "RUNNING", "FINISHED", "FAILED", "ABORTED"]) {
    ok(html.includes(`value="${state}"`), state);
  }
  // Works offline under its CSP: no inline script or style, nothing from another origin.
  ok(!/<script>|style="|https?:\/\//.test(html));
});

Deno.test("console page escapes the defaults it prints", async () => {
  const app = createConsoleApp({ defaults: { path: '"><script>alert(1)</script>' } });
  const html = await (await app.request("/")).text();
  ok(!html.includes("<script>alert"));
  ok(html.includes("&quot;&gt;&lt;script&gt;"));
});

Deno.test("console assets are served with their types and year-long immutable caching", async () => {
  const app = createConsoleApp();
  for (
    const [file, type] of [
      [CONSOLE_ASSETS.js, "text/javascript; charset=utf-8"],
      [CONSOLE_ASSETS.css, "text/css; charset=utf-8"],
    ] as const
  ) {
    ok(/^\/console\/app\.[0-9a-f]{8}\.(js|css)$/.test(file.path), file.path);
    const res = await app.request(file.path);
    strictEqual(res.status, 200);
    strictEqual(res.headers.get("content-type"), type);
    strictEqual(res.headers.get("cache-control"), "public, max-age=31536000, immutable");
    strictEqual(res.headers.get("etag"), file.etag);
    deepStrictEqual(new Uint8Array(await res.arrayBuffer()), file.body);
    const again = await app.request(file.path, { headers: { "if-none-match": file.etag } });
    strictEqual(again.status, 304);
    strictEqual(await again.text(), "");
  }
  strictEqual((await app.request("/console/app.00000000.js")).status, 404);
});

Deno.test("console client script is plain JavaScript that parses", () => {
  // Throws a SyntaxError if the script in the template string is broken.
  new Function(CONSOLE_JS);
  ok(!CONSOLE_JS.includes("${"));
  // The credential travels in headers, never in a URL.
  ok(CONSOLE_JS.includes('"Credential-Secret"'));
  ok(!/[?&]credential/i.test(CONSOLE_JS));
});

Deno.test("gateway serves the console at / beside the Open API", async () => {
  const gw = await unitGateway();
  try {
    const page = await gw.app.request("/");
    strictEqual(page.status, 200);
    ok((await page.text()).includes('id="signin-form"'));
    strictEqual((await gw.app.request(CONSOLE_ASSETS.css.path)).status, 200);
    const sources = await gw.app.request("/v1/data-query/data-source", { headers: gw.alice });
    strictEqual(sources.status, 200);
  } finally {
    await gw.close();
  }
});

Deno.test("result.csv streams the full CSV of a finished query, past the 1,000 paged rows", async () => {
  const gw = await unitGateway();
  try {
    const { queryInfo } = await gw.service.submit(ALICE, { query: "select 2500", ...RESULT });
    strictEqual(await gw.service.settled(queryInfo.queryId), "FINISHED");
    const res = await gw.app.request(`/v1/data-query/query/${queryInfo.queryId}/result.csv`, {
      headers: gw.alice,
    });
    strictEqual(res.status, 200);
    strictEqual(res.headers.get("content-type"), "text/csv; charset=utf-8; header=present");
    strictEqual(
      res.headers.get("content-disposition"),
      `attachment; filename="${queryInfo.queryId}.csv"`,
    );
    strictEqual(res.headers.get("cache-control"), "private, no-store");
    const text = await res.text();
    strictEqual(Number(res.headers.get("content-length")), new TextEncoder().encode(text).length);
    const lines = text.split("\r\n");
    strictEqual(lines.length, 2502);
    strictEqual(lines[0], "n,label");
    strictEqual(lines[1], '0,"row ""0"", ok"');
    strictEqual(lines[5], "4,");
    strictEqual(lines[2499], '2498,"row ""2498"", ok"');
    strictEqual(lines[2500], "2499,");
    strictEqual(lines[2501], "");
  } finally {
    await gw.close();
  }
});

Deno.test("result.csv of a reused query serves the original query's file", async () => {
  const gw = await unitGateway();
  try {
    const reuse = { reuseConfig: { reuse: true, maxReuseAge: 60 } };
    const first = await gw.service.submit(ALICE, { query: "select 3", ...RESULT, ...reuse });
    await gw.service.settled(first.queryInfo.queryId);
    const second = await gw.service.submit(ALICE, { query: "select 3", ...RESULT, ...reuse });
    strictEqual(second.queryInfo.state, "FINISHED");
    const res = await gw.app.request(
      `/v1/data-query/query/${second.queryInfo.queryId}/result.csv`,
      { headers: gw.alice },
    );
    strictEqual(res.status, 200);
    strictEqual(
      await res.text(),
      'n,label\r\n0,"row ""0"", ok"\r\n1,"row ""1"", ok"\r\n2,"row ""2"", ok"\r\n',
    );
  } finally {
    await gw.close();
  }
});

Deno.test("result.csv refuses callers other than the query's creator, and unsigned requests", async () => {
  const gw = await unitGateway();
  try {
    const { queryInfo } = await gw.service.submit(ALICE, { query: "select 2", ...RESULT });
    await gw.service.settled(queryInfo.queryId);
    const url = `/v1/data-query/query/${queryInfo.queryId}/result.csv`;
    const bob = await gw.app.request(url, { headers: gw.bob });
    strictEqual(bob.status, 403);
    strictEqual((await bob.json()).code, "FORBIDDEN");
    const nobody = await gw.app.request(url);
    strictEqual(nobody.status, 401);
    strictEqual((await nobody.json()).code, "UNAUTHENTICATED");
  } finally {
    await gw.close();
  }
});

Deno.test("result.csv of a running query is PRECONDITION_FAILED naming its state", async () => {
  const gw = await unitGateway();
  try {
    const { queryInfo } = await gw.service.submit(ALICE, { query: "hang", ...RESULT });
    const res = await gw.app.request(`/v1/data-query/query/${queryInfo.queryId}/result.csv`, {
      headers: gw.alice,
    });
    strictEqual(res.status, 412);
    const body = await res.json();
    strictEqual(body.code, "PRECONDITION_FAILED");
    ok(
      /^Cannot download the result of query "[^"]+": it is (QUEUED|RUNNING), not FINISHED$/.test(
        body.message,
      ),
      body.message,
    );
    await gw.service.abort(ALICE, queryInfo.queryId);
  } finally {
    await gw.close();
  }
});

Deno.test("result.csv of an unknown or malformed query id is NOT_FOUND or INVALID_ARGUMENT", async () => {
  const gw = await unitGateway();
  try {
    const missing = await gw.app.request("/v1/data-query/query/nope-123/result.csv", {
      headers: gw.alice,
    });
    strictEqual(missing.status, 404);
    strictEqual((await missing.json()).code, "NOT_FOUND");
    const bad = await gw.app.request("/v1/data-query/query/a%20b/result.csv", {
      headers: gw.alice,
    });
    strictEqual(bad.status, 400);
    const body = await bad.json();
    strictEqual(body.code, "INVALID_ARGUMENT");
    strictEqual(body.message, 'Invalid query id "a b": expected letters, digits, ".", "_" or "-"');
  } finally {
    await gw.close();
  }
});

Deno.test("result.csv answers UNAVAILABLE when the console was built without the service", async () => {
  const gw = await unitGateway({ queryService: undefined, buckets: undefined });
  try {
    const res = await gw.app.request("/v1/data-query/query/x/result.csv", { headers: gw.alice });
    strictEqual(res.status, 503);
    strictEqual((await res.json()).message, "Result downloads are not available on this server");
  } finally {
    await gw.close();
  }
});

Deno.test("result.csv authenticates by itself when the console runs outside the gateway", async () => {
  const gw = await unitGateway();
  try {
    const { queryInfo } = await gw.service.submit(ALICE, { query: "select 1", ...RESULT });
    await gw.service.settled(queryInfo.queryId);
    const standalone = createConsoleApp({ queryService: gw.service, buckets: gw.buckets });
    const res = await standalone.request(
      `/v1/data-query/query/${queryInfo.queryId}/result.csv`,
      { headers: gw.alice },
    );
    strictEqual(res.status, 200);
    strictEqual(await res.text(), 'n,label\r\n0,"row ""0"", ok"\r\n');
  } finally {
    await gw.close();
  }
});

Deno.test("console module loads and serves without FFI, so the edge entry can mount it", async () => {
  const root = new URL("../../", import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", "--allow-env", "--deny-ffi", "-"],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(
      'const { createConsoleApp } = await import("./apps/gateway/console/mod.ts");\n' +
        'console.log((await createConsoleApp().request("/")).status);\n',
    ),
  );
  await writer.close();
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  strictEqual(out.code, 0, stderr);
  strictEqual(new TextDecoder().decode(out.stdout).trim(), "200");
});

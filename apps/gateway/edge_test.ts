import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createEdgeApp, type QueryApi } from "./edge.ts";

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier?: string } }[];
}

/** Modules the edge entry loads at run time: `deno info` edges that carry code (not types). */
async function runtimeGraph(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  strictEqual(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
    redirects: Record<string, string>;
  };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const stack = [...info.roots];
  while (stack.length > 0) {
    let specifier = stack.pop()!;
    specifier = info.redirects[specifier] ?? specifier;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dep of modules.get(specifier)?.dependencies ?? []) {
      if (dep.code?.specifier) stack.push(dep.code.specifier);
    }
  }
  return [...seen].sort();
}

Deno.test("edge.ts loads no native module, no filesystem or SQLite module and no Deno API", async () => {
  const entry = fileURLToPath(new URL("./edge.ts", import.meta.url));
  const graph = await runtimeGraph(entry);
  ok(graph.some((s) => s.endsWith("/apps/gateway/app.ts")), "the app is in the graph");
  const forbidden = graph.filter((s) =>
    /@duckdb|node:fs|node:sqlite|node:child_process|node:net|node:worker_threads|mysql2|@aws-sdk|@google-cloud|trino-client/
      .test(s)
  );
  deepStrictEqual(forbidden, []);
  // npm packages are opaque to `deno info`: only these pure-JS ones may be reached.
  const npm = [
    ...new Set(
      graph.filter((s) => s.startsWith("npm:")).map((s) =>
        s.replace(/^npm:\/?/, "").replace(/@[^@/]+(\/.*)?$/, "")
      ),
    ),
  ].sort();
  deepStrictEqual(npm, ["hono", "valibot"]);
  for (const specifier of graph.filter((s) => s.startsWith("file:") && s.endsWith(".ts"))) {
    const code = (await Deno.readTextFile(new URL(specifier))).split("\n")
      .filter((line) => !/^\s*(\*|\/\/|\/\*\*)/.test(line)).join("\n");
    ok(!/\bDeno\.\w/.test(code), `${specifier} uses the Deno namespace`);
  }
});

Deno.test("createEdgeApp() serves the same API over an injected service", async () => {
  const lines: string[] = [];
  const queryService = {
    authenticate: () => Promise.resolve({ name: "edge@example.com" }),
    listDataSources: () =>
      Promise.resolve([
        { scope: "NONE", creatorName: "-", type: "DATA_CATALOG", name: "data_catalog" },
      ]),
  } as unknown as QueryApi;
  const app = createEdgeApp({ queryService, writeLog: (t) => void lines.push(t) });
  const res = await app.request("/v1/data-query/data-source", {
    headers: { "Credential-ID": "a", "Credential-Secret": "b" },
  });
  strictEqual(res.status, 200);
  strictEqual((await res.json())[0].name, "data_catalog");
  strictEqual((await app.request("/v1/data-query/data-source")).status, 401);
  strictEqual((await app.request("/openapi.json")).status, 200);
  strictEqual(
    (await app.request("/v1/data-import/jobs", {
      headers: { "Credential-ID": "a", "Credential-Secret": "b" },
    })).status,
    503,
  );
  await new Promise((r) => setTimeout(r, 300));
  ok(lines.join("").includes('"route":"/v1/data-query/data-source"'));
});

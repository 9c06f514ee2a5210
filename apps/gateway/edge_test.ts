import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createS3Store } from "@eventlake/storage/s3";
import { startFakeTrino } from "../../packages/dataquery/_fake_trino.ts";
import { S3_OWNER, startS3Server } from "../../packages/storage/_s3_server.ts";
import { createEdgeApp, createEdgeQueryService, edgeConfigFromEnv, type QueryApi } from "./edge.ts";

interface InfoModule {
  specifier: string;
  npmPackage?: string;
  dependencies?: { code?: { specifier?: string } }[];
}

interface RuntimeGraph {
  /** Modules loaded at run time: `deno info` edges that carry code (not types). */
  modules: string[];
  /** npm packages those modules load, with every package they depend on. */
  npm: { id: string; name: string; localPath: string }[];
}

async function runtimeGraph(entry: string): Promise<RuntimeGraph> {
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
    npmPackages: Record<string, { name: string; dependencies?: string[]; localPath: string }>;
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
  const packages = new Set<string>();
  const pending = [...seen].map((s) => modules.get(s)?.npmPackage).filter((p) => p !== undefined);
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (packages.has(id)) continue;
    packages.add(id);
    pending.push(...(info.npmPackages[id]?.dependencies ?? []));
  }
  return {
    modules: [...seen].sort(),
    npm: [...packages].sort().map((id) => ({ id, ...info.npmPackages[id] })),
  };
}

/**
 * npm code that names the `fs` module, reviewed: none of it runs on the edge wiring's path.
 * - form-data (through axios, trino-client's HTTP client): `fs.stat` only for file streams
 *   appended to multipart bodies; trino-client sends JSON/text bodies.
 * - The AWS SDK's default credential and config chain (`~/.aws/*` files, SSO and web-identity
 *   token files): the edge wiring passes credentials and region explicitly; where a runtime has
 *   no filesystem those reads fail and the SDK falls back to the environment and options.
 * - hono: the Bun adapter's static file server (another entry point of the package).
 */
const REVIEWED_FS_USERS = new Set([
  "form-data",
  "@aws-sdk/credential-provider-http",
  "@aws-sdk/credential-provider-login",
  "@aws-sdk/credential-provider-web-identity",
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/token-providers",
  "@smithy/core",
  "@smithy/shared-ini-file-loader",
  "hono",
]);

const FS_IMPORT =
  /require\(\s*["'](?:node:)?fs(?:\/promises)?["']\s*\)|from\s+["'](?:node:)?fs(?:\/promises)?["']/;

/** Files under `dir` (recursively). */
async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

Deno.test("edge.ts, wired to Trino and S3, loads no native module, no filesystem or SQLite module and no Deno API", async () => {
  const entry = fileURLToPath(new URL("./edge.ts", import.meta.url));
  const graph = await runtimeGraph(entry);
  const has = (suffix: string) => graph.modules.some((s) => s.endsWith(suffix));
  ok(has("/apps/gateway/app.ts"), "the app is in the graph");
  ok(has("/packages/dataquery/service.ts"), "the query service is in the graph");
  ok(has("/packages/dataquery/trino.ts"), "the Trino engine is in the graph");
  ok(has("/packages/storage/s3.ts"), "the S3 store is in the graph");
  const forbidden = graph.modules.filter((s) =>
    /@duckdb|^(node:)?fs(\/|$)|node:fs|node:sqlite|node:child_process|node:net|node:worker_threads|mysql2|@google-cloud|duckdb\.ts|local\.ts|gcs\.ts/
      .test(s)
  );
  deepStrictEqual(forbidden, []);
  // npm packages the ESM graph enters (`deno info` does not look inside them).
  const npmRoots = [
    ...new Set(
      graph.modules.filter((s) => s.startsWith("npm:")).map((s) =>
        /^(@[^/]+\/[^@/]+|[^@/]+)/.exec(s.replace(/^npm:\/?/, ""))![1]
      ),
    ),
  ].sort();
  deepStrictEqual(npmRoots, ["@aws-sdk/client-s3", "hono", "trino-client", "valibot"]);
  for (const specifier of graph.modules.filter((s) => s.startsWith("file:") && s.endsWith(".ts"))) {
    const code = (await Deno.readTextFile(new URL(specifier))).split("\n")
      .filter((line) => !/^\s*(\*|\/\/|\/\*\*)/.test(line)).join("\n");
    ok(!/\bDeno\.\w/.test(code), `${specifier} uses the Deno namespace`);
  }
  // Inside the npm packages: no native addon anywhere, no forbidden package, and `fs` only in
  // reviewed code.
  ok(graph.npm.length > 0);
  const unreviewedFs: string[] = [];
  for (const pkg of graph.npm) {
    ok(
      !/^(@duckdb\/|mysql2$|@google-cloud\/|better-sqlite3$|sqlite3$)/.test(pkg.name),
      `${pkg.id} is reachable`,
    );
    const manifest = JSON.parse(await Deno.readTextFile(join(pkg.localPath, "package.json")));
    ok(!manifest.gypfile && !manifest.binary, `${pkg.id} builds a native addon`);
    for await (const file of walk(pkg.localPath)) {
      ok(!file.endsWith(".node"), `${pkg.id} ships a native addon: ${file}`);
      if (/\.(c|m)?js$/.test(file) && !REVIEWED_FS_USERS.has(pkg.name)) {
        if (FS_IMPORT.test(await Deno.readTextFile(file))) unreviewedFs.push(file);
      }
    }
  }
  deepStrictEqual(unreviewedFs, []);
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

Deno.test("edgeConfigFromEnv() and createEdgeQueryService() name what is wrong in the configuration", async () => {
  const env = {
    TRINO_URL: "http://trino:8080",
    TRINO_USER: "eventlake",
    EVENTLAKE_RESULT_BUCKETS: "results, other",
    EVENTLAKE_ENCRYPTION_KEY: "0123456789abcdef0123456789abcdef",
  };
  const wiring = edgeConfigFromEnv({ ...env, EVENTLAKE_STATE: "s3://state-bucket/eventlake/" });
  deepStrictEqual(wiring.resultBuckets, ["results", "other"]);
  deepStrictEqual(wiring.state, { kind: "s3", bucket: "state-bucket", prefix: "eventlake/" });
  throws(
    () => edgeConfigFromEnv({ ...env, TRINO_URL: "" }),
    /^TypeError: Missing environment variable TRINO_URL$/,
  );
  throws(
    () => edgeConfigFromEnv({ ...env, EVENTLAKE_STATE: "s3://bucket/no-slash" }),
    /Invalid EVENTLAKE_STATE "s3:\/\/bucket\/no-slash": expected "memory" or "s3:\/\/bucket\/prefix\/"/,
  );
  throws(
    () => edgeConfigFromEnv({ ...env, EVENTLAKE_CREDENTIALS: "[{" }),
    /Invalid EVENTLAKE_CREDENTIALS: expected a JSON list/,
  );
  await rejects(
    createEdgeQueryService({
      ...wiring,
      credentials: [{ credentialId: "c1", name: "a", secretHash: "plain-secret" }],
    }),
    /Invalid credential "c1": secretHash must be 64 lowercase hex digits \(SHA-256\)/,
  );
  throws(
    () => createEdgeApp({ wiring, queryService: {} as QueryApi }),
    /give exactly one of queryService and wiring/,
  );
});

const s3 = await startS3Server();
const s3Skip = typeof s3 === "string" ? s3 : undefined;
if (s3Skip) console.warn(`Edge wiring test against S3 (Swift) skipped: ${s3Skip}`);

Deno.test({
  name: "the edge app wired to Trino and S3 runs a query, pages it and lands the CSV in the bucket",
  ignore: s3Skip !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (typeof s3 === "string") return;
    const sql = "SELECT event_key, count(*) AS n FROM events GROUP BY 1";
    const trino = startFakeTrino({
      [sql]: {
        columns: [{ name: "event_key", type: "varchar" }, { name: "n", type: "bigint" }],
        queuedPages: 1,
        pages: [[["click", 2]], [["view", 7], ["a,b", null]]],
      },
    });
    const bucket = `edge-${crypto.randomUUID().slice(0, 8)}`;
    await s3.createBucket(bucket);
    const s3Options = {
      endpoint: s3.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { ...S3_OWNER },
    };
    const secret = "edge-secret-0123456789";
    const wiring = {
      trino: { server: trino.url, user: "eventlake" },
      s3: s3Options,
      resultBuckets: [bucket],
      state: { kind: "s3" as const, bucket, prefix: "state/" },
      credentials: [{
        credentialId: "edge-alice",
        name: "alice@example.com",
        secretHash: createHash("sha256").update(secret).digest("hex"),
      }],
      encryptionKey: "0123456789abcdef0123456789abcdef",
    };
    const headers = {
      "Credential-ID": "edge-alice",
      "Credential-Secret": secret,
      "Content-Type": "application/json",
    };
    const app = createEdgeApp({ wiring, writeLog: () => {} });
    const store = createS3Store({ ...s3Options, bucket });
    try {
      const submitted = await app.request("/v1/data-query/query", {
        method: "POST",
        headers,
        body: JSON.stringify({ query: sql, resultConfig: { bucketName: bucket, path: "out" } }),
      });
      strictEqual(submitted.status, 202, await submitted.clone().text());
      const { queryInfo: { queryId } } = await submitted.json();
      let result: Record<string, unknown> & { queryInfo: Record<string, unknown> };
      for (let i = 0;; i++) {
        const res = await app.request(`/v1/data-query/query/${queryId}?page=0`, { headers });
        strictEqual(res.status, 200);
        result = await res.json();
        if (!["QUEUED", "RUNNING"].includes(result.queryInfo.state as string)) break;
        ok(i < 500, "the query ends");
        await new Promise((r) => setTimeout(r, 20));
      }
      strictEqual(result.queryInfo.state, "FINISHED", JSON.stringify(result.queryInfo));
      strictEqual(result.totalElements, 3);
      deepStrictEqual([...trino.queries.values()].map((q) => [q.sql, q.user]), [[
        sql,
        "eventlake",
      ]]);
      const keys: string[] = [];
      for await (const entry of store.list("out/")) if ("key" in entry) keys.push(entry.key);
      const csvKey = keys.find((k) => k.endsWith(`/${queryId}.csv`));
      ok(csvKey, `the CSV is in the bucket: ${keys.join(", ")}`);
      strictEqual(
        new TextDecoder().decode(await store.read(csvKey)),
        'event_key,n\r\nclick,2\r\nview,7\r\n"a,b",\r\n',
      );
      // The state is in the bucket too: a new isolate (app) sees the query and the credential.
      await app.closeService();
      const again = createEdgeApp({ wiring, writeLog: () => {} });
      const res = await again.request(`/v1/data-query/query/${queryId}`, { headers });
      strictEqual(res.status, 200);
      strictEqual((await res.json()).queryInfo.state, "FINISHED");
      await again.closeService();
    } finally {
      await app.closeService();
      await store.deletePrefix("");
      await store.close();
      await trino.close();
    }
  },
});

globalThis.addEventListener("unload", () => {
  if (typeof s3 !== "string") s3.stop();
});

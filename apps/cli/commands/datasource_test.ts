import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { run } from "../cli.ts";
import { memoryIo } from "../_testing.ts";
import { makeHome, startGateway } from "../_client_testing.ts";
import { readSecretLine } from "./datasource.ts";

Deno.test("datasource list shows data_catalog (embedded and through the gateway)", async () => {
  const home = await makeHome();
  const gateway = await startGateway(home);
  try {
    const local = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(await run(["datasource", "list", "--json"], local), 0, local.stderrText());
    deepStrictEqual(JSON.parse(local.stdoutText())[0], {
      scope: "NONE",
      creatorName: "-",
      type: "DATA_CATALOG",
      name: "data_catalog",
    });
    const remote = memoryIo({ env: gateway.env });
    strictEqual(await run(["datasource", "list"], remote), 0, remote.stderrText());
    ok(remote.stdoutText().includes("data_catalog  DATA_CATALOG  NONE"), remote.stdoutText());

    // Deleting a DATA_CATALOG source through the gateway is a conflict (exit 5).
    const del = memoryIo({ env: remote.env });
    strictEqual(await run(["datasource", "delete", "data_catalog"], del), 5, del.stderrText());
  } finally {
    await gateway.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("datasource create reads the password from stdin (no flag exists) and reports a bad request with exit 2", async () => {
  const home = await makeHome();
  try {
    const env = { EVENTLAKE_HOME: home };
    const flag = memoryIo({ env });
    strictEqual(
      await run([
        "datasource",
        "create",
        "shop",
        "--instance",
        "db1",
        "--user",
        "u",
        "--password",
        "x",
      ], flag),
      2,
    );
    ok(flag.stderrText().includes('Unknown option "--password"'));

    const empty = memoryIo({ env, stdin: "\n" });
    strictEqual(
      await run(["datasource", "create", "shop", "--instance", "db1", "--user", "u"], empty),
      2,
    );
    ok(empty.stderrText().includes("password is empty"));

    const missing = memoryIo({ env, stdin: "pw\n" });
    strictEqual(await run(["datasource", "create", "shop", "--user", "u"], missing), 2);
    ok(missing.stderrText().includes("Missing --instance"));

    const unknownInstance = memoryIo({ env, stdin: "pw\n" });
    strictEqual(
      await run(
        ["datasource", "create", "shop_db", "--instance", "db1", "--user", "u"],
        unknownInstance,
      ),
      2,
    );
    ok(unknownInstance.stderrText().includes("db1"), unknownInstance.stderrText());

    const unknown = memoryIo({ env });
    strictEqual(await run(["datasource", "delete", "no_such"], unknown), 3, unknown.stderrText());
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("readSecretLine() takes the first line of a non-terminal stdin, without its line end", async () => {
  strictEqual(
    await readSecretLine(memoryIo({ stdin: "p@ss word\r\nnext\n" }), "pw: "),
    "p@ss word",
  );
  strictEqual(await readSecretLine(memoryIo({ stdin: "" }), "pw: "), "");
});

Deno.test("query, queries, datasource and credentials each have --help with usage and examples on stdout", async () => {
  for (const name of ["query", "queries", "datasource", "credentials"]) {
    const io = memoryIo();
    strictEqual(await run([name, "--help"], io), 0);
    const text = io.stdoutText();
    ok(text.startsWith(`eventlake ${name} — `), text);
    ok(text.includes("Examples:") && text.includes(`  eventlake ${name} `), text);
    strictEqual(io.stderrText(), "");
  }
});

Deno.test("config shows the query defaults (data source, database, bucket, result path) and where each came from", async () => {
  const home = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${home}/config.json`, JSON.stringify({ database: "default" }));
    const io = memoryIo({ env: { EVENTLAKE_HOME: home, EVENTLAKE_DATA_SOURCE: "data_catalog" } });
    strictEqual(await run(["config", "--json", "--bucket", "team-results"], io), 0);
    const settings = JSON.parse(io.stdoutText()).settings;
    deepStrictEqual(
      [settings.dataSource.source, settings.database.source, settings.bucket.source],
      ["EVENTLAKE_DATA_SOURCE", `${home}/config.json`, "--bucket"],
    );
    deepStrictEqual(
      [settings.bucket.value, settings.resultPath.value, settings.resultPath.source],
      ["team-results", "cli", "default"],
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("datasource create --endpoint posts the stdin password base64-encoded (UTF-8), never in the URL (test double of the gateway)", async () => {
  const home = await Deno.makeTempDir();
  const bodies: unknown[] = [];
  const urls: string[] = [];
  // A test double of the remote server: it records the request and answers as the Open API does.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    urls.push(req.url);
    bodies.push(await req.json());
    return Response.json({ scope: "PUBLIC", creatorName: "me", type: "MYSQL", name: "shop_db" });
  });
  try {
    const io = memoryIo({
      env: {
        EVENTLAKE_HOME: home,
        EVENTLAKE_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
        EVENTLAKE_CREDENTIAL_ID: "id",
        EVENTLAKE_CREDENTIAL_SECRET: "secret",
      },
      stdin: "pä$$ word\n",
    });
    const args = ["datasource", "create", "shop_db", "--instance", "db1", "--user", "reader"];
    strictEqual(
      await run([...args, "--scope", "public", "--description", "Shop", "--json"], io),
      0,
    );
    deepStrictEqual(JSON.parse(io.stdoutText()).name, "shop_db");
    const body = bodies[0] as Record<string, string>;
    deepStrictEqual({ ...body, mysqlPassword: undefined }, {
      type: "MYSQL",
      name: "shop_db",
      scope: "PUBLIC",
      instanceId: "db1",
      mysqlUser: "reader",
      mysqlPassword: undefined,
      description: "Shop",
    });
    const decoded = new TextDecoder().decode(
      Uint8Array.from(atob(body.mysqlPassword), (c) => c.charCodeAt(0)),
    );
    strictEqual(decoded, "pä$$ word");
    ok(!urls[0].includes("word"));
  } finally {
    await server.shutdown();
    await Deno.remove(home, { recursive: true });
  }
});

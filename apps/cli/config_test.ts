import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { memoryIo } from "./_testing.ts";
import { run } from "./cli.ts";
import { CONFIG_FLAGS, loadConfig, maskSecret } from "./config.ts";

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "eventlake-cli-" });
  try {
    await fn(home);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("loadConfig() takes a flag over the environment over config.json over the default", async () => {
  await withHome(async (home) => {
    const file = join(home, "config.json");
    await Deno.writeTextFile(file, JSON.stringify({ port: 7000, endpoint: "http://file:1" }));
    const env = {
      EVENTLAKE_HOME: home,
      EVENTLAKE_PORT: "7100",
      EVENTLAKE_ENDPOINT: "http://env:2",
    };

    const fromFlag = await loadConfig({ env, cwd: home }, { flags: { port: "7200" } });
    strictEqual(fromFlag.values.port, 7200);
    deepStrictEqual(fromFlag.sources.port, { kind: "flag", name: "port" });

    const fromEnv = await loadConfig({ env, cwd: home });
    strictEqual(fromEnv.values.port, 7100);
    deepStrictEqual(fromEnv.sources.port, { kind: "env", name: "EVENTLAKE_PORT" });
    strictEqual(fromEnv.values.endpoint, "http://env:2");

    const fromFile = await loadConfig({ env: { EVENTLAKE_HOME: home }, cwd: home });
    strictEqual(fromFile.values.port, 7000);
    deepStrictEqual(fromFile.sources.port, { kind: "file", path: file });
    strictEqual(fromFile.fileFound, true);

    await Deno.remove(file);
    const fromDefault = await loadConfig({ env: { EVENTLAKE_HOME: home }, cwd: home });
    strictEqual(fromDefault.values.port, 8080);
    deepStrictEqual(fromDefault.sources.port, { kind: "default" });
    strictEqual(fromDefault.values.endpoint, "http://127.0.0.1:8080");
    strictEqual(fromDefault.values.lakeUrl, join(home, "lake"));
    // Every folder under $EVENTLAKE_HOME/buckets is a bucket; the default bucket is buckets/results.
    strictEqual(fromDefault.values.resultsDir, join(home, "buckets"));
    strictEqual(
      join(fromDefault.values.resultsDir, fromDefault.values.bucket),
      join(home, "buckets", "results"),
    );
    strictEqual(fromDefault.values.credentialSecret, undefined);
    deepStrictEqual(fromDefault.sources.credentialSecret, { kind: "unset" });
    strictEqual(fromDefault.fileFound, false);
  });
});

Deno.test("loadConfig() defaults the home to ~/.eventlake and reads its config.json", async () => {
  await withHome(async (user) => {
    await Deno.mkdir(join(user, ".eventlake"));
    await Deno.writeTextFile(join(user, ".eventlake", "config.json"), '{"credentialId":"me"}');
    const config = await loadConfig({ env: { HOME: user }, cwd: "/" });
    strictEqual(config.values.home, join(user, ".eventlake"));
    deepStrictEqual(config.sources.home, { kind: "default" });
    strictEqual(config.values.credentialId, "me");
  });
});

Deno.test("loadConfig() --home picks which config.json is read", async () => {
  await withHome(async (home) => {
    await Deno.writeTextFile(join(home, "config.json"), '{"port": 9999}');
    const config = await loadConfig(
      { env: { EVENTLAKE_HOME: "/nonexistent/eventlake" }, cwd: home },
      { flags: { home: "." } },
    );
    strictEqual(config.values.home, home);
    strictEqual(config.values.port, 9999);
  });
});

Deno.test("loadConfig() resolves relative paths against the cwd, or the config file's folder", async () => {
  await withHome(async (home) => {
    await Deno.writeTextFile(
      join(home, "config.json"),
      '{"resultsDir": "out", "lakeUrl": "s3://b/p"}',
    );
    const config = await loadConfig(
      { env: { EVENTLAKE_HOME: home, EVENTLAKE_LAKE_URL: "lake" }, cwd: "/srv" },
    );
    strictEqual(config.values.lakeUrl, "/srv/lake");
    strictEqual(config.values.resultsDir, join(home, "out"));
  });
});

Deno.test("loadConfig() rejects a config.json that is not JSON, naming the file and the problem", async () => {
  await withHome(async (home) => {
    const file = join(home, "config.json");
    await Deno.writeTextFile(file, '{\n  "port": 80,\n  oops\n}');
    await rejects(
      loadConfig({ env: { EVENTLAKE_HOME: home }, cwd: home }),
      (e: Error & { code?: string }) => {
        strictEqual(e.code, "INVALID_ARGUMENT");
        ok(e.message.startsWith(`Cannot parse config file "${file}": `), e.message);
        ok(/line 3 column \d+/.test(e.message), e.message);
        return true;
      },
    );
  });
});

Deno.test("loadConfig() rejects a config.json that is not an object", async () => {
  await withHome(async (home) => {
    await Deno.writeTextFile(join(home, "config.json"), "[1]");
    await rejects(
      loadConfig({ env: { EVENTLAKE_HOME: home }, cwd: home }),
      /expected a JSON object, found an array/,
    );
  });
});

Deno.test("loadConfig() rejects an unknown key in config.json with a suggestion", async () => {
  await withHome(async (home) => {
    await Deno.writeTextFile(join(home, "config.json"), '{"lakeURL": "x"}');
    await rejects(
      loadConfig({ env: { EVENTLAKE_HOME: home }, cwd: home }),
      (e: Error & { details?: Record<string, unknown> }) => {
        ok(e.message.includes('Unknown key "lakeURL" in config file'), e.message);
        strictEqual(e.details?.hint, 'Did you mean "lakeUrl"?');
        return true;
      },
    );
  });
});

Deno.test("loadConfig() rejects bad values, naming the key and where the value came from", async () => {
  await withHome(async (home) => {
    const env = { EVENTLAKE_HOME: home };
    await rejects(loadConfig({ env: { ...env, EVENTLAKE_PORT: "80a" }, cwd: home }), {
      message: 'Invalid port "80a" from EVENTLAKE_PORT: expected an integer from 1 to 65535',
    });
    await rejects(loadConfig({ env, cwd: home }, { flags: { port: "70000" } }), {
      message: 'Invalid port "70000" from --port: expected an integer from 1 to 65535',
    });
    await rejects(loadConfig({ env, cwd: home }, { flags: { endpoint: "ftp://x" } }), {
      message: 'Invalid endpoint "ftp://x" from --endpoint: expected an http:// or https:// URL',
    });
    await rejects(loadConfig({ env, cwd: home }, { flags: { "lake-url": "hdfs://x/y" } }), {
      message:
        'Invalid lakeUrl "hdfs://x/y" from --lake-url: expected a directory or a file://, s3:// or gs:// URL',
    });
    await Deno.writeTextFile(join(home, "config.json"), '{"port": "eighty"}');
    await rejects(loadConfig({ env, cwd: home }), {
      message: `Invalid port "eighty" from "${
        join(home, "config.json")
      }": expected an integer from 1 to 65535`,
    });
  });
});

Deno.test("loadConfig() without HOME or EVENTLAKE_HOME says what to set", async () => {
  await rejects(loadConfig({ env: {}, cwd: "/" }), /neither EVENTLAKE_HOME nor HOME is set/);
});

Deno.test("maskSecret() never shows a short secret and only the tail of a long one", () => {
  strictEqual(maskSecret("abc"), "********");
  strictEqual(maskSecret("0123456789abcde"), "********");
  strictEqual(maskSecret("0123456789abcdefWXYZ"), "********WXYZ");
});

Deno.test("eventlake config prints each value and its source, with the secret masked", async () => {
  await withHome(async (home) => {
    const secret = "super-secret-value-1234";
    await Deno.writeTextFile(
      join(home, "config.json"),
      JSON.stringify({ credentialSecret: secret }),
    );
    const io = memoryIo({
      env: { EVENTLAKE_HOME: home, EVENTLAKE_CREDENTIAL_ID: "team-a" },
      cwd: home,
    });
    strictEqual(await run(["config", "--port", "9001"], io), 0);
    const text = io.stdoutText();
    ok(!text.includes(secret), "secret is not printed");
    const line = (key: string) =>
      text.split("\n").find((l) => l.startsWith(key + " "))?.split(/\s{2,}/);
    deepStrictEqual(line("port"), ["port", "9001", "--port"]);
    deepStrictEqual(line("credentialId"), ["credentialId", "team-a", "EVENTLAKE_CREDENTIAL_ID"]);
    deepStrictEqual(line("credentialSecret"), [
      "credentialSecret",
      "********1234",
      join(home, "config.json"),
    ]);
    deepStrictEqual(line("home"), ["home", home, "EVENTLAKE_HOME"]);
    deepStrictEqual(line("endpoint"), ["endpoint", "http://127.0.0.1:9001", "default"]);
  });
});

Deno.test("eventlake config --json reports values, sources and masks the secret", async () => {
  await withHome(async (home) => {
    const secret = "another-secret-value-9876";
    const io = memoryIo({
      env: { EVENTLAKE_HOME: home, EVENTLAKE_CREDENTIAL_SECRET: secret },
      cwd: home,
    });
    strictEqual(await run(["config", "--json"], io), 0);
    ok(!io.stdoutText().includes(secret));
    const report = JSON.parse(io.stdoutText());
    deepStrictEqual(report.settings.credentialSecret, {
      value: "********9876",
      source: "EVENTLAKE_CREDENTIAL_SECRET",
      env: "EVENTLAKE_CREDENTIAL_SECRET",
      masked: true,
    });
    deepStrictEqual(report.settings.credentialId, {
      value: null,
      source: "unset",
      env: "EVENTLAKE_CREDENTIAL_ID",
      masked: false,
    });
    strictEqual(report.file, join(home, "config.json"));
    strictEqual(report.fileFound, false);
  });
});

Deno.test("eventlake config exits 2 on a broken config.json, naming the file", async () => {
  await withHome(async (home) => {
    await Deno.writeTextFile(join(home, "config.json"), "{");
    const io = memoryIo({ env: { EVENTLAKE_HOME: home }, cwd: home });
    strictEqual(await run(["config"], io), 2);
    ok(
      io.stderrText().startsWith(
        `eventlake: Cannot parse config file "${join(home, "config.json")}": `,
      ),
    );
  });
});

Deno.test("CONFIG_FLAGS name each flag's value by what it is and give --results-dir's default folder", () => {
  const valueNames = Object.fromEntries(
    Object.entries(CONFIG_FLAGS).map(([flag, spec]) => [flag, spec.valueName]),
  );
  deepStrictEqual(valueNames, {
    "home": "dir",
    "lake-url": "url",
    "results-dir": "dir",
    "port": "port",
    "endpoint": "url",
    "credential-id": "id",
    "data-source": "name",
    "database": "name",
    "bucket": "name",
    "result-path": "path",
  });
  ok(CONFIG_FLAGS["results-dir"].description?.includes("$EVENTLAKE_HOME/buckets"));
});

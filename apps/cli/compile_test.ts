import { ok, strictEqual } from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../../scripts/compile.ts", import.meta.url));
const DENORT_BIN = Deno.env.get("DENORT_BIN");
const decoder = new TextDecoder();

async function exec(command: string, args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(command, {
    args,
    env,
    clearEnv: env !== undefined,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

if (!DENORT_BIN) {
  console.log(
    "compile_test: skipping the compiled-binary test: DENORT_BIN is not set " +
      "(deno compile must download denort from dl.deno.land otherwise)",
  );
}

Deno.test({
  name: "deno task compile builds dist/eventlake that prints --help and exits 2 on a bad command",
  ignore: !DENORT_BIN,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "eventlake-compile-" });
    try {
      const binary = join(dir, Deno.build.os === "windows" ? "eventlake.exe" : "eventlake");
      const build = await exec(Deno.execPath(), ["run", "-A", SCRIPT, "--output", binary]);
      strictEqual(build.code, 0, build.stderr);
      const help = await exec(binary, ["--help"], { NO_COLOR: "1", HOME: dir });
      strictEqual(help.code, 0, help.stderr);
      ok(help.stdout.includes("Usage:"));
      const bad = await exec(binary, ["nosuchcommand"], { NO_COLOR: "1", HOME: dir });
      strictEqual(bad.code, 2);
      ok(bad.stderr.startsWith('eventlake: Unknown command "nosuchcommand"'));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("deno task compile without a reachable denort fails, saying to set DENORT_BIN", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-compile-" });
  try {
    // Make the runtime download fail fast everywhere: a proxy on a closed port.
    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? dir,
      NO_COLOR: "1",
      HTTPS_PROXY: "http://127.0.0.1:9",
      HTTP_PROXY: "http://127.0.0.1:9",
    };
    // Keep the same caches (npm packages must not be fetched through the dead proxy).
    for (const name of ["DENO_DIR", "XDG_CACHE_HOME"]) {
      const value = Deno.env.get(name);
      if (value) env[name] = value;
    }
    const result = await exec(
      Deno.execPath(),
      ["run", "-A", SCRIPT, "--no-check", "--output", join(dir, "eventlake")],
      env,
    );
    if (result.code === 0) {
      // denort was already cached in DENO_DIR: the build needed no download.
      ok(existsSync(join(dir, "eventlake")));
      return;
    }
    ok(result.stderr.includes("set DENORT_BIN"), result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task compile rejects a DENORT_BIN that does not exist", async () => {
  const result = await exec(Deno.execPath(), ["run", "-A", SCRIPT], {
    PATH: Deno.env.get("PATH") ?? "",
    DENORT_BIN: "/nonexistent/denort",
  });
  strictEqual(result.code, 1);
  ok(result.stderr.includes('DENORT_BIN "/nonexistent/denort" does not exist'), result.stderr);
});

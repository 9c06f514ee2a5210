import { ok, strictEqual } from "node:assert/strict";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

async function cli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

Deno.test("`deno run apps/cli/main.ts --help` prints the overview on stdout and exits 0", async () => {
  const result = await cli(["--help"]);
  strictEqual(result.code, 0, result.stderr);
  ok(result.stdout.includes("Usage:"));
  ok(result.stdout.includes("inspect"));
  strictEqual(result.stderr, "");
});

Deno.test("`deno run apps/cli/main.ts` exits with the error's code and prints it on stderr", async () => {
  const unknown = await cli(["inspectt"]);
  strictEqual(unknown.code, 2);
  strictEqual(unknown.stdout, "");
  ok(unknown.stderr.startsWith('eventlake: Unknown command "inspectt"\n'), unknown.stderr);

  const badEnv = await cli(["config"], { EVENTLAKE_PORT: "none", EVENTLAKE_HOME: "/nonexistent" });
  strictEqual(badEnv.code, 2);
  ok(badEnv.stderr.includes('Invalid port "none" from EVENTLAKE_PORT'), badEnv.stderr);
});

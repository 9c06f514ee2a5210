import { ok, strictEqual } from "node:assert/strict";
import { run } from "../cli.ts";
import { memoryIo } from "../_testing.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("eventlake serve bootstraps an empty home, serves, and stops on Ctrl-C", async () => {
  const home = await Deno.makeTempDir();
  const controller = new AbortController();
  const io = memoryIo({ env: { EVENTLAKE_HOME: home }, signal: controller.signal });
  const port = freePort();
  const running = run(["serve", "--port", String(port)], io);
  try {
    let health: Response | undefined;
    for (let i = 0; i < 300 && health === undefined; i++) {
      try {
        health = await fetch(`http://127.0.0.1:${port}/healthz`);
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    ok(health, "the server answered");
    strictEqual(health.status, 200);
    await health.body?.cancel();
    const out = io.stdoutText();
    ok(out.includes("Credential-ID:"), out);
    ok(out.includes("Credential-Secret:"));
  } finally {
    controller.abort();
    await running;
    await Deno.remove(home, { recursive: true });
  }
});

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { run } from "../cli.ts";
import { memoryIo } from "../_testing.ts";
import { makeHome, startGateway } from "../_client_testing.ts";

Deno.test("credentials create --json prints the id and secret once; a credential works on the gateway, a revoked one is exit 4", async () => {
  const home = await makeHome();
  const gateway = await startGateway(home);
  try {
    const create = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(
      await run(["credentials", "create", "--name", "carol@example.com", "--json"], create),
      0,
    );
    const created = JSON.parse(create.stdoutText());
    deepStrictEqual(Object.keys(created), ["credentialId", "credentialSecret"]);

    const list = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(await run(["credentials", "list", "--json"], list), 0);
    const listed = JSON.parse(list.stdoutText());
    const mine = listed.find((c: { credentialId: string }) =>
      c.credentialId === created.credentialId
    );
    strictEqual(mine.name, "carol@example.com");
    ok(!list.stdoutText().includes(created.credentialSecret), "list never shows a secret");

    const env = {
      EVENTLAKE_HOME: home,
      EVENTLAKE_ENDPOINT: gateway.url,
      EVENTLAKE_CREDENTIAL_ID: created.credentialId,
      EVENTLAKE_CREDENTIAL_SECRET: created.credentialSecret,
    };
    const ok1 = memoryIo({ env });
    strictEqual(await run(["datasource", "list", "--json"], ok1), 0, ok1.stderrText());

    // The gateway trusts a verified credential for a few seconds (its cache), so revocation is
    // checked with a second credential the server has not seen yet.
    const second = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(await run(["credentials", "create", "--name", "erin", "--json"], second), 0);
    const other = JSON.parse(second.stdoutText());
    const revoke = memoryIo({ env: { EVENTLAKE_HOME: home } });
    strictEqual(await run(["credentials", "revoke", other.credentialId, "--json"], revoke), 0);
    deepStrictEqual(JSON.parse(revoke.stdoutText()), {
      credentialId: other.credentialId,
      revoked: true,
    });
    const denied = memoryIo({
      env: {
        ...env,
        EVENTLAKE_CREDENTIAL_ID: other.credentialId,
        EVENTLAKE_CREDENTIAL_SECRET: other.credentialSecret,
      },
    });
    strictEqual(await run(["datasource", "list"], denied), 4);
  } finally {
    await gateway.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("credentials: a missing --name is exit 2, an unknown id exit 3, and embedded mode checks a configured credential (exit 4)", async () => {
  const home = await makeHome();
  try {
    const env = { EVENTLAKE_HOME: home };
    const noName = memoryIo({ env });
    strictEqual(await run(["credentials", "create"], noName), 2);
    ok(noName.stderrText().includes("Missing --name"));
    const unknown = memoryIo({ env });
    strictEqual(await run(["credentials", "revoke", "nope"], unknown), 3, unknown.stderrText());
    const human = memoryIo({ env });
    strictEqual(await run(["credentials", "create", "--name", "dave"], human), 0);
    ok(human.stdoutText().startsWith("credentialId"), human.stdoutText());
    ok(human.stderrText().includes("shown only now"));
    const wrong = memoryIo({
      env: { ...env, EVENTLAKE_CREDENTIAL_ID: "x", EVENTLAKE_CREDENTIAL_SECRET: "y" },
    });
    strictEqual(await run(["queries", "list"], wrong), 4);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

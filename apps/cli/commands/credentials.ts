/**
 * `eventlake credentials create|list|revoke`: the API credentials of this home.
 *
 * Credentials live in the state under `$EVENTLAKE_HOME` (the one `eventlake serve` on this host
 * reads); the Open API has no routes for them, so these commands always act on the local state,
 * whatever endpoint is configured. The secret is shown once, at creation; only its digest is kept.
 *
 * @module
 */
import { InvalidArgumentError } from "@eventlake/schema";
import type { Command, CommandContext } from "../command.ts";
import { loadConfig } from "../config.ts";
import { formatTable } from "../format.ts";
import { openEmbeddedService } from "../_embedded.ts";
import { actionArg, idArg } from "./queries.ts";

const ACTIONS = ["create", "list", "revoke"] as const;

function time(ms: number | undefined): string {
  return ms === undefined ? "-" : new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

/**
 * Creates, lists or revokes credentials.
 *
 * @example
 * ```ts
 * import { run } from "../cli.ts";
 * import { memoryIo } from "../_testing.ts";
 * const home = await Deno.makeTempDir();
 * const io = memoryIo({ env: { EVENTLAKE_HOME: home } });
 * await run(["credentials", "create", "--name", "me@example.com", "--json"], io);
 * console.log(Object.keys(JSON.parse(io.stdoutText()))); // ["credentialId", "credentialSecret"]
 * await Deno.remove(home, { recursive: true });
 * ```
 */
export async function credentialsCommand(context: CommandContext): Promise<void> {
  const action = actionArg(context, ACTIONS, "credentials");
  let name: string | undefined;
  if (action === "create") {
    name = typeof context.flags.name === "string" ? context.flags.name.trim() : "";
    if (name === "") {
      throw new InvalidArgumentError('Missing --name for "eventlake credentials create"', {
        details: { hint: "eventlake credentials create --name you@example.com" },
      });
    }
  }
  const id = action === "revoke" ? idArg(context, "credential-id", "credentials revoke") : "";
  const config = await loadConfig(context.io, { flags: context.flags, signal: context.signal });
  const embedded = await openEmbeddedService(config.values, {
    env: context.io.env,
    engine: false,
  });
  const { service } = embedded;
  try {
    if (action === "create") {
      const created = await service.createCredential(name!);
      if (context.flags.json) {
        await context.print(
          JSON.stringify({
            credentialId: created.credentialId,
            credentialSecret: created.credentialSecret,
          }),
        );
      } else {
        await context.print(
          formatTable([
            ["credentialId", created.credentialId],
            ["credentialSecret", created.credentialSecret],
          ]),
        );
        await context.log(
          context.err.yellow(
            "The secret is shown only now: store it (e.g. EVENTLAKE_CREDENTIAL_SECRET)",
          ),
        );
      }
    } else if (action === "list") {
      const list = await service.listCredentials();
      if (context.flags.json) {
        await context.print(JSON.stringify(list, null, 2));
        return;
      }
      const c = context.out;
      await context.print(formatTable([
        ["CREDENTIAL ID", "NAME", "CREATED (UTC)", "REVOKED (UTC)"].map(c.bold),
        ...list.map((
          k,
        ) => [k.credentialId, k.name, time(k.createdAt), k.revoked ? time(k.revokedAt) : "-"]),
      ]));
    } else {
      await service.revokeCredential(id);
      if (context.flags.json) {
        await context.print(JSON.stringify({ credentialId: id, revoked: true }));
      } else {
        await context.log(`Credential ${id} revoked`);
      }
    }
  } finally {
    await embedded.close();
  }
}

/** The `credentials` entry of the command table. */
export const CREDENTIALS_COMMAND: Command = Object.freeze<Command>({
  summary: "Create, list or revoke API credentials (Credential-ID / Credential-Secret)",
  usage: "create --name <name> [--json] | list [--json] | revoke <credential-id>",
  description:
    "Acts on the state under $EVENTLAKE_HOME, which `eventlake serve` on this host uses (the API\n" +
    "has no credential routes). create prints the secret once; only a digest is stored. The name\n" +
    "is the creator name queries and data sources are owned by. Exit 3 for an unknown id.",
  positionals: [
    { name: "action", description: "create, list or revoke" },
    { name: "id", description: "The credential id (revoke)", required: false },
  ],
  options: {
    json: { type: "boolean", description: "Print JSON on stdout" },
    name: {
      type: "string",
      description: "Creator name of the new credential (create)",
      valueName: "name",
    },
    home: {
      type: "string",
      description: "Directory of local state [EVENTLAKE_HOME]",
      valueName: "dir",
    },
  },
  examples: [
    {
      command: "eventlake credentials create --name analyst@example.com --json",
      description: 'Prints {"credentialId": …, "credentialSecret": …} once',
    },
    { command: "eventlake credentials list", description: "Every credential, without secrets" },
    { command: "eventlake credentials revoke AKIA…", description: "Revoke one" },
  ],
  handler: credentialsCommand,
});

/**
 * Test fixtures of the client commands: a temporary home with a small lake (one day of events,
 * written with `writeEvents` in the manifest layout of `@eventlake/storage`), and the real
 * gateway app over the real embedded service, served on a free 127.0.0.1 port.
 *
 * @module
 */
import { join } from "node:path";
import { writeEvents } from "@eventlake/parquet";
import type { Event } from "@eventlake/schema";
import { type DayManifest, DEFAULT_LAKE_TABLE, lakeTablePrefix } from "@eventlake/storage";
import { createApp } from "../gateway/app.ts";
import { loadConfig } from "./config.ts";
import { type EmbeddedService, openEmbeddedService } from "./_embedded.ts";

/** A temporary home with a lake of `rows` events on 2023-01-01 (three event keys). */
export async function makeHome(rows = 30): Promise<string> {
  const home = await Deno.makeTempDir({ prefix: "eventlake-cli-test-" });
  const date = "2023-01-01";
  const tableDir = join(home, "lake", lakeTablePrefix(DEFAULT_LAKE_TABLE));
  const dayDir = join(tableDir, `dt=${date}`);
  await Deno.mkdir(dayDir, { recursive: true });
  const start = Date.UTC(2023, 0, 1);
  const events: Event[] = Array.from({ length: rows }, (_, i) => ({
    insert_id: `id-${i}`,
    event_key: ["view", "click", "buy"][i % 3],
    ts: start + i * 1000,
    metric_value: BigInt(i) * 1_500_000n,
    identifiers: { id: `user-${i % 4}`, device_id: `device-${i % 4}` },
    event_properties: {},
    user_properties: {},
    platform_properties: { osname: "android", appversion: "1.0.0" },
  }));
  const name = "run1-000000.parquet";
  const file = await Deno.open(join(dayDir, name), { write: true, create: true });
  await writeEvents(events, file.writable);
  const bytes = (await Deno.stat(join(dayDir, name))).size;
  const manifest: DayManifest = {
    date,
    runId: "run1",
    landedAt: new Date().toISOString(),
    files: [{ key: `dt=${date}/${name}`, rows, bytes }],
    rows,
  };
  await Deno.writeTextFile(join(dayDir, "_MANIFEST.json"), JSON.stringify(manifest));
  await Deno.writeTextFile(
    join(tableDir, "_VERSION"),
    JSON.stringify({ token: "run1", changedAt: new Date().toISOString() }),
  );
  return home;
}

/** A gateway on a free port over the embedded service of `home`. */
export interface TestGateway {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The service behind it. */
  embedded: EmbeddedService;
  /** A valid credential of `tester@example.com`. */
  credentialId: string;
  /** Its secret. */
  credentialSecret: string;
  /** Stops the server and the service. */
  close(): Promise<void>;
}

/** Starts the real gateway app (apps/gateway/app.ts) on 127.0.0.1 over `home`'s service. */
export async function startGateway(home: string): Promise<TestGateway> {
  const config = await loadConfig({ env: { EVENTLAKE_HOME: home }, cwd: home });
  await Deno.mkdir(join(config.values.resultsDir, config.values.bucket), { recursive: true });
  const embedded = await openEmbeddedService(config.values, { env: {} });
  const app = createApp({ queryService: embedded.service, limits: { credentialCacheMs: 0 } });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    app.fetch,
  );
  const { credentialId, credentialSecret } = await embedded.service.createCredential(
    "tester@example.com",
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    embedded,
    credentialId,
    credentialSecret,
    async close(): Promise<void> {
      await server.shutdown();
      await embedded.close();
    },
  };
}

/** Waits until `check()` is true (polling every 20 ms, at most `ms`). */
export async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("Condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

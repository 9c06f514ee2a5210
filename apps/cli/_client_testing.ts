/**
 * Test fixtures of the client commands: a temporary home with a small lake (one day of events,
 * written with `writeEvents` in the manifest layout of `@eventlake/storage`), and the real
 * gateway app over the real embedded service, served on a free 127.0.0.1 port.
 *
 * @module
 */
import { mkdir, mkdtemp, open, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeEvents } from "@eventlake/parquet";
import type { Event } from "@eventlake/schema";
import type { QueryService } from "@eventlake/dataquery";
import { type DayManifest, DEFAULT_LAKE_TABLE, lakeTablePrefix } from "@eventlake/storage";
import { startServer } from "../gateway/server.ts";
import { loadConfig } from "./config.ts";
import { openEmbeddedService } from "./_embedded.ts";

/** A temporary home with a lake of `rows` events on 2023-01-01 (three event keys). */
export async function makeHome(rows = 30): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), "eventlake-cli-test-"));
  const date = "2023-01-01";
  const tableDir = join(home, "lake", lakeTablePrefix(DEFAULT_LAKE_TABLE));
  const dayDir = join(tableDir, `dt=${date}`);
  await mkdir(dayDir, { recursive: true });
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
  const file = await open(join(dayDir, name), "w");
  try {
    await writeEvents(
      events,
      new WritableStream({ write: async (chunk) => void await file.write(chunk) }),
    );
  } finally {
    await file.close();
  }
  const bytes = (await stat(join(dayDir, name))).size;
  const manifest: DayManifest = {
    date,
    runId: "run1",
    landedAt: new Date().toISOString(),
    files: [{ key: `dt=${date}/${name}`, rows, bytes }],
    rows,
  };
  await writeFile(join(dayDir, "_MANIFEST.json"), JSON.stringify(manifest));
  await writeFile(
    join(tableDir, "_VERSION"),
    JSON.stringify({ token: "run1", changedAt: new Date().toISOString() }),
  );
  return home;
}

/** The gateway of `eventlake serve` on a free port, over a home the CLI shares. */
export interface TestGateway {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The server's query service. */
  service: QueryService;
  /** A valid credential of `tester@example.com`, made by the CLI's embedded wiring. */
  credentialId: string;
  /** Its secret. */
  credentialSecret: string;
  /** The environment of a CLI run against this gateway: home, endpoint and credential. */
  env: Record<string, string>;
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * Starts the real gateway (`startServer` of apps/gateway/server.ts, as `eventlake serve` does)
 * on 127.0.0.1 over `home`. The credential is created first through the CLI's embedded service,
 * so the server skips its first-start demo and both sides prove they share state and key; the
 * server keeps its buckets in its default folder, which must be the CLI's `resultsDir` default.
 */
export async function startGateway(home: string): Promise<TestGateway> {
  const config = await loadConfig({ env: { EVENTLAKE_HOME: home }, cwd: home });
  const values = config.values;
  const embedded = await openEmbeddedService(values, { engine: false });
  let credential;
  try {
    credential = await embedded.service.createCredential("tester@example.com");
  } finally {
    await embedded.close();
  }
  // The CLI's default resultsDir: the server must find the same bucket with its own default.
  await mkdir(join(values.resultsDir, values.bucket), { recursive: true });
  const server = await startServer({
    home,
    port: 0,
    lakeUrl: values.lakeUrl,
    // No bucketsDir: the server's default ($EVENTLAKE_HOME/buckets) must be the CLI's.
    handleSignals: false,
    writeLog: () => {},
  });
  return {
    url: server.url,
    service: server.queryService,
    credentialId: credential.credentialId,
    credentialSecret: credential.credentialSecret,
    env: {
      EVENTLAKE_HOME: home,
      EVENTLAKE_ENDPOINT: server.url,
      EVENTLAKE_CREDENTIAL_ID: credential.credentialId,
      EVENTLAKE_CREDENTIAL_SECRET: credential.credentialSecret,
    },
    close: () => server.shutdown(),
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

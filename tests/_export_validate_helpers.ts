/**
 * Shared inputs of the export/validate end-to-end tests: the same events in every input
 * format, with bad records mixed in.
 *
 * @module
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { openStore } from "@eventlake/storage";
import { memoryIo } from "../apps/cli/_testing.ts";
import { run } from "../apps/cli/cli.ts";
import { storeConfigFromEnv } from "../apps/cli/commands/export.ts";
import { writeEvents } from "@eventlake/parquet";
import { type Event, EVENT_COLUMNS, eventToJson, formatDecimal } from "@eventlake/schema";
import { generateEvents } from "@eventlake/schema/testing";

/** Good events of two days, interleaved. */
export function goodEvents(n: number): Event[] {
  const a = generateEvents(n, { day: "2023-01-01", seed: 11 });
  const b = generateEvents(n, { day: "2023-01-02", seed: 12 });
  return a.flatMap((e, i) => [e, b[i]]);
}

/** Records each input format carries that must be rejected (one per day, both with a ts). */
export const BAD_RECORDS: readonly Record<string, unknown>[] = [
  {
    ts: "2023-01-01T10:00:00Z",
    event_key: "",
    insert_id: "6f1c2b9e-0000-4000-8000-000000000001",
    identifiers: { id: "u", device_id: "d" },
    platform_properties: { osname: "ios", appversion: "1" },
  },
  {
    ts: "2023-01-02T10:00:00Z",
    event_key: "view",
    insert_id: "not-a-uuid",
    identifiers: { id: "u", device_id: "d" },
    platform_properties: { osname: "ios", appversion: "1" },
  },
];

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function csvRow(record: Record<string, unknown>): string {
  return EVENT_COLUMNS.map((c) => {
    const v = record[c];
    if (v === undefined) return "";
    return csvCell(typeof v === "string" ? v : JSON.stringify(v));
  }).join(",");
}

/**
 * Writes the events split across one file per format (NDJSON, JSON array, CSV, Parquet) in
 * `dir`, bad records mixed into the three text formats, and returns the NDJSON text of the part
 * meant for stdin.
 */
export async function writeInputs(
  dir: string,
  events: readonly Event[],
): Promise<{ files: string[]; stdin: string; bad: number }> {
  const quarter = Math.ceil(events.length / 5);
  const chunks = [0, 1, 2, 3, 4].map((i) => events.slice(i * quarter, (i + 1) * quarter));
  const json = (e: Event) => ({ ...eventToJson(e), metric_value: formatDecimal(e.metric_value) });
  await Deno.writeTextFile(
    join(dir, "a.ndjson"),
    [...chunks[0].map((e) => JSON.stringify(json(e))), JSON.stringify(BAD_RECORDS[0])].join("\n"),
  );
  await Deno.writeTextFile(
    join(dir, "b.json"),
    JSON.stringify([...chunks[1].map(json), BAD_RECORDS[1]], null, 1),
  );
  await Deno.writeTextFile(
    join(dir, "c.csv"),
    [EVENT_COLUMNS.join(","), ...chunks[2].map((e) => csvRow(json(e))), csvRow(BAD_RECORDS[0])]
      .join("\r\n") + "\r\n",
  );
  const file = await Deno.open(join(dir, "d.parquet"), { write: true, create: true });
  await writeEvents(chunks[3], file.writable);
  const stdin = chunks[4].map((e) => JSON.stringify(json(e))).join("\n") + "\n" +
    JSON.stringify(BAD_RECORDS[1]) + "\n";
  return { files: ["a.ndjson", "b.json", "c.csv", "d.parquet"], stdin, bad: 4 };
}

/**
 * The object-store scenario run against S3 and GCS: export every format through the CLI,
 * validate, then break days in the store and check that validate names each break.
 */
export async function objectStoreScenario(
  base: string,
  env: Record<string, string>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-e2e-store-" });
  try {
    const { files, stdin } = await writeInputs(dir, goodEvents(200));
    const cli = async (args: string[], input?: string) => {
      const io = memoryIo({ cwd: dir, env, stdin: input });
      const code = await run(args, io);
      return { code, out: io.stdoutText(), err: io.stderrText() };
    };

    // Within --max-rejects: both days ready, validate agrees.
    let r = await cli(
      ["export", ...files, "-", "--to", `${base}/good`, "--max-rejects", "4", "--json"],
      stdin,
    );
    strictEqual(r.code, 0, r.err);
    const summary = JSON.parse(r.out);
    deepStrictEqual(
      summary.days.map((d: { rows: number; committed: boolean }) => [d.rows, d.committed]),
      [[200, true], [200, true]],
    );
    r = await cli(["validate", `${base}/good`, "--from", "2023-01-01", "--to", "2023-01-31"]);
    strictEqual(r.code, 0, r.out + r.err);

    // Past --max-rejects: exit 2, no _SUCCESS, validate says so.
    r = await cli(["export", ...files, "-", "--to", `${base}/strict`, "--rejects", "-"], stdin);
    strictEqual(r.code, 2, r.err);
    r = await cli(["validate", `${base}/strict`, "--date", "2023-01-01", "--json"]);
    strictEqual(r.code, 2);
    deepStrictEqual(
      JSON.parse(r.out).days[0].problems.map((p: { rule: string }) => p.rule),
      ["success_missing"],
    );

    // Break the good days in the store.
    const url = `${base}/good`;
    const { store, prefix } = await openStore(url, storeConfigFromEnv(url, env));
    try {
      const day1 = `${prefix}dt=2023-01-01/`;
      const day2 = `${prefix}dt=2023-01-02/`;
      const part = await store.read(`${day1}000000000000.parquet`);
      await store.write(`${day1}000000000001.parquet`, part.slice(0, part.length - 30));
      await store.write(`${day1}_SUCCESS`, new Uint8Array([1]));
      await store.write(
        `${day2}000000000001.parquet`,
        await store.read(`${day2}000000000000.parquet`),
      );
      await store.write(`${day2}extra.txt`, new Uint8Array([1]));
    } finally {
      await store.close();
    }
    r = await cli(["validate", url, "--from", "2023-01-01", "--to", "2023-01-02", "--json"]);
    strictEqual(r.code, 2);
    const report = JSON.parse(r.out);
    const rules = (i: number) =>
      [...new Set(report.days[i].problems.map((p: { rule: string }) => p.rule))].sort();
    deepStrictEqual(rules(0), ["success_not_empty", "unreadable"]);
    deepStrictEqual(rules(1), ["duplicate_insert_id", "unexpected_file"]);
    strictEqual(report.days[1].errors, 200);
    ok(
      report.days[0].problems.some((p: { file?: string }) =>
        p.file?.endsWith("dt=2023-01-01/000000000001.parquet")
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

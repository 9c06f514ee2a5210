/**
 * Shared inputs of the export/validate end-to-end tests: the same events in every input
 * format, with bad records mixed in.
 *
 * @module
 */
import { join } from "node:path";
import { writeEvents } from "@eventlake/parquet";
import { type Event, eventToJson, formatDecimal } from "@eventlake/schema";
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

const COLUMNS = [
  "ts",
  "event_key",
  "identifiers",
  "insert_id",
  "metric_value",
  "user_properties",
  "event_properties",
  "platform_properties",
] as const;

function csvRow(record: Record<string, unknown>): string {
  return COLUMNS.map((c) => {
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
    [COLUMNS.join(","), ...chunks[2].map((e) => csvRow(json(e))), csvRow(BAD_RECORDS[0])]
      .join("\r\n") + "\r\n",
  );
  const file = await Deno.open(join(dir, "d.parquet"), { write: true, create: true });
  await writeEvents(chunks[3], file.writable);
  const stdin = chunks[4].map((e) => JSON.stringify(json(e))).join("\n") + "\n" +
    JSON.stringify(BAD_RECORDS[1]) + "\n";
  return { files: ["a.ndjson", "b.json", "c.csv", "d.parquet"], stdin, bad: 4 };
}

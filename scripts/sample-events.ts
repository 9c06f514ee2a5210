/**
 * Prints realistic sample events of one UTC day as NDJSON (the producer input `eventlake export`
 * reads), for the README's quick start and for trying things out.
 *
 * ```sh
 * deno run scripts/sample-events.ts --day 2023-01-01 --count 1000 > events.ndjson
 * ```
 *
 * `--bad N` appends N records that break the format in different ways (to see rejects).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { eventToJson } from "@eventlake/schema";
import { createEventGenerator } from "@eventlake/schema/testing";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    day: { type: "string", default: "2023-01-01" },
    count: { type: "string", default: "1000" },
    seed: { type: "string", default: "1" },
    bad: { type: "string", default: "0" },
  },
});
const count = Number(values.count);
const bad = Number(values.bad);
if (!Number.isInteger(count) || count < 0 || !Number.isInteger(bad) || bad < 0) {
  console.error("sample-events: --count and --bad take whole numbers");
  Deno.exit(2);
}
const next = createEventGenerator({ day: values.day, seed: Number(values.seed) });
const lines: string[] = [];
for (let i = 0; i < count; i++) lines.push(JSON.stringify(eventToJson(next())));
const broken = [
  (e: Record<string, unknown>) => ({ ...e, insert_id: "not-a-uuid" }),
  (e: Record<string, unknown>) => ({ ...e, metric_value: "1.0000001" }),
  (e: Record<string, unknown>) => ({ ...e, platform_properties: { osname: "Android" } }),
  (e: Record<string, unknown>) => ({ ...e, ts: "2023-01-01 00:01:02.333" }),
];
for (let i = 0; i < bad; i++) {
  const e = eventToJson(next()) as unknown as Record<string, unknown>;
  lines.push(JSON.stringify(broken[i % broken.length](e)));
}
const out = new TextEncoder().encode(lines.join("\n") + (lines.length ? "\n" : ""));
await Deno.stdout.write(out);

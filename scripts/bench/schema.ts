/**
 * Schema benchmark: events per second of the event generator, `checkEvent`, `validateEventInput`
 * and the valibot `EventInputSchema`, each against a reference measured in the same run:
 *
 * - generator vs `JSON.parse` of the same events as NDJSON (building the same object graph from text);
 * - `checkEvent` vs a bare loop that reads every field and map key, and vs the importer's
 *   end-to-end budget of 250,000 rows/s (the share of that budget it takes);
 * - `JSON.parse` + `validateEventInput` vs `JSON.parse` alone;
 * - `v.safeParse(EventInputSchema)` vs `validateEventInput`.
 *
 *     deno run -A scripts/bench/schema.ts [--events 200000] [--reps 3]
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import * as v from "valibot";
import {
  checkEvent,
  type Event,
  EventInputSchema,
  eventToJson,
  validateEventInput,
} from "@eventlake/schema";
import { createEventGenerator, generateEvents } from "@eventlake/schema/testing";

const IMPORT_BUDGET_ROWS_PER_S = 250_000;

/**
 * Best (fastest) of `reps` runs of `run`, as events per second of this process's CPU time
 * (user + system): on a shared machine it counts the work, not the wait for a core.
 */
function rate(count: number, reps: number, run: () => number): { perSecond: number; sink: number } {
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < reps; r++) {
    const start = process.cpuUsage();
    sink += run();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1e6);
  }
  return { perSecond: count / best, sink };
}

function touch(e: Event): number {
  let n = e.insert_id.length + e.event_key.length + (e.ts & 1) + (e.metric_value === 0n ? 1 : 0);
  for (const k in e.identifiers) n += k.length;
  for (const k in e.user_properties) n += k.length;
  for (const k in e.event_properties) n += k.length;
  for (const k in e.platform_properties) n += k.length;
  return n;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

/** Runs the benchmark and returns its Markdown section. */
export async function bench(
  options: { events?: number; reps?: number } = {},
): Promise<string> {
  const count = options.events ?? 200_000;
  const reps = options.reps ?? 3;
  await Promise.resolve();

  // Warm up every path once on a small set.
  const warm = generateEvents(20_000, { seed: 99 });
  for (const e of warm) {
    checkEvent(e);
    touch(e);
    const json = JSON.parse(JSON.stringify(eventToJson(e)));
    validateEventInput(json);
    v.safeParse(EventInputSchema, json);
  }

  const generate = rate(count, reps, () => {
    const next = createEventGenerator({ seed: 1 });
    let s = 0;
    for (let i = 0; i < count; i++) s += next().ts & 1;
    return s;
  });
  const events = generateEvents(count, { seed: 2 });
  const lines = events.map((e) => JSON.stringify(eventToJson(e)));
  const bytes = lines.reduce((n, l) => n + l.length + 1, 0);

  const parse = rate(count, reps, () => {
    let s = 0;
    for (const line of lines) s += JSON.parse(line).ts.length;
    return s;
  });
  const touched = rate(count, reps, () => {
    let s = 0;
    for (const e of events) s += touch(e);
    return s;
  });
  const checked = rate(count, reps, () => {
    let s = 0;
    for (const e of events) s += checkEvent(e).length;
    return s;
  });
  if (checked.sink !== 0) throw new Error("checkEvent() refused a generated event");
  const validated = rate(count, reps, () => {
    let s = 0;
    for (const line of lines) s += validateEventInput(JSON.parse(line)).ok ? 1 : 0;
    return s;
  });
  if (validated.sink !== count * reps) {
    throw new Error("validateEventInput() refused a generated line");
  }
  const parsedOnce = lines.map((l) => JSON.parse(l));
  const validateOnly = rate(count, reps, () => {
    let s = 0;
    for (const record of parsedOnce) s += validateEventInput(record).ok ? 1 : 0;
    return s;
  });
  const valibotOnly = rate(count, reps, () => {
    let s = 0;
    for (const record of parsedOnce) s += v.safeParse(EventInputSchema, record).success ? 1 : 0;
    return s;
  });

  return [
    "## Schema: generate, check and validate events",
    "",
    `Command: \`deno run -A scripts/bench/schema.ts --events ${count} --reps ${reps}\` ` +
    `(best of ${reps}; ${fmt(count)} generated events, NDJSON ${
      (bytes / count).toFixed(0)
    } bytes/event). Rates are per second of the process's CPU time (user + system), so waiting ` +
    "for a core on a shared machine does not count.",
    "",
    "| what | events/CPU-s | reference (same run) | ratio |",
    "| --- | ---: | --- | ---: |",
    `| \`createEventGenerator()\` | ${
      fmt(generate.perSecond)
    } | \`JSON.parse\` of the same events: ${fmt(parse.perSecond)}/s | ${
      ratio(generate.perSecond, parse.perSecond)
    } |`,
    `| \`checkEvent()\` | ${fmt(checked.perSecond)} | bare loop reading every field and key: ${
      fmt(touched.perSecond)
    }/s | ${ratio(checked.perSecond, touched.perSecond)} |`,
    `| \`checkEvent()\` | ${fmt(checked.perSecond)} | importer budget ${
      fmt(IMPORT_BUDGET_ROWS_PER_S)
    } rows/s | ${ratio(checked.perSecond, IMPORT_BUDGET_ROWS_PER_S)} (uses ${
      (100 * IMPORT_BUDGET_ROWS_PER_S / checked.perSecond).toFixed(1)
    }% of the budget) |`,
    `| \`JSON.parse\` + \`validateEventInput()\` | ${
      fmt(validated.perSecond)
    } | \`JSON.parse\` alone: ${fmt(parse.perSecond)}/s | ${
      ratio(validated.perSecond, parse.perSecond)
    } |`,
    `| \`validateEventInput()\` on parsed records | ${fmt(validateOnly.perSecond)} | — | — |`,
    `| \`v.safeParse(EventInputSchema)\` on parsed records | ${
      fmt(valibotOnly.perSecond)
    } | \`validateEventInput()\`: ${fmt(validateOnly.perSecond)}/s | ${
      ratio(valibotOnly.perSecond, validateOnly.perSecond)
    } |`,
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { events: { type: "string" }, reps: { type: "string" } },
  });
  console.log(
    await bench({
      events: values.events === undefined ? undefined : Number(values.events),
      reps: values.reps === undefined ? undefined : Number(values.reps),
    }),
  );
}

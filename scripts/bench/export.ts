/**
 * Producer benchmark: `exportEvents` (NDJSON file → local `dt=` partitions) and
 * `validatePartitions` (the same partitions), each against references measured in the same run:
 *
 * - export vs the same work as one in-memory loop: every line of the text already in memory
 *   through `JSON.parse` + `validateEventInput` straight into one `writeEvents` to one local
 *   file. The ratio is what streaming the input file, day grouping, the insert_id set, part
 *   rolling and the partition protocol add. (Feeding `writeEvents` pre-built events is not a
 *   fair floor: parsed strings are fresh objects whose hashes the writer's dictionaries must
 *   compute, while generated events share pooled strings.)
 * - validate vs `readEventBatches` of the same part files alone (the reader the importer uses).
 *   The ratio is what `checkEvent`, the ts-in-day check and the insert_id set add.
 *
 * Times are CPU seconds of this process (user + system), best of `--reps`.
 *
 *     deno run -A scripts/bench/export.ts [--events 200000] [--reps 2]
 *
 * @module
 */
import process from "node:process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { exportEvents, validatePartitions } from "@eventlake/dataimport";
import { fileSource, readEventBatches, writeEvents } from "@eventlake/parquet";
import { type Event, eventToJson, validateEventInput } from "@eventlake/schema";
import { generateEvents } from "@eventlake/schema/testing";

async function cpuSeconds(reps: number, run: () => Promise<void>): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const start = process.cpuUsage();
    await run();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1e6);
  }
  return best;
}

/** Runs the benchmark and returns its Markdown section. */
export async function bench(
  options: { events?: number; reps?: number } = {},
): Promise<string> {
  const count = options.events ?? 200_000;
  const reps = options.reps ?? 2;
  const dir = await Deno.makeTempDir({ prefix: "eventlake-bench-export-" });
  try {
    // Three days, interleaved in blocks of 100 (days interleave in real producer input).
    const days = ["2023-01-01", "2023-01-02", "2023-01-03"].map((day, i) =>
      generateEvents(Math.ceil(count / 3), { day, seed: i + 1 })
    );
    const events: Event[] = [];
    for (let i = 0; i < days[0].length; i += 100) {
      for (const d of days) events.push(...d.slice(i, i + 100));
    }
    events.length = count;
    const text = events.map((e) => JSON.stringify(eventToJson(e))).join("\n") + "\n";
    const input = join(dir, "events.ndjson");
    await Deno.writeTextFile(input, text);
    const lines = text.split("\n").filter((l) => l !== "");

    const parseValidate = await cpuSeconds(reps, () => {
      let ok = 0;
      for (const line of lines) if (validateEventInput(JSON.parse(line)).ok) ok++;
      if (ok !== count) throw new Error(`validated ${ok} of ${count}`);
      return Promise.resolve();
    });
    const write = await cpuSeconds(reps, async () => {
      const file = await Deno.open(join(dir, "reference.parquet"), {
        write: true,
        create: true,
        truncate: true,
      });
      function* parsed(): Generator<Event> {
        for (const line of lines) {
          const result = validateEventInput(JSON.parse(line));
          if (result.ok) yield result.event;
        }
      }
      await writeEvents(parsed(), file.writable);
    });
    let parts = 0;
    const exported = await cpuSeconds(reps, async () => {
      const summary = await exportEvents([input], {
        to: `file://${dir}/lake`,
        rejectsTo: undefined,
      });
      if (!summary.ok || summary.accepted !== count) throw new Error("export failed");
      parts = summary.days.reduce((n, d) => n + d.parts, 0);
    });

    const partFiles: string[] = [];
    for (const day of ["2023-01-01", "2023-01-02", "2023-01-03"]) {
      for await (const entry of Deno.readDir(join(dir, "lake", `dt=${day}`))) {
        if (entry.name.endsWith(".parquet")) {
          partFiles.push(join(dir, "lake", `dt=${day}`, entry.name));
        }
      }
    }
    const read = await cpuSeconds(reps, async () => {
      let rows = 0;
      for (const path of partFiles) {
        const source = await fileSource(path);
        for await (const batch of readEventBatches(source)) rows += batch.length;
        await source.close();
      }
      if (rows !== count) throw new Error(`read ${rows} of ${count}`);
    });
    const validated = await cpuSeconds(reps, async () => {
      const report = await validatePartitions(`file://${dir}/lake`, {
        from: "2023-01-01",
        to: "2023-01-03",
      });
      if (!report.ok) throw new Error("validate failed");
    });

    const rate = (s: number) => `${Math.round(count / s).toLocaleString("en-US")} rows/s`;
    const floor = write;
    return [
      "## Producer: export and validate",
      "",
      `${count.toLocaleString("en-US")} events over 3 days interleaved in blocks of 100, NDJSON ` +
      `${
        (text.length / 2 ** 20).toFixed(1)
      } MiB; local folder; CPU seconds of this process, best ` +
      `of ${reps}. Command: \`deno run -A scripts/bench/export.ts\`.`,
      "",
      "| step | CPU s | rate |",
      "| --- | ---: | ---: |",
      `| reference: JSON.parse + validateEventInput | ${parseValidate.toFixed(2)} | ${
        rate(parseValidate)
      } |`,
      `| reference: parse + validate + writeEvents to one file, in memory | ${write.toFixed(2)} | ${
        rate(write)
      } |`,
      `| **exportEvents** (${parts} parts) | ${exported.toFixed(2)} | ${rate(exported)} |`,
      `| reference: readEventBatches of the parts | ${read.toFixed(2)} | ${rate(read)} |`,
      `| **validatePartitions** | ${validated.toFixed(2)} | ${rate(validated)} |`,
      "",
      `export / in-memory parse+validate+write = **${(exported / floor).toFixed(2)}×**; ` +
      `validate / read = **${(validated / read).toFixed(2)}×**.`,
    ].join("\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { events: { type: "string" }, reps: { type: "string" } },
  });
  console.log(
    await bench({
      events: values.events ? Number(values.events) : undefined,
      reps: values.reps ? Number(values.reps) : undefined,
    }),
  );
}

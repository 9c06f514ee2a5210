/**
 * `deno task bench`: runs every benchmark module in this folder (each exports
 * `bench(): Promise<string>` returning a Markdown section) and prints one report with the
 * machine it ran on. `--only <name>` runs one module (e.g. `--only parquet_write`);
 * `--out FILE` also writes the report to FILE.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cpus, totalmem } from "node:os";
import { basename, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const { values } = parseArgs({
  args: Deno.args,
  options: { only: { type: "string", multiple: true }, out: { type: "string" } },
});

const here = dirname(fileURLToPath(import.meta.url));
const names: string[] = [];
for await (const entry of Deno.readDir(here)) {
  if (!entry.isFile || !entry.name.endsWith(".ts") || entry.name === "run.ts") continue;
  if (entry.name.startsWith("_")) continue;
  names.push(basename(entry.name, ".ts"));
}
names.sort();
const selected = values.only?.length ? names.filter((n) => values.only!.includes(n)) : names;

const cpu = cpus()[0]?.model ?? "unknown CPU";
const header = [
  `# Benchmark run ${new Date().toISOString()}`,
  "",
  `Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
  `Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch}.`,
  "Command: `deno task bench`" +
  (values.only?.length ? ` --only ${values.only.join(" --only ")}` : "") + ".",
  "",
].join("\n");
const sections: string[] = [header];
console.error(header);
for (const name of selected) {
  console.error(`bench: running ${name} …`);
  const mod = await import(pathToFileURL(`${here}/${name}.ts`).href);
  if (typeof mod.bench !== "function") {
    console.error(`bench: ${name}.ts exports no bench() — skipped`);
    continue;
  }
  const section: string = await mod.bench();
  sections.push(section);
  console.log(section + "\n");
}
if (values.out) await Deno.writeTextFile(values.out, sections.join("\n\n") + "\n");

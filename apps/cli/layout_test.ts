import { deepStrictEqual } from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL(".", import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await sources(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) out.push(path);
  }
  return out.sort();
}

/** Source files (test files and JSDoc examples aside) whose code matches `pattern`. */
async function filesUsing(pattern: RegExp): Promise<string[]> {
  const found: string[] = [];
  for (const path of await sources(ROOT)) {
    const code = (await Deno.readTextFile(path))
      .replace(/\/\*\*[\s\S]*?\*\//g, "") // JSDoc, whose examples may use Deno.*
      .replace(/^\s*\/\/.*$/gm, "");
    if (pattern.test(code)) found.push(relative(ROOT, path));
  }
  return found;
}

Deno.test("only main.ts calls Deno.exit: commands report failure by throwing", async () => {
  deepStrictEqual(await filesUsing(/Deno\.exit\b/), ["main.ts"]);
});

Deno.test("Deno.* is used only by main.ts and the local-filesystem config loader", async () => {
  deepStrictEqual(await filesUsing(/\bDeno\./), ["config.ts", "main.ts"]);
});

Deno.test("no CLI module writes through console: all output goes through Io", async () => {
  deepStrictEqual(await filesUsing(/\bconsole\./), []);
});

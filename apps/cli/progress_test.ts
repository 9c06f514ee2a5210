import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { memoryIo } from "./_testing.ts";
import { createProgress } from "./progress.ts";

Deno.test("createProgress() prints plain lines every 10% when stderr is not a terminal", async () => {
  const io = memoryIo();
  const p = createProgress(io, "Reading", { total: 100, unit: "rows" });
  for (let i = 0; i < 100; i++) await p.advance(1);
  await p.done();
  const lines = io.stderrText().trimEnd().split("\n");
  strictEqual(lines.length, 11);
  strictEqual(lines[0], "Reading: 10/100 rows (10%)");
  strictEqual(lines[9], "Reading: 100/100 rows (100%)");
  strictEqual(lines[10], "Reading: 100 rows done");
  ok(!io.stderrText().includes("\r"));
  strictEqual(io.stdoutText(), "");
});

Deno.test("createProgress() without a total prints a line every N items", async () => {
  const io = memoryIo();
  const p = createProgress(io, "Scanning", { everyItems: 1000 });
  await p.update(999);
  await p.update(2500);
  await p.done("Scanned 2,500 items");
  deepStrictEqual(io.stderrText().trimEnd().split("\n"), [
    "Scanning: 2,500 items",
    "Scanned 2,500 items",
  ]);
});

Deno.test("createProgress() draws a bar in place on a terminal, coloured unless NO_COLOR", async () => {
  const io = memoryIo({ isTTY: { stderr: true }, columns: 80 });
  const p = createProgress(io, "Reading", { total: 4, unit: "rows" });
  await p.update(2);
  await p.done();
  const text = io.stderrText();
  ok(text.startsWith("\r\x1b[2K"), JSON.stringify(text));
  ok(text.includes("█"));
  ok(text.includes("\x1b[36m"));
  ok(text.endsWith("\r\x1b[2KReading: 2 rows done\n"));

  const plain = memoryIo({ isTTY: { stderr: true }, env: { NO_COLOR: "1" } });
  const q = createProgress(plain, "Reading", { total: 4 });
  await q.update(1);
  ok(plain.stderrText().includes("█"));
  ok(!plain.stderrText().includes("\x1b[36m"));
});

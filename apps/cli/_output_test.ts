import { deepStrictEqual, rejects, strictEqual, throws } from "node:assert/strict";
import { AbortedError } from "@eventlake/schema";
import { parseOutputFormat, writeRows } from "./_output.ts";

async function render(
  format: "table" | "csv" | "json" | "ndjson",
  rows: (string | null)[][],
): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  const sink = new WritableStream<Uint8Array>({
    write: (c) => void (text += decoder.decode(c, { stream: true })),
  });
  await writeRows(
    sink,
    [{ name: "n", type: "decimal(24,6)" }, { name: "s", type: "varchar" }],
    [rows],
    {
      format,
    },
  );
  return text;
}

Deno.test("writeRows() keeps NULL apart from the empty string in every format", async () => {
  const rows = [["1.500000", ""], [null, null], ["-2.000000", 'a,"b"\nc']];
  strictEqual(await render("csv", rows), 'n,s\r\n1.500000,""\r\n,\r\n-2.000000,"a,""b""\nc"\r\n');
  strictEqual(
    await render("ndjson", rows),
    '{"n":"1.500000","s":""}\n{"n":null,"s":null}\n{"n":"-2.000000","s":"a,\\"b\\"\\nc"}\n',
  );
  deepStrictEqual(JSON.parse(await render("json", rows)), [
    { n: "1.500000", s: "" },
    { n: null, s: null },
    { n: "-2.000000", s: 'a,"b"\nc' },
  ]);
  strictEqual(
    await render("table", rows),
    [
      "        n  s",
      "---------  --------",
      " 1.500000",
      "     NULL  NULL",
      '-2.000000  a,"b"\\nc',
      "",
    ].join("\n"),
  );
});

Deno.test("writeRows() of no rows: the header only, or an empty JSON array", async () => {
  strictEqual(await render("csv", []), "n,s\r\n");
  strictEqual(await render("json", []), "[]\n");
  strictEqual(await render("ndjson", []), "");
});

Deno.test("writeRows() stops with AbortedError when the signal aborts", async () => {
  const controller = new AbortController();
  controller.abort();
  await rejects(
    writeRows(new WritableStream(), [{ name: "n" }], [[["1"]]], {
      format: "csv",
      signal: controller.signal,
    }),
    AbortedError,
  );
});

Deno.test("parseOutputFormat() names the accepted formats and suggests the closest", () => {
  strictEqual(parseOutputFormat("CSV"), "csv");
  throws(() => parseOutputFormat("jsonl"), {
    name: "InvalidArgumentError",
    message: 'Invalid format "jsonl": expected table, csv, json, ndjson',
  });
});

Deno.test("writeRows() lays out a table of 300,000 rows (widths without spreading the column)", async () => {
  const rows = Array.from({ length: 300_000 }, (_, i) => [String(i)]);
  let lines = 0;
  let last = "";
  const decoder = new TextDecoder();
  const sink = new WritableStream<Uint8Array>({
    write(chunk) {
      const text = decoder.decode(chunk);
      lines += text.split("\n").length - 1;
      last = text;
    },
  });
  strictEqual(
    await writeRows(sink, [{ name: "n", type: "bigint" }], [rows], { format: "table" }),
    300_000,
  );
  strictEqual(lines, 300_002);
  strictEqual(last.endsWith("299999\n"), true);
});

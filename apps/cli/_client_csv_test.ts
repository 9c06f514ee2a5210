import { deepStrictEqual, rejects } from "node:assert/strict";
import { parseCsvStream } from "./_client_csv.ts";

async function parse(chunks: string[]): Promise<(string | null)[][]> {
  const encoder = new TextEncoder();
  const out: (string | null)[][] = [];
  for await (const r of parseCsvStream(ReadableStream.from(chunks.map((c) => encoder.encode(c))))) {
    out.push(r);
  }
  return out;
}

Deno.test("parseCsvStream() reads quoted fields, escaped quotes, line breaks in fields and NULLs across chunk edges", async () => {
  const text = 'a,b,c\r\n"x,""y""\r\nz",,""\r\n1,2,3\r\n';
  const expected = [["a", "b", "c"], ['x,"y"\r\nz', null, ""], ["1", "2", "3"]];
  deepStrictEqual(await parse([text]), expected);
  // Every split point, so quotes and CRLFs cut between chunks are handled.
  for (let i = 1; i < text.length; i++) {
    deepStrictEqual(await parse([text.slice(0, i), text.slice(i)]), expected, `split at ${i}`);
  }
  deepStrictEqual(await parse(["a\nb"]), [["a"], ["b"]]);
  deepStrictEqual(await parse(["é,\u{1F600}"]), [["é", "\u{1F600}"]]);
});

Deno.test("parseCsvStream() rejects text after a closing quote and an unclosed quote, naming the line", async () => {
  await rejects(parse(['a\r\n"x"y\r\n']), {
    message: /unexpected "y" after a closing quote in record 2/,
  });
  await rejects(parse(['a\r\n"open']), { message: /not closed/ });
});

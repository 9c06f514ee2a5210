import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { type InputRecord, readInputs, type StreamInput } from "./_inputs.ts";

const encoder = new TextEncoder();

/** A stream input that delivers `text` in chunks of `size` characters (to cross boundaries). */
function textInput(text: string, size = 1 << 20, format?: StreamInput["format"]): StreamInput {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < text.length; i += size) chunks.push(encoder.encode(text.slice(i, i + size)));
  return { name: "stdin", stream: ReadableStream.from(chunks), format };
}

async function all(
  inputs: Parameters<typeof readInputs>[0],
  options?: Parameters<typeof readInputs>[1],
): Promise<InputRecord[]> {
  const out: InputRecord[] = [];
  for await (const batch of readInputs(inputs, options)) out.push(...batch);
  return out;
}

Deno.test("readInputs() reads NDJSON lines with their numbers, skipping blank lines and CRLF", async () => {
  const records = await all([textInput('{"a":1}\r\n\n  \n{"b":2}\nnot json\n{"c":3}', 3)]);
  deepStrictEqual(records.map((r) => [r.kind, (r as { line: number }).line]), [
    ["value", 1],
    ["value", 4],
    ["invalid", 5],
    ["value", 6],
  ]);
  deepStrictEqual((records[1] as { value: unknown }).value, { b: 2 });
  const bad = records[2] as Extract<InputRecord, { kind: "invalid" }>;
  strictEqual(bad.problems[0].rule, "json");
  ok(bad.problems[0].message.startsWith("Line is not valid JSON"));
  strictEqual(bad.text, "not json");
});

Deno.test("readInputs() streams a JSON array element by element across chunk boundaries", async () => {
  const text = '[\n {"s": "a,]}\\"[{"},\n {"n": [1, {"x": 2}]} ,\n 7\n]\n';
  for (const size of [1, 2, 5, 1000]) {
    const records = await all([textInput(text, size)]);
    deepStrictEqual(
      records.map((r) => (r as { value: unknown }).value),
      [{ s: 'a,]}"[{' }, { n: [1, { x: 2 }] }, 7],
      `chunk size ${size}`,
    );
    deepStrictEqual(records.map((r) => (r as { line: number }).line), [2, 3, 4]);
  }
});

Deno.test("readInputs() refuses a broken JSON array naming the input and line", async () => {
  await rejects(all([textInput('[{"a":1},\n]')]), /Cannot read "stdin" line 2: trailing ","/);
  await rejects(all([textInput('[{"a":1}')]), /not closed with "\]"/);
  await rejects(all([textInput('[{"a":1}] x', 100, "json")]), /unexpected text after the end/);
  await rejects(all([textInput("[1,,2]")]), /an element is missing/);
  const records = await all([textInput("[]")]);
  strictEqual(records.length, 0);
});

Deno.test("readInputs() reads RFC 4180 CSV: quotes, doubled quotes, newlines in fields, CRLF", async () => {
  const header =
    "ts,event_key,identifiers,insert_id,metric_value,user_properties,event_properties,platform_properties";
  const text = `${header}\r\n` +
    `2023-01-01T00:00:00Z,"buy,\r\nnow","{""id"":""u1"",""device_id"":""d1""}",id-1,1.5,,"{""note"":""a,b""}","{""osname"":""ios"",""appversion"":""1""}"\r\n` +
    `1672531200000,view,"{}",id-2,,,,"{}"\r\n`;
  for (const size of [1, 7, 10000]) {
    const records = await all([textInput(text, size, "csv")]);
    strictEqual(records.length, 2, `chunk size ${size}`);
    const first = records[0] as Extract<InputRecord, { kind: "value" }>;
    deepStrictEqual(first.value, {
      ts: "2023-01-01T00:00:00Z",
      event_key: "buy,\r\nnow",
      identifiers: { id: "u1", device_id: "d1" },
      insert_id: "id-1",
      metric_value: "1.5",
      event_properties: { note: "a,b" },
      platform_properties: { osname: "ios", appversion: "1" },
    });
    strictEqual(first.line, 2);
    const second = records[1] as Extract<InputRecord, { kind: "value" }>;
    strictEqual(second.line, 4);
    strictEqual((second.value as { ts: unknown }).ts, 1672531200000);
  }
});

Deno.test("readInputs() refuses a CSV header that does not name exactly the columns", async () => {
  await rejects(
    all([textInput("ts,event_key,insert_id\n", 100, "csv")]),
    /Cannot read "stdin" line 1: the CSV header must name exactly the columns .*missing "identifiers"/,
  );
  await rejects(
    all([textInput("ts,event_name\n", 100, "csv")]),
    /unknown "event_name"/,
  );
  await rejects(all([textInput("", 100, "csv")]), /the CSV header row is missing/);
});

Deno.test("readInputs() turns a CSV row of the wrong width or a bad map cell into an invalid record", async () => {
  const header =
    "ts,event_key,identifiers,insert_id,metric_value,user_properties,event_properties,platform_properties";
  const records = await all([
    textInput(`${header}\na,b\n2023-01-01T00:00:00Z,x,{nope},i,,,,{}\n`, 100, "csv"),
  ]);
  const [short, badMap] = records as Extract<InputRecord, { kind: "invalid" }>[];
  strictEqual(short.kind, "invalid");
  strictEqual(short.line, 2);
  strictEqual(short.problems[0].message, "Row has 2 fields, the header has 8");
  strictEqual(badMap.line, 3);
  strictEqual(badMap.problems[0].path, "identifiers");
  strictEqual(badMap.problems[0].rule, "json");
  await rejects(all([textInput(`${header}\n"open`, 100, "csv")]), /a quoted field is not closed/);
  await rejects(all([textInput(`${header}\na"b,c`, 100, "csv")]), /a quote must open its field/);
});

Deno.test("readInputs() sniffs the format of a stream: [ is a JSON array, { is NDJSON, else CSV", async () => {
  deepStrictEqual(
    (await all([textInput('  [{"a":1}]')])).map((r) => (r as { value: unknown }).value),
    [{ a: 1 }],
  );
  deepStrictEqual(
    (await all([textInput('{"a":1}\n{"a":2}')])).map((r) => (r as { value: unknown }).value),
    [{ a: 1 }, { a: 2 }],
  );
  await rejects(all([textInput("hello,world\n")]), /CSV header/);
});

Deno.test("readInputs() expands globs in name order and names a missing file or empty glob", async () => {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-inputs-" });
  try {
    await Deno.mkdir(join(dir, "sub"));
    await Deno.writeTextFile(join(dir, "b.ndjson"), '{"f":"b"}\n');
    await Deno.writeTextFile(join(dir, "a.ndjson"), '{"f":"a"}\n');
    await Deno.writeTextFile(join(dir, "sub", "c.ndjson"), '{"f":"c"}\n');
    await Deno.writeTextFile(join(dir, "x.txt"), "ignored");
    const flat = await all(["*.ndjson"], { cwd: dir });
    deepStrictEqual(flat.map((r) => r.input), ["a.ndjson", "b.ndjson"]);
    const deep = await all(["**/*.ndjson"], { cwd: dir });
    deepStrictEqual(deep.map((r) => r.input), ["a.ndjson", "b.ndjson", "sub/c.ndjson"]);
    await rejects(all(["nope.ndjson"], { cwd: dir }), /Cannot read "nope.ndjson": no such file/);
    await rejects(
      all(["*.csv"], { cwd: dir }),
      /Cannot read "\*.csv": no file matches the pattern/,
    );
    await rejects(all(["sub"], { cwd: dir }), /Cannot read "sub": not a file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readInputs() sniffs Parquet on a stream by its magic and reads it with row numbers", async () => {
  const { writeEvents } = await import("@eventlake/parquet");
  const { generateEvents } = await import("@eventlake/schema/testing");
  const events = generateEvents(3);
  const chunks: Uint8Array[] = [];
  await writeEvents(events, new WritableStream({ write: (c) => void chunks.push(c) }));
  const records = await all([{ name: "stdin", stream: ReadableStream.from(chunks) }]);
  deepStrictEqual(records.map((r) => [r.kind, (r as { row: number }).row]), [
    ["event", 0],
    ["event", 1],
    ["event", 2],
  ]);
  deepStrictEqual((records[2] as { event: unknown }).event, events[2]);
});

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { Event } from "@eventlake/schema";
import { generateEvents } from "@eventlake/schema/testing";
import { bytesSource } from "./mod.ts";
import { openTranscode, TranscodeWriter } from "./_transcode.ts";
import { releaseBuffers, takeBuffers } from "./_transcode_chunk.ts";
import {
  concat,
  dataPageCompression,
  pagesOf,
  readAll,
  toBytes,
  transcode,
  withDuckDb,
} from "./_test_files.ts";

Deno.test("transcoding with a keep-mask gives the kept rows, in order, with exact values", async () => {
  const events = generateEvents(3000, { seed: 7 });
  const source = await toBytes(events, { rowGroupSize: 1000 });
  const keep = (r: number) => r % 7 !== 3;
  const { bytes, fallbacks } = await transcode(source, keep);
  strictEqual(fallbacks, 0);
  const back = await readAll(bytes);
  deepStrictEqual(back, (await readAll(source)).filter((_, r) => keep(r)));
});

Deno.test("transcoding handles PLAIN strings, empty maps, null values, 18-digit decimals and non-ASCII", async () => {
  const base = generateEvents(20_000, { seed: 3, users: 50_000 });
  base[5].user_properties = {};
  base[6].event_properties = { "키": "값", emoji: "🎉", nothing: null };
  base[7].metric_value = 999999999999999999999999n;
  base[8].metric_value = -999999999999999999999999n;
  base[9].metric_value = -1n;
  const source = await toBytes(base, { rowGroupSize: 20_000 });
  const keep = (r: number) => r % 100 !== 99;
  const { bytes, fallbacks } = await transcode(source, keep);
  strictEqual(fallbacks, 0);
  deepStrictEqual(await readAll(bytes), base.filter((_, r) => keep(r)));
});

Deno.test("transcoding refuses (falls back on) row groups the object path would change or reject", async () => {
  const cases: [string, (e: Event) => void][] = [
    ["uppercase insert_id", (e) => void (e.insert_id = e.insert_id.toUpperCase())],
    ["uppercase key", (e) => void (e.user_properties = { Plan: "x" })],
    ["array-index key", (e) => void (e.user_properties = { "10": "x", a: "y" })],
    ["empty event_key", (e) => void (e.event_key = "")],
    ["missing device_id", (e) => void delete e.identifiers.device_id],
    ["empty osname", (e) => void (e.platform_properties.osname = "")],
    ["null appversion", (e) => void (e.platform_properties.appversion = null)],
    ["BOM in a value", (e) => void (e.event_properties = { k: "\uFEFFx" })],
    ["empty key", (e) => void (e.event_properties = { "": "x" })],
  ];
  for (const [what, change] of cases) {
    const events = generateEvents(20, { seed: 2 });
    change(events[4]);
    const file = await openTranscode(bytesSource(await toBytes(events)));
    ok(file, what);
    const src = bytesSource(await toBytes(events));
    strictEqual(file.decode(0, await file.fetch(src, 0)), undefined, what);
  }
});

Deno.test("openTranscode() declines a file with a tolerated variant (DuckDB's)", async () => {
  const bytes = await Deno.readFile(new URL("./testdata/duckdb_events.parquet", import.meta.url));
  strictEqual(await openTranscode(bytesSource(bytes)), undefined);
});

Deno.test("DuckDB reads a transcoded file with the same rows and statistics it can use", async () => {
  const events = generateEvents(2000, { seed: 11 });
  const source = await toBytes(events, { rowGroupSize: 500 });
  const { bytes } = await transcode(source, (r) => r % 3 !== 0);
  await withDuckDb({ "t.parquet": bytes }, async (query, dir) => {
    const [[count, , , distinct]] = await query(
      `SELECT count(*), sum(metric_value)::VARCHAR, min(ts)::VARCHAR, count(DISTINCT insert_id) FROM '${dir}/t.parquet'`,
    );
    const kept = events.filter((_, r) => r % 3 !== 0);
    strictEqual(Number(count), kept.length);
    strictEqual(Number(distinct), kept.length);
    const pruned = await query(
      `SELECT count(*) FROM '${dir}/t.parquet' WHERE insert_id = '${kept[10].insert_id}'`,
    );
    strictEqual(Number(pruned[0][0]), 1);
  });
});

Deno.test("pages Snappy cannot shrink are stored uncompressed; DuckDB and readEvents read them", async () => {
  const events = generateEvents(6000, { seed: 5 });
  const source = await toBytes(events, { rowGroupSize: 2000 });
  const keep = (r: number) => r % 5 !== 1;
  const { bytes } = await transcode(source, keep);
  const kept = events.filter((_, r) => keep(r));
  // Random UUIDs do not compress: insert_id data pages are stored as they are (the chunk's
  // codec stays SNAPPY); map keys still compress.
  for (const flags of dataPageCompression(bytes, "insert_id")) deepStrictEqual(flags, [false]);
  for (const flags of dataPageCompression(bytes, "platform_properties.key_value.key")) {
    deepStrictEqual(flags, [true]);
  }
  deepStrictEqual(await readAll(bytes), (await readAll(source)).filter((_, r) => keep(r)));
  await withDuckDb({ "t.parquet": bytes }, async (query, dir) => {
    const rows = await query(
      `SELECT insert_id, list_extract(map_extract(identifiers, 'id'), 1) FROM '${dir}/t.parquet' ORDER BY file_row_number`,
    );
    deepStrictEqual(rows, kept.map((e) => [e.insert_id, e.identifiers.id]));
  });
});

Deno.test("a decoded group keeps its values after the next fetch overwrites the reused raw buffer", async () => {
  for (const compression of ["SNAPPY", "UNCOMPRESSED"] as const) {
    const events = generateEvents(4000, { seed: 9 });
    const bytes = await toBytes(events, { rowGroupSize: 2000, compression });
    const source = bytesSource(bytes);
    const file = await openTranscode(source);
    ok(file, "the file is in the exact schema");
    const raw0 = await file.fetch(source, 0);
    const group = file.decode(0, raw0);
    ok(group, `group 0 decodes (${compression})`);
    const raw1 = await file.fetch(source, 1);
    // The second fetch lands in the same memory as the first: group 0's raw bytes are gone.
    const [index, chunk1] = [...raw1][0];
    strictEqual(chunk1.buffer, raw0.get(index)!.buffer, "the raw buffer is reused");
    const chunks: Uint8Array[] = [];
    const writer = new TranscodeWriter(new WritableStream({ write: (c) => void chunks.push(c) }));
    await writer.append(2000, group.encode(new Uint8Array(2000).fill(1), 2000));
    await writer.close();
    deepStrictEqual(
      await readAll(concat(chunks)),
      await readAll(await toBytes(events.slice(0, 2000))),
    );
    file.release();
  }
});

Deno.test("transcoding a row group whose event_key dictionary has one entry, after a varied one, keeps every event_key", async () => {
  const events = generateEvents(2000, { seed: 11 });
  // Group 1 (rows 0–999) keeps its varied event keys; group 2 (rows 1000–1999) has one key only and
  // decodes into the buffers group 1 used. (Our writer writes such indices with bit width 1; the
  // width-0 form other writers use is tested below.)
  for (let r = 1000; r < 2000; r++) events[r].event_key = "only_key";
  const source = await toBytes(events, { rowGroupSize: 1000 });
  const keep = (r: number) => r % 10 !== 0;
  const { bytes, fallbacks } = await transcode(source, keep);
  strictEqual(fallbacks, 0);
  const back = await readAll(bytes);
  deepStrictEqual(
    back.map((e) => e.event_key),
    events.filter((_, r) => keep(r)).map((e) => e.event_key),
  );
  ok(back.slice(900).every((e) => e.event_key === "only_key"));
});

/**
 * The values section of the one data page of the `event_key` chunk of row group `group` of an
 * UNCOMPRESSED file: where it starts and ends in `bytes`, and how many indices it holds.
 */
function eventKeyIndices(
  bytes: Uint8Array,
  group: number,
): { start: number; end: number; count: number } {
  const pages = [...pagesOf(bytes)].filter((p) =>
    p.group === group && p.column === "event_key" && p.header.data_page_header_v2 !== undefined
  );
  strictEqual(pages.length, 1, `one data page in row group ${group}'s event_key chunk`);
  const { header, body, meta } = pages[0];
  strictEqual(meta.codec, "UNCOMPRESSED");
  const v2 = header.data_page_header_v2!;
  strictEqual(v2.encoding, "RLE_DICTIONARY");
  return {
    start: body + v2.repetition_levels_byte_length + v2.definition_levels_byte_length,
    end: body + header.compressed_page_size,
    count: v2.num_values - v2.num_nulls,
  };
}

/** `value` as a ULEB128 varint of exactly `length` bytes (non-minimal: padded with 0x80 bytes). */
function paddedVarint(value: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = (value & 0x7f) | (i < length - 1 ? 0x80 : 0);
    value >>>= 7;
  }
  strictEqual(value, 0, `the varint fits in ${length} bytes`);
  return out;
}

Deno.test("transcoding a one-entry dictionary written with bit width 0 (as parquet-mr and Arrow write it), after a varied group, keeps every event_key", async () => {
  const events = generateEvents(2000, { seed: 17 });
  for (let r = 1000; r < 2000; r++) events[r].event_key = "only_key";
  ok(new Set(events.slice(0, 1000).map((e) => e.event_key)).size > 3, "group 0 is varied");
  const source = await toBytes(events, { rowGroupSize: 1000, compression: "UNCOMPRESSED" });
  const expected = await readAll(source);
  // Rewrite group 1's index data from our writer's width 1 to width 0: the width byte 0, then
  // one RLE run of `count` values with no value bytes, its header padded to the old length so
  // that no size or offset changes.
  const page = eventKeyIndices(source, 1);
  strictEqual(source[page.start], 1, "our writer's bit width");
  source[page.start] = 0;
  source.set(paddedVarint(page.count << 1, page.end - page.start - 1), page.start + 1);
  const rewritten = eventKeyIndices(source, 1);
  strictEqual(rewritten.count, 1000);
  strictEqual(source[rewritten.start], 0, "the page's indices have bit width 0");
  // DuckDB and the object path read the rewritten file as before.
  deepStrictEqual(await readAll(source), expected);
  await withDuckDb({ "w0.parquet": source }, async (query, dir) => {
    const rows = await query(`SELECT event_key FROM '${dir}/w0.parquet' ORDER BY file_row_number`);
    deepStrictEqual(rows.map(([key]) => key), events.map((e) => e.event_key));
  });
  // Group 1 decodes into the index buffer group 0 filled with its varied indices.
  const keep = (r: number) => r % 10 !== 0;
  const { bytes, fallbacks } = await transcode(source, keep);
  strictEqual(fallbacks, 0);
  const back = await readAll(bytes);
  deepStrictEqual(back, expected.filter((_, r) => keep(r)));
  ok(back.slice(900).every((e) => e.event_key === "only_key"));
  deepStrictEqual(
    back.slice(0, 900).map((e) => e.event_key),
    events.slice(0, 1000).filter((_, r) => keep(r)).map((e) => e.event_key),
  );
});

Deno.test("decode buffers go back to their leaf's slot, so each serves one leaf from file to file", () => {
  const [a, b, c] = [takeBuffers(1), takeBuffers(2), takeBuffers(0)];
  ok(a !== b && b !== c);
  releaseBuffers([[1, a], [2, b], [0, c]]);
  // Taken in another order, each slot still gives its own buffers.
  strictEqual(takeBuffers(2), b);
  strictEqual(takeBuffers(0), c);
  strictEqual(takeBuffers(1), a);
  // An empty slot gives new buffers.
  ok(![a, b, c].includes(takeBuffers(1)));
});

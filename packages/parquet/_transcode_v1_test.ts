import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import type { Event } from "@eventlake/schema";
import { generateEvents } from "@eventlake/schema/testing";
import { bytesSource } from "./mod.ts";
import { openTranscode } from "./_transcode.ts";
import { toDataPageV1 } from "./_test_v1.ts";
import { pagesOf, readAll, toBytes, transcode, withDuckDb } from "./_test_files.ts";

/** Per column (dotted path): `type/encoding` of every data page of the file, in order. */
function dataPages(bytes: Uint8Array): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { column, header } of pagesOf(bytes)) {
    const encoding = header.data_page_header?.encoding ?? header.data_page_header_v2?.encoding;
    if (encoding === undefined) continue;
    out.set(column, [...out.get(column) ?? [], `${header.type}/${encoding}`]);
  }
  return out;
}

/**
 * Events covering what the fast path must carry through v1 pages: PLAIN strings (`insert_id`,
 * `identifiers` values with many users, in a row group of 20,000), dictionary columns, an empty map, a null map value,
 * non-ASCII keys and values, 24-digit and negative decimals.
 */
function variedEvents(count: number): Event[] {
  const events = generateEvents(count, { seed: 3, users: 50_000 });
  events[5].user_properties = {};
  events[6].event_properties = { "키": "값", emoji: "🎉", nothing: null };
  events[7].metric_value = 999999999999999999999999n;
  events[8].metric_value = -999999999999999999999999n;
  events[9].metric_value = -1n;
  events[10].metric_value = -123456789012345678n;
  return events;
}

for (const compression of ["SNAPPY", "UNCOMPRESSED"] as const) {
  Deno.test(`toDataPageV1 (${compression}) writes only v1 data pages, which DuckDB and readEvents read as the original`, async () => {
    const events = variedEvents(25_000);
    const v2 = await toBytes(events, { rowGroupSize: 20_000, compression });
    const v1 = toDataPageV1(v2);
    const pages = dataPages(v1);
    const v2Pages = dataPages(v2);
    strictEqual(pages.size, v2Pages.size, "every leaf has data pages");
    for (const [column, list] of pages) {
      ok(list.every((p) => p.startsWith("DATA_PAGE/")), `${column}: ${list}`);
    }
    // Both value encodings are in v1 pages: PLAIN strings and decimals, dictionary indices.
    // 20,000 distinct ids in group 0 exceed the writer's dictionary limit.
    ok(pages.get("insert_id")!.every((p) => p === "DATA_PAGE/PLAIN"));
    ok(pages.get("metric_value")!.every((p) => p === "DATA_PAGE/PLAIN"));
    ok(pages.get("identifiers.key_value.value")!.includes("DATA_PAGE/PLAIN"));
    ok(pages.get("event_key")!.every((p) => p === "DATA_PAGE/RLE_DICTIONARY"));
    ok(pages.get("identifiers.key_value.key")!.every((p) => p === "DATA_PAGE/RLE_DICTIONARY"));
    for (const [column, list] of v2Pages) {
      deepStrictEqual(list.map((p) => p.replace("DATA_PAGE_V2/", "DATA_PAGE/")), pages.get(column));
    }

    deepStrictEqual(await readAll(v1), await readAll(v2));
    const sql = (file: string) =>
      `SELECT insert_id, event_key, ts::VARCHAR, metric_value::VARCHAR, identifiers::VARCHAR,
        user_properties::VARCHAR, event_properties::VARCHAR, platform_properties::VARCHAR
       FROM '${file}' ORDER BY file_row_number`;
    await withDuckDb({ "v1.parquet": v1, "v2.parquet": v2 }, async (query, dir) => {
      const fromV1 = await query(sql(`${dir}/v1.parquet`));
      strictEqual(fromV1.length, events.length);
      deepStrictEqual(fromV1, await query(sql(`${dir}/v2.parquet`)));
      deepStrictEqual(fromV1[7][3], "999999999999999999.999999");
      deepStrictEqual(fromV1[10][3], "-123456789012.345678");
    });
  });

  Deno.test(`transcoding v1 pages (${compression}) keeps the same rows as transcoding the V2 original, without falling back`, async () => {
    const events = variedEvents(25_000);
    const v2 = await toBytes(events, { rowGroupSize: 20_000, compression });
    const v1 = toDataPageV1(v2);
    const keep = (r: number) => r % 7 !== 3;
    const fromV1 = await transcode(v1, keep);
    const fromV2 = await transcode(v2, keep);
    strictEqual(fromV1.fallbacks, 0);
    strictEqual(fromV2.fallbacks, 0);
    const back = await readAll(fromV1.bytes);
    deepStrictEqual(back, events.filter((_, r) => keep(r)));
    // The same decoded arrays: the output is byte for byte the V2 original's.
    deepStrictEqual(fromV1.bytes, fromV2.bytes);

    // The import's id pass reads v1 insert_ids on the fast path too.
    const source = bytesSource(v1);
    const file = await openTranscode(source);
    ok(file);
    const ids: string[] = [];
    const text = new TextDecoder();
    for (let g = 0; g < file.rowGroups; g++) {
      const raw = await file.fetch(source, g, { idsOnly: true });
      ok(file.forEachId(g, raw, (b, at, n) => void ids.push(text.decode(b.subarray(at, at + n)))));
    }
    deepStrictEqual(ids, events.map((e) => e.insert_id));
    file.release();
  });

  Deno.test(`a v1 page (${compression}) whose level length runs past the page falls back, and the object path reports it`, async () => {
    const events = generateEvents(3000, { seed: 5 });
    const v2 = await toBytes(events, { rowGroupSize: 1000, compression });
    // Group 1's user_properties keys: the repetition levels' 4-byte length claims 2^31 bytes.
    const v1 = toDataPageV1(v2, {
      editPage(page, column, group) {
        if (column === "user_properties.key_value.key" && group === 1) {
          new DataView(page.buffer, page.byteOffset).setUint32(0, 0x8000_0000, true);
        }
      },
    });
    const source = bytesSource(v1);
    const file = await openTranscode(source);
    ok(file, "the footer is intact: the file is in the exact schema");
    ok(file.decode(0, await file.fetch(source, 0)), "group 0 decodes");
    strictEqual(file.decode(1, await file.fetch(source, 1)), undefined);
    ok(file.decode(2, await file.fetch(source, 2)), "group 2 decodes");
    file.release();
    const { fallbacks } = await transcode(v1, () => true);
    strictEqual(fallbacks, 1);
    await rejects(readAll(v1), (error: Error) => {
      ok(/user_properties\.key_value\.key/.test(error.message), error.message);
      ok(/row group 1/.test(error.message), error.message);
      ok(/levels claim 2147483648 bytes/.test(error.message), error.message);
      return true;
    });
  });
}

Deno.test("a v1 page whose definition levels hold a level above the column's maximum falls back", async () => {
  const events = generateEvents(2000, { seed: 8 });
  const v2 = await toBytes(events, { rowGroupSize: 1000, compression: "UNCOMPRESSED" });
  // Group 1's identifiers values (max definition level 2): the definition levels become one RLE
  // run of 3s.
  const v1 = toDataPageV1(v2, {
    editPage(page, column, group) {
      if (column !== "identifiers.key_value.value" || group !== 1) return;
      const view = new DataView(page.buffer, page.byteOffset);
      const repLength = view.getUint32(0, true);
      const at = 4 + repLength;
      const defLength = view.getUint32(at, true);
      // One RLE run at least as long as the page's entries: ULEB128 header 16382 (8191 values
      // << 1), then the value, 3.
      const run = [0xfe, 0x7f, 3];
      ok(defLength >= run.length, "room for one run");
      page.set(run, at + 4);
      page.fill(0, at + 4 + run.length, at + 4 + defLength);
    },
  });
  const source = bytesSource(v1);
  const file = await openTranscode(source);
  ok(file);
  ok(file.decode(0, await file.fetch(source, 0)), "group 0 decodes");
  strictEqual(file.decode(1, await file.fetch(source, 1)), undefined);
  file.release();
  await rejects(readAll(v1), /identifiers\.key_value\.value.*level 3 is above the maximum 2/);
});

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { generateEvents } from "@eventlake/schema/testing";
import { bytesSource, writeEvents } from "@eventlake/parquet";
import { openTranscode } from "@eventlake/parquet/transcode";
import { createLocalStore } from "@eventlake/storage/local";
import { createMemoryStore } from "@eventlake/storage/memory";
import { storeSource } from "./_import_source.ts";

async function parquetBytes(rows: number, rowGroupSize: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await writeEvents(
    generateEvents(rows, { seed: 3 }),
    new WritableStream({ write: (c) => void chunks.push(c) }),
    { rowGroupSize },
  );
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), at += c.length);
  return out;
}

Deno.test("storeSource().readInto() of a local or memory store fills a view of the caller's buffer, short only at the end", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = Uint8Array.from({ length: 300_000 }, (_, i) => i * 7);
    for (const store of [createLocalStore(dir), createMemoryStore()]) {
      await store.write("a/b.bin", data);
      const src = storeSource(store, "a/b.bin", data.byteLength);
      // A view at an offset of a larger buffer: the bytes land at that offset.
      const buffer = new Uint8Array(250_000).fill(1);
      const got = await src.readInto!(1000, buffer.subarray(100, 200_100));
      strictEqual(got.byteOffset, 100, store.url);
      strictEqual(got.byteLength, 200_000);
      deepStrictEqual(got, data.subarray(1000, 201_000));
      strictEqual(new Uint8Array(got.buffer)[99], 1, "bytes before the view are untouched");
      strictEqual(new Uint8Array(got.buffer)[200_100], 1, "bytes after the view are untouched");
      const tail = await src.readInto!(299_990, new Uint8Array(64));
      deepStrictEqual(tail, data.subarray(299_990));
      strictEqual((await src.readInto!(300_000, new Uint8Array(8))).byteLength, 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the transcoder's reused-buffer fetch through a local store (buffer transferred) decodes every group", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = await parquetBytes(3000, 1000);
    const store = createLocalStore(dir);
    await store.write("p.parquet", bytes);
    const src = storeSource(store, "p.parquet", bytes.byteLength);
    const file = await openTranscode(src, { name: "p.parquet" });
    const plain = await openTranscode(bytesSource(bytes));
    if (file === undefined || plain === undefined) throw new Error("not in the exact schema");
    for (let g = 0; g < file.rowGroups; g++) {
      const got = await file.fetch(src, g);
      const want: Map<number, Uint8Array> = await plain.fetch(bytesSource(bytes), g);
      deepStrictEqual(new Map([...got].map(([k, v]) => [k, v.slice()])), want, `group ${g}`);
      ok(file.decode(g, got), `group ${g} decodes`);
    }
    file.release();
    plain.release();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

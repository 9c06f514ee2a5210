import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { AbortedError, InvalidArgumentError, NotFoundError } from "@eventlake/schema";
import { fileSource } from "./file_source.ts";
import { readExactInto } from "./_read_fetch.ts";
import { readEvents } from "./read.ts";

Deno.test("fileSource() reads ranges of a local file, short only at the end", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, Uint8Array.from({ length: 100 }, (_, i) => i));
    const src = await fileSource(path);
    strictEqual(src.size, 100);
    strictEqual(src.name, path);
    deepStrictEqual(await src.read(10, 3), new Uint8Array([10, 11, 12]));
    deepStrictEqual(await src.read(98, 10), new Uint8Array([98, 99]));
    deepStrictEqual(await src.read(100, 10), new Uint8Array(0));
    // Concurrent reads share one file position: they must not interleave.
    const parts = await Promise.all(Array.from({ length: 20 }, (_, i) => src.read(i * 5, 5)));
    deepStrictEqual(parts.map((p) => p[0]), Array.from({ length: 20 }, (_, i) => i * 5));
    await src.close();
    await src.close();
    await rejects(src.read(0, 1), InvalidArgumentError);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("fileSource() rejects a missing file with NotFoundError naming it", async () => {
  await rejects(
    fileSource("/nonexistent/x.parquet"),
    (e) =>
      e instanceof NotFoundError &&
      e.message === 'Cannot open "/nonexistent/x.parquet": no such file',
  );
});

Deno.test("fileSource() rejects a directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await rejects(fileSource(dir), InvalidArgumentError);
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("readEvents() over fileSource() names the file path in errors", async () => {
  const path = new URL("./testdata/bad_magic.parquet", import.meta.url).pathname;
  const src = await fileSource(path);
  try {
    await rejects(
      (async () => {
        for await (const _ of readEvents(src)) { /* nothing */ }
      })(),
      (e) =>
        e instanceof InvalidArgumentError &&
        e.message.startsWith(`Cannot read Parquet file "${path}": `),
    );
  } finally {
    await src.close();
  }
});

Deno.test("fileSource().readInto() fills the caller's buffer, short only at the end", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, Uint8Array.from({ length: 100 }, (_, i) => i));
    const src = await fileSource(path);
    const target = new Uint8Array(8).fill(255);
    const got = await src.readInto(10, target.subarray(2, 5));
    deepStrictEqual(got, new Uint8Array([10, 11, 12]));
    strictEqual(got.buffer, target.buffer, "the bytes land in the caller's memory");
    deepStrictEqual(target, new Uint8Array([255, 255, 10, 11, 12, 255, 255, 255]));
    deepStrictEqual(await src.readInto(98, new Uint8Array(4)), new Uint8Array([98, 99]));
    strictEqual((await src.readInto(100, new Uint8Array(4))).byteLength, 0);
    await rejects(src.readInto(-1, target), RangeError);
    await src.close();
    await rejects(src.readInto(0, target), InvalidArgumentError);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("reading a range past the end of a file into a buffer names the file and the range", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, new Uint8Array(100));
    const src = await fileSource(path);
    await rejects(
      readExactInto(src, 90, new Uint8Array(20), path, "row group 3"),
      (e) =>
        e instanceof InvalidArgumentError && e.message.includes(path) &&
        e.message.includes("row group 3 spans bytes 90..110 but the file has 100 bytes"),
    );
    // Without readInto (read + copy), the same check and the bytes copied.
    const plain = { size: src.size, read: src.read.bind(src) };
    const out = new Uint8Array(4).fill(1);
    const got = await readExactInto(plain, 96, out, path, "x");
    strictEqual(got.buffer, out.buffer);
    deepStrictEqual(out, new Uint8Array(4));
    await src.close();
    // A file that got shorter than its size says: truncated, naming where.
    const shrunk = { size: 100, read: () => Promise.resolve(new Uint8Array(3)) };
    await rejects(
      readExactInto(shrunk, 40, new Uint8Array(10), path, "row group 1"),
      (e) =>
        e instanceof InvalidArgumentError && e.message.includes(path) &&
        e.message.includes("row group 1 is truncated: expected 10 bytes at offset 40, got 3"),
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("an aborted read into a buffer rejects with AbortedError and writes nothing", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, new Uint8Array(100).fill(7));
    const src = await fileSource(path);
    const controller = new AbortController();
    controller.abort();
    const target = new Uint8Array(10);
    await rejects(readExactInto(src, 0, target, path, "x", controller.signal), AbortedError);
    await rejects(src.readInto(0, target, { signal: controller.signal }), AbortedError);
    ok(target.every((b) => b === 0));
    await src.close();
  } finally {
    await Deno.remove(path);
  }
});

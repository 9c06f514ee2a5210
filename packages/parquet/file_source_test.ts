import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { InvalidArgumentError, NotFoundError } from "@eventlake/schema";
import { fileSource } from "./file_source.ts";
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

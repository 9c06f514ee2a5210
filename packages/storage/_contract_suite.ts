/**
 * The one contract suite every {@linkcode ObjectStore} backend must pass (private: imported by
 * the backends' `*_test.ts` files, never by users).
 *
 * ```ts ignore
 * import { storeContract } from "./_contract_suite.ts";
 * storeContract("memory", () => createMemoryStore());
 * storeContract("s3", () => createS3Store({...}), { ignore: serverMissingReason });
 * ```
 *
 * Every test gets a fresh store from the factory, works under its own random prefix (so real
 * servers can share one bucket), and deletes that prefix afterwards.
 *
 * @module
 */
import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { EventlakeError } from "@eventlake/schema";
import type { ListEntry, ObjectInfo, ObjectStore } from "./store.ts";
import {
  listPartitionDates,
  listPartitionParts,
  openPartitionWriter,
  partitionStatus,
} from "./partition.ts";
import { downloadFile, uploadFile } from "./transfer.ts";

/** Options of {@linkcode storeContract}. */
export interface StoreContractOptions {
  /** When set, every test is registered as ignored and this reason is printed. */
  ignore?: string;
  /** Size of the large streamed object (default 100 MiB, as the issue asks). */
  largeObjectBytes?: number;
  /** Objects written to test paging (default 1,100: past S3's and GCS's 1,000-key pages). */
  manyKeys?: number;
  /** Parallel writes when creating many objects (default 16). */
  concurrency?: number;
  /** Rewrites of a day in the overwrite-racing-a-reader test (default 25). */
  raceRounds?: number;
  /**
   * Makes a store and an existing key it may not read, to check `PermissionDeniedError`;
   * the permission test is skipped (with this reason printed) when a string is given instead.
   */
  permissionDenied?:
    | (() => Promise<{ store: ObjectStore; key: string; cleanup?: () => Promise<void> }>)
    | string;
  /** Test names (without the backend prefix) to skip, each with the reason printed. */
  skip?: Record<string, string>;
  /** Deno's op and resource sanitizers (default true; SDK clients with pooled sockets need false). */
  sanitize?: boolean;
}

type Case = (store: ObjectStore, base: string) => Promise<void>;

/**
 * Registers the contract tests for one backend. `factory` is called once per test.
 */
export function storeContract(
  name: string,
  factory: () => ObjectStore | Promise<ObjectStore>,
  options: StoreContractOptions = {},
): void {
  const large = options.largeObjectBytes ?? 100 * 2 ** 20;
  const manyKeys = options.manyKeys ?? 1100;
  const concurrency = options.concurrency ?? 16;
  const raceRounds = options.raceRounds ?? 25;
  const sanitize = options.sanitize ?? true;
  const denied = options.permissionDenied;
  const skip: Record<string, string> = { ...options.skip };
  if (typeof denied !== "function") {
    skip["a missing permission surfaces as PermissionDeniedError"] ??= denied ??
      "no way to deny a permission was given";
  }
  if (options.ignore) console.warn(`${name} contract suite skipped: ${options.ignore}`);

  const define = (title: string, fn: Case): void => {
    const skipReason = options.ignore ?? skip[title];
    if (skipReason && !options.ignore) console.warn(`${name}: skipped "${title}": ${skipReason}`);
    Deno.test({
      name: `${name}: ${title}`,
      ignore: skipReason !== undefined,
      sanitizeOps: sanitize,
      sanitizeResources: sanitize,
      async fn() {
        const store = await factory();
        const base = `contract-${crypto.randomUUID().slice(0, 8)}/`;
        try {
          await fn(store, base);
        } finally {
          try {
            await store.deletePrefix(base);
          } finally {
            await store.close();
          }
        }
      },
    });
  };

  define("list() orders keys by UTF-8 bytes and folds a delimiter", async (store, base) => {
    // No key is also a prefix of others ("a" beside "a/b"): a file system cannot hold both.
    const names = ["b", "a0", "a/c/d", "a!", "a-b", "a/b", "é", "\uff5a"];
    for (const n of names) await store.write(base + n, bytes(n));
    const all = await keysOf(store.list(base));
    deepStrictEqual(
      all,
      ["a!", "a-b", "a/b", "a/c/d", "a0", "b", "é", "\uff5a"].map((n) => base + n),
    );
    const folded = await collect(store.list(base, { delimiter: "/" }));
    deepStrictEqual(
      folded.map(show),
      [
        "a!",
        "a-b",
        "a/ (prefix)",
        "a0",
        "b",
        "é",
        "\uff5a",
      ].map((n) => base + n),
    );
    deepStrictEqual(
      (await collect(store.list(base + "a/", { delimiter: "/" }))).map(show),
      [base + "a/b", base + "a/c/ (prefix)"],
    );
    deepStrictEqual(await keysOf(store.list(base + "a")), [
      base + "a!",
      base + "a-b",
      base + "a/b",
      base + "a/c/d",
      base + "a0",
    ]);
    const objects = (await collect(store.list(base + "a/"))).filter(isObject);
    strictEqual(objects[0].size, 3);
    ok(objects[0].lastModified instanceof Date, "listing reports lastModified");
  });

  define("list() orders keys above U+FFFF by UTF-8 bytes", async (store, base) => {
    // UTF-16 code units would put U+1F600 (D83D DE00) before U+FF5A; UTF-8 bytes put it after.
    for (const n of ["\u{1F600}", "\uff5a", "z"]) await store.write(base + n, bytes(n));
    deepStrictEqual(await keysOf(store.list(base)), [
      base + "z",
      base + "\uff5a",
      base + "\u{1F600}",
    ]);
  });

  define(`list() pages past 1,000 keys`, async (store, base) => {
    const keys = Array.from(
      { length: manyKeys },
      (_, i) => `${base}many/k${String(i).padStart(5, "0")}`,
    );
    await pool(keys, concurrency, (k) => store.write(k, bytes("x")));
    const listed = await keysOf(store.list(`${base}many/`));
    strictEqual(listed.length, manyKeys);
    deepStrictEqual(listed, keys);
    deepStrictEqual(await keysOf(store.list(`${base}many/k0010`)), keys.slice(100, 110));
    deepStrictEqual((await collect(store.list(base, { delimiter: "/" }))).map(show), [
      `${base}many/ (prefix)`,
    ]);
  });

  define("list() with a delimiter shows a prefix holding only dt= folders", async (store, base) => {
    await store.write(`${base}t/p/dt=2023-01-01/000000000000.parquet`, bytes("p0"));
    await store.write(`${base}t/p/dt=2023-01-01/_SUCCESS`, new Uint8Array(0));
    await store.write(`${base}t/p/dt=2023-01-02/000000000000.parquet`, bytes("p0"));
    deepStrictEqual((await collect(store.list(base, { delimiter: "/" }))).map(show), [
      `${base}t/ (prefix)`,
    ]);
    deepStrictEqual((await collect(store.list(`${base}t/`, { delimiter: "/" }))).map(show), [
      `${base}t/p/ (prefix)`,
    ]);
    deepStrictEqual((await collect(store.list(`${base}t/p/`, { delimiter: "/" }))).map(show), [
      `${base}t/p/dt=2023-01-01/ (prefix)`,
      `${base}t/p/dt=2023-01-02/ (prefix)`,
    ]);
    deepStrictEqual(await collect(store.list(`${base}absent/`, { delimiter: "/" })), []);
    deepStrictEqual(await collect(store.list(`${base}absent/`)), []);
  });

  define("head() and exists() report an object, NotFoundError when absent", async (store, base) => {
    const before = Date.now();
    const written = await store.write(`${base}h/obj`, bytes("hello"));
    const info = await store.head(`${base}h/obj`);
    strictEqual(info.key, `${base}h/obj`);
    strictEqual(info.size, 5);
    strictEqual(written.size, 5);
    ok(info.etag, "head reports an etag");
    if (written.etag !== undefined) strictEqual(written.etag, info.etag);
    ok(info.lastModified instanceof Date);
    ok(info.lastModified.getTime() > before - 120_000, "lastModified is recent");
    strictEqual(await store.exists(`${base}h/obj`), true);
    strictEqual(await store.exists(`${base}h/absent`), false);
    strictEqual(await store.exists(`${base}h`), false, "a prefix is not an object");
    await rejectsWith(store.head(`${base}h/absent`), "NOT_FOUND");
    await rejectsWith(store.read(`${base}h/absent`), "NOT_FOUND");
    await rejectsWith(store.readStream(`${base}h/absent`), "NOT_FOUND");
    await rejectsWith(store.read(`${base}h`), "NOT_FOUND");
  });

  define("0-byte objects are stored, listed and read", async (store, base) => {
    const info = await store.write(`${base}z/_SUCCESS`, new Uint8Array(0));
    strictEqual(info.size, 0);
    await store.write(`${base}z/empty-stream`, streamOf([]));
    for (const key of [`${base}z/_SUCCESS`, `${base}z/empty-stream`]) {
      strictEqual((await store.head(key)).size, 0);
      strictEqual((await store.read(key)).byteLength, 0);
      strictEqual((await drain(await store.readStream(key))).byteLength, 0);
      strictEqual((await store.read(key, { range: { offset: 0, length: 10 } })).byteLength, 0);
    }
    const listed = (await collect(store.list(`${base}z/`))).filter(isObject);
    deepStrictEqual(listed.map((e) => [e.key, e.size]), [
      [`${base}z/_SUCCESS`, 0],
      [`${base}z/empty-stream`, 0],
    ]);
  });

  define("read() and readStream() honour byte ranges, clamped at the end", async (store, base) => {
    const data = Uint8Array.from({ length: 256 }, (_, i) => i);
    const key = `${base}r/bytes`;
    await store.write(key, data);
    const cases: [number, number, number, number][] = [
      // offset, length, expected start, expected end
      [0, 10, 0, 10],
      [100, 50, 100, 150],
      [250, 10, 250, 256],
      [255, 1, 255, 256],
      [256, 10, 256, 256],
      [1000, 5, 256, 256],
      [5, 0, 5, 5],
      [0, 256, 0, 256],
      [0, 10_000, 0, 256],
    ];
    for (const [offset, length, from, to] of cases) {
      const range = { offset, length };
      deepStrictEqual(
        await store.read(key, { range }),
        data.slice(from, to),
        `read ${offset}+${length}`,
      );
      deepStrictEqual(
        await drain(await store.readStream(key, { range })),
        data.slice(from, to),
        `readStream ${offset}+${length}`,
      );
    }
    deepStrictEqual(await store.read(key), data);
    await rejectsWith(store.read(key, { range: { offset: -1, length: 2 } }), "INVALID_ARGUMENT");
    await rejectsWith(store.read(key, { range: { offset: 0, length: -2 } }), "INVALID_ARGUMENT");
  });

  define(
    "write() takes a stream of odd-sized chunks and readStream() returns it",
    async (store, base) => {
      const chunks = [1, 7, 65536, 3, 1 << 20, 0, 12345].map((n, c) =>
        Uint8Array.from({ length: n }, (_, i) => (i * 31 + c) & 255)
      );
      const total = chunks.reduce((s, c) => s + c.byteLength, 0);
      const info = await store.write(`${base}s/obj`, streamOf(chunks));
      strictEqual(info.size, total);
      const expected = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) (expected.set(c, at), at += c.byteLength);
      deepStrictEqual(await drain(await store.readStream(`${base}s/obj`)), expected);
      deepStrictEqual(await store.read(`${base}s/obj`), expected);
    },
  );

  define(
    "write() takes a byte stream (like a file's readable) of odd-sized chunks",
    async (store, base) => {
      // Over 8 MiB, so S3 fills more than one part through a BYOB reader.
      const sizes = [100_003, 1, 3 * BLOCK + 5, 65_536, 7, 5 * BLOCK, 12_345, 777];
      const total = sizes.reduce((a, b) => a + b, 0);
      const data = Uint8Array.from({ length: total }, (_, i) => (i * 7 + (i >>> 16)) & 255);
      let at = 0;
      let next = 0;
      const body = new ReadableStream({
        type: "bytes",
        pull(c) {
          if (next === sizes.length) {
            c.close();
            c.byobRequest?.respond(0);
            return;
          }
          const n = sizes[next++];
          c.enqueue(data.slice(at, at + n));
          at += n;
        },
      }) as ReadableStream<Uint8Array>;
      const key = `${base}bytes/obj`;
      strictEqual((await store.write(key, body)).size, total);
      ok(equalBytes(await store.read(key), data), "the object holds the bytes sent");
    },
  );

  define(`a large object is written and read as streams`, async (store, base) => {
    const key = `${base}large/object.bin`;
    const info = await store.write(key, patternStream(large));
    strictEqual(info.size, large);
    strictEqual((await store.head(key)).size, large);
    const seen = await checkPatternStream(await store.readStream(key), 0);
    strictEqual(seen, large);
    const offset = Math.floor(large / 2) + 3;
    const length = Math.min(2 ** 20, large - offset);
    const ranged = await checkPatternStream(
      await store.readStream(key, { range: { offset, length } }),
      offset,
    );
    strictEqual(ranged, length);
    const tail = await store.read(key, { range: { offset: large - 10, length: 100 } });
    strictEqual(tail.byteLength, 10);
    strictEqual(checkPattern(tail, large - 10), -1);
  });

  define("a second write replaces the object: the last one wins", async (store, base) => {
    const key = `${base}w/obj`;
    await store.write(key, bytes("first version, longer"));
    const second = await store.write(key, bytes("second"));
    deepStrictEqual(await store.read(key), bytes("second"));
    strictEqual((await store.head(key)).size, 6);
    if (second.etag !== undefined) strictEqual((await store.head(key)).etag, second.etag);
    deepStrictEqual(await keysOf(store.list(`${base}w/`)), [key]);
  });

  define("concurrent writers to different keys all land", async (store, base) => {
    const keys = Array.from({ length: 24 }, (_, i) => `${base}c/${i}/obj`);
    await Promise.all(keys.map((k) => store.write(k, streamOf([bytes(k), bytes("!")]))));
    for (const k of keys) deepStrictEqual(await store.read(k), bytes(k + "!"));
    strictEqual((await keysOf(store.list(`${base}c/`))).length, keys.length);
  });

  define("concurrent writers to one key never leave a torn object", async (store, base) => {
    const key = `${base}same/obj`;
    const bodies = Array.from({ length: 6 }, (_, w) => {
      const n = 50_000 + w * 7_919;
      return Uint8Array.from({ length: n }, (_, i) => (i + w * 37) & 255);
    });
    let writing = true;
    const observed: Uint8Array[] = [];
    const reader = (async () => {
      while (writing) {
        try {
          observed.push(await store.read(key));
        } catch (e) {
          if (!(e instanceof EventlakeError && e.code === "NOT_FOUND")) throw e;
        }
        await tick();
      }
    })();
    try {
      await Promise.all(bodies.map((b) => store.write(key, slowStream(b, 4096))));
    } finally {
      writing = false;
    }
    await reader;
    const final = await store.read(key);
    ok(bodies.some((b) => equalBytes(b, final)), "the final object is one whole body");
    for (const o of observed) {
      ok(
        bodies.some((b) => equalBytes(b, o)),
        `a reader saw a torn object of ${o.byteLength} bytes`,
      );
    }
    deepStrictEqual(await keysOf(store.list(`${base}same/`)), [key], "no temporary objects listed");
  });

  define("delete() removes one object; deleting an absent key is fine", async (store, base) => {
    await store.write(`${base}d/a`, bytes("a"));
    await store.write(`${base}d/b`, bytes("b"));
    await store.write(`${base}d/sub/c`, bytes("c"));
    await store.delete(`${base}d/a`);
    await store.delete(`${base}d/a`);
    await store.delete(`${base}d/never-existed`);
    await store.delete(`${base}d/sub/c`);
    strictEqual(await store.exists(`${base}d/a`), false);
    deepStrictEqual(await keysOf(store.list(`${base}d/`)), [`${base}d/b`]);
    deepStrictEqual((await collect(store.list(`${base}d/`, { delimiter: "/" }))).map(show), [
      `${base}d/b`,
    ]);
  });

  define(
    "deletePrefix() removes every key under the prefix and nothing else",
    async (store, base) => {
      const inside = ["x/1", "x/2", "x/deep/er/3", "x/_SUCCESS"].map((k) => base + k);
      const outside = ["x-y", "xa", "y/1"].map((k) => base + k);
      for (const k of [...inside, ...outside]) await store.write(k, bytes(k));
      strictEqual(await store.deletePrefix(`${base}x/`), inside.length);
      deepStrictEqual(await keysOf(store.list(base)), outside.sort());
      strictEqual(await store.deletePrefix(`${base}x/`), 0);
      strictEqual(await store.deletePrefix(`${base}nothing/`), 0);
    },
  );

  define(
    "keys that could escape the root are refused with InvalidArgumentError",
    async (store, base) => {
      const bad = [
        "",
        "../x",
        `${base}../../x`,
        `${base}a/../../../etc/passwd`,
        "/etc/passwd",
        `${base}a//b`,
        `${base}./a`,
        `${base}a\\..\\..\\x`,
        `${base}a\u0000b`,
        `${base}a\nb`,
      ];
      for (const key of bad) {
        const what = JSON.stringify(key);
        await rejectsWith(store.write(key, bytes("x")), "INVALID_ARGUMENT", `write ${what}`);
        await rejectsWith(store.read(key), "INVALID_ARGUMENT", `read ${what}`);
        await rejectsWith(store.readStream(key), "INVALID_ARGUMENT", `readStream ${what}`);
        await rejectsWith(store.head(key), "INVALID_ARGUMENT", `head ${what}`);
        await rejectsWith(store.exists(key), "INVALID_ARGUMENT", `exists ${what}`);
        await rejectsWith(store.delete(key), "INVALID_ARGUMENT", `delete ${what}`);
        if (key !== "") {
          await rejectsWith(() => collect(store.list(key)), "INVALID_ARGUMENT", `list ${what}`);
          await rejectsWith(store.deletePrefix(key), "INVALID_ARGUMENT", `deletePrefix ${what}`);
        }
      }
    },
  );

  define("an aborted signal rejects every operation with AbortedError", async (store, base) => {
    const key = `${base}ab/obj`;
    await store.write(key, bytes("x"));
    const signal = AbortSignal.abort(new Error("stop"));
    await rejectsWith(store.write(`${base}ab/new`, bytes("x"), { signal }), "ABORTED", "write");
    await rejectsWith(store.read(key, { signal }), "ABORTED", "read");
    await rejectsWith(store.readStream(key, { signal }), "ABORTED", "readStream");
    await rejectsWith(store.head(key, { signal }), "ABORTED", "head");
    await rejectsWith(store.exists(key, { signal }), "ABORTED", "exists");
    await rejectsWith(store.delete(key, { signal }), "ABORTED", "delete");
    await rejectsWith(store.deletePrefix(`${base}ab/`, { signal }), "ABORTED", "deletePrefix");
    await rejectsWith(() => collect(store.list(base, { signal })), "ABORTED", "list");
    strictEqual(await store.exists(key), true, "an aborted delete deletes nothing");
    strictEqual(await store.exists(`${base}ab/new`), false, "an aborted write writes nothing");
  });

  define("aborting a streamed write leaves no object behind", async (store, base) => {
    const controller = new AbortController();
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      async pull(c) {
        await tick();
        c.enqueue(new Uint8Array(64 * 1024).fill(7));
        if (++sent === 8) controller.abort(new Error("enough"));
      },
    });
    await rejectsWith(
      store.write(`${base}aw/obj`, endless, { signal: controller.signal }),
      "ABORTED",
    );
    strictEqual(await store.exists(`${base}aw/obj`), false);
    deepStrictEqual(await keysOf(store.list(`${base}aw/`)), [], "no temporary objects listed");
  });

  define("aborting a read stream errors it with AbortedError", async (store, base) => {
    const key = `${base}ar/obj`;
    await store.write(key, new Uint8Array(4 * 2 ** 20).fill(1));
    const controller = new AbortController();
    const stream = await store.readStream(key, { signal: controller.signal });
    const reader = stream.getReader();
    await reader.read();
    controller.abort(new Error("stop reading"));
    await rejectsWith(
      (async () => {
        while (!(await reader.read()).done);
      })(),
      "ABORTED",
    );
  });

  define(
    "uploadFile() and downloadFile() round-trip a multi-MB file and a 0-byte file",
    async (store, base) => {
      await withDir(async (dir) => {
        // Over 8 MiB, so S3 sends it as a multipart upload and GCS through a resumable session.
        const size = 9 * BLOCK + 12345;
        const source = join(dir, "source.bin");
        await Deno.writeFile(source, patternStream(size));
        const key = `${base}files/object.bin`;
        const up = await uploadFile(store, key, source);
        strictEqual(up.key, key);
        strictEqual(up.size, size);
        strictEqual((await store.head(key)).size, size);
        strictEqual(await checkPatternStream(await store.readStream(key), 0), size);
        const target = join(dir, "downloaded.bin");
        await Deno.writeTextFile(target, "an older file, replaced by the download");
        const down = await downloadFile(store, key, target);
        strictEqual(down.key, key);
        strictEqual(down.size, size);
        strictEqual((await Deno.stat(target)).size, size);
        strictEqual(await checkPatternStream((await Deno.open(target)).readable, 0), size);

        const empty = join(dir, "empty");
        await Deno.writeFile(empty, new Uint8Array(0));
        strictEqual((await uploadFile(store, `${base}files/_SUCCESS`, empty)).size, 0);
        strictEqual((await store.head(`${base}files/_SUCCESS`)).size, 0);
        const emptyBack = join(dir, "empty-back");
        strictEqual((await downloadFile(store, `${base}files/_SUCCESS`, emptyBack)).size, 0);
        strictEqual((await Deno.stat(emptyBack)).size, 0);

        deepStrictEqual(await namesIn(dir), [
          "downloaded.bin",
          "empty",
          "empty-back",
          "source.bin",
        ], "no temporary files left beside the targets");
        deepStrictEqual(await keysOf(store.list(`${base}files/`)), [
          `${base}files/_SUCCESS`,
          `${base}files/object.bin`,
        ]);
      });
    },
  );

  define(
    "uploadFile() of a missing file or a folder names the path and writes nothing",
    async (store, base) => {
      await withDir(async (dir) => {
        const key = `${base}nofile/obj`;
        const missing = join(dir, "missing.bin");
        await rejectsWith(uploadFile(store, key, missing), "NOT_FOUND", "missing file", missing);
        await rejectsWith(uploadFile(store, key, dir), "INVALID_ARGUMENT", "a folder", dir);
        strictEqual(await store.exists(key), false);
      });
    },
  );

  define(
    "downloadFile() of a missing key or into a missing folder fails and makes no file",
    async (store, base) => {
      await withDir(async (dir) => {
        const key = `${base}dl/obj`;
        await rejectsWith(
          downloadFile(store, key, join(dir, "x.bin")),
          "NOT_FOUND",
          "missing key",
          key,
        );
        await store.write(key, bytes("content"));
        const nowhere = join(dir, "no", "such", "folder");
        await rejectsWith(
          downloadFile(store, key, join(nowhere, "x.bin")),
          "NOT_FOUND",
          "missing folder",
          nowhere,
        );
        await rejectsWith(downloadFile(store, key, dir), "INVALID_ARGUMENT", "a folder", dir);
        deepStrictEqual(await namesIn(dir), []);
      });
    },
  );

  define("aborting a file transfer leaves no partial target", async (store, base) => {
    await withDir(async (dir) => {
      const size = 6 * BLOCK;
      const source = join(dir, "source.bin");
      await Deno.writeFile(source, patternStream(size));
      const key = `${base}abort/obj`;
      const before = AbortSignal.abort(new Error("stop"));
      await rejectsWith(uploadFile(store, key, source, { signal: before }), "ABORTED", "upload");
      strictEqual(await store.exists(key), false, "an aborted upload writes nothing");

      // Aborted once the transfer has started: it must not land.
      let controller = new AbortController();
      const upload = uploadFile(store, key, source, { signal: controller.signal });
      controller.abort(new Error("stop"));
      await rejectsWith(upload, "ABORTED", "upload aborted after it started");
      strictEqual(await store.exists(key), false, "an aborted upload leaves no object");
      deepStrictEqual(await keysOf(store.list(`${base}abort/`)), [], "no temporary objects");

      await store.write(key, patternStream(size));
      const target = join(dir, "target.bin");
      await Deno.writeTextFile(target, "old");
      await rejectsWith(
        downloadFile(store, key, target, { signal: before }),
        "ABORTED",
        "download",
      );
      controller = new AbortController();
      const download = downloadFile(store, key, target, { signal: controller.signal });
      controller.abort(new Error("stop"));
      await rejectsWith(download, "ABORTED", "download aborted after it started");
      strictEqual(await Deno.readTextFile(target), "old", "the target is left as it was");

      // An abort at any later moment: the target holds the old file or the whole new one.
      for (const ms of [1, 5, 20]) {
        await Deno.writeTextFile(target, "old");
        controller = new AbortController();
        const timer = setTimeout(() => controller.abort(new Error("stop")), ms);
        try {
          await downloadFile(store, key, target, { signal: controller.signal });
          strictEqual(await checkPatternStream((await Deno.open(target)).readable, 0), size);
        } catch (e) {
          ok(e instanceof EventlakeError && e.code === "ABORTED", `got ${String(e)}`);
          strictEqual(await Deno.readTextFile(target), "old", `aborted after ${ms} ms`);
        } finally {
          clearTimeout(timer);
        }
      }
      deepStrictEqual(await namesIn(dir), ["source.bin", "target.bin"], "no temporary files");
    });
  });

  define(
    "file transfers refuse keys that could escape the root and touch no file",
    async (store, base) => {
      await withDir(async (dir) => {
        const source = join(dir, "source.bin");
        await Deno.writeFile(source, bytes("x"));
        const target = join(dir, "target.bin");
        for (const key of ["", "../x", `${base}../../x`, "/etc/passwd", `${base}a\\..\\x`]) {
          const what = JSON.stringify(key);
          await rejectsWith(uploadFile(store, key, source), "INVALID_ARGUMENT", `upload ${what}`);
          await rejectsWith(
            downloadFile(store, key, target),
            "INVALID_ARGUMENT",
            `download ${what}`,
          );
        }
        await rejectsWith(uploadFile(store, `${base}k`, ""), "INVALID_ARGUMENT", "empty path");
        deepStrictEqual(await namesIn(dir), ["source.bin"]);
        deepStrictEqual(await keysOf(store.list(base)), []);
      });
    },
  );

  define("a missing permission surfaces as PermissionDeniedError", async () => {
    if (typeof denied !== "function") return;
    const { store, key, cleanup } = await denied();
    try {
      await rejectsWith(store.read(key), "PERMISSION_DENIED", "read");
      await rejectsWith(store.head(key), "PERMISSION_DENIED", "head");
      await withDir(async (dir) => {
        await rejectsWith(
          downloadFile(store, key, join(dir, "x")),
          "PERMISSION_DENIED",
          "downloadFile",
        );
        deepStrictEqual(await namesIn(dir), [], "a refused download makes no file");
      });
    } finally {
      await store.close();
      await cleanup?.();
    }
  });

  define("a committed day is ready, listed and its parts are in order", async (store, base) => {
    const prefix = `${base}lake/events`;
    const w = await openPartitionWriter(store, prefix, "2023-01-02");
    for (let i = 0; i < 3; i++) await w.writePart(bytes(`part ${i}`));
    strictEqual((await partitionStatus(store, prefix, "2023-01-02")).state, "in_progress");
    await rejectsWith(listPartitionParts(store, prefix, "2023-01-02"), "PRECONDITION_FAILED");
    const commit = await w.commit();
    strictEqual(commit.parts.length, 3);
    const w2 = await openPartitionWriter(store, `${prefix}/`, "2023-01-01");
    await w2.writePart(streamOf([bytes("only part")]));
    await w2.commit();
    deepStrictEqual(await listPartitionDates(store, prefix), ["2023-01-01", "2023-01-02"]);
    const status = await partitionStatus(store, prefix, "2023-01-02");
    strictEqual(status.state, "ready");
    deepStrictEqual(status.problems, []);
    strictEqual(status.success?.size, 0);
    const parts = await listPartitionParts(store, prefix, "2023-01-02");
    deepStrictEqual(parts.map((p) => p.key.slice(`${prefix}/dt=2023-01-02/`.length)), [
      "000000000000.parquet",
      "000000000001.parquet",
      "000000000002.parquet",
    ]);
    deepStrictEqual(await store.read(parts[2].key), bytes("part 2"));
    strictEqual((await partitionStatus(store, prefix, "2023-01-03")).state, "missing");
    await rejectsWith(listPartitionParts(store, prefix, "2023-01-03"), "NOT_FOUND");
  });

  define("overwriting a day with fewer parts leaves exactly the new parts", async (store, base) => {
    const prefix = `${base}lake`;
    const first = await openPartitionWriter(store, prefix, "2023-01-01");
    for (let i = 0; i < 4; i++) await first.writePart(bytes(`old ${i}`));
    await first.commit();
    const second = await openPartitionWriter(store, prefix, "2023-01-01");
    strictEqual((await partitionStatus(store, prefix, "2023-01-01")).state, "in_progress");
    await second.writePart(bytes("new 0"));
    await second.writePart(bytes("new 1"));
    const commit = await second.commit();
    deepStrictEqual(commit.deleted.map((k) => k.split("/").pop()), [
      "000000000002.parquet",
      "000000000003.parquet",
    ]);
    const parts = await listPartitionParts(store, prefix, "2023-01-01");
    deepStrictEqual(
      await Promise.all(parts.map(async (p) => new TextDecoder().decode(await store.read(p.key)))),
      ["new 0", "new 1"],
    );
    const aborted = await openPartitionWriter(store, prefix, "2023-01-01");
    await aborted.writePart(bytes("doomed"));
    await aborted.abort();
    strictEqual((await partitionStatus(store, prefix, "2023-01-01")).state, "missing");
  });

  define(
    "an overwrite racing a reader never shows a ready day mixing writes",
    async (store, base) => {
      const prefix = `${base}race`;
      const date = "2023-01-01";
      const generationOf = new Map<string, number>();
      const partsOf = new Map<number, number>();
      let writing = true;
      let readyViews = 0;
      let readerRounds = 0;
      let readerStopped = false;
      const reader = (async () => {
        try {
          for (; writing; readerRounds++) {
            const status = await partitionStatus(store, prefix, date);
            if (status.state === "ready") {
              readyViews++;
              const gens = new Set(status.parts.map((p) => generationOf.get(p.etag ?? "?")));
              strictEqual(gens.size, 1, `a ready day mixed generations ${[...gens].join(", ")}`);
              const [gen] = gens;
              ok(gen !== undefined, "a ready day holds a part no writer committed");
              strictEqual(status.parts.length, partsOf.get(gen), `generation ${gen} is incomplete`);
            }
            await tick();
          }
        } finally {
          readerStopped = true;
        }
      })();
      reader.catch(() => {}); // reported by the `await reader` below
      try {
        for (let gen = 0; gen < raceRounds && !readerStopped; gen++) {
          const count = 1 + ((gen * 7) % 4);
          const w = await openPartitionWriter(store, prefix, date);
          for (let i = 0; i < count; i++) {
            const info = await w.writePart(bytes(`generation ${gen} part ${i} `.repeat(1 + gen)));
            const etag = info.etag ?? (await store.head(info.key)).etag ?? "?";
            generationOf.set(etag, gen);
            await tick();
          }
          partsOf.set(gen, count);
          await w.commit();
          // Let the reader take one whole look at the committed day before rewriting it.
          const seen = readerRounds;
          while (readerRounds < seen + 2 && !readerStopped) await tick();
        }
      } finally {
        writing = false;
      }
      await reader;
      ok(readyViews > 0, "the reader saw a ready day at least once");
      strictEqual((await partitionStatus(store, prefix, date)).state, "ready");
    },
  );
}

// ---- helpers ---------------------------------------------------------------------------------

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

async function keysOf(iterable: AsyncIterable<ListEntry>): Promise<string[]> {
  return (await collect(iterable)).map((e) => e.kind === "object" ? e.key : `${e.prefix} (prefix)`);
}

function show(e: ListEntry): string {
  return e.kind === "object" ? e.key : `${e.prefix} (prefix)`;
}

function isObject(e: ListEntry): e is { kind: "object" } & ObjectInfo {
  return e.kind === "object";
}

async function rejectsWith(
  operation: Promise<unknown> | (() => unknown),
  code: string,
  what = "operation",
  mentions?: string,
): Promise<void> {
  // A function is called inside an async wrapper, so a synchronous throw counts as a rejection.
  const promise = typeof operation === "function" ? (async () => await operation())() : operation;
  await rejects(promise, (e: unknown) => {
    ok(e instanceof EventlakeError, `${what}: expected an EventlakeError, got ${String(e)}`);
    strictEqual(e.code, code, `${what}: expected ${code}, got ${e.code}: ${e.message}`);
    if (mentions !== undefined) {
      ok(
        e.message.includes(mentions),
        `${what}: the message does not name "${mentions}": ${e.message}`,
      );
    }
    return true;
  }, `${what}: expected a ${code} rejection`);
}

/** Runs `fn` with a fresh local folder, removed afterwards. */
async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "eventlake-files-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function namesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++].slice());
      else c.close();
    },
  });
}

function slowStream(data: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    async pull(c) {
      await tick();
      if (at >= data.byteLength) return c.close();
      c.enqueue(data.slice(at, at + chunk));
      at += chunk;
    },
  });
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), at += c.byteLength);
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

// The large object: 1 MiB blocks of a fixed pseudo-random pattern, each block stamped with its
// number in its first 4 bytes, so any misplaced or repeated block is caught when read back.
const BLOCK = 2 ** 20;
const PATTERN = (() => {
  const p = new Uint8Array(BLOCK);
  let x = 0x9e3779b9;
  for (let i = 0; i < BLOCK; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    p[i] = x & 255;
  }
  return p;
})();

function expectedByte(position: number): number {
  const o = position % BLOCK;
  if (o < 4) return (Math.floor(position / BLOCK) >>> (8 * o)) & 255;
  return PATTERN[o];
}

/** Returns the index of the first byte that differs from the pattern at `position`, or -1. */
function checkPattern(chunk: Uint8Array, position: number): number {
  for (let i = 0; i < chunk.byteLength; i++) {
    const p = position + i;
    const o = p % BLOCK;
    if (o < 4) {
      if (chunk[i] !== expectedByte(p)) return i;
    } else {
      // Compare the rest of this block in one run.
      const run = Math.min(BLOCK - o, chunk.byteLength - i);
      for (let j = 0; j < run; j++) if (chunk[i + j] !== PATTERN[o + j]) return i + j;
      i += run - 1;
    }
  }
  return -1;
}

function patternStream(size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= size) return c.close();
      const n = Math.min(BLOCK, size - at);
      const block = PATTERN.slice(0, n);
      const index = at / BLOCK;
      for (let b = 0; b < Math.min(4, n); b++) block[b] = (index >>> (8 * b)) & 255;
      c.enqueue(block);
      at += n;
    },
  });
}

async function checkPatternStream(
  stream: ReadableStream<Uint8Array>,
  start: number,
): Promise<number> {
  let at = start;
  for await (const chunk of stream) {
    const bad = checkPattern(chunk, at);
    if (bad >= 0) throw new Error(`Large object differs at byte ${at + bad}`);
    at += chunk.byteLength;
  }
  return at - start;
}

async function pool<T>(
  items: T[],
  width: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}

import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { InvalidArgumentError, NotFoundError, PreconditionFailedError } from "@eventlake/schema";
import { createMemoryStore } from "./memory.ts";
import {
  checkPartitionDate,
  listPartitionDates,
  listPartitionParts,
  openPartitionWriter,
  partFileName,
  partitionPrefix,
  partitionStatus,
} from "./partition.ts";
import type { ObjectStore } from "./store.ts";

const empty = new Uint8Array(0);
const one = new Uint8Array([1]);

Deno.test("checkPartitionDate() accepts real calendar days only", () => {
  for (const d of ["2023-01-01", "2024-02-29", "2000-02-29", "1999-12-31"]) {
    strictEqual(checkPartitionDate(d), d);
  }
  for (const d of ["2023-02-29", "1900-02-29", "2023-04-31", "2023-13-01", "2023-00-10"]) {
    throws(() => checkPartitionDate(d), /no such calendar day/, d);
  }
  for (const d of ["2023-1-01", "20230101", "2023-01-01T00:00", " 2023-01-01", ""]) {
    throws(() => checkPartitionDate(d), /expected YYYY-MM-DD/, d);
  }
  throws(() => checkPartitionDate("2023-02-30"), InvalidArgumentError);
});

Deno.test("partFileName() pads to 12 digits and refuses bad numbers", () => {
  strictEqual(partFileName(0), "000000000000.parquet");
  strictEqual(partFileName(123), "000000000123.parquet");
  throws(() => partFileName(-1), RangeError);
  throws(() => partFileName(1.5), RangeError);
});

Deno.test("partitionPrefix() joins a prefix with or without a trailing slash", () => {
  strictEqual(partitionPrefix("", "2023-01-01"), "dt=2023-01-01/");
  strictEqual(partitionPrefix("a/b", "2023-01-01"), "a/b/dt=2023-01-01/");
  strictEqual(partitionPrefix("a/b/", "2023-01-01"), "a/b/dt=2023-01-01/");
  throws(() => partitionPrefix("../a", "2023-01-01"), InvalidArgumentError);
});

async function put(store: ObjectStore, keys: Record<string, Uint8Array>): Promise<void> {
  for (const [k, v] of Object.entries(keys)) await store.write(k, v);
}

Deno.test("listPartitionDates() lists dt= folders in date order and skips anything else", async () => {
  const store = createMemoryStore();
  await put(store, {
    "p/dt=2023-01-10/_SUCCESS": empty,
    "p/dt=2023-01-02/000000000000.parquet": one,
    "p/dt=2023-02-30/_SUCCESS": empty,
    "p/dt=yesterday/_SUCCESS": empty,
    "p/other/x": one,
    "p/_SUCCESS": empty,
    "p/dt=2023-01-01/nested/deeper/x": one,
    "pq/dt=2023-01-05/_SUCCESS": empty,
  });
  deepStrictEqual(await listPartitionDates(store, "p"), ["2023-01-01", "2023-01-02", "2023-01-10"]);
  deepStrictEqual(await listPartitionDates(store, "p/"), [
    "2023-01-01",
    "2023-01-02",
    "2023-01-10",
  ]);
  deepStrictEqual(await listPartitionDates(store, "absent"), []);
});

Deno.test("partitionStatus() names unexpected files, a non-empty _SUCCESS and gaps", async () => {
  const store = createMemoryStore();
  await put(store, {
    "p/dt=2023-01-01/000000000000.parquet": one,
    "p/dt=2023-01-01/000000000003.parquet": one,
    "p/dt=2023-01-01/part-0001.snappy.parquet": one,
    "p/dt=2023-01-01/_temporary/0/x": one,
    "p/dt=2023-01-01/_SUCCESS": new TextEncoder().encode("{}"),
  });
  const status = await partitionStatus(store, "p", "2023-01-01");
  strictEqual(status.state, "ready");
  strictEqual(status.prefix, "p/dt=2023-01-01/");
  deepStrictEqual(status.parts.map((p) => p.key.split("/").pop()), [
    "000000000000.parquet",
    "000000000003.parquet",
  ]);
  deepStrictEqual(status.problems, [
    { kind: "unexpected_file", key: "p/dt=2023-01-01/_temporary/0/x" },
    { kind: "unexpected_file", key: "p/dt=2023-01-01/part-0001.snappy.parquet" },
    { kind: "success_not_empty", key: "p/dt=2023-01-01/_SUCCESS", size: 2 },
    { kind: "missing_part", index: 1, name: "000000000001.parquet" },
    { kind: "missing_part", index: 2, name: "000000000002.parquet" },
  ]);
  await rejects(
    listPartitionParts(store, "p", "2023-01-01"),
    (e: Error) => {
      ok(e instanceof PreconditionFailedError);
      strictEqual(
        e.message,
        `Cannot read partition "dt=2023-01-01" under "p/": part numbering has gaps, missing "000000000001.parquet", "000000000002.parquet"`,
      );
      return true;
    },
  );
  strictEqual((await listPartitionParts(store, "p", "2023-01-01", { allowGaps: true })).length, 2);
});

Deno.test("listPartitionParts() says why a day cannot be read", async () => {
  const store = createMemoryStore();
  await put(store, { "p/dt=2023-01-01/000000000000.parquet": one });
  await rejects(
    listPartitionParts(store, "p", "2023-01-01"),
    (e: Error) => {
      ok(e instanceof PreconditionFailedError);
      strictEqual(
        e.message,
        `Cannot read partition "dt=2023-01-01" under "p/": _SUCCESS is missing`,
      );
      return true;
    },
  );
  await rejects(listPartitionParts(store, "p", "2023-01-02"), NotFoundError);
  await rejects(listPartitionParts(store, "p", "2023-1-2"), InvalidArgumentError);
});

Deno.test("openPartitionWriter() unpublishes an existing day before anything else", async () => {
  const store = createMemoryStore();
  const first = await openPartitionWriter(store, "p", "2023-01-01");
  await first.writePart(one);
  await first.commit();
  strictEqual((await partitionStatus(store, "p", "2023-01-01")).state, "ready");
  const second = await openPartitionWriter(store, "p", "2023-01-01");
  strictEqual(await store.exists("p/dt=2023-01-01/_SUCCESS"), false);
  strictEqual((await partitionStatus(store, "p", "2023-01-01")).state, "in_progress");
  await second.commit(); // an empty day: no parts, just _SUCCESS
  const status = await partitionStatus(store, "p", "2023-01-01");
  strictEqual(status.state, "ready");
  deepStrictEqual(status.parts, []);
});

Deno.test("PartitionWriter refuses use after commit and leaves unexpected files alone", async () => {
  const store = createMemoryStore();
  await put(store, { "p/dt=2023-01-01/notes.txt": one });
  const w = await openPartitionWriter(store, "p", "2023-01-01");
  const a = w.writePart(one);
  const b = w.writePart(new Uint8Array([2, 2]));
  const commit = await w.commit();
  deepStrictEqual(commit.parts.map((p) => p.size), [1, 2]);
  deepStrictEqual([await a, await b].map((p) => p.key.split("/").pop()), [
    "000000000000.parquet",
    "000000000001.parquet",
  ]);
  await rejects(w.writePart(one), /already committed/);
  await rejects(w.commit(), /already committed/);
  await w.abort(); // no effect after commit
  strictEqual(await store.exists("p/dt=2023-01-01/notes.txt"), true);
  strictEqual((await partitionStatus(store, "p", "2023-01-01")).state, "ready");
});

Deno.test("PartitionWriter.commit() failing leaves the day unpublished and abortable", async () => {
  let failSuccess = true;
  const store = createMemoryStore({
    faults: (op, key) =>
      op === "write" && key.endsWith("_SUCCESS") && failSuccess
        ? new Error("disk full")
        : undefined,
  });
  const w = await openPartitionWriter(store, "p", "2023-01-01");
  await w.writePart(one);
  await rejects(w.commit(), /disk full/);
  strictEqual((await partitionStatus(store, "p", "2023-01-01")).state, "in_progress");
  failSuccess = false;
  await w.abort();
  strictEqual((await partitionStatus(store, "p", "2023-01-01")).state, "missing");
});

Deno.test("partitionStatus() reports a day rewritten between its two listings as in progress", async () => {
  // A store whose listing of the day changes every time, as if a writer rewrote it constantly.
  const inner = createMemoryStore();
  await put(inner, {
    "p/dt=2023-01-01/000000000000.parquet": one,
    "p/dt=2023-01-01/_SUCCESS": empty,
  });
  let n = 0;
  const churning: ObjectStore = {
    ...inner,
    url: inner.url,
    list: (prefix, options) => {
      const it = inner.list(prefix, options);
      n++;
      return (async function* () {
        for await (const e of it) yield e.kind === "object" ? { ...e, etag: `${e.etag}-${n}` } : e;
      })();
    },
  };
  const status = await partitionStatus(churning, "p", "2023-01-01");
  strictEqual(status.state, "in_progress");
  strictEqual(status.success, undefined);
});

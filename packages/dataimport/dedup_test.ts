import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { InsertIdSet } from "./dedup.ts";

Deno.test("InsertIdSet treats one UUID in any case as one id", () => {
  const ids = new InsertIdSet();
  ok(ids.add("8fb8e088-9245-4fce-bb87-7e09d9917ed6"));
  ok(!ids.add("8FB8E088-9245-4FCE-BB87-7E09D9917ED6"));
  strictEqual(ids.size, 1);
  ok(!ids.has("8fb8e088-9245-4fce-bb87-7e09d9917ed7"));
});

Deno.test("InsertIdSet keeps the nil UUID and non-UUID ids apart from each other", () => {
  const ids = new InsertIdSet();
  ok(ids.add("00000000-0000-0000-0000-000000000000"));
  ok(ids.add("not-a-uuid"));
  ok(ids.add("not-a-uuiD"));
  ok(ids.add(""));
  ok(ids.add("8fb8e088-9245-4fce-bb87-7e09d9917ed6x"));
  ok(ids.add("8fb8e088_9245-4fce-bb87-7e09d9917ed6"));
  strictEqual(ids.size, 6);
  for (const id of ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "", "not-a-uuiD"]) {
    ok(ids.has(id), id);
  }
});

Deno.test("InsertIdSet is exact over 100,000 random UUIDs and grows past its expected size", () => {
  const ids = new InsertIdSet({ expected: 1000 });
  const all: string[] = [];
  for (let i = 0; i < 100_000; i++) all.push(crypto.randomUUID());
  for (const id of all) ok(ids.add(id));
  strictEqual(ids.size, 100_000);
  for (const id of all) ok(!ids.add(id));
  let found = 0;
  for (let i = 0; i < 20_000; i++) if (ids.has(crypto.randomUUID())) found++;
  strictEqual(found, 0);
});

Deno.test("InsertIdSet.claim() keeps the first row, then reports in-day and earlier duplicates", () => {
  const ids = new InsertIdSet({ expected: 4 });
  const [a, b, c] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
  ids.add(a);
  ids.add(b);
  ok(ids.markEarlier(b));
  ok(!ids.markEarlier(c), "an id not of this day is not added by markEarlier");
  deepStrictEqual([ids.claim(a), ids.claim(a), ids.claim(b), ids.claim(c), ids.claim(c)], [
    "new",
    "in_day",
    "earlier",
    "new",
    "in_day",
  ]);
});

Deno.test("InsertIdSet holds about 20 bytes per expected id", () => {
  const ids = new InsertIdSet({ expected: 1_000_000 });
  ok(ids.bytes < 20.1 * 1_000_000, String(ids.bytes));
  throws(() => new InsertIdSet({ expected: -1 }), RangeError);
});

Deno.test("InsertIdSet.isEarlier() tells an id marked earlier without claiming it", () => {
  const ids = new InsertIdSet({ expected: 4 });
  const a = "8fb8e088-9245-4fce-bb87-7e09d9917ed6", b = "0c0a2a56-0000-4000-8000-000000000001";
  ids.add(a);
  ids.add(b);
  ids.markEarlier(b);
  strictEqual(ids.isEarlier(a), false);
  strictEqual(ids.isEarlier(b), true);
  strictEqual(ids.isEarlier("not-there"), false);
  strictEqual(ids.claim(a), "new", "isEarlier() claimed nothing");
});

Deno.test("InsertIdSet attached views insert ids the owner never added, each claimed once across views", () => {
  const owner = new InsertIdSet({ expected: 100, shared: true });
  const earlier = "0c0a2a56-0000-4000-8000-000000000001";
  owner.add(earlier);
  owner.markEarlier(earlier);
  const a = InsertIdSet.attach(owner.state), b = InsertIdSet.attach(owner.state);
  const ids = Array.from(
    { length: 60 },
    (_, i) => `8fb8e088-9245-4fce-bb87-${String(i).padStart(12, "0")}`,
  );
  deepStrictEqual(ids.map((id, i) => (i % 2 ? a : b).claim(id)), ids.map(() => "new"));
  deepStrictEqual(
    ids.map((id, i) => (i % 2 ? b : a).claim(id.toUpperCase())),
    ids.map(() => "in_day"),
  );
  strictEqual(a.claim(earlier), "earlier");
  // The owner sees what the views inserted.
  ok(ids.every((id) => owner.has(id)));
  // Bytes and text are the same key.
  const bytes = new TextEncoder().encode(`xx${ids[7]}`);
  strictEqual(b.claimBytes(bytes, 2), "in_day");
  strictEqual(a.isEarlierBytes(new TextEncoder().encode(earlier), 0), true);
});

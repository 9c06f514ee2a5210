import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { PermissionDeniedError, UnavailableError } from "@eventlake/schema";
import { createMemoryStore } from "./memory.ts";
import { storeContract } from "./_contract_suite.ts";

storeContract("memory", () => createMemoryStore(), {
  permissionDenied: async () => {
    const store = createMemoryStore({
      faults: (op, key) =>
        key.startsWith("denied/") && op !== "write"
          ? new PermissionDeniedError(`Access denied to "${key}"`)
          : undefined,
    });
    await store.write("denied/obj", new Uint8Array([1]));
    return { store, key: "denied/obj" };
  },
});

Deno.test("createMemoryStore() fault hook fails only the chosen operation", async () => {
  let calls = 0;
  const store = createMemoryStore({
    name: "faulty",
    faults: (op) => op === "head" && calls++ < 1 ? new UnavailableError("Slow down") : undefined,
  });
  strictEqual(store.url, "memory://faulty");
  await store.write("a", new Uint8Array([1]));
  await rejects(store.head("a"), UnavailableError);
  strictEqual((await store.head("a")).size, 1);
});

Deno.test("createMemoryStore() etag is the MD5 hex of the content", async () => {
  const store = createMemoryStore();
  const info = await store.write("a", new TextEncoder().encode("hello"));
  strictEqual(info.etag, "5d41402abc4b2a76b9719d911017c592");
  strictEqual((await store.head("a")).etag, info.etag);
});

Deno.test("createMemoryStore() keeps its own copy of written bytes", async () => {
  const store = createMemoryStore();
  const body = new Uint8Array([1, 2, 3]);
  await store.write("a", body);
  body[0] = 9;
  const read = await store.read("a");
  deepStrictEqual(read, new Uint8Array([1, 2, 3]));
  read[1] = 9;
  deepStrictEqual(await store.read("a"), new Uint8Array([1, 2, 3]));
});

Deno.test("createMemoryStore() refuses an object key ending in /", async () => {
  const store = createMemoryStore();
  await rejects(store.write("a/", new Uint8Array(0)), /names a prefix, not an object/);
});

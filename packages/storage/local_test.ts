import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { InvalidArgumentError, NotFoundError } from "@eventlake/schema";
import { createLocalStore } from "./local.ts";
import { uploadFile } from "./transfer.ts";
import { storeContract } from "./_contract_suite.ts";

const roots: string[] = [];
async function tempRoot(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "eventlake-local-" });
  roots.push(root);
  return root;
}

const rootless = Deno.uid() === 0;
// fsync is off in the contract run only to keep 1,100 small writes fast; the tests below
// (and every user) get durable writes.
storeContract("local", async () => createLocalStore(await tempRoot(), { durable: false }), {
  permissionDenied: rootless
    ? "running as root: file modes do not deny root, so no permission can be taken away"
    : async () => {
      const root = await tempRoot();
      const store = createLocalStore(root);
      await store.write("denied/obj", new Uint8Array([1]));
      await Deno.chmod(join(root, "denied/obj"), 0);
      return {
        store,
        key: "denied/obj",
        cleanup: () => Deno.chmod(join(root, "denied/obj"), 0o644),
      };
    },
});

Deno.test("createLocalStore() leaves no temporary file and the object on disk", async () => {
  const root = await tempRoot();
  const store = createLocalStore(root);
  await store.write("a/b.bin", new Uint8Array([1, 2, 3]));
  const names = [...Deno.readDirSync(join(root, "a"))].map((e) => e.name);
  deepStrictEqual(names, ["b.bin"]);
  deepStrictEqual(await Deno.readFile(join(root, "a/b.bin")), new Uint8Array([1, 2, 3]));
});

Deno.test("createLocalStore() hides temporary files from listings and refuses their names", async () => {
  const root = await tempRoot();
  const store = createLocalStore(root);
  await store.write("a/x", new Uint8Array([1]));
  await Deno.writeFile(join(root, "a/.eventlake-tmp-1234"), new Uint8Array([9]));
  const keys: string[] = [];
  for await (const e of store.list("")) if (e.kind === "object") keys.push(e.key);
  deepStrictEqual(keys, ["a/x"]);
  await rejects(store.write("a/.eventlake-tmp-1", new Uint8Array(0)), /are reserved/);
});

Deno.test("createLocalStore() refuses a symbolic link that leads outside the root", async () => {
  const root = await tempRoot();
  const outside = await tempRoot();
  await Deno.writeTextFile(join(outside, "secret"), "s3cr3t");
  await Deno.symlink(outside, join(root, "link"));
  await Deno.symlink(join(outside, "secret"), join(root, "file-link"));
  const store = createLocalStore(root);
  for (const key of ["link/secret", "file-link"]) {
    await rejects(store.read(key), InvalidArgumentError);
    await rejects(store.head(key), /resolves outside the store root/);
  }
  await rejects(store.write("link/new", new Uint8Array([1])), InvalidArgumentError);
  await rejects(store.write("link/deeper/new", new Uint8Array([1])), InvalidArgumentError);
  await rejects(store.delete("link/secret"), InvalidArgumentError);
  strictEqual(await Deno.readTextFile(join(outside, "secret")), "s3cr3t");
  deepStrictEqual([...Deno.readDirSync(outside)].map((e) => e.name), ["secret"]);
  const listed: string[] = [];
  for await (const e of store.list("")) listed.push(e.kind === "object" ? e.key : e.prefix);
  deepStrictEqual(listed, [], "listings do not follow symbolic links");
});

Deno.test("createLocalStore() removes folders a delete leaves empty", async () => {
  const root = await tempRoot();
  const store = createLocalStore(root);
  await store.write("p/dt=2023-01-01/_SUCCESS", new Uint8Array(0));
  await store.write("p/keep", new Uint8Array(0));
  await store.delete("p/dt=2023-01-01/_SUCCESS");
  deepStrictEqual([...Deno.readDirSync(join(root, "p"))].map((e) => e.name), ["keep"]);
});

Deno.test("createLocalStore() reports a key under an object as not found, and a clash on write", async () => {
  const root = await tempRoot();
  const store = createLocalStore(root);
  await store.write("a", new Uint8Array([1]));
  await rejects(store.read("a/b"), NotFoundError);
  strictEqual(await store.exists("a/b"), false);
  await rejects(store.write("a/b", new Uint8Array([1])), (e: Error & { code?: string }) => {
    strictEqual(e.code, "CONFLICT");
    return true;
  });
  await store.write("c/d", new Uint8Array([1]));
  await rejects(store.read("c"), NotFoundError);
  await rejects(store.write("c", new Uint8Array([1])), /prefix of other objects/);
});

Deno.test("createLocalStore() over a missing root lists nothing and creates it on write", async () => {
  const root = join(await tempRoot(), "not", "yet");
  const store = createLocalStore(root);
  const listed = [];
  for await (const e of store.list("")) listed.push(e);
  deepStrictEqual(listed, []);
  await rejects(store.head("x"), NotFoundError);
  await store.delete("x");
  await store.write("x", new Uint8Array([1]));
  strictEqual((await Deno.stat(join(root, "x"))).size, 1);
  strictEqual(store.url, `file://${root}`);
});

Deno.test("createLocalStore() readStream() reads into the buffers of a BYOB reader", async () => {
  const root = await tempRoot();
  const store = createLocalStore(root, { chunkSize: 4096 });
  const data = Uint8Array.from({ length: 10_000 }, (_, i) => i & 255);
  await store.write("a/obj", data);
  const reader = (await store.readStream("a/obj", { range: { offset: 1, length: 9_998 } }))
    .getReader({ mode: "byob" });
  const got: number[] = [];
  let buffer = new ArrayBuffer(3000);
  while (true) {
    const { done, value } = await reader.read(new Uint8Array(buffer));
    if (value === undefined) break;
    buffer = value.buffer as ArrayBuffer;
    got.push(...value);
    if (done) break;
  }
  deepStrictEqual(new Uint8Array(got), data.subarray(1, 9_999));
});

Deno.test("createLocalStore() write() of a file's readable lands every byte", async () => {
  const root = await tempRoot();
  const store = createLocalStore(root);
  const source = join(root, "source.bin");
  const data = Uint8Array.from({ length: (3 << 20) + 17 }, (_, i) => (i * 13) & 255);
  await Deno.writeFile(source, data);
  const info = await store.write("b/obj", (await Deno.open(source)).readable);
  strictEqual(info.size, data.byteLength);
  deepStrictEqual(await store.read("b/obj"), data);
});

Deno.test("createLocalStore() uploadFile() makes an ordinary 0644 file of an executable source", async () => {
  const root = await tempRoot();
  const store = createLocalStore(root);
  const source = join(await tempRoot(), "run.sh");
  await Deno.writeTextFile(source, "#!/bin/sh\n");
  await Deno.chmod(source, 0o755);
  await uploadFile(store, "scripts/run.sh", source);
  strictEqual((await Deno.stat(join(root, "scripts/run.sh"))).mode! & 0o7777, 0o644);
});

// Last, so it removes the folders of every test above.
Deno.test("local contract cleanup", async () => {
  for (const r of roots) await Deno.remove(r, { recursive: true }).catch(() => {});
});

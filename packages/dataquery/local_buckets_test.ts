import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import type { QueryEngine } from "./engine.ts";
import { createLocalBucketResolver } from "./local_buckets.ts";
import { createQueryService } from "./service.ts";

const engine: QueryEngine = {
  name: "one-row",
  execute: () =>
    Promise.resolve({
      columns: [{ name: "x", type: "varchar" }],
      rows: (async function* () {
        yield [["a,b"]];
      })(),
      stats: () => ({}),
    }),
  testDataSource: () => Promise.resolve(),
  tableChanged: () => {},
  close: () => Promise.resolve(),
};

Deno.test("createLocalBucketResolver() makes each folder under the root a bucket", async () => {
  const home = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${home}/buckets/test-bucket`, { recursive: true });
    await Deno.writeTextFile(`${home}/buckets/not-a-folder`, "");
    const buckets = createLocalBucketResolver(`${home}/buckets`);
    ok(await buckets.resolve("test-bucket"));
    strictEqual(await buckets.resolve("not-a-folder"), undefined);
    strictEqual(await buckets.resolve("missing"), undefined);
    strictEqual(await buckets.resolve(".."), undefined);
    strictEqual(await buckets.resolve("a/b"), undefined);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("the service stores results in $EVENTLAKE_HOME/buckets/<name>/<path>/YYYY/MM/DD/", async () => {
  const home = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${home}/buckets/test-bucket`, { recursive: true });
    const service = createQueryService({
      engine,
      statePath: `${home}/dataquery.sqlite`,
      buckets: createLocalBucketResolver(`${home}/buckets`),
      encryptionKey: "a local test key of enough length",
      clock: () => Date.UTC(2024, 10, 26, 1, 18, 48),
    });
    try {
      const me = { name: "me@example.com" };
      const { queryInfo } = await service.submit(me, {
        query: "select 'a,b' as x",
        bucketName: "test-bucket",
        path: "data_query/result",
      });
      strictEqual(await service.settled(queryInfo.queryId), "FINISHED");
      const dir = `${home}/buckets/test-bucket/data_query/result/2024/11/26`;
      const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      deepStrictEqual(names, [`${queryInfo.queryId}.csv`, `${queryInfo.queryId}.metadata`]);
      strictEqual(await Deno.readTextFile(`${dir}/${queryInfo.queryId}.csv`), 'x\r\n"a,b"\r\n');
      await rejects(
        service.submit(me, { query: "select 1", bucketName: "other-bucket", path: "x" }),
        /Cannot find bucket "other-bucket"/,
      );
    } finally {
      await service.close();
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

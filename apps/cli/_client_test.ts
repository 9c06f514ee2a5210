import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { createRemoteBackend } from "./_client.ts";

function fakeFetch(status: number, body: string, seen: Request[] = []): typeof fetch {
  return (input, init) => {
    seen.push(new Request(input, init));
    return Promise.resolve(new Response(body, { status, headers: { "x-request-id": "r1" } }));
  };
}

const credential = { credentialId: "id1", credentialSecret: "secret1" };

Deno.test("remote backend sends the credential and the X-Data-Source / X-Database headers", async () => {
  const seen: Request[] = [];
  const backend = createRemoteBackend("http://gw.test/", {
    ...credential,
    fetch: fakeFetch(202, '{"queryInfo":{"queryId":"q1","state":"QUEUED"}}', seen),
  });
  const res = await backend.submit(
    { query: "SELECT 1", resultConfig: { bucketName: "results", path: "cli" } },
    { dataSource: "data_catalog", database: "default" },
  );
  strictEqual(res.queryInfo.queryId, "q1");
  strictEqual(seen[0].url, "http://gw.test/v1/data-query/query");
  strictEqual(seen[0].headers.get("credential-id"), "id1");
  strictEqual(seen[0].headers.get("credential-secret"), "secret1");
  strictEqual(seen[0].headers.get("x-data-source"), "data_catalog");
  strictEqual(seen[0].headers.get("x-database"), "default");
  deepStrictEqual(await seen[0].json(), {
    query: "SELECT 1",
    resultConfig: { bucketName: "results", path: "cli" },
  });
});

Deno.test("remote backend turns error answers into the error of their code (or of the status)", async () => {
  const cases: [number, string, string][] = [
    [
      404,
      '{"code":"NOT_FOUND","message":"Cannot find query \\"q\\"","requestId":"x"}',
      "NOT_FOUND",
    ],
    [401, '{"code":"UNAUTHENTICATED","message":"Bad credential"}', "UNAUTHENTICATED"],
    [409, '{"code":"CONFLICT","message":"ended"}', "CONFLICT"],
    [503, "<html>busy</html>", "UNAVAILABLE"],
    [502, "", "UNAVAILABLE"],
    [500, '{"code":"WHATEVER"}', "INTERNAL"],
  ];
  for (const [status, body, code] of cases) {
    const backend = createRemoteBackend("http://gw.test", {
      ...credential,
      fetch: fakeFetch(status, body),
    });
    await rejects(backend.get("q"), (e: Error & { code: string }) => {
      strictEqual(e.code, code, `${status} ${body}`);
      return true;
    });
  }
});

Deno.test("remote backend list() sends repeated states and paging as query parameters", async () => {
  const seen: Request[] = [];
  const backend = createRemoteBackend("http://gw.test", {
    ...credential,
    fetch: fakeFetch(200, '{"content":[]}', seen),
  });
  await backend.list({ states: ["RUNNING", "QUEUED"], page: 2, sort: "createdAt,asc" });
  strictEqual(
    seen[0].url,
    "http://gw.test/v1/data-query/query?states=RUNNING&states=QUEUED&page=2&sort=createdAt%2Casc",
  );
});

Deno.test("remote backend without a credential refuses before calling (UNAUTHENTICATED)", async () => {
  const seen: Request[] = [];
  const backend = createRemoteBackend("http://gw.test", { fetch: fakeFetch(200, "{}", seen) });
  await rejects(backend.listDataSources(), { code: "UNAUTHENTICATED" });
  strictEqual(seen.length, 0);
});

Deno.test("resultRows() reads every row from the stored CSV, and refuses a file whose row count differs from the query's", async () => {
  const { resultRows } = await import("./_client.ts");
  const result = {
    queryInfo: { queryId: "q1", queryStats: { outputRows: 2 } },
    resultConfig: {
      isStored: true,
      bucketName: "b",
      path: "p/2023/01/01",
      storageUrl: "b/p/2023/01/01",
    },
    reuseConfig: { reuse: false },
    totalElements: 2,
    totalPages: 1,
    number: 0,
    queryData: [],
  } as unknown as import("@eventlake/dataquery").QueryResultResponse;
  const keys: string[] = [];
  const opener = (text: string) => (_bucket: string, key: string) => {
    keys.push(key);
    return Promise.resolve(ReadableStream.from([new TextEncoder().encode(text)]));
  };
  const noPages = () => Promise.reject(new Error("pages must not be read"));
  const rows = [];
  for await (
    const batch of resultRows(result, {
      getPage: noPages,
      open: opener("n\r\n1\r\n\r\n"),
      where: "x",
    })
  ) {
    rows.push(...batch);
  }
  deepStrictEqual(rows, [["1"], [null]]);
  deepStrictEqual(keys, ["p/2023/01/01/q1.csv"]);
  await rejects(
    (async () => {
      for await (
        const _ of resultRows(result, { getPage: noPages, open: opener("n\r\n1\r\n"), where: "x" })
      ) {
        // drain
      }
    })(),
    { code: "UNAVAILABLE", message: /holds 1 rows, the query reported 2/ },
  );
});

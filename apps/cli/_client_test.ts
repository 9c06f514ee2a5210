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

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

/** A FINISHED result of `rows` rows whose first page holds at most 1,000. */
function finished(rows: number): import("@eventlake/dataquery").QueryResultResponse {
  return {
    queryInfo: { queryId: "q1", state: "FINISHED", queryStats: { outputRows: rows } },
    resultConfig: { isStored: true, bucketName: "b", path: "p", storageUrl: "b/p" },
    reuseConfig: { reuse: false },
    totalElements: Math.min(rows, 1000),
    totalPages: Math.ceil(Math.min(rows, 1000) / 100),
    number: 0,
    queryData: [],
  } as unknown as import("@eventlake/dataquery").QueryResultResponse;
}

async function drain(rows: AsyncIterable<(string | null)[][]>): Promise<(string | null)[][]> {
  const out: (string | null)[][] = [];
  for await (const batch of rows) out.push(...batch);
  return out;
}

/** Answers result.csv downloads with `answer`, and records the requests. */
function downloadFetch(answer: () => Response, seen: Request[]): typeof fetch {
  return (input, init) => {
    seen.push(new Request(input, init));
    return Promise.resolve(answer());
  };
}

Deno.test("remote rows() downloads result.csv with the credential when the pages do not hold every row and no local file is readable", async () => {
  const seen: Request[] = [];
  const csv = "n\r\n" + Array.from({ length: 1500 }, (_, i) => `${i}\r\n`).join("");
  const backend = createRemoteBackend("http://gw.test", {
    ...credential,
    fetch: downloadFetch(
      () => new Response(csv, { headers: { "content-type": "text/csv; charset=utf-8" } }),
      seen,
    ),
    openResultCsv: () => Promise.resolve(undefined),
  });
  const rows = await drain(backend.rows(finished(1500)));
  strictEqual(rows.length, 1500);
  deepStrictEqual(rows[1499], ["1499"]);
  strictEqual(seen.length, 1);
  strictEqual(seen[0].method, "GET");
  strictEqual(seen[0].url, "http://gw.test/v1/data-query/query/q1/result.csv");
  strictEqual(seen[0].headers.get("credential-id"), "id1");
  strictEqual(seen[0].headers.get("credential-secret"), "secret1");
});

Deno.test("remote rows() prefers a readable local result file and never downloads it", async () => {
  const seen: Request[] = [];
  const backend = createRemoteBackend("http://gw.test", {
    ...credential,
    fetch: downloadFetch(() => new Response("", { status: 500 }), seen),
    openResultCsv: () =>
      Promise.resolve(ReadableStream.from([new TextEncoder().encode("n\r\n1\r\n2\r\n")])),
  });
  const result = finished(2);
  deepStrictEqual(await drain(backend.rows({ ...result, totalElements: 0 })), [["1"], ["2"]]);
  strictEqual(seen.length, 0);
});

Deno.test("remote rows() without a download route (404 Cannot find route) says which rows cannot be read", async () => {
  const backend = createRemoteBackend("http://gw.test", {
    ...credential,
    fetch: downloadFetch(
      () =>
        new Response(
          '{"code":"NOT_FOUND","message":"Cannot find route \\"GET /v1/data-query/query/q1/result.csv\\""}',
          { status: 404, headers: { "content-type": "application/json" } },
        ),
      [],
    ),
  });
  await rejects(drain(backend.rows(finished(1001))), {
    code: "UNAVAILABLE",
    message:
      /Cannot read all 1001 rows of query "q1": .* not readable from here \(the server at http:\/\/gw\.test offers no download\)/,
  });
});

Deno.test("remote rows() passes on the download's own errors and refuses a CSV of another row count or type", async () => {
  const cases: [() => Response, { code: string; message: RegExp }][] = [
    [
      () =>
        new Response(
          '{"code":"NOT_FOUND","message":"Cannot download the result of query \\"q1\\""}',
          {
            status: 404,
          },
        ),
      { code: "NOT_FOUND", message: /Cannot download the result of query "q1"/ },
    ],
    [
      () => new Response('{"code":"FORBIDDEN","message":"Not yours"}', { status: 403 }),
      { code: "FORBIDDEN", message: /Not yours/ },
    ],
    [
      () => new Response("n\r\n1\r\n", { headers: { "content-type": "text/csv" } }),
      {
        code: "UNAVAILABLE",
        message:
          /Cannot trust the downloaded result of query "q1": it holds 1 rows, the query reported 1001/,
      },
    ],
    [
      () => new Response("<html></html>", { headers: { "content-type": "text/html" } }),
      { code: "UNAVAILABLE", message: /expected text\/csv, got "text\/html"/ },
    ],
  ];
  for (const [answer, expected] of cases) {
    const backend = createRemoteBackend("http://gw.test", {
      ...credential,
      fetch: downloadFetch(answer, []),
    });
    await rejects(drain(backend.rows(finished(1001))), expected);
  }
});

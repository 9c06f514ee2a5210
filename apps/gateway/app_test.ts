import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { InternalError } from "@eventlake/schema";
import type { QueryApi } from "./app.ts";
import { createApp } from "./app.ts";
import { createJsonLogger } from "./logger.ts";
import { testGateway } from "./_testing.ts";

const JSON_HEADERS = { "Content-Type": "application/json" };

async function body(res: Response): Promise<Record<string, unknown>> {
  return await res.json();
}

function post(
  headers: Record<string, string>,
  payload: unknown,
  extra: Record<string, string> = {},
) {
  return {
    method: "POST",
    headers: { ...headers, ...JSON_HEADERS, ...extra },
    body: typeof payload === "string" ? payload : JSON.stringify(payload),
  };
}

async function submit(
  app: Awaited<ReturnType<typeof testGateway>>["app"],
  headers: Record<string, string>,
  query: string,
): Promise<string> {
  const res = await app.request(
    "/v1/data-query/query",
    post(headers, { query, resultConfig: { bucketName: "results", path: "out" } }),
  );
  strictEqual(res.status, 202);
  return ((await body(res)).queryInfo as { queryId: string }).queryId;
}

Deno.test("POST /v1/data-query/query answers 202 QUEUED for the documented body", async () => {
  const gw = await testGateway();
  try {
    const res = await gw.app.request(
      "/v1/data-query/query",
      post(gw.alice, {
        query: "select 3",
        resultConfig: { bucketName: "results", path: "data_query/result" },
        reuseConfig: { reuse: true, maxReuseAge: 60 },
      }),
    );
    strictEqual(res.status, 202);
    const json = await body(res);
    const info = json.queryInfo as { queryId: string; state: string };
    strictEqual(info.state, "QUEUED");
    ok(info.queryId.length > 0);
    deepStrictEqual(Object.keys(json), ["queryInfo"]);
    ok(res.headers.get("x-request-id"));
  } finally {
    await gw.close();
  }
});

Deno.test("POST /v1/data-query/query accepts the flat form and lower-case headers of the document's example", async () => {
  const gw = await testGateway();
  try {
    const lower = Object.fromEntries(
      Object.entries(gw.alice).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const res = await gw.app.request(
      "/v1/data-query/query",
      post(lower, { query: "select 1", bucketName: "results", path: "data_query/result" }, {
        "x-data-source": "data_catalog",
        "x-database": "default",
      }),
    );
    strictEqual(res.status, 202);
    const id = ((await body(res)).queryInfo as { queryId: string }).queryId;
    await gw.service.settled(id);
    const got = await body(await gw.app.request(`/v1/data-query/query/${id}`, { headers: lower }));
    strictEqual((got.resultConfig as { bucketName: string }).bucketName, "results");
  } finally {
    await gw.close();
  }
});

Deno.test("POST /v1/data-query/query answers 400 naming what is wrong", async () => {
  const gw = await testGateway();
  try {
    const cases: [unknown, RegExp][] = [
      ["{not json", /malformed JSON/],
      ["", /empty/],
      [[1, 2], /JSON object/],
      [{ resultConfig: { bucketName: "results", path: "p" } }, /"query" is required/],
      [{ query: "select 1" }, /"resultConfig.bucketName" is required/],
      [
        { query: "select 1", bucketName: "results", path: "p", reuseConfig: { reuse: true } },
        /maxReuseAge/,
      ],
      [
        {
          query: "select 1",
          bucketName: "results",
          path: "p",
          reuseConfig: { reuse: true, maxReuseAge: 0 },
        },
        /between 1 and 1440/,
      ],
      [
        {
          query: "select 1",
          bucketName: "results",
          path: "p",
          reuseConfig: { reuse: true, maxReuseAge: 1441 },
        },
        /between 1 and 1440/,
      ],
      [{ query: "select 1", bucketName: "results", path: "../escape" }, /".."/],
      [{ query: "select 1", bucketName: "results", path: "/abs" }, /relative/],
      [{ query: "select 1", bucketName: "Bad Bucket", path: "p" }, /bucketName/],
    ];
    for (const [payload, message] of cases) {
      const res = await gw.app.request("/v1/data-query/query", post(gw.alice, payload as string));
      strictEqual(res.status, 400, `for ${JSON.stringify(payload)}`);
      const json = await body(res);
      strictEqual(json.code, "INVALID_ARGUMENT");
      ok(message.test(String(json.message)), `${json.message} ~ ${message}`);
      ok(typeof json.requestId === "string");
      ok(!String(json.message).includes("issues"), "no validator internals");
    }
  } finally {
    await gw.close();
  }
});

Deno.test("POST /v1/data-query/query refuses a body over the size limit with 400", async () => {
  const gw = await testGateway({ limits: { maxBodyBytes: 100 } });
  try {
    const res = await gw.app.request(
      "/v1/data-query/query",
      post(gw.alice, { query: "x".repeat(200), bucketName: "results", path: "p" }),
    );
    strictEqual(res.status, 400);
    ok(/larger than the limit of 100 bytes/.test(String((await body(res)).message)));
  } finally {
    await gw.close();
  }
});

Deno.test("every /v1 endpoint answers 401 without a credential or with a wrong one", async () => {
  const gw = await testGateway();
  try {
    const routes: [string, string][] = [
      ["POST", "/v1/data-query/query"],
      ["GET", "/v1/data-query/query"],
      ["GET", "/v1/data-query/query/q1?page=0"],
      ["PUT", "/v1/data-query/query/q1/abort"],
      ["GET", "/v1/data-query/data-source"],
      ["POST", "/v1/data-query/data-source"],
      ["DELETE", "/v1/data-query/data-source/test_mysql"],
      ["POST", "/v1/data-import/jobs"],
      ["GET", "/v1/data-import/jobs"],
      ["GET", "/v1/data-import/jobs/j1"],
      ["DELETE", "/v1/data-import/jobs/j1"],
      ["POST", "/v1/data-import/jobs/j1/runs"],
      ["GET", "/v1/data-import/jobs/j1/runs"],
      ["GET", "/v1/data-import/jobs/j1/runs/r1"],
      ["POST", "/v1/data-import/check"],
    ];
    const wrong = { "Credential-ID": gw.alice["Credential-ID"], "Credential-Secret": "nope" };
    for (const [method, path] of routes) {
      const variants: Record<string, string>[] = [{}, wrong, { "Credential-ID": "only-id" }];
      for (const headers of variants) {
        const res = await gw.app.request(path, {
          method,
          headers,
          body: method === "GET" || method === "DELETE" ? undefined : "{}",
        });
        strictEqual(res.status, 401, `${method} ${path}`);
        const json = await body(res);
        strictEqual(json.code, "UNAUTHENTICATED");
        ok(!JSON.stringify(json).includes("nope"), "the secret is not echoed");
      }
    }
  } finally {
    await gw.close();
  }
});

Deno.test("POST /v1/data-query/query answers 404 for an unknown bucket and 499 for one the service cannot write", async () => {
  const gw = await testGateway();
  try {
    let res = await gw.app.request(
      "/v1/data-query/query",
      post(gw.alice, { query: "select 1", bucketName: "no-such-bucket", path: "p" }),
    );
    strictEqual(res.status, 404);
    strictEqual((await body(res)).code, "NOT_FOUND");
    res = await gw.app.request(
      "/v1/data-query/query",
      post(gw.alice, { query: "select 1", bucketName: "locked-bucket", path: "p" }),
    );
    strictEqual(res.status, 499);
    strictEqual((await body(res)).code, "PERMISSION_DENIED");
  } finally {
    await gw.close();
  }
});

Deno.test("GET /v1/data-query/query/{id} pages a finished result in the document's shape", async () => {
  const gw = await testGateway();
  try {
    const id = await submit(gw.app, gw.alice, "select 250");
    strictEqual(await gw.service.settled(id), "FINISHED");
    for (const [page, rows] of [[0, 100], [1, 100], [2, 50], [3, 0]]) {
      const res = await gw.app.request(`/v1/data-query/query/${id}?page=${page}`, {
        headers: gw.alice,
      });
      strictEqual(res.status, 200);
      const json = await body(res);
      deepStrictEqual(Object.keys(json), [
        "queryInfo",
        "resultConfig",
        "reuseConfig",
        "columnData",
        "queryData",
        "totalPages",
        "totalElements",
        "number",
        "size",
        "numberOfElements",
      ]);
      strictEqual(json.number, page);
      strictEqual(json.numberOfElements, rows);
      strictEqual(json.totalElements, 250);
      strictEqual(json.totalPages, 3);
      strictEqual((json.queryInfo as { state: string }).state, "FINISHED");
      deepStrictEqual(json.columnData, [
        { name: "n", index: 1, type: "bigint" },
        { name: "label", index: 2, type: "varchar" },
      ]);
    }
    // Served again (from the page cache): same body.
    const again = await body(
      await gw.app.request(`/v1/data-query/query/${id}?page=2`, { headers: gw.alice }),
    );
    strictEqual((again.queryData as unknown[]).length, 50);
    // A finished page carries an ETag; polling it again with If-None-Match gets 304.
    const tagged = await gw.app.request(`/v1/data-query/query/${id}?page=1`, { headers: gw.alice });
    const etag = tagged.headers.get("etag");
    ok(etag);
    await tagged.body?.cancel();
    const notModified = await gw.app.request(`/v1/data-query/query/${id}?page=1`, {
      headers: { ...gw.alice, "If-None-Match": etag },
    });
    strictEqual(notModified.status, 304);
    // ... but never for another user.
    const other = await gw.app.request(`/v1/data-query/query/${id}?page=1`, {
      headers: { ...gw.bob, "If-None-Match": etag },
    });
    strictEqual(other.status, 403);
    // No page parameter = page 0.
    const first = await body(
      await gw.app.request(`/v1/data-query/query/${id}`, { headers: gw.alice }),
    );
    strictEqual(first.number, 0);
  } finally {
    await gw.close();
  }
});

Deno.test("an ended page polled again and again is the same bytes and headers, each with its own request id", async () => {
  const gw = await testGateway();
  try {
    const id = await submit(gw.app, gw.alice, "select 250");
    await gw.service.settled(id);
    const seen: { bytes: Uint8Array; headers: [string, string][] }[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await gw.app.request(`/v1/data-query/query/${id}?page=1`, {
        headers: { ...gw.alice, "X-Request-Id": `poll-${i}` },
      });
      strictEqual(res.status, 200);
      strictEqual(res.headers.get("x-request-id"), `poll-${i}`);
      seen.push({
        bytes: await res.bytes(),
        headers: [...res.headers].filter(([name]) => name !== "x-request-id"),
      });
    }
    const page = JSON.parse(new TextDecoder().decode(seen[0].bytes));
    strictEqual(page.number, 1);
    strictEqual(page.queryData.length, 100);
    for (const later of seen.slice(1)) {
      deepStrictEqual(later.bytes, seen[0].bytes);
      deepStrictEqual(later.headers, seen[0].headers);
    }
    deepStrictEqual(seen[0].headers.map(([name]) => name), ["content-type", "etag"]);
  } finally {
    await gw.close();
  }
});

Deno.test("GET /v1/data-query/query/{id} answers 400 for a bad page, 403 for another user's query, 404 for an unknown id", async () => {
  const gw = await testGateway();
  try {
    const id = await submit(gw.app, gw.alice, "select 5");
    await gw.service.settled(id);
    for (const page of ["10", "-1", "x"]) {
      const res = await gw.app.request(`/v1/data-query/query/${id}?page=${page}`, {
        headers: gw.alice,
      });
      strictEqual(res.status, 400, page);
      strictEqual((await body(res)).code, "INVALID_ARGUMENT");
    }
    // Cached page of alice is not served to bob.
    await gw.app.request(`/v1/data-query/query/${id}?page=0`, { headers: gw.alice });
    let res = await gw.app.request(`/v1/data-query/query/${id}?page=0`, { headers: gw.bob });
    strictEqual(res.status, 403);
    strictEqual((await body(res)).code, "FORBIDDEN");
    res = await gw.app.request(`/v1/data-query/query/nope-123`, { headers: gw.alice });
    strictEqual(res.status, 404);
    ok(/Cannot find query "nope-123"/.test(String((await body(res)).message)));
  } finally {
    await gw.close();
  }
});

Deno.test("GET /v1/data-query/query/{id} shows a FAILED query as data with its reason", async () => {
  const gw = await testGateway();
  try {
    const id = await submit(gw.app, gw.alice, "fail");
    strictEqual(await gw.service.settled(id), "FAILED");
    const res = await gw.app.request(`/v1/data-query/query/${id}`, { headers: gw.alice });
    strictEqual(res.status, 200);
    const info = (await body(res)).queryInfo as { state: string; errorMessage: string };
    strictEqual(info.state, "FAILED");
    ok(/nope/.test(info.errorMessage));
  } finally {
    await gw.close();
  }
});

Deno.test("GET /v1/data-query/query lists, filters, sorts and pages the history", async () => {
  const gw = await testGateway();
  try {
    for (let i = 0; i < 4; i++) {
      await gw.service.settled(await submit(gw.app, gw.alice, "select 1"));
    }
    await gw.service.settled(await submit(gw.app, gw.alice, "fail"));
    const res = await gw.app.request(
      "/v1/data-query/query?page=0&size=3&sort=elapsedTime,desc&states=FAILED&states=FINISHED",
      { headers: gw.alice },
    );
    strictEqual(res.status, 200);
    const json = await body(res);
    strictEqual(json.totalElements, 5);
    strictEqual(json.size, 3);
    strictEqual((json.content as unknown[]).length, 3);
    const first = (json.content as Record<string, unknown>[])[0];
    deepStrictEqual(Object.keys(first), [
      "queryInfo",
      "resultConfig",
      "reuseConfig",
      "creatorName",
    ]);
    strictEqual(first.creatorName, "alice@example.com");
    const failed = await body(
      await gw.app.request("/v1/data-query/query?states=FAILED", { headers: gw.bob }),
    );
    strictEqual(failed.totalElements, 1, "history is project-wide");
  } finally {
    await gw.close();
  }
});

Deno.test("GET /v1/data-query/query?queryId= answers the one query, or 404 for an unknown id", async () => {
  const gw = await testGateway();
  try {
    const id = await submit(gw.app, gw.alice, "select 1");
    await gw.service.settled(id);
    const res = await gw.app.request(`/v1/data-query/query?queryId=${id}`, { headers: gw.bob });
    strictEqual(res.status, 200);
    strictEqual((await body(res)).totalElements, 1);
    const missing = await gw.app.request("/v1/data-query/query?queryId=20240101-000000-nope", {
      headers: gw.alice,
    });
    strictEqual(missing.status, 404);
    strictEqual((await body(missing)).code, "NOT_FOUND");
  } finally {
    await gw.close();
  }
});

Deno.test("POST /v1/data-query/query answers 400 for a malformed or unknown X-Data-Source", async () => {
  const gw = await testGateway();
  try {
    const headerCases: Record<string, string>[] = [
      { "X-Data-Source": "Bad Name!" },
      { "X-Data-Source": "nobody_has_this" },
    ];
    for (const extra of headerCases) {
      const res = await gw.app.request(
        "/v1/data-query/query",
        post(gw.alice, { query: "select 1", bucketName: "results", path: "p" }, extra),
      );
      strictEqual(res.status, 400, JSON.stringify(extra));
      strictEqual((await body(res)).code, "INVALID_ARGUMENT");
    }
  } finally {
    await gw.close();
  }
});

Deno.test("GET /v1/data-query/query answers 400 for bad parameters", async () => {
  const gw = await testGateway({ limits: { maxPageSize: 50 } });
  try {
    for (const qs of ["size=0", "size=51", "page=-1", "page=a", "states=DONE", "sort=nope"]) {
      const res = await gw.app.request(`/v1/data-query/query?${qs}`, { headers: gw.alice });
      strictEqual(res.status, 400, qs);
      strictEqual((await body(res)).code, "INVALID_ARGUMENT");
    }
  } finally {
    await gw.close();
  }
});

Deno.test("PUT /v1/data-query/query/{id}/abort answers 200, then 409 once ended, 403 for another user, 404 unknown", async () => {
  const gw = await testGateway();
  try {
    const id = await submit(gw.app, gw.alice, "hang");
    let res = await gw.app.request(`/v1/data-query/query/${id}/abort`, {
      method: "PUT",
      headers: gw.bob,
    });
    strictEqual(res.status, 403);
    res = await gw.app.request(`/v1/data-query/query/${id}/abort`, {
      method: "PUT",
      headers: gw.alice,
    });
    strictEqual(res.status, 200);
    deepStrictEqual(await body(res), { queryInfo: { queryId: id, state: "ABORTED" } });
    strictEqual(await gw.service.settled(id), "ABORTED");
    res = await gw.app.request(`/v1/data-query/query/${id}/abort`, {
      method: "PUT",
      headers: gw.alice,
    });
    strictEqual(res.status, 409);
    strictEqual((await body(res)).code, "CONFLICT");
    res = await gw.app.request(`/v1/data-query/query/unknown-1/abort`, {
      method: "PUT",
      headers: gw.alice,
    });
    strictEqual(res.status, 404);
    // The document's example PUTs to the query URL itself.
    const other = await submit(gw.app, gw.alice, "hang");
    res = await gw.app.request(`/v1/data-query/query/${other}`, {
      method: "PUT",
      headers: gw.alice,
    });
    strictEqual(res.status, 200);
  } finally {
    await gw.close();
  }
});

Deno.test("data sources: list 200, create 200, duplicate 409, bad name or password 400, delete 200/403/404/409", async () => {
  const gw = await testGateway();
  try {
    const source = {
      type: "MYSQL",
      name: "test_mysql",
      scope: "PRIVATE",
      description: "test mysql",
      instanceId: "db1",
      mysqlUser: "admin",
      mysqlPassword: "YWRtaW4K",
    };
    let res = await gw.app.request("/v1/data-query/data-source", post(gw.alice, source));
    strictEqual(res.status, 200);
    const created = await body(res);
    strictEqual(created.name, "test_mysql");
    ok(!JSON.stringify(created).includes("YWRtaW4K"), "the password is not returned");

    res = await gw.app.request("/v1/data-query/data-source", post(gw.alice, source));
    strictEqual(res.status, 409);
    for (
      const [patch, field] of [
        [{ name: "Bad-Name" }, "name"],
        [{ name: "ab" }, "name"],
        [{ mysqlPassword: "not base64!" }, "mysqlPassword"],
        [{ type: "DATA_CATALOG" }, "type"],
      ] as const
    ) {
      res = await gw.app.request(
        "/v1/data-query/data-source",
        post(gw.alice, { ...source, name: "other_one", ...patch }),
      );
      strictEqual(res.status, 400, JSON.stringify(patch));
      ok(String((await body(res)).message).includes(`"${field}"`));
    }
    res = await gw.app.request("/v1/data-query/data-source", post(gw.alice, "{oops"));
    strictEqual(res.status, 400);

    res = await gw.app.request("/v1/data-query/data-source", { headers: gw.alice });
    strictEqual(res.status, 200);
    const list = await res.json() as { name: string; type: string; scope: string }[];
    ok(list.some((s) => s.type === "DATA_CATALOG" && s.scope === "NONE"));
    ok(list.some((s) => s.name === "test_mysql"));
    const bobList = await (await gw.app.request("/v1/data-query/data-source", {
      headers: gw.bob,
    })).json() as { name: string }[];
    ok(!bobList.some((s) => s.name === "test_mysql"), "PRIVATE is hidden from others");

    res = await gw.app.request("/v1/data-query/data-source/test_mysql", {
      method: "DELETE",
      headers: gw.bob,
    });
    // Another user's PRIVATE source: not listed, and touching it is 403 as the Open API says.
    strictEqual(res.status, 403);
    strictEqual((await res.json()).code, "FORBIDDEN");
    res = await gw.app.request("/v1/data-query/query", {
      method: "POST",
      headers: { ...gw.bob, "content-type": "application/json", "x-data-source": "test_mysql" },
      body: JSON.stringify({ query: "select 1", bucketName: "results", path: "p" }),
    });
    strictEqual(res.status, 403, "submitting with another user's PRIVATE source");
    res = await gw.app.request("/v1/data-query/data-source/data_catalog", {
      method: "DELETE",
      headers: gw.alice,
    });
    strictEqual(res.status, 409);
    res = await gw.app.request("/v1/data-query/data-source/test_mysql", {
      method: "DELETE",
      headers: gw.alice,
    });
    strictEqual(res.status, 200);
    res = await gw.app.request("/v1/data-query/data-source/test_mysql", {
      method: "DELETE",
      headers: gw.alice,
    });
    strictEqual(res.status, 404);
  } finally {
    await gw.close();
  }
});

Deno.test("deleting another user's PUBLIC data source answers 403", async () => {
  const gw = await testGateway();
  try {
    const res = await gw.app.request(
      "/v1/data-query/data-source",
      post(gw.alice, {
        type: "MYSQL",
        name: "shared_db",
        scope: "PUBLIC",
        instanceId: "db1",
        mysqlUser: "u",
        mysqlPassword: "cA==",
      }),
    );
    strictEqual(res.status, 200);
    const del = await gw.app.request("/v1/data-query/data-source/shared_db", {
      method: "DELETE",
      headers: gw.bob,
    });
    strictEqual(del.status, 403);
    strictEqual((await body(del)).code, "FORBIDDEN");
  } finally {
    await gw.close();
  }
});

Deno.test("an unexpected failure is a generic 500 and its stack goes only to the server log", async () => {
  const lines: string[] = [];
  const logger = createJsonLogger((t) => lines.push(t));
  const queryService = {
    authenticate: () => Promise.resolve({ name: "x" }),
    listDataSources: () => Promise.reject(new Error("database file is locked at /secret/path")),
  } as unknown as QueryApi;
  const app = createApp({ queryService, logger });
  const res = await app.request("/v1/data-query/data-source", {
    headers: { "Credential-ID": "a", "Credential-Secret": "b" },
  });
  strictEqual(res.status, 500);
  const json = await body(res);
  deepStrictEqual(Object.keys(json).sort(), ["code", "message", "requestId"]);
  strictEqual(json.message, "Internal server error");
  logger.flush();
  const text = lines.join("");
  ok(text.includes("/secret/path"));
  ok(!text.includes('"b"'), "no secret in the log");
});

Deno.test("RESOURCE_EXHAUSTED and UNAVAILABLE answer 503 with Retry-After; INTERNAL never leaks", async () => {
  const { ResourceExhaustedError } = await import("@eventlake/schema");
  const queryService = {
    authenticate: () => Promise.resolve({ name: "x" }),
    submit: () => Promise.reject(new ResourceExhaustedError("Too many queries: 100 are queued")),
    listDataSources: () => Promise.reject(new InternalError("boom")),
  } as unknown as QueryApi;
  const app = createApp({ queryService });
  const headers = { "Credential-ID": "a", "Credential-Secret": "b" };
  const res = await app.request(
    "/v1/data-query/query",
    post(headers, { query: "select 1", bucketName: "results", path: "p" }),
  );
  strictEqual(res.status, 503);
  strictEqual(res.headers.get("retry-after"), "1");
  strictEqual((await body(res)).code, "RESOURCE_EXHAUSTED");
  const internal = await app.request("/v1/data-query/data-source", { headers });
  strictEqual(internal.status, 500);
  strictEqual((await body(internal)).message, "Internal server error");
});

Deno.test("a draining server refuses new queries with 503 and /healthz says so", async () => {
  let draining = false;
  const gw = await testGateway({ isDraining: () => draining });
  try {
    strictEqual((await gw.app.request("/healthz")).status, 200);
    draining = true;
    const res = await gw.app.request(
      "/v1/data-query/query",
      post(gw.alice, { query: "select 1", bucketName: "results", path: "p" }),
    );
    strictEqual(res.status, 503);
    strictEqual((await body(res)).code, "UNAVAILABLE");
    const health = await gw.app.request("/healthz");
    strictEqual(health.status, 503);
    deepStrictEqual(await health.json(), { status: "draining" });
  } finally {
    await gw.close();
  }
});

Deno.test("unknown routes answer 404 JSON; a client's X-Request-Id is echoed", async () => {
  const gw = await testGateway();
  try {
    const res = await gw.app.request("/v2/nothing", { headers: { "X-Request-Id": "abc-123" } });
    strictEqual(res.status, 404);
    strictEqual(res.headers.get("x-request-id"), "abc-123");
    const json = await body(res);
    strictEqual(json.code, "NOT_FOUND");
    strictEqual(json.requestId, "abc-123");
  } finally {
    await gw.close();
  }
});

Deno.test("GET /metrics counts requests by route and status and shows the queue", async () => {
  const gw = await testGateway();
  try {
    await gw.app.request("/v1/data-query/query/x", { headers: gw.alice });
    await gw.app.request("/healthz");
    const res = await gw.app.request("/metrics");
    strictEqual(res.status, 200);
    const text = await res.text();
    ok(text.includes(
      'eventlake_http_requests_total{route="/v1/data-query/query/:queryId",method="GET",status="404"} 1',
    ));
    ok(text.includes("eventlake_http_request_duration_seconds_bucket{"));
    ok(text.includes("eventlake_query_queue_depth 0"));
    ok(text.includes("eventlake_queries_running 0"));
  } finally {
    await gw.close();
  }
});

Deno.test("access logs carry route, status and identity but never credentials or query text", async () => {
  const lines: string[] = [];
  const logger = createJsonLogger((t) => lines.push(t));
  const gw = await testGateway({ logger });
  try {
    await submit(gw.app, gw.alice, "select 42");
    logger.flush();
    const entry = JSON.parse(lines.join("").trim().split("\n").at(-1)!);
    strictEqual(entry.route, "/v1/data-query/query");
    strictEqual(entry.status, 202);
    strictEqual(entry.identity, "alice@example.com");
    const text = lines.join("");
    ok(!text.includes(gw.alice["Credential-Secret"]));
    ok(!text.includes("select 42"));
  } finally {
    await gw.close();
  }
});

Deno.test("GET /openapi.json and /docs describe every Open API path", async () => {
  const gw = await testGateway();
  try {
    const doc = await (await gw.app.request("/openapi.json")).json();
    strictEqual(doc.openapi, "3.1.0");
    for (
      const path of [
        "/v1/data-query/query",
        "/v1/data-query/query/{query-id}",
        "/v1/data-query/query/{query-id}/abort",
        "/v1/data-query/data-source",
        "/v1/data-query/data-source/{data-source-name}",
        "/v1/data-import/jobs",
        "/v1/data-import/check",
      ]
    ) ok(doc.paths[path], path);
    const html = await (await gw.app.request("/docs")).text();
    ok(html.includes("<code>/v1/data-query/query/{query-id}/abort</code>"));
  } finally {
    await gw.close();
  }
});

Deno.test("the import API answers 503 when the server has none", async () => {
  const gw = await testGateway();
  try {
    const res = await gw.app.request("/v1/data-import/jobs", { headers: gw.alice });
    strictEqual(res.status, 503);
  } finally {
    await gw.close();
  }
});

import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import {
  AbortedError,
  EventlakeError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  PreconditionFailedError,
  UnavailableError,
} from "@eventlake/schema";
import { createGcsStore, type GcsStoreOptions } from "./gcs.ts";
import { isRetryableGcsError, mapGcsError } from "./_gcs_errors.ts";
import { startGcsEmulator } from "./_gcs_server.ts";
import { storeContract } from "./_contract_suite.ts";
import type { ObjectStore } from "./store.ts";

const emulator = await startGcsEmulator();
const ignore = typeof emulator === "string" ? emulator : undefined;
if (ignore) console.warn(`GCS emulator tests skipped: ${ignore}`);
const endpoint = typeof emulator === "string" ? "http://127.0.0.1:9" : emulator.endpoint;
const BUCKET = "eventlake-test";

// A fake service-account key: enough to construct a client, useless anywhere else.
const FAKE_PRIVATE_KEY =
  "-----BEGIN PRIVATE KEY-----\nFAKEFAKEFAKEsecretmaterial\n-----END PRIVATE KEY-----\n";
const FAKE_KEY = {
  type: "service_account",
  project_id: "demo-test",
  private_key_id: "0000",
  private_key: FAKE_PRIVATE_KEY,
  client_email: "tester@demo-test.iam.gserviceaccount.com",
  client_id: "1",
  token_uri: "https://oauth2.googleapis.com/token",
};

function emulatorStore(extra: Partial<GcsStoreOptions> = {}): ObjectStore {
  return createGcsStore({
    bucket: BUCKET,
    apiEndpoint: endpoint,
    projectId: "demo-test",
    prefix: `t-${crypto.randomUUID().slice(0, 8)}`,
    retry: { maxRetries: 1, delayMultiplier: 1 },
    ...extra,
  });
}

function emulatorTest(name: string, fn: () => Promise<void>): void {
  // The SDK keeps pooled sockets and timers between calls: op/resource sanitizers cannot apply.
  Deno.test({
    name,
    ignore: ignore !== undefined,
    sanitizeOps: false,
    sanitizeResources: false,
    fn,
  });
}

/** A one-route stand-in for GCS on 127.0.0.1 that answers every request with `status` and `body`. */
function fakeGcs(
  status: number,
  body: unknown,
): { endpoint: string; requests: () => number; close: () => Promise<void> } {
  return fakeServer(() => Response.json(body, { status }));
}

/** A stand-in for GCS on 127.0.0.1 that answers with `handler`; counts requests. */
function fakeServer(
  handler: (request: Request) => Response | Promise<Response>,
): { endpoint: string; requests: () => number; close: () => Promise<void> } {
  let count = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (r) => {
    count++;
    return handler(r);
  });
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    requests: () => count,
    close: () => server.shutdown(),
  };
}

function gcsErrorBody(code: number, message: string, reason: string): unknown {
  return { error: { code, message, errors: [{ message, domain: "global", reason }] } };
}

const DENIED_MESSAGE =
  "tester@demo-test.iam.gserviceaccount.com does not have storage.objects.get " +
  "access to the Google Cloud Storage object. Permission 'storage.objects.get' denied on resource " +
  "(or it may not exist).";

storeContract("gcs (emulator)", () => emulatorStore(), {
  ignore,
  sanitize: false,
  concurrency: 32,
  // The emulator cannot deny (it does not evaluate rules through the JSON API): a stub server
  // answers like GCS does for a missing storage.objects.get permission, through the real SDK.
  permissionDenied: () => {
    const fake = fakeGcs(403, gcsErrorBody(403, DENIED_MESSAGE, "forbidden"));
    const store = createGcsStore({
      bucket: BUCKET,
      apiEndpoint: fake.endpoint,
      projectId: "demo-test",
    });
    return Promise.resolve({ store, key: "denied/obj", cleanup: fake.close });
  },
});

// ---- credentials -----------------------------------------------------------------------------

emulatorTest(
  "createGcsStore() takes a service-account key from a JSON file, never showing it",
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/key.json`;
      await Deno.writeTextFile(path, JSON.stringify(FAKE_KEY));
      const store = emulatorStore({ keyFilename: path });
      await store.write("k/obj", new Uint8Array([1, 2]));
      deepStrictEqual(await store.read("k/obj"), new Uint8Array([1, 2]));
      const error = await store.read("k/absent").catch((e) => e);
      ok(error instanceof NotFoundError);
      for (
        const text of [
          store.url,
          Deno.inspect(store, { depth: 10 }),
          JSON.stringify(store),
          error.message,
          Deno.inspect(error, { depth: 10 }),
        ]
      ) {
        ok(!text.includes("secretmaterial"), `the private key leaked into: ${text.slice(0, 80)}`);
      }
      await store.deletePrefix("");
      await store.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

emulatorTest("createGcsStore() takes a parsed service-account key, never showing it", async () => {
  const store = emulatorStore({ credentials: { ...FAKE_KEY } });
  await store.write("k/obj", new Uint8Array([3]));
  strictEqual((await store.head("k/obj")).size, 1);
  ok(!Deno.inspect(store, { depth: 10 }).includes("secretmaterial"));
  ok(!JSON.stringify(store).includes("secretmaterial"));
  await store.deletePrefix("");
  await store.close();
});

Deno.test("createGcsStore() rejects an unreadable, non-JSON or incomplete key file, naming the file not its content", async () => {
  const dir = await Deno.makeTempDir();
  try {
    throws(
      () => createGcsStore({ bucket: BUCKET, keyFilename: `${dir}/absent.json` }),
      (e: unknown) => {
        ok(e instanceof InvalidArgumentError);
        strictEqual(e.message, `Cannot read GCS key file "${dir}/absent.json": ENOENT`);
        return true;
      },
    );
    await Deno.writeTextFile(`${dir}/pem.json`, FAKE_PRIVATE_KEY);
    throws(
      () => createGcsStore({ bucket: BUCKET, keyFilename: `${dir}/pem.json` }),
      (e: unknown) => {
        ok(e instanceof InvalidArgumentError);
        strictEqual(e.message, `Invalid GCS key file "${dir}/pem.json": not JSON`);
        return true;
      },
    );
    await Deno.writeTextFile(
      `${dir}/partial.json`,
      JSON.stringify({ ...FAKE_KEY, client_email: undefined }),
    );
    throws(
      () => createGcsStore({ bucket: BUCKET, keyFilename: `${dir}/partial.json` }),
      (e: unknown) => {
        ok(e instanceof InvalidArgumentError);
        strictEqual(
          e.message,
          `Invalid GCS key file "${dir}/partial.json": missing "client_email"`,
        );
        ok(!e.message.includes("secretmaterial"));
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createGcsStore() rejects bad options with a message naming the option", () => {
  const cases: [Partial<GcsStoreOptions>, string][] = [
    [{ bucket: "Bad_Bucket!" }, `Invalid GCS bucket name "Bad_Bucket!"`],
    [
      { bucket: BUCKET, apiEndpoint: "127.0.0.1:9199" },
      `Invalid GCS apiEndpoint "127.0.0.1:9199": must start with http:// or https://`,
    ],
    [
      { bucket: BUCKET, prefix: "../up" },
      `Invalid object key "../up": ".." segments are not allowed`,
    ],
    [
      { bucket: BUCKET, credentials: { private_key: "x" } },
      `Invalid GCS credentials: missing "client_email"`,
    ],
    [
      { bucket: BUCKET, credentials: FAKE_KEY, keyFilename: "/k.json" },
      `Invalid GCS options for "${BUCKET}": give "keyFilename" or "credentials", not both`,
    ],
    [{ bucket: BUCKET, pageSize: 5000 }, `Invalid GCS option "pageSize": 5000 is above 1000`],
    [{ bucket: BUCKET, retry: { maxRetries: -1 } }, `Invalid GCS option "retry.maxRetries": -1`],
  ];
  for (const [options, message] of cases) {
    throws(() => createGcsStore(options as GcsStoreOptions), (e: unknown) => {
      ok(e instanceof InvalidArgumentError, `${message}: got ${e}`);
      strictEqual(e.message, message);
      return true;
    });
  }
});

Deno.test("createGcsStore() reports its location without secrets", async () => {
  const store = createGcsStore({
    bucket: BUCKET,
    prefix: "lake/",
    credentials: FAKE_KEY,
    apiEndpoint: "http://127.0.0.1:9",
  });
  strictEqual(store.url, `gs://${BUCKET}/lake`);
  strictEqual(createGcsStore({ bucket: BUCKET }).url, `gs://${BUCKET}`);
  await store.close();
  await rejects(store.head("x"), InvalidArgumentError);
});

// ---- errors ----------------------------------------------------------------------------------

/** Shaped like the SDK's ApiError: a numeric `code`, `errors[]` with reasons, and `response`. */
function apiError(code: number, message: string, reason: string): Error {
  return Object.assign(new Error(message), {
    name: "ApiError",
    code,
    errors: [{ message, domain: "global", reason }],
    response: { config: { headers: { Authorization: "Bearer ya29.secret-token" } } },
  });
}

const ctx = { op: "read", bucket: "b", name: "lake/dt=2023-01-01/_SUCCESS" };

Deno.test("mapGcsError() maps 403 and 401 to PermissionDeniedError (the emulator cannot produce them)", () => {
  for (const code of [401, 403]) {
    const e = mapGcsError(apiError(code, DENIED_MESSAGE, "forbidden"), ctx);
    ok(e instanceof PermissionDeniedError, `HTTP ${code}`);
    ok(
      e.message.startsWith(
        `Cannot read "gs://b/lake/dt=2023-01-01/_SUCCESS": permission denied (HTTP ${code})`,
      ),
    );
    strictEqual(e.details.status, code);
    ok(!Deno.inspect(e, { depth: 10 }).includes("ya29"), "the request's token is not kept");
  }
});

Deno.test("mapGcsError() tells a missing bucket from a missing object", () => {
  const bucket = mapGcsError(
    apiError(404, "The specified bucket does not exist.", "notFound"),
    ctx,
  );
  ok(bucket instanceof NotFoundError);
  strictEqual(bucket.message, `Cannot find GCS bucket "b"`);
  const object = mapGcsError(
    apiError(404, "No such object: b/lake/dt=2023-01-01/_SUCCESS", "notFound"),
    ctx,
  );
  ok(object instanceof NotFoundError);
  strictEqual(object.message, `Cannot read "gs://b/lake/dt=2023-01-01/_SUCCESS": no such object`);
});

Deno.test("mapGcsError() maps 412, retryable statuses, network failures and the rest", () => {
  ok(
    mapGcsError(
      apiError(
        412,
        "At least one of the pre-conditions you specified did not hold.",
        "conditionNotMet",
      ),
      ctx,
    ) instanceof PreconditionFailedError,
  );
  for (const code of [408, 429, 500, 502, 503, 504]) {
    const e = mapGcsError(apiError(code, "Backend Error", "backendError"), ctx);
    ok(e instanceof UnavailableError, `HTTP ${code}`);
    ok(e.message.includes(`after retries (HTTP ${code})`));
  }
  const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
  ok(mapGcsError(reset, ctx) instanceof UnavailableError);
  const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
  ok(mapGcsError(refused, ctx) instanceof UnavailableError);
  ok(mapGcsError(apiError(501, "Not Implemented", "notImplemented"), ctx) instanceof InternalError);
  const abort = Object.assign(new Error("The operation was aborted"), { name: "AbortError" });
  ok(mapGcsError(abort, ctx) instanceof AbortedError);
  const throttled = mapGcsError({ code: 429, message: "Rate limit", retryAfterMs: 2000 }, ctx);
  strictEqual(throttled.details.retryAfterMs, 2000, "Retry-After reaches withRetry");
  const mine = new NotFoundError("mine");
  strictEqual(mapGcsError(mine, ctx), mine);
});

Deno.test("mapGcsError() never repeats a private key or token found in a message", () => {
  const e = mapGcsError(new Error(`bad key ${FAKE_PRIVATE_KEY} and Bearer ya29.abc`), ctx);
  ok(e instanceof EventlakeError);
  ok(!e.message.includes("secretmaterial"), e.message);
  ok(!e.message.includes("ya29.abc"), e.message);
});

Deno.test("isRetryableGcsError() retries 408/429/5xx and connection failures, not 4xx or 501", () => {
  for (const code of [408, 429, 500, 502, 503, 504]) {
    ok(isRetryableGcsError({ code }), String(code));
  }
  for (const code of [400, 401, 403, 404, 412, 501]) {
    ok(!isRetryableGcsError({ code }), String(code));
  }
  ok(isRetryableGcsError({ code: "ECONNRESET" }));
  ok(isRetryableGcsError({ code: "503" }));
  ok(!isRetryableGcsError(new Error("weird")));
});

Deno.test({
  name: "a server answering 503 is retried a bounded number of times, then UnavailableError",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const fake = fakeGcs(503, gcsErrorBody(503, "Backend Error", "backendError"));
    try {
      const store = createGcsStore({
        bucket: BUCKET,
        apiEndpoint: fake.endpoint,
        projectId: "demo-test",
        retry: { maxRetries: 1, delayMultiplier: 1, maxDelaySeconds: 1 },
      });
      const error = await store.head("x").catch((e) => e);
      ok(error instanceof UnavailableError, String(error));
      strictEqual(fake.requests(), 2, "one attempt and one retry");
      const readError = await store.read("x").catch((e) => e);
      ok(readError instanceof UnavailableError, String(readError));
      strictEqual(fake.requests(), 4, "one attempt and one retry of the read");
      await rejects(store.write("x", new Uint8Array([1])), UnavailableError);
      strictEqual(fake.requests(), 6, "one attempt and one retry of the upload");
      ok(
        error.message.startsWith(
          `Cannot stat "gs://${BUCKET}/x": GCS is unavailable after retries (HTTP 503)`,
        ),
        error.message,
      );
    } finally {
      await fake.close();
    }
  },
});

Deno.test({
  name: "an unreachable endpoint is UnavailableError, not an internal error",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close(); // nothing listens there now
    const store = createGcsStore({
      bucket: BUCKET,
      apiEndpoint: `http://127.0.0.1:${port}`,
      retry: { maxRetries: 0 },
    });
    await rejects(store.read("x"), UnavailableError);
    await rejects(store.write("x", new Uint8Array([1])), UnavailableError);
  },
});

Deno.test({
  name:
    "a 403 from the server (a stub: the emulator cannot deny) is PermissionDeniedError for every call",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const fake = fakeGcs(403, gcsErrorBody(403, DENIED_MESSAGE, "forbidden"));
    try {
      const store = createGcsStore({
        bucket: BUCKET,
        apiEndpoint: fake.endpoint,
        projectId: "demo-test",
      });
      await rejects(store.head("x"), PermissionDeniedError);
      await rejects(store.exists("x"), PermissionDeniedError);
      await rejects(store.read("x"), PermissionDeniedError);
      await rejects(store.write("x", new Uint8Array([1])), PermissionDeniedError);
      await rejects(store.delete("x"), PermissionDeniedError);
      await rejects(
        (async () => {
          for await (const _ of store.list("")) { /* drain */ }
        })(),
        PermissionDeniedError,
      );
      strictEqual(fake.requests() >= 6, true);
    } finally {
      await fake.close();
    }
  },
});

// ---- uploads ---------------------------------------------------------------------------------

emulatorTest("aborting a resumable upload after megabytes were sent leaves no object", async () => {
  const store = emulatorStore();
  const controller = new AbortController();
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      await new Promise((r) => setTimeout(r, 1));
      c.enqueue(new Uint8Array(256 * 1024).fill(9));
      sent += 256 * 1024;
      if (sent === 8 * 2 ** 20) controller.abort(new Error("enough"));
    },
  });
  await rejects(store.write("big/obj", body, { signal: controller.signal }), AbortedError);
  strictEqual(await store.exists("big/obj"), false);
  // The emulator is still healthy after the dropped upload.
  await store.write("big/after", new Uint8Array([1]));
  strictEqual(await store.deletePrefix(""), 1);
  await store.close();
});

emulatorTest("a byte body above resumableThreshold goes through a resumable upload", async () => {
  const store = emulatorStore({ resumableThreshold: 1024 });
  const data = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 13) & 255);
  strictEqual((await store.write("r/obj", data)).size, data.byteLength);
  deepStrictEqual(await store.read("r/obj"), data);
  await store.deletePrefix("");
  await store.close();
});

// ---- integrity and throttling (stub servers: the emulator neither corrupts nor throttles) -----

Deno.test({
  name: "read() fails with UnavailableError when the bytes received do not match the object's MD5",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const fake = fakeServer(() =>
      new Response("hello", {
        headers: { "x-goog-hash": "crc32c=AAAAAA==,md5=AAAAAAAAAAAAAAAAAAAAAA==" },
      })
    );
    try {
      const store = createGcsStore({ bucket: BUCKET, apiEndpoint: fake.endpoint });
      await rejects(store.read("x"), (e: unknown) => {
        ok(e instanceof UnavailableError);
        ok(e.message.includes("the bytes received differ from the stored object"), e.message);
        return true;
      });
      // A range is not checked against the whole object's MD5.
      deepStrictEqual(
        await store.read("x", { range: { offset: 1, length: 2 } }),
        new TextEncoder().encode("el"),
      );
    } finally {
      await fake.close();
    }
  },
});

Deno.test({
  name: "write() deletes the object and fails when the server stored other bytes than were sent",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const methods: string[] = [];
    const fake = fakeServer((r) => {
      methods.push(r.method);
      if (r.method === "DELETE") return new Response(null, { status: 204 });
      return Response.json({ name: "x", size: "1", md5Hash: "AAAAAAAAAAAAAAAAAAAAAA==" });
    });
    try {
      // Without retries: one upload, then the delete of what it stored.
      const store = createGcsStore({
        bucket: BUCKET,
        apiEndpoint: fake.endpoint,
        retry: { maxRetries: 0 },
      });
      await rejects(store.write("x", new Uint8Array([1])), (e: unknown) => {
        ok(e instanceof UnavailableError);
        ok(e.message.includes("the stored bytes differ from the bytes sent"), e.message);
        return true;
      });
      deepStrictEqual(methods, ["POST", "DELETE"]);
    } finally {
      await fake.close();
    }
  },
});

Deno.test({
  name: "a 429 answer to a read is retried and the read succeeds",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    let calls = 0;
    const fake = fakeServer(() => {
      if (++calls === 1) {
        return Response.json(gcsErrorBody(429, "Rate limit", "rateLimitExceeded"), {
          status: 429,
          headers: { "retry-after": "1" },
        });
      }
      return new Response("ok");
    });
    try {
      const store = createGcsStore({ bucket: BUCKET, apiEndpoint: fake.endpoint });
      deepStrictEqual(await store.read("x"), new TextEncoder().encode("ok"));
      strictEqual(fake.requests(), 2);
    } finally {
      await fake.close();
    }
  },
});

emulatorTest(
  "list() with a delimiter keeps key order across pages (the emulator sends every prefix on every page)",
  async () => {
    const store = emulatorStore({ pageSize: 2 });
    for (const k of ["a", "b/x", "c", "d/x", "d/y", "e", "f/x", "g", "h/x"]) {
      await store.write(`l/${k}`, new Uint8Array(0));
    }
    const seen: string[] = [];
    for await (const e of store.list("l/", { delimiter: "/" })) {
      seen.push(e.kind === "object" ? e.key : `${e.prefix} (prefix)`);
    }
    deepStrictEqual(seen, [
      "l/a",
      "l/b/ (prefix)",
      "l/c",
      "l/d/ (prefix)",
      "l/e",
      "l/f/ (prefix)",
      "l/g",
      "l/h/ (prefix)",
    ]);
    const all: string[] = [];
    for await (const e of store.list("l/")) if (e.kind === "object") all.push(e.key);
    strictEqual(all.length, 9);
    deepStrictEqual(all, [...all].sort());
    await store.deletePrefix("");
    await store.close();
  },
);

import { deepStrictEqual, match, ok, rejects, strictEqual, throws } from "node:assert/strict";
import {
  AbortedError,
  type EventlakeError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  PreconditionFailedError,
  UnavailableError,
} from "@eventlake/schema";
import { createS3Store, type S3Store, type S3StoreOptions } from "./s3.ts";
import { classifyS3Error, mapS3Error } from "./_s3_errors.ts";
import { storeContract } from "./_contract_suite.ts";
import { S3_NO_RIGHTS, S3_OWNER, startS3Server } from "./_s3_server.ts";
import type { ObjectStore } from "./store.ts";

const server = await startS3Server();
const ignore = typeof server === "string" ? server : undefined;
if (ignore) console.warn(`S3 (Swift) tests skipped: ${ignore}`);
const endpoint = typeof server === "string" ? "http://127.0.0.1:1" : server.endpoint;
const BUCKET = "eventlake-test";
if (typeof server !== "string") await server.createBucket(BUCKET);

const MiB = 2 ** 20;
const LARGE = 100 * MiB;
const PART = 8 * MiB;

function s3(extra: Partial<S3StoreOptions> = {}): S3Store {
  return createS3Store({
    bucket: BUCKET,
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: { ...S3_OWNER },
    retryBaseDelayMs: 20,
    ...extra,
  });
}

/** Registers a test that needs the server (ignored, with the reason printed, without it). */
function serverTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name,
    ignore: ignore !== undefined,
    sanitizeOps: false,
    sanitizeResources: false,
    fn,
  });
}

/**
 * The contract suite's store, which also checks what only S3 has: the 100 MiB object is a
 * multipart upload, so its ETag ends in "-<parts>".
 */
function contractStore(): ObjectStore {
  const store = s3({ partSize: PART });
  const write: ObjectStore["write"] = async (key, body, options) => {
    const info = await store.write(key, body, options);
    if (key.endsWith("/large/object.bin")) {
      strictEqual(info.etag?.endsWith(`-${Math.ceil(LARGE / PART)}`), true, `etag ${info.etag}`);
      strictEqual((await store.head(key)).etag, info.etag);
    }
    return info;
  };
  return {
    url: store.url,
    list: (prefix, options) => store.list(prefix, options),
    head: (key, options) => store.head(key, options),
    exists: (key, options) => store.exists(key, options),
    read: (key, options) => store.read(key, options),
    readStream: (key, options) => store.readStream(key, options),
    write,
    delete: (key, options) => store.delete(key, options),
    deletePrefix: (prefix, options) => store.deletePrefix(prefix, options),
    close: () => store.close(),
  };
}

storeContract("s3 (Swift)", contractStore, {
  ignore,
  sanitize: false,
  largeObjectBytes: LARGE,
  concurrency: 48,
  permissionDenied: async () => {
    const owner = s3();
    const key = `denied-${crypto.randomUUID().slice(0, 8)}/obj`;
    await owner.write(key, new Uint8Array([1]));
    return {
      store: s3({ credentials: { ...S3_NO_RIGHTS } }),
      key,
      cleanup: async () => {
        await owner.delete(key);
        await owner.close();
      },
    };
  },
});

serverTest(
  "createS3Store() takes credentials and region from the AWS environment variables",
  async () => {
    const names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_PROFILE"];
    const saved = new Map(names.map((n) => [n, Deno.env.get(n)]));
    Deno.env.set("AWS_ACCESS_KEY_ID", S3_OWNER.accessKeyId);
    Deno.env.set("AWS_SECRET_ACCESS_KEY", S3_OWNER.secretAccessKey);
    Deno.env.set("AWS_REGION", "us-east-1");
    Deno.env.delete("AWS_PROFILE");
    const store = createS3Store({ bucket: BUCKET, endpoint, forcePathStyle: true });
    const key = `env-${crypto.randomUUID().slice(0, 8)}/obj`;
    try {
      // The SDK resolves (and keeps) credentials on the first request.
      await store.write(key, new TextEncoder().encode("from env"));
    } finally {
      for (const [n, v] of saved) v === undefined ? Deno.env.delete(n) : Deno.env.set(n, v);
    }
    try {
      deepStrictEqual(new TextDecoder().decode(await store.read(key)), "from env");
    } finally {
      await store.delete(key);
      await store.close();
    }
  },
);

serverTest(
  "createS3Store() with a wrong secret fails with PermissionDeniedError naming no secret",
  async () => {
    const secret = "wrong-secret-" + crypto.randomUUID();
    const store = s3({
      credentials: { accessKeyId: S3_OWNER.accessKeyId, secretAccessKey: secret },
    });
    try {
      const attempts = [
        () => store.read("any/key"),
        () => store.write("any/key", new Uint8Array(1)),
      ];
      for (const attempt of attempts) {
        const error = await attempt().then(() => undefined, (e: unknown) => e);
        ok(error instanceof PermissionDeniedError, `expected PermissionDeniedError, got ${error}`);
        match(error.message, /check the access key id and secret/);
        match(error.message, /bucket "eventlake-test"/);
        strictEqual(Deno.inspect(error, { depth: 10 }).includes(secret), false, "secret in error");
        strictEqual(JSON.stringify(error.details).includes(secret), false, "secret in details");
      }
      const unknownKey = s3({
        credentials: { accessKeyId: "nobody:nobody", secretAccessKey: secret },
      });
      const error = await unknownKey.head("any/key").then(() => undefined, (e: unknown) => e);
      ok(error instanceof PermissionDeniedError, `unknown access key: got ${error}`);
      strictEqual(Deno.inspect(error, { depth: 10 }).includes(secret), false);
      await unknownKey.close();
    } finally {
      await store.close();
    }
  },
);

serverTest(
  "createS3Store() on an unknown bucket fails with NotFoundError naming the bucket",
  async () => {
    const store = s3({ bucket: "no-such-bucket-here" });
    try {
      for (
        const attempt of [
          () => store.read("a/b"),
          () => store.write("a/b", new Uint8Array([1])),
          async () => {
            for await (const _ of store.list("a/")) { /* nothing */ }
          },
          () => store.deletePrefix("a/"),
        ]
      ) {
        await rejects(attempt, (e: unknown) => {
          ok(e instanceof NotFoundError, `expected NotFoundError, got ${e}`);
          match(e.message, /bucket "no-such-bucket-here" does not exist/);
          strictEqual(e.details.bucket, "no-such-bucket-here");
          return true;
        });
      }
    } finally {
      await store.close();
    }
  },
);

serverTest(
  "write() aborted mid multipart upload leaves no object and no pending upload",
  async () => {
    const store = s3({ partSize: 5 * MiB, queueSize: 2 });
    const key = `abort-${crypto.randomUUID().slice(0, 8)}/big.bin`;
    const controller = new AbortController();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(MiB).fill(sent & 255));
        // 18 MiB: past the first parts, so the multipart upload is under way.
        if (++sent === 18) controller.abort(new Error("user cancelled"));
      },
    });
    try {
      await rejects(store.write(key, body, { signal: controller.signal }), AbortedError);
      strictEqual(await store.exists(key), false);
      deepStrictEqual(await store.listPendingUploads(key), [], "the multipart upload was aborted");
    } finally {
      await store.close();
    }
  },
);

serverTest(
  "write() of a byte stream (read into the parts) aborted mid multipart upload leaves nothing",
  async () => {
    const store = s3({ partSize: 5 * MiB, queueSize: 2 });
    const key = `abort-bytes-${crypto.randomUUID().slice(0, 8)}/big.bin`;
    const controller = new AbortController();
    let sent = 0;
    const body = new ReadableStream({
      type: "bytes",
      pull(c) {
        c.enqueue(new Uint8Array(MiB).fill(sent & 255));
        if (++sent === 18) controller.abort(new Error("user cancelled"));
      },
    }) as ReadableStream<Uint8Array>;
    try {
      await rejects(store.write(key, body, { signal: controller.signal }), AbortedError);
      strictEqual(await store.exists(key), false);
      deepStrictEqual(await store.listPendingUploads(key), [], "the multipart upload was aborted");
    } finally {
      await store.close();
    }
  },
);

for (const kind of ["byte", "default"] as const) {
  serverTest(
    `write() whose ${kind} stream fails mid multipart upload aborts the upload`,
    async () => {
      const store = s3({ partSize: 5 * MiB });
      const key = `bodyfail-${kind}-${crypto.randomUUID().slice(0, 8)}/big.bin`;
      let sent = 0;
      const pull = (
        c: ReadableStreamDefaultController<Uint8Array> | ReadableByteStreamController,
      ) => {
        if (sent++ === 12) c.error(new Error("disk read failed"));
        else c.enqueue(new Uint8Array(MiB));
      };
      const body = kind === "byte"
        ? new ReadableStream({ type: "bytes", pull }) as ReadableStream<Uint8Array>
        : new ReadableStream<Uint8Array>({ pull });
      try {
        await rejects(store.write(key, body), (e: unknown) => {
          ok(e instanceof InvalidArgumentError, `got ${e}`);
          match(e.message, /reading the body failed: disk read failed/);
          return true;
        });
        strictEqual(await store.exists(key), false);
        deepStrictEqual(await store.listPendingUploads(key), []);
        strictEqual(await store.abortPendingUploads(key), 0);
      } finally {
        await store.close();
      }
    },
  );
}

serverTest("list() pages hide page boundaries, with and without a delimiter", async () => {
  const store = s3({ listPageSize: 2 });
  const base = `paging-${crypto.randomUUID().slice(0, 8)}/`;
  const names = ["a/1", "b/1", "b/2", "b/3", "c", "d/1", "e", "f/x/y", "f/z", "g"];
  try {
    await Promise.all(names.map((n) => store.write(base + n, new Uint8Array([1]))));
    const all: string[] = [];
    for await (const e of store.list(base)) all.push(e.kind === "object" ? e.key : e.prefix);
    deepStrictEqual(all, names.map((n) => base + n));
    const folded: string[] = [];
    for await (const e of store.list(base, { delimiter: "/" })) {
      folded.push(e.kind === "object" ? e.key : `${e.prefix} (prefix)`);
    }
    deepStrictEqual(
      folded,
      ["a/ (prefix)", "b/ (prefix)", "c", "d/ (prefix)", "e", "f/ (prefix)", "g"].map((n) =>
        base + n
      ),
    );
  } finally {
    await store.deletePrefix(base);
    await store.close();
  }
});

serverTest(
  "listPendingUploads() and abortPendingUploads() see a stalled multipart upload",
  async () => {
    const store = s3({ partSize: 5 * MiB });
    const key = `pending-${crypto.randomUUID().slice(0, 8)}/big.bin`;
    const controller = new AbortController();
    let sent = 0;
    // 12 MiB, then the body stalls: the upload is started and stays open.
    const body = new ReadableStream<Uint8Array>({
      pull(c): Promise<void> | void {
        if (sent++ >= 12) return new Promise<void>(() => {});
        c.enqueue(new Uint8Array(MiB));
      },
    });
    const writing = store.write(key, body, { signal: controller.signal });
    try {
      let pending = await store.listPendingUploads(key);
      for (let i = 0; i < 200 && pending.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        pending = await store.listPendingUploads(key);
      }
      strictEqual(pending.length, 1, "the stalled upload is pending");
      strictEqual(pending[0].key, key);
      ok(pending[0].uploadId);
      strictEqual(await store.abortPendingUploads(key), 1);
      deepStrictEqual(await store.listPendingUploads(key), []);
    } finally {
      controller.abort(new Error("done"));
      await rejects(writing, AbortedError);
      strictEqual(await store.exists(key), false);
      await store.close();
    }
  },
);

serverTest(
  "write() of bytes larger than a part is a multipart upload read back whole",
  async () => {
    const store = s3({ partSize: 5 * MiB });
    const key = `mpbytes-${crypto.randomUUID().slice(0, 8)}/obj`;
    const data = Uint8Array.from({ length: 11 * MiB + 17 }, (_, i) => (i * 7 + (i >>> 20)) & 255);
    try {
      const info = await store.write(key, data, { contentType: "application/octet-stream" });
      strictEqual(info.size, data.byteLength);
      strictEqual(info.etag?.endsWith("-3"), true, `etag ${info.etag}`);
      strictEqual(info.etag?.includes('"'), false, "quotes stripped");
      deepStrictEqual(await store.read(key), data);
    } finally {
      await store.delete(key);
      await store.close();
    }
  },
);

// ---- without a server: options, retries and the error table -----------------------------------

Deno.test("createS3Store() refuses a bad bucket name and bad options", () => {
  throws(() => createS3Store({ bucket: "" }), InvalidArgumentError);
  throws(() => createS3Store({ bucket: "a/b" }), InvalidArgumentError);
  throws(
    () => createS3Store({ bucket: "b", partSize: MiB }),
    /Invalid S3 partSize 1048576: must be at least 5242880/,
  );
  throws(
    () => createS3Store({ bucket: "b", queueSize: 0 }),
    /queueSize 0: must be a positive integer/,
  );
  throws(() => createS3Store({ bucket: "b", maxAttempts: 1.5 }), InvalidArgumentError);
  strictEqual(createS3Store({ bucket: "b", region: "us-east-1" }).url, "s3://b");
});

/** A fake S3 endpoint on a free port: `respond(n)` answers the n-th request (1-based). */
function fakeS3(respond: (n: number, request: Request) => Response | Promise<Response>): {
  endpoint: string;
  requests: () => number;
  close: () => Promise<void>;
} {
  let n = 0;
  const httpServer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => respond(++n, request),
  );
  return {
    endpoint: `http://127.0.0.1:${httpServer.addr.port}`,
    requests: () => n,
    close: () => httpServer.shutdown(),
  };
}

const slowDown = () =>
  new Response(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`,
    { status: 503, headers: { "content-type": "application/xml" } },
  );

function fakeStore(endpoint: string, maxAttempts: number): S3Store {
  return createS3Store({
    bucket: "bkt",
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: "k", secretAccessKey: "s" },
    maxAttempts,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 5,
  });
}

Deno.test({
  name: "S3 store retries SlowDown with backoff and then succeeds",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const fake = fakeS3((n) =>
      n <= 2 ? slowDown() : new Response("hello", {
        headers: {
          "content-length": "5",
          etag: '"abc"',
          "last-modified": new Date().toUTCString(),
        },
      })
    );
    const store = fakeStore(fake.endpoint, 4);
    try {
      deepStrictEqual(new TextDecoder().decode(await store.read("k")), "hello");
      strictEqual(fake.requests(), 3);
    } finally {
      await store.close();
      await fake.close();
    }
  },
});

Deno.test({
  name: "S3 store gives up after maxAttempts with UnavailableError",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const fake = fakeS3(() => slowDown());
    const store = fakeStore(fake.endpoint, 3);
    try {
      await rejects(store.head("some/key"), (e: unknown) => {
        ok(e instanceof UnavailableError, `got ${e}`);
        match(
          e.message,
          /Cannot head "some\/key" in bucket "bkt": S3 is unavailable after 3 attempts/,
        );
        return true;
      });
      strictEqual(fake.requests(), 3);
    } finally {
      await store.close();
      await fake.close();
    }
  },
});

Deno.test({
  name: "S3 store times out a server that never answers, retries, then UnavailableError",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const held: ((r: Response) => void)[] = [];
    const fake = fakeS3(() => new Promise<Response>((resolve) => held.push(resolve)));
    const store = createS3Store({
      bucket: "bkt",
      region: "us-east-1",
      endpoint: fake.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: "k", secretAccessKey: "s" },
      maxAttempts: 2,
      retryBaseDelayMs: 1,
      requestTimeoutMs: 200,
    });
    try {
      await rejects(store.read("k"), (e: unknown) => {
        ok(e instanceof UnavailableError, `got ${e}`);
        match(e.message, /after 2 attempts \((TimeoutError|ETIMEDOUT)\)/);
        return true;
      });
      strictEqual(fake.requests(), 2);
    } finally {
      for (const answer of held) answer(new Response("late"));
      await store.close();
      await fake.close();
    }
  },
});

Deno.test({
  name: "S3 store does not retry AccessDenied",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const fake = fakeS3(() =>
      new Response(`<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`, {
        status: 403,
      })
    );
    const store = fakeStore(fake.endpoint, 4);
    try {
      await rejects(store.read("k"), PermissionDeniedError);
      strictEqual(fake.requests(), 1);
    } finally {
      await store.close();
      await fake.close();
    }
  },
});

Deno.test({
  name: "S3 store reports a refused connection as UnavailableError after retries",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close(); // nothing listens there now
    const store = fakeStore(`http://127.0.0.1:${port}`, 2);
    try {
      await rejects(store.read("k"), (e: unknown) => {
        ok(e instanceof UnavailableError, `got ${e}`);
        match(e.message, /after 2 attempts \(ECONNREFUSED\)/);
        return true;
      });
    } finally {
      await store.close();
    }
  },
});

Deno.test("mapS3Error() translates S3 failures through one table", () => {
  const ctx = { operation: "read", bucket: "bk", key: "a/b" };
  const s3Error = (name: string, status?: number) =>
    Object.assign(new Error("server text"), { name, $metadata: { httpStatusCode: status } });
  const cases: [unknown, new (...a: never[]) => EventlakeError, RegExp][] = [
    [s3Error("NoSuchKey", 404), NotFoundError, /^Cannot find "a\/b" in bucket "bk"$/],
    [s3Error("NotFound", 404), NotFoundError, /^Cannot find "a\/b" in bucket "bk"$/],
    [s3Error("UnknownError", 404), NotFoundError, /Cannot find/],
    [s3Error("NoSuchBucket", 404), NotFoundError, /bucket "bk" does not exist/],
    [s3Error("AccessDenied", 403), PermissionDeniedError, /access denied by S3 \(status 403\)/],
    [s3Error("Forbidden", 403), PermissionDeniedError, /access denied/],
    [s3Error("InvalidAccessKeyId", 403), PermissionDeniedError, /check the access key id/],
    [s3Error("SignatureDoesNotMatch", 403), PermissionDeniedError, /SignatureDoesNotMatch/],
    [s3Error("PreconditionFailed", 412), PreconditionFailedError, /precondition failed/],
    [s3Error("UnknownError", 412), PreconditionFailedError, /precondition failed/],
    [s3Error("SlowDown", 503), UnavailableError, /unavailable \(SlowDown\)/],
    [s3Error("UnknownError", 500), UnavailableError, /unavailable/],
    [s3Error("InternalError", 500), UnavailableError, /unavailable/],
    [s3Error("ThrottlingException", 400), UnavailableError, /unavailable/],
    [
      Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
      UnavailableError,
      /ECONNRESET/,
    ],
    [Object.assign(new Error("x"), { name: "TimeoutError" }), UnavailableError, /TimeoutError/],
    [Object.assign(new Error("x"), { name: "AbortError" }), AbortedError, /^Aborted: read/],
    [new Error("Region is missing"), InvalidArgumentError, /no S3 region configured/],
    [s3Error("CredentialsProviderError"), PermissionDeniedError, /no S3 credentials found/],
    [s3Error("Teapot", 418), InternalError, /unexpected S3 failure \(Teapot\): server text/],
  ];
  for (const [error, type, message] of cases) {
    const mapped = mapS3Error(error, ctx);
    ok(mapped instanceof type, `${(error as Error).name}: got ${mapped.name}`);
    match(mapped.message, message);
    strictEqual(mapped.details.bucket, "bk");
  }
  const own = new NotFoundError("mine");
  strictEqual(mapS3Error(own, ctx), own, "an EventlakeError passes through");
  strictEqual(classifyS3Error(s3Error("InvalidRange", 416)), "invalid_range");
});

Deno.test("mapS3Error() keeps credential failures free of the SDK error", () => {
  const error = Object.assign(new Error("The request signature we calculated does not match"), {
    name: "SignatureDoesNotMatch",
    StringToSign: "AWS4-HMAC-SHA256\n…",
    $metadata: { httpStatusCode: 403, requestId: "tx1" },
  });
  const mapped = mapS3Error(error, { operation: "write", bucket: "bk", key: "k" });
  strictEqual(mapped.cause, undefined);
  strictEqual(mapped.details.requestId, "tx1");
  strictEqual(Deno.inspect(mapped).includes("StringToSign"), false);
});

Deno.test({
  name: "S3 test server stops",
  ignore: ignore !== undefined,
  fn() {
    if (typeof server !== "string") server.stop();
  },
});

/** An S3 endpoint whose GetObject answers 200 and cuts the connection after `sent` bytes. */
function brokenBodyServer(sent: number): { endpoint: string; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(64 * 1024)); // the request
      const head = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n" +
        `content-length: ${10 * sent}\r\netag: "abc"\r\n\r\n`;
      await conn.write(new TextEncoder().encode(head));
      await conn.write(new Uint8Array(sent).fill(1));
      conn.close();
    }
  })().catch(() => {});
  return {
    endpoint: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close: async () => {
      listener.close();
      await serving;
    },
  };
}

Deno.test({
  name: "readStream() whose response body breaks off fails with UnavailableError",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const fake = brokenBodyServer(200_000);
    const store = createS3Store({
      bucket: "b",
      region: "us-east-1",
      endpoint: fake.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: "a", secretAccessKey: "s" },
      maxAttempts: 1,
    });
    try {
      const stream = await store.readStream("k");
      let got = 0;
      await rejects(
        (async () => {
          for await (const chunk of stream) got += chunk.byteLength;
        })(),
        (e: unknown) => {
          ok(e instanceof UnavailableError, `got ${e}`);
          match(e.message, /"k"/);
          return true;
        },
      );
      ok(got < 2_000_000, "the stream did not pretend to be whole");
    } finally {
      await store.close();
      await fake.close();
    }
  },
});

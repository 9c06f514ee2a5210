import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { InvalidArgumentError } from "@eventlake/schema";
import { openStore, parseStoreUrl, redactSecrets, redactUrl } from "./url.ts";

Deno.test("parseStoreUrl() reads every supported scheme", () => {
  deepStrictEqual(parseStoreUrl("file:///var/lib/lake/"), {
    scheme: "file",
    root: "/var/lib/lake",
    prefix: "",
  });
  deepStrictEqual(parseStoreUrl("file://localhost/tmp/x"), {
    scheme: "file",
    root: "/tmp/x",
    prefix: "",
  });
  deepStrictEqual(parseStoreUrl("s3://my-bucket"), {
    scheme: "s3",
    bucket: "my-bucket",
    prefix: "",
  });
  deepStrictEqual(parseStoreUrl("S3://my-bucket/a/b"), {
    scheme: "s3",
    bucket: "my-bucket",
    prefix: "a/b/",
  });
  deepStrictEqual(parseStoreUrl("gs://b_1/x/"), { scheme: "gcs", bucket: "b_1", prefix: "x/" });
  deepStrictEqual(parseStoreUrl("gcs://customer-data-hackle/test/prefix-custom/dt=2023-01-01"), {
    scheme: "gcs",
    bucket: "customer-data-hackle",
    prefix: "test/prefix-custom/dt=2023-01-01/",
  });
  deepStrictEqual(parseStoreUrl("memory://unit/p%20q"), {
    scheme: "memory",
    name: "unit",
    prefix: "p q/",
  });
});

function refuses(url: string, pattern: RegExp): void {
  throws(() => parseStoreUrl(url), (e: unknown) => {
    ok(e instanceof InvalidArgumentError, `expected InvalidArgumentError for ${url}`);
    ok(pattern.test(e.message), `message "${e.message}" does not match ${pattern}`);
    return true;
  });
}

Deno.test("parseStoreUrl() refuses malformed addresses, naming the URL and the problem", () => {
  refuses("", /empty/);
  refuses("/var/lib/lake", /expected file:\/\/\/abs\/path/);
  refuses("ftp://host/x", /Invalid store URL "ftp:\/\/host\/x": unknown scheme "ftp:"/);
  refuses("s3://", /bucket name is missing/);
  refuses("gs:///prefix", /bucket name is missing/);
  refuses("file://relative/path", /must be absolute/);
  refuses("file:relative", /expected file/);
  refuses("s3://My_Bucket/x", /invalid bucket name "My_Bucket"/);
  refuses("s3://ab/x", /3-63 characters/);
  refuses("s3://192.168.1.1/x", /IP address/);
  refuses("s3://a..b/x", /no '\.\.'/);
  refuses("gs://google-data/x", /google/);
  refuses("gs://-bucket/x", /start and end/);
  refuses("s3://bucket/a/../../etc", /invalid prefix: "\.\." segments/);
  refuses("s3://bucket/a//b", /invalid prefix: empty path segment/);
  refuses("s3://bucket/a%00b", /invalid prefix: contains a control character/);
  refuses("s3://bucket/a%5Cb", /backslash/);
  refuses("file:///tmp/../etc", /"\.\." segments/);
  refuses("s3://bucket/x?versionId=1", /query strings/);
  refuses("s3://bucket/%E0%A4%A", /percent-encoding/);
  refuses("memory://", /needs a name/);
});

Deno.test("parseStoreUrl() refuses credentials in the URL without echoing them", () => {
  for (const url of ["s3://AKIAEXAMPLE:wJalrXUtnFEMI@bucket/p", "gs://user@bucket/p"]) {
    throws(() => parseStoreUrl(url), (e: unknown) => {
      ok(e instanceof InvalidArgumentError);
      ok(/credentials in the URL are refused/.test(e.message), e.message);
      ok(!e.message.includes("wJalrXUtnFEMI") && !e.message.includes("AKIAEXAMPLE"), e.message);
      ok(!e.message.includes("user@"), e.message);
      ok(!JSON.stringify(e.details).includes("wJalr"));
      return true;
    });
  }
  throws(() => parseStoreUrl("s3://bucket/x?X-Amz-Signature=abcdef"), (e: Error) => {
    ok(!e.message.includes("abcdef"), e.message);
    return true;
  });
});

Deno.test("redactUrl() masks user info and secret query parameters only", () => {
  strictEqual(redactUrl("s3://k:s@b/p"), "s3://***@b/p");
  strictEqual(
    redactUrl("https://h/p?X-Amz-Credential=AK%2F1&X-Amz-Signature=ff&partNumber=2&token=t"),
    "https://h/p?X-Amz-Credential=***&X-Amz-Signature=***&partNumber=2&token=***",
  );
  strictEqual(redactUrl("gs://bucket/prefix"), "gs://bucket/prefix");
});

Deno.test("redactSecrets() masks secret-looking fields and URLs, deeply, without mutating", () => {
  const config = {
    url: "s3://key:secret@bucket/p",
    s3: { region: "us-east-1", credentials: { accessKeyId: "AKIA", secretAccessKey: "x" } },
    gcs: { keyFilename: "/k.json", credentials: { private_key: "-----BEGIN" } },
    list: [{ password: "p", name: "n" }],
    absent: { token: undefined },
  };
  deepStrictEqual(redactSecrets(config), {
    url: "s3://***@bucket/p",
    s3: { region: "us-east-1", credentials: "***" },
    gcs: { keyFilename: "/k.json", credentials: "***" },
    list: [{ password: "***", name: "n" }],
    absent: { token: undefined },
  });
  strictEqual(config.s3.credentials.secretAccessKey, "x");
});

Deno.test("openStore() opens local and named memory stores with the URL's prefix", async () => {
  const root = await Deno.makeTempDir();
  try {
    const local = await openStore(`file://${root}`);
    strictEqual(local.prefix, "");
    await local.store.write("a", new Uint8Array([1]));
    strictEqual((await Deno.stat(`${root}/a`)).size, 1);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
  const one = await openStore("memory://shared-test/events");
  const two = await openStore("memory://shared-test");
  strictEqual(one.prefix, "events/");
  await one.store.write(`${one.prefix}x`, new Uint8Array([1]));
  strictEqual(await two.store.exists("events/x"), true);
});

/**
 * Store addresses: `file:///abs/path`, `s3://bucket/prefix`, `gs://bucket/prefix` (or
 * `gcs://bucket/prefix`, as the Data Import document writes it) and `memory://name/prefix`.
 *
 * Credentials never come from the address: an address with `user:password@` is refused, and
 * every error names the address with secrets masked. They come from the configuration passed
 * to {@linkcode openStore} or from the environment (the AWS and Google SDKs' own chains).
 *
 * @module
 */
import { InvalidArgumentError } from "@eventlake/schema";
import type { ObjectStore } from "./store.ts";
import type { S3StoreOptions } from "./s3.ts";
import type { GcsStoreOptions } from "./gcs.ts";
import type { LocalStoreOptions } from "./local.ts";
import { createMemoryStore } from "./memory.ts";
import { checkKey } from "./keys.ts";

/** A parsed store address. `prefix` is empty or ends in `/`. */
export type StoreAddress =
  | { scheme: "file"; root: string; prefix: string }
  | { scheme: "s3"; bucket: string; prefix: string }
  | { scheme: "gcs"; bucket: string; prefix: string }
  | { scheme: "memory"; name: string; prefix: string };

const URL_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;
const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;
const MEMORY_NAME_RE = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Parses a store address. Throws `InvalidArgumentError` naming the address (secrets masked)
 * for an unknown scheme, a missing or invalid bucket name, a relative file path, credentials
 * in the address, a query string or fragment, or an unsafe prefix (`..`, `//`, NUL, `\`).
 *
 * @example
 * ```ts
 * import { parseStoreUrl } from "@eventlake/storage";
 * console.log(parseStoreUrl("gcs://customer-data-hackle/test/prefix-custom"));
 * // { scheme: "gcs", bucket: "customer-data-hackle", prefix: "test/prefix-custom/" }
 * console.log(parseStoreUrl("file:///var/lib/eventlake"));
 * // { scheme: "file", root: "/var/lib/eventlake", prefix: "" }
 * ```
 */
export function parseStoreUrl(url: string): StoreAddress {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`Invalid store URL "${redactUrl(String(url))}": ${why}`, {
      details: { url: redactUrl(String(url)) },
    });
  };
  if (typeof url !== "string" || url.trim() === "") fail("empty");
  const m = URL_RE.exec(url);
  if (!m) {
    return fail(
      "expected file:///abs/path, s3://bucket/prefix, gs://bucket/prefix, gcs://bucket/prefix or memory://name",
    );
  }
  const scheme = m[1].toLowerCase();
  const authority = m[2];
  const rawPath = m[3];
  if (!["file", "s3", "gs", "gcs", "memory"].includes(scheme)) {
    fail(`unknown scheme "${scheme}:", expected file, s3, gs, gcs or memory`);
  }
  if (authority.includes("@")) {
    fail("credentials in the URL are refused; pass them through configuration or the environment");
  }
  if (m[4] !== undefined || m[5] !== undefined) {
    fail("query strings and fragments are not supported");
  }
  let path = "";
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    fail("malformed percent-encoding");
  }
  if (scheme === "file") {
    if (authority !== "" && authority.toLowerCase() !== "localhost") {
      fail(
        `file URLs must be absolute (file:///abs/path), "${authority}" looks like a relative path or a host`,
      );
    }
    if (!path.startsWith("/")) fail("file URLs must be absolute (file:///abs/path)");
    // deno-lint-ignore no-control-regex
    if (/[\u0000-\u001f]/.test(path)) fail("the path contains a control character");
    if (path.split("/").some((s) => s === "..")) fail(`".." segments are not allowed`);
    const root = path.length > 1 ? path.replace(/\/+$/, "") : path;
    return { scheme: "file", root, prefix: "" };
  }
  const prefix = toPrefix(path, fail);
  if (scheme === "memory") {
    if (!MEMORY_NAME_RE.test(authority)) {
      fail("a memory store needs a name of letters, digits, '.', '_' or '-' (memory://name)");
    }
    return { scheme: "memory", name: authority, prefix };
  }
  if (authority === "") fail("the bucket name is missing");
  const why = scheme === "s3" ? s3BucketProblem(authority) : gcsBucketProblem(authority);
  if (why) fail(`invalid bucket name "${authority}": ${why}`);
  return { scheme: scheme === "s3" ? "s3" : "gcs", bucket: authority, prefix };
}

function toPrefix(path: string, fail: (why: string) => never): string {
  const trimmed = path.replace(/^\//, "");
  if (trimmed === "") return "";
  const prefix = trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
  try {
    checkKey(prefix);
  } catch (e) {
    fail(`invalid prefix: ${(e as Error).message.replace(/^Invalid object key "[^"]*": /, "")}`);
  }
  return prefix;
}

function s3BucketProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return "must be 3-63 characters long";
  if (!/^[a-z0-9.-]+$/.test(name)) return "use only lowercase letters, digits, '.' and '-'";
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) return "must start and end with a letter or digit";
  if (/\.\.|\.-|-\./.test(name)) return "no '..', '.-' or '-.'";
  if (IPV4_RE.test(name)) return "must not look like an IP address";
  if (
    /^(xn--|sthree-|amzn-s3-demo-)/.test(name) || /(-s3alias|--ol-s3|--x-s3|\.mrap)$/.test(name)
  ) {
    return "uses a prefix or suffix reserved by AWS";
  }
  return undefined;
}

function gcsBucketProblem(name: string): string | undefined {
  if (!/^[a-z0-9._-]+$/.test(name)) return "use only lowercase letters, digits, '.', '_' and '-'";
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name) || name.length < 3) {
    return "must be at least 3 characters and start and end with a letter or digit";
  }
  const parts = name.split(".");
  if (name.length > (parts.length > 1 ? 222 : 63)) {
    return "must be at most 63 characters (222 with dots)";
  }
  if (parts.some((p) => p.length === 0 || p.length > 63)) {
    return "each dot-separated part must be 1-63 characters";
  }
  if (IPV4_RE.test(name)) return "must not look like an IP address";
  if (name.startsWith("goog") || /g[o0]{2}g[l1]e/.test(name)) {
    return `must not start with "goog" or contain "google"`;
  }
  return undefined;
}

/** Configuration of {@linkcode openStore}: per-scheme options; secrets belong here, not in URLs. */
export interface OpenStoreConfig {
  /** Options of S3 stores (the bucket comes from the URL). */
  s3?: Omit<S3StoreOptions, "bucket">;
  /** Options of GCS stores (the bucket comes from the URL). */
  gcs?: Omit<GcsStoreOptions, "bucket" | "prefix">;
  /** Options of local-folder stores. */
  local?: LocalStoreOptions;
}

/** What {@linkcode openStore} returns. */
export interface OpenedStore {
  /** The store, rooted at the bucket (or folder, or memory store). */
  store: ObjectStore;
  /** The key prefix the URL points at: empty or ending in `/`. */
  prefix: string;
  /** The parsed address. */
  address: StoreAddress;
}

const memoryStores = new Map<string, ObjectStore>();

/**
 * Opens the store a URL names and returns it with the URL's key prefix. The cloud SDKs are
 * loaded only when an `s3://` or `gs://`/`gcs://` URL is opened. `memory://name` opens one
 * process-wide store per name, so two calls with the same name share objects.
 *
 * @example
 * ```ts
 * import { openStore } from "@eventlake/storage";
 * const { store, prefix } = await openStore("memory://docs/events");
 * await store.write(`${prefix}dt=2023-01-01/_SUCCESS`, new Uint8Array(0));
 * console.log(store.url, prefix); // "memory://docs" "events/"
 * ```
 *
 * @example Credentials come from configuration (or the environment), never from the URL
 * ```ts ignore
 * const { store, prefix } = await openStore("s3://my-bucket/lake", {
 *   s3: { region: "ap-northeast-2", credentials: { accessKeyId, secretAccessKey } },
 * });
 * ```
 */
export async function openStore(url: string, config: OpenStoreConfig = {}): Promise<OpenedStore> {
  const address = parseStoreUrl(url);
  let store: ObjectStore;
  switch (address.scheme) {
    case "file": {
      const { createLocalStore } = await import("./local.ts");
      store = createLocalStore(address.root, config.local);
      break;
    }
    case "memory": {
      store = memoryStores.get(address.name) ?? createMemoryStore({ name: address.name });
      memoryStores.set(address.name, store);
      break;
    }
    case "s3": {
      const { createS3Store } = await import("./s3.ts");
      store = createS3Store({ ...config.s3, bucket: address.bucket });
      break;
    }
    case "gcs": {
      const { createGcsStore } = await import("./gcs.ts");
      store = createGcsStore({ ...config.gcs, bucket: address.bucket });
      break;
    }
  }
  return { store, prefix: address.prefix, address };
}

const SECRET_PARAM_RE =
  /^(x-amz-(signature|credential|security-token)|x-goog-(signature|credential)|signature|sig|token|access_token|key|apikey|api_key|secret|password|client_secret|awsaccesskeyid)$/i;

/**
 * Masks the secrets a URL may carry — `user:password@` and signature, credential, token and
 * key query parameters — so it can be logged or printed in `--json` output.
 *
 * @example
 * ```ts
 * import { redactUrl } from "@eventlake/storage";
 * console.log(redactUrl("s3://AKIA123:abc%2Fsecret@bucket/p?X-Amz-Signature=deadbeef&a=1"));
 * // "s3://***@bucket/p?X-Amz-Signature=***&a=1"
 * ```
 */
export function redactUrl(url: string): string {
  return String(url)
    .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1***@")
    .replace(/([?&])([^=&#]+)=([^&#]*)/g, (all, sep: string, name: string) => {
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch { /* keep as is */ }
      return SECRET_PARAM_RE.test(decoded) ? `${sep}${name}=***` : all;
    });
}

const SECRET_KEY_RE =
  /secret|password|passwd|token|credential|private_?key|access_?key|api_?key|authorization|session/i;

/**
 * Returns a copy of a configuration or report value that is safe to log or print as JSON:
 * values under secret-looking keys (`secretAccessKey`, `password`, `token`, `credentials`,
 * `private_key`, …) become `"***"`, and URL strings are passed through {@linkcode redactUrl}.
 *
 * @example
 * ```ts
 * import { redactSecrets } from "@eventlake/storage";
 * console.log(redactSecrets({
 *   url: "s3://bucket/lake",
 *   s3: { region: "us-east-1", credentials: { accessKeyId: "AKIA", secretAccessKey: "x" } },
 * }));
 * // { url: "s3://bucket/lake", s3: { region: "us-east-1", credentials: "***" } }
 * ```
 */
export function redactSecrets<T>(value: T): T {
  return redact(value, 0) as T;
}

function redact(value: unknown, depth: number): unknown {
  if (typeof value === "string") {
    return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value) ? redactUrl(value) : value;
  }
  if (value === null || typeof value !== "object" || depth > 20) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Date || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY_RE.test(k) && v !== undefined && v !== null ? "***" : redact(v, depth + 1);
  }
  return out;
}

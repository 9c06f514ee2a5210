/**
 * The eventlake web console, served by the gateway itself at `/`: a server-rendered shell
 * (hono/jsx), one hand-written client script and one style sheet, all held in memory (no build
 * step, no CDN: it works offline and on the edge). The browser talks only to the gateway's own
 * Data Query Open API and import API, with the credential kept in sessionStorage and sent as the
 * `Credential-ID` / `Credential-Secret` headers.
 *
 * Routes of {@linkcode createConsoleApp}:
 *
 * | method | path | answer |
 * | --- | --- | --- |
 * | GET | `/` | the console page (`no-cache`, strict Content-Security-Policy) |
 * | GET | `/console/app.<hash>.js`, `/console/app.<hash>.css` | assets, `immutable` for a year |
 * | GET | `/v1/data-query/query/{query-id}/result.csv` | the full result CSV of a FINISHED query |
 *
 * The CSV route needs `Credential-ID` / `Credential-Secret` like every `/v1` route. Mounted in the
 * gateway (`app.route("/", console)`) the gateway's middleware has already authenticated the
 * caller; standalone the route authenticates through the query service itself. Only the query's
 * creator may download it (as only they may read its pages); the bytes stream from the result
 * bucket, never held whole in memory. Errors are thrown as `EventlakeError`s for the gateway's one
 * code → status table.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import {
  InvalidArgumentError,
  NotFoundError,
  PreconditionFailedError,
  UnauthenticatedError,
  UnavailableError,
} from "@eventlake/schema";
import type { BucketResolver, Identity, QueryService } from "@eventlake/dataquery";
import { type ConsoleDefaults, ConsolePage } from "./page.tsx";
import { CONSOLE_JS } from "./client.ts";
import { CONSOLE_CSS } from "./styles.ts";

export type { ConsoleDefaults } from "./page.tsx";

/** The query-service methods the console's CSV route calls. */
export type ConsoleQueryApi = Pick<QueryService, "get" | "authenticate">;

/** Options of {@linkcode createConsoleApp}. */
export interface ConsoleOptions {
  /** Title of the page (default `eventlake console`). */
  title?: string;
  /** Defaults of the query form (data source, database, result bucket and path). */
  defaults?: ConsoleDefaults;
  /** The query service, for the CSV download route (without it, and `buckets`, that route answers 503). */
  queryService?: ConsoleQueryApi;
  /** The result buckets the query service writes to (the same resolver it was built with). */
  buckets?: BucketResolver;
}

/** A static asset held in memory. */
export interface ConsoleAsset {
  /** URL path, with a content hash. */
  path: string;
  /** `Content-Type`. */
  contentType: string;
  /** The bytes. */
  body: Uint8Array<ArrayBuffer>;
  /** Strong ETag (the content hash, quoted). */
  etag: string;
}

/** FNV-1a, 32 bits, as 8 hex digits: enough to bust caches, computed synchronously at load. */
function contentHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

function asset(name: string, ext: string, text: string, contentType: string): ConsoleAsset {
  const hash = contentHash(text);
  return {
    path: `/console/${name}.${hash}.${ext}`,
    contentType,
    body: new TextEncoder().encode(text),
    etag: `"${hash}"`,
  };
}

/**
 * The console's script and style sheet, with their hashed URLs.
 *
 * @example
 * ```ts
 * import { CONSOLE_ASSETS } from "./mod.ts";
 * console.log(CONSOLE_ASSETS.js.path.startsWith("/console/app.")); // true
 * ```
 */
export const CONSOLE_ASSETS: { readonly js: ConsoleAsset; readonly css: ConsoleAsset } = {
  js: asset("app", "js", CONSOLE_JS, "text/javascript; charset=utf-8"),
  css: asset("app", "css", CONSOLE_CSS, "text/css; charset=utf-8"),
};

/** The page's Content-Security-Policy: same-origin script, style and fetch only. */
export const CONSOLE_CSP: string = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const QUERY_ID_RE = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Builds the console sub-app; the gateway mounts it with `app.route("/", createConsoleApp(…))`.
 *
 * @example
 * ```ts
 * import { createConsoleApp } from "./mod.ts";
 * const app = createConsoleApp({ defaults: { bucketName: "results", path: "console" } });
 * const res = await app.request("/");
 * console.log(res.status, res.headers.get("content-type")); // 200 text/html; charset=UTF-8
 * ```
 */
export function createConsoleApp(options: ConsoleOptions = {}): Hono {
  const title = options.title ?? "eventlake console";
  const defaults = options.defaults ?? {};
  const page = String(
    ConsolePage({
      title,
      cssUrl: CONSOLE_ASSETS.css.path,
      jsUrl: CONSOLE_ASSETS.js.path,
      defaults,
    }),
  );
  const html = `<!doctype html>\n${page}`;
  const app = new Hono();

  app.get("/", () =>
    new Response(html, {
      headers: {
        "content-type": "text/html; charset=UTF-8",
        "cache-control": "no-cache",
        "content-security-policy": CONSOLE_CSP,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
      },
    }));

  for (const file of [CONSOLE_ASSETS.js, CONSOLE_ASSETS.css]) {
    app.get(file.path, (c) => {
      const headers = {
        "content-type": file.contentType,
        "cache-control": "public, max-age=31536000, immutable",
        "etag": file.etag,
        "x-content-type-options": "nosniff",
      };
      if (c.req.header("if-none-match") === file.etag) {
        return new Response(null, { status: 304, headers });
      }
      return new Response(file.body, { headers });
    });
  }

  app.get("/v1/data-query/query/:queryId/result.csv", async (c) => {
    const queryId = c.req.param("queryId");
    const service = options.queryService;
    const buckets = options.buckets;
    if (service === undefined || buckets === undefined) {
      throw new UnavailableError("Result downloads are not available on this server");
    }
    if (!QUERY_ID_RE.test(queryId)) {
      throw new InvalidArgumentError(
        `Invalid query id "${queryId.slice(0, 128)}": expected letters, digits, ".", "_" or "-"`,
        { details: { field: "queryId" } },
      );
    }
    const identity = await callerIdentity(c, service);
    const result = await service.get(identity, queryId);
    const state = result.queryInfo.state;
    if (state !== "FINISHED") {
      throw new PreconditionFailedError(
        `Cannot download the result of query "${queryId}": it is ${state}, not FINISHED`,
        { details: { queryId } },
      );
    }
    const { bucketName, path, isStored } = result.resultConfig;
    if (!isStored) {
      throw new NotFoundError(
        `Cannot download the result of query "${queryId}": the statement stored no result file`,
        { details: { queryId } },
      );
    }
    const bucket = await buckets.resolve(bucketName, { signal: c.req.raw.signal });
    if (bucket === undefined) {
      throw new NotFoundError(
        `Cannot download the result of query "${queryId}": bucket "${bucketName}" does not exist`,
        { details: { queryId } },
      );
    }
    // A reused result points at the files of the query that produced them.
    const fileId = result.reuseConfig.reusedFrom ?? queryId;
    const key = `${bucket.prefix ?? ""}${path}/${fileId}.csv`;
    const info = await bucket.store.head(key, { signal: c.req.raw.signal });
    // No request signal for the body: a client that goes away cancels the stream itself, and
    // Deno.serve's legacy request signal fires once the response is out, not when it is read.
    const body = await bucket.store.readStream(key);
    return new Response(body, {
      headers: {
        "content-type": "text/csv; charset=utf-8; header=present",
        "content-length": String(info.size),
        "content-disposition": `attachment; filename="${queryId}.csv"`,
        "cache-control": "private, no-store",
        "x-content-type-options": "nosniff",
      },
    });
  });

  return app;
}

/** The identity the gateway's middleware set, or else one from the request's credential. */
async function callerIdentity(c: Context, service: ConsoleQueryApi): Promise<Identity> {
  const set = (c.get as (key: string) => unknown)("identity") as Identity | undefined;
  if (set !== undefined) return set;
  const id = c.req.header("credential-id");
  const secret = c.req.header("credential-secret");
  if (!id || !secret) {
    throw new UnauthenticatedError(
      "Missing credential: send the Credential-ID and Credential-Secret headers",
    );
  }
  return await service.authenticate(id, secret);
}

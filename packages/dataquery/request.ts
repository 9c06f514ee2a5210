/**
 * Validation of the request bodies of the Data Query Open API: "run a query" and
 * "create a MySQL data source". The schemas are exported typed, so the gateway can reuse them
 * (for its OpenAPI document, too); {@linkcode parseSubmitRequest} and
 * {@linkcode parseCreateDataSourceRequest} turn any failure into an `InvalidArgumentError` that
 * names the field, never echoing the validator's internals or the input.
 *
 * @module
 */
import * as v from "valibot";
import { InvalidArgumentError } from "@eventlake/schema";

/** Longest accepted query text, in characters (as Athena's 256 KiB). */
export const MAX_QUERY_LENGTH = 262_144;

/** The body of "run a query" as clients send it (`resultConfig` nested, or its fields flat). */
export interface SubmitQueryInput {
  /** SQL text. */
  query: string;
  /** Where the result files go. */
  resultConfig?: { bucketName: string; path: string };
  /** Flat form of `resultConfig.bucketName` (the seed's example sends it so). */
  bucketName?: string;
  /** Flat form of `resultConfig.path`. */
  path?: string;
  /** Result reuse. */
  reuseConfig?: { reuse?: boolean; maxReuseAge?: number };
}

/** The normalised "run a query" request. */
export interface SubmitQueryRequest {
  /** SQL text, as sent. */
  query: string;
  /** Where the result files go. */
  resultConfig: { bucketName: string; path: string };
  /** Result reuse; `maxReuseAge` (minutes, 1–1440) is present when `reuse` is true. */
  reuseConfig: { reuse: boolean; maxReuseAge?: number };
}

/** The body of "create a MySQL data source". */
export interface CreateDataSourceInput {
  /** Must be `MYSQL`. */
  type: "MYSQL";
  /** 3–72 lowercase letters, digits or underscores. */
  name: string;
  /** Who may see and use it. */
  scope: "PRIVATE" | "PUBLIC";
  /** Free text. */
  description?: string;
  /** A MySQL instance registered in the service configuration. */
  instanceId: string;
  /** MySQL user. */
  mysqlUser: string;
  /** MySQL password, base64-encoded. */
  mysqlPassword: string;
}

/** The validated "create a MySQL data source" request (password still base64). */
export type CreateDataSourceRequest = CreateDataSourceInput;

const BUCKET_RE = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;
// deno-lint-ignore no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function pathProblem(path: string): string | undefined {
  if (path === "") return "must not be empty";
  if (path.length > 512) return "must be at most 512 characters";
  if (CONTROL_RE.test(path)) return "must not contain control characters";
  if (path.includes("\\")) return "must not contain backslashes";
  if (path.startsWith("/")) return "must be relative (no leading /)";
  for (const segment of path.replace(/\/$/, "").split("/")) {
    if (segment === "") return "must not contain empty segments";
    if (segment === "." || segment === "..") return `must not contain "${segment}" segments`;
  }
  return undefined;
}

const BucketNameSchema = v.pipe(
  v.string("must be a string"),
  v.regex(
    BUCKET_RE,
    "must be 3-63 lowercase letters, digits, dots, underscores or hyphens, starting and ending with a letter or digit",
  ),
);

const PathSchema = v.pipe(
  v.string("must be a string"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = pathProblem(dataset.value);
    if (problem) addIssue({ message: problem });
  }),
  // One trailing "/" is tolerated and dropped: "a/b/" is the folder "a/b".
  v.transform((path) => path.replace(/\/$/, "")),
);

const ReuseConfigSchema = v.pipe(
  v.object({
    reuse: v.optional(v.boolean("must be a boolean")),
    maxReuseAge: v.optional(
      v.pipe(
        v.number("must be an integer number of minutes"),
        v.integer("must be an integer number of minutes"),
        v.minValue(1, "must be between 1 and 1440 minutes"),
        v.maxValue(1440, "must be between 1 and 1440 minutes"),
      ),
    ),
  }, "must be an object"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (dataset.typed && dataset.value.reuse === true && dataset.value.maxReuseAge === undefined) {
      addIssue({
        message: "is required when reuse is true",
        path: [{
          type: "object",
          origin: "value",
          input: dataset.value,
          key: "maxReuseAge",
          value: undefined,
        }],
      });
    }
  }),
);

/**
 * The "run a query" body. Accepts `bucketName`/`path` nested in `resultConfig` or flat at the
 * top level (the seed's example), and outputs them nested.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { SubmitQueryRequestSchema } from "@eventlake/dataquery";
 * const request = v.parse(SubmitQueryRequestSchema, {
 *   query: "select 1",
 *   bucketName: "test-bucket",
 *   path: "data_query/result",
 * });
 * console.log(request.resultConfig.bucketName); // "test-bucket"
 * ```
 */
export const SubmitQueryRequestSchema: v.GenericSchema<SubmitQueryInput, SubmitQueryRequest> = v
  .pipe(
    v.object({
      query: v.pipe(
        v.string("must be a string"),
        v.check((q) => q.trim() !== "", "must not be empty"),
        v.maxLength(MAX_QUERY_LENGTH, `must be at most ${MAX_QUERY_LENGTH} characters`),
      ),
      resultConfig: v.optional(
        v.object({ bucketName: BucketNameSchema, path: PathSchema }, "must be an object"),
      ),
      bucketName: v.optional(BucketNameSchema),
      path: v.optional(PathSchema),
      reuseConfig: v.optional(ReuseConfigSchema),
    }, "must be a JSON object"),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const body = dataset.value;
      const bucketName = body.resultConfig?.bucketName ?? body.bucketName;
      const path = body.resultConfig?.path ?? body.path;
      if (bucketName === undefined || path === undefined) {
        addIssue({
          message: "is required",
          path: [{
            type: "object",
            origin: "value",
            input: body as Record<string, unknown>,
            key: bucketName === undefined ? "resultConfig.bucketName" : "resultConfig.path",
            value: undefined,
          }],
        });
        return NEVER;
      }
      const reuse = body.reuseConfig?.reuse ?? false;
      const maxReuseAge = body.reuseConfig?.maxReuseAge;
      return {
        query: body.query,
        resultConfig: { bucketName, path },
        reuseConfig: maxReuseAge === undefined ? { reuse } : { reuse, maxReuseAge },
      };
    }),
  );

/**
 * The "create a MySQL data source" body.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { CreateDataSourceRequestSchema } from "@eventlake/dataquery";
 * const ok = v.safeParse(CreateDataSourceRequestSchema, {
 *   type: "MYSQL", name: "test_mysql", scope: "PRIVATE", instanceId: "db1",
 *   mysqlUser: "admin", mysqlPassword: "YWRtaW4K",
 * }).success;
 * console.log(ok); // true
 * ```
 */
export const CreateDataSourceRequestSchema: v.GenericSchema<
  CreateDataSourceInput,
  CreateDataSourceRequest
> = v.object({
  type: v.picklist(["MYSQL"], 'must be "MYSQL" (DATA_CATALOG sources come from the lake)'),
  name: v.pipe(
    v.string("must be a string"),
    v.regex(/^[a-z0-9_]{3,72}$/, "must be 3-72 lowercase letters, digits or underscores"),
  ),
  scope: v.picklist(["PRIVATE", "PUBLIC"], 'must be "PRIVATE" or "PUBLIC"'),
  description: v.optional(
    v.pipe(v.string("must be a string"), v.maxLength(1000, "must be at most 1000 characters")),
  ),
  instanceId: v.pipe(
    v.string("must be a string"),
    v.nonEmpty("must not be empty"),
    v.maxLength(200, "must be at most 200 characters"),
  ),
  mysqlUser: v.pipe(
    v.string("must be a string"),
    v.nonEmpty("must not be empty"),
    v.maxLength(256, "must be at most 256 characters"),
  ),
  mysqlPassword: v.pipe(
    v.string("must be a base64 string"),
    v.nonEmpty("must not be empty"),
    v.regex(BASE64_RE, "must be a base64 string"),
  ),
}, "must be a JSON object");

/** Valibot's `object` accepts arrays; a body must be a JSON object. */
function rejectArray(what: string, body: unknown): void {
  if (Array.isArray(body)) {
    throw new InvalidArgumentError(`Invalid ${what}: body must be a JSON object`, {
      details: { field: null },
    });
  }
}

function toInvalidArgument(what: string, issues: readonly v.BaseIssue<unknown>[]): never {
  const issue = issues[0];
  const field = v.getDotPath(issue) ?? "";
  const message = issue.input === undefined && issue.kind === "schema"
    ? "is required"
    : issue.message;
  const subject = field === "" ? "body" : `"${field}"`;
  throw new InvalidArgumentError(`Invalid ${what}: ${subject} ${message}`, {
    details: { field: field === "" ? null : field },
  });
}

/**
 * Validates and normalises a "run a query" body; `InvalidArgumentError` names the bad field.
 *
 * @example
 * ```ts
 * import { parseSubmitRequest } from "@eventlake/dataquery";
 * try {
 *   parseSubmitRequest({ query: "select 1", resultConfig: { bucketName: "b1b", path: "../x" } });
 * } catch (e) {
 *   console.log((e as Error).message); // Invalid query request: "resultConfig.path" must not contain ".." segments
 * }
 * ```
 */
export function parseSubmitRequest(body: unknown): SubmitQueryRequest {
  rejectArray("query request", body);
  const result = v.safeParse(SubmitQueryRequestSchema, body);
  if (!result.success) toInvalidArgument("query request", result.issues);
  return result.output;
}

/**
 * Validates a "create a MySQL data source" body; `InvalidArgumentError` names the bad field.
 *
 * @example
 * ```ts
 * import { parseCreateDataSourceRequest } from "@eventlake/dataquery";
 * try {
 *   parseCreateDataSourceRequest({ type: "MYSQL", name: "X" });
 * } catch (e) {
 *   console.log((e as Error).message); // Invalid data source request: "name" must be 3-72 ...
 * }
 * ```
 */
export function parseCreateDataSourceRequest(body: unknown): CreateDataSourceRequest {
  rejectArray("data source request", body);
  const result = v.safeParse(CreateDataSourceRequestSchema, body);
  if (!result.success) toInvalidArgument("data source request", result.issues);
  return result.output;
}

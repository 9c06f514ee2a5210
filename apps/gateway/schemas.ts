/**
 * Valibot schemas of the gateway's own inputs: the query string of "list queries", path
 * parameters, and the import API's bodies. The Data Query bodies ("run a query", "create a data
 * source") are `@eventlake/dataquery`'s schemas, validated by the service itself.
 *
 * @module
 */
import * as v from "valibot";

/** The longest id or name accepted in a path. */
export const MAX_ID_LENGTH = 200;

const DIGITS = /^\d{1,9}$/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A path parameter: 1–200 characters, no control characters. */
export const PathIdSchema: v.GenericSchema<string> = v.pipe(
  v.string("must be a string"),
  v.minLength(1, "must not be empty"),
  v.maxLength(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`),
  v.check((s) => !CONTROL.test(s), "must not contain control characters"),
);

/** The query string of `GET /v1/data-query/query?page=&size=…`, as given. */
export interface ListQueriesParams {
  /** Exact query id. */
  queryId?: string;
  /** Creator filter. */
  creatorName?: string;
  /** States (repeatable; commas allowed). */
  states?: string[];
  /** Page number. */
  page?: string;
  /** Page size. */
  size?: string;
  /** `field[,asc|desc]`. */
  sort?: string;
}

/**
 * The query string of "list queries". `size` is bounded by the gateway's page-size limit.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { listQueriesParamsSchema } from "./schemas.ts";
 * console.log(v.safeParse(listQueriesParamsSchema(100), { size: "500" }).success); // false
 * ```
 */
export function listQueriesParamsSchema(
  maxPageSize: number,
): v.GenericSchema<ListQueriesParams> {
  const text = (max: number) =>
    v.optional(v.pipe(v.string(), v.maxLength(max, `must be at most ${max} characters`)));
  return v.object({
    queryId: text(MAX_ID_LENGTH),
    creatorName: text(320),
    states: v.optional(v.pipe(v.array(v.string()), v.maxLength(10, "must be at most 10 values"))),
    page: v.optional(v.pipe(v.string(), v.regex(DIGITS, "must be a whole number"))),
    size: v.optional(
      v.pipe(
        v.string(),
        v.regex(DIGITS, "must be a whole number"),
        v.check(
          (s) => Number(s) >= 1 && Number(s) <= maxPageSize,
          `must be from 1 to ${maxPageSize}`,
        ),
      ),
    ),
    sort: text(100),
  });
}

/** The body of "create an import job". */
export interface CreateImportJobInput {
  /** A name for people (1–100 characters). */
  name: string;
  /**
   * Where the partitions are: a `file://`, `s3://`, `gs://` URL or a folder; it holds the
   * `dt=YYYY-MM-DD/` folders.
   */
  sourceUrl: string;
  /** Destination table (default `data_catalog.default.events`). */
  table?: { dataSource: string; database: string; table: string };
  /** Earlier days whose ids count as seen (default 7). */
  dedupWindowDays?: number;
}

const IDENT = v.pipe(
  v.string("must be a string"),
  v.regex(/^[a-z0-9_]{1,72}$/, "must be 1-72 lowercase letters, digits or underscores"),
);

/**
 * The body of "create an import job".
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { CreateImportJobSchema } from "./schemas.ts";
 * console.log(v.safeParse(CreateImportJobSchema, { name: "daily", sourceUrl: "s3://b/p" }).success); // true
 * ```
 */
export const CreateImportJobSchema: v.GenericSchema<CreateImportJobInput> = v.object({
  name: v.pipe(
    v.string("must be a string"),
    v.minLength(1, "must not be empty"),
    v.maxLength(100, "must be at most 100 characters"),
    v.check((s) => !CONTROL.test(s), "must not contain control characters"),
  ),
  sourceUrl: v.pipe(
    v.string("must be a string"),
    v.minLength(1, "must not be empty"),
    v.maxLength(2048, "must be at most 2048 characters"),
  ),
  table: v.optional(
    v.object({ dataSource: IDENT, database: IDENT, table: IDENT }, "must be an object"),
  ),
  dedupWindowDays: v.optional(
    v.pipe(
      v.number("must be a number"),
      v.integer("must be a whole number of days"),
      v.minValue(0, "must be from 0 to 366"),
      v.maxValue(366, "must be from 0 to 366"),
    ),
  ),
}, "must be a JSON object");

/** The body of "run an import job": one `date`, or a backfill `from`–`to` (inclusive). */
export interface StartImportRunInput {
  /** One day, `YYYY-MM-DD`. */
  date?: string;
  /** First day of a backfill. */
  from?: string;
  /** Last day of a backfill (inclusive). */
  to?: string;
}

const DATE = v.pipe(
  v.string("must be a string"),
  v.regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD"),
  v.check((s) =>
    !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) &&
    new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), "must be a real calendar date"),
);

/**
 * The body of "run an import job".
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { StartImportRunSchema } from "./schemas.ts";
 * console.log(v.safeParse(StartImportRunSchema, { date: "2023-02-30" }).success); // false
 * ```
 */
export const StartImportRunSchema: v.GenericSchema<StartImportRunInput> = v.pipe(
  v.object({
    date: v.optional(DATE),
    from: v.optional(DATE),
    to: v.optional(DATE),
  }, "must be a JSON object"),
  v.check(
    (b) => (b.date !== undefined) !== (b.from !== undefined || b.to !== undefined),
    'must give either "date" or both "from" and "to"',
  ),
  v.check(
    (b) => b.date !== undefined || (b.from !== undefined && b.to !== undefined && b.from <= b.to),
    '"from" and "to" must both be given, "from" not after "to"',
  ),
);

/** The body of "check a source". */
export interface CheckSourceInput {
  /** The source URL (as `sourceUrl` of a job). */
  sourceUrl: string;
  /** The day to check (default: every day found). */
  date?: string;
}

/**
 * The body of "check a source" (a pre-flight validation of its partitions).
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { CheckSourceSchema } from "./schemas.ts";
 * console.log(v.safeParse(CheckSourceSchema, { sourceUrl: "file:///data" }).success); // true
 * ```
 */
export const CheckSourceSchema: v.GenericSchema<CheckSourceInput> = v.object({
  sourceUrl: v.pipe(
    v.string("must be a string"),
    v.minLength(1, "must not be empty"),
    v.maxLength(2048, "must be at most 2048 characters"),
  ),
  date: v.optional(DATE),
}, "must be a JSON object");

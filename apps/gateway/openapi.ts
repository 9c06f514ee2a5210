/**
 * Generates the OpenAPI 3.1 document of the gateway from the valibot schemas the requests are
 * validated with (`@eventlake/dataquery`'s bodies, `schemas.ts` for the rest) and response
 * schemas written here in valibot too. The result is committed as `openapi.json` (so the edge
 * entry serves it without importing the query service); `openapi_test.ts` fails when it is stale.
 *
 * Regenerate: `deno run -A apps/gateway/openapi.ts`.
 *
 * @module
 */
import * as v from "valibot";
import { toJsonSchema } from "@valibot/to-json-schema";
import { CreateDataSourceRequestSchema, SubmitQueryRequestSchema } from "@eventlake/dataquery";
import { CheckSourceSchema, CreateImportJobSchema, StartImportRunSchema } from "./schemas.ts";
import { STATUS_BY_CODE } from "./errors.ts";

const STATE = v.picklist(["QUEUED", "RUNNING", "FINISHED", "FAILED", "ABORTED"]);

const SubmitResponse = v.object({
  queryInfo: v.object({ queryId: v.string(), state: STATE }),
});

const QueryStats = v.object({
  progressPercentage: v.number(),
  inputRows: v.optional(v.number()),
  inputDataSize: v.optional(v.string()),
  outputRows: v.number(),
  outputDataSize: v.string(),
  scannedDataSize: v.string(),
  createdAt: v.number(),
  completedAt: v.optional(v.number()),
  queryExecutionTime: v.optional(v.string()),
  elapsedTime: v.string(),
  queuedTime: v.string(),
  planningTime: v.optional(v.string()),
});

const QueryResult = v.object({
  queryInfo: v.object({
    queryId: v.string(),
    state: STATE,
    queryStats: QueryStats,
    queryTextPreview: v.string(),
    isScanned: v.boolean(),
    errorMessage: v.optional(v.string()),
  }),
  resultConfig: v.object({
    bucketName: v.string(),
    path: v.string(),
    storageUrl: v.string(),
    storeType: v.picklist(["BASIC", "TEXT"]),
    isStored: v.boolean(),
  }),
  reuseConfig: v.object({
    reuse: v.boolean(),
    expireAt: v.optional(v.number()),
    reusedFrom: v.optional(v.string()),
  }),
  columnData: v.array(v.object({ name: v.string(), index: v.number(), type: v.string() })),
  queryData: v.array(v.array(v.nullable(v.string()))),
  totalPages: v.number(),
  totalElements: v.number(),
  number: v.number(),
  size: v.number(),
  numberOfElements: v.number(),
});

const Sort = v.object({ sorted: v.boolean(), unsorted: v.boolean(), empty: v.boolean() });
const QueryPage = v.object({
  content: v.array(v.object({
    queryInfo: v.object({
      queryId: v.string(),
      state: STATE,
      queryStats: v.object({
        scannedDataSize: v.string(),
        createdAt: v.number(),
        elapsedTime: v.string(),
      }),
      queryTextPreview: v.string(),
      isScanned: v.boolean(),
    }),
    resultConfig: v.object({ storageUrl: v.string() }),
    reuseConfig: v.object({ reuse: v.boolean() }),
    creatorName: v.string(),
  })),
  pageable: v.object({
    pageNumber: v.number(),
    pageSize: v.number(),
    sort: Sort,
    offset: v.number(),
    unpaged: v.boolean(),
    paged: v.boolean(),
  }),
  totalPages: v.number(),
  totalElements: v.number(),
  last: v.boolean(),
  first: v.boolean(),
  numberOfElements: v.number(),
  size: v.number(),
  number: v.number(),
  sort: Sort,
  empty: v.boolean(),
});

const DataSource = v.object({
  scope: v.picklist(["NONE", "PRIVATE", "PUBLIC"]),
  creatorName: v.string(),
  type: v.picklist(["DATA_CATALOG", "MYSQL"]),
  description: v.optional(v.string()),
  name: v.string(),
});

const ErrorBody = v.object({
  code: v.picklist(Object.keys(STATUS_BY_CODE)),
  message: v.string(),
  requestId: v.string(),
  field: v.optional(v.string()),
});

const TableRef = v.object({ dataSource: v.string(), database: v.string(), table: v.string() });
const ImportJob = v.object({
  jobId: v.string(),
  name: v.string(),
  creatorName: v.string(),
  sourceUrl: v.string(),
  table: TableRef,
  dedupWindowDays: v.number(),
  createdAt: v.number(),
});
const ImportRun = v.object({
  runId: v.string(),
  jobId: v.string(),
  date: v.string(),
  state: v.picklist(["QUEUED", "RUNNING", "SUCCEEDED", "PARTIAL", "FAILED", "MISSING"]),
  createdAt: v.number(),
  finishedAt: v.optional(v.number()),
  report: v.optional(v.record(v.string(), v.unknown())),
});

// deno-lint-ignore no-explicit-any
type AnySchema = v.GenericSchema<any, any>;

function schema(s: AnySchema): Record<string, unknown> {
  // Transformations and custom checks have no JSON Schema form: they are described in text.
  return toJsonSchema(s, { errorMode: "ignore", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
}

const REASONS: Record<number, string> = {
  400: "Invalid request: malformed JSON, a missing or invalid field or parameter",
  401: "Missing or wrong credential",
  403: "Not allowed: another user's query or job, or a PRIVATE data source",
  404: "Unknown query, bucket, data source, job or run",
  409: "Conflict: abort of an ended query, duplicate data source, deleting a DATA_CATALOG source",
  412: "Precondition failed: the query is not FINISHED",
  499: "The service has no permission on the result bucket",
  503: "Queue full or server draining (see Retry-After)",
};

function errors(...statuses: number[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of statuses) {
    out[String(s)] = {
      description: REASONS[s],
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return out;
}

function ok(status: number, description: string, ref: string | null): Record<string, unknown> {
  return {
    [String(status)]: ref === null ? { description } : {
      description,
      content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } },
    },
  };
}

function body(ref: string): Record<string, unknown> {
  return {
    required: true,
    content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } },
  };
}

const pathParam = (name: string, description: string) => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string" },
});
const queryParam = (name: string, description: string, s: unknown = { type: "string" }) => ({
  name,
  in: "query",
  required: false,
  description,
  schema: s,
});

/**
 * Builds the OpenAPI 3.1 document.
 *
 * @example
 * ```ts
 * import { buildOpenApiDocument } from "./openapi.ts";
 * const doc = buildOpenApiDocument();
 * console.log(doc.openapi); // "3.1.0"
 * ```
 */
export function buildOpenApiDocument(): { openapi: string } & Record<string, unknown> {
  const q = "/v1/data-query";
  const i = "/v1/data-import";
  const auth = [{ credentialId: [], credentialSecret: [] }];
  return {
    openapi: "3.1.0",
    info: {
      title: "eventlake gateway",
      version: "0.1.0",
      description: "The Data Query Open API (Athena-style) and the self-service import API. " +
        "Every /v1 route needs the Credential-ID and Credential-Secret headers. Every non-2xx " +
        'answer is {"code","message","requestId"}.',
    },
    security: auth,
    paths: {
      [`${q}/query`]: {
        post: {
          summary: "Run a query",
          description: "The body is accepted as documented (resultConfig, reuseConfig) and in " +
            "the flat form (bucketName and path at the top level). maxReuseAge is 1-1440 " +
            "minutes and required when reuse is true.",
          parameters: [
            {
              name: "X-Data-Source",
              in: "header",
              required: false,
              description: "Default data source of unqualified tables",
              schema: { type: "string" },
            },
            {
              name: "X-Database",
              in: "header",
              required: false,
              description: "Default database of unqualified tables",
              schema: { type: "string" },
            },
          ],
          requestBody: body("SubmitQueryRequest"),
          responses: {
            ...ok(202, "Queued", "SubmitResponse"),
            ...errors(400, 401, 403, 404, 499, 503),
          },
        },
        get: {
          summary: "List queries",
          parameters: [
            queryParam("queryId", "Exact query id"),
            queryParam("creatorName", "Only queries of this user"),
            queryParam("states", "QUEUED, RUNNING, FINISHED, ABORTED, FAILED (repeatable)", {
              type: "array",
              items: { type: "string" },
            }),
            queryParam("page", "Page number, from 0", { type: "integer", minimum: 0 }),
            queryParam("size", "Page size", { type: "integer", minimum: 1 }),
            queryParam(
              "sort",
              "field[,asc|desc]: queryId, queryTextPreview, state, createdAt, elapsedTime, " +
                "inputDataSize, creatorName, storageUrl",
            ),
          ],
          responses: {
            ...ok(200, "A page of queries", "QueryPage"),
            ...errors(400, 401, 404),
          },
        },
      },
      [`${q}/query/{query-id}`]: {
        get: {
          summary: "Get a query's state, statistics and one page of its result",
          parameters: [
            pathParam("query-id", "Query id"),
            queryParam("page", "Page 0-9 of 100 rows", { type: "integer", minimum: 0, maximum: 9 }),
          ],
          responses: {
            ...ok(200, "The query", "QueryResult"),
            ...errors(400, 401, 403, 404),
          },
        },
      },
      [`${q}/query/{query-id}/result.csv`]: {
        get: {
          summary: "Download the full result of a FINISHED query as CSV",
          description: "Every row of the stored result file (the pages of " +
            "GET /v1/data-query/query/{query-id} hold at most 1,000), streamed from the result " +
            "bucket: RFC 4180, a header record first, CRLF line ends; an empty unquoted field " +
            'is NULL and "" the empty string. A reused result answers with the file of the ' +
            "query it reused. Only the query's creator may download it. Served by the embedded " +
            "gateway (eventlake serve); the edge entry has no result buckets and answers 404.",
          parameters: [pathParam("query-id", "Query id")],
          responses: {
            "200": {
              description: "The result CSV (Content-Length set; " +
                'Content-Disposition: attachment; filename="<query-id>.csv")',
              content: {
                "text/csv": {
                  schema: { type: "string", description: "RFC 4180 CSV with a header record" },
                },
              },
            },
            ...errors(400, 401, 403, 404, 412, 499, 503),
          },
        },
      },
      [`${q}/query/{query-id}/abort`]: {
        put: {
          summary: "Abort a QUEUED or RUNNING query",
          parameters: [pathParam("query-id", "Query id")],
          responses: { ...ok(200, "Aborted", null), ...errors(400, 401, 403, 404, 409) },
        },
      },
      [`${q}/data-source`]: {
        get: {
          summary: "List data sources",
          responses: {
            "200": {
              description: "DATA_CATALOG sources and the MYSQL sources visible to the caller",
              content: {
                "application/json": {
                  schema: { type: "array", items: { $ref: "#/components/schemas/DataSource" } },
                },
              },
            },
            ...errors(400, 401),
          },
        },
        post: {
          summary: "Create a MySQL data source",
          requestBody: body("CreateDataSourceRequest"),
          responses: {
            ...ok(200, "Created", "DataSource"),
            ...errors(400, 401, 403, 404, 409),
          },
        },
      },
      [`${q}/data-source/{data-source-name}`]: {
        delete: {
          summary: "Delete a MySQL data source of the caller",
          parameters: [pathParam("data-source-name", "Data source name")],
          responses: { ...ok(200, "Deleted", null), ...errors(400, 401, 403, 404, 409) },
        },
      },
      [`${i}/jobs`]: {
        post: {
          summary: "Create an import job",
          requestBody: body("CreateImportJobRequest"),
          responses: { ...ok(201, "Created", "ImportJob"), ...errors(400, 401, 503) },
        },
        get: {
          summary: "List the caller's import jobs",
          responses: { ...ok(200, '{"jobs": [ImportJob]}', null), ...errors(401, 503) },
        },
      },
      [`${i}/jobs/{job-id}`]: {
        get: {
          summary: "Get an import job",
          parameters: [pathParam("job-id", "Job id")],
          responses: { ...ok(200, "The job", "ImportJob"), ...errors(401, 403, 404) },
        },
        delete: {
          summary: "Delete an import job (landed data stays)",
          parameters: [pathParam("job-id", "Job id")],
          responses: { ...ok(200, "Deleted", null), ...errors(401, 403, 404) },
        },
      },
      [`${i}/jobs/{job-id}/runs`]: {
        post: {
          summary: "Run a job for one date, or backfill a range of dates",
          parameters: [pathParam("job-id", "Job id")],
          requestBody: body("StartImportRunRequest"),
          responses: {
            ...ok(202, '{"runs": [ImportRun]}: one queued run per day', null),
            ...errors(400, 401, 403, 404, 503),
          },
        },
        get: {
          summary: "List a job's runs with their reports",
          parameters: [pathParam("job-id", "Job id")],
          responses: { ...ok(200, '{"runs": [ImportRun]}', null), ...errors(401, 403, 404) },
        },
      },
      [`${i}/jobs/{job-id}/runs/{run-id}`]: {
        get: {
          summary: "Get one run with its report",
          parameters: [pathParam("job-id", "Job id"), pathParam("run-id", "Run id")],
          responses: { ...ok(200, "The run", "ImportRun"), ...errors(401, 403, 404) },
        },
      },
      [`${i}/check`]: {
        post: {
          summary: "Pre-flight check of a source's partitions (nothing is imported)",
          requestBody: body("CheckSourceRequest"),
          responses: { ...ok(200, "The check report", null), ...errors(400, 401, 503) },
        },
      },
      "/healthz": {
        get: {
          summary: "Liveness; 503 while draining",
          security: [],
          responses: { ...ok(200, '{"status":"ok"}', null) },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics",
          security: [],
          responses: { "200": { description: "text/plain; version=0.0.4" } },
        },
      },
    },
    components: {
      securitySchemes: {
        credentialId: { type: "apiKey", in: "header", name: "Credential-ID" },
        credentialSecret: { type: "apiKey", in: "header", name: "Credential-Secret" },
      },
      schemas: {
        SubmitQueryRequest: schema(SubmitQueryRequestSchema),
        CreateDataSourceRequest: schema(CreateDataSourceRequestSchema),
        CreateImportJobRequest: schema(CreateImportJobSchema),
        StartImportRunRequest: schema(StartImportRunSchema),
        CheckSourceRequest: schema(CheckSourceSchema),
        SubmitResponse: schema(SubmitResponse),
        QueryResult: schema(QueryResult),
        QueryPage: schema(QueryPage),
        DataSource: schema(DataSource),
        ImportJob: schema(ImportJob),
        ImportRun: schema(ImportRun),
        Error: schema(ErrorBody),
      },
    },
  };
}

if (import.meta.main) {
  const target = new URL("./openapi.json", import.meta.url);
  await Deno.writeTextFile(target, JSON.stringify(buildOpenApiDocument(), null, 2) + "\n");
  console.log(`Wrote ${target.pathname}`);
}

/**
 * The one table from DuckDB error messages (`"<Kind> Error: …"`) to the shared error family.
 * The message is kept as DuckDB wrote it, so a FAILED query shows the engine's own words.
 *
 * @module
 */
import {
  AbortedError,
  EventlakeError,
  InternalError,
  InvalidArgumentError,
  PermissionDeniedError,
  ResourceExhaustedError,
} from "@eventlake/schema";

/** Translates an error thrown by `@duckdb/node-api`. */
export function mapDuckDbError(error: unknown): EventlakeError {
  if (error instanceof EventlakeError) return error;
  const message = (error instanceof Error ? error.message : String(error)).trim();
  const kind = /^([A-Za-z ]+?) Error:/.exec(message)?.[1]?.toUpperCase() ?? "";
  switch (kind) {
    case "INTERRUPT":
      return new AbortedError("Query was interrupted", { cause: error });
    case "PERMISSION":
      return new PermissionDeniedError(message, { cause: error });
    case "OUT OF MEMORY":
      return new ResourceExhaustedError(message, { cause: error });
    case "INTERNAL":
    case "FATAL":
      return new InternalError(message, { cause: error });
    default:
      // Parser, Binder, Catalog, Conversion, Invalid Input, Constraint …: the statement's fault.
      return new InvalidArgumentError(message || "Query failed", { cause: error });
  }
}

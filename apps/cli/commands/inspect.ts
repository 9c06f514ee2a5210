/**
 * `eventlake inspect <file.parquet>`.
 *
 * @module
 */
import { UnavailableError } from "@eventlake/schema";
import type { CommandContext } from "../command.ts";

/**
 * Prints a Parquet file's schema, row groups, sizes, `ts` range and format variants.
 */
export function inspectCommand(context: CommandContext): Promise<void> {
  return Promise.reject(
    new UnavailableError(`Cannot inspect "${context.args["file.parquet"]}": not built yet`),
  );
}

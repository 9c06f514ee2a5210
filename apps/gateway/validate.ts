/**
 * The gateway's one request-validation path. Every input a handler reads (JSON bodies, query
 * strings, path parameters) goes through {@linkcode parseInput} or {@linkcode readJsonBody};
 * failures become an `InvalidArgumentError` naming the field, never the validator's raw issues
 * or an echo of the input.
 *
 * @module
 */
import * as v from "valibot";
import { InvalidArgumentError } from "@eventlake/schema";

/**
 * Validates `input` with `schema`; on failure throws an `InvalidArgumentError`
 * `Invalid <what>: "<field>" <problem>` with `details.field`.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { parseInput } from "./validate.ts";
 * const schema = v.object({ page: v.pipe(v.string(), v.regex(/^\d+$/, "must be a whole number")) });
 * try {
 *   parseInput(schema, { page: "x" }, "query parameters");
 * } catch (e) {
 *   console.log((e as Error).message); // Invalid query parameters: "page" must be a whole number
 * }
 * ```
 */
export function parseInput<TIn, TOut>(
  schema: v.GenericSchema<TIn, TOut>,
  input: unknown,
  what: string,
): TOut {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const field = v.getDotPath(issue) ?? "";
  const problem = issue.input === undefined && issue.kind === "schema"
    ? "is required"
    : issue.message;
  const subject = field === "" ? "value" : `"${field}"`;
  throw new InvalidArgumentError(`Invalid ${what}: ${subject} ${problem}`, {
    details: field === "" ? {} : { field },
  });
}

/**
 * Reads a request body of at most `limit` bytes and parses it as JSON. Too large, not UTF-8,
 * empty or malformed bodies are `InvalidArgumentError`s that say so (with the position of a
 * syntax error, never the body).
 *
 * @example
 * ```ts
 * import { readJsonBody } from "./validate.ts";
 * const request = new Request("http://x/", { method: "POST", body: '{"a":1}' });
 * console.log(await readJsonBody(request, 1024)); // { a: 1 }
 * ```
 */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  const type = request.headers.get("content-type");
  if (type !== null && type !== "" && !/^application\/(?:[\w.+-]*\+)?json\b/i.test(type)) {
    if (!/^(?:text\/plain|application\/x-www-form-urlencoded)\b/i.test(type)) {
      throw new InvalidArgumentError(
        `Invalid request body: Content-Type "${type.slice(0, 80)}" is not application/json`,
      );
    }
  }
  const bytes = await readLimited(request, limit);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidArgumentError("Invalid request body: it is not UTF-8");
  }
  if (text.trim() === "") throw new InvalidArgumentError("Invalid request body: it is empty");
  try {
    return JSON.parse(text);
  } catch (e) {
    const where = /position \d+|line \d+ column \d+/.exec(String((e as Error).message));
    throw new InvalidArgumentError(
      `Invalid request body: malformed JSON${where ? ` at ${where[0]}` : ""}`,
    );
  }
}

function tooLarge(limit: number): InvalidArgumentError {
  return new InvalidArgumentError(
    `Invalid request body: it is larger than the limit of ${limit} bytes`,
    { details: { limit } },
  );
}

async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

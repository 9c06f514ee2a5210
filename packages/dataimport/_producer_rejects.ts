/**
 * The reject file of `exportEvents`: one NDJSON line per refused record, opened on the first
 * reject (so a clean run leaves no empty file). Local-filesystem code.
 *
 * @module
 */
import { InternalError, PermissionDeniedError } from "@eventlake/schema";

/** Where rejects go: a local path (created or truncated on the first reject) or a stream. */
export type RejectsTarget = string | WritableStream<Uint8Array>;

const encoder = new TextEncoder();

/** Buffers reject lines and writes them in blocks. */
export class RejectsSink {
  #target: RejectsTarget;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #lines: string[] = [];
  #opened = false;

  constructor(target: RejectsTarget) {
    this.#target = target;
  }

  /** Queues one line (without its newline). */
  push(line: string): void {
    this.#lines.push(line);
  }

  /** Writes the queued lines. */
  async flush(): Promise<void> {
    if (this.#lines.length === 0) return;
    const text = this.#lines.join("\n") + "\n";
    this.#lines = [];
    if (!this.#opened) {
      this.#opened = true;
      if (typeof this.#target === "string") {
        try {
          const file = await Deno.open(this.#target, { write: true, create: true, truncate: true });
          this.#writer = file.writable.getWriter();
        } catch (e) {
          const why = e instanceof Deno.errors.PermissionDenied
            ? new PermissionDeniedError(
              `Cannot write the reject file "${this.#target}": permission denied`,
            )
            : new InternalError(
              `Cannot write the reject file "${this.#target}": ${(e as Error).message}`,
              { cause: e },
            );
          throw why;
        }
      } else this.#writer = this.#target.getWriter();
    }
    await this.#writer!.write(encoder.encode(text));
  }

  /** Flushes and closes (a stream given by the caller is closed too). */
  async close(): Promise<void> {
    await this.flush();
    if (this.#writer !== undefined) {
      await this.#writer.close();
      this.#writer = undefined;
    }
  }
}

/**
 * A worker that imports whole parts (read → check → claim → write) on its own thread. The stores
 * stay on the main thread: the worker reads byte ranges and writes file chunks through messages
 * (`_import_pool.ts` is the other side), and claims ids in the shared {@linkcode InsertIdSet}.
 *
 * @module
 */
import type { ByteSource } from "@eventlake/parquet";
import { toEventlakeError } from "@eventlake/schema";
import { InsertIdSet, type InsertIdSetState } from "./dedup.ts";
import {
  closeOutput,
  type FinishedFile,
  type OutputFile,
  type PartContext,
  PartError,
  Reasons,
} from "./_import_part.ts";
import { importPartFast } from "./_import_fast.ts";

/** Messages from the main thread. */
export type ToWorker =
  | {
    t: "init";
    date: string;
    ids: InsertIdSetState;
    rowGroupSize?: number;
    maxRowsPerFile: number;
    samples: number;
  }
  | { t: "part"; key: string; size: number }
  | { t: "finish" }
  | { t: "reply"; id: number; bytes?: Uint8Array; key?: string; size?: number; error?: string };

/** Messages to the main thread. */
export type FromWorker =
  | { t: "read"; id: number; key: string; offset: number; length: number }
  | { t: "open"; id: number }
  | { t: "chunk"; id: number; key: string; bytes: Uint8Array }
  | { t: "close"; id: number; key: string }
  | { t: "progress"; rows: number }
  | { t: "part-done" }
  | {
    t: "finished";
    counts: PartContext["counts"];
    reasons: ReturnType<Reasons["list"]>;
    paths: PartContext["paths"];
    variants: string[];
    files: FinishedFile[];
  }
  | { t: "failed"; key?: string; code: string; message: string };

const self = globalThis as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};

let nextId = 0;
const pending = new Map<number, (reply: Extract<ToWorker, { t: "reply" }>) => void>();

function call(
  message: FromWorker,
  transfer: Transferable[] = [],
): Promise<Extract<ToWorker, { t: "reply" }>> {
  return new Promise((resolve, reject) => {
    pending.set((message as { id: number }).id, (reply) => {
      if (reply.error !== undefined) reject(new Error(reply.error));
      else resolve(reply);
    });
    self.postMessage(message, transfer);
  });
}

let ctx: PartContext | undefined;
let queue: Promise<void> = Promise.resolve();

function source(key: string, size: number): ByteSource & { name: string } {
  return {
    name: key,
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      const reply = await call({ t: "read", id: nextId++, key, offset, length });
      return reply.bytes!;
    },
  };
}

async function newFile(): Promise<OutputFile> {
  const opened = await call({ t: "open", id: nextId++ });
  const key = opened.key!;
  let resolveSize!: (v: { size: number }) => void;
  let rejectSize!: (e: unknown) => void;
  const written = new Promise<{ size: number }>((res, rej) => {
    resolveSize = res;
    rejectSize = rej;
  });
  written.catch(() => {});
  const sink = new WritableStream<Uint8Array>({
    async write(chunk) {
      const bytes = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength
        ? chunk
        : chunk.slice();
      await call({ t: "chunk", id: nextId++, key, bytes }, [bytes.buffer as ArrayBuffer]);
    },
    async close() {
      try {
        const reply = await call({ t: "close", id: nextId++, key });
        resolveSize({ size: reply.size! });
      } catch (e) {
        rejectSize(e);
        throw e;
      }
    },
    abort(reason) {
      rejectSize(reason);
    },
  });
  return { key, sink, written };
}

function fail(error: unknown): void {
  if (error instanceof PartError) {
    self.postMessage({
      t: "failed",
      key: error.key,
      code: error.error.code,
      message: error.message,
    });
  } else {
    const e = toEventlakeError(error);
    self.postMessage({ t: "failed", code: e.code, message: e.message });
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  switch (m.t) {
    case "reply":
      pending.get(m.id)?.(m);
      pending.delete(m.id);
      return;
    case "init":
      ctx = {
        date: m.date,
        ids: InsertIdSet.attach(m.ids),
        counts: {
          rowsRead: 0,
          rowsAccepted: 0,
          rowsRejected: 0,
          rowsDuplicate: 0,
          rowsDuplicateEarlier: 0,
        },
        reasons: new Reasons(m.samples),
        variants: new Set(),
        paths: { fast: 0, object: 0 },
        newFile,
        files: [],
        rowGroupSize: m.rowGroupSize,
        maxRowsPerFile: m.maxRowsPerFile,
      };
      return;
    case "part": {
      const c = ctx!;
      let reported = 0;
      c.onBatch = () => {
        self.postMessage({ t: "progress", rows: c.counts.rowsRead - reported });
        reported = c.counts.rowsRead;
      };
      queue = queue.then(async () => {
        await importPartFast(c, m.key, source(m.key, m.size));
        c.onBatch?.();
        self.postMessage({ t: "part-done" });
      }).catch((error) => {
        fail(error);
        queue = new Promise(() => {}); // stop: the main thread terminates us
      });
      return;
    }
    case "finish":
      queue = queue.then(async () => {
        const c = ctx!;
        await closeOutput(c);
        self.postMessage({
          t: "finished",
          counts: c.counts,
          reasons: c.reasons.list(),
          paths: c.paths,
          variants: [...c.variants],
          files: c.files,
        });
        // A pooled worker waits for its next run: let go of this day's id set and reports.
        if (ctx === c) ctx = undefined;
      }).catch(fail);
      return;
  }
};

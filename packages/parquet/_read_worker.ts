/**
 * A worker that decodes the column chunks of a row group (decompression, levels, dictionary
 * indices, string bounds) so the reading thread can build the events of the previous row group
 * meanwhile (`read.ts` is the other side). Decoded buffers are
 * transferred back, not copied. Any error is answered as a failure and the reading thread
 * decodes that row group itself, so the error the caller sees is the same as without a worker.
 *
 * @module
 */
import type { ColumnMetaData } from "hyparquet";
import { decodeLeaf, leafToWire, type LeafWire } from "./_read_chunk.ts";
import type { Leaf } from "./_read_layout.ts";

/** One column chunk to decode. */
export interface ChunkJob {
  /** The leaf's column chunk index ({@linkcode Leaf.index}). */
  leaf: number;
  bytes: Uint8Array;
  meta: ColumnMetaData;
  raw: boolean;
}

/** Messages from the reading thread. */
export type ToDecoder =
  | { t: "init"; name: string; leaves: Leaf[] }
  | { t: "decode"; id: number; rowGroup: number; chunks: ChunkJob[] };

/** Messages to the reading thread. */
export type FromDecoder =
  | { t: "decoded"; id: number; indices: number[]; leaves: LeafWire[] }
  | { t: "failed"; id: number; message: string };

const self = globalThis as unknown as {
  postMessage(message: FromDecoder, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToDecoder>) => void) | null;
};

let name = "";
let leaves = new Map<number, Leaf>();

self.onmessage = (event: MessageEvent<ToDecoder>) => {
  const m = event.data;
  if (m.t === "init") {
    name = m.name;
    leaves = new Map(m.leaves.map((leaf) => [leaf.index, leaf]));
    return;
  }
  try {
    const transfer = new Set<ArrayBuffer>();
    const out = m.chunks.map((c) =>
      leafToWire(
        decodeLeaf(c.bytes, leaves.get(c.leaf)!, c.meta, { raw: c.raw }, {
          name,
          rowGroup: m.rowGroup,
        }),
        transfer,
      )
    );
    // A chunk's own buffer may hold uncompressed pages: it is in `transfer` then, else dropped.
    const indices = m.chunks.map((c) => c.leaf);
    self.postMessage({ t: "decoded", id: m.id, indices, leaves: out }, [...transfer]);
  } catch (error) {
    self.postMessage({
      t: "failed",
      id: m.id,
      message: error instanceof Error ? error.message : String(error),
    });
  }
};

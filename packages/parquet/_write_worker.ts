/**
 * The write worker: encodes the row groups that the writing thread shredded (dictionary and
 * PLAIN pages, levels, statistics, Snappy, page headers) and the footer, with the same
 * {@linkcode GroupEncoder} as the one-thread writer, so the bytes are the same. The writing
 * thread (`write.ts`) transfers each row group's typed buffers here and gets them back, with
 * the encoded chunks, in the reply; replies come in the order of the requests. An error is
 * sent back as it was thrown (structured clone keeps its class and message).
 *
 * @module
 */
import { GroupEncoder } from "./_write_encode.ts";
import { type FromEncoder, groupData, type ToEncoder, wireBuffers } from "./_write_wire.ts";

const self = globalThis as unknown as {
  postMessage(message: FromEncoder, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToEncoder>) => void) | null;
};
let encoder: GroupEncoder | undefined;

self.onmessage = (event: MessageEvent<ToEncoder>) => {
  const m = event.data;
  if (m.t === "init") {
    encoder = new GroupEncoder(m.codec, m.createdBy);
    return;
  }
  try {
    const enc = encoder as GroupEncoder;
    const chunks: Uint8Array[] = [];
    const take = () => {
      const chunk = enc.take();
      if (chunk !== undefined) chunks.push(chunk);
    };
    const transfer = () => chunks.map((c) => c.buffer as ArrayBuffer);
    if (m.t === "group") {
      const g = m.group;
      for (const _ of enc.encode(groupData(g))) take();
      take();
      // The buffers go back for the next row groups; the dictionaries need not.
      g.eventKey.dictValues = g.insertId.dictValues = [];
      for (const map of g.maps) map.keys.dictValues = map.values.dictValues = [];
      self.postMessage({ t: "encoded", chunks, buffers: g }, [...transfer(), ...wireBuffers(g)]);
    } else {
      take();
      const bytes = enc.finish();
      take();
      // A pooled worker waits for its next file: let go of this one's buffers and footer.
      encoder = undefined;
      self.postMessage({ t: "finished", chunks, bytes }, transfer());
    }
  } catch (error) {
    let reply: FromEncoder = { t: "failed", error };
    try {
      structuredClone(error);
    } catch {
      reply = { t: "failed", error: new Error(String(error)) };
    }
    self.postMessage(reply);
  }
};

// Loaded: the writing thread hands over row groups only after this (else it encodes them itself).
self.postMessage({ t: "ready" });

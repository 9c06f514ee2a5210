/**
 * What crosses between the writing thread (`write.ts`) and the write worker
 * (`_write_worker.ts`): a shredded row group whose typed buffers are transferred, not copied,
 * and the messages of both sides.
 *
 * @module
 */
import type { GroupData, StringData } from "./_write_encode.ts";

/** A string column of one row group, as it crosses threads (the buffers are transferred). */
export interface StringWire {
  count: number;
  dictMode: boolean;
  dictValues: string[];
  indices: Uint16Array;
  plain: Uint8Array;
  plainPos: number;
}

/** A map column of one row group, as it crosses threads. */
export interface MapWire {
  rep: Uint8Array;
  def: Uint8Array;
  levels: number;
  nullValues: number;
  emptyMaps: number;
  keys: StringWire;
  values: StringWire;
}

/** A shredded row group, as it crosses threads. */
export interface GroupWire {
  rows: number;
  ts: Float64Array;
  tsMin: number;
  tsMax: number;
  metric: Uint8Array;
  metricMin: bigint | undefined;
  metricMax: bigint | undefined;
  eventKey: StringWire;
  insertId: StringWire;
  maps: MapWire[];
}

/** Messages from the writing thread. */
export type ToEncoder =
  | { t: "init"; codec: "SNAPPY" | "UNCOMPRESSED"; createdBy: string }
  | { t: "group"; group: GroupWire }
  | { t: "finish" };

/** Messages to the writing thread: `ready` once loaded, then one per `group` or `finish`, in order. */
export type FromEncoder =
  | { t: "ready" }
  | { t: "encoded"; chunks: Uint8Array[]; buffers: GroupWire }
  | { t: "finished"; chunks: Uint8Array[]; bytes: number }
  | { t: "failed"; error: unknown };

/** Every buffer of a wire row group (each once: a transfer list refuses duplicates). */
export function wireBuffers(g: GroupWire): ArrayBuffer[] {
  const out: ArrayBuffer[] = [g.ts.buffer as ArrayBuffer, g.metric.buffer as ArrayBuffer];
  const strings = (s: StringWire) => {
    out.push(s.indices.buffer as ArrayBuffer, s.plain.buffer as ArrayBuffer);
  };
  strings(g.eventKey);
  strings(g.insertId);
  for (const m of g.maps) {
    out.push(m.rep.buffer as ArrayBuffer, m.def.buffer as ArrayBuffer);
    strings(m.keys);
    strings(m.values);
  }
  return out;
}

function stringData(s: StringWire): StringData {
  return {
    count: s.count,
    dictMode: s.dictMode,
    dictValues: s.dictValues,
    indices: s.indices,
    plain: { buf: s.plain, view: new DataView(s.plain.buffer), pos: s.plainPos },
  };
}

/** The {@linkcode GroupData} view of a wire row group. */
export function groupData(g: GroupWire): GroupData {
  return {
    rows: g.rows,
    ts: g.ts,
    tsMin: g.tsMin,
    tsMax: g.tsMax,
    metric: g.metric,
    metricMin: g.metricMin,
    metricMax: g.metricMax,
    eventKey: stringData(g.eventKey),
    insertId: stringData(g.insertId),
    maps: g.maps.map((m) => ({
      rep: m.rep,
      def: m.def,
      levels: m.levels,
      nullValues: m.nullValues,
      emptyMaps: m.emptyMaps,
      keys: stringData(m.keys),
      values: stringData(m.values),
    })),
  };
}

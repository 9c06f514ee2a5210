/**
 * Column buffers of one row group: values land here as events arrive, already
 * shredded (levels in typed arrays, strings as dictionary indices or PLAIN bytes).
 *
 * @module
 */

import { appendPlainString, Bytes, compareUtf8 } from "./_write_bytes.ts";

/**
 * Above this many distinct values a string column stops building a dictionary (so its
 * indices fit a Uint16Array).
 */
export const DICTIONARY_LIMIT = 1 << 14;

/** A growable Uint16Array. */
function growUint16(a: Uint16Array, need: number): Uint16Array {
  let size = a.length * 2;
  while (size < need) size *= 2;
  const next = new Uint16Array(size);
  next.set(a);
  return next;
}

/** A growable Uint8Array. */
export function growUint8(a: Uint8Array, need: number): Uint8Array {
  let size = a.length * 2;
  while (size < need) size *= 2;
  const next = new Uint8Array(size);
  next.set(a);
  return next;
}

/** Entry positions whose key {@linkcode MapColumn} remembers. */
const KEY_CACHE = 32;

/** Key dictionary indices below which {@linkcode MapColumn} remembers per-key links and values. */
const KEY_LINKS = 256;

/**
 * Empties a cache array in place. (`fill(undefined)` on the 65,536-entry value cache left
 * ~30 MB more on the heap at its peak: it seems to replace the backing store each time.)
 */
function clear(a: (string | undefined)[]): void {
  for (let i = 0; i < a.length; i++) a[i] = undefined;
}

/** Values {@linkcode MapColumn} remembers per key: one per {@linkcode slotOf} slot. */
const VALUE_SLOTS = 256;

/**
 * A slot (0-255) for `s` from its length and four of its characters: where the writer's
 * caches keep a string, so that most repeated strings are found with one `===` instead of a
 * Map lookup. On the benchmark events it took the Map lookups from 9.0 to 1.8 a row. The
 * caches keep the dictionary's own copy of a string (kept anyway), never the event's: that
 * kept up to 36 MB more of events' strings alive.
 */
export function slotOf(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  const h = n * 31 + s.charCodeAt(0) + s.charCodeAt(n >> 1) * 3 + s.charCodeAt(n - 1) * 7 +
    s.charCodeAt(n < 2 ? 0 : n - 2) * 131;
  return Math.imul(h, 0x9e3779b1) >>> 24;
}

/** Strings buffered before one bulk encode (one `join` + one `encodeInto`). */
const PLAIN_BATCH = 1024;

/**
 * The non-null values of one BYTE_ARRAY (UTF8) leaf column in one row group.
 *
 * It starts as a dictionary (a `Map` from string to index plus a Uint16Array of
 * indices: repeated keys and names cost one lookup and no encoding). When the
 * dictionary passes {@linkcode DICTIONARY_LIMIT} entries it converts itself to PLAIN
 * and stays PLAIN for later row groups (a column of UUIDs never pays twice).
 *
 * PLAIN values are encoded in bulk: see {@linkcode encodePlainBatch}.
 */
export class StringColumn {
  /** Number of values appended in this row group. */
  count = 0;
  /** Whether values are dictionary indices (else PLAIN bytes). */
  dictMode = true;
  /** Dictionary: value to index. */
  dict: Map<string, number> = new Map();
  /** Dictionary values, by index. */
  dictValues: string[] = [];
  /** Dictionary indices of the values (dictionary mode). */
  indices: Uint16Array = new Uint16Array(1024);
  /** PLAIN-encoded values (plain mode), complete after {@linkcode StringColumn.finish}. */
  plain: Bytes = new Bytes();
  /** Values not yet in {@linkcode StringColumn.plain}. */
  private pending: string[] = [];
  private pendingCount = 0;
  /** Whether the dictionary gave up in an earlier row group. */
  private stickyPlain = false;
  /** {@linkcode StringColumn.addCached}'s cache: values by slot, and their indices. */
  private slots: (string | undefined)[] = new Array(256).fill(undefined);
  private slotIds: Int32Array = new Int32Array(256);

  /** Appends one value; returns its dictionary index, or -1 in plain mode. */
  add(s: string): number {
    if (this.dictMode) {
      let id = this.dict.get(s);
      if (id === undefined) {
        id = this.dictValues.length;
        if (id >= DICTIONARY_LIMIT) {
          this.toPlain();
          this.addPlain(s);
          return -1;
        }
        this.dict.set(s, id);
        this.dictValues.push(s);
      }
      this.addId(id);
      return id;
    }
    this.addPlain(s);
    return -1;
  }

  /**
   * Like {@linkcode StringColumn.add}, but first looks in a cache of one value per
   * {@linkcode slotOf} slot, for columns with a few values repeated (event names).
   */
  addCached(s: string): void {
    if (!this.dictMode) {
      this.addPlain(s);
      return;
    }
    const slot = slotOf(s);
    if (this.slots[slot] === s) {
      this.addId(this.slotIds[slot]);
      return;
    }
    const id = this.add(s);
    if (id >= 0) {
      this.slots[slot] = this.dictValues[id];
      this.slotIds[slot] = id;
    }
  }

  /** Appends the value whose dictionary index `add` returned before (dictionary mode only). */
  addId(id: number): void {
    if (this.count === this.indices.length) {
      this.indices = growUint16(this.indices, this.count + 1);
    }
    this.indices[this.count++] = id;
  }

  private addPlain(s: string): void {
    this.count++;
    this.pending[this.pendingCount++] = s;
    if (this.pendingCount === PLAIN_BATCH) this.flushPending();
  }

  private flushPending(): void {
    encodePlainBatch(this.plain, this.pending, this.pendingCount);
    this.pendingCount = 0;
  }

  /** Re-encodes the values collected so far as PLAIN and leaves dictionary mode. */
  toPlain(): void {
    const n = this.count;
    const { indices, dictValues } = this;
    this.dictMode = false;
    this.stickyPlain = true;
    this.count = 0;
    this.plain.reset();
    for (let i = 0; i < n; i++) this.addPlain(dictValues[indices[i]]);
    this.dict.clear();
    this.dictValues = [];
  }

  /** Completes the PLAIN bytes (call before encoding the row group). */
  finish(): void {
    if (this.pendingCount > 0) this.flushPending();
    this.pending.fill("");
  }

  /**
   * Minimum and maximum of the values of this row group, in UTF-8 byte order
   * (strings in dictionary mode, bytes in plain mode: both what the footer takes).
   */
  minMax(): { min: string | Uint8Array; max: string | Uint8Array } | undefined {
    return stringMinMax(this);
  }

  /** Empties the column for the next row group, keeping its buffers. */
  reset(): void {
    this.count = 0;
    this.pendingCount = 0;
    this.plain.reset();
    this.dict.clear();
    this.dictValues = [];
    this.dictMode = !this.stickyPlain;
    clear(this.slots);
  }
}

/**
 * Minimum and maximum of a string column's values of one row group, in UTF-8 byte order
 * (strings in dictionary mode, bytes in plain mode: both what the footer takes).
 */
export function stringMinMax(
  col: {
    count: number;
    dictMode: boolean;
    dictValues: string[];
    plain: { buf: Uint8Array; view: DataView; pos: number };
  },
): { min: string | Uint8Array; max: string | Uint8Array } | undefined {
  if (col.count === 0) return undefined;
  if (!col.dictMode) return minMaxPlain(col.plain);
  const values = col.dictValues;
  let min = values[0];
  let max = values[0];
  for (let i = 1; i < values.length; i++) {
    const v = values[i];
    if (compareUtf8(v, min) < 0) min = v;
    else if (compareUtf8(v, max) > 0) max = v;
  }
  return { min, max };
}

/** `PREFIX[n]`: the 4-byte little-endian length `n` as 4 one-byte characters (n < 128). */
const PREFIX: string[] = Array.from({ length: 128 }, (_, n) => String.fromCharCode(n, 0, 0, 0));
const encoder = new TextEncoder();
let parts: string[] = [];

/**
 * Appends `strings[0, count)` as PLAIN BYTE_ARRAY values, in bulk: each value's length
 * prefix is written as four one-byte characters, prefixes and values are joined into one
 * string (V8 copies even concatenated "rope" strings without flattening each one) and
 * that string is encoded with ONE `TextEncoder.encodeInto` call. If a value is not ASCII,
 * its prefix (its length in UTF-16 units) is fixed up afterwards by walking the UTF-8.
 * Values of 128 characters or more go one by one.
 */
export function encodePlainBatch(out: Bytes, strings: string[], count: number): void {
  let j = 0;
  let units = 0;
  for (let i = 0; i < count; i++) {
    const s = strings[i];
    const n = s.length;
    if (n >= 128) {
      if (j > 0) encodeParts(out, j, units);
      j = 0;
      units = 0;
      appendPlainString(out, s);
      continue;
    }
    parts[j++] = PREFIX[n];
    parts[j++] = s;
    units += 4 + n;
  }
  if (j > 0) encodeParts(out, j, units);
}

function encodeParts(out: Bytes, j: number, units: number): void {
  if (parts.length !== j) parts.length = j;
  const joined = parts.join("");
  if (parts.length > 4 * PLAIN_BATCH) parts = [];
  out.ensure(units * 3);
  const start = out.pos;
  const { written } = encoder.encodeInto(joined, out.buf.subarray(start));
  if (written !== units) fixPrefixes(out.buf, start, start + written);
  out.pos = start + written;
}

/** Rewrites each length prefix from UTF-16 units to UTF-8 bytes. */
function fixPrefixes(buf: Uint8Array, start: number, end: number): void {
  let p = start;
  while (p < end) {
    let units = buf[p]; // < 128: the prefix's other three bytes are 0
    let q = p + 4;
    while (units > 0) {
      const b = buf[q];
      if (b < 0x80) {
        q += 1;
        units -= 1;
      } else if (b < 0xe0) {
        q += 2;
        units -= 1;
      } else if (b < 0xf0) {
        q += 3;
        units -= 1;
      } else {
        q += 4;
        units -= 2;
      }
    }
    const len = q - p - 4;
    buf[p] = len & 0xff;
    buf[p + 1] = (len >>> 8) & 0xff;
    buf[p + 2] = (len >>> 16) & 0xff;
    buf[p + 3] = len >>> 24;
    p = q;
  }
}

/** Minimum and maximum PLAIN value, compared as unsigned bytes (= UTF-8 order). */
function minMaxPlain(
  plain: { buf: Uint8Array; view: DataView; pos: number },
): { min: Uint8Array; max: Uint8Array } {
  const buf = plain.buf;
  const view = plain.view;
  const end = plain.pos;
  let minAt = 4;
  let minLen = view.getInt32(0, true);
  let maxAt = minAt;
  let maxLen = minLen;
  let p = 4 + minLen;
  while (p < end) {
    const len = view.getInt32(p, true);
    const at = p + 4;
    if (compareBytes(buf, at, len, minAt, minLen) < 0) {
      minAt = at;
      minLen = len;
    } else if (compareBytes(buf, at, len, maxAt, maxLen) > 0) {
      maxAt = at;
      maxLen = len;
    }
    p = at + len;
  }
  return { min: buf.slice(minAt, minAt + minLen), max: buf.slice(maxAt, maxAt + maxLen) };
}

function compareBytes(buf: Uint8Array, a: number, aLen: number, b: number, bLen: number): number {
  const n = aLen < bLen ? aLen : bLen;
  for (let i = 0; i < n; i++) {
    const d = buf[a + i] - buf[b + i];
    if (d !== 0) return d;
  }
  return aLen - bLen;
}

/**
 * One `MAP<STRING, STRING>` column of one row group, shredded: a repetition level and
 * a value definition level per entry (an empty map is one entry at level 0), keys and
 * non-null values in their own {@linkcode StringColumn}s.
 *
 * Levels: `rep` is 0 at the first entry of a row, 1 after. `def` is 0 for an empty map,
 * 1 for an entry whose value is null, 2 for an entry with a value (the key leaf's
 * definition level is `min(def, 1)`).
 */
export class MapColumn {
  /** Repetition levels, one per entry. */
  rep: Uint8Array = new Uint8Array(4096);
  /** Value definition levels, one per entry. */
  def: Uint8Array = new Uint8Array(4096);
  /** Number of entries (levels). */
  levels = 0;
  /** Number of entries whose value is null. */
  nullValues = 0;
  /** Number of empty maps. */
  emptyMaps = 0;
  /** Keys of the entries. */
  keys: StringColumn = new StringColumn();
  /** Non-null values of the entries. */
  values: StringColumn = new StringColumn();
  /**
   * The key last seen at each entry position and its dictionary index: rows of one source
   * mostly repeat their keys in the same order, so most keys cost one `===`, not a Map lookup.
   */
  keyCache: (string | undefined)[] = new Array(KEY_CACHE).fill(undefined);
  /** Dictionary indices of {@linkcode MapColumn.keyCache}. */
  keyCacheId: Int32Array = new Int32Array(KEY_CACHE);

  /** The value last seen at each entry position, and its dictionary index (same idea). */
  valueCache: (string | undefined)[] = new Array(KEY_CACHE).fill(undefined);
  /** Dictionary indices of {@linkcode MapColumn.valueCache}. */
  valueCacheId: Int32Array = new Int32Array(KEY_CACHE);

  /**
   * For each key dictionary index below {@linkcode KEY_LINKS}: the key that followed it in
   * the last map where it had a successor, and that key's index. Producers send a map's keys
   * in a steady order even when the set of keys varies, so this finds most keys with one `===`.
   */
  nextKey: (string | undefined)[] = new Array(KEY_LINKS).fill(undefined);
  /** Dictionary indices of {@linkcode MapColumn.nextKey}. */
  nextKeyId: Int32Array = new Int32Array(KEY_LINKS);
  /** Keys by {@linkcode slotOf} slot (where the link misses, e.g. a map's first key). */
  keySlots: (string | undefined)[] = new Array(256).fill(undefined);
  /** Dictionary indices of {@linkcode MapColumn.keySlots}. */
  keySlotIds: Int32Array = new Int32Array(256);
  /**
   * For each key dictionary index below {@linkcode KEY_LINKS}: {@linkcode VALUE_SLOTS} values
   * seen under it, each in its {@linkcode slotOf} slot. Most keys have a few values (os names,
   * currencies, grades...): those are found with one `===`, not a Map lookup.
   */
  keyValue: (string | undefined)[] = new Array(KEY_LINKS * VALUE_SLOTS).fill(undefined);
  /** Dictionary indices of {@linkcode MapColumn.keyValue}. */
  keyValueId: Int32Array = new Int32Array(KEY_LINKS * VALUE_SLOTS);

  /**
   * Appends the key of a map entry whose previous entry's key had dictionary index `prev`
   * (-1 for a map's first entry); returns the key's dictionary index, or -1 when the keys
   * are PLAIN.
   */
  addEntryKey(key: string, prev: number): number {
    const keys = this.keys;
    if (!keys.dictMode) {
      keys.add(key);
      return -1;
    }
    let id: number;
    const link = prev >= 0 && prev < KEY_LINKS;
    if (link && this.nextKey[prev] === key) {
      id = this.nextKeyId[prev];
      keys.addId(id);
      return id;
    }
    const slot = slotOf(key);
    if (this.keySlots[slot] === key) {
      id = this.keySlotIds[slot];
      keys.addId(id);
    } else {
      id = keys.add(key);
      if (id < 0) return id;
      this.keySlots[slot] = keys.dictValues[id];
      this.keySlotIds[slot] = id;
    }
    if (link) {
      this.nextKey[prev] = keys.dictValues[id];
      this.nextKeyId[prev] = id;
    }
    return id;
  }

  /**
   * Appends the (non-null) value of an entry whose key has dictionary index `keyId`
   * (-1 when the keys are PLAIN) at position `k` of its map.
   */
  addEntryValue(value: string, keyId: number, k: number): void {
    const values = this.values;
    if (!values.dictMode) {
      values.add(value);
      return;
    }
    if (keyId < 0 || keyId >= KEY_LINKS) {
      this.addValue(value, k);
      return;
    }
    const slot = keyId * VALUE_SLOTS + slotOf(value);
    if (this.keyValue[slot] === value) {
      values.addId(this.keyValueId[slot]);
      return;
    }
    const id = values.add(value);
    if (id >= 0) {
      this.keyValue[slot] = values.dictValues[id];
      this.keyValueId[slot] = id;
    }
  }

  /** Appends the (non-null) value of the entry at position `k` of its map. */
  addValue(value: string, k: number): void {
    const values = this.values;
    if (k < KEY_CACHE && values.dictMode) {
      if (this.valueCache[k] === value) {
        values.addId(this.valueCacheId[k]);
        return;
      }
      const id = values.add(value);
      if (id >= 0) {
        this.valueCache[k] = values.dictValues[id];
        this.valueCacheId[k] = id;
      }
      return;
    }
    values.add(value);
  }

  /** Appends the key of the entry at position `k` of its map. */
  addKey(key: string, k: number): void {
    const keys = this.keys;
    if (k < KEY_CACHE && keys.dictMode) {
      if (this.keyCache[k] === key) {
        keys.addId(this.keyCacheId[k]);
        return;
      }
      const id = keys.add(key);
      if (id >= 0) {
        this.keyCache[k] = keys.dictValues[id];
        this.keyCacheId[k] = id;
      }
      return;
    }
    keys.add(key);
  }

  /** Makes room for `n` more entries. */
  ensure(n: number): void {
    const need = this.levels + n;
    if (need > this.rep.length) {
      this.rep = growUint8(this.rep, need);
      this.def = growUint8(this.def, need);
    }
  }

  /** Empties the column for the next row group, keeping its buffers. */
  reset(): void {
    this.levels = 0;
    this.nullValues = 0;
    this.emptyMaps = 0;
    this.keys.reset();
    this.values.reset();
    clear(this.keyCache);
    clear(this.valueCache);
    clear(this.nextKey);
    clear(this.keySlots);
    clear(this.keyValue);
  }
}

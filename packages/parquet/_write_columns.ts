/**
 * Column buffers of one row group: values land here as events arrive, already
 * shredded (levels in typed arrays, strings as dictionary indices or PLAIN bytes).
 *
 * @module
 */

import { appendPlainString, Bytes, compareUtf8 } from "./_write_bytes.ts";

/** Above this many distinct values a string column stops building a dictionary. */
export const DICTIONARY_LIMIT = 1 << 14;

/** A growable Int32Array. */
function growInt32(a: Int32Array, need: number): Int32Array {
  let size = a.length * 2;
  while (size < need) size *= 2;
  const next = new Int32Array(size);
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

/**
 * The non-null values of one BYTE_ARRAY (UTF8) leaf column in one row group.
 *
 * It starts as a dictionary (a `Map` from string to index plus an Int32Array of
 * indices: repeated keys and names cost one lookup and no encoding). When the
 * dictionary passes {@linkcode DICTIONARY_LIMIT} entries it converts itself to PLAIN
 * bytes and stays PLAIN for later row groups (a column of UUIDs never pays twice).
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
  indices: Int32Array = new Int32Array(1024);
  /** PLAIN-encoded values (plain mode). */
  plain: Bytes = new Bytes();
  /** Smallest PLAIN value (plain mode), in UTF-8 order. */
  min: string | undefined = undefined;
  /** Largest PLAIN value (plain mode), in UTF-8 order. */
  max: string | undefined = undefined;
  /** Set once a non-ASCII value was seen: from then on statistics compare in UTF-8 order. */
  exactCompare = false;
  /** Whether the dictionary gave up in an earlier row group. */
  private stickyPlain = false;

  /** Appends one value. */
  add(s: string): void {
    if (this.dictMode) {
      let id = this.dict.get(s);
      if (id === undefined) {
        id = this.dictValues.length;
        if (id >= DICTIONARY_LIMIT) {
          this.toPlain();
          this.addPlain(s);
          return;
        }
        this.dict.set(s, id);
        this.dictValues.push(s);
      }
      if (this.count === this.indices.length) {
        this.indices = growInt32(this.indices, this.count + 1);
      }
      this.indices[this.count++] = id;
    } else {
      this.addPlain(s);
    }
  }

  private addPlain(s: string): void {
    this.count++;
    const ascii = appendPlainString(this.plain, s);
    if (!ascii) this.exactCompare = true;
    const min = this.min;
    if (min === undefined) {
      this.min = s;
      this.max = s;
    } else if (this.exactCompare) {
      if (compareUtf8(s, min) < 0) this.min = s;
      else if (compareUtf8(s, this.max as string) > 0) this.max = s;
    } else if (s < min) this.min = s;
    else if (s > (this.max as string)) this.max = s;
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

  /** Minimum and maximum of the values of this row group, in UTF-8 byte order. */
  minMax(): { min: string; max: string } | undefined {
    if (this.count === 0) return undefined;
    if (!this.dictMode) return { min: this.min as string, max: this.max as string };
    const values = this.dictValues;
    let min = values[0];
    let max = values[0];
    for (let i = 1; i < values.length; i++) {
      const v = values[i];
      if (compareUtf8(v, min) < 0) min = v;
      else if (compareUtf8(v, max) > 0) max = v;
    }
    return { min, max };
  }

  /** Empties the column for the next row group, keeping its buffers. */
  reset(): void {
    this.count = 0;
    this.min = undefined;
    this.max = undefined;
    this.exactCompare = false;
    this.plain.reset();
    this.dict.clear();
    this.dictValues = [];
    this.dictMode = !this.stickyPlain;
  }
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
  }
}

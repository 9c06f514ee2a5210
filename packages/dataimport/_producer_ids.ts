/**
 * A set of insert ids for checking uniqueness within a day, in bounded, predictable memory.
 *
 * A UUID is held as its 128 bits (four `Uint32Array` slots) in an open-addressing hash table
 * that doubles at 3/4 load, so membership is EXACT: there are no false positives. Memory is
 * 22 bytes per slot (16 for the id, 6 for where it was first seen), about 30–60 bytes per id:
 * ~0.5 GiB at 10 million ids. Ids differing only in case are the same id (they are stored
 * lowercase). Ids that are not UUIDs are reported by the record check; their duplicates are
 * tracked in a plain `Map` (expected to be rare).
 *
 * @module
 */

/** Where an id was first seen. */
export interface IdPlace {
  /** Index of the part file within the day. */
  part: number;
  /** Row within the part. */
  row: number;
}

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

/** Parses a UUID into `out[0..3]`; false when `id` is not a UUID. */
function parseUuid(id: string, out: Uint32Array): boolean {
  if (id.length !== 36) return false;
  let word = 0;
  let nibbles = 0;
  let w = 0;
  for (let i = 0; i < 36; i++) {
    const c = id.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
      continue;
    }
    const v = c < 128 ? HEX[c] : -1;
    if (v < 0) return false;
    word = (word << 4) | v;
    if (++nibbles === 8) {
      out[w++] = word >>> 0;
      word = 0;
      nibbles = 0;
    }
  }
  return true;
}

/** The exact set; see the module documentation. */
export class InsertIdSet {
  #keys: Uint32Array;
  #parts: Uint16Array;
  #rows: Uint32Array;
  #used: Uint8Array;
  #mask: number;
  #size = 0;
  #other = new Map<string, IdPlace>();
  #scratch = new Uint32Array(4);

  constructor(initialCapacity = 1 << 16) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.#keys = new Uint32Array(cap * 4);
    this.#parts = new Uint16Array(cap);
    this.#rows = new Uint32Array(cap);
    this.#used = new Uint8Array(cap);
    this.#mask = cap - 1;
  }

  /** Number of distinct ids. */
  get size(): number {
    return this.#size + this.#other.size;
  }

  /** Adds `id`; returns where it was first seen when it is a duplicate, else `undefined`. */
  add(id: string, part: number, row: number): IdPlace | undefined {
    const k = this.#scratch;
    if (!parseUuid(id, k)) {
      const key = id.toLowerCase();
      const seen = this.#other.get(key);
      if (seen !== undefined) return seen;
      this.#other.set(key, { part, row });
      return undefined;
    }
    const slot = this.#find(k);
    if (this.#used[slot] === 1) return { part: this.#parts[slot], row: this.#rows[slot] };
    this.#put(slot, k, part, row);
    if (++this.#size * 4 > (this.#mask + 1) * 3) this.#grow();
    return undefined;
  }

  #find(k: Uint32Array): number {
    const keys = this.#keys;
    const used = this.#used;
    // UUIDs are random already: mixing two words is enough.
    let slot = Math.imul(k[0] ^ k[3], 0x9e3779b1) >>> 0;
    slot = (slot ^ (slot >>> 15) ^ k[1]) & this.#mask;
    while (used[slot] === 1) {
      const o = slot * 4;
      if (
        keys[o] === k[0] && keys[o + 1] === k[1] && keys[o + 2] === k[2] && keys[o + 3] === k[3]
      ) {
        return slot;
      }
      slot = (slot + 1) & this.#mask;
    }
    return slot;
  }

  #put(slot: number, k: Uint32Array, part: number, row: number): void {
    const o = slot * 4;
    this.#keys[o] = k[0];
    this.#keys[o + 1] = k[1];
    this.#keys[o + 2] = k[2];
    this.#keys[o + 3] = k[3];
    this.#parts[slot] = part;
    this.#rows[slot] = row;
    this.#used[slot] = 1;
  }

  #grow(): void {
    const keys = this.#keys;
    const parts = this.#parts;
    const rows = this.#rows;
    const used = this.#used;
    const cap = (this.#mask + 1) * 2;
    this.#keys = new Uint32Array(cap * 4);
    this.#parts = new Uint16Array(cap);
    this.#rows = new Uint32Array(cap);
    this.#used = new Uint8Array(cap);
    this.#mask = cap - 1;
    const k = this.#scratch;
    for (let s = 0; s < used.length; s++) {
      if (used[s] !== 1) continue;
      k[0] = keys[s * 4];
      k[1] = keys[s * 4 + 1];
      k[2] = keys[s * 4 + 2];
      k[3] = keys[s * 4 + 3];
      this.#put(this.#find(k), k, parts[s], rows[s]);
    }
  }
}

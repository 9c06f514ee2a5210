/**
 * The importer's de-duplication set: `insert_id`s as 128-bit keys in one open-addressing hash
 * table of typed arrays (no object per id, no string kept).
 *
 * Exactness: an id with the UUID shape (8-4-4-4-12 hex digits, any case) is stored as its 16
 * bytes, so two ids are "the same" exactly when they are the same UUID (case ignored). Any
 * other text is stored as a 128-bit hash of its UTF-16 code units (murmur3-style mixing into four
 * 32-bit lanes): two different such ids collide with probability about 2^-128 per pair, i.e.
 * never in practice. (The importer rejects non-UUID ids anyway; they are hashed so the set never
 * refuses input.)
 *
 * Memory: 17 bytes per slot (16 key bytes + 1 flag byte), sized for a load of 0.85 (it grows
 * past 0.9), so about 20 bytes per id: 10,000,000 ids take about 200 MB. (Linear probing at
 * that load averages under 4 probes per insert over the fill.)
 *
 * @module
 */

/** Flag bits of a slot. */
const USED = 1;
const EARLIER = 2;
const CLAIMED = 4;
/** A slot another thread is writing the key of (attached sets insert concurrently). */
const BUSY = 8;

const MAX_LOAD = 0.9;
const TARGET_LOAD = 0.85;
const TWO_32 = 4294967296;

/** Hex digit value by char code, -1 when not a hex digit. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

/** What {@linkcode InsertIdSet.claim} found. */
export type ClaimResult =
  /** First claim of an id of this day: keep the row. */
  | "new"
  /** The id was claimed before in this day: an in-day duplicate. */
  | "in_day"
  /** The id was marked as seen on an earlier day: a cross-day duplicate. */
  | "earlier";

/** The typed arrays of an {@linkcode InsertIdSet}, to hand a shared set to a worker. */
export interface InsertIdSetState {
  /** Four 32-bit words per slot. */
  keys: Uint32Array;
  /** One flag byte per slot. */
  flags: Uint8Array;
  /** Number of distinct ids. */
  size: number;
}

/**
 * A set of `insert_id`s as exact 128-bit keys (see the module documentation), with two marks
 * per id for the importer: "seen on an earlier day" and "claimed" (a row with this id was kept).
 *
 * @example
 * ```ts
 * import { InsertIdSet } from "@eventlake/dataimport";
 * const ids = new InsertIdSet({ expected: 3 });
 * ids.add("8fb8e088-9245-4fce-bb87-7e09d9917ed6");
 * ids.add("0c0a2a56-0000-4000-8000-000000000001");
 * console.log(ids.has("8FB8E088-9245-4FCE-BB87-7E09D9917ED6")); // true (same UUID)
 * ids.markEarlier("0c0a2a56-0000-4000-8000-000000000001");
 * console.log(ids.claim("8fb8e088-9245-4fce-bb87-7e09d9917ed6")); // "new"
 * console.log(ids.claim("8fb8e088-9245-4fce-bb87-7e09d9917ed6")); // "in_day"
 * console.log(ids.claim("0c0a2a56-0000-4000-8000-000000000001")); // "earlier"
 * ```
 */
export class InsertIdSet {
  #keys: Uint32Array;
  #flags: Uint8Array;
  #capacity: number;
  #size = 0;
  #attached = false;
  #k0 = 0;
  #k1 = 0;
  #k2 = 0;
  #k3 = 0;

  /**
   * Creates an empty set sized for `expected` ids (it grows beyond that when needed). With
   * `shared`, its memory is a `SharedArrayBuffer`, so workers can {@linkcode attach} to it.
   */
  constructor(options: { expected?: number; shared?: boolean } = {}) {
    const expected = options.expected ?? 1024;
    if (!Number.isSafeInteger(expected) || expected < 0) {
      throw new RangeError(`expected must be a non-negative integer: got ${expected}`);
    }
    this.#capacity = Math.max(16, Math.ceil(expected / TARGET_LOAD));
    if (options.shared) {
      this.#keys = new Uint32Array(new SharedArrayBuffer(this.#capacity * 16));
      this.#flags = new Uint8Array(new SharedArrayBuffer(this.#capacity));
    } else {
      this.#keys = new Uint32Array(this.#capacity * 4);
      this.#flags = new Uint8Array(this.#capacity);
    }
  }

  /**
   * A view of a set built elsewhere (e.g. shared with a worker). An attached set only claims:
   * `add`/`markEarlier` stay with the owner; a claim of an id the owner never added inserts
   * it. Claims (and those inserts) are atomic across threads; the table does not grow then, so
   * the owner must size it for every id (`expected`).
   */
  static attach(state: InsertIdSetState): InsertIdSet {
    const set = new InsertIdSet({ expected: 0 });
    set.#keys = state.keys;
    set.#flags = state.flags;
    set.#capacity = state.flags.length;
    set.#size = state.size;
    set.#attached = true;
    return set;
  }

  /** The set's typed arrays (shared when created with `shared`). */
  get state(): InsertIdSetState {
    return { keys: this.#keys, flags: this.#flags, size: this.#size };
  }

  /** Number of distinct ids in the set. */
  get size(): number {
    return this.#size;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.#keys.byteLength + this.#flags.byteLength;
  }

  /** Adds an id; returns `true` when it was not in the set yet. */
  add(id: string): boolean {
    this.#owner("add");
    this.#load(id);
    const before = this.#size;
    this.#insert();
    return this.#size > before;
  }

  /** Whether the set holds `id`. */
  has(id: string): boolean {
    this.#load(id);
    return this.#find() >= 0;
  }

  /** Whether `id` was marked as seen on an earlier day (claims nothing). */
  isEarlier(id: string): boolean {
    this.#load(id);
    const slot = this.#find();
    return slot >= 0 && (Atomics.load(this.#flags, slot) & EARLIER) !== 0;
  }

  /** Marks `id` as seen on an earlier day, when it is in the set; returns whether it was. */
  markEarlier(id: string): boolean {
    this.#owner("markEarlier");
    this.#load(id);
    const slot = this.#find();
    if (slot < 0) return false;
    this.#flags[slot] |= EARLIER;
    return true;
  }

  /**
   * Claims `id` for a row being kept: `"new"` the first time (the id is added when absent),
   * `"in_day"` when claimed before, `"earlier"` when marked by {@linkcode markEarlier}.
   */
  claim(id: string): ClaimResult {
    this.#load(id);
    return this.#claimLoaded();
  }

  #claimLoaded(): ClaimResult {
    if (this.#attached) return this.#claimShared();
    let slot = this.#find();
    if (slot < 0) slot = this.#insert();
    const all = this.#flags;
    for (;;) {
      const flags = Atomics.load(all, slot);
      if (flags & EARLIER) return "earlier";
      if (flags & CLAIMED) return "in_day";
      if (Atomics.compareExchange(all, slot, flags, flags | CLAIMED) === flags) return "new";
    }
  }

  /**
   * {@linkcode add} of the id whose 36 bytes start at `bytes[at]`. Returns `undefined` (adding
   * nothing) when they are not a UUID: add the id as a string then.
   */
  addBytes(bytes: Uint8Array, at: number): boolean | undefined {
    this.#owner("add");
    if (!this.#loadUuidBytes(bytes, at)) return undefined;
    const before = this.#size;
    this.#insert();
    return this.#size > before;
  }

  /** {@linkcode markEarlier} by bytes; `undefined` when they are not a UUID (see {@linkcode addBytes}). */
  markEarlierBytes(bytes: Uint8Array, at: number): boolean | undefined {
    this.#owner("markEarlier");
    if (!this.#loadUuidBytes(bytes, at)) return undefined;
    const slot = this.#find();
    if (slot < 0) return false;
    this.#flags[slot] |= EARLIER;
    return true;
  }

  /** {@linkcode isEarlier} of the UUID whose 36 bytes start at `bytes[at]` (checked by the caller). */
  isEarlierBytes(bytes: Uint8Array, at: number): boolean {
    this.#loadUuidBytes(bytes, at);
    const slot = this.#find();
    return slot >= 0 && (Atomics.load(this.#flags, slot) & EARLIER) !== 0;
  }

  /** {@linkcode claim} of the UUID whose 36 bytes start at `bytes[at]` (checked by the caller). */
  claimBytes(bytes: Uint8Array, at: number): ClaimResult {
    this.#loadUuidBytes(bytes, at);
    return this.#claimLoaded();
  }

  /**
   * Claim on an attached set: finds the loaded key or inserts it, atomically with other
   * threads (a slot is taken by compare-and-swap from empty to BUSY, its key written, then
   * published as USED). The table never grows here: the owner sizes it for the day.
   */
  #claimShared(): ClaimResult {
    const keys = this.#keys, all = this.#flags, cap = this.#capacity;
    const k0 = this.#k0, k1 = this.#k1, k2 = this.#k2, k3 = this.#k3;
    let slot = this.#start();
    for (let probes = 0; probes < cap; probes++) {
      let f = Atomics.load(all, slot);
      if (f === 0) {
        if (Atomics.compareExchange(all, slot, 0, BUSY) === 0) {
          const o = slot * 4;
          keys[o] = k0;
          keys[o + 1] = k1;
          keys[o + 2] = k2;
          keys[o + 3] = k3;
          Atomics.store(all, slot, USED | CLAIMED);
          return "new";
        }
        f = Atomics.load(all, slot);
      }
      while (f === BUSY) f = Atomics.load(all, slot);
      const o = slot * 4;
      if (
        (keys[o] | 0) === k0 && (keys[o + 1] | 0) === k1 && (keys[o + 2] | 0) === k2 &&
        (keys[o + 3] | 0) === k3
      ) {
        for (;;) {
          const flags = Atomics.load(all, slot);
          if (flags & EARLIER) return "earlier";
          if (flags & CLAIMED) return "in_day";
          if (Atomics.compareExchange(all, slot, flags, flags | CLAIMED) === flags) return "new";
        }
      }
      if (++slot === cap) slot = 0;
    }
    throw new RangeError(`InsertIdSet of ${cap} slots is full: it was sized for fewer ids`);
  }

  #owner(what: string): void {
    if (this.#attached) throw new TypeError(`Cannot ${what}() on an attached InsertIdSet`);
  }

  /** Puts the 128-bit key of `id` into `#k0..#k3`. */
  #load(id: string): void {
    if (id.length === 36 && this.#loadUuid(id)) return;
    this.#hash(id);
  }

  #loadUuid(s: string): boolean {
    if (
      s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45 || s.charCodeAt(18) !== 45 ||
      s.charCodeAt(23) !== 45
    ) return false;
    const a = hex8(s, 0);
    const b = hex4(s, 9) * 65536 + hex4(s, 14);
    const c = hex4(s, 19) * 65536 + hex4(s, 24);
    const d = hex8(s, 28);
    if (a < 0 || b < 0 || c < 0 || d < 0) return false;
    this.#k0 = a | 0;
    this.#k1 = b | 0;
    this.#k2 = c | 0;
    this.#k3 = d | 0;
    return true;
  }

  /** The same key as {@linkcode #loadUuid} of the text, from its ASCII bytes. */
  #loadUuidBytes(b: Uint8Array, at: number): boolean {
    if (
      b[at + 8] !== 45 || b[at + 13] !== 45 || b[at + 18] !== 45 || b[at + 23] !== 45 ||
      at + 36 > b.length
    ) return false;
    const a = hex8b(b, at);
    const x = hex4b(b, at + 9) * 65536 + hex4b(b, at + 14);
    const y = hex4b(b, at + 19) * 65536 + hex4b(b, at + 24);
    const d = hex8b(b, at + 28);
    if (a < 0 || x < 0 || y < 0 || d < 0) return false;
    this.#k0 = a | 0;
    this.#k1 = x | 0;
    this.#k2 = y | 0;
    this.#k3 = d | 0;
    return true;
  }

  /** A 128-bit hash of the UTF-16 code units (murmur3 x86_128 rounds over 32-bit lanes). */
  #hash(s: string): void {
    let h1 = 0x9368e53c, h2 = 0x2f6af274, h3 = 0x5e7b4f1d, h4 = 0x6c2b9d3a ^ s.length;
    for (let i = 0; i < s.length; i += 2) {
      let k = s.charCodeAt(i) | ((i + 1 < s.length ? s.charCodeAt(i + 1) : 0) << 16);
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h1 ^= k;
      h1 = ((h1 << 19) | (h1 >>> 13)) + h2;
      h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;
      h2 ^= Math.imul(k, 0x239b961b);
      h2 = ((h2 << 17) | (h2 >>> 15)) + h3;
      h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;
      h3 ^= Math.imul(k, 0xab0e9789);
      h3 = ((h3 << 15) | (h3 >>> 17)) + h4;
      h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;
      h4 ^= Math.imul(k, 0x38b34ae5);
      h4 = ((h4 << 13) | (h4 >>> 19)) + h1;
      h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
    }
    h1 = (h1 + h2 + h3 + h4) | 0;
    h2 = (h2 + h1) | 0;
    h3 = (h3 + h1) | 0;
    h4 = (h4 + h1) | 0;
    this.#k0 = fmix(h1);
    this.#k1 = fmix(h2);
    this.#k2 = fmix(h3);
    this.#k3 = fmix(h4);
  }

  #start(): number {
    let h = this.#k0 ^ Math.imul(this.#k1, 0x85ebca6b) ^ Math.imul(this.#k2, 0xc2b2ae35) ^
      Math.imul(this.#k3, 0x27d4eb2f);
    h = fmix(h);
    return Math.floor((h >>> 0) * this.#capacity / TWO_32);
  }

  /** The slot of the loaded key, or -1. */
  #find(): number {
    const keys = this.#keys, flags = this.#flags, cap = this.#capacity;
    const k0 = this.#k0, k1 = this.#k1, k2 = this.#k2, k3 = this.#k3;
    let slot = this.#start();
    while (flags[slot] !== 0) {
      const o = slot * 4;
      if (
        (keys[o] | 0) === k0 && (keys[o + 1] | 0) === k1 && (keys[o + 2] | 0) === k2 &&
        (keys[o + 3] | 0) === k3
      ) return slot;
      if (++slot === cap) slot = 0;
    }
    return -1;
  }

  /** Inserts the loaded key (if absent) and returns its slot. */
  #insert(): number {
    if (this.#size + 1 > this.#capacity * MAX_LOAD) this.#grow();
    const keys = this.#keys, flags = this.#flags, cap = this.#capacity;
    const k0 = this.#k0, k1 = this.#k1, k2 = this.#k2, k3 = this.#k3;
    let slot = this.#start();
    while (flags[slot] !== 0) {
      const o = slot * 4;
      if (
        (keys[o] | 0) === k0 && (keys[o + 1] | 0) === k1 && (keys[o + 2] | 0) === k2 &&
        (keys[o + 3] | 0) === k3
      ) return slot;
      if (++slot === cap) slot = 0;
    }
    const o = slot * 4;
    keys[o] = k0;
    keys[o + 1] = k1;
    keys[o + 2] = k2;
    keys[o + 3] = k3;
    flags[slot] = USED;
    this.#size++;
    return slot;
  }

  #grow(): void {
    const oldKeys = this.#keys, oldFlags = this.#flags, oldCap = this.#capacity;
    const saved = [this.#k0, this.#k1, this.#k2, this.#k3];
    this.#capacity = oldCap * 2;
    if (oldKeys.buffer instanceof SharedArrayBuffer) {
      this.#keys = new Uint32Array(new SharedArrayBuffer(this.#capacity * 16));
      this.#flags = new Uint8Array(new SharedArrayBuffer(this.#capacity));
    } else {
      this.#keys = new Uint32Array(this.#capacity * 4);
      this.#flags = new Uint8Array(this.#capacity);
    }
    this.#size = 0;
    for (let s = 0; s < oldCap; s++) {
      if (oldFlags[s] === 0) continue;
      const o = s * 4;
      this.#k0 = oldKeys[o] | 0;
      this.#k1 = oldKeys[o + 1] | 0;
      this.#k2 = oldKeys[o + 2] | 0;
      this.#k3 = oldKeys[o + 3] | 0;
      this.#flags[this.#insert()] = oldFlags[s];
    }
    [this.#k0, this.#k1, this.#k2, this.#k3] = saved;
  }
}

function hex4(s: string, at: number): number {
  const a = s.charCodeAt(at),
    b = s.charCodeAt(at + 1),
    c = s.charCodeAt(at + 2),
    d = s.charCodeAt(at + 3);
  if ((a | b | c | d) >= 128) return -1;
  const va = HEX[a], vb = HEX[b], vc = HEX[c], vd = HEX[d];
  if ((va | vb | vc | vd) < 0) return -1;
  return (va << 12) | (vb << 8) | (vc << 4) | vd;
}

function hex8(s: string, at: number): number {
  const hi = hex4(s, at), lo = hex4(s, at + 4);
  if (hi < 0 || lo < 0) return -1;
  return hi * 65536 + lo;
}

function hex4b(b: Uint8Array, at: number): number {
  const w = b[at], x = b[at + 1], y = b[at + 2], z = b[at + 3];
  if ((w | x | y | z) >= 128) return -1;
  const vw = HEX[w], vx = HEX[x], vy = HEX[y], vz = HEX[z];
  if ((vw | vx | vy | vz) < 0) return -1;
  return (vw << 12) | (vx << 8) | (vy << 4) | vz;
}

function hex8b(b: Uint8Array, at: number): number {
  const hi = hex4b(b, at), lo = hex4b(b, at + 4);
  if (hi < 0 || lo < 0) return -1;
  return hi * 65536 + lo;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

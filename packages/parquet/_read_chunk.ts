/**
 * Decodes one column chunk into flat definition levels, repetition levels and values.
 *
 * Page headers, the rarer codecs and encodings (GZIP/BROTLI/ZSTD, DELTA_*, BYTE_STREAM_SPLIT)
 * and PLAIN numbers are hyparquet's; SNAPPY (`_read_snappy.ts`), levels and dictionary indices
 * (`_read_rle.ts`), PLAIN strings and FIXED_LEN_BYTE_ARRAY decimals are decoded here, lazily
 * where values outlive the chunk, with the bounds checking a hostile file needs and raw values
 * where hyparquet would lose information (DECIMAL as bytes or integers, timestamps as integers).
 *
 * @module
 */
import type {
  ColumnMetaData,
  Compressors,
  DecodedArray,
  PageHeader,
  SchemaElement,
} from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { convert, convertWithDictionary, DEFAULT_PARSERS } from "hyparquet/src/convert.js";
import { decompressPage, readDataPage, readDataPageV2 } from "hyparquet/src/datapage.js";
import { readPlain } from "hyparquet/src/plain.js";
import { badFile, RAW_PARSERS } from "./_read_footer.ts";
import type { Leaf } from "./_read_layout.ts";
import { decodeDecimal, decodeDecimalAt } from "./_read_decimal.ts";
import { readHybrid, v1LevelsEnd } from "./_read_rle.ts";
import { snappyDecompressInto } from "./_read_snappy.ts";

/** Largest decompressed page accepted: a header cannot make us allocate more. */
const MAX_PAGE_BYTES = 1 << 28;

/**
 * The codecs: SNAPPY in JavaScript (`_read_snappy.ts`, faster than hyparquet's), the others
 * through the runtime's zlib when it has one (loaded optionally, so runtimes without
 * `node:zlib` can still read SNAPPY files).
 */
const zlib = await import("node:zlib").catch(() => undefined);
const COMPRESSORS: Compressors = {
  SNAPPY: (input, size) => {
    const out = new Uint8Array(size);
    snappyDecompressInto(input, out);
    return out;
  },
  ...(zlib === undefined ? {} : {
    GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)),
    BROTLI: (input) => new Uint8Array(zlib.brotliDecompressSync(input)),
    ...(typeof zlib.zstdDecompressSync === "function"
      ? { ZSTD: (input: Uint8Array) => new Uint8Array(zlib.zstdDecompressSync(input)) }
      : {}),
  }),
};

/** The codecs {@linkcode decodeLeaf} can read. */
export const SUPPORTED_CODECS: readonly string[] = [
  "UNCOMPRESSED",
  "SNAPPY",
  "GZIP",
  "BROTLI",
  "ZSTD",
];

const utf8 = new TextDecoder();
/** windows-1252 maps every byte to exactly one UTF-16 unit: string index = byte index. */
const bytewise = new TextDecoder("windows-1252");

function stringFromBytes(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : utf8.decode(bytes);
}

/**
 * The PLAIN BYTE_ARRAY strings of one page, cut out on demand: the page is decoded once
 * byte-for-byte and an ASCII value is a `substring` of that text, created only when read, so
 * strings are born when their batch is materialised and die young; values with other bytes go
 * through the UTF-8 decoder.
 */
export class PlainStrings {
  /** Number of strings. */
  readonly length: number;
  readonly #text: string;
  readonly #bytes: Uint8Array;
  /** Offset in `#bytes` of the first character of `#text`. */
  readonly #base: number;
  /** Per value: start and end offsets in `#bytes`; the start is negated (minus 1) for non-ASCII. */
  readonly #bounds: Int32Array;

  /** Scans `count` length-prefixed values from `offset`; throws RangeError past the end. */
  constructor(bytes: Uint8Array, offset: number, count: number, wire?: PlainWire) {
    this.length = count;
    this.#bytes = bytes;
    if (wire !== undefined) {
      // Rebuilt from a worker's message: already scanned and checked there.
      this.#base = offset;
      this.#text = wire.text;
      this.#bounds = wire.bounds;
      return;
    }
    const bounds = new Int32Array(count * 2);
    const end = bytes.length;
    let at = offset;
    // Whether every length prefix is ASCII too: then an all-ASCII region decodes to one
    // UTF-16 unit per byte, string index = byte index.
    let asciiPrefixes = true;
    for (let i = 0; i < count; i++) {
      if (at + 4 > end) throw new RangeError(`string ${i} of ${count} starts past the page end`);
      const len = (bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24) >>>
        0;
      if (len > 0x7f) asciiPrefixes = false;
      at += 4;
      const stop = at + len;
      if (stop > end) throw new RangeError(`string ${i} claims ${len} bytes past the page end`);
      bounds[2 * i] = at;
      bounds[2 * i + 1] = stop;
      at = stop;
    }
    this.#base = offset;
    this.#bounds = bounds;
    if (count === 0) {
      this.#text = "";
      return;
    }
    const region = bytes.subarray(offset, at);
    if (asciiPrefixes) {
      // One native pass decides: valid non-ASCII UTF-8 decodes to fewer units than bytes,
      // and a byte that is not UTF-8 becomes U+FFFD; same length and no U+FFFD = all ASCII.
      const text = utf8.decode(region);
      if (text.length === region.length && text.indexOf("\uFFFD") === -1) {
        this.#text = text;
        return;
      }
    }
    // Some value is not ASCII: mark those (negated start, minus 1) for the UTF-8 decoder and
    // cut the others from a byte-for-byte decoding of the page.
    for (let i = 0; i < count; i++) {
      const start = bounds[2 * i];
      const stop = bounds[2 * i + 1];
      for (let j = start; j < stop; j++) {
        if (bytes[j] > 0x7f) {
          bounds[2 * i] = -start - 1;
          break;
        }
      }
    }
    this.#text = bytewise.decode(region);
  }

  /** The page as structured-clonable data; its buffers are added to `transfer`. */
  toWire(transfer: Set<ArrayBuffer>): PageWire {
    transfer.add(this.#bytes.buffer as ArrayBuffer);
    transfer.add(this.#bounds.buffer as ArrayBuffer);
    return {
      t: "plain",
      bytes: this.#bytes,
      offset: this.#base,
      count: this.length,
      text: this.#text,
      bounds: this.#bounds,
    };
  }

  /** The `i`-th string. */
  at(i: number): string {
    const start = this.#bounds[2 * i];
    const stop = this.#bounds[2 * i + 1];
    return start >= 0
      ? this.#text.substring(start - this.#base, stop - this.#base)
      : utf8.decode(this.#bytes.subarray(-start - 1, stop));
  }

  /** All strings, decoded now. */
  toArray(): string[] {
    const out = new Array<string>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.at(i);
    return out;
  }
}

/** What a worker sends of a {@linkcode PlainStrings} beyond its bytes. */
export interface PlainWire {
  text: string;
  bounds: Int32Array;
}

/** A page of lazy values as structured-clonable data. */
export type PageWire =
  | {
    t: "plain";
    bytes: Uint8Array;
    offset: number;
    count: number;
    text: string;
    bounds: Int32Array;
  }
  | { t: "dict"; dictionary: unknown[]; indices: Uint32Array }
  | { t: "fixed"; bytes: Uint8Array; offset: number; count: number; width: number }
  | { t: "array"; values: DecodedArray };

/** Decodes `count` PLAIN BYTE_ARRAY strings starting at `offset`, now. */
export function readPlainStrings(bytes: Uint8Array, offset: number, count: number): string[] {
  return new PlainStrings(bytes, offset, count).toArray();
}

/** Dictionary-encoded values of one page: references into the chunk's dictionary. */
export class DictPage<T> {
  /** Number of values. */
  readonly length: number;
  readonly #dictionary: T[];
  readonly #indices: Uint32Array;

  /** `indices` must already be checked against the dictionary's size. */
  constructor(dictionary: T[], indices: Uint32Array) {
    this.#dictionary = dictionary;
    this.#indices = indices;
    this.length = indices.length;
  }

  /** The page as structured-clonable data; its buffers are added to `transfer`. */
  toWire(transfer: Set<ArrayBuffer>): PageWire {
    transfer.add(this.#indices.buffer as ArrayBuffer);
    return { t: "dict", dictionary: this.#dictionary, indices: this.#indices };
  }

  /** The `i`-th value. */
  at(i: number): T {
    return this.#dictionary[this.#indices[i]];
  }

  /** The dictionary the indices refer to. */
  get dictionary(): readonly T[] {
    return this.#dictionary;
  }

  /** One dictionary index per value, each checked against the dictionary's size. */
  get indices(): Uint32Array {
    return this.#indices;
  }
}

/** PLAIN FIXED_LEN_BYTE_ARRAY decimals of one page, decoded exactly when read. */
export class FixedDecimals {
  /** Number of values. */
  readonly length: number;
  readonly #bytes: Uint8Array;
  readonly #offset: number;
  readonly #width: number;

  /** Throws RangeError when `count` values of `width` bytes do not fit. */
  constructor(bytes: Uint8Array, offset: number, count: number, width: number) {
    if (offset + count * width > bytes.length) {
      throw new RangeError(`${count} decimals of ${width} bytes do not fit the page`);
    }
    this.#bytes = bytes;
    this.#offset = offset;
    this.#width = width;
    this.length = count;
  }

  /** The page as structured-clonable data; its buffer is added to `transfer`. */
  toWire(transfer: Set<ArrayBuffer>): PageWire {
    transfer.add(this.#bytes.buffer as ArrayBuffer);
    return {
      t: "fixed",
      bytes: this.#bytes,
      offset: this.#offset,
      count: this.length,
      width: this.#width,
    };
  }

  /** The `i`-th unscaled value. */
  at(i: number): bigint {
    return decodeDecimalAt(this.#bytes, this.#offset + i * this.#width, this.#width);
  }

  /** All values, decoded now. */
  toArray(): bigint[] {
    const out = new Array<bigint>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.at(i);
    return out;
  }
}

/** A page of values read on demand (arrays are pages too: `Array.prototype.at`). */
export interface Page<T> {
  readonly length: number;
  at(i: number): T | undefined;
}

/** A page of strings. */
export type StringPage = PlainStrings | DictPage<string>;

/**
 * The values of a column chunk (strings, FLBA decimals), read in order with
 * {@linkcode next}: pages of dictionary references and lazy PLAIN pages, so a value is
 * created only when its batch is materialised.
 */
export class LazyValues<T> {
  /** Number of values. */
  readonly length: number;
  readonly #pages: Page<T>[];
  #page = -1;
  #index = 0;
  #end = 0;
  #current: Page<T> | undefined;
  // The current page by kind, so `next` reads each kind at a call site of its own (one
  // shared `page.at` site sees four classes and is megamorphic: no inlining).
  #dictionary: T[] | null = null;
  #indices: Uint32Array | null = null;
  #plain: PlainStrings | null = null;
  #fixed: FixedDecimals | null = null;

  /** What the values are (for {@linkcode leafToWire}). */
  readonly kind: "string" | "bigint";

  /** Wraps the pages of one chunk. */
  constructor(pages: Page<T>[], length: number, kind: "string" | "bigint") {
    this.#pages = pages;
    this.length = length;
    this.kind = kind;
  }

  /** The next value; `undefined` after the last. */
  next(): T | undefined {
    if (this.#index >= this.#end && !this.#advance()) return undefined;
    const i = this.#index++;
    const dictionary = this.#dictionary;
    if (dictionary !== null) return dictionary[this.#indices![i]];
    const plain = this.#plain;
    if (plain !== null) return plain.at(i) as T;
    const fixed = this.#fixed;
    if (fixed !== null) return fixed.at(i) as T;
    return this.#current!.at(i);
  }

  /** Moves to the next non-empty page; `false` after the last. */
  #advance(): boolean {
    while (this.#index >= this.#end) {
      if (++this.#page >= this.#pages.length) {
        this.#page = this.#pages.length;
        return false;
      }
      const page = this.#pages[this.#page];
      this.#current = page;
      this.#index = 0;
      this.#end = page.length;
      this.#dictionary = null;
      this.#indices = null;
      this.#plain = null;
      this.#fixed = null;
      if (page instanceof DictPage) {
        this.#dictionary = page.dictionary as T[];
        this.#indices = page.indices;
      } else if (page instanceof PlainStrings) {
        this.#plain = page;
      } else if (page instanceof FixedDecimals) {
        this.#fixed = page;
      }
    }
    return true;
  }

  /**
   * When every page refers to one dictionary (the usual dictionary-encoded chunk), that
   * dictionary and the indices of all values in order, so a reader can look values up
   * itself; otherwise `null`. Independent of {@linkcode next}.
   */
  dictionaryIndices(): { dictionary: readonly T[]; indices: Uint32Array } | null {
    const pages = this.#pages;
    if (pages.length === 0 || !pages.every((p) => p instanceof DictPage)) return null;
    const dictPages = pages as unknown as DictPage<T>[];
    const dictionary = dictPages[0].dictionary;
    if (!dictPages.every((p) => p.dictionary === dictionary)) return null;
    if (dictPages.length === 1) return { dictionary, indices: dictPages[0].indices };
    const indices = new Uint32Array(this.length);
    let at = 0;
    for (const page of dictPages) {
      indices.set(page.indices, at);
      at += page.indices.length;
    }
    return { dictionary, indices };
  }

  /** The pages as structured-clonable data; their buffers are added to `transfer`. */
  toWire(transfer: Set<ArrayBuffer>): PageWire[] {
    return this.#pages.map((page): PageWire =>
      page instanceof PlainStrings || page instanceof DictPage || page instanceof FixedDecimals
        ? page.toWire(transfer)
        : { t: "array", values: page as unknown as DecodedArray }
    );
  }

  /** All values as an array. */
  toArray(): T[] {
    const out = new Array<T>(this.length);
    let at = 0;
    for (const page of this.#pages) {
      for (let i = 0; i < page.length; i++) out[at++] = page.at(i)!;
    }
    return out;
  }
}

/** The string values of a column chunk. */
export type StringValues = LazyValues<string>;

const PARSERS = { ...DEFAULT_PARSERS, ...RAW_PARSERS, stringFromBytes };

/** A decoded column chunk. */
export interface LeafData {
  /** Number of level entries (the chunk's `num_values`). */
  count: number;
  /** Definition levels, or `null` when every entry is at the maximum level. */
  defs: Uint8Array | null;
  /** Repetition levels, or `null` for a non-repeated column. */
  reps: Uint8Array | null;
  /** The non-null values, in order (strings as a {@linkcode StringValues} reader). */
  values: DecodedArray | LazyValues<string> | LazyValues<bigint>;
}

/** A {@linkcode LeafData} as structured-clonable data, for a worker's message. */
export interface LeafWire {
  count: number;
  defs: Uint8Array | null;
  reps: Uint8Array | null;
  /** Lazy pages (`lazy` says of what) or the values themselves. */
  lazy: "string" | "bigint" | null;
  pages: PageWire[] | null;
  values: DecodedArray | null;
  length: number;
}

/** {@linkcode LeafData} as data for `postMessage`; buffers to transfer are added to `transfer`. */
export function leafToWire(data: LeafData, transfer: Set<ArrayBuffer>): LeafWire {
  if (data.defs !== null) transfer.add(data.defs.buffer as ArrayBuffer);
  if (data.reps !== null) transfer.add(data.reps.buffer as ArrayBuffer);
  const lazy = data.values instanceof LazyValues;
  return {
    count: data.count,
    defs: data.defs,
    reps: data.reps,
    lazy: lazy ? (data.values as LazyValues<unknown>).kind : null,
    pages: lazy ? (data.values as LazyValues<unknown>).toWire(transfer) : null,
    values: lazy ? null : data.values as DecodedArray,
    length: data.values.length,
  };
}

function pageFromWire(page: PageWire): Page<unknown> {
  switch (page.t) {
    case "plain":
      return new PlainStrings(page.bytes, page.offset, page.count, page);
    case "dict":
      return new DictPage(page.dictionary, page.indices);
    case "fixed":
      return new FixedDecimals(page.bytes, page.offset, page.count, page.width);
    case "array":
      return page.values as Page<unknown>;
  }
}

/** The {@linkcode LeafData} a worker sent as {@linkcode leafToWire}. */
export function leafFromWire(wire: LeafWire): LeafData {
  return {
    count: wire.count,
    defs: wire.defs,
    reps: wire.reps,
    values: wire.lazy === null ? wire.values! : wire.lazy === "string"
      ? new LazyValues<string>(
        wire.pages!.map(pageFromWire) as Page<string>[],
        wire.length,
        "string",
      )
      : new LazyValues<bigint>(
        wire.pages!.map(pageFromWire) as Page<bigint>[],
        wire.length,
        "bigint",
      ),
  };
}

/** How to decode a leaf's values. */
export interface LeafDecoding {
  /** Drop the logical annotation so hyparquet returns raw integers/bytes (decimals, timestamps). */
  raw: boolean;
}

/** Context for messages. */
export interface ChunkContext {
  name: string;
  rowGroup: number;
}

/** Bits needed for levels up to `max`. */
function bitWidth(max: number): number {
  return 32 - Math.clz32(max);
}

type DecoderArg = Parameters<typeof convert>[1];

/** Decodes all pages of one column chunk held in `bytes`. */
export function decodeLeaf(
  bytes: Uint8Array,
  leaf: Leaf,
  meta: ColumnMetaData,
  decoding: LeafDecoding,
  ctx: ChunkContext,
): LeafData {
  const fail = (detail: string, cause?: unknown) =>
    badFile(
      ctx.name,
      `column chunk "${leaf.path}" of row group ${ctx.rowGroup} is corrupt: ${detail}`,
      { rowGroup: ctx.rowGroup, column: leaf.path },
      cause,
    );
  if (!SUPPORTED_CODECS.includes(meta.codec)) {
    throw badFile(
      ctx.name,
      `column chunk "${leaf.path}" of row group ${ctx.rowGroup} uses codec ${meta.codec}: supported are ${
        SUPPORTED_CODECS.join(", ")
      }`,
      { rowGroup: ctx.rowGroup, column: leaf.path, codec: meta.codec },
    );
  }
  if (meta.type !== leaf.element.type) {
    throw fail(`its type ${meta.type} differs from the schema's ${leaf.element.type}`);
  }
  const type = leaf.element.type!;
  const element: SchemaElement = decoding.raw
    ? { ...leaf.element, converted_type: undefined, logical_type: undefined }
    : leaf.element;
  const decoder: DecoderArg = {
    pathInSchema: leaf.path.split("."),
    type,
    element,
    schemaPath: leaf.schemaPath,
    codec: meta.codec,
    parsers: PARSERS,
    compressors: COMPRESSORS,
    utf8: !decoding.raw,
  };
  const strings = !decoding.raw && type === "BYTE_ARRAY";
  const decimals = decoding.raw && type === "FIXED_LEN_BYTE_ARRAY"
    ? leaf.element.type_length ?? 0
    : 0;
  /** PLAIN values of a page or dictionary, with our fast paths. */
  const plainValues = (
    page: Uint8Array,
    offset: number,
    count: number,
  ): DecodedArray | PlainStrings | FixedDecimals => {
    if (strings) return new PlainStrings(page, offset, count);
    if (decimals > 0) return new FixedDecimals(page, offset, count, decimals);
    const reader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset };
    return convert(readPlain(reader, type, count, leaf.element.type_length), decoder);
  };
  const expected = Number(meta.num_values);
  const maxDef = leaf.maxDef;
  const defs = maxDef > 0 ? new Uint8Array(expected) : null;
  const reps = leaf.maxRep > 0 ? new Uint8Array(expected) : null;
  const pages: (DecodedArray | Page<unknown>)[] = [];
  let dictionary: DecodedArray | undefined;
  let seen = 0;
  let valueCount = 0;
  const reader = {
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    offset: 0,
  };
  while (seen < expected) {
    if (reader.offset >= bytes.byteLength) {
      throw fail(`it ends after ${seen} of ${expected} values`);
    }
    let header: PageHeader;
    try {
      header = parquetHeader(reader);
    } catch (error) {
      throw fail(`unreadable page header at byte ${reader.offset}`, error);
    }
    const size = header.compressed_page_size;
    const rawSize = header.uncompressed_page_size;
    if (typeof size !== "number" || !(size >= 0) || reader.offset + size > bytes.byteLength) {
      throw fail(`a page claims ${size} bytes but only ${bytes.byteLength - reader.offset} remain`);
    }
    if (typeof rawSize !== "number" || !(rawSize >= 0) || rawSize > MAX_PAGE_BYTES) {
      throw fail(`a page claims ${rawSize} uncompressed bytes (limit ${MAX_PAGE_BYTES})`);
    }
    const page = bytes.subarray(reader.offset, reader.offset + size);
    reader.offset += size;
    try {
      if (header.type === "DICTIONARY_PAGE") {
        const dph = header.dictionary_page_header;
        if (dph === undefined) throw new Error("dictionary page without header");
        if (!(dph.num_values >= 0) || dph.num_values > rawSize) {
          throw new Error(`dictionary claims ${dph.num_values} values in ${rawSize} bytes`);
        }
        const dict = plainValues(
          decompressPage(page, rawSize, meta.codec, COMPRESSORS),
          0,
          dph.num_values,
        );
        dictionary = dict instanceof PlainStrings
          ? internalize(dict.toArray())
          : dict instanceof FixedDecimals
          ? dict.toArray()
          : dict;
        continue;
      }
      let values: DecodedArray | Page<unknown>;
      let n: number;
      if (header.type === "DATA_PAGE") {
        const daph = header.data_page_header;
        if (daph === undefined) throw new Error("data page without header");
        n = daph.num_values;
        checkCount(n, seen, expected);
        const plain = decompressPage(page, rawSize, meta.codec, COMPRESSORS);
        let pos = 0;
        if (reps !== null) pos = readLevels(plain, pos, leaf.maxRep, reps.subarray(seen, seen + n));
        let nonNull = n;
        if (defs !== null) {
          const levels = defs.subarray(seen, seen + n);
          pos = readLevels(plain, pos, maxDef, levels);
          if (soleLevel >= 0) {
            nonNull = soleLevel === maxDef ? n : 0;
          } else {
            nonNull = 0;
            for (let i = 0; i < n; i++) if (levels[i] === maxDef) nonNull++;
          }
        }
        const encoding = daph.encoding;
        if (encoding === "PLAIN") {
          values = plainValues(plain, pos, nonNull);
        } else if (encoding === "PLAIN_DICTIONARY" || encoding === "RLE_DICTIONARY") {
          values = lookup(plain, pos, nonNull, dictionary, strings || decimals > 0);
        } else {
          // Rarer encodings (DELTA_*, BYTE_STREAM_SPLIT): hyparquet decodes the whole page.
          const result = readDataPage(plain, daph, decoder);
          values = convertWithDictionary(result.dataPage, dictionary, encoding, decoder);
          if (decimals > 0) values = Array.from(values as Uint8Array[], decodeDecimal);
        }
        if (values.length !== nonNull) {
          throw new Error(`page has ${values.length} values where its levels say ${nonNull}`);
        }
      } else if (header.type === "DATA_PAGE_V2") {
        const daph2 = header.data_page_header_v2;
        if (daph2 === undefined) throw new Error("data page v2 without header");
        n = daph2.num_values;
        checkCount(n, seen, expected);
        if (!(daph2.num_nulls >= 0) || daph2.num_nulls > n) {
          throw new Error(`page claims ${daph2.num_nulls} nulls`);
        }
        const repLen = daph2.repetition_levels_byte_length;
        const defLen = daph2.definition_levels_byte_length;
        if (!(repLen >= 0) || !(defLen >= 0) || repLen + defLen > page.length) {
          throw new Error(`levels claim ${repLen} + ${defLen} bytes in a page of ${page.length}`);
        }
        if (reps !== null) {
          readHybrid(page, 0, repLen, bitWidth(leaf.maxRep), reps.subarray(seen, seen + n), n);
        }
        let nonNull = n;
        if (defs !== null) {
          const levels = defs.subarray(seen, seen + n);
          if (defLen === 0) {
            levels.fill(maxDef);
          } else if (soleRun(page, repLen, repLen + defLen, bitWidth(maxDef), n) >= 0) {
            // One RLE run (no nulls, or all null): no per-level pass.
            if (soleLevel > maxDef) {
              throw new RangeError(`level ${soleLevel} is above the maximum ${maxDef}`);
            }
            levels.fill(soleLevel);
            nonNull = soleLevel === maxDef ? n : 0;
          } else {
            readHybrid(page, repLen, repLen + defLen, bitWidth(maxDef), levels, n);
            nonNull = 0;
            for (let i = 0; i < n; i++) {
              const d = levels[i];
              if (d === maxDef) nonNull++;
              else if (d > maxDef) {
                throw new RangeError(`level ${d} is above the maximum ${maxDef}`);
              }
            }
          }
        }
        if (nonNull !== n - daph2.num_nulls) {
          throw new Error(`page has ${n - nonNull} nulls where its header says ${daph2.num_nulls}`);
        }
        const body = page.subarray(repLen + defLen);
        const plain = daph2.is_compressed === false || meta.codec === "UNCOMPRESSED"
          ? body
          : decompressPage(body, rawSize - repLen - defLen, meta.codec, COMPRESSORS);
        const encoding = daph2.encoding;
        if (encoding === "PLAIN") {
          values = plainValues(plain, 0, nonNull);
        } else if (encoding === "PLAIN_DICTIONARY" || encoding === "RLE_DICTIONARY") {
          values = lookup(plain, 0, nonNull, dictionary, strings || decimals > 0);
        } else {
          // Rarer encodings: hyparquet decodes the whole page (levels again, then values).
          const result = readDataPageV2(page, header, decoder);
          values = convertWithDictionary(result.dataPage, dictionary, encoding, decoder);
          if (decimals > 0) values = Array.from(values as Uint8Array[], decodeDecimal);
        }
        if (values.length !== nonNull) {
          throw new Error(`page has ${values.length} values where its levels say ${nonNull}`);
        }
      } else {
        continue; // index pages carry no values
      }
      pages.push(values);
      valueCount += values.length;
      seen += n;
    } catch (error) {
      if (error instanceof Error && error.name === "InvalidArgumentError") throw error;
      throw fail(error instanceof Error ? error.message : String(error), error);
    }
  }
  if (reader.offset < bytes.byteLength && bytes.byteLength - reader.offset > 1) {
    // Trailing pages beyond num_values: the footer and the pages disagree.
    throw fail(`it holds more pages than its ${expected} values`);
  }
  return {
    count: expected,
    defs: valueCount === expected ? null : defs,
    reps,
    values: strings
      ? new LazyValues<string>(pages as Page<string>[], valueCount, "string")
      : decimals > 0
      ? new LazyValues<bigint>(pages as Page<bigint>[], valueCount, "bigint")
      : concatValues(pages as DecodedArray[], valueCount),
  };
}

/** Dictionaries up to this size are internalized. */
const MAX_INTERNALIZED = 4096;

/**
 * Replaces the strings of a small dictionary by V8's internalized copies (a property name
 * is one), so map keys built from them need no string-table lookup when they become
 * properties, and comparing two of them is comparing pointers.
 */
function internalize(strings: string[]): string[] {
  if (strings.length > MAX_INTERNALIZED) return strings;
  for (let i = 0; i < strings.length; i++) strings[i] = Object.keys({ [strings[i]]: 0 })[0];
  return strings;
}

/**
 * The level of the last {@linkcode soleRun} or {@linkcode readLevels} when its levels were one
 * RLE run, else -1.
 */
let soleLevel = -1;

/**
 * When `page[pos..end)` starts with one RLE run of at least `count` values, sets
 * {@linkcode soleLevel} to its value and returns it; otherwise sets and returns -1.
 */
function soleRun(page: Uint8Array, pos: number, end: number, width: number, count: number): number {
  soleLevel = -1;
  let header = 0;
  let scale = 1;
  let b: number;
  do {
    if (pos >= end || scale > 2 ** 28) return -1;
    b = page[pos++];
    header += (b & 0x7f) * scale;
    scale *= 128;
  } while (b & 0x80);
  if (header % 2 !== 0 || header / 2 < count) return -1;
  const byteWidth = (width + 7) >> 3;
  if (pos + byteWidth > end) return -1;
  let value = 0;
  for (let i = 0; i < byteWidth; i++) value |= page[pos + i] << (8 * i);
  soleLevel = value & ((1 << width) - 1);
  return soleLevel;
}

/**
 * Reads V1 levels: a 4-byte length, then the hybrid runs. Returns the position after them;
 * sets {@linkcode soleLevel}.
 */
function readLevels(page: Uint8Array, pos: number, max: number, out: Uint8Array): number {
  const end = v1LevelsEnd(page, pos);
  pos += 4;
  const len = end - pos;
  const width = bitWidth(max);
  if (out.length > 0 && soleRun(page, pos, pos + len, width, out.length) >= 0) {
    if (soleLevel > max) throw new RangeError(`level ${soleLevel} is above the maximum ${max}`);
    out.fill(soleLevel);
    return pos + len;
  }
  readHybrid(page, pos, pos + len, width, out, out.length);
  for (let i = 0; i < out.length; i++) {
    if (out[i] > max) throw new RangeError(`level ${out[i]} is above the maximum ${max}`);
  }
  soleLevel = -1;
  return pos + len;
}

/** Reads dictionary indices (checked against the dictionary's size). */
function readIndices(page: Uint8Array, pos: number, count: number, size: number): Uint32Array {
  const indices = new Uint32Array(count);
  if (count === 0) return indices;
  if (pos >= page.length) throw new RangeError("dictionary indices start past the page end");
  const width = page[pos++];
  if (width > 0) readHybrid(page, pos, page.length, width, indices, count);
  for (let i = 0; i < count; i++) {
    if (indices[i] >= size) {
      throw new Error(`dictionary index ${indices[i]} is outside a dictionary of ${size}`);
    }
  }
  return indices;
}

/** Reads dictionary indices and looks them up; an index outside the dictionary is corruption. */
function lookup(
  page: Uint8Array,
  pos: number,
  count: number,
  dictionary: DecodedArray | undefined,
  lazy: boolean,
): DecodedArray | DictPage<unknown> {
  if (dictionary === undefined) {
    throw new Error("dictionary-encoded page without a dictionary page");
  }
  const indices = readIndices(page, pos, count, dictionary.length);
  if (lazy && Array.isArray(dictionary)) return new DictPage<unknown>(dictionary, indices);
  const out = new Array(count);
  for (let i = 0; i < count; i++) out[i] = dictionary[indices[i]];
  return out;
}

function checkCount(n: number, seen: number, expected: number): void {
  if (!(n >= 0) || seen + n > expected) {
    throw new Error(`a page claims ${n} values after ${seen} of ${expected}`);
  }
}

function concatValues(pages: DecodedArray[], total: number): DecodedArray {
  if (pages.length === 1) return pages[0];
  if (pages.length === 0) return [];
  const first = pages[0];
  if (first instanceof BigInt64Array && pages.every((p) => p instanceof BigInt64Array)) {
    const out = new BigInt64Array(total);
    let at = 0;
    for (const p of pages) {
      out.set(p as BigInt64Array, at);
      at += p.length;
    }
    return out;
  }
  if (first instanceof Int32Array && pages.every((p) => p instanceof Int32Array)) {
    const out = new Int32Array(total);
    let at = 0;
    for (const p of pages) {
      out.set(p as Int32Array, at);
      at += p.length;
    }
    return out;
  }
  const out = new Array(total);
  let at = 0;
  for (const p of pages) {
    for (let i = 0; i < p.length; i++) out[at++] = p[i];
  }
  return out;
}

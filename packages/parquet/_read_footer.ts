/**
 * Reads and checks a Parquet footer through a {@linkcode ByteSource}: magic bytes, the
 * footer length, the Thrift metadata (parsed by hyparquet) and every column chunk's byte
 * range, so later reads never allocate or seek beyond what the file really holds.
 *
 * @module
 */
import { type FileMetaData, parquetMetadata, parquetSchema, type SchemaTree } from "hyparquet";
import { AbortedError, InvalidArgumentError, throwIfAborted } from "@eventlake/schema";
import type { ByteSource } from "./source.ts";

/** "PAR1" read as a little-endian uint32. */
const MAGIC = 0x31524150;
/** Smallest possible Parquet file: magic, an empty footer, its length, magic. */
const MIN_FILE_SIZE = 12;
/** The tail fetched first: most footers fit, so one ranged read is usually enough. */
const TAIL_FETCH = 64 * 1024;
/** Upper bound on the values of one column chunk, so a lying footer cannot make us allocate GBs. */
export const MAX_CHUNK_VALUES = 1 << 27;

/**
 * Timestamp parsers for hyparquet that keep the raw integer: we convert units ourselves,
 * flooring to milliseconds (hyparquet truncates toward zero and builds `Date`s).
 */
export const RAW_PARSERS = {
  timestampFromMilliseconds: (v: bigint): bigint => v,
  timestampFromMicroseconds: (v: bigint): bigint => v,
  timestampFromNanoseconds: (v: bigint): bigint => v,
};

/** A parsed, range-checked footer. */
export interface Footer {
  /** hyparquet's view of the file metadata. */
  metadata: FileMetaData;
  /** The schema as a tree (root = the message). */
  tree: SchemaTree;
  /** Bytes of Thrift metadata. */
  metadataLength: number;
  /** Offset where column data ends and the footer begins. */
  dataEnd: number;
}

/** The name used in messages: the caller's, the source's own, or a placeholder. */
export function sourceName(source: ByteSource, name: string | undefined): string {
  if (name !== undefined) return name;
  const own = (source as { name?: unknown }).name;
  return typeof own === "string" ? own : "<bytes>";
}

/** Builds the reader's error for a malformed file. */
export function badFile(
  name: string,
  detail: string,
  details: Record<string, unknown> = {},
  cause?: unknown,
): InvalidArgumentError {
  return new InvalidArgumentError(`Cannot read Parquet file "${name}": ${detail}`, {
    details: { file: name, ...details },
    cause,
  });
}

/** Reads exactly `length` bytes at `offset`, or fails naming the file. */
export async function readExact(
  source: ByteSource,
  offset: number,
  length: number,
  name: string,
  what: string,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  throwIfAborted(signal);
  if (offset < 0 || length < 0 || offset + length > source.size) {
    throw badFile(
      name,
      `${what} spans bytes ${offset}..${offset + length} but the file has ${source.size} bytes`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await source.read(offset, length, { signal });
  } catch (error) {
    if (signal?.aborted) throw new AbortedError("Operation aborted", { cause: signal.reason });
    throw error;
  }
  if (bytes.byteLength < length) {
    throw badFile(
      name,
      `${what} is truncated: expected ${length} bytes at offset ${offset}, got ${bytes.byteLength}`,
    );
  }
  return bytes.byteLength === length ? bytes : bytes.subarray(0, length);
}

/** Reads the footer with at most two ranged reads (plus 4 bytes for the leading magic). */
export async function readFooter(
  source: ByteSource,
  name: string,
  signal?: AbortSignal,
): Promise<Footer> {
  const size = source.size;
  if (!Number.isSafeInteger(size) || size < MIN_FILE_SIZE) {
    throw badFile(name, `file is too small to be Parquet: ${size} bytes`);
  }
  const tailLength = Math.min(size, TAIL_FETCH);
  const [head, tail] = await Promise.all([
    readExact(source, 0, 4, name, "leading magic", signal),
    readExact(source, size - tailLength, tailLength, name, "footer", signal),
  ]);
  const tailView = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  if (new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) !== MAGIC) {
    throw badFile(
      name,
      `wrong magic bytes at the start: expected "PAR1", found ${quoteBytes(head)}`,
    );
  }
  if (tailView.getUint32(tailLength - 4, true) !== MAGIC) {
    throw badFile(
      name,
      `wrong magic bytes at the end: expected "PAR1", found ${
        quoteBytes(tail.subarray(tailLength - 4))
      } (truncated or not Parquet)`,
    );
  }
  const metadataLength = tailView.getUint32(tailLength - 8, true);
  if (metadataLength > size - MIN_FILE_SIZE) {
    throw badFile(
      name,
      `footer length field claims ${metadataLength} bytes but the file has only ${size} bytes`,
      { metadataLength, size },
    );
  }
  const dataEnd = size - 8 - metadataLength;
  let footerBytes: Uint8Array;
  if (metadataLength + 8 <= tailLength) {
    footerBytes = tail.subarray(tailLength - 8 - metadataLength);
  } else {
    footerBytes = await readExact(source, dataEnd, metadataLength + 8, name, "footer", signal);
  }
  let metadata: FileMetaData;
  let tree: SchemaTree;
  try {
    metadata = parquetMetadata(footerBytes, { parsers: RAW_PARSERS, geoparquet: false });
    if (!Array.isArray(metadata.schema) || metadata.schema.length === 0) {
      throw new Error("schema is empty");
    }
    tree = parquetSchema(metadata);
    checkTree(tree);
  } catch (error) {
    throw badFile(
      name,
      `corrupt footer: ${error instanceof Error ? error.message : String(error)}`,
      {},
      error,
    );
  }
  checkRowGroups(metadata, tree, name, dataEnd);
  return { metadata, tree, metadataLength, dataEnd };
}

/** Rejects schema trees a corrupt footer can produce (missing elements, bad counts). */
function checkTree(tree: SchemaTree): void {
  const visit = (node: SchemaTree): void => {
    if (node === undefined || node.element === undefined) {
      throw new Error("schema tree is incomplete");
    }
    if (typeof node.element.name !== "string") throw new Error("schema element without a name");
    if (node.children.length === 0 && node !== tree && node.element.type === undefined) {
      throw new Error(`schema leaf "${node.path.join(".")}" has no physical type`);
    }
    for (const child of node.children) visit(child);
  };
  visit(tree);
}

/** Leaf paths in schema order: the order of column chunks inside every row group. */
export function leafPaths(tree: SchemaTree): string[] {
  const out: string[] = [];
  const visit = (node: SchemaTree): void => {
    if (node.children.length === 0) out.push(node.path.join("."));
    else for (const child of node.children) visit(child);
  };
  for (const child of tree.children) visit(child);
  return out;
}

/** The byte range of a column chunk: from its dictionary page (if any) to its end. */
export function chunkRange(
  meta: {
    dictionary_page_offset?: bigint;
    data_page_offset: bigint;
    total_compressed_size: bigint;
  },
): { start: number; end: number } {
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
  return { start, end: start + Number(meta.total_compressed_size) };
}

function checkRowGroups(metadata: FileMetaData, tree: SchemaTree, name: string, dataEnd: number) {
  const leaves = leafPaths(tree);
  if (!Array.isArray(metadata.row_groups)) throw badFile(name, "corrupt footer: no row group list");
  metadata.row_groups.forEach((group, g) => {
    const rows = Number(group.num_rows);
    if (!Number.isSafeInteger(rows) || rows < 0 || rows > MAX_CHUNK_VALUES) {
      throw badFile(name, `row group ${g} claims ${group.num_rows} rows`, { rowGroup: g });
    }
    if (!Array.isArray(group.columns) || group.columns.length !== leaves.length) {
      throw badFile(
        name,
        `row group ${g} has ${group.columns?.length} column chunks but the schema has ${leaves.length} columns`,
        { rowGroup: g },
      );
    }
    group.columns.forEach((chunk, c) => {
      const column = leaves[c];
      const meta = chunk.meta_data;
      if (meta === undefined) {
        throw badFile(name, `column chunk "${column}" of row group ${g} has no metadata`, {
          rowGroup: g,
          column,
        });
      }
      if (chunk.file_path) {
        throw badFile(
          name,
          `column chunk "${column}" of row group ${g} lives in another file "${chunk.file_path}": not supported`,
          { rowGroup: g, column },
        );
      }
      if (meta.path_in_schema?.join(".") !== column) {
        throw badFile(
          name,
          `column chunk ${c} of row group ${g} is "${
            meta.path_in_schema?.join(".")
          }": expected "${column}"`,
          { rowGroup: g, column },
        );
      }
      const { start, end } = chunkRange(meta);
      if (
        !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 4 || end > dataEnd
      ) {
        throw badFile(
          name,
          `column chunk "${column}" of row group ${g} spans bytes ${start}..${end} but column data ends at byte ${dataEnd}`,
          { rowGroup: g, column, start, end, dataEnd },
        );
      }
      const values = Number(meta.num_values);
      if (!Number.isSafeInteger(values) || values < 0 || values > MAX_CHUNK_VALUES) {
        throw badFile(
          name,
          `column chunk "${column}" of row group ${g} claims ${meta.num_values} values (limit ${MAX_CHUNK_VALUES})`,
          { rowGroup: g, column },
        );
      }
    });
  });
}

function quoteBytes(bytes: Uint8Array): string {
  return `"${
    Array.from(bytes, (b) =>
      b >= 32 && b < 127 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`).join(
        "",
      )
  }"`;
}

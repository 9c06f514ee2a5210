/**
 * Test helper: rewrites a Parquet file's DATA_PAGE_V2 pages as equivalent DATA_PAGE (v1) pages —
 * the layout pyarrow and parquet-mr write by default — so that tests can feed our exact schema
 * in v1 pages to the readers (nothing available here writes that combination).
 *
 * @module
 */

import { type ColumnChunk, type FileMetaData, type PageHeader, parquetMetadata } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { decompressPage } from "hyparquet/src/datapage.js";
import {
  getMaxDefinitionLevel,
  getMaxRepetitionLevel,
  getSchemaPath,
} from "hyparquet/src/schema.js";
import { deserializeTCompactProtocol } from "hyparquet/src/thrift.js";
import { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { writePageHeader } from "hyparquet-writer/src/datapage.js";
import { writeMetadata } from "hyparquet-writer/src/metadata.js";
import { Bytes } from "./_write_bytes.ts";
import { snappyCompressInto } from "./_write_snappy.ts";
import { concat } from "./_test_files.ts";

/** Options of {@linkcode toDataPageV1}. */
export interface ToDataPageV1Options {
  /**
   * Called with each v1 page before it is compressed (levels with their 4-byte lengths, then
   * values), its column's dotted path and its row group: a test may corrupt it in place.
   */
  editPage?: (page: Uint8Array, column: string, rowGroup: number) => void;
}

/**
 * The file `bytes` (one written by `writeEvents`: SNAPPY or UNCOMPRESSED chunks) with every
 * DATA_PAGE_V2 rewritten as a DATA_PAGE v1 holding the same levels and values: repetition and
 * definition levels (where the column has them) each behind a 4-byte little-endian length, RLE,
 * then the values, the whole page compressed with the chunk's codec. Dictionary pages are kept
 * as they are; the footer gets the new offsets, sizes and encoding stats.
 */
export function toDataPageV1(bytes: Uint8Array, options: ToDataPageV1Options = {}): Uint8Array {
  const meta: FileMetaData = parquetMetadata(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
  );
  const exact = decimalStatistics(bytes);
  const out = new ByteWriter(bytes.length + 1024);
  out.appendUint32(0x31524150); // "PAR1"
  const scratch = new Bytes();
  const rowGroups = meta.row_groups.map((group, g) => {
    const groupStart = out.offset;
    let groupUncompressed = 0n;
    const columns = group.columns.map((chunk, c): ColumnChunk => {
      const m = chunk.meta_data;
      if (m === undefined) throw new Error(`row group ${g}: a column chunk without metadata`);
      const column = m.path_in_schema.join(".");
      if (m.codec !== "SNAPPY" && m.codec !== "UNCOMPRESSED") {
        throw new Error(`${column}: codec ${m.codec} is not rewritten`);
      }
      const schemaPath = getSchemaPath(meta.schema, m.path_in_schema);
      const maxRep = getMaxRepetitionLevel(schemaPath);
      const maxDef = getMaxDefinitionLevel(schemaPath);
      const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
      const end = start + Number(m.total_compressed_size);
      const reader = {
        view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length),
        offset: start,
      };
      const chunkStart = out.offset;
      let uncompressed = 0;
      let dictionaryOffset: bigint | undefined;
      let dataOffset: bigint | undefined;
      while (reader.offset < end) {
        const headerStart = reader.offset;
        const header: PageHeader = parquetHeader(reader);
        const page = bytes.subarray(reader.offset, reader.offset + header.compressed_page_size);
        reader.offset += header.compressed_page_size;
        const pageStart = out.offset;
        const v2 = header.data_page_header_v2;
        if (header.type !== "DATA_PAGE_V2" || v2 === undefined) {
          if (header.type === "DICTIONARY_PAGE") dictionaryOffset = BigInt(pageStart);
          else throw new Error(`${column}: a ${header.type} page is not rewritten`);
          out.appendBytes(bytes.subarray(headerStart, reader.offset));
          uncompressed += reader.offset - headerStart - page.length +
            header.uncompressed_page_size;
          continue;
        }
        dataOffset ??= BigInt(pageStart);
        const n = v2.num_values;
        const repLen = v2.repetition_levels_byte_length;
        const defLen = v2.definition_levels_byte_length;
        const rest = page.subarray(repLen + defLen);
        const values = v2.is_compressed === false || m.codec === "UNCOMPRESSED"
          ? rest
          : decompressPage(rest, header.uncompressed_page_size - repLen - defLen, m.codec, {});
        const parts: Uint8Array[] = [];
        if (maxRep > 0) parts.push(...v1Levels(page.subarray(0, repLen), n, maxRep));
        if (maxDef > 0) parts.push(...v1Levels(page.subarray(repLen, repLen + defLen), n, maxDef));
        parts.push(values);
        const raw = concat(parts);
        options.editPage?.(raw, column, g);
        let stored = raw;
        if (m.codec === "SNAPPY") {
          scratch.reset();
          snappyCompressInto(raw, scratch);
          stored = scratch.bytes();
        }
        writePageHeader(out, {
          type: "DATA_PAGE",
          uncompressed_page_size: raw.length,
          compressed_page_size: stored.length,
          data_page_header: {
            num_values: n,
            encoding: v2.encoding,
            definition_level_encoding: "RLE",
            repetition_level_encoding: "RLE",
          },
        });
        uncompressed += out.offset - pageStart + raw.length;
        out.appendBytes(stored);
      }
      if (dataOffset === undefined) throw new Error(`${column}: no data page in row group ${g}`);
      groupUncompressed += BigInt(uncompressed);
      return {
        ...chunk,
        file_offset: BigInt(chunkStart),
        offset_index_offset: undefined,
        offset_index_length: undefined,
        column_index_offset: undefined,
        column_index_length: undefined,
        meta_data: {
          ...m,
          data_page_offset: dataOffset,
          dictionary_page_offset: dictionaryOffset,
          total_compressed_size: BigInt(out.offset - chunkStart),
          total_uncompressed_size: BigInt(uncompressed),
          statistics: m.statistics && { ...m.statistics, ...exact[g][c] },
          encoding_stats: m.encoding_stats?.map((s) =>
            s.page_type === "DATA_PAGE_V2" ? { ...s, page_type: "DATA_PAGE" } : s
          ),
        },
      };
    });
    return {
      ...group,
      columns,
      file_offset: BigInt(groupStart),
      total_byte_size: groupUncompressed,
      total_compressed_size: BigInt(out.offset - groupStart),
    };
  });
  writeMetadata(out, { ...meta, row_groups: rowGroups });
  out.appendUint32(0x31524150); // "PAR1"
  return new Uint8Array(out.buffer, 0, out.offset).slice();
}

/**
 * Per row group and column: the min/max statistics of DECIMAL columns as exact unscaled
 * bigints, read from the raw footer (hyparquet's parsed footer holds them as lossy floats).
 */
function decimalStatistics(bytes: Uint8Array): { min_value?: bigint; max_value?: bigint }[][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const length = view.getUint32(bytes.length - 8, true);
  // deno-lint-ignore no-explicit-any
  const raw: any = deserializeTCompactProtocol({ view, offset: bytes.length - 8 - length });
  const decimal = new Set<string>();
  const path: string[] = [];
  const left: number[] = [];
  // deno-lint-ignore no-explicit-any
  for (const element of raw.field_2 as any[]) {
    // A depth-first schema: field_5 is num_children, field_4 the name, field_6 converted_type.
    const name = new TextDecoder().decode(element.field_4);
    if (left.length > 0) {
      left[left.length - 1]--;
      path.push(name);
    }
    if (element.field_5 > 0) {
      left.push(element.field_5);
    } else {
      if (element.field_6 === 5) decimal.add(path.join(".")); // DECIMAL
      path.pop();
      while (left.length > 0 && left[left.length - 1] === 0) {
        left.pop();
        path.pop();
      }
    }
  }
  const signed = (b: Uint8Array | undefined) => {
    if (b === undefined) return undefined;
    let v = 0n;
    for (const x of b) v = (v << 8n) | BigInt(x);
    return b.length > 0 && b[0] >= 0x80 ? v - (1n << BigInt(8 * b.length)) : v;
  };
  // deno-lint-ignore no-explicit-any
  return raw.field_4.map((group: any) =>
    // deno-lint-ignore no-explicit-any
    group.field_1.map((chunk: any) => {
      const m = chunk.field_3;
      const column = m.field_3.map((p: Uint8Array) => new TextDecoder().decode(p)).join(".");
      if (!decimal.has(column) || m.field_12 === undefined) return {};
      return { min_value: signed(m.field_12.field_6), max_value: signed(m.field_12.field_5) };
    })
  );
}

/**
 * V2 levels (RLE/bit-packed hybrid without a length) as v1 levels: a 4-byte little-endian
 * length, then the runs. Empty V2 levels (none stored: every level is `max`) become one RLE run.
 */
function v1Levels(levels: Uint8Array, count: number, max: number): Uint8Array[] {
  let runs = levels;
  if (runs.length === 0 && count > 0) {
    const header: number[] = [];
    for (let v = count << 1;; v >>>= 7) {
      if (v < 0x80) {
        header.push(v);
        break;
      }
      header.push((v & 0x7f) | 0x80);
    }
    const width = 32 - Math.clz32(max);
    const value = new Array((width + 7) >> 3).fill(0).map((_, i) => (max >> (8 * i)) & 0xff);
    runs = new Uint8Array([...header, ...value]);
  }
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, runs.length, true);
  return [length, runs];
}

/**
 * Test helper: the `is_compressed` flag of each DATA_PAGE_V2 of one column chunk, read from
 * the page headers (hyparquet's metadata does not go down to pages).
 *
 * @module
 */

import { type PageHeader, parquetMetadata } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";

/**
 * Per row group of the file `bytes`: the `is_compressed` flag of each data page of the column
 * at dotted path `column` (e.g. `"insert_id"`, `"identifiers.key_value.value"`), checking that
 * the chunk's codec is SNAPPY.
 */
export function dataPageCompression(bytes: Uint8Array, column: string): boolean[][] {
  const meta = parquetMetadata(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
  );
  return meta.row_groups.map((group) => {
    const chunk = group.columns.find((c) => c.meta_data!.path_in_schema.join(".") === column);
    if (chunk === undefined) throw new Error(`No column ${column} in the file`);
    const m = chunk.meta_data!;
    if (m.codec !== "SNAPPY") throw new Error(`${column}: codec ${m.codec}, not SNAPPY`);
    const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
    const reader = {
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length),
      offset: start,
    };
    const flags: boolean[] = [];
    while (reader.offset < start + Number(m.total_compressed_size)) {
      const header: PageHeader = parquetHeader(reader);
      if (header.data_page_header_v2) flags.push(header.data_page_header_v2.is_compressed ?? true);
      reader.offset += header.compressed_page_size;
    }
    return flags;
  });
}

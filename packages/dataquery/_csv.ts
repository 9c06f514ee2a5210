/**
 * RFC 4180 CSV encoding of result rows.
 *
 * Records end in CRLF. A field is quoted when it contains `"`, `,`, CR or LF, or when it is the
 * empty string; quotes inside are doubled. SQL NULL is the empty UNQUOTED field, so a reader can
 * tell NULL (`a,,b`) from the empty string (`a,"",b`).
 *
 * @module
 */

const NEEDS_QUOTES = /[",\r\n]/;

/** Encodes one field. */
export function csvField(value: string | null): string {
  if (value === null) return "";
  if (value === "") return '""';
  if (!NEEDS_QUOTES.test(value)) return value;
  return `"${value.replaceAll('"', '""')}"`;
}

/** Encodes one record, CRLF included. */
export function csvRecord(values: readonly (string | null)[]): string {
  let line = "";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += ",";
    line += csvField(values[i]);
  }
  return line + "\r\n";
}

/** Encodes a batch of records into one string. */
export function csvRecords(rows: readonly (readonly (string | null)[])[]): string {
  let out = "";
  for (const row of rows) out += csvRecord(row);
  return out;
}

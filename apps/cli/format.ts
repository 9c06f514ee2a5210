/**
 * Small text-layout helpers for human output: aligned tables, byte sizes, counts.
 *
 * @module
 */

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Width of `text` on a terminal, ignoring colour escapes: East Asian wide characters (Hangul,
 * CJK, fullwidth forms) and emoji take two columns, combining marks none.
 *
 * @example
 * ```ts
 * import { visibleWidth } from "./format.ts";
 * console.log(visibleWidth("\x1b[1mab\x1b[22m")); // 2
 * console.log(visibleWidth("장바구니")); // 8
 * ```
 */
export function visibleWidth(text: string): number {
  let width = 0;
  for (const ch of text.replace(ANSI, "")) width += charWidth(ch.codePointAt(0)!);
  return width;
}

/** Terminal columns of one code point (a compact subset of Unicode's East Asian Width). */
function charWidth(cp: number): number {
  if (cp < 0x300) return 1;
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfe0f) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd)
  ) return 2;
  return 1;
}

/** Options of {@linkcode formatTable}. */
export interface FormatTableOptions {
  /** Spaces between columns (default 2). */
  gap?: number;
  /** Prefix of every line (default none). */
  indent?: string;
  /** Columns (by index) aligned right, e.g. numbers. */
  alignRight?: readonly number[];
}

/**
 * Lays out rows as aligned columns; the last column is not padded.
 *
 * @example
 * ```ts
 * import { formatTable } from "./format.ts";
 * console.log(formatTable([["a", "1"], ["bbb", "22"]]));
 * // a    1
 * // bbb  22
 * ```
 */
export function formatTable(
  rows: readonly (readonly string[])[],
  options: FormatTableOptions = {},
): string {
  const gap = " ".repeat(options.gap ?? 2);
  const indent = options.indent ?? "";
  const right = new Set(options.alignRight ?? []);
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, visibleWidth(cell)));
  }
  return rows.map((row) =>
    indent + row.map((cell, i) => {
      const pad = " ".repeat(widths[i] - visibleWidth(cell));
      if (right.has(i)) return pad + cell;
      return i === row.length - 1 ? cell : cell + pad;
    }).join(gap).trimEnd()
  ).join("\n");
}

/**
 * A count with thousands separators.
 *
 * @example
 * ```ts
 * import { formatCount } from "./format.ts";
 * console.log(formatCount(1234567)); // "1,234,567"
 * ```
 */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/**
 * A byte size in binary units, e.g. `1.5 KiB`; bytes below 1 KiB stay exact.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./format.ts";
 * console.log(formatBytes(1536)); // "1.5 KiB"
 * ```
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${
    value >= 100
      ? value.toFixed(0)
      : value >= 10
      ? value.toFixed(1)
      : value.toFixed(2).replace(/0$/, "")
  } ${units[unit]}`;
}

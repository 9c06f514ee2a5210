/**
 * Exact DECIMAL(24,6) arithmetic-free conversions: text ⇄ unscaled bigint ⇄ big-endian bytes.
 *
 * A JS number cannot hold 18 integer digits plus 6 fraction digits, so eventlake
 * carries `metric_value` as the unscaled bigint (value × 10^6) end to end.
 *
 * @module
 */

const SCALE = 6;
const SCALE_FACTOR = 1_000_000n;
/** Largest unscaled magnitude of DECIMAL(24,6): 18 nines then 6 nines. */
export const DECIMAL_MAX_UNSCALED: bigint = 10n ** 24n - 1n;

const DECIMAL_RE = /^([+-]?)(\d+)(?:\.(\d*))?$|^([+-]?)\.(\d+)$/;

/** Why a decimal text was refused. */
export type DecimalProblem = "syntax" | "scale" | "precision";

/** The result of {@linkcode parseDecimal}: the unscaled value, or why it was refused. */
export type DecimalParse =
  | { ok: true; value: bigint }
  | { ok: false; problem: DecimalProblem };

/**
 * Parses a decimal text (`"-12.5"`, `"0.0"`, `"1e3"` is refused) into the unscaled DECIMAL(24,6) value.
 * More than 6 fraction digits or more than 18 integer digits is refused, never rounded.
 *
 * @example
 * ```ts
 * import { parseDecimal } from "@eventlake/schema";
 * console.log(parseDecimal("123.45")); // { ok: true, value: 123450000n }
 * console.log(parseDecimal("0.0000001")); // { ok: false, problem: "scale" }
 * ```
 */
export function parseDecimal(text: string): DecimalParse {
  const m = DECIMAL_RE.exec(text.trim());
  if (m === null) return { ok: false, problem: "syntax" };
  const sign = m[1] ?? m[4] ?? "";
  let intPart = m[2] ?? "0";
  let frac = m[3] ?? m[5] ?? "";
  // Trailing zeros of the fraction carry no value: "1.5000000" is exact at scale 6.
  frac = frac.replace(/0+$/, "");
  if (frac.length > SCALE) return { ok: false, problem: "scale" };
  intPart = intPart.replace(/^0+(?=\d)/, "");
  if (intPart.length > 24 - SCALE) return { ok: false, problem: "precision" };
  const unscaled = BigInt(intPart) * SCALE_FACTOR + BigInt(frac.padEnd(SCALE, "0") || "0");
  return { ok: true, value: sign === "-" ? -unscaled : unscaled };
}

/**
 * Formats an unscaled DECIMAL(24,6) value with exactly 6 fraction digits, as DuckDB's `::VARCHAR` does.
 *
 * @example
 * ```ts
 * import { formatDecimal } from "@eventlake/schema";
 * console.log(formatDecimal(-1n)); // "-0.000001"
 * ```
 */
export function formatDecimal(unscaled: bigint): string {
  const negative = unscaled < 0n;
  const abs = negative ? -unscaled : unscaled;
  const int = abs / SCALE_FACTOR;
  const frac = (abs % SCALE_FACTOR).toString().padStart(SCALE, "0");
  return `${negative ? "-" : ""}${int}.${frac}`;
}

/**
 * Encodes an unscaled value as big-endian two's complement in `width` bytes
 * (11 for our FIXED_LEN_BYTE_ARRAY, 16 as DuckDB writes it).
 *
 * @example
 * ```ts
 * import { decodeDecimalBytes, encodeDecimalBytes } from "@eventlake/schema";
 * const bytes = encodeDecimalBytes(-1n, 11);
 * console.log(decodeDecimalBytes(bytes)); // -1n
 * ```
 */
export function encodeDecimalBytes(unscaled: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width);
  let v = BigInt.asUintN(width * 8, unscaled);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * Decodes big-endian two's complement bytes (any width) into the unscaled value.
 *
 * @example
 * ```ts
 * import { decodeDecimalBytes } from "@eventlake/schema";
 * console.log(decodeDecimalBytes(new Uint8Array([0xff, 0xff]))); // -1n
 * ```
 */
export function decodeDecimalBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  // Read 6 bytes at a time through Number to keep bigint work small.
  let i = 0;
  const n = bytes.length;
  for (; i + 6 <= n; i += 6) {
    const chunk = bytes[i] * 0x10000000000 + bytes[i + 1] * 0x100000000 +
      bytes[i + 2] * 0x1000000 + bytes[i + 3] * 0x10000 + bytes[i + 4] * 0x100 + bytes[i + 5];
    v = (v << 48n) | BigInt(chunk);
  }
  for (; i < n; i++) v = (v << 8n) | BigInt(bytes[i]);
  return BigInt.asIntN(n * 8, v);
}

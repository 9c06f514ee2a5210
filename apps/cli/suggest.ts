/**
 * "Did you mean …?" hints by edit distance.
 *
 * @module
 */

/**
 * Levenshtein distance between two strings (insertions, deletions, substitutions; adjacent
 * transpositions count as one edit).
 *
 * @example
 * ```ts
 * import { editDistance } from "./suggest.ts";
 * console.log(editDistance("inspcet", "inspect")); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  // Optimal string alignment distance, two rows back are enough.
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, prev2[j - 2] + 1);
      }
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The candidates closest to `input`, best first: those within a third of the input's length
 * (at least 1, at most 3 edits), or that start with it.
 *
 * @example
 * ```ts
 * import { suggest } from "./suggest.ts";
 * console.log(suggest("inpsect", ["inspect", "config", "help"])); // [ "inspect" ]
 * ```
 */
export function suggest(input: string, candidates: Iterable<string>): string[] {
  const limit = Math.min(3, Math.max(1, Math.floor(input.length / 3)));
  const scored: { name: string; distance: number }[] = [];
  for (const name of candidates) {
    const distance = editDistance(input.toLowerCase(), name.toLowerCase());
    if (distance <= limit || (input.length >= 2 && name.startsWith(input))) {
      scored.push({ name, distance });
    }
  }
  scored.sort((x, y) => x.distance - y.distance || x.name.localeCompare(y.name));
  return scored.map((s) => s.name);
}

/**
 * A hint sentence for an unknown name, or `undefined` when nothing is close.
 *
 * @example
 * ```ts
 * import { didYouMean } from "./suggest.ts";
 * console.log(didYouMean("--jsn", ["--json", "--help"])); // 'Did you mean "--json"?'
 * ```
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const found = suggest(input, candidates).slice(0, 3);
  if (found.length === 0) return undefined;
  return `Did you mean ${found.map((s) => `"${s}"`).join(" or ")}?`;
}

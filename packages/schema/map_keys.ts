/**
 * Map keys are stored lowercase ("키 값은 Lowercase 로 저장됩니다").
 *
 * @module
 */

import type { Problem } from "./problem.ts";
import { normaliseMap } from "./_fields.ts";

/** The result of {@linkcode normaliseMapKeys}: a new map with lowercase keys, or the problems. */
export type MapKeysResult<V> =
  | { ok: true; map: Record<string, V> }
  | { ok: false; problems: Problem[] };

/** Options of {@linkcode normaliseMapKeys}. */
export interface NormaliseMapKeysOptions {
  /** Path of the map in its record, used in problems (`"identifiers"`); default `""`. */
  path?: string;
}

/**
 * Returns a new map whose keys are lowercased; values are kept as they are. Two keys that differ
 * only in case (`"Device_ID"` and `"device_id"`) are refused with a problem naming both, since
 * one value would silently replace the other; an empty key is refused too.
 *
 * @example
 * ```ts
 * import { normaliseMapKeys } from "@eventlake/schema";
 * console.log(normaliseMapKeys({ OSName: "iOS" })); // { ok: true, map: { osname: "iOS" } }
 * const clash = normaliseMapKeys({ Id: "a", id: "b" }, { path: "identifiers" });
 * if (!clash.ok) console.log(clash.problems[0].message);
 * // 'Keys "Id" and "id" of identifiers differ only in case: keys are stored lowercase, send one of them'
 * ```
 */
export function normaliseMapKeys<V>(
  map: Readonly<Record<string, V>>,
  options: NormaliseMapKeysOptions = {},
): MapKeysResult<V> {
  const path = options.path ?? "";
  const problems: Problem[] = [];
  const out = normaliseMap(map, path, (problem) => problems.push(problem), undefined);
  return problems.length === 0 ? { ok: true, map: out } : { ok: false, problems };
}

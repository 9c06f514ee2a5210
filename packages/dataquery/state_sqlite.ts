/**
 * The default query state: SQLite (`node:sqlite`), WAL mode, one file (by default
 * `$EVENTLAKE_HOME/dataquery.sqlite`). Not for edge runtimes: they have no filesystem.
 *
 * @module
 */
import type { QueryStateStore } from "./state.ts";
import { StateStore } from "./_state.ts";

/**
 * Opens (creating and migrating as needed) the SQLite state at `path` (`:memory:` for a
 * throwaway one). What `createQueryService({ statePath })` opens.
 *
 * @example
 * ```ts
 * import { createSqliteState } from "@eventlake/dataquery";
 * const state = createSqliteState(":memory:");
 * state.setSetting("greeting", "hello");
 * console.log(state.getSetting("greeting")); // "hello"
 * await state.close();
 * ```
 */
export function createSqliteState(path: string): QueryStateStore {
  return new StateStore(path);
}

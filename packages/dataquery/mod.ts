/**
 * `@eventlake/dataquery` — the Data Query service: an Athena-style asynchronous SQL service over
 * the event lake that Data Import lands (and over MySQL data sources). A client submits a query,
 * polls its state, reads its first 1,000 rows in pages of 100, lists and aborts queries and
 * manages data sources; every result is also written to an object-storage bucket as a `.csv`
 * plus a `.metadata` file. There is no HTTP here: the service's methods return objects in the
 * JSON shapes of the KakaoCloud Data Query Open API, and the gateway app only serialises them.
 * Queries run on a {@linkcode QueryEngine}: embedded DuckDB by default, Trino to scale out.
 *
 * - Service: {@linkcode createQueryService} returns a {@linkcode QueryService} (`submit`,
 *   `get`, `list`, `abort`, `settled`, data sources, credentials); request bodies are checked
 *   by {@linkcode parseSubmitRequest} and {@linkcode parseCreateDataSourceRequest}; statistics
 *   are formatted by {@linkcode formatBytes} and {@linkcode formatDuration}.
 * - Engines: {@linkcode createDuckDbEngine} ({@linkcode DuckDbEngine}; its lake must be a local
 *   folder) and {@linkcode createTrinoEngine} ({@linkcode TrinoEngine}).
 * - State (queries, data sources, credentials): SQLite by default (`statePath`, or
 *   {@linkcode createSqliteState}), {@linkcode createMemoryState},
 *   {@linkcode createObjectStoreState} (in a bucket, for runtimes without a file system).
 * - Result buckets: {@linkcode createStaticBucketResolver} (named stores) and
 *   {@linkcode createLocalBucketResolver} (every folder under a root is a bucket).
 *
 * Sub-path entries: `@eventlake/dataquery/duckdb` and `@eventlake/dataquery/trino` (one engine
 * each), and `@eventlake/dataquery/service` (the service, the memory and object-store states,
 * the static bucket resolver, request validation and formats, without the DuckDB engine or
 * local-folder code: what the gateway's edge entry imports).
 *
 * @example Run a query on embedded DuckDB and read its result
 * ```ts
 * import { createMemoryStore } from "@eventlake/storage";
 * import {
 *   createDuckDbEngine,
 *   createQueryService,
 *   createStaticBucketResolver,
 * } from "@eventlake/dataquery";
 * const home = await Deno.makeTempDir();
 * const engine = await createDuckDbEngine({ home, threads: 1 });
 * const results = createMemoryStore();
 * const service = createQueryService({
 *   engine,
 *   statePath: ":memory:",
 *   buckets: createStaticBucketResolver({ results }),
 *   encryptionKey: "0123456789abcdef0123456789abcdef",
 * });
 * const { credentialId, credentialSecret } = await service.createCredential("me@example.com");
 * const me = await service.authenticate(credentialId, credentialSecret);
 *
 * const { queryInfo } = await service.submit(me, {
 *   query: "SELECT * FROM (VALUES ('login', 3), ('purchase', 2)) t(event_key, n) ORDER BY n DESC",
 *   resultConfig: { bucketName: "results", path: "demo" },
 * });
 * console.log(queryInfo.state); // "QUEUED"
 * console.log(await service.settled(queryInfo.queryId)); // "FINISHED"
 * const result = await service.get(me, queryInfo.queryId, { page: 0 });
 * const columns = result.columnData.map((c) => `${c.name} ${c.type}`);
 * console.log(columns); // [ "event_key varchar", "n integer" ]
 * console.log(result.queryData); // [ [ "login", "3" ], [ "purchase", "2" ] ]
 *
 * // The result is in the bucket too: `demo/YYYY/MM/DD/<queryId>.csv` and `.metadata`.
 * const csv = await results.read(`${result.resultConfig.path}/${queryInfo.queryId}.csv`);
 * const text = new TextDecoder().decode(csv);
 * console.log(JSON.stringify(text)); // "event_key,n\r\nlogin,3\r\npurchase,2\r\n" (CRLF lines)
 * await service.close();
 * await engine.close();
 * await Deno.remove(home, { recursive: true });
 * ```
 *
 * @module
 */
export type * from "./engine.ts";
export * from "./service.ts";
export * from "./state_sqlite.ts";
export * from "./request.ts";
export * from "./buckets.ts";
export * from "./local_buckets.ts";
export * from "./format.ts";
export { createDuckDbEngine, DuckDbEngine, type DuckDbEngineOptions } from "./duckdb.ts";
export * from "./trino.ts";

/**
 * `@eventlake/parquet` — write and read Data Import event files in Parquet: the one exact schema
 * (`insert_id`, `event_key`, `ts` TIMESTAMP(MILLIS), `metric_value` DECIMAL(24,6) and the four
 * `MAP<STRING, STRING>` columns) that producers deliver, one partition a day, and that the
 * importer reads and lands. The writer streams with bounded memory (one row group at a time);
 * the reader fetches a file by ranges through a {@linkcode ByteSource}, decodes `metric_value`
 * exactly as a `bigint` and tolerates the variants other writers produce (reported through
 * `onVariant`), refusing a file of another schema before yielding any event.
 *
 * - Writing: {@linkcode writeEvents} (an iterable of events into a `WritableStream`),
 *   {@linkcode EventBatchWriter} (append events one at a time), {@linkcode WriteSummary}; with
 *   `worker: true` a Web Worker encodes while this thread shreds the next row group, and a
 *   {@linkcode WriteWorkerPool} (a {@linkcode WorkerPool}) keeps that worker warm from file to file.
 * - Reading: {@linkcode readEvents} (one event at a time), {@linkcode readEventBatches}
 *   (arrays of events), {@linkcode inspectParquet} (schema, row groups, codecs, `ts` range and
 *   whether the file is exactly our format).
 * - Byte sources: {@linkcode bytesSource} (bytes in memory), {@linkcode fileSource} (a local
 *   file); any object with a `size` and a ranged `read` is a {@linkcode ByteSource} (the
 *   importer reads object-store keys that way).
 *
 * A second entry, `@eventlake/parquet/transcode` (`openTranscode`, `TranscodeWriter`), is the
 * importer's columnar fast path: it rewrites row groups already in the exact schema without
 * building an event per row.
 *
 * @example Write two events to memory and read them back
 * ```ts
 * import { formatDecimal } from "@eventlake/schema";
 * import { bytesSource, readEvents, writeEvents } from "@eventlake/parquet";
 * const event = {
 *   ts: Date.UTC(2023, 0, 1, 0, 1, 2, 333), event_key: "purchase",
 *   insert_id: "8fb8e088-9245-4fce-bb87-7e09d9917ed6", metric_value: 91063820000n,
 *   identifiers: { id: "u-1", device_id: "89ABCDEF-01234567-89ABCDEF" },
 *   event_properties: { product_id: "33537" }, user_properties: { grade: "GOLD" },
 *   platform_properties: { osname: "Android", appversion: "6.9.0" },
 * };
 * // Collect the file in memory: write into a pipe and read its other end at the same time.
 * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
 * const [summary, bytes] = await Promise.all([
 *   writeEvents(
 *     [event, { ...event, insert_id: "0a4e3f5c-2b1d-4c6e-9f8a-7b6c5d4e3f2a", metric_value: 0n }],
 *     writable,
 *   ),
 *   new Response(readable).bytes(),
 * ]);
 * console.log(summary.rows, summary.rowGroups, summary.bytes === bytes.length); // 2 1 true
 *
 * const read = await Array.fromAsync(readEvents(bytesSource(bytes)));
 * console.log(read.length); // 2
 * console.log(formatDecimal(read[0].metric_value)); // "91063.820000"
 * console.log(new Date(read[0].ts).toISOString()); // "2023-01-01T00:01:02.333Z"
 * ```
 *
 * @module
 */
export * from "./source.ts";
export * from "./file_source.ts";
export * from "./read.ts";
export * from "./inspect.ts";
export * from "./write.ts";
export { WriteWorkerPool, type WriteWorkerPoolOptions } from "./_write_pipeline.ts";
export { WorkerPool } from "./worker_pool.ts";

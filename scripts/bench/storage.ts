/**
 * Storage benchmark: upload and download MB/s of a large object through each backend, against
 * a plain file copy on the same disk (the ceiling) measured in the same run, with the peak RSS
 * during each transfer (streaming: it must not grow with the object size). Each backend is
 * measured two ways: the file transfer (`uploadFile` / `downloadFile`: a local file to a key and
 * back) and the stream transfer (`write(key, file.readable)` / `readStream(key)` written chunk
 * by chunk into a file). The report ends with the issue's target: the local store's file
 * transfer ≥ 0.8× `Deno.copyFile` (the plain copy `cp` does).
 *
 *     deno run -A scripts/bench/storage.ts [--mb 256] [--small-mb 64] [--reps 3] [--only local]
 *       [--in-process]
 *
 * The local backends run in this process, interleaved with the ceilings rep by rep. A backend
 * with `connect` (S3, GCS) has its server started here, and each of its transfers runs in a
 * child process of its own (this script again, with `--child`) that connects to it: the peak
 * RSS is then that of one transfer, not what the ceilings, the other transfers and seeding the
 * object left behind. `--in-process` runs them here instead.
 *
 * Backends: `local` is built in. Another backend hooks in with one small module
 * `scripts/bench/_storage_<name>.ts` (the leading `_` keeps `run.ts` from running it alone)
 * that exports `backend: StorageBenchBackend`; this script finds and runs it, e.g.
 *
 * ```ts ignore
 * import type { StorageBenchBackend } from "./storage.ts";
 * export const backend: StorageBenchBackend = {
 *   name: "s3 (Swift s3api)",
 *   async open() {
 *     const server = await startServer(); // or return "why it is skipped"
 *     const connection = { endpoint: server.endpoint };
 *     return { store: connect(connection), prefix: "bench/", connection, close: () => server.stop() };
 *   },
 *   // Optional: reach the same server from a child process, one per transfer.
 *   connect: (connection) => createS3Store({ ... }),
 * };
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cpuUsage } from "node:process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createLocalStore, downloadFile, type ObjectStore, uploadFile } from "@eventlake/storage";
import { runChildMeasured } from "./_child.ts";

/** A store to benchmark, opened once per run. */
export interface OpenedBenchStore {
  /** The store. */
  store: ObjectStore;
  /** Key prefix to work under (deleted afterwards). */
  prefix?: string;
  /** Stops servers, removes folders. */
  close(): Promise<void>;
  /** JSON-able facts (an endpoint, a bucket) with which `connect` reaches this store from another process. */
  connection?: unknown;
}

/** One backend of the storage benchmark. */
export interface StorageBenchBackend {
  /** Name in the report, e.g. `local (durable)`. */
  name: string;
  /** Largest object the backend takes (e.g. an emulator's body limit); larger sizes are skipped. */
  maxBytes?: number;
  /** Opens the store, or returns the reason the backend is skipped (printed in the report). */
  open(): Promise<OpenedBenchStore | string>;
  /**
   * Reaches the store `open` opened, from a child process, by its `connection`. With it each
   * transfer is measured in a child process of its own (see the module doc).
   */
  connect?(connection: unknown): ObjectStore;
}

const MB = 2 ** 20;

/** The measurements of one backend, each taken once per repetition. */
const TRANSFERS = ["file up", "file down", "stream up", "stream down"] as const;
type Transfer = typeof TRANSFERS[number];

function localBackend(name: string, durable: boolean): StorageBenchBackend & { local: true } {
  return {
    local: true,
    name,
    async open() {
      const root = await Deno.makeTempDir({ dir: benchDir, prefix: "store-" });
      return {
        store: createLocalStore(root, { durable }),
        close: () => Deno.remove(root, { recursive: true }),
      };
    },
  };
}

let benchDir = "";

/** Runs the benchmark and returns its Markdown section. */
export async function bench(args: string[] = []): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      mb: { type: "string", default: Deno.env.get("EVENTLAKE_BENCH_MB") ?? "256" },
      "small-mb": { type: "string", default: "64" },
      reps: { type: "string", default: "3" },
      only: { type: "string", multiple: true },
      "in-process": { type: "boolean", default: false },
      // Internal, for a child process: one transfer of `--source` to or from `--key`.
      child: { type: "string" },
      connection: { type: "string" },
      transfer: { type: "string" },
      key: { type: "string" },
      source: { type: "string" },
      dir: { type: "string" },
    },
  });
  const reps = Math.max(1, Number(values.reps));
  const here = dirname(fileURLToPath(import.meta.url));
  if (values.child !== undefined) {
    // A child: one transfer through a store another process opened; prints its sample.
    benchDir = values.dir!;
    const backend = (await discoverBackends(here)).find((b) => b.name === values.child);
    if (!backend?.connect) throw new Error(`No storage bench backend "${values.child}" to connect`);
    const store = backend.connect(JSON.parse(values.connection!));
    try {
      const sample = await runTransfer(
        store,
        values.transfer as Transfer,
        values.key!,
        values.source!,
      );
      return JSON.stringify(sample);
    } finally {
      await store.close();
    }
  }
  const sizes = [...new Set([Number(values["small-mb"]), Number(values.mb)])]
    .filter((n) => n > 0).sort((a, b) => a - b).map((n) => n * MB);
  // The working folder sits on the same disk as the checkout, so the copy and the store compare fairly.
  const parent = join(here, "..", "..", ".artifacts");
  await Deno.mkdir(parent, { recursive: true });
  benchDir = await Deno.makeTempDir({ dir: parent, prefix: "bench-storage-" });

  const backends: StorageBenchBackend[] = [
    localBackend("local (durable: fsync, default)", true),
    localBackend("local (durable: false)", false),
    ...await discoverBackends(here),
  ].filter((b) => !values.only?.length || values.only.some((o) => b.name.startsWith(o)));
  const isolated = (b: StorageBenchBackend) => !values["in-process"] && b.connect !== undefined;

  const lines: string[] = [
    "## Storage: upload/download of one large object",
    "",
    "Command: `deno run -A scripts/bench/storage.ts" +
    (args.length ? ` ${args.join(" ")}` : "") + "` " +
    `(median of ${reps}; all rows measured in this run; MB = 2^20 bytes).`,
    "Ceilings, same file, same disk: `Deno.copyFile` (an in-kernel copy) and a streaming copy " +
    "through JS (read 1 MiB chunks, write each), each also with `fsync`. File transfer = " +
    "`uploadFile(store, key, path)` / `downloadFile(store, key, path)`; stream transfer = " +
    "`store.write(key, file.readable)` / `store.readStream(key)` " +
    "written chunk by chunk into a file. CPU ms/MB is the process's user + system time per MB " +
    "(less sensitive than wall time to other load on a shared machine). Peak RSS (the process, " +
    "sampled every 10 ms; for a backend in a child process also the child's whole-life peak " +
    "from `/usr/bin/time`) must not grow with the size.",
    "",
    "| backend | transfer | size | upload MB/s | × stream copy | × copyFile | download MB/s | × stream copy | × copyFile | CPU ms/MB up / down | peak RSS up / down |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const notes: string[] = [];
  const targets: string[] = [];
  try {
    for (const size of sizes) {
      const source = join(benchDir, `source-${size}.bin`);
      await makeSource(source, size);
      const fits = backends.filter((backend) => {
        if (backend.maxBytes === undefined || size <= backend.maxBytes) return true;
        notes.push(`${backend.name}: ${size / MB} MB skipped (limit ${backend.maxBytes / MB} MB).`);
        return false;
      });
      const opened: { backend: StorageBenchBackend; store: OpenedBenchStore }[] = [];
      for (const backend of fits) {
        const store = await backend.open();
        if (typeof store === "string") {
          if (size === sizes[0]) notes.push(`${backend.name}: skipped — ${store}.`);
          continue;
        }
        opened.push({ backend, store });
      }
      // Every repetition measures every row once, so a change of load on this shared machine
      // hits the ceilings and the backends alike; each row reports its median.
      const samples = new Map<string, Sample[]>();
      const add = (id: string, sample: Sample) =>
        samples.set(id, [...samples.get(id) ?? [], sample]);
      const childPeaks = new Map<string, number>();
      try {
        for (let rep = 0; rep < reps; rep++) {
          add("copy", await timeCopy(source, false));
          add("copySync", await timeCopy(source, true));
          add("stream", await timeStreamCopy(source, false));
          add("streamSync", await timeStreamCopy(source, true));
          for (const { backend, store } of opened) {
            const key = `${store.prefix ?? ""}bench/object.bin`;
            try {
              for (const t of TRANSFERS) {
                if (!isolated(backend)) {
                  add(`${backend.name} ${t}`, await runTransfer(store.store, t, key, source));
                  continue;
                }
                const child = await runChildMeasured(import.meta.url, [
                  ...["--child", backend.name, "--transfer", t, "--key", key],
                  ...["--connection", JSON.stringify(store.connection)],
                  ...["--source", source, "--dir", benchDir],
                ]);
                add(`${backend.name} ${t}`, JSON.parse(child.stdout.trim().split("\n").pop()!));
                const id = `${backend.name} ${t}`;
                childPeaks.set(id, Math.max(childPeaks.get(id) ?? 0, child.rss));
              }
            } finally {
              await store.store.delete(key).catch(() => {});
            }
          }
        }
      } finally {
        for (const { store } of opened) {
          await store.store.close();
          await store.close();
        }
      }
      const med = (id: string) => median(samples.get(id)!);
      const [copy, copySync, stream, streamSync] = ["copy", "copySync", "stream", "streamSync"]
        .map(med);
      const ratio = (base: Sample, s: Sample) => (base.ms / s.ms).toFixed(2);
      const row = (name: string, s: Sample) =>
        `| ${name} | — | ${size / MB} MB | ${mbps(size, s.ms)} | ${ratio(stream, s)} | ` +
        `${ratio(copy, s)} | — | — | — | ${perMB(s, size)} | ${rss(s.peak)} |`;
      lines.push(
        row("ceiling: `Deno.copyFile`", copy),
        row("ceiling: `Deno.copyFile` + fsync", copySync),
        row("ceiling: streaming copy (1 MiB chunks)", stream),
        row("ceiling: streaming copy + fsync", streamSync),
      );
      for (const backend of fits) {
        if (!samples.has(`${backend.name} file up`)) continue;
        const [fileUp, fileDown, streamUp, streamDown] = TRANSFERS.map((t) =>
          med(`${backend.name} ${t}`)
        );
        // What fsyncs is compared with the copies that fsync too: a durable store's uploads
        // (file and stream) and its file downloads, and every other store's file downloads
        // (downloadFile fsyncs by default). Stream downloads write without fsync.
        const durable = backend.name.includes("fsync");
        const isLocal = "local" in backend;
        const up = durable ? [streamSync, copySync] : [stream, copy];
        const downFile = durable || !isLocal ? [streamSync, copySync] : [stream, copy];
        const peak = (s: Sample, t: Transfer) => {
          const child = childPeaks.get(`${backend.name} ${t}`);
          return rss(s.peak) + (child === undefined ? "" : ` (child ${rss(child)})`);
        };
        const line = (transfer: "file" | "stream", u: Sample, d: Sample, down: Sample[]) =>
          `| ${backend.name} | ${transfer} | ${size / MB} MB | ${mbps(size, u.ms)} | ` +
          `${ratio(up[0], u)} | ${ratio(up[1], u)} | ${mbps(size, d.ms)} | ` +
          `${ratio(down[0], d)} | ${ratio(down[1], d)} | ` +
          `${perMB(u, size)} / ${perMB(d, size)} | ${peak(u, `${transfer} up`)} / ` +
          `${peak(d, `${transfer} down`)} |`;
        lines.push(
          line("file", fileUp, fileDown, downFile),
          line("stream", streamUp, streamDown, [stream, copy]),
        );
        if (isLocal) {
          targets.push(
            `${backend.name}, ${size / MB} MB, file transfer: upload ${ratio(up[1], fileUp)}×, ` +
              `download ${ratio(downFile[1], fileDown)}× \`Deno.copyFile\`` +
              `${durable ? " + fsync" : ""} (target ≥ 0.8×: ` +
              `${
                Math.min(up[1].ms / fileUp.ms, downFile[1].ms / fileDown.ms) >= 0.8
                  ? "met"
                  : "not met"
              }).`,
          );
        }
      }
      await Deno.remove(source);
    }
  } finally {
    await Deno.remove(benchDir, { recursive: true }).catch(() => {});
  }
  lines.push(
    "",
    "A ratio is the ceiling's time over the backend's (1.00 = as fast as the copy). Rows that " +
      "fsync (a durable store's uploads and file downloads; `downloadFile` of the other stores, " +
      "which fsyncs by default) are compared with the copies + fsync, the others with the plain copies.",
    "",
    "Target (issue 3): the local store's file transfer ≥ 0.8× `Deno.copyFile` (a plain file copy):",
    ...targets.map((t) => `- ${t}`),
    ...notes.map((n) => `- ${n}`),
  );
  return lines.join("\n");
}

/**
 * Measures one transfer between `source` and `key`: an upload writes the key, a download reads
 * it (written by the upload before it) into a file, checked for its size and removed.
 */
async function runTransfer(
  store: ObjectStore,
  transfer: Transfer,
  key: string,
  source: string,
): Promise<Sample> {
  const target = join(benchDir, "download.bin");
  try {
    switch (transfer) {
      case "file up":
        return await measure(() => uploadFile(store, key, source).then(() => {}));
      case "stream up":
        return await timeUpload(store, key, source);
      case "file down": {
        const sample = await measure(() => downloadFile(store, key, target).then(() => {}));
        await checkSize(target, source);
        return sample;
      }
      case "stream down": {
        const sample = await timeDownload(store, key, target);
        await checkSize(target, source);
        return sample;
      }
    }
  } finally {
    await Deno.remove(target).catch(() => {});
  }
}

async function checkSize(target: string, source: string): Promise<void> {
  const [a, b] = [(await Deno.stat(target)).size, (await Deno.stat(source)).size];
  if (a !== b) throw new Error(`Downloaded ${a} bytes of a ${b}-byte object`);
}

async function discoverBackends(here: string): Promise<StorageBenchBackend[]> {
  const found: StorageBenchBackend[] = [];
  const names: string[] = [];
  for await (const e of Deno.readDir(here)) {
    if (e.isFile && /^_storage_[a-z0-9_]+\.ts$/.test(e.name)) names.push(e.name);
  }
  for (const name of names.sort()) {
    const mod = await import(pathToFileURL(join(here, name)).href);
    if (mod.backend) found.push(mod.backend as StorageBenchBackend);
  }
  return found;
}

interface Sample {
  /** Wall-clock time. */
  ms: number;
  /** CPU time (user + system, all threads) of this process: steadier than wall time under load. */
  cpu: number;
  /** Peak RSS. */
  peak: number;
}

function median(samples: Sample[]): Sample {
  const mid = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return {
    ms: mid(samples.map((s) => s.ms)),
    cpu: mid(samples.map((s) => s.cpu)),
    peak: Math.max(...samples.map((s) => s.peak)),
  };
}

/** Flushes dirty pages (`sync`), so no measurement pays for the write-back of the one before. */
async function settle(): Promise<void> {
  try {
    await new Deno.Command("sync").output();
  } catch {
    // No sync(1): measurements may then carry some write-back of earlier ones.
  }
}

/** Times `fn` and samples the process RSS every 10 ms while it runs. */
async function measure(fn: () => Promise<void>): Promise<Sample> {
  await settle();
  let peak = Deno.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 10);
  const c0 = cpuUsage();
  const t0 = performance.now();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - t0;
  const c1 = cpuUsage(c0);
  return { ms, cpu: (c1.user + c1.system) / 1000, peak: Math.max(peak, Deno.memoryUsage().rss) };
}

async function makeSource(path: string, size: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const block = new Uint8Array(MB);
  for (let at = 0; at < MB; at += 65536) crypto.getRandomValues(block.subarray(at, at + 65536));
  try {
    for (let at = 0; at < size; at += MB) {
      block[0] = at / MB; // not one repeated block
      await file.write(block.subarray(0, Math.min(MB, size - at)));
    }
  } finally {
    file.close();
  }
}

function timeCopy(source: string, sync: boolean): Promise<Sample> {
  const target = join(benchDir, "copy.bin");
  return measure(async () => {
    await Deno.copyFile(source, target);
    if (sync) {
      const f = await Deno.open(target, { read: true, write: true });
      await f.sync();
      f.close();
    }
  }).finally(() => Deno.remove(target));
}

function timeStreamCopy(source: string, sync: boolean): Promise<Sample> {
  const target = join(benchDir, "copy.bin");
  return measure(async () => {
    const out = await Deno.open(target, { write: true, create: true, truncate: true });
    try {
      await writeChunks(fileStream(await Deno.open(source, { read: true })), out);
      if (sync) await out.sync();
    } finally {
      out.close();
    }
  }).finally(() => Deno.remove(target));
}

async function writeChunks(stream: ReadableStream<Uint8Array>, out: Deno.FsFile): Promise<void> {
  // A loop of writes: `pipeTo(file.writable)` is several times slower in Deno 2.9.
  for await (const chunk of stream) {
    let at = 0;
    while (at < chunk.byteLength) at += await out.write(chunk.subarray(at));
  }
}

function timeUpload(store: ObjectStore, key: string, source: string): Promise<Sample> {
  return measure(async () => {
    // A file's own readable, as a caller would pass it: a byte stream (64 KiB chunks to a
    // default reader; local and S3 read it with a BYOB reader into buffers of their own).
    await store.write(key, (await Deno.open(source, { read: true })).readable);
  });
}

function timeDownload(store: ObjectStore, key: string, target: string): Promise<Sample> {
  return measure(async () => {
    const out = await Deno.open(target, { write: true, create: true, truncate: true });
    try {
      await writeChunks(await store.readStream(key), out);
    } finally {
      out.close();
    }
  });
}

/** A file as a stream of 1 MiB chunks (a file's own `readable` yields 64 KiB ones). */
function fileStream(file: Deno.FsFile): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(controller) {
      const buf = new Uint8Array(MB);
      const n = await file.read(buf);
      if (n === null) {
        file.close();
        controller.close();
      } else controller.enqueue(buf.subarray(0, n));
    },
    cancel() {
      file.close();
    },
  });
}

function mbps(bytes: number, ms: number): string {
  return (bytes / MB / (ms / 1000)).toFixed(0);
}

function perMB(s: Sample, bytes: number): string {
  return (s.cpu / (bytes / MB)).toFixed(2);
}

function rss(bytes: number): string {
  return `${(bytes / MB).toFixed(0)} MB`;
}

if (import.meta.main) console.log(await bench(Deno.args));

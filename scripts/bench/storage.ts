/**
 * Storage benchmark: upload and download MB/s of a large object through each backend, against
 * a plain file copy on the same disk (the ceiling) measured in the same run, with the peak RSS
 * during each transfer (streaming: it must not grow with the object size).
 *
 *     deno run -A scripts/bench/storage.ts [--mb 256] [--small-mb 64] [--reps 3] [--only local]
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
 *     return { store: createS3Store({ ... }), prefix: "bench/", close: () => server.stop() };
 *   },
 * };
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cpuUsage } from "node:process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createLocalStore, type ObjectStore } from "@eventlake/storage";

/** A store to benchmark, opened once per run. */
export interface OpenedBenchStore {
  /** The store. */
  store: ObjectStore;
  /** Key prefix to work under (deleted afterwards). */
  prefix?: string;
  /** Stops servers, removes folders. */
  close(): Promise<void>;
}

/** One backend of the storage benchmark. */
export interface StorageBenchBackend {
  /** Name in the report, e.g. `local (durable)`. */
  name: string;
  /** Largest object the backend takes (e.g. an emulator's body limit); larger sizes are skipped. */
  maxBytes?: number;
  /** Opens the store, or returns the reason the backend is skipped (printed in the report). */
  open(): Promise<OpenedBenchStore | string>;
}

const MB = 2 ** 20;

function localBackend(name: string, durable: boolean): StorageBenchBackend {
  return {
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
    },
  });
  const sizes = [...new Set([Number(values["small-mb"]), Number(values.mb)])]
    .filter((n) => n > 0).sort((a, b) => a - b).map((n) => n * MB);
  const reps = Math.max(1, Number(values.reps));
  // The working folder sits on the same disk as the checkout, so the copy and the store compare fairly.
  const here = dirname(fileURLToPath(import.meta.url));
  const parent = join(here, "..", "..", ".artifacts");
  await Deno.mkdir(parent, { recursive: true });
  benchDir = await Deno.makeTempDir({ dir: parent, prefix: "bench-storage-" });

  const backends: StorageBenchBackend[] = [
    localBackend("local (durable: fsync, default)", true),
    localBackend("local (durable: false)", false),
    ...await discoverBackends(here),
  ].filter((b) => !values.only?.length || values.only.some((o) => b.name.startsWith(o)));

  const lines: string[] = [
    "## Storage: upload/download of one large object",
    "",
    "Command: `deno run -A scripts/bench/storage.ts" +
    (args.length ? ` ${args.join(" ")}` : "") + "` " +
    `(median of ${reps}; all rows measured in this run; MB = 2^20 bytes).`,
    "Ceilings, same file, same disk: `Deno.copyFile` (an in-kernel copy) and a streaming copy " +
    "through JS (read 1 MiB chunks, write each), each also with `fsync`. Upload = " +
    "`store.write(key, stream)` of the file read in 1 MiB chunks; download = `store.readStream(key)` " +
    "written chunk by chunk into a file. CPU ms/MB is the process's user + system time per MB " +
    "(less sensitive than wall time to other load on a shared machine). Peak RSS (whole process, " +
    "sampled every 10 ms) must not grow with the size.",
    "",
    "| backend | size | upload MB/s | × stream copy | × copyFile | download MB/s | × stream copy | × copyFile | CPU ms/MB up / down | peak RSS up / down |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  const notes: string[] = [];
  try {
    for (const size of sizes) {
      const source = join(benchDir, `source-${size}.bin`);
      await makeSource(source, size);
      const opened: { backend: StorageBenchBackend; store: OpenedBenchStore; key: string }[] = [];
      for (const backend of backends) {
        if (backend.maxBytes !== undefined && size > backend.maxBytes) {
          notes.push(
            `${backend.name}: ${size / MB} MB skipped (limit ${backend.maxBytes / MB} MB).`,
          );
          continue;
        }
        const store = await backend.open();
        if (typeof store === "string") {
          if (size === sizes[0]) notes.push(`${backend.name}: skipped — ${store}.`);
          continue;
        }
        opened.push({ backend, store, key: `${store.prefix ?? ""}bench/object-${size}.bin` });
      }
      // Every repetition measures every row once, so a change of load on this shared machine
      // hits the ceilings and the backends alike; each row reports its median.
      const samples = new Map<string, Sample[]>();
      const add = (id: string, sample: Sample) =>
        samples.set(id, [...samples.get(id) ?? [], sample]);
      const target = join(benchDir, "download.bin");
      try {
        for (let rep = 0; rep < reps; rep++) {
          add("copy", await timeCopy(source, false));
          add("copySync", await timeCopy(source, true));
          add("stream", await timeStreamCopy(source, false));
          add("streamSync", await timeStreamCopy(source, true));
          for (const { backend, store, key } of opened) {
            add(`${backend.name} up`, await timeUpload(store.store, key, source));
            add(`${backend.name} down`, await timeDownload(store.store, key, target));
            await Deno.remove(target).catch(() => {});
          }
        }
      } finally {
        for (const { store, key } of opened) {
          await store.store.delete(key).catch(() => {});
          await store.store.close();
          await store.close();
        }
      }
      const med = (id: string) => median(samples.get(id)!);
      const [copy, copySync, stream, streamSync] = ["copy", "copySync", "stream", "streamSync"]
        .map(med);
      const row = (name: string, s: Sample) =>
        `| ${name} | ${size / MB} MB | ${mbps(size, s.ms)} | ${(stream.ms / s.ms).toFixed(2)} | ` +
        `${(copy.ms / s.ms).toFixed(2)} | — | — | — | ${perMB(s, size)} | ${rss(s.peak)} |`;
      lines.push(
        row("ceiling: `Deno.copyFile`", copy),
        row("ceiling: `Deno.copyFile` + fsync", copySync),
        row("ceiling: streaming copy (1 MiB chunks)", stream),
        row("ceiling: streaming copy + fsync", streamSync),
      );
      for (const { backend } of opened) {
        const up = med(`${backend.name} up`);
        const down = med(`${backend.name} down`);
        // A backend that fsyncs is compared with the copies that fsync too.
        const durable = backend.name.includes("fsync");
        const [sc, kc] = durable ? [streamSync.ms, copySync.ms] : [stream.ms, copy.ms];
        lines.push(
          `| ${backend.name} | ${size / MB} MB | ${mbps(size, up.ms)} | ` +
            `${(sc / up.ms).toFixed(2)} | ${(kc / up.ms).toFixed(2)} | ${mbps(size, down.ms)} | ` +
            `${(stream.ms / down.ms).toFixed(2)} | ${(copy.ms / down.ms).toFixed(2)} | ` +
            `${perMB(up, size)} / ${perMB(down, size)} | ${rss(up.peak)} / ${rss(down.peak)} |`,
        );
      }
      await Deno.remove(source);
    }
  } finally {
    await Deno.remove(benchDir, { recursive: true }).catch(() => {});
  }
  lines.push(
    "",
    "A ratio is the ceiling's time over the backend's (1.00 = as fast as the copy). A backend " +
      "that fsyncs its uploads is compared with the copies + fsync; downloads with the plain copies.",
    ...notes.map((n) => `- ${n}`),
  );
  return lines.join("\n");
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
    await store.write(key, fileStream(await Deno.open(source, { read: true })));
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

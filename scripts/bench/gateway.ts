/**
 * HTTP benchmark of the gateway (`apps/gateway/server.ts` under `deno run`, the embedded
 * default on a fresh temporary home), with its references measured in the same run:
 *
 * - **Page polling at a fixed rate (the target of issue 6)**: 200 clients polling
 *   `GET /v1/data-query/query/{id}?page=N` (N cycling 0–9) of a FINISHED 1,000-row query, with
 *   credentials (authentication, routing, validation, the page cache, metrics and buffered
 *   access logs all on the path), offering a fixed total rate — 5,000 requests/s (each client
 *   polls every 40 ms), then 7,500 and 10,000 for headroom — for 30 s each. The load generator
 *   is `openloop` (`scripts/bench-tools/openloop.c`, built with `cc` on first use): latency is
 *   measured from each request's due time, so a stall is charged to every request scheduled
 *   during it (no coordinated omission). Target: ≥ 5,000 requests/s with p99 < 20 ms.
 * - **Saturation (closed loop)**: `wrk` with 200 connections for 30 s, each sending its next
 *   request as soon as the last is answered: the maximum throughput and its latency (by
 *   Little's law the mean latency is then 200 / throughput, so this line cannot show a p99
 *   under 20 ms at ≥ 5,000 requests/s: the target is read on the fixed-rate line).
 * - **Memory**: the server's RSS after a warm-up and after every run; and the app's heap after
 *   a full GC before and after 100,000 page requests through `app.fetch` in a `--expose-gc`
 *   child (retention without V8's lazy growth).
 * - **References**: a bare `Deno.serve` answering a body of the page's size (a clone of one
 *   response, the cheapest way Deno sends the same bytes again) under the same fixed-rate and
 *   saturating loads — the floor of this machine, where the load generator and the server share
 *   the 2 cores — and `GET /healthz` of the same server under `wrk`.
 *
 * Needs `cc` for `openloop` and `wrk` for the saturation lines (`scripts/install/bench-tools.sh`
 * installs both); without one of them its lines say so.
 * Usage: `deno run -A scripts/bench/gateway.ts [--seconds 30] [--connections 200]
 * [--rates 5000,7500,10000] [--no-saturation]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";

/** Options of {@linkcode bench}. */
export interface GatewayBenchOptions {
  /** Seconds of each measured run (default 30). */
  seconds?: number;
  /** Concurrent connections (default 200). */
  connections?: number;
  /** Offered rates of the fixed-rate runs, requests/s (default 5,000, 7,500 and 10,000). */
  rates?: number[];
  /** Run the closed-loop `wrk` lines too (default true). */
  saturation?: boolean;
}

/** The target of issue 6, read on the fixed-rate run at this rate. */
const TARGET_RATE = 5000;
const TARGET_P99_MS = 20;

interface WrkResult {
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
}

/** One fixed-rate run of `openloop` (its JSON output). */
interface OpenLoopResult {
  rate: number;
  scheduled: number;
  completed: number;
  achievedRps: number;
  non2xx: number;
  socketErrors: number;
  unfinished: number;
  lateSends: number;
  cpuSeconds: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  serviceMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
}

function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

async function wrk(
  url: string,
  seconds: number,
  connections: number,
  script: string | undefined,
): Promise<WrkResult> {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "--timeout", "5s"];
  if (script) args.push("-s", script);
  args.push(url);
  const out = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`wrk failed: ${new TextDecoder().decode(out.stderr)}`);
  const pct = (p: string) => toMs(new RegExp(`\\s${p}%\\s+(\\S+)`).exec(text)?.[1] ?? "");
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((s, n) => s + Number(n), 0) : 0;
  return {
    requests,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN),
    p50: pct("50"),
    p90: pct("90"),
    p99: pct("99"),
    errors: non2xx + socketErrors,
  };
}

const TOOLS_DIR = new URL("../bench-tools/", import.meta.url).pathname;

/**
 * The `openloop` binary, built from `scripts/bench-tools/openloop.c` with `cc` when it is
 * missing or older than its source; undefined (with the reason) when it cannot be built.
 */
async function openloopBinary(): Promise<{ path?: string; why?: string }> {
  const source = join(TOOLS_DIR, "openloop.c");
  const path = join(TOOLS_DIR, "bin", "openloop");
  const mtime = async (p: string) => (await Deno.stat(p).catch(() => undefined))?.mtime;
  const built = await mtime(path);
  const written = await mtime(source);
  if (built && written && built >= written) return { path };
  await Deno.mkdir(join(TOOLS_DIR, "bin"), { recursive: true });
  try {
    const out = await new Deno.Command("cc", {
      args: ["-O2", "-o", path, source],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      return { why: `cc failed to build openloop: ${new TextDecoder().decode(out.stderr)}` };
    }
    return { path };
  } catch {
    return { why: "`cc` is not installed (run scripts/install/bench-tools.sh)" };
  }
}

/** Offers `rate` requests/s over `connections` connections for `seconds`, cycling `paths`. */
async function openloop(
  bin: string,
  hostPort: string,
  paths: string[],
  headers: Record<string, string>,
  rate: number,
  seconds: number,
  connections: number,
): Promise<OpenLoopResult> {
  const args = ["-R", String(rate), "-c", String(connections), "-d", String(seconds)];
  for (const [name, value] of Object.entries(headers)) args.push("-H", `${name}: ${value}`);
  for (const path of paths) args.push("-p", path);
  args.push(hostPort);
  const out = await new Deno.Command(bin, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`openloop failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/**
 * The machine's floor right now: a bare `Deno.serve` answering a body of `bodyBytes` bytes (the
 * page's size, so payload transfer is in the reference too), running `measure` against it.
 */
async function withBareServer<T>(
  bodyBytes: number,
  measure: (base: string, pid: number) => Promise<T>,
): Promise<T> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  // The cheapest way Deno sends the same bytes again: clone one response (the clone shares its
  // body; `new Response(bytes)` would copy them every time).
  const code = `const body = new Uint8Array(${bodyBytes}).fill(32);` +
    `const page = new Response(body, { headers: { "content-type": "application/json" } });` +
    `Deno.serve({ hostname: "127.0.0.1", port: ${port}, onListen() {} }, () => page.clone());`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    for (let i = 0; i < 100; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        await res.body?.cancel();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return await measure(`http://127.0.0.1:${port}`, child.pid);
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

/**
 * Heap check of the app itself, without sockets: 100,000 page requests through `app.fetch`
 * in a child started with `--expose-gc`; heap used after a full GC before and after.
 */
async function heapCheck(requests: number): Promise<{ before: number; after: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL(import.meta.url).pathname,
      "--heap-child",
      String(requests),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`Heap check failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

async function heapChild(requests: number): Promise<void> {
  const { testGateway } = await import("../../apps/gateway/_testing.ts");
  const { createJsonLogger } = await import("../../apps/gateway/logger.ts");
  const gw = await testGateway({ logger: createJsonLogger(() => {}) });
  const submitted = await gw.app.request("/v1/data-query/query", {
    method: "POST",
    headers: { ...gw.alice, "Content-Type": "application/json" },
    body: JSON.stringify({ query: "select 1000", bucketName: "results", path: "bench" }),
  });
  const id = (await submitted.json()).queryInfo.queryId;
  await gw.service.settled(id);
  const gc = (globalThis as unknown as { gc: () => void }).gc;
  const heap = () => {
    gc();
    gc();
    return Deno.memoryUsage().heapUsed / 2 ** 20;
  };
  const round = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await gw.app.fetch(
        new Request(`http://x/v1/data-query/query/${id}?page=${i % 10}`, { headers: gw.alice }),
      );
      await res.arrayBuffer();
    }
  };
  await round(10_000);
  const before = heap();
  await round(requests);
  const after = heap();
  await gw.close();
  console.log(JSON.stringify({ before, after }));
}

function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
  } catch {
    return "unknown";
  }
}

/** CPU time (user + system) the process `pid` has used so far, seconds. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ)
}

/** `openloop` with the CPU time the server `pid` spent during the run. */
async function measuredOpenloop(
  pid: number,
  ...args: Parameters<typeof openloop>
): Promise<OpenLoopResult & { serverCpuSeconds: number }> {
  const before = await cpuSeconds(pid);
  const result = await openloop(...args);
  return { ...result, serverCpuSeconds: (await cpuSeconds(pid)) - before };
}

async function rssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function hasWrk(): Promise<boolean> {
  try {
    return (await new Deno.Command("wrk", { args: ["-v"], stdout: "null", stderr: "null" })
      .output()).code !== 127;
  } catch {
    return false;
  }
}

/**
 * Runs the benchmark and returns its Markdown section.
 *
 * @example
 * ```ts ignore
 * import { bench } from "./gateway.ts";
 * console.log(await bench({ seconds: 5, rates: [5000] }));
 * ```
 */
export async function bench(options: GatewayBenchOptions = {}): Promise<string> {
  const seconds = options.seconds ?? 30;
  const connections = options.connections ?? 200;
  const rates = options.rates ?? [5000, 7500, 10000];
  const title = "## Gateway (HTTP)";
  const tool = await openloopBinary();
  const withWrk = (options.saturation ?? true) && await hasWrk();
  if (!tool.path && !withWrk) {
    return `${title}\n\nSkipped: ${tool.why}, and \`wrk\` is not installed ` +
      `(run scripts/install/bench-tools.sh).\n`;
  }
  const loadBefore = loadAverage();
  const home = await Deno.makeTempDir({ prefix: "eventlake-gw-bench-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const serverModule = new URL("../../apps/gateway/server.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", serverModule, "--port", String(port), "--home", home],
    env: { EVENTLAKE_HOME: home, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  try {
    // The first start prints the credential on stdout.
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let printed = "";
    while (!/Credential-Secret:\s+\S+/.test(printed)) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`The server exited before printing a credential:\n${printed}`);
      printed += value;
    }
    void (async () => {
      while (!(await reader.read()).done) { /* drain */ }
    })();
    const id = /Credential-ID:\s+(\S+)/.exec(printed)![1];
    const secret = /Credential-Secret:\s+(\S+)/.exec(printed)![1];
    const headers = { "Credential-ID": id, "Credential-Secret": secret };
    for (let i = 0; i < 100; i++) {
      try {
        const res = await fetch(`${base}/healthz`);
        await res.body?.cancel();
        if (res.ok) break;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    const submitted = await fetch(`${base}/v1/data-query/query`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify({
        query: "select * from data_catalog.default.events limit 1000",
        resultConfig: { bucketName: "results", path: "bench" },
      }),
    });
    const queryId = (await submitted.json()).queryInfo.queryId as string;
    let state = "QUEUED";
    for (let i = 0; i < 600 && (state === "QUEUED" || state === "RUNNING"); i++) {
      await new Promise((r) => setTimeout(r, 50));
      const res = await fetch(`${base}/v1/data-query/query/${queryId}`, { headers });
      state = (await res.json()).queryInfo.state;
    }
    if (state !== "FINISHED") throw new Error(`The benchmark query ended ${state}`);
    const sample = await (await fetch(`${base}/v1/data-query/query/${queryId}?page=3`, {
      headers,
    })).text();
    const pagePaths = Array.from(
      { length: 10 },
      (_, n) => `/v1/data-query/query/${queryId}?page=${n}`,
    );
    const hostPort = `127.0.0.1:${port}`;

    const script = join(home, "pages.lua");
    await Deno.writeTextFile(
      script,
      [
        `wrk.headers["Credential-ID"] = "${id}"`,
        `wrk.headers["Credential-Secret"] = "${secret}"`,
        "local n = 0",
        "request = function()",
        "  n = n + 1",
        `  return wrk.format("GET", "/v1/data-query/query/${queryId}?page=" .. (n % 10))`,
        "end",
      ].join("\n"),
    );
    const pageUrl = `${base}/v1/data-query/query/${queryId}`;
    const rss: { after: string; mib: number; requests: number }[] = [];
    // Warm-up (JIT, caches): 5 s at the target rate.
    if (tool.path) {
      await openloop(tool.path, hostPort, pagePaths, headers, TARGET_RATE, 5, connections);
    } else {
      await wrk(pageUrl, Math.min(5, seconds), connections, script);
    }
    rss.push({ after: "warm-up", mib: await rssMiB(child.pid), requests: 0 });

    const fixed: (OpenLoopResult & { serverCpuSeconds: number })[] = [];
    for (const rate of tool.path ? rates : []) {
      const r = await measuredOpenloop(
        child.pid,
        tool.path!,
        hostPort,
        pagePaths,
        headers,
        rate,
        seconds,
        connections,
      );
      fixed.push(r);
      rss.push({
        after: `${f(rate)} req/s`,
        mib: await rssMiB(child.pid),
        requests: r.completed,
      });
    }
    let pages: WrkResult | undefined, pages2: WrkResult | undefined;
    let health: WrkResult | undefined;
    if (withWrk) {
      pages = await wrk(pageUrl, seconds, connections, script);
      rss.push({
        after: "saturation run 1",
        mib: await rssMiB(child.pid),
        requests: pages.requests,
      });
      pages2 = await wrk(pageUrl, seconds, connections, script);
      rss.push({
        after: "saturation run 2",
        mib: await rssMiB(child.pid),
        requests: pages2.requests,
      });
      health = await wrk(`${base}/healthz`, seconds, connections, undefined);
    }
    const bare = await withBareServer(sample.length, async (bareBase, barePid) => {
      const fixedRuns: (OpenLoopResult & { serverCpuSeconds: number })[] = [];
      for (const rate of tool.path ? rates : []) {
        fixedRuns.push(
          await measuredOpenloop(
            barePid,
            tool.path!,
            bareBase.slice("http://".length),
            ["/"],
            {},
            rate,
            seconds,
            connections,
          ),
        );
      }
      const closed = withWrk
        ? await wrk(`${bareBase}/`, seconds, connections, undefined)
        : undefined;
      return { fixedRuns, closed };
    });
    const heap = await heapCheck(100_000);
    const loadAfter = loadAverage();

    const out = [
      title,
      "",
      `Against \`deno run -A apps/gateway/server.ts\` (embedded default, fresh home, access logs ` +
      `on), polling \`GET /v1/data-query/query/{id}?page=0–9\` of a finished query with ` +
      `credentials; page body ${f(sample.length)} bytes (100 rows × 8 columns of the demo day). ` +
      `The load generator and the server share the 2 cores. Load average ${loadBefore} at the ` +
      `start, ${loadAfter} at the end.`,
      "",
    ];
    if (tool.path) {
      const row = (name: string, r: OpenLoopResult & { serverCpuSeconds: number }) =>
        `| ${name} | ${f(r.rate)} | ${f(r.achievedRps)} | ${f(r.completed)} | ${
          f(r.serverCpuSeconds / r.completed * 1e6)
        } | ${f(r.latencyMs.p50, 2)} | ${f(r.latencyMs.p90, 2)} | ${f(r.latencyMs.p99, 2)} | ${
          f(r.latencyMs.max, 2)
        } | ${f(r.serviceMs.p99, 2)} | ${f(r.non2xx + r.socketErrors)}${
          r.unfinished ? ` + ${f(r.unfinished)} unanswered` : ""
        } |`;
      const target = fixed.find((r) => r.rate === TARGET_RATE);
      const pass = target !== undefined && target.latencyMs.p99 < TARGET_P99_MS &&
        target.achievedRps >= TARGET_RATE * 0.99 &&
        target.non2xx + target.socketErrors + target.unfinished === 0;
      out.push(
        `### Fixed rate: ${connections} clients, ${seconds} s per rate (the target)`,
        "",
        `\`openloop -c ${connections} -R RATE -d ${seconds}\` (scripts/bench-tools/openloop.c): ` +
          `request k is due at k / RATE and goes to connection k mod ${connections}, so each ` +
          `client polls every ${connections} / RATE s whatever the server does. Latency is ` +
          `measured from the due time (a request waiting for its connection's previous answer ` +
          `is charged the wait: no coordinated omission); "p99 from write" leaves that wait out. ` +
          `Requests still unanswered 5 s after the last due time count as errors ("unanswered") ` +
          `and enter the latency columns with their wait so far (a lower bound).`,
        "",
        "| server | offered req/s | achieved req/s | answered | server CPU µs/request | p50 ms | p90 ms | p99 ms | max ms | p99 from write ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ...fixed.map((r) => row("gateway, GET …/query/{id}?page=0–9", r)),
        ...bare.fixedRuns.map((r) =>
          row(`reference: bare \`Deno.serve\`, same ${f(sample.length)} bytes`, r)
        ),
        "",
        `Target ≥ ${f(TARGET_RATE)} requests/s with p99 < ${TARGET_P99_MS} ms (${connections} ` +
          `clients each polling every ${(connections / TARGET_RATE * 1000).toFixed(0)} ms): ` +
          `**${pass ? "met" : "NOT met"}**${
            target
              ? ` (achieved ${f(target.achievedRps)} requests/s, p99 ${
                f(target.latencyMs.p99, 2)
              } ms; ${f(target.lateSends)} of ${
                f(target.scheduled)
              } requests were written over 1 ms after their due time)`
              : ""
          }. The load generator used ${
            fixed.map((r) => r.cpuSeconds.toFixed(1)).join(" / ")
          } CPU-seconds in these runs.`,
        "",
      );
    } else {
      out.push(`Fixed-rate runs skipped: ${tool.why}.`, "");
    }
    if (pages && pages2 && health && bare.closed) {
      const row = (name: string, r: WrkResult) =>
        `| ${name} | ${f(r.requests)} | ${f(r.rps)} | ${f(r.p50, 2)} | ${f(r.p90, 2)} | ${
          f(r.p99, 2)
        } | ${f(r.errors)} |`;
      out.push(
        `### Saturation: closed loop, ${connections} connections, ${seconds} s`,
        "",
        `\`wrk -t1 -c${connections} -d${seconds}s --latency\`: each connection sends its next ` +
          `request as soon as the last is answered — the most the machine serves, not the ` +
          `target's load. At saturation the mean latency is ${connections} / throughput ` +
          `(Little's law), so these latencies are queueing in the loop, not the server's answer ` +
          `to ${connections} polling clients.`,
        "",
        "| load | requests | requests/s | p50 ms | p90 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        row(`GET …/query/{id}?page=0–9 (run 1)`, pages),
        row(`GET …/query/{id}?page=0–9 (run 2)`, pages2),
        row("reference: GET /healthz (same server)", health),
        row(
          `reference: bare \`Deno.serve\` answering the same ${f(sample.length)} bytes`,
          bare.closed,
        ),
        "",
        `At saturation page polling reaches ${(pages.rps / bare.closed.rps).toFixed(2)}× ` +
          `(run 2: ${(pages2.rps / bare.closed.rps).toFixed(2)}×) a bare Deno.serve sending the ` +
          `same bytes, and ${(pages.rps / health.rps).toFixed(2)}× the /healthz rate.`,
        "",
      );
    } else if (options.saturation ?? true) {
      out.push("Saturation runs skipped: `wrk` is not installed.", "");
    }
    const last = rss.at(-1)!;
    const prev = rss.at(-2);
    out.push(
      `Memory: server RSS ${
        rss.map((m) => `${m.mib.toFixed(1)} MiB after ${m.after}`).join(", ")
      }` +
        (prev
          ? `: ${(last.mib - prev.mib).toFixed(1)} MiB over the last ${f(last.requests)} requests`
          : "") +
        `. RSS includes V8's heap growth under load; the app's own retention: heap used after a ` +
        `full GC ${heap.before.toFixed(1)} MiB before and ${heap.after.toFixed(1)} MiB after ` +
        `100,000 page requests through \`app.fetch\` (${
          (heap.after - heap.before).toFixed(2)
        } MiB).`,
      "",
    );
    return out.join("\n");
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

function f(n: number, d = 0): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

if (import.meta.main && Deno.args[0] === "--heap-child") {
  await heapChild(Number(Deno.args[1]));
} else if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seconds: { type: "string" },
      connections: { type: "string" },
      rates: { type: "string" },
      "no-saturation": { type: "boolean" },
    },
  });
  console.log(
    await bench({
      seconds: values.seconds ? Number(values.seconds) : undefined,
      connections: values.connections ? Number(values.connections) : undefined,
      rates: values.rates ? values.rates.split(",").map(Number) : undefined,
      saturation: !values["no-saturation"],
    }),
  );
}

/**
 * HTTP benchmark of the gateway (`apps/gateway/server.ts` under `deno run`, the embedded
 * default on a fresh temporary home), with its reference measured in the same run:
 *
 * - **Page polling**: `wrk` with 200 connections for 30 s on
 *   `GET /v1/data-query/query/{id}?page=N` (N cycling 0–9) of a FINISHED 1,000-row query, with
 *   credentials: authentication, routing, validation, the page cache, metrics and buffered
 *   access logs all on the path. Targets: ≥ 5,000 requests/s, p99 < 20 ms.
 * - **Memory**: the server's RSS after a warm-up, after the polling run, and after a second
 *   identical run; and the app's heap after a full GC before and after 100,000 page requests
 *   through `app.fetch` in a `--expose-gc` child (retention without V8's lazy growth).
 * - **Reference**: the same `wrk` load on `GET /healthz` (no auth, no service): the floor of
 *   Deno's HTTP server plus the middleware; the ratio is what the page path costs on top.
 *
 * Needs `wrk` (`scripts/install/bench-tools.sh`); without it the section says so.
 * Usage: `deno run -A scripts/bench/gateway.ts [--seconds 30] [--connections 200]`.
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
}

interface WrkResult {
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
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

/**
 * The machine's ceiling right now: a bare `Deno.serve` under the same load, answering a body of
 * `bodyBytes` bytes (the page's size), so payload transfer is in the reference too.
 */
async function bareServerRun(
  seconds: number,
  connections: number,
  bodyBytes: number,
): Promise<WrkResult> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const code = `const body = new Uint8Array(${bodyBytes}).fill(32);` +
    `Deno.serve({ hostname: "127.0.0.1", port: ${port}, onListen() {} }, ` +
    `() => new Response(body, { headers: { "content-type": "application/json" } }));`;
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
    return await wrk(`http://127.0.0.1:${port}/`, seconds, connections, undefined);
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
 * console.log(await bench({ seconds: 5 }));
 * ```
 */
export async function bench(options: GatewayBenchOptions = {}): Promise<string> {
  const seconds = options.seconds ?? 30;
  const connections = options.connections ?? 200;
  const title = "## Gateway (HTTP)";
  if (!(await hasWrk())) {
    return `${title}\n\nSkipped: \`wrk\` is not installed (run scripts/install/bench-tools.sh).\n`;
  }
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
    await wrk(pageUrl, Math.min(5, seconds), connections, script); // warm-up (JIT, caches)
    const rssWarm = await rssMiB(child.pid);
    const pages = await wrk(pageUrl, seconds, connections, script);
    const rssAfter1 = await rssMiB(child.pid);
    const pages2 = await wrk(pageUrl, seconds, connections, script);
    const rssAfter2 = await rssMiB(child.pid);
    const health = await wrk(`${base}/healthz`, seconds, connections, undefined);
    const bare = await bareServerRun(seconds, connections, sample.length);
    const heap = await heapCheck(100_000);

    const f = (n: number, d = 0) =>
      n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
    const row = (name: string, r: WrkResult) =>
      `| ${name} | ${f(r.requests)} | ${f(r.rps)} | ${f(r.p50, 2)} | ${f(r.p90, 2)} | ${
        f(r.p99, 2)
      } | ${f(r.errors)} |`;
    const pass = pages.rps >= 5000 && pages.p99 < 20;
    return [
      title,
      "",
      `\`wrk -t1 -c${connections} -d${seconds}s --latency\` against \`deno run -A apps/gateway/server.ts\` ` +
      `(embedded default, fresh home, access logs on). Page body: ${f(sample.length)} bytes ` +
      `(100 rows × 8 columns of the demo day). wrk and the server share the 2 cores.`,
      "",
      "| load | requests | requests/s | p50 ms | p90 ms | p99 ms | errors |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
      row(`GET …/query/{id}?page=0–9 (run 1)`, pages),
      row(`GET …/query/{id}?page=0–9 (run 2)`, pages2),
      row("reference: GET /healthz (same server)", health),
      row(`reference: bare \`Deno.serve\` answering the same ${f(sample.length)} bytes`, bare),
      "",
      `Page polling reaches ${(pages.rps / health.rps * 100).toFixed(0)}% of the /healthz ` +
      `rate (ratio ${(pages.rps / health.rps).toFixed(2)}) and ` +
      `${(pages.rps / bare.rps * 100).toFixed(0)}% of a bare Deno.serve sending the same bytes ` +
      `(ratio ${(pages.rps / bare.rps).toFixed(2)}; run 2: ${
        (pages2.rps / bare.rps).toFixed(2)
      }). ` +
      `The machine is shared (load average ${loadAverage()}), so absolute rates swing ` +
      `between runs. Target ≥ 5,000 requests/s and ` +
      `p99 < 20 ms: **${pass ? "met" : "NOT met"}** (run 1).`,
      "",
      `Server RSS: ${rssWarm.toFixed(1)} MiB after warm-up, ${rssAfter1.toFixed(1)} MiB after ` +
      `run 1 (+${f(pages.requests)} requests), ${rssAfter2.toFixed(1)} MiB after run 2 ` +
      `(+${f(pages2.requests)} more): ${(rssAfter2 - rssAfter1).toFixed(1)} MiB over the last ` +
      `${f(pages2.requests)} requests. RSS includes V8's heap growth under load; the app's own ` +
      `retention: heap used after a full GC ${heap.before.toFixed(1)} MiB before and ` +
      `${heap.after.toFixed(1)} MiB after 100,000 page requests through \`app.fetch\` ` +
      `(${(heap.after - heap.before).toFixed(2)} MiB).`,
      "",
    ].join("\n");
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main && Deno.args[0] === "--heap-child") {
  await heapChild(Number(Deno.args[1]));
} else if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { seconds: { type: "string" }, connections: { type: "string" } },
  });
  console.log(
    await bench({
      seconds: values.seconds ? Number(values.seconds) : undefined,
      connections: values.connections ? Number(values.connections) : undefined,
    }),
  );
}

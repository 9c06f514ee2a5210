/**
 * A small Prometheus registry for the gateway: requests and latencies by route, method and
 * status, plus gauges the app fills at scrape time (queue depth, running queries) and import run
 * counters. Allocation-aware: one map lookup per request, no label objects on the hot path.
 *
 * @module
 */

/** Latency histogram bucket bounds, in seconds. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

interface Series {
  labels: string;
  count: number;
  sum: number;
  buckets: Float64Array;
}

/** Values of the gauges, read when `/metrics` is scraped. */
export interface GaugeValues {
  /** Queries waiting for a worker. */
  queueDepth?: number;
  /** Queries running. */
  runningQueries?: number;
  /** Import runs in progress. */
  runningImports?: number;
}

/** The gateway's metrics. */
export interface Metrics {
  /** Records one finished HTTP request. */
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  /** Records one finished import run by its status (`SUCCEEDED`, `FAILED`, …). */
  observeImportRun(status: string): void;
  /** The Prometheus text exposition (version 0.0.4). */
  render(gauges?: GaugeValues): string;
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/**
 * Creates an empty registry.
 *
 * @example
 * ```ts
 * import { createMetrics } from "./metrics.ts";
 * const metrics = createMetrics();
 * metrics.observeRequest("/healthz", "GET", 200, 0.0004);
 * console.log(metrics.render().includes('eventlake_http_requests_total{route="/healthz",method="GET",status="200"} 1')); // true
 * ```
 */
export function createMetrics(): Metrics {
  const requests = new Map<string, Series>();
  const imports = new Map<string, number>();
  return {
    observeRequest(route: string, method: string, status: number, seconds: number): void {
      const key = `${route}\u0000${method}\u0000${status}`;
      let s = requests.get(key);
      if (s === undefined) {
        s = {
          labels: `route="${escapeLabel(route)}",method="${
            escapeLabel(method)
          }",status="${status}"`,
          count: 0,
          sum: 0,
          buckets: new Float64Array(LATENCY_BUCKETS.length),
        };
        requests.set(key, s);
      }
      s.count++;
      s.sum += seconds;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        if (seconds <= LATENCY_BUCKETS[i]) {
          s.buckets[i]++;
          break;
        }
      }
    },
    observeImportRun(status: string): void {
      imports.set(status, (imports.get(status) ?? 0) + 1);
    },
    render(gauges: GaugeValues = {}): string {
      const out: string[] = [];
      out.push("# HELP eventlake_http_requests_total HTTP requests by route, method and status.");
      out.push("# TYPE eventlake_http_requests_total counter");
      for (const s of requests.values()) {
        out.push(`eventlake_http_requests_total{${s.labels}} ${s.count}`);
      }
      out.push("# HELP eventlake_http_request_duration_seconds HTTP request latency.");
      out.push("# TYPE eventlake_http_request_duration_seconds histogram");
      for (const s of requests.values()) {
        let cumulative = 0;
        for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
          cumulative += s.buckets[i];
          out.push(
            `eventlake_http_request_duration_seconds_bucket{${s.labels},le="${
              LATENCY_BUCKETS[i]
            }"} ${cumulative}`,
          );
        }
        out.push(
          `eventlake_http_request_duration_seconds_bucket{${s.labels},le="+Inf"} ${s.count}`,
        );
        out.push(`eventlake_http_request_duration_seconds_sum{${s.labels}} ${s.sum}`);
        out.push(`eventlake_http_request_duration_seconds_count{${s.labels}} ${s.count}`);
      }
      const gauge = (name: string, help: string, value: number | undefined) => {
        if (value === undefined) return;
        out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
      };
      gauge("eventlake_query_queue_depth", "Queries waiting for a worker.", gauges.queueDepth);
      gauge("eventlake_queries_running", "Queries running.", gauges.runningQueries);
      gauge("eventlake_import_runs_running", "Import runs in progress.", gauges.runningImports);
      out.push("# HELP eventlake_import_runs_total Finished import runs by status.");
      out.push("# TYPE eventlake_import_runs_total counter");
      for (const [status, count] of imports) {
        out.push(`eventlake_import_runs_total{status="${escapeLabel(status)}"} ${count}`);
      }
      return out.join("\n") + "\n";
    },
  };
}

/**
 * A small fake Trino coordinator for tests, following the documented client protocol:
 * `POST /v1/statement` (SQL body; `X-Trino-User` required, `X-Trino-Catalog`/`X-Trino-Schema`
 * recorded), then `GET nextUri` page by page (columns, data, stats, `error` objects), and
 * `DELETE nextUri` (or `DELETE /v1/query/{id}`) to cancel. Answers are scripted per SQL text.
 * Binds 127.0.0.1 on a free port.
 *
 * @module
 */

/** A scripted answer. */
export interface FakeScript {
  /** Result columns (Trino type names). */
  columns?: { name: string; type: string }[];
  /** Pages of rows, one GET each. */
  pages?: unknown[][][];
  /** Fail after the pages with this error object. */
  error?: { message: string; errorCode: number; errorName: string; errorType: string };
  /** Never finish: keep answering RUNNING pages without data (until cancelled). */
  hang?: boolean;
  /** Empty QUEUED pages before the first data page. */
  queuedPages?: number;
}

/** What the fake saw of one query. */
export interface FakeQueryLog {
  /** Query id. */
  id: string;
  /** SQL text. */
  sql: string;
  /** Request headers of the POST. */
  user: string | null;
  /** X-Trino-Catalog. */
  catalog: string | null;
  /** X-Trino-Schema. */
  schema: string | null;
  /** GETs of nextUri served. */
  polls: number;
  /** Whether a DELETE cancelled it. */
  cancelled: boolean;
}

/** A running fake server. */
export interface FakeTrino {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** Queries seen, by id. */
  queries: Map<string, FakeQueryLog>;
  /** Stops the server. */
  close(): Promise<void>;
}

const STATS_BASE = {
  queued: false,
  scheduled: true,
  nodes: 1,
  totalSplits: 4,
  queuedSplits: 0,
  runningSplits: 0,
  completedSplits: 4,
  cpuTimeMillis: 5,
  wallTimeMillis: 7,
  peakMemoryBytes: 1024,
  spilledBytes: 0,
};

/** Starts a fake Trino coordinator answering `scripts[sql]` (unknown SQL: a USER_ERROR). */
export function startFakeTrino(scripts: Record<string, FakeScript>): FakeTrino {
  const queries = new Map<string, FakeQueryLog>();
  const state = new Map<string, { script: FakeScript; step: number }>();
  let seq = 0;
  let base = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json" },
      });
    if (req.method === "POST" && url.pathname === "/v1/statement") {
      const user = req.headers.get("x-trino-user");
      const sql = await req.text();
      if (!user) return new Response("Missing X-Trino-User", { status: 400 });
      const id = `20261122_000000_${String(++seq).padStart(5, "0")}_fake`;
      queries.set(id, {
        id,
        sql,
        user,
        catalog: req.headers.get("x-trino-catalog"),
        schema: req.headers.get("x-trino-schema"),
        polls: 0,
        cancelled: false,
      });
      const script = scripts[sql] ?? {
        error: {
          message: `line 1:1: mismatched input '${sql.split(/\s/)[0]}'`,
          errorCode: 1,
          errorName: "SYNTAX_ERROR",
          errorType: "USER_ERROR",
        },
      };
      state.set(id, { script, step: 0 });
      return json({
        id,
        infoUri: `${base}/ui/query.html?${id}`,
        nextUri: `${base}/v1/statement/queued/${id}/t0/0`,
        stats: { ...STATS_BASE, state: "QUEUED", queued: true, progressPercentage: 0 },
      });
    }
    const m = /^\/v1\/(?:statement\/(?:queued|executing)|query)\/([^/]+)/.exec(url.pathname);
    const id = m?.[1];
    const log = id ? queries.get(id) : undefined;
    const s = id ? state.get(id) : undefined;
    if (!log || !s) return json({ message: "unknown query" }, 404);
    if (req.method === "DELETE") {
      log.cancelled = true;
      return new Response(null, { status: 204 });
    }
    if (log.cancelled) {
      return json({
        id,
        stats: { ...STATS_BASE, state: "FAILED", progressPercentage: 0 },
        error: {
          message: "Query was canceled",
          errorCode: 3,
          errorName: "USER_CANCELED",
          errorType: "USER_ERROR",
        },
      });
    }
    log.polls++;
    const step = s.step++;
    const script = s.script;
    const queued = script.queuedPages ?? 0;
    const pages = script.pages ?? [];
    const stats = (state: string, progress: number, rows: number) => ({
      ...STATS_BASE,
      state,
      queuedTimeMillis: 3,
      elapsedTimeMillis: 20 + step,
      processedRows: rows,
      processedBytes: rows * 10,
      physicalInputBytes: rows * 8,
      progressPercentage: progress,
    });
    const next = (n: number) => `${base}/v1/statement/executing/${id}/t${n}/${n}`;
    if (step < queued) {
      return json({ id, nextUri: next(step + 1), stats: stats("QUEUED", 0, 0) });
    }
    if (script.hang) {
      await new Promise((r) => setTimeout(r, 20));
      return json({ id, nextUri: next(step + 1), stats: stats("RUNNING", 10, 0) });
    }
    const index = step - queued;
    const rowsSoFar = pages.slice(0, index + 1).reduce((n, p) => n + p.length, 0);
    if (index < pages.length) {
      const last = index === pages.length - 1 && !script.error;
      return json({
        id,
        nextUri: next(step + 1),
        columns: script.columns,
        data: pages[index],
        stats: stats(
          last ? "FINISHING" : "RUNNING",
          Math.round(((index + 1) / (pages.length + 1)) * 100),
          rowsSoFar,
        ),
      });
    }
    if (script.error) {
      return json({
        id,
        stats: stats("FAILED", 0, rowsSoFar),
        error: {
          ...script.error,
          failureInfo: { type: "x", message: script.error.message, suppressed: [], stack: [] },
        },
      });
    }
    return json({ id, columns: script.columns, stats: stats("FINISHED", 100, rowsSoFar) });
  });
  base = `http://127.0.0.1:${server.addr.port}`;
  return { url: base, queries, close: () => server.shutdown() };
}

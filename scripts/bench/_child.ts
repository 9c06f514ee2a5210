/**
 * Runs a benchmark module again as a child process under `/usr/bin/time -v` and reports its
 * peak RSS: the memory figures of the benchmarks come from the kernel, not from sampling.
 * (Named with `_` so `run.ts` does not take it for a benchmark.)
 *
 * @module
 */

/** What {@linkcode runChildMeasured} returns. */
export interface MeasuredChild {
  /** The child's standard output. */
  stdout: string;
  /** Peak resident set size in bytes (NaN when `time` did not report it). */
  rss: number;
}

/** Runs `deno run -A <module> <args…>` under `/usr/bin/time -v`; throws when the child fails. */
export async function runChildMeasured(module: string, args: string[]): Promise<MeasuredChild> {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-v", Deno.execPath(), "run", "-A", new URL(module).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`RSS child failed: ${stderr.slice(-2000)}`);
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  return { stdout: new TextDecoder().decode(out.stdout), rss: kb ? Number(kb[1]) * 1024 : NaN };
}

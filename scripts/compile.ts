/**
 * `deno task compile`: builds the standalone `eventlake` executable (`dist/eventlake`) from
 * `apps/cli/main.ts` with `deno compile`.
 *
 * ```sh
 * deno task compile                          # dist/eventlake for this machine
 * DENORT_BIN=/opt/denort deno task compile   # use a local denort runtime (offline machines)
 * deno task compile --target aarch64-apple-darwin --output dist/eventlake-macos
 * deno task compile --print                  # show the deno compile command only
 * ```
 *
 * `deno compile` joins the program to `denort`, a slim Deno runtime that it downloads from
 * dl.deno.land for the target (cached in DENO_DIR afterwards). Where that host is unreachable,
 * point `DENORT_BIN` at a `denort` binary of the same Deno version (the full `deno` binary does
 * not work: the result would open a REPL).
 *
 * DuckDB's npm addon (`duckdb.node`) loads `libduckdb.so` from its own directory, so the
 * executable is built `--self-extracting`: on first run it extracts its embedded files to a
 * hidden directory beside itself and loads the addon from real files.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { dirname, join, resolve } from "node:path";

/** Permissions baked into the executable (a compiled binary cannot prompt for more). */
export const PERMISSIONS: readonly string[] = [
  "--allow-read", // lake files, config.json, Parquet files to inspect/import
  "--allow-write", // EVENTLAKE_HOME, the local lake, query results
  "--allow-env", // EVENTLAKE_* configuration, NO_COLOR, HOME
  "--allow-net", // the gateway (serve), S3/GCS, MySQL, the Data Query API
  "--allow-ffi", // DuckDB's Node-API addon
  "--allow-sys", // os.homedir()/hostname used by SDKs
];

/** Options of {@linkcode compileArgs}. */
export interface CompileOptions {
  /** Output file (default `dist/eventlake`, `.exe` for a Windows target). */
  output?: string;
  /** Target triple, e.g. `x86_64-unknown-linux-gnu` (default: this machine). */
  target?: string;
  /** Skip type checking (`deno task check` does it anyway). */
  noCheck?: boolean;
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRY = join(ROOT, "apps", "cli", "main.ts");
/**
 * Worker modules: `deno compile` bundles only what the entry imports statically, so the modules
 * started with `new Worker(new URL(...))` are included by name (without them the import and the
 * opt-in Parquet workers fail to load in the binary).
 */
const WORKERS = [
  join(ROOT, "packages", "dataimport", "_import_worker.ts"),
  join(ROOT, "packages", "parquet", "_read_worker.ts"),
  join(ROOT, "packages", "parquet", "_write_worker.ts"),
];

/**
 * The `deno compile` arguments for the executable.
 *
 * @example
 * ```ts
 * import { compileArgs } from "./compile.ts";
 * console.log(compileArgs({ output: "out/el" }).includes("--self-extracting")); // true
 * ```
 */
export function compileArgs(options: CompileOptions = {}): string[] {
  const windows = options.target?.includes("windows") ?? Deno.build.os === "windows";
  const output = resolve(
    options.output ?? join(ROOT, "dist", windows ? "eventlake.exe" : "eventlake"),
  );
  return [
    "compile",
    "--self-extracting",
    ...PERMISSIONS,
    ...(options.noCheck ? ["--no-check"] : []),
    ...(options.target ? ["--target", options.target] : []),
    "--config",
    join(ROOT, "deno.json"),
    ...WORKERS.flatMap((file) => ["--include", file]),
    "--output",
    output,
    ENTRY,
  ];
}

/** Why a failed `deno compile` failed, when it is the runtime download. */
function downloadProblem(stderr: string): boolean {
  return /dl\.deno\.land|denort|Setting up base binary/i.test(stderr);
}

const USAGE = `Usage: deno task compile [--output <file>] [--target <triple>] [--no-check] [--print]

Builds dist/eventlake with deno compile (self-extracting, with ${PERMISSIONS.join(" ")}).
Environment: DENORT_BIN=/path/to/denort uses a local runtime instead of downloading one.`;

/** Runs the build; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        output: { type: "string", short: "o" },
        target: { type: "string" },
        "no-check": { type: "boolean" },
        print: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    console.error(`compile: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const denoArgs = compileArgs({
    output: values.output,
    target: values.target,
    noCheck: values["no-check"],
  });
  if (values.print) {
    console.log(["deno", ...denoArgs].join(" "));
    return 0;
  }

  const denort = Deno.env.get("DENORT_BIN");
  if (denort !== undefined && denort !== "") {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(denort);
    } catch {
      console.error(`compile: DENORT_BIN "${denort}" does not exist`);
      return 1;
    }
    if (!info.isFile) {
      console.error(`compile: DENORT_BIN "${denort}" is not a file`);
      return 1;
    }
    console.error(`compile: using the denort runtime at "${denort}"`);
  }

  const output = denoArgs[denoArgs.indexOf("--output") + 1];
  await Deno.mkdir(dirname(output), { recursive: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: denoArgs,
    cwd: ROOT,
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  // Show deno's progress as it comes, and keep it to explain a failure.
  let stderr = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stderr) {
    stderr += decoder.decode(chunk, { stream: true });
    await Deno.stderr.write(chunk);
  }
  const status = await child.status;
  if (status.success) {
    console.error(`compile: built "${output}"`);
    return 0;
  }
  if (downloadProblem(stderr) && !denort) {
    console.error(
      "\ncompile: deno compile could not download the denort runtime (dl.deno.land is unreachable).\n" +
        `compile: set DENORT_BIN to a denort binary of Deno ${Deno.version.deno} ` +
        `(denort-${values.target ?? Deno.build.target}), e.g.\n` +
        "compile:   DENORT_BIN=/path/to/denort deno task compile\n" +
        "compile: (the full deno binary does not work as DENORT_BIN)",
    );
  } else {
    console.error(`\ncompile: deno compile failed with exit code ${status.code}`);
  }
  return status.code === 0 ? 1 : status.code;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

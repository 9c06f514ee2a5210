import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  AbortedError,
  ConflictError,
  type ErrorCode,
  type EventlakeError,
  ForbiddenError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  PreconditionFailedError,
  ResourceExhaustedError,
  TimeoutError,
  UnauthenticatedError,
  UnavailableError,
} from "@eventlake/schema";
import { memoryIo } from "./_testing.ts";
import { run } from "./cli.ts";
import type { Command, CommandContext, CommandTable } from "./command.ts";
import { COMMANDS } from "./commands.ts";
import { EXIT_CODES } from "./exit_codes.ts";
import { VERSION } from "./version.ts";

function throwing(error: unknown): CommandTable {
  const command: Command = {
    summary: "Fails",
    usage: "",
    options: {},
    examples: [{ command: "eventlake fail", description: "Fails" }],
    handler: () => Promise.reject(error),
  };
  return { fail: command };
}

Deno.test("run() prints the overview with every command and examples for --help", async () => {
  const io = memoryIo();
  strictEqual(await run(["--help"], io), 0);
  const text = io.stdoutText();
  for (const name of Object.keys(COMMANDS)) ok(text.includes(`  ${name} `), name);
  ok(text.includes("Examples:"));
  strictEqual(io.stderrText(), "");
});

Deno.test("run() prints the overview on stderr and exits 2 without a command", async () => {
  const io = memoryIo();
  strictEqual(await run([], io), 2);
  strictEqual(io.stdoutText(), "");
  ok(io.stderrText().includes("Usage:"));
});

Deno.test("run() prints a command's help for `<cmd> --help`, `<cmd> -h` and `help <cmd>`", async () => {
  const texts: string[] = [];
  for (const args of [["inspect", "--help"], ["inspect", "-h"], ["help", "inspect"]]) {
    const io = memoryIo();
    strictEqual(await run(args, io), 0, args.join(" "));
    texts.push(io.stdoutText());
  }
  strictEqual(texts[0], texts[1]);
  strictEqual(texts[0], texts[2]);
  ok(texts[0].startsWith("eventlake inspect — "));
  ok(texts[0].includes("Examples:\n  eventlake inspect "));
  ok(texts[0].includes("--json"));
});

Deno.test("every command in the table has a summary, usage and at least one example", () => {
  for (const [name, command] of Object.entries(COMMANDS)) {
    ok(command.summary.length > 0, name);
    ok(command.examples.length > 0, name);
    for (const e of command.examples) {
      ok(e.command.includes(`eventlake ${name}`), e.command);
    }
  }
});

Deno.test("run() --help wins over a missing argument", async () => {
  const io = memoryIo();
  strictEqual(await run(["inspect", "--help"], io), 0);
  strictEqual(io.stderrText(), "");
});

Deno.test("run() prints the version for --version, -V and `version`", async () => {
  for (const args of [["--version"], ["-V"], ["version"]]) {
    const io = memoryIo();
    strictEqual(await run(args, io), 0);
    strictEqual(io.stdoutText(), `eventlake ${VERSION}\n`);
  }
  const io = memoryIo();
  strictEqual(await run(["version", "--json"], io), 0);
  deepStrictEqual(JSON.parse(io.stdoutText()), { version: VERSION });
});

Deno.test("run() rejects an unknown command with exit 2 and a did-you-mean hint", async () => {
  const io = memoryIo();
  strictEqual(await run(["inspcet", "x.parquet"], io), 2);
  strictEqual(io.stdoutText(), "");
  strictEqual(
    io.stderrText(),
    'eventlake: Unknown command "inspcet"\n' +
      'hint: Did you mean "inspect"? Run "eventlake --help" for the list of commands\n',
  );
});

Deno.test("run() rejects an unknown command far from every name without a guess", async () => {
  const io = memoryIo();
  strictEqual(await run(["frobnicate"], io), 2);
  ok(!io.stderrText().includes("Did you mean"));
  ok(io.stderrText().includes('Run "eventlake --help"'));
});

Deno.test("run() rejects `help <unknown>` with exit 2 and a hint", async () => {
  const io = memoryIo();
  strictEqual(await run(["help", "confg"], io), 2);
  ok(io.stderrText().includes('Unknown command "confg"'));
  ok(io.stderrText().includes('Did you mean "config"?'));
});

Deno.test("run() rejects an unknown flag with exit 2, naming it and pointing to --help", async () => {
  const io = memoryIo();
  strictEqual(await run(["inspect", "a.parquet", "--jsno"], io), 2);
  strictEqual(
    io.stderrText(),
    'eventlake: Unknown option "--jsno" for "eventlake inspect"\n' +
      'hint: Did you mean "--json"? Run "eventlake inspect --help" for usage\n',
  );
});

Deno.test("run() rejects an unknown global flag with exit 2", async () => {
  const io = memoryIo();
  strictEqual(await run(["--verison"], io), 2);
  ok(io.stderrText().includes('Unknown option "--verison"'));
  ok(io.stderrText().includes('Did you mean "--version"?'));
});

Deno.test("run() rejects a missing argument with exit 2, naming it", async () => {
  const io = memoryIo();
  strictEqual(await run(["inspect"], io), 2);
  ok(io.stderrText().startsWith("eventlake: Missing argument <file.parquet>"));
  ok(io.stderrText().includes('Run "eventlake inspect --help" for usage'));
});

Deno.test("run() rejects a flag without its value with exit 2", async () => {
  const io = memoryIo({ env: { HOME: "/nonexistent" } });
  strictEqual(await run(["config", "--port"], io), 2);
  ok(io.stderrText().startsWith('eventlake: Option "--port" needs a value'));
});

Deno.test("run() maps every error code to its exit code through the one table", async () => {
  const expected: Record<ErrorCode, number> = {
    INTERNAL: 1,
    INVALID_ARGUMENT: 2,
    NOT_FOUND: 3,
    UNAUTHENTICATED: 4,
    FORBIDDEN: 4,
    PERMISSION_DENIED: 4,
    CONFLICT: 5,
    PRECONDITION_FAILED: 5,
    UNAVAILABLE: 6,
    TIMEOUT: 6,
    RESOURCE_EXHAUSTED: 6,
    ABORTED: 130,
  };
  deepStrictEqual({ ...EXIT_CODES }, expected);
  const errors: EventlakeError[] = [
    new InternalError("a"),
    new InvalidArgumentError("a"),
    new NotFoundError("a"),
    new UnauthenticatedError("a"),
    new ForbiddenError("a"),
    new PermissionDeniedError("a"),
    new ConflictError("a"),
    new PreconditionFailedError("a"),
    new UnavailableError("a"),
    new TimeoutError("a"),
    new ResourceExhaustedError("a"),
    new AbortedError("a"),
  ];
  deepStrictEqual(new Set(errors.map((e) => e.code)), new Set(Object.keys(expected)));
  for (const error of errors) {
    const io = memoryIo();
    strictEqual(
      await run(["fail"], io, { commands: throwing(error) }),
      expected[error.code],
      error.code,
    );
    ok(io.stderrText().startsWith("eventlake: a\n"), error.code);
  }
});

Deno.test("run() prints an error's hint from details.hint", async () => {
  const io = memoryIo();
  const error = new NotFoundError('Cannot find query "q1"', { details: { hint: "List queries" } });
  strictEqual(await run(["fail"], io, { commands: throwing(error) }), 3);
  strictEqual(io.stderrText(), 'eventlake: Cannot find query "q1"\nhint: List queries\n');
});

Deno.test("run() hides the stack of an unexpected error unless --debug or EVENTLAKE_DEBUG=1", async () => {
  const bug = new TypeError("x is undefined");
  const quiet = memoryIo();
  strictEqual(await run(["fail"], quiet, { commands: throwing(bug) }), 1);
  ok(quiet.stderrText().startsWith("eventlake: x is undefined\n"));
  ok(quiet.stderrText().includes("--debug"));
  ok(!quiet.stderrText().includes("at "), "no stack frames");

  const flagged = memoryIo();
  strictEqual(await run(["fail", "--debug"], flagged, { commands: throwing(bug) }), 1);
  ok(flagged.stderrText().includes("TypeError: x is undefined\n    at "));

  const env = memoryIo({ env: { EVENTLAKE_DEBUG: "1" } });
  strictEqual(await run(["fail"], env, { commands: throwing(bug) }), 1);
  ok(env.stderrText().includes("    at "));
});

Deno.test("run() does not print a stack for an expected error", async () => {
  const io = memoryIo();
  strictEqual(await run(["fail"], io, { commands: throwing(new NotFoundError("gone")) }), 3);
  strictEqual(io.stderrText(), "eventlake: gone\n");
});

Deno.test("run() exits 130 when Ctrl-C aborted the command, whatever it threw", async () => {
  const controller = new AbortController();
  const commands: CommandTable = {
    wait: {
      summary: "Waits",
      usage: "",
      options: {},
      examples: [{ command: "eventlake wait", description: "Waits" }],
      handler: (ctx: CommandContext) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener("abort", () => reject(new Error("socket closed")))
        ),
    },
  };
  const io = memoryIo({ signal: controller.signal });
  const pending = run(["wait"], io, { commands });
  controller.abort();
  strictEqual(await pending, 130);
  ok(io.stderrText().startsWith("eventlake: Interrupted"));
});

Deno.test("run() colours errors on a terminal, and never with NO_COLOR or --no-color", async () => {
  const tty = { stdout: true, stderr: true };
  const coloured = memoryIo({ isTTY: tty });
  await run(["nope"], coloured);
  ok(coloured.stderrText().includes("\x1b["));

  const noColor = memoryIo({ isTTY: tty, env: { NO_COLOR: "1" } });
  await run(["nope"], noColor);
  ok(!noColor.stderrText().includes("\x1b["));

  const flag = memoryIo({ isTTY: tty });
  await run(["--no-color", "nope"], flag);
  ok(!flag.stderrText().includes("\x1b["));

  const pipe = memoryIo();
  await run(["nope"], pipe);
  ok(!pipe.stderrText().includes("\x1b["));
});

Deno.test("run() colours help on a terminal stdout only without NO_COLOR", async () => {
  const tty = memoryIo({ isTTY: { stdout: true } });
  await run(["--help"], tty);
  ok(tty.stdoutText().includes("\x1b[1mUsage:"));
  const noColor = memoryIo({ isTTY: { stdout: true }, env: { NO_COLOR: "1" } });
  await run(["--help"], noColor);
  ok(!noColor.stdoutText().includes("\x1b["));
});

Deno.test("run() passes arguments after -- as positionals", async () => {
  let seen: unknown;
  const commands: CommandTable = {
    echo: {
      summary: "Echoes",
      usage: "<word>",
      positionals: [{ name: "word", description: "A word" }],
      options: {},
      examples: [{ command: "eventlake echo x", description: "Echoes x" }],
      handler: (ctx) => {
        seen = ctx.args.word;
        return Promise.resolve(0);
      },
    },
  };
  strictEqual(await run(["echo", "--", "--help"], memoryIo(), { commands }), 0);
  strictEqual(seen, "--help");
});

Deno.test("run() stops quietly with 141 when stdout's reader has gone (| head)", async () => {
  const io = memoryIo();
  const closed = new WritableStream<Uint8Array>({
    write() {
      const error = new Error("Broken pipe (os error 32)");
      error.name = "BrokenPipe";
      throw error;
    },
  });
  strictEqual(await run(["--help"], { ...io, stdout: closed }), 141);
  strictEqual(io.stderrText(), "");
});

Deno.test("a handler's log() and progress() write to stderr, print() to stdout", async () => {
  const commands: CommandTable = {
    work: {
      summary: "Works",
      usage: "",
      options: {},
      examples: [{ command: "eventlake work", description: "Works" }],
      handler: async (ctx) => {
        await ctx.log("starting");
        const progress = ctx.progress("Copying", { total: 2, unit: "files" });
        await progress.advance(2);
        await progress.done();
        await ctx.print("result");
      },
    },
  };
  const io = memoryIo();
  strictEqual(await run(["work"], io, { commands }), 0);
  strictEqual(io.stdoutText(), "result\n");
  strictEqual(
    io.stderrText(),
    "starting\nCopying: 2/2 files (100%)\nCopying: 2 files done\n",
  );
});

import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { type OptionsSpec, parseCommandArgs } from "./args.ts";

const options: OptionsSpec = {
  json: { type: "boolean", description: "JSON" },
  port: { type: "string", short: "p", description: "Port", valueName: "port" },
  tag: { type: "string", description: "Tag", multiple: true },
};
const context = {
  command: "eventlake x",
  positionals: [
    { name: "first", description: "First" },
    { name: "rest", description: "Rest", required: false, variadic: true },
  ],
};

Deno.test("parseCommandArgs() reads switches, values, short aliases, repeats and positionals", () => {
  const parsed = parseCommandArgs(
    ["a", "--json", "-p", "80", "--tag=x", "--tag", "y", "b", "c"],
    options,
    context,
  );
  deepStrictEqual(parsed.flags, { json: true, port: "80", tag: ["x", "y"] });
  deepStrictEqual(parsed.args, { first: "a", rest: ["b", "c"] });
});

Deno.test("parseCommandArgs() accepts '-' as a value (stdin)", () => {
  strictEqual(parseCommandArgs(["a", "--port", "-"], options, context).flags.port, "-");
});

Deno.test("parseCommandArgs() rejects a value given to a switch", () => {
  throws(() => parseCommandArgs(["a", "--json=yes"], options, context), {
    message: 'Option "--json" does not take a value: got "yes"',
  });
});

Deno.test("parseCommandArgs() rejects a flag whose value is missing or looks like a flag", () => {
  throws(() => parseCommandArgs(["a", "--port"], options, context), {
    message: 'Option "--port" needs a value: --port <port>',
  });
  throws(() => parseCommandArgs(["a", "-p", "--json"], options, context), {
    message: 'Option "-p, --port" needs a value: --port <port>',
  });
});

Deno.test("parseCommandArgs() rejects an unknown short flag, pointing to --help", () => {
  throws(
    () => parseCommandArgs(["a", "-x"], options, context),
    (e: Error & { details?: Record<string, unknown> }) => {
      strictEqual(e.message, 'Unknown option "-x" for "eventlake x"');
      strictEqual(e.details?.hint, 'Run "eventlake x --help" for usage');
      return true;
    },
  );
});

Deno.test("parseCommandArgs() rejects a missing required positional, naming it", () => {
  throws(() => parseCommandArgs(["--json"], options, context), {
    message: "Missing argument <first>: First",
  });
});

Deno.test("parseCommandArgs() rejects an extra positional", () => {
  throws(
    () =>
      parseCommandArgs(["a", "b"], options, {
        command: "eventlake x",
        positionals: [{ name: "f", description: "F" }],
      }),
    { message: 'Unexpected argument "b"' },
  );
});

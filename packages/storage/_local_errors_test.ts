import { ok, strictEqual } from "node:assert/strict";
import { NotFoundError } from "@eventlake/schema";
import { mapFsError, mapPathError } from "./_local_errors.ts";

function errno(code: string): Error {
  return Object.assign(new Error(`${code}: something`), { code });
}

Deno.test("mapFsError() maps each file-system failure to its typed error", () => {
  const url = "file:///lake";
  const cases: [unknown, "read" | "write" | "list" | "delete", string, RegExp][] = [
    [new Deno.errors.NotFound("x"), "read", "NOT_FOUND", /: not found$/],
    [new Deno.errors.PermissionDenied("x"), "read", "PERMISSION_DENIED", /permission denied/],
    [errno("EACCES"), "write", "PERMISSION_DENIED", /permission denied/],
    [errno("EROFS"), "write", "PERMISSION_DENIED", /read-only/],
    [new Deno.errors.NotADirectory("x"), "read", "NOT_FOUND", /a parent of this key is an object/],
    [new Deno.errors.NotADirectory("x"), "write", "CONFLICT", /a parent of this key is an object/],
    [new Deno.errors.IsADirectory("x"), "read", "NOT_FOUND", /prefix of other objects/],
    [errno("ENOTEMPTY"), "write", "CONFLICT", /prefix of other objects/],
    [new Deno.errors.AlreadyExists("x"), "write", "CONFLICT", /already exists/],
    [errno("ENOSPC"), "write", "RESOURCE_EXHAUSTED", /no space left/],
    [errno("EMFILE"), "read", "RESOURCE_EXHAUSTED", /too many open files/],
    [errno("ENAMETOOLONG"), "write", "INVALID_ARGUMENT", /too long/],
    [new Deno.errors.FilesystemLoop("x"), "read", "INVALID_ARGUMENT", /symbolic links/],
    [new Deno.errors.Busy("x"), "delete", "UNAVAILABLE", /busy/],
    [errno("EIO"), "read", "UNAVAILABLE", /input\/output/],
    [new Error("weird"), "list", "INTERNAL", /: weird$/],
  ];
  for (const [error, op, code, message] of cases) {
    const mapped = mapFsError(error, op, "a/b", url);
    strictEqual(mapped.code, code, `${String(error)} on ${op}`);
    ok(mapped.message.startsWith(`Cannot ${op} "a/b" in file:///lake: `), mapped.message);
    ok(message.test(mapped.message), mapped.message);
    strictEqual(mapped.cause, error);
    strictEqual(mapped.details.key, "a/b");
  }
});

Deno.test("mapFsError() passes typed errors through unchanged", () => {
  const typed = new NotFoundError("already typed");
  strictEqual(mapFsError(typed, "read", "k", "file:///x"), typed);
});

Deno.test("mapPathError() names the local path and says what is wrong with it", () => {
  const action = 'Cannot upload "/data/day.bin" to "k" in memory://m';
  const cases: [unknown, string, RegExp][] = [
    [new Deno.errors.NotFound("x"), "NOT_FOUND", /: "\/data\/day.bin": no such file or folder$/],
    [
      new Deno.errors.PermissionDenied("x"),
      "PERMISSION_DENIED",
      /"\/data\/day.bin": permission denied$/,
    ],
    [new Deno.errors.IsADirectory("x"), "INVALID_ARGUMENT", /"\/data\/day.bin": it is a folder/],
    [errno("ENOTDIR"), "NOT_FOUND", /a parent of the path is not a folder/],
    [errno("ENOSPC"), "RESOURCE_EXHAUSTED", /no space left/],
    [new Error("strange"), "INTERNAL", /"\/data\/day.bin": strange$/],
  ];
  for (const [error, code, message] of cases) {
    const mapped = mapPathError(error, action, "/data/day.bin");
    strictEqual(mapped.code, code, `${String(error)}: ${mapped.message}`);
    ok(mapped.message.startsWith(action), mapped.message);
    ok(message.test(mapped.message), mapped.message);
    strictEqual(mapped.details.path, "/data/day.bin");
  }
});

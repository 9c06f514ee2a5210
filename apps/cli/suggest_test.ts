import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { didYouMean, editDistance, suggest } from "./suggest.ts";

Deno.test("editDistance() counts insertions, deletions, substitutions and swaps", () => {
  strictEqual(editDistance("", ""), 0);
  strictEqual(editDistance("abc", ""), 3);
  strictEqual(editDistance("inspect", "inspect"), 0);
  strictEqual(editDistance("inspec", "inspect"), 1);
  strictEqual(editDistance("insxect", "inspect"), 1);
  strictEqual(editDistance("inpsect", "inspect"), 1);
  strictEqual(editDistance("kitten", "sitting"), 3);
});

Deno.test("suggest() returns close names best first and nothing for far ones", () => {
  deepStrictEqual(suggest("confgi", ["config", "inspect", "help"]), ["config"]);
  deepStrictEqual(suggest("zzz", ["config", "inspect", "help"]), []);
  deepStrictEqual(suggest("ins", ["inspect", "import"]), ["inspect"]);
});

Deno.test("didYouMean() quotes the candidates or returns undefined", () => {
  strictEqual(didYouMean("hlep", ["help", "version"]), 'Did you mean "help"?');
  strictEqual(didYouMean("xyzzy", ["help", "version"]), undefined);
});

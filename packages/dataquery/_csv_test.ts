import { strictEqual } from "node:assert/strict";
import { csvField, csvRecord, csvRecords } from "./_csv.ts";

Deno.test("csvField() quotes only what RFC 4180 needs and keeps NULL apart from the empty string", () => {
  strictEqual(csvField("plain"), "plain");
  strictEqual(csvField(null), "");
  strictEqual(csvField(""), '""');
  strictEqual(csvField("a,b"), '"a,b"');
  strictEqual(csvField('say "hi"'), '"say ""hi"""');
  strictEqual(csvField("two\nlines"), '"two\nlines"');
  strictEqual(csvField("cr\r"), '"cr\r"');
  strictEqual(csvField(" spaced "), " spaced ");
  strictEqual(csvField("한국어"), "한국어");
});

Deno.test("csvRecord() and csvRecords() end every record in CRLF", () => {
  strictEqual(csvRecord(["a", null, ""]), 'a,,""\r\n');
  strictEqual(csvRecords([["1"], ["2"]]), "1\r\n2\r\n");
  strictEqual(csvRecords([]), "");
});

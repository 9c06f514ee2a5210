import { strictEqual } from "node:assert/strict";
import { formatBytes, formatCount, formatTable, visibleWidth } from "./format.ts";

Deno.test("formatTable() aligns columns, ignoring colour escapes, and right-aligns numbers", () => {
  strictEqual(
    formatTable([["\x1b[1mname\x1b[22m", "rows"], ["ts", "1,000"]], { alignRight: [1] }),
    "\x1b[1mname\x1b[22m   rows\nts    1,000",
  );
  strictEqual(formatTable([["a", "b"], ["ccc", ""]], { indent: "  " }), "  a    b\n  ccc");
});

Deno.test("visibleWidth() counts terminal columns, not escapes or UTF-16 units", () => {
  strictEqual(visibleWidth("\x1b[31mé\x1b[39m"), 1);
  strictEqual(visibleWidth("e\u0301"), 1, "a combining accent takes no column");
  strictEqual(visibleWidth("😀"), 2, "emoji are wide");
  strictEqual(visibleWidth("장바구니_담기"), 13, "Hangul syllables are wide");
  strictEqual(visibleWidth("漢字ｱ"), 5, "CJK wide, halfwidth katakana narrow");
});

Deno.test("formatTable() aligns columns holding wide characters", () => {
  const text = formatTable([["event_key", "n"], ["장바구니_담기", "66"], ["login", "90"]], {
    alignRight: [1],
  });
  const ends = text.split("\n").map((line) => visibleWidth(line));
  strictEqual(new Set(ends).size, 1, text);
});

Deno.test("formatBytes() keeps small sizes exact and scales large ones", () => {
  strictEqual(formatBytes(0), "0 B");
  strictEqual(formatBytes(1023), "1023 B");
  strictEqual(formatBytes(1024), "1.0 KiB");
  strictEqual(formatBytes(1536), "1.5 KiB");
  strictEqual(formatBytes(10 * 1024 * 1024 + 1), "10.0 MiB");
  strictEqual(formatBytes(300 * 1024 ** 3), "300 GiB");
});

Deno.test("formatCount() groups thousands", () => {
  strictEqual(formatCount(0), "0");
  strictEqual(formatCount(1000000), "1,000,000");
});

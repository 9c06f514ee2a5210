import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { join } from "node:path";
import { createLocalStore, DEFAULT_LAKE_TABLE } from "@eventlake/storage";
import {
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnavailableError,
} from "@eventlake/schema";
import { createDuckDbEngine, type DuckDbEngine } from "./duckdb.ts";
import type { EngineDataSource, ExecuteContext } from "./engine.ts";
import { type MysqlDataSource, readMysqlTable, testMysqlSource } from "./mysql.ts";
import { landFixtureDays } from "./_duckdb_testing.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const START = join(ROOT, "scripts/mysql-server/start.sh");
const STOP = join(ROOT, "scripts/mysql-server/stop.sh");

function mariadbMissing(): string | undefined {
  const out = new Deno.Command("sh", {
    args: ["-c", "command -v mariadbd || test -x /usr/sbin/mariadbd"],
    stdout: "null",
    stderr: "null",
  }).outputSync();
  return out.success ? undefined : "mariadbd is not installed (run scripts/install/mysql.sh)";
}

const skip = mariadbMissing();
if (skip) console.log(`mysql_test.ts: MySQL tests skipped: ${skip}`);

async function sh(cmd: string, args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

const SEED = `
CREATE DATABASE shop;
CREATE TABLE shop.users (
  id BIGINT PRIMARY KEY, event_key VARCHAR(20), name VARCHAR(50), credit DECIMAL(12,3),
  big DECIMAL(65,2), born DATE, seen DATETIME(3), zero DATETIME, flags BIT(8), avatar BLOB,
  score DOUBLE, tiny TINYINT UNSIGNED
);
INSERT INTO shop.users VALUES
  (1, 'k0', 'Ann', 1234567.125, 12345678901234567890123456789012345678901234567890.12,
   '1990-05-01', '2023-01-01 10:11:12.345', '0000-00-00 00:00:00', b'00000101', x'00ff', 1.5, 255),
  (2, 'k1', 'Bob', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, 'k9', 'Cid', -0.5, 1, '2000-01-01', '2000-01-01 00:00:00', NULL, b'0', '', 0, 0);
CREATE TABLE shop.many (n INT);
USE shop;
INSERT INTO shop.many SELECT seq FROM seq_1_to_20;
`;

Deno.test({
  name: "DuckDbEngine joins a MySQL table on a real MariaDB with a lake table",
  ignore: skip !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const home = await Deno.makeTempDir({ prefix: "eventlake-mysql-test-" });
    const state = join(home, "mariadb");
    let engine: DuckDbEngine | undefined;
    try {
      const port = Number((await sh("bash", [START, state])).trim().split("\n").pop());
      const env = Object.fromEntries(
        (await Deno.readTextFile(join(state, "env"))).trim().split("\n").map((l) => l.split("=")),
      );
      await sh("mariadb", [
        "--no-defaults",
        `--socket=${env.MYSQL_SOCKET}`,
        "-uroot",
        "--init-command=SET SESSION sql_mode=''",
      ], SEED);
      const instance = { instanceId: "main", host: "127.0.0.1", port };
      const shop: MysqlDataSource = {
        type: "MYSQL",
        name: "shop_src",
        instance,
        user: "eventlake",
        password: "eventlake-test",
      };
      const lakeDir = join(home, "lake");
      await Deno.mkdir(lakeDir);
      await landFixtureDays(lakeDir, DEFAULT_LAKE_TABLE, [{
        date: "2023-01-01",
        sql: "SELECT 'k' || (i % 3) AS event_key, i AS n FROM range(9) t(i)",
      }]);
      engine = await createDuckDbEngine({
        home,
        lake: createLocalStore(lakeDir),
        threads: 2,
        mysqlRowLimit: 10,
      });
      const sources: EngineDataSource[] = [{ type: "DATA_CATALOG", name: "data_catalog" }, shop];
      const run = async (sql: string, extra: Partial<ExecuteContext> = {}) => {
        const result = await engine!.execute(sql, {
          dataSources: sources,
          signal: new AbortController().signal,
          ...extra,
        });
        const rows: (string | null)[][] = [];
        for await (const batch of result.rows) rows.push(...batch);
        return { result, rows };
      };

      await t.step(
        "testDataSource() accepts a good login, refuses a bad one, reports an unreachable host",
        async () => {
          await engine!.testDataSource(shop);
          await rejects(testMysqlSource({ ...shop, password: "wrong" }), (e: unknown) => {
            ok(e instanceof PermissionDeniedError);
            ok(/Access denied for user 'eventlake'/.test(e.message), e.message);
            return true;
          });
          await rejects(
            testMysqlSource({ ...shop, instance: { ...instance, port: 9 } }),
            UnavailableError,
          );
        },
      );

      await t.step("readMysqlTable() maps MySQL types to DuckDB types", async () => {
        const reader = await readMysqlTable(shop, { database: "shop", table: "users" });
        deepStrictEqual(reader.columns.map((c) => c.duckdbType), [
          "BIGINT",
          "VARCHAR",
          "VARCHAR",
          "DECIMAL(12,3)",
          "VARCHAR",
          "DATE",
          "TIMESTAMP",
          "TIMESTAMP",
          "UBIGINT",
          "BLOB",
          "DOUBLE",
          "UTINYINT",
        ]);
        let rows = 0;
        for await (const batch of reader.rows) rows += batch.length;
        strictEqual(rows, 3);
      });

      await t.step(
        "a query joins lake and MySQL tables; values keep MySQL's exact text",
        async () => {
          const { result, rows } = await run(
            `SELECT u.name, u.credit, u.big, u.seen, u.zero, u.flags, u.avatar, count(e.n) AS events
           FROM shop_src.shop.users u LEFT JOIN data_catalog.default.events e USING (event_key)
           GROUP BY ALL ORDER BY u.name`,
          );
          deepStrictEqual(result.columns?.map((c) => c.type), [
            "varchar",
            "decimal(12,3)",
            "varchar",
            "timestamp",
            "timestamp",
            "ubigint",
            "blob",
            "bigint",
          ]);
          deepStrictEqual(rows, [
            [
              "Ann",
              "1234567.125",
              "12345678901234567890123456789012345678901234567890.12",
              "2023-01-01 10:11:12.345",
              null,
              "5",
              "\\x00\\xFF",
              "3",
            ],
            ["Bob", null, null, null, null, null, null, "3"],
            ["Cid", "-0.500", "1.00", "2000-01-01 00:00:00", null, "0", "", "0"],
          ]);
          ok((result.stats().inputBytes ?? 0) > 0);
        },
      );

      await t.step(
        "X-Data-Source/X-Database of a MySQL source resolve unqualified tables",
        async () => {
          const { rows } = await run("SELECT count(*), max(id) FROM users", {
            dataSource: "shop_src",
            database: "shop",
          });
          deepStrictEqual(rows, [["3", "3"]]);
        },
      );

      await t.step(
        "concurrent queries each stage their own copy of the same MySQL table",
        async () => {
          const all = await Promise.all(
            Array.from({ length: 4 }, (_, i) =>
              run(
                `SELECT count(*) + ${i} FROM shop_src.shop.users u JOIN data_catalog.default.events e USING (event_key)`,
              )),
          );
          deepStrictEqual(
            all.map((r) => r.rows),
            [0, 1, 2, 3].map((i) => [[String(6 + i)]]),
          );
        },
      );

      await t.step(
        "a missing MySQL table, an invisible source and a too large table fail clearly",
        async () => {
          await rejects(run("SELECT * FROM shop_src.shop.nope"), (e: unknown) => {
            ok(e instanceof NotFoundError);
            ok(/Table 'shop.nope' doesn't exist/.test(e.message), e.message);
            return true;
          });
          await rejects(
            engine!.execute("SELECT * FROM shop_src.shop.users", {
              dataSources: [{ type: "DATA_CATALOG", name: "data_catalog" }],
              signal: new AbortController().signal,
            }),
            (e: unknown) => {
              ok(e instanceof InvalidArgumentError);
              ok(/Unknown data source "shop_src"/.test(e.message), e.message);
              return true;
            },
          );
          await rejects(run("SELECT count(*) FROM shop_src.shop.many"), (e: unknown) => {
            ok(e instanceof ResourceExhaustedError);
            ok(/has more than 10 rows/.test(e.message), e.message);
            return true;
          });
        },
      );
    } finally {
      await engine?.close();
      await sh("bash", [STOP, state]).catch(() => {});
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});

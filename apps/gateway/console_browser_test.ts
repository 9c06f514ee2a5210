// End to end: the real embedded gateway (server.ts: DuckDB, SQLite state, folder buckets, the
// local import service) with the console, driven in headless Chromium through playwright-core.
// Screenshots go to .artifacts/console/*.png (gitignored).
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import {
  browserSkipReason,
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  startConsoleServer,
  startEmbeddedServer,
} from "./console/_testing.ts";

const ARTIFACTS = join(import.meta.dirname!, "..", "..", ".artifacts", "console");
const skip = browserSkipReason();
if (skip !== undefined) console.warn(`console browser test skipped: ${skip}`);

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

/** Runs `fn` with a page of a fresh headless Chromium (1280×800, empty profile). */
async function withChromium(fn: (page: Page) => Promise<void>): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  const profile = await Deno.makeTempDir({ prefix: "eventlake-console-chromium-" });
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.setDefaultTimeout(20_000);
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await fn(page);
    deepStrictEqual(pageErrors, []);
  } finally {
    await context?.close();
    await Deno.remove(profile, { recursive: true });
  }
}

async function signIn(page: Page, url: string, id: string, secret: string): Promise<void> {
  await page.goto(url + "/");
  await page.getByLabel("Credential ID").fill(id);
  await page.getByLabel("Credential secret").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#app").waitFor({ state: "visible" });
}

Deno.test({
  name:
    "console in Chromium on the embedded gateway: sign in, query the lake, page, download, abort, history, imports",
  ignore: skip !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server = await startEmbeddedServer(500);
    try {
      await withChromium(async (page) => {
        const { id, secret } = server.credential;

        await t.step("a wrong secret is refused with the API's message", async () => {
          await page.goto(server.url + "/");
          await shot(page, "01-signin");
          await page.getByLabel("Credential ID").fill(id);
          await page.getByLabel("Credential secret").fill("not-the-secret");
          await page.getByRole("button", { name: "Sign in" }).click();
          const error = page.locator("#signin-error");
          await error.waitFor({ state: "visible" });
          ok((await error.textContent())!.includes("UNAUTHENTICATED"));
          await shot(page, "02-signin-refused");
        });

        await t.step("signs in; the data sources fill the form's default", async () => {
          await page.getByLabel("Credential secret").fill(secret);
          await page.getByRole("button", { name: "Sign in" }).click();
          await page.locator("#app").waitFor({ state: "visible" });
          strictEqual(await page.locator("#who-name").textContent(), id);
          ok(!page.url().includes(secret));
          await page.locator("#q-data-source option[value=data_catalog]").waitFor({
            state: "attached",
          });
          strictEqual(await page.locator("#q-data-source").inputValue(), "data_catalog");
          strictEqual(await page.getByLabel("Database").inputValue(), "default");
        });

        await t.step("queries the lake with the data source and database defaults", async () => {
          const sql = "select count(*) as events from events";
          await page.getByLabel("SQL", { exact: true }).fill(sql);
          const [submit] = await Promise.all([
            page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith("/query")),
            page.getByRole("button", { name: "Run", exact: true }).click(),
          ]);
          // The defaults travel as the Open API's headers, the credential likewise.
          const headers = await submit.allHeaders();
          strictEqual(headers["x-data-source"], "data_catalog");
          strictEqual(headers["x-database"], "default");
          strictEqual(headers["credential-secret"], secret);
          ok(!submit.url().includes(secret));
          deepStrictEqual(submit.postDataJSON(), {
            query: sql,
            resultConfig: { bucketName: "results", path: "console" },
          });
          await page.locator("#qs-state.FINISHED").waitFor();
          deepStrictEqual(
            await page.locator("#results-table tbody tr td").allTextContents(),
            [String(server.bootstrap!.demoRows)],
          );
        });

        let finishedId = "";
        await t.step("runs a query, sees rows and pages through them", async () => {
          await page.getByLabel("SQL", { exact: true }).fill(
            "select range as n, 'row ' || range as label from range(2500) order by n",
          );
          await page.getByRole("button", { name: "Run", exact: true }).click();
          await page.locator("#qs-state.FINISHED").waitFor();
          await page.locator("#results-note", { hasText: "2,500 rows in all" }).waitFor();
          strictEqual(await page.locator("#qs-state").textContent(), "FINISHED");
          finishedId = (await page.locator("#qs-id").textContent())!;
          const rows = page.locator("#results-table tbody tr");
          strictEqual(await rows.count(), 100);
          deepStrictEqual(await rows.first().locator("td").allTextContents(), ["0", "row 0"]);
          deepStrictEqual(await page.locator("#results-table thead th").allTextContents(), [
            "nbigint",
            "labelvarchar",
          ]);
          await shot(page, "03-finished");
          await page.getByRole("button", { name: "Next" }).first().click();
          await page.locator("#page-info", { hasText: "Rows 101–200" }).waitFor();
          deepStrictEqual(await rows.first().locator("td").allTextContents(), ["100", "row 100"]);
          await shot(page, "04-page-2");
        });

        await t.step("downloads the full CSV, past the 1,000 paged rows", async () => {
          const [download] = await Promise.all([
            page.waitForEvent("download"),
            page.getByRole("button", { name: "Download full CSV" }).click(),
          ]);
          strictEqual(download.suggestedFilename(), `${finishedId}.csv`);
          const text = await readFile(await download.path(), "utf8");
          const lines = text.split("\r\n");
          strictEqual(lines[0], "n,label");
          strictEqual(lines[2500], "2499,row 2499");
          strictEqual(lines.length, 2502); // header, 2,500 rows, "" after the last CRLF
        });

        await t.step("aborts a long query", async () => {
          await page.getByLabel("SQL", { exact: true }).fill(
            "select count(*) from range(1000000000) a, range(1000000000) b where a.range + b.range = 7",
          );
          await page.getByRole("button", { name: "Run", exact: true }).click();
          await page.locator("#qs-state.RUNNING").waitFor();
          await shot(page, "05-running");
          await page.getByRole("button", { name: "Abort" }).click();
          await page.locator("#qs-state.ABORTED").waitFor();
          strictEqual(await page.locator("#qs-state").textContent(), "ABORTED");
          ok(await page.getByRole("button", { name: "Run", exact: true }).isEnabled());
          await shot(page, "06-aborted");
        });

        await t.step("a failed query shows the engine's message", async () => {
          await page.getByLabel("SQL", { exact: true }).fill("select * from no_such_table");
          await page.getByRole("button", { name: "Run", exact: true }).click();
          await page.locator("#qs-state.FAILED").waitFor();
          ok((await page.locator("#qs-message").textContent())!.includes("no_such_table"));
          await shot(page, "07-failed");
        });

        await t.step("history lists the queries and filters them", async () => {
          await page.getByRole("tab", { name: "History" }).click();
          const rows = page.locator("#history-table tbody tr");
          await page.locator("#h-info", { hasText: "4 queries" }).waitFor();
          strictEqual(await rows.count(), 4);
          await shot(page, "08-history");
          await page.getByLabel("ABORTED").check();
          await page.getByRole("button", { name: "Search" }).click();
          await page.locator("#h-info", { hasText: "1 queries" }).waitFor();
          strictEqual(await rows.first().locator(".badge").textContent(), "ABORTED");
          await page.getByLabel("ABORTED").uncheck();
          await page.getByLabel("Query ID contains").fill(finishedId);
          await page.getByRole("button", { name: "Search" }).click();
          await page.locator("#h-info", { hasText: "1 queries" }).waitFor();
          // Opening a query from the history shows it on the query tab.
          await page.getByRole("button", { name: finishedId }).click();
          await page.locator("#qs-state.FINISHED").waitFor();
          strictEqual(await page.locator("#qs-id").textContent(), finishedId);
          // A reload keeps the session (sessionStorage) and reopens the query from the fragment.
          strictEqual(new URL(page.url()).hash, `#query=${finishedId}`);
          await page.reload();
          await page.locator("#qs-state.FINISHED").waitFor();
          strictEqual(await page.locator("#qs-id").textContent(), finishedId);
          await page.locator("#results-table tbody tr").nth(99).waitFor();
        });

        await t.step("a refused data source shows the API's code and message", async () => {
          await page.getByRole("tab", { name: "Data sources" }).click();
          await page.locator("#sources-table tbody tr").first().waitFor();
          ok((await page.locator("#sources-table tbody").textContent())!.includes("data_catalog"));
          await page.getByLabel("Name", { exact: true }).fill("my_mysql");
          await page.getByLabel("MySQL instance ID").fill("no-such-instance");
          await page.getByLabel("MySQL user").fill("reader");
          await page.getByLabel("MySQL password").fill("pw");
          await page.getByRole("button", { name: "Create" }).click();
          const error = page.locator("#sources-error");
          await error.waitFor({ state: "visible" });
          ok((await error.textContent())!.includes("INVALID_ARGUMENT"));
          ok((await error.textContent())!.includes("no-such-instance"));
          await shot(page, "09-sources-refused");
        });

        await t.step(
          "import jobs, their run reports, and a new run watched to its end",
          async () => {
            await page.getByRole("tab", { name: "Imports" }).click();
            const job = page.locator("#jobs-table tbody tr", { hasText: "demo" });
            await job.waitFor();
            await job.locator("button").click();
            const runs = page.locator("#runs-list tbody tr");
            await runs.first().locator(".badge.SUCCEEDED").waitFor();
            const demoRows = server.bootstrap!.demoRows;
            ok((await runs.first().textContent())!.includes(`accepted ${demoRows}`));
            await page.getByLabel("Day").fill(server.bootstrap!.demoDate);
            await page.getByRole("button", { name: "Start run" }).click();
            await runs.nth(1).waitFor();
            // The panel polls while the new run is QUEUED or RUNNING.
            await runs.first().locator(".badge:not(.QUEUED):not(.RUNNING)").waitFor();
            await shot(page, "10-imports");
          },
        );

        await t.step("signing out forgets the credential", async () => {
          await page.getByRole("button", { name: "Sign out" }).click();
          await page.locator("#signin").waitFor({ state: "visible" });
          strictEqual(await page.evaluate(() => sessionStorage.length), 0);
        });
      });
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name:
    "console in Chromium: Ctrl+Enter runs, values render as text, a MySQL data source is created (password base64) and deleted",
  ignore: skip !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startConsoleServer();
    try {
      await withChromium(async (page) => {
        await signIn(page, server.url, server.credential.id, server.credential.secret);
        // Ctrl+Enter runs; values are shown as text, never as markup.
        await page.getByLabel("SQL", { exact: true }).fill(
          "select '<b id=\"x\">bold</b>' as html, null as nothing",
        );
        await page.getByLabel("SQL", { exact: true }).press("Control+Enter");
        await page.locator("#qs-state.FINISHED").waitFor();
        deepStrictEqual(await page.locator("#results-table tbody td").allTextContents(), [
          '<b id="x">bold</b>',
          "NULL",
        ]);
        strictEqual(await page.locator("#results-table b").count(), 0);
        strictEqual(await page.locator("#results-table td.null").count(), 1);
        await page.getByRole("tab", { name: "Data sources" }).click();
        await page.getByLabel("Name", { exact: true }).fill("my_mysql");
        await page.getByLabel("MySQL instance ID").fill("mysql-1");
        await page.getByLabel("MySQL user").fill("reader");
        await page.getByLabel("MySQL password").fill("pw");
        await page.getByLabel("Description").fill("orders replica");
        const [create] = await Promise.all([
          page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith("/data-source")),
          page.getByRole("button", { name: "Create" }).click(),
        ]);
        strictEqual(create.postDataJSON().mysqlPassword, btoa("pw")); // base64, as the API wants
        const mine = page.locator("#sources-table tbody tr", { hasText: "my_mysql" });
        await mine.waitFor();
        ok((await mine.textContent())!.includes("PRIVATE"));
        ok(await page.locator("#sources-error").isHidden());
        // The form was reset, and the new source is offered on the query form.
        strictEqual(await page.getByLabel("Name", { exact: true }).inputValue(), "");
        strictEqual(await page.locator("#q-data-source option[value=my_mysql]").count(), 1);
        await shot(page, "11-sources");
        page.once("dialog", (d) => d.accept());
        await page.getByRole("button", { name: "Delete my_mysql" }).click();
        await mine.waitFor({ state: "detached" });
      });
    } finally {
      await server.close();
    }
  },
});

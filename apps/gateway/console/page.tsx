/**
 * The console's server-rendered shell: every panel is in the HTML, hidden until the client script
 * (`client.ts`) signs in and fills it. No inline script or style, so the page runs under a strict
 * Content-Security-Policy.
 *
 * @module
 */
import type { FC } from "hono/jsx";

/** Defaults the query form starts with (the user's own choices, kept in localStorage, win). */
export interface ConsoleDefaults {
  /** Default data source (the `X-Data-Source` header), e.g. `data_catalog`. */
  dataSource?: string;
  /** Default database (the `X-Database` header), e.g. `default`. */
  database?: string;
  /** Bucket of query results (`resultConfig.bucketName`). */
  bucketName?: string;
  /** Path of query results inside the bucket (`resultConfig.path`). */
  path?: string;
}

/** Props of {@linkcode ConsolePage}. */
export interface ConsolePageProps {
  /** Page title. */
  title: string;
  /** URL of the style sheet. */
  cssUrl: string;
  /** URL of the client script. */
  jsUrl: string;
  /** Form defaults. */
  defaults: ConsoleDefaults;
}

const STATES = ["QUEUED", "RUNNING", "FINISHED", "FAILED", "ABORTED"];
const SORTS: [string, string][] = [
  ["createdAt,desc", "Newest first"],
  ["createdAt,asc", "Oldest first"],
  ["elapsedTime,desc", "Longest first"],
  ["state,asc", "State"],
  ["queryId,asc", "Query ID"],
  ["creatorName,asc", "Creator"],
];

/** Props of {@linkcode Table}. */
interface TableProps {
  /** The table's id, by which the client script fills its body. */
  id: string;
  /** Column headers. */
  columns: string[];
  /** Adds a last column for row buttons, its header read only by screen readers. */
  actions?: boolean;
}

/** A scrollable table with fixed headers and an empty body the client script fills. */
const Table: FC<TableProps> = ({ id, columns, actions }) => (
  <div class="table-wrap">
    <table id={id}>
      <thead>
        <tr>
          {
            // hono/jsx prints a `key` prop as an attribute, and a static list needs none.
            // deno-lint-ignore jsx-key
            columns.map((c) => <th scope="col">{c}</th>)
          }
          {actions && (
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody></tbody>
    </table>
  </div>
);

const SignIn: FC = () => (
  <section id="signin" class="panel signin" aria-labelledby="signin-title">
    <h2 id="signin-title">Sign in</h2>
    <p>
      Use a credential of this gateway. It is kept in this browser tab only (sessionStorage) and
      sent as the Credential-ID and Credential-Secret headers.
    </p>
    <form id="signin-form" autocomplete="off">
      <div class="field">
        <label for="credential-id">Credential ID</label>
        <input id="credential-id" name="credentialId" type="text" required spellcheck={false} />
      </div>
      <div class="field">
        <label for="credential-secret">Credential secret</label>
        <input id="credential-secret" name="credentialSecret" type="password" required />
      </div>
      <div id="signin-error" class="alert" role="alert" hidden></div>
      <div class="actions">
        <button type="submit" class="primary">Sign in</button>
      </div>
    </form>
  </section>
);

const QueryPanel: FC<{ defaults: ConsoleDefaults }> = ({ defaults }) => (
  <section id="panel-query" role="tabpanel" aria-labelledby="tab-query">
    <form id="query-form" class="panel" aria-label="Run a query">
      <div class="field">
        <label for="q-sql">SQL</label>
        <textarea id="q-sql" spellcheck={false} required placeholder="select 1"></textarea>
      </div>
      <div class="row">
        <div class="field">
          <label for="q-data-source">Data source</label>
          <select id="q-data-source" data-default={defaults.dataSource ?? ""}>
            <option value="">(none)</option>
          </select>
        </div>
        <div class="field">
          <label for="q-database">Database</label>
          <input id="q-database" type="text" spellcheck={false} value={defaults.database ?? ""} />
        </div>
        <div class="field">
          <label for="q-bucket">Result bucket</label>
          <input
            id="q-bucket"
            type="text"
            required
            spellcheck={false}
            value={defaults.bucketName ?? ""}
          />
        </div>
        <div class="field">
          <label for="q-path">Result path</label>
          <input id="q-path" type="text" required spellcheck={false} value={defaults.path ?? ""} />
        </div>
        <div class="field narrow">
          <label for="q-reuse-age">Reuse (max min)</label>
          <div class="inline">
            <input id="q-reuse" type="checkbox" aria-label="Reuse results" />
            <input
              id="q-reuse-age"
              type="number"
              min="1"
              max="1440"
              value="60"
              aria-label="Maximum reuse age in minutes"
            />
          </div>
        </div>
      </div>
      <div class="actions">
        <button id="run" type="submit" class="primary">Run</button>
        <button id="abort" type="button" class="danger" disabled>Abort</button>
        <span class="hint">Ctrl+Enter runs the query</span>
      </div>
    </form>
    <div id="query-error" class="alert" role="alert" hidden></div>
    <section id="query-status" class="panel" aria-live="polite" hidden>
      <div class="status">
        <span>
          Query <span id="qs-id" class="qid"></span>
        </span>
        <span id="qs-state" class="badge" data-testid="query-state"></span>
        <progress id="qs-progress" max="100" value="0" aria-label="Progress"></progress>
        <span id="qs-percent" class="hint"></span>
      </div>
      <div id="qs-message" class="notice" hidden></div>
      <dl id="qs-stats" class="stats"></dl>
    </section>
    <section id="results" class="panel" hidden aria-labelledby="results-title">
      <h2 id="results-title">Results</h2>
      <div id="results-empty" class="empty" hidden>The statement returned no rows.</div>
      <div class="table-wrap">
        <table id="results-table">
          <thead></thead>
          <tbody></tbody>
        </table>
      </div>
      <div class="pager">
        <button id="page-prev" type="button">Previous</button>
        <span id="page-info" class="info"></span>
        <button id="page-next" type="button">Next</button>
        <span class="spacer"></span>
        <span id="results-note" class="hint"></span>
        <button id="download" type="button">Download full CSV</button>
      </div>
    </section>
  </section>
);

const HistoryPanel: FC = () => (
  <section id="panel-history" role="tabpanel" aria-labelledby="tab-history" hidden>
    <form id="history-form" class="panel" aria-label="Filter the query history">
      <div class="row">
        <div class="field">
          <label for="h-query-id">Query ID contains</label>
          <input id="h-query-id" type="text" spellcheck={false} />
        </div>
        <div class="field">
          <label for="h-creator">Creator</label>
          <input id="h-creator" type="text" spellcheck={false} />
        </div>
        <div class="field">
          <label for="h-sort">Sort</label>
          <select id="h-sort">
            {
              // hono/jsx prints a `key` prop as an attribute, and a static list needs none.
              // deno-lint-ignore jsx-key
              SORTS.map(([value, text]) => <option value={value}>{text}</option>)
            }
          </select>
        </div>
        <div class="field narrow">
          <label for="h-size">Page size</label>
          <select id="h-size">
            <option value="20">20</option>
            <option value="50">50</option>
            <option value="100">100</option>
          </select>
        </div>
      </div>
      <fieldset class="checks">
        <legend class="sr-only">States</legend>
        {STATES.map((s) => (
          <label>
            <input type="checkbox" name="h-state" value={s} /> {s}
          </label>
        ))}
      </fieldset>
      <div class="actions">
        <button type="submit" class="primary">Search</button>
        <button id="h-reset" type="button">Reset</button>
      </div>
    </form>
    <div id="history-error" class="alert" role="alert" hidden></div>
    <section class="panel">
      <Table
        id="history-table"
        columns={["Query ID", "State", "Created", "Elapsed", "Scanned", "Creator", "Query"]}
      />
      <div class="pager">
        <button id="h-prev" type="button">Previous</button>
        <span id="h-info" class="info"></span>
        <button id="h-next" type="button">Next</button>
      </div>
    </section>
  </section>
);

const DataSourcePanel: FC = () => (
  <section id="panel-sources" role="tabpanel" aria-labelledby="tab-sources" hidden>
    <div id="sources-error" class="alert" role="alert" hidden></div>
    <section class="panel" aria-labelledby="sources-title">
      <h2 id="sources-title">Data sources</h2>
      <Table
        id="sources-table"
        columns={["Name", "Type", "Scope", "Creator", "Description"]}
        actions
      />
    </section>
    <form id="source-form" class="panel" aria-labelledby="source-form-title">
      <h2 id="source-form-title">New MySQL data source</h2>
      <div class="row">
        <div class="field">
          <label for="s-name">Name</label>
          <input
            id="s-name"
            type="text"
            required
            pattern="[a-z0-9_]{3,72}"
            title="3 to 72 lowercase letters, digits or underscores"
            spellcheck={false}
          />
        </div>
        <div class="field narrow">
          <label for="s-scope">Scope</label>
          <select id="s-scope">
            <option value="PRIVATE">PRIVATE</option>
            <option value="PUBLIC">PUBLIC</option>
          </select>
        </div>
        <div class="field">
          <label for="s-instance">MySQL instance ID</label>
          <input id="s-instance" type="text" required spellcheck={false} />
        </div>
      </div>
      <div class="row">
        <div class="field">
          <label for="s-user">MySQL user</label>
          <input id="s-user" type="text" required spellcheck={false} autocomplete="off" />
        </div>
        <div class="field">
          <label for="s-password">MySQL password</label>
          <input id="s-password" type="password" required autocomplete="new-password" />
        </div>
        <div class="field">
          <label for="s-description">Description</label>
          <input id="s-description" type="text" />
        </div>
      </div>
      <p class="hint">The password is sent base64-encoded, as the Open API requires.</p>
      <div class="actions">
        <button type="submit" class="primary">Create</button>
      </div>
    </form>
  </section>
);

const ImportPanel: FC = () => (
  <section id="panel-imports" role="tabpanel" aria-labelledby="tab-imports" hidden>
    <div id="imports-error" class="alert" role="alert" hidden></div>
    <section class="panel" aria-labelledby="jobs-title">
      <div class="panel-head">
        <h2 id="jobs-title">Import jobs</h2>
        <button id="jobs-refresh" type="button">Refresh</button>
      </div>
      <Table
        id="jobs-table"
        columns={["Job", "Name", "Table", "Source", "Dedup days", "Created"]}
      />
    </section>
    <section id="runs" class="panel" hidden aria-labelledby="runs-title">
      <h2 id="runs-title">
        Runs of <span id="runs-job" class="qid"></span>
      </h2>
      <form id="run-form" class="row" aria-label="Start an import run">
        <div class="field narrow">
          <label for="r-date">Day</label>
          <input id="r-date" type="date" required />
        </div>
        <div class="field">
          <button type="submit">Start run</button>
        </div>
      </form>
      <div id="runs-list"></div>
    </section>
  </section>
);

/**
 * The whole console page.
 *
 * @example
 * ```tsx
 * import { ConsolePage } from "./page.tsx";
 * const html = String(
 *   <ConsolePage title="eventlake" cssUrl="/a.css" jsUrl="/a.js" defaults={{}} />,
 * );
 * console.log(html.includes("Sign in")); // true
 * ```
 */
export const ConsolePage: FC<ConsolePageProps> = (props) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <title>{props.title}</title>
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href={props.cssUrl} />
      <script src={props.jsUrl} defer></script>
    </head>
    <body>
      <header class="topbar">
        <h1>{props.title}</h1>
        <span id="who" class="who" hidden>
          Signed in as <code id="who-name"></code>
        </span>
        <button id="signout" type="button" hidden>Sign out</button>
      </header>
      <SignIn />
      <div id="app" hidden>
        <nav class="tabs" role="tablist" aria-label="Console sections">
          <button
            id="tab-query"
            type="button"
            role="tab"
            aria-controls="panel-query"
            aria-selected="true"
          >
            Query
          </button>
          <button
            id="tab-history"
            type="button"
            role="tab"
            aria-controls="panel-history"
            aria-selected="false"
          >
            History
          </button>
          <button
            id="tab-sources"
            type="button"
            role="tab"
            aria-controls="panel-sources"
            aria-selected="false"
          >
            Data sources
          </button>
          <button
            id="tab-imports"
            type="button"
            role="tab"
            aria-controls="panel-imports"
            aria-selected="false"
          >
            Imports
          </button>
        </nav>
        <main>
          <QueryPanel defaults={props.defaults} />
          <HistoryPanel />
          <DataSourcePanel />
          <ImportPanel />
        </main>
      </div>
    </body>
  </html>
);

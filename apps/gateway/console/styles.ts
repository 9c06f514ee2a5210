/**
 * The console's one style sheet, served as a static asset. System fonts only: the console must
 * work offline, so nothing is fetched from a CDN.
 *
 * @module
 */

/** The console's CSS. */
export const CONSOLE_CSS: string = `
:root {
  --bg: #f6f7f9; --panel: #fff; --fg: #1d2430; --muted: #5b6574; --line: #d9dee5;
  --accent: #2457c5; --accent-fg: #fff; --danger: #b3261e; --ok: #1b7f3b; --warn: #a15c00;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
  color-scheme: light;
}
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body {
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  background: var(--bg); color: var(--fg);
}
[hidden] { display: none !important; }
a { color: var(--accent); }
h1 { font-size: 17px; margin: 0; font-weight: 600; }
h2 { font-size: 15px; margin: 0 0 10px; font-weight: 600; }
h3 { font-size: 14px; margin: 14px 0 8px; font-weight: 600; }
.topbar {
  display: flex; align-items: center; gap: 16px; padding: 10px 20px;
  background: #18202c; color: #fff;
}
.topbar .who { margin-left: auto; color: #c9d1dd; font-size: 13px; }
.topbar .who code { color: #fff; }
.topbar button { background: transparent; color: #fff; border-color: #5b6574; }
nav.tabs { display: flex; gap: 2px; padding: 0 20px; background: #fff; border-bottom: 1px solid var(--line); }
nav.tabs button {
  border: 0; border-bottom: 2px solid transparent; border-radius: 0; background: none;
  padding: 10px 14px; color: var(--muted); font-weight: 500;
}
nav.tabs button[aria-selected="true"] { color: var(--fg); border-bottom-color: var(--accent); }
main { padding: 16px 20px 40px; max-width: 1400px; margin: 0 auto; }
.panel {
  background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
  margin-bottom: 14px;
}
.signin { max-width: 380px; margin: 80px auto; }
.signin p { color: var(--muted); margin-top: 0; }
label { display: block; font-size: 12px; color: var(--muted); margin-bottom: 3px; font-weight: 500; }
input[type="text"], input[type="password"], input[type="number"], input[type="date"],
input:not([type]), select, textarea {
  width: 100%; padding: 6px 8px; border: 1px solid var(--line); border-radius: 5px;
  font: inherit; background: #fff; color: var(--fg);
}
input:not([type="checkbox"]), select { height: 34px; }
textarea { font-family: var(--mono); font-size: 13px; min-height: 110px; resize: vertical; }
input:focus, select:focus, textarea:focus, button:focus-visible {
  outline: 2px solid #8fb0f2; outline-offset: 1px; border-color: var(--accent);
}
button {
  font: inherit; padding: 6px 14px; border-radius: 5px; border: 1px solid var(--line);
  background: #fff; color: var(--fg); cursor: pointer;
}
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); font-weight: 600; }
button.danger { color: var(--danger); border-color: #e3b3af; }
button:disabled { opacity: .5; cursor: not-allowed; }
button.link { border: 0; background: none; padding: 0; color: var(--accent); font-family: var(--mono); font-size: 12px; }
.field { margin-bottom: 10px; }
.row { display: flex; gap: 10px; align-items: flex-end; flex-wrap: wrap; }
.row > .field { flex: 1 1 140px; }
.row > .field.narrow { flex: 0 0 130px; }
.checks { display: flex; gap: 10px; flex-wrap: wrap; padding: 5px 0; }
.checks label { display: inline-flex; gap: 4px; align-items: center; font-size: 13px; color: var(--fg); margin: 0; }
.actions { display: flex; gap: 8px; align-items: center; margin-top: 6px; }
.hint { color: var(--muted); font-size: 12px; }
.panel-head { display: flex; align-items: center; justify-content: space-between; margin-bottom: 10px; }
.panel-head h2 { margin: 0; }
.spacer { flex: 1; }
.inline { display: flex; gap: 6px; align-items: center; }
.inline input[type="checkbox"] { flex: 0 0 auto; margin: 0; }
fieldset.checks { border: 0; margin: 0 0 4px; padding: 5px 0; }
.alert {
  border: 1px solid #efc2be; background: #fdf1f0; color: var(--danger); border-radius: 6px;
  padding: 8px 12px; margin: 10px 0; white-space: pre-wrap;
}
.alert .code { font-family: var(--mono); font-size: 12px; margin-right: 6px; font-weight: 600; }
.notice { border: 1px solid #bfd3f5; background: #eef4fe; color: #1e3f86; border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.status { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
.status .qid { font-family: var(--mono); font-size: 13px; }
.badge {
  display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  letter-spacing: .02em; background: #e8ebf0; color: var(--muted);
}
.badge.QUEUED { background: #eceff3; color: #4a5361; }
.badge.RUNNING { background: #e3ecfd; color: var(--accent); }
.badge.FINISHED, .badge.SUCCEEDED { background: #e2f4e8; color: var(--ok); }
.badge.FAILED { background: #fbe4e2; color: var(--danger); }
.badge.ABORTED, .badge.PARTIAL, .badge.MISSING { background: #fdf0dc; color: var(--warn); }
progress { width: 220px; height: 10px; }
dl.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 6px 16px; margin: 12px 0 0; }
dl.stats div { min-width: 0; }
dl.stats dt { font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
dl.stats dd { margin: 0; font-family: var(--mono); font-size: 13px; }
.table-wrap { overflow: auto; max-height: 460px; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid #edf0f3; white-space: nowrap; vertical-align: top; }
th { position: sticky; top: 0; background: #f1f3f6; font-weight: 600; z-index: 1; }
th .type { display: block; font-weight: 400; font-size: 11px; color: var(--muted); font-family: var(--mono); }
td { font-family: var(--mono); font-size: 12px; }
td.wrap { white-space: normal; overflow-wrap: anywhere; min-width: 180px; }
td.null { color: #98a1ad; font-style: italic; }
td.preview { max-width: 420px; overflow: hidden; text-overflow: ellipsis; }
tbody tr:hover { background: #f8fafc; }
.pager { display: flex; gap: 8px; align-items: center; margin-top: 8px; }
.pager .info { color: var(--muted); font-size: 12px; }
.pager .spacer { flex: 1; }
pre.report { font-family: var(--mono); font-size: 12px; background: #f6f7f9; padding: 8px; border-radius: 5px; max-height: 260px; overflow: auto; }
.empty { color: var(--muted); padding: 10px 0; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

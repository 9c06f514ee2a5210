/**
 * The console's one client script: plain browser JavaScript (ES2020, no modules, no bundler),
 * kept as a string so the gateway serves it from memory on every runtime. It talks only to the
 * Data Query Open API and the import API of the same origin, with the credential from
 * sessionStorage in the Credential-ID / Credential-Secret headers (never in a URL).
 *
 * Written without template literals so it can live inside this one: `console_test.ts` parses it.
 *
 * @module
 */

/** The console's client script (plain JavaScript). */
export const CONSOLE_JS: string = String.raw`"use strict";
(function () {
  var ID_KEY = "eventlake.credentialId";
  var SECRET_KEY = "eventlake.credentialSecret";
  var PREFS_KEY = "eventlake.console.prefs";
  var ACTIVE = { QUEUED: true, RUNNING: true };

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (attrs[k] === undefined || attrs[k] === null) continue;
        if (k === "text") node.textContent = attrs[k];
        else if (k === "onclick") node.addEventListener("click", attrs[k]);
        else node.setAttribute(k, attrs[k]);
      }
    }
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function show(node, visible) { node.hidden = !visible; }
  function fmtTime(ms) {
    if (typeof ms !== "number") return "";
    var d = new Date(ms);
    function p(n) { return n < 10 ? "0" + n : String(n); }
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " +
      p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }
  function num(n) { return typeof n === "number" ? n.toLocaleString("en-US") : ""; }
  function badge(state) { return el("span", { "class": "badge " + state, text: state }); }

  // ---- credential and API ------------------------------------------------------------------
  var credential = null;
  function loadCredential() {
    var id = sessionStorage.getItem(ID_KEY);
    var secret = sessionStorage.getItem(SECRET_KEY);
    credential = id && secret ? { id: id, secret: secret } : null;
  }

  function ApiError(status, code, message) {
    this.status = status; this.code = code; this.message = message;
  }

  function api(method, path, options) {
    options = options || {};
    var headers = {
      "Credential-ID": options.credential ? options.credential.id : credential.id,
      "Credential-Secret": options.credential ? options.credential.secret : credential.secret,
    };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (options.headers) for (var h in options.headers) headers[h] = options.headers[h];
    return fetch(path, {
      method: method,
      headers: headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: "no-store",
      credentials: "omit",
    }).then(function (res) {
      if (res.ok && options.raw) return res;
      return res.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (_e) { body = null; }
        if (!res.ok) {
          var code = body && body.code ? body.code : "HTTP_" + res.status;
          var message = body && body.message ? body.message : (text || res.statusText || "Request failed");
          if (res.status === 401 && !options.credential) signOut("Your credential was refused: " + message);
          throw new ApiError(res.status, code, message);
        }
        return body;
      });
    }, function (e) {
      throw new ApiError(0, "NETWORK", "Cannot reach the gateway: " + (e && e.message ? e.message : e));
    });
  }

  function showError(box, error) {
    clear(box);
    if (!error) { show(box, false); return; }
    if (error.code) box.appendChild(el("span", { "class": "code", text: error.code }));
    box.appendChild(document.createTextNode(error.message || String(error)));
    show(box, true);
  }

  // ---- preferences (not secret: localStorage) ---------------------------------------------
  function prefs() {
    try { return JSON.parse(localStorage.getItem(PREFS_KEY) || "{}") || {}; } catch (_e) { return {}; }
  }
  function savePrefs(p) { try { localStorage.setItem(PREFS_KEY, JSON.stringify(p)); } catch (_e) { /* private mode */ } }

  // ---- sign in / out ---------------------------------------------------------------------------
  function signedIn() {
    show($("signin"), false);
    show($("app"), true);
    show($("who"), true);
    show($("signout"), true);
    $("who-name").textContent = credential.id;
    var p = prefs();
    if (p.database !== undefined) $("q-database").value = p.database;
    if (p.bucketName) $("q-bucket").value = p.bucketName;
    if (p.path) $("q-path").value = p.path;
    if (p.sql) $("q-sql").value = p.sql;
    loadSources();
  }

  function signOut(reason) {
    stopPolling();
    if (runsTimer !== null) { clearTimeout(runsTimer); runsTimer = null; }
    sessionStorage.removeItem(ID_KEY);
    sessionStorage.removeItem(SECRET_KEY);
    credential = null;
    show($("app"), false);
    show($("who"), false);
    show($("signout"), false);
    show($("signin"), true);
    $("credential-secret").value = "";
    showError($("signin-error"), reason ? { code: "UNAUTHENTICATED", message: reason } : null);
  }

  $("signin-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var candidate = { id: $("credential-id").value.trim(), secret: $("credential-secret").value };
    showError($("signin-error"), null);
    api("GET", "/v1/data-query/data-source", { credential: candidate }).then(function () {
      sessionStorage.setItem(ID_KEY, candidate.id);
      sessionStorage.setItem(SECRET_KEY, candidate.secret);
      credential = candidate;
      $("credential-secret").value = "";
      signedIn();
    }, function (e) { showError($("signin-error"), e); });
  });
  $("signout").addEventListener("click", function () { signOut(null); });

  // ---- tabs -------------------------------------------------------------------------------------
  var TABS = ["query", "history", "sources", "imports"];
  function selectTab(name) {
    TABS.forEach(function (t) {
      $("tab-" + t).setAttribute("aria-selected", t === name ? "true" : "false");
      show($("panel-" + t), t === name);
    });
    if (name === "history") loadHistory();
    if (name === "sources") loadSources();
    if (name === "imports") loadJobs();
  }
  TABS.forEach(function (t) { $("tab-" + t).addEventListener("click", function () { selectTab(t); }); });

  // ---- data sources ----------------------------------------------------------------------------
  function loadSources() {
    return api("GET", "/v1/data-query/data-source").then(function (list) {
      showError($("sources-error"), null);
      var select = $("q-data-source");
      var p = prefs();
      var wanted = select.value || (p.dataSource !== undefined ? p.dataSource : select.getAttribute("data-default"));
      clear(select);
      select.appendChild(el("option", { value: "", text: "(none)" }));
      list.forEach(function (s) {
        select.appendChild(el("option", { value: s.name, text: s.name + " (" + s.type + ")" }));
      });
      select.value = list.some(function (s) { return s.name === wanted; }) ? wanted : "";
      var body = $("sources-table").tBodies[0];
      clear(body);
      list.forEach(function (s) {
        var del = null;
        if (s.type === "MYSQL") {
          del = el("button", { type: "button", "class": "danger", text: "Delete", "aria-label": "Delete " + s.name });
          del.addEventListener("click", function () {
            if (!confirm("Delete data source \"" + s.name + "\"?")) return;
            api("DELETE", "/v1/data-query/data-source/" + encodeURIComponent(s.name))
              .then(loadSources, function (e) { showError($("sources-error"), e); });
          });
        }
        body.appendChild(el("tr", null, [
          el("td", { text: s.name }), el("td", { text: s.type }), el("td", { text: s.scope }),
          el("td", { text: s.creatorName }), el("td", { text: s.description || "" }), el("td", null, [del]),
        ]));
      });
    }, function (e) { showError($("sources-error"), e); });
  }

  function base64(text) {
    var bytes = new TextEncoder().encode(text);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin);
  }

  $("source-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = {
      type: "MYSQL",
      name: $("s-name").value.trim(),
      scope: $("s-scope").value,
      instanceId: $("s-instance").value.trim(),
      mysqlUser: $("s-user").value,
      mysqlPassword: base64($("s-password").value),
    };
    var description = $("s-description").value.trim();
    if (description) body.description = description;
    api("POST", "/v1/data-query/data-source", { body: body }).then(function () {
      showError($("sources-error"), null);
      $("source-form").reset();
      loadSources();
    }, function (e) { showError($("sources-error"), e); });
  });

  // ---- running a query --------------------------------------------------------------------------
  var current = null; // { id, page, token, info }
  var pollTimer = null;
  var pollToken = 0;

  function stopPolling() {
    pollToken++;
    if (pollTimer !== null) { clearTimeout(pollTimer); pollTimer = null; }
  }

  function setRunning(active) {
    $("abort").disabled = !active;
    $("run").disabled = active;
  }

  $("query-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    runQuery();
  });
  $("q-sql").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); runQuery(); }
  });

  function runQuery() {
    var sql = $("q-sql").value;
    if (!sql.trim()) { showError($("query-error"), { code: "INVALID_ARGUMENT", message: "Write a query first" }); return; }
    var dataSource = $("q-data-source").value;
    var database = $("q-database").value.trim();
    var bucketName = $("q-bucket").value.trim();
    var path = $("q-path").value.trim();
    savePrefs({ dataSource: dataSource, database: database, bucketName: bucketName, path: path, sql: sql });
    var body = { query: sql, resultConfig: { bucketName: bucketName, path: path } };
    if ($("q-reuse").checked) body.reuseConfig = { reuse: true, maxReuseAge: Number($("q-reuse-age").value) };
    var headers = {};
    if (dataSource) headers["X-Data-Source"] = dataSource;
    if (database) headers["X-Database"] = database;
    stopPolling();
    showError($("query-error"), null);
    setRunning(true);
    api("POST", "/v1/data-query/query", { body: body, headers: headers }).then(function (res) {
      openQuery(res.queryInfo.queryId);
    }, function (e) {
      setRunning(false);
      showError($("query-error"), e);
    });
  }

  function openQuery(id) {
    stopPolling();
    selectTab("query");
    current = { id: id, page: 0, info: null };
    // The query id (not secret) goes in the fragment, so a reload or a shared link reopens it.
    if (location.hash !== "#query=" + id) history.replaceState(null, "", "#query=" + encodeURIComponent(id));
    show($("results"), false);
    show($("query-status"), true);
    $("qs-id").textContent = id;
    showError($("query-error"), null);
    poll(pollToken, 200);
  }

  function poll(token, delay) {
    var id = current.id;
    api("GET", "/v1/data-query/query/" + encodeURIComponent(id) + "?page=" + current.page).then(function (res) {
      if (token !== pollToken) return;
      renderStatus(res);
      if (ACTIVE[res.queryInfo.state]) {
        setRunning(true);
        pollTimer = setTimeout(function () { poll(token, Math.min(Math.round(delay * 1.5), 2000)); }, delay);
      } else {
        setRunning(false);
        renderResults(res);
      }
    }, function (e) {
      if (token !== pollToken) return;
      showError($("query-error"), e);
      if (e.status === 0 || e.status >= 500) {
        pollTimer = setTimeout(function () { poll(token, Math.min(delay * 2, 5000)); }, delay * 2);
      } else {
        setRunning(false);
      }
    });
  }

  var STAT_LABELS = [
    ["elapsedTime", "Elapsed"], ["queuedTime", "Queued"], ["planningTime", "Planning"],
    ["queryExecutionTime", "Execution"], ["inputRows", "Input rows"], ["inputDataSize", "Input size"],
    ["scannedDataSize", "Scanned"], ["outputRows", "Output rows"], ["outputDataSize", "Output size"],
    ["createdAt", "Created"], ["completedAt", "Completed"],
  ];

  function renderStatus(res) {
    var info = res.queryInfo;
    current.info = res;
    var state = $("qs-state");
    state.className = "badge " + info.state;
    state.textContent = info.state;
    var pct = info.queryStats && typeof info.queryStats.progressPercentage === "number" ? info.queryStats.progressPercentage : 0;
    var bar = $("qs-progress");
    if (info.state === "RUNNING" && pct === 0) {
      // The engine reports no progress (yet): an indeterminate bar, not a false 0%.
      bar.removeAttribute("value");
      $("qs-percent").textContent = "running";
    } else {
      bar.value = info.state === "FINISHED" ? 100 : pct;
      $("qs-percent").textContent = Math.round(bar.value) + "%";
    }
    var message = $("qs-message");
    if (info.errorMessage) { message.textContent = info.errorMessage; message.className = info.state === "FAILED" ? "alert" : "notice"; show(message, true); }
    else if (res.reuseConfig && res.reuseConfig.reusedFrom) { message.textContent = "Answered from the stored result of query " + res.reuseConfig.reusedFrom; message.className = "notice"; show(message, true); }
    else show(message, false);
    var dl = $("qs-stats");
    clear(dl);
    var stats = info.queryStats || {};
    STAT_LABELS.forEach(function (pair) {
      var v = stats[pair[0]];
      if (v === undefined || v === null) return;
      if (pair[0] === "createdAt" || pair[0] === "completedAt") v = fmtTime(v);
      else if (typeof v === "number") v = num(v);
      dl.appendChild(el("div", null, [el("dt", { text: pair[1] }), el("dd", { text: String(v) })]));
    });
  }

  function renderResults(res) {
    var info = res.queryInfo;
    if (info.state !== "FINISHED") { show($("results"), false); return; }
    show($("results"), true);
    var table = $("results-table");
    var head = table.tHead;
    var body = table.tBodies[0];
    clear(head); clear(body);
    var hasColumns = res.columnData && res.columnData.length > 0;
    show($("results-empty"), !hasColumns || res.totalElements === 0);
    if (hasColumns) {
      head.appendChild(el("tr", null, res.columnData.map(function (c) {
        return el("th", { scope: "col" }, [c.name, el("span", { "class": "type", text: c.type })]);
      })));
    }
    res.queryData.forEach(function (row) {
      body.appendChild(el("tr", null, row.map(function (v) {
        return v === null ? el("td", { "class": "null", text: "NULL" }) : el("td", { text: v });
      })));
    });
    var first = res.number * res.size;
    $("page-info").textContent = res.totalElements === 0 ? "No rows"
      : "Rows " + num(first + 1) + "–" + num(first + res.numberOfElements) + " of " + num(res.totalElements) +
        " · page " + (res.number + 1) + " of " + res.totalPages;
    $("page-prev").disabled = res.number <= 0;
    $("page-next").disabled = res.number + 1 >= res.totalPages;
    var total = info.queryStats ? info.queryStats.outputRows : undefined;
    $("results-note").textContent = typeof total === "number" && total > res.totalElements
      ? num(total) + " rows in all; pages show the first " + num(res.totalElements) : "";
    $("download").disabled = !(res.resultConfig && res.resultConfig.isStored);
  }

  function goPage(delta) {
    if (!current || !current.info) return;
    var next = current.info.number + delta;
    if (next < 0 || next >= current.info.totalPages) return;
    current.page = next;
    stopPolling();
    api("GET", "/v1/data-query/query/" + encodeURIComponent(current.id) + "?page=" + next)
      .then(function (res) { current.info = res; renderResults(res); }, function (e) { showError($("query-error"), e); });
  }
  $("page-prev").addEventListener("click", function () { goPage(-1); });
  $("page-next").addEventListener("click", function () { goPage(1); });

  $("abort").addEventListener("click", function () {
    if (!current) return;
    $("abort").disabled = true;
    api("PUT", "/v1/data-query/query/" + encodeURIComponent(current.id) + "/abort").then(function () {
      stopPolling();
      poll(pollToken, 200);
    }, function (e) {
      showError($("query-error"), e);
      stopPolling();
      poll(pollToken, 200);
    });
  });

  $("download").addEventListener("click", function () {
    if (!current) return;
    var id = current.id;
    var button = $("download");
    button.disabled = true;
    button.textContent = "Downloading…";
    api("GET", "/v1/data-query/query/" + encodeURIComponent(id) + "/result.csv", { raw: true })
      .then(function (res) { return res.blob(); })
      .then(function (blob) {
        var url = URL.createObjectURL(blob);
        var a = el("a", { href: url, download: id + ".csv" });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
      })
      .catch(function (e) { showError($("query-error"), e); })
      .then(function () { button.disabled = false; button.textContent = "Download full CSV"; });
  });

  // ---- history ---------------------------------------------------------------------------------
  var historyPage = 0;
  function loadHistory() {
    var q = new URLSearchParams();
    var id = $("h-query-id").value.trim();
    var creator = $("h-creator").value.trim();
    if (id) q.set("queryId", id);
    if (creator) q.set("creatorName", creator);
    document.querySelectorAll("input[name=h-state]:checked").forEach(function (c) { q.append("states", c.value); });
    q.set("sort", $("h-sort").value);
    q.set("size", $("h-size").value);
    q.set("page", String(historyPage));
    api("GET", "/v1/data-query/query?" + q.toString()).then(function (page) {
      showError($("history-error"), null);
      var body = $("history-table").tBodies[0];
      clear(body);
      if (page.content.length === 0) {
        body.appendChild(el("tr", null, [el("td", { colspan: "7", "class": "empty", text: "No queries match" })]));
      }
      page.content.forEach(function (item) {
        var qi = item.queryInfo;
        var open = el("button", { type: "button", "class": "link", text: qi.queryId, title: "Open this query" });
        open.addEventListener("click", function () { openQuery(qi.queryId); });
        body.appendChild(el("tr", null, [
          el("td", null, [open]), el("td", null, [badge(qi.state)]),
          el("td", { text: fmtTime(qi.queryStats.createdAt) }), el("td", { text: qi.queryStats.elapsedTime }),
          el("td", { text: qi.queryStats.scannedDataSize }), el("td", { text: item.creatorName }),
          el("td", { "class": "preview", text: qi.queryTextPreview, title: qi.queryTextPreview }),
        ]));
      });
      $("h-info").textContent = page.totalElements + " queries · page " + (page.number + 1) + " of " + Math.max(page.totalPages, 1);
      $("h-prev").disabled = page.first;
      $("h-next").disabled = page.last;
    }, function (e) { showError($("history-error"), e); });
  }
  $("history-form").addEventListener("submit", function (ev) { ev.preventDefault(); historyPage = 0; loadHistory(); });
  $("h-reset").addEventListener("click", function () { $("history-form").reset(); historyPage = 0; loadHistory(); });
  $("h-prev").addEventListener("click", function () { if (historyPage > 0) { historyPage--; loadHistory(); } });
  $("h-next").addEventListener("click", function () { historyPage++; loadHistory(); });

  // ---- imports ---------------------------------------------------------------------------------
  var currentJob = null;
  function loadJobs() {
    api("GET", "/v1/data-import/jobs").then(function (res) {
      showError($("imports-error"), null);
      var body = $("jobs-table").tBodies[0];
      clear(body);
      if (res.jobs.length === 0) body.appendChild(el("tr", null, [el("td", { colspan: "6", "class": "empty", text: "No import jobs" })]));
      res.jobs.forEach(function (job) {
        var open = el("button", { type: "button", "class": "link", text: job.jobId, title: "Show its runs" });
        open.addEventListener("click", function () { currentJob = job.jobId; loadRuns(); });
        var t = job.table || {};
        body.appendChild(el("tr", null, [
          el("td", null, [open]), el("td", { text: job.name }),
          el("td", { text: [t.dataSource, t.database, t.table].join(".") }), el("td", { "class": "wrap", text: job.sourceUrl }),
          el("td", { text: String(job.dedupWindowDays) }), el("td", { text: fmtTime(job.createdAt) }),
        ]));
      });
    }, function (e) { showError($("imports-error"), e); });
  }
  $("jobs-refresh").addEventListener("click", function () { loadJobs(); if (currentJob) loadRuns(); });

  function reportSummary(r) {
    if (!r) return "";
    var text = "read " + num(r.rowsRead) + " · accepted " + num(r.rowsAccepted) + " · rejected " + num(r.rowsRejected) +
      " · duplicate " + num(r.rowsDuplicate);
    (r.reasons || []).slice(0, 3).forEach(function (reason) { text += " · " + reason.rule + " ×" + num(reason.count); });
    return text;
  }

  var RUN_ACTIVE = { QUEUED: true, RUNNING: true };
  var runsTimer = null;
  var runsDelay = 500;
  function loadRuns(fromTimer) {
    if (runsTimer !== null) { clearTimeout(runsTimer); runsTimer = null; }
    if (fromTimer !== true) runsDelay = 500;
    show($("runs"), true);
    var job = currentJob;
    $("runs-job").textContent = job;
    api("GET", "/v1/data-import/jobs/" + encodeURIComponent(job) + "/runs").then(function (res) {
      if (job !== currentJob) return;
      showError($("imports-error"), null);
      // Poll with backoff while a run is QUEUED or RUNNING and the panel is open.
      if (res.runs.some(function (r) { return RUN_ACTIVE[r.state]; }) && !$("panel-imports").hidden) {
        runsTimer = setTimeout(function () { loadRuns(true); }, runsDelay);
        runsDelay = Math.min(runsDelay * 2, 5000);
      }
      var list = $("runs-list");
      clear(list);
      if (res.runs.length === 0) list.appendChild(el("p", { "class": "empty", text: "No runs yet" }));
      var rows = res.runs.map(function (run) {
        var details = null;
        if (run.report) {
          details = el("details", null, [
            el("summary", { text: "Report" }),
            el("pre", { "class": "report", text: JSON.stringify(run.report, null, 2) }),
          ]);
        }
        var err = run.report && run.report.error ? run.report.error.code + ": " + run.report.error.message : "";
        return el("tr", null, [
          el("td", { text: run.runId }), el("td", { text: run.date }), el("td", null, [badge(run.state)]),
          el("td", { text: fmtTime(run.createdAt) }), el("td", { text: fmtTime(run.finishedAt) }),
          el("td", { "class": "wrap", text: reportSummary(run.report) }), el("td", { "class": "wrap", text: err }),
          el("td", null, [details]),
        ]);
      });
      if (rows.length > 0) {
        var head = el("tr", null, ["Run", "Day", "State", "Requested", "Finished", "Rows", "Error", ""].map(function (h) {
          return el("th", { scope: "col", text: h });
        }));
        list.appendChild(el("div", { "class": "table-wrap" }, [el("table", null, [el("thead", null, [head]), el("tbody", null, rows)])]));
      }
    }, function (e) { showError($("imports-error"), e); });
  }

  $("run-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!currentJob) return;
    api("POST", "/v1/data-import/jobs/" + encodeURIComponent(currentJob) + "/runs", { body: { date: $("r-date").value } })
      .then(function () { loadRuns(); }, function (e) { showError($("imports-error"), e); });
  });

  // ---- start -------------------------------------------------------------------------------------
  // Arrow keys move between tabs (WAI-ARIA tabs pattern).
  document.querySelector("[role=tablist]").addEventListener("keydown", function (ev) {
    var i = TABS.indexOf(document.activeElement ? document.activeElement.id.replace("tab-", "") : "");
    if (i < 0 || (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft")) return;
    var next = TABS[(i + (ev.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length];
    selectTab(next);
    $("tab-" + next).focus();
  });

  loadCredential();
  if (credential) {
    signedIn();
    var linked = /^#query=([A-Za-z0-9._-]+)$/.exec(location.hash);
    if (linked) openQuery(linked[1]);
  } else {
    $("credential-id").focus();
  }
})();
`;

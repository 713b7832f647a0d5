// The Xtract dashboard: plain JavaScript against the service's own REST API and event
// stream, with the same bearer token the SDK and CLI use. Nothing is fetched from
// elsewhere, and nothing the service returns is ever parsed as HTML (textContent only).
// Its words (status words, event types, groupers) come from the service's
// /v1/vocabulary, so plug-ins show up and nothing here re-spells the service's words.
// A module: strict, and nothing it names leaks into the page's globals.

const $ = (sel) => document.querySelector(sel);
const state = {
  token: "", crawl: null, stream: null, poll: null, search: null, over: false, words: null,
  samples: "", // the error kinds whose sample files are shown (fetched again when they change)
};

// -- the token: from #token=... (then dropped from the address bar), else this tab's store
function loadToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    sessionStorage.setItem("xtract-token", hash.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  state.token = sessionStorage.getItem("xtract-token") || "";
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await resp.json().catch(() => ({}));
  if (resp.status === 401 || resp.status === 403) {
    askForToken(data.error ? data.error.message : "this token is not accepted");
  }
  if (!resp.ok) throw new ApiError(resp.status, data.error ? data.error.message : resp.statusText);
  return data;
}

function askForToken(why) {
  $("#token-form").hidden = false;
  $("#token-error").textContent = why || "";
}

// every failed request is shown, in the notice bar, until the next one succeeds
function problem(e) {
  $("#notice").textContent = e && e.message ? e.message : String(e);
  $("#notice").hidden = false;
}
function settled() { $("#notice").hidden = true; }
// run an async action from an event or a timer: its failure is shown, never dropped
function act(fn) { return (...args) => fn(...args).then(settled, problem); }

// -- the service's words -------------------------------------------------------------
const ended = (word) => state.words.crawl_status.terminal.includes(word);
function kindOf(word) {
  const w = state.words;
  for (const s of [w.crawl_status, w.xtract_status, w.offload_status]) {
    if (word === s.ok) return "ok";
    if (s.terminal.includes(word)) return "bad";
  }
  return "";
}
function refreshesOn(type) {
  const ev = state.words.events;
  return ev.lifecycle.includes(type) || ev.final.includes(type) || type === ev.progress.xtract;
}

// -- small rendering helpers --------------------------------------------------------
const fmt = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en"));
function bytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}
function seconds(s) {
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
function range(r, show) {
  if (!r) return "";
  return r.low === r.high ? show(r.estimate) : `${show(r.estimate)} (${show(r.low)} – ${show(r.high)})`;
}
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
// a cell is text, or [text, class]: "num" never wraps, "path" may break anywhere
function row(cells, onclick) {
  const tr = el("tr");
  for (const c of cells) tr.append(Array.isArray(c) ? el("td", c[0], c[1]) : el("td", c));
  if (onclick) tr.addEventListener("click", () => onclick(tr));
  return tr;
}
// set a list's values in place: a key already shown keeps its element (no flicker), a
// new key is added; with `whole`, keys not in `pairs` are removed
function fill(dl, pairs, whole = true) {
  const shown = new Map();
  for (const dt of dl.querySelectorAll("dt")) shown.set(dt.textContent, dt.nextElementSibling);
  for (const [k, v, cls] of pairs) {
    const dd = shown.get(k);
    if (dd) {
      if (dd.textContent !== v) dd.textContent = v;
      dd.className = cls || "";
      shown.delete(k);
    } else dl.append(el("dt", k), el("dd", v, cls));
  }
  if (whole) for (const dd of shown.values()) { dd.previousElementSibling.remove(); dd.remove(); }
}
// the word itself is a class too, for whoever drives the page
function badge(node, word) {
  node.textContent = word || "";
  node.className = ["badge", kindOf(word), word].filter(Boolean).join(" ");
}
function when(t) { return t ? new Date(t * 1000).toLocaleString() : "–"; }

// -- runs ---------------------------------------------------------------------------
function extractionCell(c) {
  if (!c.xtract_status) return "not extracted";
  const total = c.families_crawled || 0;
  const share = total ? ` ${Math.floor((100 * c.families_extracted) / total)}%` : "";
  return `${c.xtract_status}${share}`;
}

async function loadRuns() {
  const { crawls } = await api("GET", "/v1/crawls");
  const body = $("#runs tbody");
  body.replaceChildren(...crawls.map((c) => {
    const tr = row([[c.dirs.join(", "), "path"], [c.status, "num"], [extractionCell(c), "num"],
      [fmt(c.files_crawled), "num"], [when(c.created_at), "num"]], () => select(c.crawl_id));
    tr.dataset.crawl = c.crawl_id;
    tr.title = c.crawl_id;
    if (c.crawl_id === state.crawl) tr.classList.add("selected");
    return tr;
  }));
}

async function startCrawl(ev) {
  ev.preventDefault();
  $("#crawl-error").textContent = "";
  const dir = $("#crawl-dir").value.trim();
  try {
    const got = await api("POST", "/v1/crawls",
      { repo_type: "local", dirs: [dir], grouper: $("#crawl-grouper").value });
    await loadRuns();
    select(got.crawl_id, true);
  } catch (e) { $("#crawl-error").textContent = e.message; }
}

// -- one crawl ------------------------------------------------------------------------
// `fresh`: a crawl this page just started, whose events are all worth showing; any
// other crawl's live events start now, its history one click away
function select(crawlId, fresh = false) {
  if (state.stream) state.stream.abort();
  clearInterval(state.poll);
  state.crawl = crawlId;
  state.over = false;
  state.samples = "";
  $("#run").hidden = false;
  $("#run-id").textContent = crawlId;
  $("#events").replaceChildren();
  $("#results tbody").replaceChildren();
  $("#document").textContent = "";
  // nothing of the crawl shown before stays on screen while this one's status loads
  for (const dl of ["#crawl-counters", "#xtract-counters"]) $(dl).replaceChildren();
  for (const t of ["#per-extractor", "#error-kinds", "#exports"]) $(`${t} tbody`).replaceChildren();
  for (const b of ["#run-status", "#xtract-status"]) badge($(b), "");
  for (const p of ["#crawl-forecast", "#xtract-forecast", "#search-note"]) $(p).textContent = "";
  for (const bar of ["#crawl-bar", "#xtract-bar"]) $(bar).style.width = "0";
  $("#error-samples").replaceChildren();
  $("#xtract-start").hidden = true;
  $("#events-history").hidden = fresh;
  for (const tr of document.querySelectorAll("#runs tbody tr")) {
    tr.classList.toggle("selected", tr.dataset.crawl === crawlId);
  }
  act(refresh)();
  follow(crawlId, fresh ? "" : "now"); // "Show history" replays what came before
  // events carry the counters; the full status (errors, exports) is read now and then
  state.poll = setInterval(act(refresh), 3000);
}

// every answer is painted only if its crawl is still the one shown: a slow answer about
// the crawl shown before never lands on this one's cards
async function refresh() {
  const id = state.crawl;
  if (!id) return;
  const mine = () => id === state.crawl;
  const [crawl, run, exports] = await Promise.all([
    api("GET", `/v1/crawls/${id}`),
    api("GET", `/v1/crawls/${id}/xtract`).catch((e) => { if (e.status === 404) return null; throw e; }),
    api("GET", `/v1/crawls/${id}/offload`),
  ]);
  if (!mine()) return;
  showCrawl(crawl);
  showExtraction(run);
  await showErrors(crawl, run, mine);
  if (!mine()) return;
  $("#exports tbody").replaceChildren(...exports.offloads.map((o) =>
    row([o.offload_id.slice(0, 8), o.format, [o.status, "num"], [fmt(o.items), "num"],
      [o.destination || "–", "path"], [when(o.created_at), "num"]])));
}

function showCrawl(c) {
  const d = c.data;
  // the event stream replays from the first event: once the crawl is over, its old
  // progress events must not paint over the final counts
  state.over = ended(c.status);
  badge($("#run-status"), c.status);
  const pairs = [
    ["files", fmt(d.files_crawled)], ["bytes", bytes(d.bytes_crawled)],
    ["folders", `${fmt(d.dirs_crawled)} listed, ${fmt(d.dirs_pending)} pending`],
    ["errors", fmt(d.errors)], ["where", d.dirs.join(", "), "path"],
    ["time", seconds(d.elapsed_seconds)],
  ];
  if (d.links_skipped) pairs.push(["links skipped", fmt(d.links_skipped)]);
  if (d.changes) {
    const ch = d.changes;
    pairs.push(["since", `${fmt(ch.added)} added, ${fmt(ch.changed)} changed, ` +
      `${fmt(ch.removed)} removed, ${fmt(ch.unchanged)} unchanged`]);
  }
  if (d.lister) pairs.push(["listed by", d.lister + (d.fallback_reason ? ` (${d.fallback_reason})` : "")]);
  fill($("#crawl-counters"), pairs);
  crawlForecast(d.forecast, d.files_crawled, c.status);
}

function crawlForecast(f, files, status) {
  const done = ended(status);
  const share = done ? 1 : f && f.files.estimate ? files / f.files.estimate : 0;
  $("#crawl-bar").style.width = `${Math.min(100, 100 * share)}%`;
  $("#crawl-forecast").textContent = !f || done ? "" : f.estimating ? "estimating…" :
    `about ${range(f.files, fmt)} files, ${range(f.seconds_left, seconds)} left`;
}

function ordinal(n) {
  const tens = n % 100, ones = n % 10;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ["th", "st", "nd", "rd"][ones] || "th";
  return `${n}${suffix}`;
}

function showExtraction(x) {
  $("#xtract-start").hidden = x !== null;
  if (x === null) {
    badge($("#xtract-status"), "");
    fill($("#xtract-counters"), [["status", "not started"]]);
    $("#per-extractor tbody").replaceChildren();
    return;
  }
  badge($("#xtract-status"), x.xtract_status);
  const fx = x.xtract_counters.fx;
  fill($("#xtract-counters"), [
    ["families", `${fmt(fx.success)} done, ${fmt(fx.failed)} failed, ${fmt(fx.pending)} pending`],
    ["with errors", fmt(fx.errors)], ["files", fmt(x.files_extracted)],
    ["carried", fmt(x.families_carried)], ["executor", x.executor],
  ]);
  const total = fx.success + fx.failed + fx.pending;
  $("#xtract-bar").style.width = `${total ? (100 * (fx.success + fx.failed)) / total : 0}%`;
  const f = x.forecast;
  $("#xtract-forecast").textContent = x.queue ?
    `queued: ${ordinal(x.queue.place)} in line, behind ${x.queue.waiting_for.join(", ")}` :
    f && f.estimating && f.seconds_left.high > 0 ? "estimating…" :
      f && f.seconds_left.high > 0 ?
        `${range(f.seconds_left, seconds)} left at ${fmt(f.families_per_second)} families/s` : "";
  const per = (f && f.per_extractor) || {};
  $("#per-extractor tbody").replaceChildren(...Object.entries(per).map(([name, r]) =>
    row([name, [fmt(r.files), "num"], [r.seconds.toFixed(2), "num"],
      [r.files_per_second === null ? "–" : fmt(r.files_per_second), "num"]])));
}

// errors by kind, and sample files of each: folders the crawl could not list, and for
// the extraction's most common kinds a few files with the message they got
async function showErrors(crawl, run, mine) {
  const kinds = Object.entries((run && run.errors_by_kind) || {}).sort((a, b) => b[1] - a[1]);
  const listed = crawl.data.error_samples.slice(0, 5).map((e) => ({ path: e.path, why: e.error }));
  if (crawl.data.errors) kinds.unshift(["listing", crawl.data.errors]);
  $("#error-kinds tbody").replaceChildren(...kinds.map(([k, n]) => row([k, [fmt(n), "num"]],
    () => { if (k !== "listing") searchFor({ error: k }); })));
  const top = kinds.filter(([k]) => k !== "listing").slice(0, 3).map(([k]) => k);
  const signature = JSON.stringify([top, listed.length]);
  if (signature === state.samples) return;
  const found = [...listed];
  for (const kind of top) {
    const got = await api("GET", `/v1/crawls/${state.crawl}/metadata/search?error=${encodeURIComponent(kind)}&limit=2`);
    for (const f of got.files) {
      const e = (f.errors || []).find((x) => x.error === kind) || {};
      found.push({ path: f.path, why: `${kind}${e.message ? `: ${e.message}` : ""}` });
    }
  }
  if (!mine()) return;
  state.samples = signature;
  $("#error-samples").replaceChildren(...found.map((e) => {
    const li = el("li");
    li.append(el("span", e.path, "path"), el("span", ` — ${e.why}`, "muted"));
    return li;
  }));
}

async function startExtraction() {
  try { await api("POST", `/v1/crawls/${state.crawl}/xtract`, {}); }
  catch (e) { $("#xtract-forecast").textContent = e.message; }
  await refresh();
}

// -- live events: the SSE stream read with fetch, so the token goes in a header ----------
async function follow(crawlId, from) {
  const ctl = new AbortController();
  state.stream = ctl;
  let after = from || "";
  while (!ctl.signal.aborted) {
    try {
      const resp = await fetch(`/v1/crawls/${crawlId}/events${after ? `?after=${after}` : ""}`, {
        headers: { Authorization: `Bearer ${state.token}` }, signal: ctl.signal,
      });
      if (!resp.ok) {
        problem(new ApiError(resp.status, `the event stream answered ${resp.status}`));
        return;
      }
      const reader = resp.body.getReader();
      const text = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += text.decode(value, { stream: true });
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const id = /^id: (.*)$/m.exec(block);
          const data = /^data: (.*)$/m.exec(block);
          if (id) after = id[1];
          if (data) onEvent(JSON.parse(data[1]));
        }
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
      problem(new Error(`the event stream broke off (${e.message}); reconnecting`));
    }
    await new Promise((ok) => setTimeout(ok, 1000)); // the stream ended: go on after `after`
  }
}

function onEvent(ev) {
  if (ev.crawl_id !== state.crawl) return;
  const d = ev.data || {};
  const line = [new Date(ev.at * 1000).toLocaleTimeString(), ev.type];
  if (d.files_crawled !== undefined) line.push(`${fmt(d.files_crawled)} files`);
  const files = (d.document && d.document.files) || [];
  if (files.length) line.push(files[0].path + (files.length > 1 ? ` (+${files.length - 1} more)` : ""));
  if (d.reason) line.push(d.reason);
  const log = $("#events");
  log.prepend(el("li", line.join("  ")));
  while (log.children.length > 200) log.lastChild.remove();
  const words = state.words;
  if (ev.type === words.events.progress.crawl && !state.over) {
    fill($("#crawl-counters"), [  // these three values in place; the other rows stay
      ["files", fmt(d.files_crawled)], ["bytes", bytes(d.bytes_crawled)],
      ["folders", `${fmt(d.dirs_crawled)} listed, ${fmt(d.dirs_pending)} pending`],
    ], false);
    crawlForecast(d.forecast, d.files_crawled, words.crawl_status.running);
    badge($("#run-status"), words.crawl_status.running);
  }
  if (refreshesOn(ev.type)) {
    refresh().then(loadRuns).then(settled, problem);
  }
}

// -- the metadata browser ------------------------------------------------------------
const FILTERS = ["path", "type", "extractor", "field", "error"];

function searchFor(q) {
  for (const k of FILTERS) $(`#q-${k}`).value = q[k] || "";
  runSearch();
}

async function runSearch(ev, more) {
  if (ev) ev.preventDefault();
  const q = new URLSearchParams({ limit: "50" });
  for (const k of FILTERS) {
    const v = $(`#q-${k}`).value.trim();
    if (v) q.set(k, v);
  }
  if (more && state.search) q.set("after", state.search);
  else $("#results tbody").replaceChildren();
  $("#search-note").textContent = "searching…";
  try {
    const got = await api("GET", `/v1/crawls/${state.crawl}/metadata/search?${q}`);
    for (const f of got.files) {
      $("#results tbody").append(row([[f.path, "path"], f.mimetype || "–", f.extractors.join(", ")], (tr) => {
        for (const r of document.querySelectorAll("#results tr.selected")) r.classList.remove("selected");
        tr.classList.add("selected");
        $("#document").textContent = JSON.stringify(
          { path: f.path, family_id: f.family_id, metadata: f.metadata, errors: f.errors }, null, 2);
      }));
    }
    state.search = got.next;
    $("#search-more").hidden = !got.next;
    const shown = $("#results tbody").children.length;
    if (got.matched !== undefined) {  // from the index: exact counts
      const lag = got.complete ? "" : " (documents still being indexed)";
      $("#search-note").textContent =
        `${fmt(got.matched)} of ${fmt(got.searched)} files match; ${fmt(shown)} shown${lag}`;
    } else {  // a bounded scan of the documents, before anything is indexed
      $("#search-note").textContent = `${fmt(shown)} file${shown === 1 ? "" : "s"}` +
        (got.next ? ` so far (scanned ${fmt(got.scanned)} documents): More reads on` : "");
    }
  } catch (e) { $("#search-note").textContent = e.message; }
}

// -- start -------------------------------------------------------------------------------
async function start() {
  if (!state.token) { askForToken("paste the token (`xtract token show`)"); return; }
  try {
    const me = await api("GET", "/v1/me");
    state.words = await api("GET", "/v1/vocabulary");
    $("#crawl-grouper").replaceChildren(...state.words.groupers.map((g) => el("option", g)));
    $("#who").textContent = me.name || me.owner;
    $("#token-form").hidden = true;
    await loadRuns();
  } catch (e) { askForToken(e.message); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#crawl-form").addEventListener("submit", act(startCrawl));
  $("#search-form").addEventListener("submit", act((ev) => runSearch(ev, false)));
  $("#search-more").addEventListener("click", act(() => runSearch(null, true)));
  $("#xtract-start").addEventListener("click", act(startExtraction));
  $("#events-history").addEventListener("click", () => {
    $("#events").replaceChildren();
    $("#events-history").hidden = true;
    follow(state.crawl, ""); // from the oldest event kept
  });
  $("#token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.token = $("#token").value.trim();
    sessionStorage.setItem("xtract-token", state.token);
    act(start)();
  });
  loadToken();
  act(start)();
  setInterval(() => { if ($("#token-form").hidden) act(loadRuns)(); }, 5000);
});

// The Xtract dashboard: plain JavaScript against the service's own REST API and event
// stream, with the same bearer token the SDK and CLI use. Nothing is fetched from
// elsewhere, and nothing the service returns is ever parsed as HTML (textContent only).
// Its words (status words, event types, groupers) come from the service's
// /v1/vocabulary, so plug-ins show up and nothing here re-spells the service's words.
// A module: strict, and nothing it names leaks into the page's globals.

const $ = (sel) => document.querySelector(sel);
const state = {
  token: "", crawl: null, stream: null, poll: null, search: null, over: false, words: null,
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
function row(cells, onclick) {
  const tr = el("tr");
  for (const c of cells) tr.append(el("td", c));
  if (onclick) tr.addEventListener("click", () => onclick(tr));
  return tr;
}
function fill(dl, pairs) {
  dl.replaceChildren();
  for (const [k, v] of pairs) { dl.append(el("dt", k), el("dd", v)); }
}
// the word itself is a class too, for whoever drives the page
function badge(node, word) {
  node.textContent = word || "";
  node.className = ["badge", kindOf(word), word].filter(Boolean).join(" ");
}
function when(t) { return t ? new Date(t * 1000).toLocaleString() : "–"; }

// -- runs ---------------------------------------------------------------------------
async function loadRuns() {
  const { crawls } = await api("GET", "/v1/crawls");
  const body = $("#runs tbody");
  body.replaceChildren(...crawls.map((c) => {
    const tr = row([c.crawl_id.slice(0, 8), c.status, fmt(c.files_crawled), when(c.created_at)],
      () => select(c.crawl_id));
    tr.dataset.crawl = c.crawl_id;
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
    select(got.crawl_id);
  } catch (e) { $("#crawl-error").textContent = e.message; }
}

// -- one crawl ------------------------------------------------------------------------
function select(crawlId) {
  if (state.stream) state.stream.abort();
  clearInterval(state.poll);
  state.crawl = crawlId;
  state.over = false;
  $("#run").hidden = false;
  $("#run-id").textContent = crawlId;
  $("#events").replaceChildren();
  $("#results tbody").replaceChildren();
  $("#document").textContent = "";
  for (const tr of document.querySelectorAll("#runs tbody tr")) {
    tr.classList.toggle("selected", tr.dataset.crawl === crawlId);
  }
  act(refresh)();
  follow(crawlId);
  // events carry the counters; the full status (errors, exports) is read now and then
  state.poll = setInterval(act(refresh), 3000);
}

async function refresh() {
  const id = state.crawl;
  if (!id) return;
  const crawl = await api("GET", `/v1/crawls/${id}`);
  if (id !== state.crawl) return;
  showCrawl(crawl);
  let run = null;
  try { run = await api("GET", `/v1/crawls/${id}/xtract`); } catch (e) { if (e.status !== 404) throw e; }
  showExtraction(run);
  showErrors(crawl, run);
  const { offloads } = await api("GET", `/v1/crawls/${id}/offload`);
  $("#exports tbody").replaceChildren(...offloads.map((o) =>
    row([o.offload_id.slice(0, 8), o.format, o.status, fmt(o.items), o.destination || "–", when(o.created_at)])));
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
    ["errors", fmt(d.errors)], ["where", d.dirs.join(", ")],
    ["time", seconds(d.elapsed_seconds)],
  ];
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
  $("#crawl-forecast").textContent = !f || done ? "" :
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
    f && f.seconds_left.high > 0 ?
      `${range(f.seconds_left, seconds)} left at ${fmt(f.families_per_second)} families/s` : "";
  const per = (f && f.per_extractor) || {};
  $("#per-extractor tbody").replaceChildren(...Object.entries(per).map(([name, r]) =>
    row([name, fmt(r.files), r.seconds.toFixed(2), r.files_per_second === null ? "–" : fmt(r.files_per_second)])));
}

function showErrors(crawl, run) {
  const kinds = Object.entries((run && run.errors_by_kind) || {}).sort((a, b) => b[1] - a[1]);
  if (crawl.data.errors) kinds.unshift(["listing", crawl.data.errors]);
  $("#error-kinds tbody").replaceChildren(...kinds.map(([k, n]) => row([k, fmt(n)],
    () => { if (k !== "listing") searchFor({ error: k }); })));
  $("#error-samples").replaceChildren(...crawl.data.error_samples.slice(0, 10).map((e) =>
    el("li", `${e.path}: ${e.error}`)));
}

async function startExtraction() {
  try { await api("POST", `/v1/crawls/${state.crawl}/xtract`, {}); }
  catch (e) { $("#xtract-forecast").textContent = e.message; }
  await refresh();
}

// -- live events: the SSE stream read with fetch, so the token goes in a header ----------
async function follow(crawlId) {
  const ctl = new AbortController();
  state.stream = ctl;
  let after = "";
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
  if (d.family_id) line.push(d.family_id);
  if (d.reason) line.push(d.reason);
  const log = $("#events");
  log.prepend(el("li", line.join("  ")));
  while (log.children.length > 200) log.lastChild.remove();
  const words = state.words;
  if (ev.type === words.events.progress.crawl && !state.over) {
    fill($("#crawl-counters"), [
      ["files", fmt(d.files_crawled)], ["bytes", bytes(d.bytes_crawled)],
      ["folders", `${fmt(d.dirs_crawled)} listed, ${fmt(d.dirs_pending)} pending`],
    ]);
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
      $("#results tbody").append(row([f.path, f.mimetype || "–", f.extractors.join(", ")], (tr) => {
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

// The supervisors' dashboard: follows /supervisor/stream (server-sent events) and shows each
// snapshot as it arrives, without reloading. Figures come computed from the server; this
// page only formats them, and counts the seconds between snapshots.

import { $, STATES, t } from "./staff.js";
import { callsNow, watch } from "./supervisor-monitor.js";

const root = document.getElementById("dashboard");
const thresholdSecs = (Number(root.dataset.thresholdMin) || 5) * 60;


const pad = (n) => String(n).padStart(2, "0");
function clock(secs) {
  const s = Math.max(0, Math.round(secs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}
const FORMATS = {
  count: (v) => (v == null ? "–" : String(v)),
  percent: (v) => (v == null ? "–" : `${Math.round(v * 100)} %`),
  duration: (v) => (v == null ? "–" : clock(v)),
  text: (v) => (v == null ? "" : String(v)),
};
const get = (obj, path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);

let last = null;
let receivedAt = 0;
let updates = 0;

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function renderAgents(d, elapsed) {
  const body = $("agents");
  body.replaceChildren();
  for (const a of d.agents) {
    const tr = document.createElement("tr");
    cell(tr, a.name);
    const state = cell(tr, "");
    const pill = document.createElement("span");
    pill.className = "pill";
    pill.dataset.state = a.state;
    pill.textContent = STATES[a.state] || a.state;
    state.appendChild(pill);
    if (a.reason) state.append(` ${a.reason}`);
    cell(tr, a.state_secs == null ? "–" : clock(a.state_secs + elapsed));
    cell(tr, String(a.calls_today));
    const action = cell(tr, "");
    if (a.ticket) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "secondary watch";
      b.textContent = t("Ver la llamada", "Watch the call");
      b.onclick = () => watch(a.ticket, a.name);
      action.appendChild(b);
    }
    body.appendChild(tr);
  }
  callsNow(d.agents);
  const counts = $("agent-counts");
  counts.textContent = Object.entries(d.agents_by_state)
    .map(([state, n]) => `${n} ${counts.dataset[state] || state}`)
    .join(" · ");
}

function renderOutcomes(d) {
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  $("rejected-total").textContent = String(sum(d.outcomes.rejected));
  $("aborted-total").textContent = String(sum(d.outcomes.aborted));
  const list = $("reasons");
  list.replaceChildren();
  const add = (label, reason, n) => {
    const li = document.createElement("li");
    li.textContent = `${label}: ${reason} — ${n}`;
    list.appendChild(li);
  };
  for (const [r, n] of Object.entries(d.outcomes.rejected)) add(t("Rechazo", "Rejected"), r, n);
  for (const [r, n] of Object.entries(d.outcomes.aborted)) add(t("Interrumpida", "Aborted"), r, n);
}

/// Today's test calls by network path, with each path's share.
function renderPaths(d) {
  const body = $("paths");
  const paths = d.test_call_paths || [];
  if (!paths.length) return;
  const total = paths.reduce((a, p) => a + p.count, 0);
  body.replaceChildren();
  for (const p of paths) {
    const tr = document.createElement("tr");
    tr.dataset.path = p.path;
    for (const text of [p.label, String(p.count), `${Math.round((p.count * 100) / total)} %`]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

function render(d, elapsed = 0) {
  for (const el of root.querySelectorAll("[data-field]")) {
    let v = get(d, el.dataset.field);
    if (elapsed && v != null && el.dataset.field === "longest_wait_secs" && d.waiting > 0) v += elapsed;
    el.textContent = (FORMATS[el.dataset.format] || FORMATS.text)(v);
  }
  $("tile-longest").classList.toggle("alert", d.longest_wait_secs + elapsed > thresholdSecs && d.waiting > 0);
  const sl = d.figures.service_level;
  $("tile-sl").classList.toggle("alert", sl != null && sl < 0.8);
  const extra = $("forecast-extra");
  const k = d.forecast.extra_agents_needed;
  extra.textContent = k == null ? extra.dataset.none : k === 0 ? extra.dataset.zero : `${extra.dataset.yes}${k}`;
  $("tile-forecast").classList.toggle("alert", d.forecast.still_waiting_at_closing > 0);
  renderAgents(d, elapsed);
}

function show(d) {
  last = d;
  receivedAt = Date.now();
  updates += 1;
  render(d);
  renderOutcomes(d);
  renderPaths(d);
  $("chart-queue").innerHTML = d.charts.queue;
  $("chart-waits").innerHTML = d.charts.waits;
  $("chart-outcomes").innerHTML = d.charts.outcomes;
  $("updated").textContent = new Date(d.at).toLocaleTimeString(document.documentElement.lang, { timeZone: "Europe/Madrid" });
  root.dataset.updates = String(updates);
}

function live(state, text) {
  const el = $("live");
  el.dataset.live = state;
  el.textContent = text;
}

function connect() {
  const source = new EventSource(`/supervisor/stream?lang=${document.documentElement.lang}`);
  source.addEventListener("dashboard", (e) => show(JSON.parse(e.data)));
  source.onopen = () => live("open", t("en directo", "live"));
  // EventSource reconnects by itself; a closed one (signed out) goes back to sign-in.
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      live("closed", t("desconectado", "disconnected"));
      setTimeout(() => location.reload(), 5000);
    } else {
      live("connecting", t("reconectando…", "reconnecting…"));
    }
  };
}

setInterval(() => {
  if (last) render(last, Math.floor((Date.now() - receivedAt) / 1000));
}, 1000);
connect();

// The dashboard page: one self-contained HTML document (no external assets), live over SSE.
// Every device value is put in the page with textContent, never as markup.

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function dashboardPage(prefix: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fleet · ${escapeHtml(prefix)}</title>
<style>
:root { --bg:#f4f6f8; --card:#fff; --ink:#1d2733; --mute:#6b7785; --line:#e3e8ee; --ok:#1f9d55; --bad:#d64545; --warn:#d98b00; --accent:#2f6fde; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink); background:var(--bg); }
header { display:flex; align-items:baseline; gap:16px; padding:14px 24px; background:#1d2733; color:#fff; }
header h1 { font-size:18px; margin:0; font-weight:600; }
header .meta { color:#aeb9c5; font-size:13px; }
header .live { margin-left:auto; font-size:12px; color:#aeb9c5; }
header .live b { display:inline-block; width:8px; height:8px; border-radius:50%; background:var(--bad); margin-right:6px; }
header .live.on b { background:#3ddc84; }
main { padding:18px 24px; }
.cards { display:grid; grid-template-columns: 200px 1fr; gap:14px; margin-bottom:16px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 16px; }
.card h2 { font-size:12px; text-transform:uppercase; letter-spacing:.05em; color:var(--mute); margin:0 0 6px; font-weight:600; }
.big { font-size:26px; font-weight:600; }
.big small { font-size:14px; color:var(--mute); font-weight:400; }
.bar { height:10px; background:#e9eef3; border-radius:5px; overflow:hidden; margin:8px 0 6px; }
.bar > i { display:block; height:100%; background:var(--accent); width:0; }
.states { display:flex; flex-wrap:wrap; gap:6px; font-size:12px; color:var(--mute); }
.states span { background:#eef2f6; border-radius:10px; padding:1px 8px; }
table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:8px; overflow:hidden; }
th, td { padding:8px 10px; text-align:left; border-bottom:1px solid var(--line); vertical-align:middle; white-space:nowrap; }
th { font-size:12px; color:var(--mute); font-weight:600; background:#fafbfc; }
tr:last-child td { border-bottom:0; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:13px; }
.badge { display:inline-block; min-width:62px; text-align:center; border-radius:10px; padding:1px 8px; font-size:12px; font-weight:600; color:#fff; background:var(--mute); }
.badge.online { background:var(--ok); } .badge.offline { background:var(--bad); } .badge.off { background:#444; } .badge.stale { background:var(--warn); }
.sub { display:block; font-size:11px; color:var(--mute); }
.wrap { overflow-x:auto; border-radius:8px; }
.values { display:flex; gap:12px; }
.value { display:flex; flex-direction:column; min-width:64px; }
.value small { font-size:10px; color:var(--mute); text-transform:uppercase; letter-spacing:.04em; }
.value b { font-weight:600; font-variant-numeric: tabular-nums; }
.value svg { width:64px; height:16px; }
.value polyline { fill:none; stroke:var(--accent); stroke-width:1.5; }
.err { color:var(--bad); font-size:12px; }
.fault { color:var(--warn); font-size:12px; }
.mini { width:70px; height:6px; background:#e9eef3; border-radius:3px; overflow:hidden; display:inline-block; vertical-align:middle; margin-left:6px; }
.mini > i { display:block; height:100%; background:var(--accent); }
.num { font-variant-numeric: tabular-nums; }
.more { color:var(--mute); margin-top:8px; font-size:12px; }
</style>
</head>
<body>
<header><h1>NodeMCU fleet</h1><span class="meta" id="meta">prefix ${escapeHtml(prefix)}</span><span class="live" id="live"><b></b>connecting…</span></header>
<main>
<div class="cards">
  <div class="card"><h2>Online</h2><div class="big" id="online">–</div></div>
  <div class="card"><h2>OTA campaign</h2><div id="camp-title">no campaign</div><div class="bar"><i id="camp-bar"></i></div><div class="states" id="camp-states"></div></div>
</div>
<div class="wrap"><table>
<thead><tr><th>#</th><th>Device</th><th>Status</th><th>Version</th><th>Boot</th><th>RSSI</th><th>Outbox</th><th>Last telemetry</th><th>Values</th><th>OTA</th><th>Board</th></tr></thead>
<tbody id="rows"></tbody>
</table></div>
<div class="more" id="more"></div>
</main>
<script>
"use strict";
const rows = new Map();
let order = [];
let total = 0;
const UNITS = { temperature: "°C", humidity: "%", pressure: "hPa", illuminance: "lx", value: "%" };
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
function fmt(key, v) {
  const name = key.split(".").pop();
  if (name === "pressure") return (v / 100).toFixed(1) + " hPa";
  if (name === "illuminance") return Math.round(v) + " lx";
  const unit = UNITS[name] || "";
  return (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)) + (unit ? " " + unit : "");
}
const ORDER = ["temperature", "humidity", "pressure", "illuminance", "value"];
function byReading(a, b) {
  const [sa, ra] = a.split("."), [sb, rb] = b.split(".");
  if (sa !== sb) return sa < sb ? -1 : 1;
  const ia = ORDER.indexOf(ra), ib = ORDER.indexOf(rb);
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
}
function spark(values) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 72 18");
  if (!values || values.length < 2) return svg;
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
  const pts = values.map((v, i) => (i * 72 / (values.length - 1)).toFixed(1) + "," + (16 - (v - lo) / span * 14).toFixed(1)).join(" ");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", pts);
  svg.appendChild(line);
  return svg;
}
function age(ms) {
  if (!ms) return "–";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 60 ? s + " s ago" : s < 3600 ? Math.round(s / 60) + " min ago" : Math.round(s / 3600) + " h ago";
}
function statusOf(r) {
  if (r.sim && r.sim.power === "off") return ["off", "power off"];
  // its status says online, but no heartbeat came within its expires: left behind, or forged
  if (r.status === "online" && r.stale) return ["stale", "stale"];
  if (r.status === "online") return ["online", "online"];
  if (r.status === "offline") return ["offline", r.state === "lost" ? "offline (will)" : "offline"];
  return ["", "unknown"];
}
function render(r) {
  const tr = el("tr");
  tr.dataset.id = r.id;
  tr.appendChild(el("td", "num", r.sim ? String(r.sim.label) : ""));
  tr.appendChild(el("td", "id", r.id));
  const [cls, label] = statusOf(r);
  const st = el("td"); const badge = el("span", "badge " + cls, label); st.appendChild(badge);
  if (cls === "stale") badge.title = "the retained status says online, but no heartbeat came" + (r.expires ? " within " + r.expires + " s" : " in time");
  const faults = [];
  if (r.sim) {
    if (r.sim.wifiDown) faults.push("Wi-Fi down");
    if (r.sim.stalled) faults.push("stalled");
    if (r.sim.broken.length) faults.push("sensor fault: " + r.sim.broken.join(", "));
    if (r.sim.otaCutArmed) faults.push("power cut armed");
  }
  if (faults.length) st.appendChild(el("span", "sub fault", faults.join(" · ")));
  tr.appendChild(st);
  const version = (r.sim && r.sim.version) || r.version, boot = r.sim && r.sim.boot !== undefined ? r.sim.boot : r.boot;
  tr.appendChild(el("td", "num", version || "–"));
  tr.appendChild(el("td", "num", boot !== undefined ? String(boot) : "–"));
  tr.appendChild(el("td", "num", r.rssi !== undefined ? r.rssi + " dBm" : "–"));
  const outbox = r.sim && r.sim.outbox !== undefined ? r.sim.outbox : r.outbox;
  tr.appendChild(el("td", "num", outbox !== undefined ? String(outbox) : "–"));
  const last = el("td", "num age", age(r.lastTelemetry)); last.dataset.at = r.lastTelemetry || "";
  tr.appendChild(last);
  const vals = el("td"); const box = el("div", "values");
  for (const key of Object.keys(r.values).sort(byReading)) {
    const v = el("div", "value");
    const [sensor, reading] = key.split(".");
    v.appendChild(el("small", "", reading === "value" ? sensor : reading));
    v.appendChild(el("b", "", fmt(key, r.values[key])));
    v.title = key;
    v.appendChild(spark(r.history[key]));
    box.appendChild(v);
  }
  for (const [sensor, code] of Object.entries(r.sensorErrors)) box.appendChild(el("span", "err", sensor + ": " + code));
  vals.appendChild(box); tr.appendChild(vals);
  const ota = el("td");
  // what the devices report on <prefix>/<id>/ota, as a back end sees it
  if (r.ota && r.ota.state !== "idle") {
    ota.appendChild(el("span", "", r.ota.state + (r.ota.target ? " → " + r.ota.target : "")));
    if (r.ota.state === "downloading") { const m = el("span", "mini"); const i = el("i"); i.style.width = (r.ota.percent || 0) + "%"; m.appendChild(i); ota.appendChild(m); m.title = (r.ota.percent || 0) + " %"; }
    if (r.ota.error) ota.appendChild(el("span", "sub err", r.ota.error));
  } else ota.textContent = "–";
  tr.appendChild(ota);
  // the chip the simulator runs it as, else what its OTA reports say: the fleet tool picks its image by it
  tr.appendChild(el("td", "board", (r.sim && r.sim.board) || r.board || "–"));
  return tr;
}
function summary(s) {
  total = s.total;
  document.getElementById("online").replaceChildren(document.createTextNode(String(s.online)), el("small", "", " / " + s.total + (s.stale ? " · " + s.stale + " stale" : "")));
  const c = s.campaign;
  document.getElementById("camp-title").textContent = c.devices ? (c.target ? "to " + c.target + ": " : "") + c.percent + " % · " + c.devices + " device" + (c.devices === 1 ? "" : "s") + (c.active ? " · in progress" : " · finished") : "no campaign";
  document.getElementById("camp-bar").style.width = c.percent + "%";
  const st = document.getElementById("camp-states"); st.replaceChildren();
  for (const [k, n] of Object.entries(c.states)) st.appendChild(el("span", "", k + ": " + n));
}
function redraw() {
  const body = document.getElementById("rows");
  body.replaceChildren(...order.map((id) => render(rows.get(id))));
  document.getElementById("more").textContent = total > order.length ? "showing " + order.length + " of " + total + " devices" : "";
}
const sortKey = (r) => [r.sim ? r.sim.label : Infinity, r.id];
function reorder() {
  order = [...rows.values()].sort((a, b) => { const x = sortKey(a), y = sortKey(b); return x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0); }).map((r) => r.id);
}
function connect() {
  const es = new EventSource("/events");
  const live = document.getElementById("live");
  es.addEventListener("open", () => { live.className = "live on"; live.lastChild.textContent = "live"; });
  es.addEventListener("error", () => { live.className = "live"; live.lastChild.textContent = "reconnecting…"; });
  es.addEventListener("snapshot", (e) => {
    const s = JSON.parse(e.data);
    document.getElementById("meta").textContent = "prefix " + s.prefix + " · broker " + s.broker;
    rows.clear();
    for (const r of s.rows) rows.set(r.id, r);
    reorder(); summary(s); redraw();
  });
  es.addEventListener("update", (e) => {
    const u = JSON.parse(e.data);
    for (const r of u.rows) rows.set(r.id, r);
    for (const id of u.removed) rows.delete(id);
    reorder(); summary(u); redraw();
  });
}
setInterval(() => { for (const td of document.querySelectorAll("td.age")) td.textContent = age(Number(td.dataset.at)); }, 1000);
connect();
</script>
</body>
</html>
`;
}

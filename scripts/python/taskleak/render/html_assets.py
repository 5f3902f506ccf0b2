# SPDX-License-Identifier: MIT
"""The HTML page's stylesheet and script (render/html.py inlines them).

Kept as Python strings so that every way the package is installed (pip,
make install's *.py copy) carries them.  The script builds the views from
the JSON document in #taskleak-data and never puts report text into the
page as markup (textContent only).  window.taskleakReady is the time
(ms since navigation) at which the first view was painted.
"""

CSS = r"""
:root{--sw:#c62828;--st:#e65100;--de:#6a1b9a;--pe:#1565c0;--live:#546e7a;--unk:#37474f;
--bg:#f6f7f9;--card:#fff;--line:#dde1e6;--mut:#5f6b7a;--ink:#1d2733;--accent:#0b57d0;
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);background:var(--bg)}
header#summary{padding:14px 24px 8px;background:#fff;border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0 0 2px}
.sum{margin:2px 0 6px;font-weight:600}
.meta,.muted{color:var(--mut)}
.meta{margin:4px 0}
.chips{margin:4px 0}
.chip{display:inline-block;border-radius:12px;padding:1px 10px;margin:0 6px 4px 0;background:#eef1f4;border:1px solid var(--line);font-size:13px}
.chip b{margin-right:3px}
.k-swallowed_cancel{--k:var(--sw)}.k-stuck_after_cancel{--k:var(--st)}.k-destroyed_pending{--k:var(--de)}
.k-pending_at_exit{--k:var(--pe)}.k-live{--k:var(--live)}
[class*="k-"]{--k0:var(--k,var(--unk))}
.chip[class*="k-"]{border-color:var(--k0);color:var(--k0)}
.bar{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid var(--line);padding:6px 24px;display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center}
.tabs button{font:inherit;border:1px solid var(--line);background:#f3f5f8;padding:4px 12px;border-radius:6px;cursor:pointer;margin-right:4px}
.tabs button[aria-selected=true]{background:var(--ink);color:#fff;border-color:var(--ink)}
.filters{display:flex;flex-wrap:wrap;gap:4px;align-items:center}
.filters label{display:inline-flex;align-items:center;gap:4px;border:1px solid var(--k0);color:var(--k0);border-radius:12px;padding:1px 9px;font-size:13px;cursor:pointer;user-select:none}
.filters label.off{opacity:.45;text-decoration:line-through}
.filters input[type=checkbox]{margin:0;accent-color:var(--k0)}
#q{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;width:260px}
.count{color:var(--mut);font-size:13px}
section.view{padding:12px 24px 40px}
.badge{display:inline-block;color:#fff;background:var(--k0);border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;vertical-align:1px}
.card{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--k0);border-radius:8px;margin:0 0 14px;padding:10px 14px;box-shadow:0 1px 2px rgba(0,0,0,.04)}
.card h3{font-size:15px;margin:0 0 6px;font-weight:600}
.card h3 code,.task code{font-family:var(--mono);font-size:13px}
a.anchor{color:var(--mut);text-decoration:none;margin-left:6px;font-weight:400}
a.anchor:hover{color:var(--accent)}
.label{color:var(--mut);font-size:12px;text-transform:uppercase;letter-spacing:.04em;margin-top:6px}
ol.stack{list-style:none;margin:2px 0 4px;padding:0 0 0 10px;font-family:var(--mono);font-size:12.5px}
ol.stack li{padding:1px 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
ol.stack li.rt{color:var(--mut)}
.fno{color:#9aa5b1;display:inline-block;min-width:2.4em}
.fn{font-weight:600}
.loc{color:#37597a}
code.src{display:block;margin:0 0 1px 2.4em;font-size:12px;color:#2e7d32;white-space:pre;overflow:hidden;text-overflow:ellipsis}
details.fold>summary{cursor:pointer;color:var(--accent);font-family:var(--mono);font-size:12px;list-style:none}
details.fold>summary::before{content:"\25B8 "}details.fold[open]>summary::before{content:"\25BE "}
details.fold>ol.stack{padding-left:14px;border-left:2px solid #e3e7ec}
.task{border-top:1px dashed var(--line);padding:6px 0 4px;margin-top:6px}
.task.flash{animation:flash 1.6s ease-out}
@keyframes flash{0%{background:#fff59d}100%{background:transparent}}
.thead{font-weight:600}
.thead .muted{font-weight:400}
.line{margin:2px 0 0 12px}
.line details>summary{cursor:pointer;color:var(--accent);font-size:12px}
.fix{margin:8px 0 2px;padding:6px 10px;background:#f1f8e9;border-radius:6px}
.note{margin:6px 0;padding:6px 10px;background:#fff8e1;border-radius:6px}
.never{color:#b71c1c;font-weight:600}
.waits{font-family:var(--mono);font-size:12.5px}
.pager{display:flex;gap:8px;align-items:center;margin:8px 0}
.pager button,.more{font:inherit;font-size:13px;border:1px solid var(--line);background:#fff;border-radius:6px;padding:2px 10px;cursor:pointer}
.pager button:disabled{opacity:.4;cursor:default}
table.t{border-collapse:collapse;background:#fff;font-size:13px;margin:4px 0 10px}
table.t th,table.t td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
table.t th{background:#f3f5f8}
table.t td.cmd{font-family:var(--mono);max-width:520px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
details.block{margin:0 0 10px}
details.block>summary{cursor:pointer;font-weight:600;margin-bottom:4px}
.tl-tools{display:flex;gap:16px;align-items:center;margin-bottom:6px;flex-wrap:wrap;font-size:13px}
.legend span{margin-right:12px;white-space:nowrap}
.tl-scroll{position:relative;overflow:auto;max-height:calc(100vh - 210px);min-height:120px;background:#fff;border:1px solid var(--line);border-radius:8px}
.tl-inner{position:relative}
.proc-row{background:#f3f5f8;border-bottom:1px solid var(--line)}
.proc-row .lane-label{background-color:#f3f5f8}
.lane{position:absolute;left:0;right:0;height:26px;display:flex;border-bottom:1px solid #f0f2f4}
.lane:hover{background:#f7f9fc}
.lane-label{position:sticky;left:0;z-index:2;flex:0 0 300px;width:300px;background:inherit;background-color:#fff;padding:0 8px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;font-size:12.5px;line-height:26px;border-right:1px solid var(--line)}
.lane-label a{color:inherit;text-decoration:none}
.lane-label .dot{display:inline-block;width:9px;height:9px;border-radius:50%;background:var(--k0);margin-right:6px}
.track{position:relative;flex:1 1 auto;margin:0 14px 0 10px}
.tick{position:absolute;top:0;bottom:0;border-left:1px solid #e6e9ed;font-size:11px;color:var(--mut);padding-left:3px;line-height:26px}
.span{position:absolute;top:11px;height:4px;border-radius:2px;background:var(--k0);opacity:.35}
.span.open{background:repeating-linear-gradient(90deg,var(--k0) 0 6px,transparent 6px 10px);opacity:.6}
.mark{position:absolute;top:6px;width:14px;height:14px;margin-left:-7px;cursor:pointer;border:2px solid #fff;box-shadow:0 0 0 1px rgba(0,0,0,.25)}
.mark:hover,.mark.sel{transform:scale(1.35);z-index:2}
.m-created{border-radius:50%;background:#546e7a}
.m-cancel{background:#d32f2f;clip-path:polygon(50% 100%,0 0,100% 0);border:0;box-shadow:none}
.m-delivered{background:#f9a825;transform:rotate(45deg);width:11px;height:11px;top:8px;margin-left:-5px}
.m-delivered:hover{transform:rotate(45deg) scale(1.35)}
.m-caught{background:#6d4c41;border-radius:2px}
.m-ended{background:#2e7d32}.m-ended.s-failed{background:#ad1457}.m-ended.s-cancelled{background:#757575}
.m-pending{background:transparent;border:0;box-shadow:none;width:0;height:0;border-top:8px solid transparent;border-bottom:8px solid transparent;border-left:12px solid var(--k0);top:5px;margin-left:-12px}
.lg{display:inline-block;width:10px;height:10px;margin:0 4px 0 0;vertical-align:-1px;position:static;border:0;box-shadow:none;cursor:default}
.lg.m-cancel{clip-path:polygon(50% 100%,0 0,100% 0)}
.lg.m-delivered{transform:rotate(45deg)}
.lg.m-pending{width:0;height:0;border-top:6px solid transparent;border-bottom:6px solid transparent;border-left:10px solid var(--live);vertical-align:0}
#tip{position:fixed;z-index:20;pointer-events:none;max-width:560px;background:#1d2733;color:#fff;border-radius:6px;padding:6px 9px;font-size:12px;box-shadow:0 4px 14px rgba(0,0,0,.25)}
#tip ol.stack{color:#dfe6ee;padding-left:4px}#tip .loc{color:#9ecbff}#tip ol.stack li.rt{color:#98a6b5}#tip code.src{color:#a5d6a7}
#panel{position:fixed;right:16px;bottom:16px;z-index:15;width:min(640px,calc(100vw - 32px));max-height:48vh;overflow:auto;background:#fff;border:1px solid var(--line);border-radius:10px;padding:10px 14px;box-shadow:0 8px 28px rgba(0,0,0,.18)}
#panel .close{float:right;border:0;background:none;font-size:18px;cursor:pointer;color:var(--mut)}
.proc{margin:0 0 18px}
.proc>h3{font-size:15px;margin:6px 0}
.box{background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:0 0 10px}
.box.dl{border-color:#ef9a9a;background:#fff5f5}
.box h4{margin:0 0 4px;font-size:14px}
.tree details.node{margin:0 0 0 18px;border-left:1px solid #dfe3e8;padding-left:8px}
.tree>details.node{margin-left:0}
details.node>summary{cursor:pointer;padding:3px 6px;border-radius:6px;list-style-position:outside}
details.node>summary:hover{background:#eef3fb}
details.node.dl>summary{background:#ffebee;outline:1px solid #ef9a9a}
details.node.nw>summary .waits{color:#b71c1c}
.nbody{margin:0 0 4px 8px;padding:2px 0 4px 8px;font-size:13px}
.pill{display:inline-block;border-radius:10px;padding:0 7px;font-size:11.5px;margin-left:5px;border:1px solid var(--line);color:var(--mut);background:#fff}
.pill.red{background:#c62828;border-color:#c62828;color:#fff}.pill.amber{background:#fff3e0;border-color:#ffb74d;color:#e65100}
.empty{color:var(--mut);padding:20px 0}
"""

SCRIPT = r"""
(() => {
"use strict";
const D = JSON.parse(document.getElementById("taskleak-data").textContent);
const T = D.tasks, F = D.frames, S = D.stacks, G = D.groups;
const PAGE = 20, MEMBERS = 6, MORE = 50, ROW = 26;
const app = document.getElementById("app");
const kindsAll = D.kinds.slice();
if (T.some(r => !r.k)) kindsAll.push("live");
const S0 = {view: "leaks", kinds: new Set(kindsAll), q: "", page: 0, shown: {}, zoom: 1};
const st = S0;

function el(tag, cls, ...kids) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const k of kids) if (k != null && k !== false) e.append(k instanceof Node ? k : String(k));
  return e;
}
function link(href, ...kids) { const a = el("a", null, ...kids); a.href = href; return a; }
const plural = (n, w, many) => n + " " + (n === 1 ? w : (many || w + "s"));
const fmtT = t => t == null ? "t=?" : "t=" + (+(+t).toFixed(3)) + "s";
const kindOf = r => r.k || "live";
function frameSite(fi) { const f = F[fi]; return (f[1] ? f[0] + ":" + f[1] : f[0]) + " in " + f[2]; }
function siteOf(si) {
  if (si == null || si < 0) return null;
  for (const fi of S[si]) if (!F[fi][3]) return fi;
  return S[si][0];
}
const siteText = si => { const fi = siteOf(si); return fi == null ? "an unknown site" : frameSite(fi); };
const anchorOf = r => (r.k ? "leak-" : "task-") + (r.p == null ? 0 : r.p) + "-" + r.id;
const procs = new Map(D.procs.map(p => [p.p, p]));
const byPidId = new Map(T.map((r, i) => [r.p + ":" + r.id, i]));
const findTask = (p, id) => { const i = byPidId.get(p + ":" + id); return i == null ? null : T[i]; };

// -- stacks ------------------------------------------------------------------
function frameLi(i, fi) {
  const f = F[fi], li = el("li", f[3] ? "rt" : "user");
  li.append(el("span", "fno", "#" + i), el("span", "fn", f[2]), " ", el("span", "loc", f[1] ? f[0] + ":" + f[1] : f[0]));
  if (f[4]) li.append(el("code", "src", f[4]));
  return li;
}
function stackEl(si, fold = true) {
  if (si == null || si < 0) return el("div", "muted line", "(no stack)");
  const ol = el("ol", "stack"), frames = S[si];
  const folding = fold && !frames.every(fi => F[fi][3]);
  let run = [];
  const flush = () => {
    if (!run.length) return;
    const asy = run.filter(x => F[x[1]][3] === 2).length;
    const what = asy === run.length ? "asyncio" : asy === 0 ? "standard library" : "asyncio and standard library";
    const d = el("details", "fold", el("summary", null, plural(run.length, what + " frame") + " folded"));
    const inner = el("ol", "stack");
    for (const [i, fi] of run) inner.append(frameLi(i, fi));
    d.append(inner);
    ol.append(el("li", "foldli", d));
    run = [];
  };
  frames.forEach((fi, i) => { if (folding && F[fi][3]) run.push([i, fi]); else { flush(); ol.append(frameLi(i, fi)); } });
  flush();
  return ol;
}
function siteEl(text, si) {
  if (si == null || si < 0) return el("span", null, text);
  return el("details", null, el("summary", null, text), stackEl(si));
}

// -- filters -----------------------------------------------------------------
function hay(r) {
  if (r._h === undefined) {
    const parts = [kindOf(r), r.n, r.co, "id " + r.id, "pid " + r.p, r.te || "", r.st, r.out || ""];
    for (const si of [r.cs, r.a]) { const fi = siteOf(si); if (fi != null) parts.push(frameSite(fi)); }
    if (r.w) parts.push(r.w.kind || "", r.w.name || "", r.w.type || "");
    if (r.ctx) parts.push(...Object.values(r.ctx));
    r._h = parts.join(" \u0001 ").toLowerCase();
  }
  return r._h;
}
const matches = r => st.kinds.has(kindOf(r)) && (!st.q || hay(r).includes(st.q));

// -- one task (a leak, or a live task) ---------------------------------------
function cancelLine(c) {
  let t = c.ba ? "cancelled before taskleak was attached (when and by whom: unknown)" : "cancelled at " + siteText(c.s);
  if (c.m != null) t += " (message: " + JSON.stringify(c.m) + ")";
  if (c.by) t += " (by " + c.by + ")";
  if (c.fw != null) t += " (forwarded from task " + c.fw + ")";
  if (c.t != null) t += ", " + fmtT(c.t);
  const d = el("div", "line", siteEl(t, c.s));
  if (c.x != null && c.x >= 0) d.append(el("div", "line", "CancelledError caught at " + frameSite(c.x), srcOf(c.x)));
  else if (c.d != null && c.d >= 0) d.append(el("div", "line", "delivered at " + siteText(c.d), srcOf(siteOf(c.d))));
  return d;
}
function srcOf(fi) { return fi != null && fi >= 0 && F[fi][4] ? el("code", "src", F[fi][4]) : null; }
function taskRef(p, id) {
  const r = findTask(p, id);
  return r ? link("#" + anchorOf(r), r.n + " (id " + id + ")") : el("span", null, "task id " + id);
}
function refs(p, ids) {
  const s = el("span");
  (ids || []).forEach((id, i) => { if (i) s.append(", "); s.append(taskRef(p, id)); });
  if (!ids || !ids.length) s.append("nobody");
  return s;
}
function waitsEl(r) {
  const w = r.w, d = el("div", "line waits");
  const what = [w.name, w.type ? "(" + w.type + (w.object ? " " + w.object : "") + ")" : w.object].filter(Boolean).join(" ");
  const k = w.kind || "other";
  if (k === "task" || k === "gather" || k === "wait") {
    d.append(k === "task" ? "awaits " : k === "gather" ? "gathers " : "waits (asyncio.wait) for ", refs(r.p, w.tasks));
  } else if (k === "sleep" || k === "timeout") {
    const end = (procs.get(r.p) || {}).t;
    d.append((k === "sleep" ? "sleeps until " : "times out at ") + fmtT(w.deadline) +
      (w.deadline != null && end != null ? " (" + (+(w.deadline - end).toFixed(3)) + " s after the report)" : ""));
  } else if (k === "lock" || k === "semaphore" || k === "condition") {
    d.append("waits for " + k + " " + what + " held by ", refs(r.p, w.held_by));
  } else {
    d.append("waits for " + k.replace(/_/g, " ") + (what ? " " + what : ""));
  }
  if (w.more) d.append(" " + Object.entries(w.more).map(([a, b]) => a + "=" + b).join(" "));
  if (w.never) d.append(" \u2014 ", el("span", "never", "never wakes: " + w.never));
  return d;
}
function taskEl(r) {
  const d = el("div", "task " + "k-" + kindOf(r));
  d.id = anchorOf(r);
  const head = el("div", "thead", r.n + " (id " + r.id + ")");
  const sub = [];
  if (r.p != null) sub.push("pid " + r.p);
  sub.push(r.ba ? "created before taskleak was attached" : "created " + fmtT(r.ct));
  head.append(el("span", "muted", " \u00b7 " + sub.join(", ")));
  if (r.te) head.append(el("span", "pill", "test " + r.te + (r.v ? " [" + r.v + "]" : "")));
  head.append(link("#" + d.id, "#"));
  head.lastChild.className = "anchor";
  head.lastChild.title = "link to this task";
  const tl = link("#timeline", "timeline \u203a");
  tl.className = "anchor";
  tl.title = "this task's lane in the timeline";
  tl.onclick = e => { e.preventDefault(); showView("timeline", T.indexOf(r)); };
  head.append(tl);
  d.append(head);
  if (!r.k && r.cs >= 0) d.append(el("div", "line", siteEl("created at " + siteText(r.cs), r.cs)));
  for (const c of r.c) d.append(cancelLine(c));
  if (r.st === "pending") {
    if (r.a >= 0) {
      d.append(el("div", "line", "still pending, suspended at " + siteText(r.a)));
      d.append(stackEl(r.a, false));
    } else d.append(el("div", "line", r.k === "destroyed_pending" ? "still pending; where it was suspended is unknown (its coroutine was closed before the task was destroyed)" : "still pending"));
  } else {
    d.append(el("div", "line", "ended: " + (r.out || r.st) + (r.e != null ? ", " + fmtT(r.e) : "")));
    if (r.a >= 0) { d.append(el("div", "line", "was suspended at " + siteText(r.a))); d.append(stackEl(r.a, false)); }
  }
  if (r.w) d.append(waitsEl(r));
  for (const h of r.h || []) d.append(el("div", "line", "holds " + h));
  if (r.rs) d.append(el("div", "line", "resolved at " + fmtT(r.rs.t) + ": " + r.rs.state));
  if (r.ctx) d.append(el("div", "line muted", "context: " + Object.entries(r.ctx).map(([a, b]) => a + "=" + b).join(", ")));
  return d;
}

// -- leaks view -----------------------------------------------------------------
function filteredGroups() {
  const out = [];
  for (let g = 0; g < G.length; g++) {
    if (!st.kinds.has(G[g].k)) continue;
    const m = G[g].m.filter(i => matches(T[i]));
    if (m.length) out.push([g, m]);
  }
  return out;
}
function card(g, members) {
  const grp = G[g], art = el("article", "card k-" + grp.k);
  art.id = "group-" + g;
  const n = members.length, all = grp.m.length;
  const h = el("h3", null, el("span", "badge", grp.k), " ",
    (n === all ? plural(n, "leak") : n + " of " + plural(all, "leak")) + " of coroutine ",
    el("code", null, grp.co), " created at ", el("code", null, grp.site));
  const a = link("#group-" + g, "#");
  a.className = "anchor";
  h.append(a);
  art.append(h, el("div", "label", "created"), stackEl(grp.cs));
  const list = el("div", "members");
  const limit = st.shown[g] || MEMBERS;
  for (const i of members.slice(0, limit)) list.append(taskEl(T[i]));
  art.append(list);
  if (n > limit) {
    const b = el("button", "more", "show " + Math.min(MORE, n - limit) + " more of " + (n - limit));
    b.onclick = () => { st.shown[g] = limit + MORE; art.replaceWith(card(g, members)); };
    art.append(b);
  }
  if (grp.bug) art.append(el("p", "note", "note: " + grp.bug));
  if (grp.fix) art.append(el("p", "fix", el("b", null, "fix: "), grp.fix));
  return art;
}
function pager(total, onPage) {
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const p = el("div", "pager");
  const prev = el("button", null, "\u2039 previous"), next = el("button", null, "next \u203a");
  prev.disabled = st.page <= 0; next.disabled = st.page >= pages - 1;
  prev.onclick = () => onPage(st.page - 1); next.onclick = () => onPage(st.page + 1);
  p.append(prev, el("span", "count", "page " + (st.page + 1) + " of " + pages), next);
  return pages > 1 ? p : null;
}
function tablesEl() {
  const box = el("div");
  const rows = D.procs;
  const dp = el("details", "block", el("summary", null, "Processes (" + rows.length + ")"));
  if (rows.length <= 8) dp.open = true;
  const t = el("table", "t");
  t.append(el("tr", null, ...["pid", "command", "python", "report", "t", "leaks", "notes"].map(x => el("th", null, x))));
  for (const r of rows.slice(0, 500)) {
    const notes = [];
    if (r.om) notes.push(r.om + " more leaks counted, not kept in full");
    if (r.inc) notes.push("incomplete: " + r.inc);
    if (r.dl) notes.push(plural(r.dl.length, "deadlock"));
    t.append(el("tr", null, el("td", null, r.p == null ? "?" : r.p), el("td", "cmd", r.argv), el("td", null, r.py),
      el("td", null, r.r), el("td", null, fmtT(r.t)), el("td", null, r.n == null ? "" : r.n), el("td", null, notes.join("; "))));
  }
  dp.append(t);
  box.append(dp);
  if (D.tests.length) {
    const dt = el("details", "block", el("summary", null, "Tests with leaks (" + D.tests.length + ")"));
    dt.open = true;
    const tt = el("table", "t");
    tt.append(el("tr", null, el("th", null, "test"), el("th", null, "leaks"), el("th", null, "verdict")));
    for (const [id, kinds, verdicts] of D.tests) {
      const a = link("#", id);
      a.onclick = e => { e.preventDefault(); setQuery(id === "(outside any test)" ? "" : id); };
      tt.append(el("tr", null, el("td", null, a),
        el("td", null, Object.entries(kinds).map(([k, n]) => n + " " + k).join(", ")), el("td", null, verdicts.join(", "))));
    }
    dt.append(tt);
    box.append(dt);
  }
  return box;
}
function renderLeaks(sec) {
  sec.append(tablesEl());
  const groups = filteredGroups();
  const leaks = groups.reduce((n, g) => n + g[1].length, 0);
  const pages = Math.max(1, Math.ceil(groups.length / PAGE));
  st.page = Math.min(st.page, pages - 1);
  setCount(leaks + " of " + plural(T.filter(r => r.k).length, "leak") + " in " + plural(groups.length, "group"));
  if (!groups.length) { sec.append(el("p", "empty", G.length ? "No leak matches the filter." : "No leaks.")); return; }
  const go = p => { st.page = p; render(); window.scrollTo(0, 0); };
  sec.append(pager(groups.length, go) || "");
  const list = el("div", "cards");
  for (const [g, m] of groups.slice(st.page * PAGE, st.page * PAGE + PAGE)) list.append(card(g, m));
  sec.append(list, pager(groups.length, go) || "");
}

// -- timeline --------------------------------------------------------------------
function procEnd(p) { const pr = procs.get(p); return pr && pr.t != null ? pr.t : null; }
function marks(r) {
  const out = [], end = procEnd(r.p);
  out.push({t: r.ct || 0, c: "created", l: (r.ba ? "found when taskleak was attached" : "created at " + siteText(r.cs) + ", " + fmtT(r.ct)), s: r.cs});
  for (const c of r.c) {
    const who = c.ba ? "before taskleak was attached" : c.by ? "by " + c.by + " at " + siteText(c.s) : c.fw != null ? "forwarded from task " + c.fw : "at " + siteText(c.s);
    const t = c.t != null ? c.t : r.ct || 0;
    out.push({t, c: "cancel", l: "cancel requested " + who + ", " + fmtT(c.t) + (c.m != null ? " (message " + JSON.stringify(c.m) + ")" : ""), s: c.s});
    const when = " (its time is not recorded: after the request" + (r.e != null ? ", before " + fmtT(r.e) : "") + ")";
    if (c.d >= 0) out.push({t, c: "delivered", l: "CancelledError delivered at " + siteText(c.d) + when, s: c.d});
    if (c.x >= 0) out.push({t, c: "caught", l: "CancelledError caught at " + frameSite(c.x) + when, f: c.x});
  }
  if (r.e != null) out.push({t: r.e, c: "ended s-" + r.st, l: "ended: " + (r.out || r.st) + ", " + fmtT(r.e), s: r.st === "pending" ? r.a : -1});
  else if (r.rs) out.push({t: r.rs.t, c: "ended s-" + r.rs.state, l: "ended " + r.rs.state + " (the stuck task resolved), " + fmtT(r.rs.t)});
  else if (r.st === "pending" && end != null) out.push({t: end, c: "pending", l: "still pending at " + fmtT(end) + (r.a >= 0 ? ", suspended at " + siteText(r.a) : ""), s: r.a});
  return out;
}
function niceStep(span) {
  const raw = span / 8, mag = Math.pow(10, Math.floor(Math.log10(raw || 1)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}
function renderTimeline(sec) {
  const lanes = [];
  T.forEach((r, i) => { if ((r.k || r.live || r.c.length) && matches(r)) lanes.push(i); });
  lanes.sort((a, b) => (T[a].p || 0) - (T[b].p || 0) || (T[a].ct || 0) - (T[b].ct || 0) || T[a].id - T[b].id);
  setCount(plural(lanes.length, "lane") + " of " + plural(T.filter(r => r.k || r.live || r.c.length).length, "task"));
  // Each process on its own axis: a header row with its ticks, then its lanes.
  const rowsOf = [], spans = new Map();
  for (const i of lanes) {
    const p = T[i].p;
    if (!spans.has(p)) { spans.set(p, procEnd(p) || 0); rowsOf.push({p}); }
    for (const m of marks(T[i])) spans.set(p, Math.max(spans.get(p), m.t || 0));
    rowsOf.push({i});
  }
  // Pixels: marks in causal order keep a gap even when their times coincide.
  let trackPx = 800;
  const xOf = p => { const span = spans.get(p) || 1; return t => trackPx * Math.max(0, t) / span; };
  const tools = el("div", "tl-tools");
  const zoom = el("select");
  for (const z of [1, 2, 4, 8, 16, 64]) { const o = el("option", null, z + "\u00d7"); o.value = z; if (z === st.zoom) o.selected = true; zoom.append(o); }
  zoom.onchange = () => { st.zoom = +zoom.value; render(); };
  const legend = el("span", "legend");
  for (const [c, l] of [["created", "created"], ["cancel", "cancel requested"], ["delivered", "delivered"], ["caught", "caught"], ["ended", "ended"], ["pending", "still pending"]])
    legend.append(el("span", null, el("i", "lg m-" + c), l));
  tools.append(el("label", null, "zoom ", zoom), legend, el("span", "muted", "each process on its own axis (seconds since it started); hover a mark for its stack, click to keep it"));
  sec.append(tools);
  if (!lanes.length) { sec.append(el("p", "empty", "No task matches the filter.")); return; }
  const scroll = el("div", "tl-scroll"), inner = el("div", "tl-inner");
  inner.style.height = rowsOf.length * ROW + "px";
  inner.style.width = st.zoom === 1 ? "100%" : "calc(300px + " + (st.zoom * 100) + "%)";
  const rows = el("div");
  inner.append(rows);
  scroll.append(inner);
  sec.append(scroll);
  const draw = () => {
    trackPx = Math.max(100, inner.clientWidth - 324 - 24);
    const first = Math.max(0, Math.floor(scroll.scrollTop / ROW) - 8);
    const last = Math.min(rowsOf.length, first + Math.ceil(scroll.clientHeight / ROW) + 16);
    rows.textContent = "";
    for (let n = first; n < last; n++) {
      const row = rowsOf[n];
      rows.append(row.i == null ? procRow(row.p, n, spans.get(row.p), xOf(row.p)) : laneEl(row.i, n, xOf(T[row.i].p)));
    }
  };
  const later = () => { if (!scroll._raf) scroll._raf = requestAnimationFrame(() => { scroll._raf = 0; draw(); }); };
  scroll.addEventListener("scroll", later);
  window.onresize = () => st.view === "timeline" && later();
  requestAnimationFrame(() => {
    if (st.focusLane != null) { const n = rowsOf.findIndex(r => r.i === st.focusLane); if (n >= 0) scroll.scrollTop = Math.max(0, (n - 3) * ROW); st.focusLane = null; }
    draw();
  });
  draw();
}
function procRow(p, n, span, x) {
  const pr = procs.get(p) || {};
  const row = el("div", "lane proc-row");
  row.style.top = n * ROW + "px";
  const label = el("div", "lane-label", el("b", null, "pid " + (p == null ? "?" : p)), el("span", "muted", pr.argv ? " \u00b7 " + pr.argv : ""));
  label.title = (pr.argv || "") + " (" + (pr.r || "?") + " report at " + fmtT(pr.t) + ")";
  const track = el("div", "track");
  const step = niceStep(span || 1);
  for (let t = 0; t <= (span || 1) + 1e-9; t += step) { const k = el("div", "tick", (+t.toFixed(6)) + "s"); k.style.left = x(t) + "px"; track.append(k); }
  row.append(label, track);
  return row;
}
function laneEl(i, n, x) {
  const r = T[i], lane = el("div", "lane k-" + kindOf(r));
  lane.style.top = n * ROW + "px";
  lane.dataset.task = i;
  const label = el("div", "lane-label", el("span", "dot"), link("#" + anchorOf(r), r.n + " (id " + r.id + ") "), el("span", "muted", r.co));
  label.title = kindOf(r) + ": " + r.n + " (id " + r.id + "), coroutine " + r.co + ", pid " + r.p;
  const track = el("div", "track");
  const ms = marks(r), px = [];
  ms.forEach((m, j) => px.push(j ? Math.max(x(m.t), px[j - 1] + 13) : x(m.t)));
  const bar = el("div", "span" + (r.st === "pending" && r.e == null && !r.rs ? " open" : ""));
  bar.style.left = px[0] + "px";
  bar.style.width = (px[px.length - 1] - px[0]) + "px";
  track.append(bar);
  ms.forEach((m, j) => {
    const s = el("span", "mark m-" + m.c);
    s.style.left = px[j] + "px";
    s.dataset.task = i; s.dataset.mark = j;
    s.setAttribute("aria-label", m.l);
    track.append(s);
  });
  lane.append(label, track);
  return lane;
}
const tip = el("div");
tip.id = "tip"; tip.hidden = true;
document.body.append(tip);
function markInfo(target) {
  const r = T[+target.dataset.task], m = marks(r)[+target.dataset.mark];
  return [r, m];
}
function markBody(r, m, full) {
  const box = el("div", null, el("div", "thead", r.n + " (id " + r.id + ") \u00b7 " + kindOf(r)), el("div", null, m.l));
  if (m.s != null && m.s >= 0) {
    if (full) box.append(stackEl(m.s));
    else {
      const ol = el("ol", "stack");
      S[m.s].filter(fi => !F[fi][3]).slice(0, 6).forEach(fi => ol.append(frameLi(S[m.s].indexOf(fi), fi)));
      if (!ol.childNodes.length) S[m.s].slice(0, 6).forEach((fi, k) => ol.append(frameLi(k, fi)));
      box.append(ol);
    }
  } else if (m.f != null) box.append(el("ol", "stack", frameLi(0, m.f)));
  return box;
}
document.addEventListener("mouseover", e => {
  const t = e.target.closest && e.target.closest(".mark");
  if (!t) { tip.hidden = true; return; }
  const [r, m] = markInfo(t);
  tip.textContent = "";
  tip.append(markBody(r, m, false));
  tip.hidden = false;
  const w = tip.offsetWidth, h = tip.offsetHeight;
  tip.style.left = Math.max(4, Math.min(e.clientX + 14, innerWidth - w - 8)) + "px";
  tip.style.top = (e.clientY + 18 + h > innerHeight ? e.clientY - h - 12 : e.clientY + 18) + "px";
});
document.addEventListener("click", e => {
  const t = e.target.closest && e.target.closest(".mark");
  if (!t) return;
  const [r, m] = markInfo(t);
  showPanel(markBody(r, m, true), r);
  document.querySelectorAll(".mark.sel").forEach(s => s.classList.remove("sel"));
  t.classList.add("sel");
});
function showPanel(body, r) {
  let p = document.getElementById("panel");
  if (!p) { p = el("aside"); p.id = "panel"; document.body.append(p); }
  p.textContent = "";
  const close = el("button", "close", "\u00d7");
  close.onclick = () => p.remove();
  p.append(close, body);
  if (r) { const a = link("#" + anchorOf(r), r.k ? "the leak's card" : "the task in the await tree"); p.append(el("div", "line", a)); }
}

// -- await tree ------------------------------------------------------------------
function treeProcs() {
  const pids = [];
  for (const p of D.procs) {
    const has = T.some(r => r.p === p.p && (r.live || (r.w && r.st === "pending")));
    if ((has || (p.dl && p.dl.length) || (p.th && p.th.length)) && !pids.includes(p.p)) pids.push(p.p);
  }
  return pids;
}
function renderTree(sec) {
  const pids = treeProcs();
  let shown = 0, total = 0;
  for (const pid of pids) {
    const pr = procs.get(pid) || {};
    const nodes = T.filter(r => r.p === pid && (r.live || (r.w && r.st === "pending")));
    total += nodes.length;
    const byId = new Map(nodes.map(r => [r.id, r]));
    const kids = new Map(), parent = new Map();
    const addEdge = (a, b) => {
      if (!byId.has(a) || !byId.has(b) || a === b || parent.has(b)) return;
      parent.set(b, a);
      if (!kids.has(a)) kids.set(a, []);
      kids.get(a).push(b);
    };
    for (const r of nodes) if (r.w && ["task", "gather", "wait"].includes(r.w.kind)) for (const c of r.w.tasks || []) addEdge(r.id, c);
    for (const r of nodes) if (r.by != null) addEdge(r.by, r.id);
    const dead = new Set();
    for (const d of pr.dl || []) for (const id of d.tasks) dead.add(id);
    const holds = new Map();
    for (const r of nodes) if (r.w && r.w.held_by) for (const h of r.w.held_by) {
      if (!holds.has(h)) holds.set(h, []);
      holds.get(h).push(r);
    }
    const keep = new Map();
    const visible = (r, seen) => {
      if (keep.has(r.id)) return keep.get(r.id);
      if (seen.has(r.id)) return false;
      seen.add(r.id);
      let v = matches(r);
      for (const c of kids.get(r.id) || []) if (visible(byId.get(c), seen)) v = true;
      keep.set(r.id, v);
      return v;
    };
    for (const list of kids.values()) list.sort((a, b) => a - b);
    const roots = nodes.filter(r => !parent.has(r.id)).sort((a, b) => a.id - b.id);
    const reached = new Set();
    const mark = id => { if (reached.has(id)) return; reached.add(id); for (const c of kids.get(id) || []) mark(c); };
    roots.forEach(r => mark(r.id));
    for (const r of nodes) if (!reached.has(r.id)) { roots.push(r); mark(r.id); }
    const box = el("div", "proc");
    const head = "pid " + pid + (pr.argv ? " (" + pr.argv + ")" : "") + ": " + plural(nodes.length, "live task") + " at " + fmtT(pr.t) + " (" + (pr.r || "?") + (pr.r === "shutdown" ? ": the exit hung" : "") + ")";
    box.append(el("h3", null, head));
    for (const d of pr.dl || []) box.append(deadlockEl(pid, d));
    if (pr.th && pr.th.length) box.append(threadsEl(pr.th));
    const tree = el("div", "tree");
    const small = nodes.length <= 300;
    const nodeEl = (r, depth, path) => {
      const cls = "node k-" + kindOf(r) + (dead.has(r.id) ? " dl" : "") + (r.w && r.w.never ? " nw" : "");
      const d = el("details", cls);
      d.id = r.k ? "task-" + r.p + "-" + r.id : anchorOf(r);
      const sum = el("summary", null, el("b", null, r.n), " (id " + r.id + ") ", el("code", null, r.co));
      if (r.k) sum.append(" ", el("span", "badge", r.k));
      if (dead.has(r.id)) sum.append(el("span", "pill red", "deadlock"));
      if (r.w && r.w.never) sum.append(el("span", "pill amber", "never wakes"));
      if (r.c.length) sum.append(el("span", "pill", "cancelled \u00d7" + r.c.length));
      if (r.w) sum.append(waitsEl(r));
      else if (r.a >= 0) sum.append(el("div", "line waits", "suspended at " + siteText(r.a)));
      d.append(sum);
      const body = el("div", "nbody");
      if (r.w && r.a >= 0) body.append(el("div", "line", siteEl("suspended at " + siteText(r.a), r.a)));
      for (const w of holds.get(r.id) || []) body.append(el("div", "line", "holds " + (w.w.kind || "lock") + " " + (w.w.name || w.w.object || "") + " (", taskRef(pid, w.id), " waits for it)"));
      for (const h of r.h || []) body.append(el("div", "line", "holds " + h));
      body.append(el("div", "line", siteEl(r.ba ? "created before taskleak was attached" : "created at " + siteText(r.cs) + ", " + fmtT(r.ct), r.cs)));
      for (const c of r.c) body.append(cancelLine(c));
      if (r.k) body.append(el("div", "line", link("#" + anchorOf(r), "the leak's card")));
      d.append(body);
      const children = (kids.get(r.id) || []).map(c => byId.get(c)).filter(c => keep.get(c.id) && !path.has(c.id));
      const fill = () => {
        if (d._filled) return;
        d._filled = true;
        const p2 = new Set(path); p2.add(r.id);
        for (const c of children) d.append(nodeEl(c, depth + 1, p2));
      };
      const wanted = small || depth < 2 || dead.has(r.id) || children.some(c => dead.has(c.id));
      if (wanted) { d.open = true; fill(); }
      else d.addEventListener("toggle", fill);
      if (!children.length) d.classList.add("leaf");
      shown++;
      return d;
    };
    for (const r of roots) if (visible(r, new Set())) tree.append(nodeEl(r, 0, new Set()));
    if (!tree.childNodes.length) tree.append(el("p", "empty", "No task of this process matches the filter."));
    box.append(tree);
    sec.append(box);
  }
  setCount(plural(shown, "task") + " shown of " + total);
  if (!pids.length) sec.append(el("p", "empty", "No snapshot or shutdown report: the await tree needs live tasks (taskleak dump PID)."));
}
function deadlockEl(pid, d) {
  const box = el("div", "box dl", el("h4", null, "Deadlock: ", refs(pid, d.tasks)));
  for (const e of d.edges) {
    const line = el("div", "line waits");
    const from = e.from != null ? e.from : e.waiter, to = e.to != null ? e.to : e.holder;
    const via = e.via || e.kind;
    if (from != null && to != null && (via === "task" || via === "gather")) {
      line.append(taskRef(pid, from), " awaits ", taskRef(pid, to));
    } else if (from != null && to != null) {
      line.append(taskRef(pid, from), " waits for " + [via, e.name || e.object].filter(Boolean).join(" ") + " held by ", taskRef(pid, to));
    } else line.append(JSON.stringify(e));
    box.append(line);
  }
  return box;
}
function threadsEl(threads) {
  const box = el("div", "box", el("h4", null, "Other threads running Python (" + threads.length + ")"));
  for (const th of threads) {
    const f = th.f, name = f.name || "thread";
    const facts = Object.entries(f).filter(([k]) => k !== "name").map(([k, v]) => k + ": " + v).join(", ");
    const waits = f.exit_waits === true || f.waited_at_exit === true || f.joined_at_exit === true;
    const head = el("div", "thead", name, el("span", "muted", " \u00b7 " + facts));
    if (waits) head.append(el("span", "pill amber", "the exit waits for it"));
    box.append(head, stackEl(th.s));
  }
  return box;
}

// -- the frame of the page -------------------------------------------------------
let countEl;
function setCount(t) { countEl.textContent = t; }
function setQuery(q) { st.q = q.trim().toLowerCase(); st.page = 0; qIn.value = q; render(); }
const bar = el("div", "bar");
const tabs = el("div", "tabs");
const views = [["leaks", "Leaks", T.filter(r => r.k).length], ["timeline", "Timeline", T.filter(r => r.k || r.live || r.c.length).length], ["tree", "Await tree", T.filter(r => r.live).length]];
const tabButtons = {};
for (const [v, label, n] of views) {
  if (v === "tree" && !treeProcs().length) continue;
  const b = el("button", null, label + " (" + n + ")");
  b.id = "tab-" + v;
  b.onclick = () => { history.replaceState(null, "", "#" + v); showView(v); };
  tabButtons[v] = b;
  tabs.append(b);
}
const filters = el("div", "filters");
for (const k of kindsAll) {
  const n = T.filter(r => kindOf(r) === k).length;
  const cb = el("input"); cb.type = "checkbox"; cb.checked = true; cb.value = k;
  const lab = el("label", "k-" + k, cb, k + " " + n);
  cb.onchange = () => { cb.checked ? st.kinds.add(k) : st.kinds.delete(k); lab.classList.toggle("off", !cb.checked); st.page = 0; render(); };
  filters.append(lab);
}
const qIn = el("input"); qIn.id = "q"; qIn.type = "search"; qIn.placeholder = "filter: coroutine, task, file, test\u2026";
let qTimer = 0;
qIn.oninput = () => { clearTimeout(qTimer); qTimer = setTimeout(() => setQuery(qIn.value), 120); };
filters.append(qIn);
countEl = el("span", "count");
bar.append(tabs, filters, countEl);
app.append(bar);
const section = el("section", "view");
app.append(section);
function render() {
  section.textContent = "";
  section.id = "view-" + st.view;
  for (const [v, b] of Object.entries(tabButtons)) b.setAttribute("aria-selected", String(v === st.view));
  if (st.view === "timeline") renderTimeline(section);
  else if (st.view === "tree") renderTree(section);
  else renderLeaks(section);
}
function showView(v, lane) {
  st.view = tabButtons[v] ? v : "leaks";
  if (lane != null) st.focusLane = lane;
  render();
}
function resetFilters() {
  st.kinds = new Set(kindsAll); st.q = ""; qIn.value = "";
  filters.querySelectorAll("input[type=checkbox]").forEach(c => { c.checked = true; c.parentNode.classList.remove("off"); });
}
function go(hash) {
  const m = /^#(leak|task)-(\d+)-(\d+)$/.exec(hash), g = /^#group-(\d+)$/.exec(hash);
  if (m) {
    const r = findTask(+m[2], +m[3]);
    if (!r) return showView("leaks");
    if (!matches(r)) resetFilters();
    if (m[1] === "task" || !r.k) { showView("tree"); }
    else {
      const groups = filteredGroups(), pos = groups.findIndex(x => x[0] === r.g);
      st.page = Math.floor(pos / PAGE);
      const inGroup = groups[pos][1].indexOf(T.indexOf(r));
      if (inGroup >= (st.shown[r.g] || MEMBERS)) st.shown[r.g] = inGroup + 1;
      showView("leaks");
    }
    const target = document.getElementById(hash.slice(1));
    if (target) {
      for (let p = target.parentElement; p; p = p.parentElement) if (p.tagName === "DETAILS") p.open = true;
      target.scrollIntoView({block: "center"});
      target.classList.add("flash");
    }
  } else if (g && G[+g[1]]) {
    resetFilters();
    const pos = filteredGroups().findIndex(x => x[0] === +g[1]);
    st.page = Math.floor(pos / PAGE);
    showView("leaks");
    const target = document.getElementById(hash.slice(1));
    if (target) target.scrollIntoView();
  } else if (hash === "#timeline" || hash === "#tree" || hash === "#leaks") showView(hash.slice(1));
}
window.addEventListener("hashchange", () => go(location.hash));
if (location.hash) go(location.hash);
else showView(G.length || !tabButtons.tree ? "leaks" : "tree");
window.taskleak = {state: st, render, showView, setQuery};
// Ready once the first view is painted (the next frame has begun).
requestAnimationFrame(() => setTimeout(() => {
  window.taskleakReady = performance.now();
  document.body.dataset.ready = String(Math.round(window.taskleakReady));
}, 0));
})();
"""

// Engram dashboard: plain DOM, no build step. Text is only ever set with textContent (no HTML injection).
"use strict";
const KEY = "engram.key";
const state = { offset: 0, limit: 25, filters: {} };
const $ = (sel) => document.querySelector(sel);

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  return node;
}

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = !message;
}

async function call(method, path, body) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((data.error || r.statusText) + " (HTTP " + r.status + ")");
  return data;
}

function show(page) {
  const loggedIn = !!sessionStorage.getItem(KEY);
  $("#nav").hidden = !loggedIn;
  if (!loggedIn) page = "login";
  ["login", "memories", "search", "graph", "inbox", "contradictions", "keys", "health"].forEach((p) => { $("#" + p).hidden = p !== page; });
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === page));
  showError("");
  if (page === "memories") loadMemories().catch((e) => showError(e.message));
  if (page === "graph") loadGraph().catch((e) => showError(e.message));
  if (page === "inbox") loadInbox().catch((e) => showError(e.message));
  if (page === "contradictions") loadContradictions().catch((e) => showError(e.message));
  if (page === "keys") loadKeys().catch((e) => showError(e.message));
  if (page === "health") loadHealth().catch((e) => showError(e.message));
}

async function login(event) {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("#key").value.trim());
  try {
    await call("GET", "/me/stats");
  } catch (e) {
    sessionStorage.removeItem(KEY);
    show("login");
    showError("Login failed: " + e.message);
    return;
  }
  $("#key").value = "";
  location.hash = "#memories";
  show("memories");
}

async function loadMemories() {
  const q = new URLSearchParams({ limit: state.limit, offset: state.offset });
  Object.entries(state.filters).forEach(([k, v]) => { if (v) q.set(k, v); });
  const data = await call("GET", "/list?" + q.toString());
  const rows = data.results || data.memories || [];
  const body = $("#memory-list tbody");
  body.replaceChildren();
  rows.forEach((m) => {
    const tr = el("tr", null, { "data-id": m.id });
    [m.id, m.content.slice(0, 140), m.category, (m.tags || []).join(", "), m.created_at].forEach((v) => tr.append(el("td", v)));
    tr.addEventListener("click", () => openMemory(m.id).catch((e) => showError(e.message)));
    body.append(tr);
  });
  $("#page-info").textContent = rows.length ? `${state.offset + 1}-${state.offset + rows.length}` : "no memories";
  $("#prev").disabled = state.offset === 0;
  $("#next").disabled = rows.length < state.limit;
}

async function openMemory(id) {
  const m = await call("GET", "/memory/" + id);
  const versions = await call("GET", "/versions/" + id).catch(() => ({ versions: [] }));
  const box = $("#detail");
  box.replaceChildren(el("h2", "Memory " + m.id));
  const dl = el("dl");
  ["content", "category", "source", "importance", "tags", "status", "created_at", "updated_at", "access_count"].forEach((k) => {
    dl.append(el("dt", k), el("dd", Array.isArray(m[k]) ? m[k].join(", ") : m[k]));
  });
  box.append(dl);
  const chain = versions.versions || versions.results || [];
  if (chain.length) {
    box.append(el("h3", "Versions"));
    const ol = el("ol");
    chain.forEach((v) => ol.append(el("li", `#${v.id} ${v.created_at || ""}: ${String(v.content).slice(0, 120)}`)));
    box.append(ol);
  }
  const actions = el("p");
  const act = (label, fn) => {
    const b = el("button", label, { type: "button", "data-action": label });
    b.addEventListener("click", () => fn().then(() => loadMemories()).then(() => openMemory(id).catch(() => { box.hidden = true; }))
      .catch((e) => showError(e.message)));
    actions.append(b, " ");
  };
  act("edit", async () => {
    const content = prompt("New content (saved as a new version)", m.content);
    if (content !== null) await call("POST", `/memory/${id}/update`, { content });
  });
  act("forget", () => call("POST", `/memory/${id}/forget`, {}));
  act("archive", () => call("POST", `/memory/${id}/archive`, {}));
  act("trash", () => call("DELETE", `/memory/${id}`, {}));
  act("restore", () => call("POST", `/memory/${id}/restore`, {}));
  act("purge", async () => { if (confirm("Delete memory " + id + " and all its versions for good?")) await call("POST", `/memory/${id}/purge`, {}); });
  box.append(actions);
  box.hidden = false;
}

async function runSearch(event) {
  event.preventDefault();
  const out = $("#results");
  out.replaceChildren();
  try {
    const data = await call("POST", "/search/explain", { query: $("#query").value });
    const results = data.results || [];
    if (!results.length) out.append(el("p", "No results."));
    results.forEach((r, i) => {
      const div = el("div", null, { class: "result" });
      div.append(el("h3", `${i + 1}. #${r.id} (score ${Number(r.score).toFixed(3)})`), el("p", r.content));
      const why = (data.explain || [])[i] || {};
      const parts = [];
      Object.entries(why.channels || {}).forEach(([name, c]) => parts.push(`${name}: rank ${c.rank}, score ${Number(c.score).toFixed(3)}`));
      Object.entries(why.multipliers || {}).forEach(([name, v]) => parts.push(`${name} x${Number(v).toFixed(3)}`));
      if (why.fused_score !== undefined) parts.push(`fused ${why.fused_score} -> final ${why.final_score}`);
      div.append(el("p", parts.length ? "why: " + parts.join(" | ") : "channels: " + (r.search_type || ""), { class: "why" }));
      out.append(div);
    });
    if (data.timings) out.append(el("p", "timings (ms): " + Object.entries(data.timings).map(([k, v]) => `${k} ${v}`).join(", "), { class: "why" }));
  } catch (e) {
    showError(e.message);
  }
}

const PALETTE = ["#4a7bd0", "#d0704a", "#3fa56b", "#a45cc4", "#c9a227", "#3aa6b9", "#c2456e", "#7a8a99"];

// The filters of the Graph form as /graph query parameters (empty ones left out).
function graphQuery() {
  const f = new FormData($("#graph-filters"));
  const q = new URLSearchParams({ limit: 300 });
  if (f.get("community")) q.set("community", f.get("community"));
  if (String(f.get("tag") || "").trim()) q.set("tag", String(f.get("tag")).trim());
  if (Number(f.get("min_pagerank")) > 0) q.set("min_pagerank", f.get("min_pagerank"));
  if (f.get("entities")) q.set("entities", "true");
  q.set("positions", "true");
  return q;
}

// The community choices: the caller's communities (largest first) with their size and best-ranked member.
async function loadCommunities() {
  const select = $("#graph-filters select[name=community]");
  const chosen = select.value;
  const data = await call("GET", "/communities?limit=50");
  select.replaceChildren(el("option", "every community", { value: "" }));
  (data.communities || []).forEach((c) => {
    const top = (c.top || [])[0];
    select.append(el("option", `community ${c.id} (${c.size})${top ? ": " + top.label.slice(0, 30) : ""}`, { value: c.id }));
  });
  select.value = chosen;
}

function openFromGraph(id) {
  location.hash = "#memories";
  openMemory(id).catch((e) => showError(e.message));
}

// Node labels never overlap: in PageRank order (the order of /graph's nodes, then the entities), a node in view
// shows its label (above it, LABEL_FONT px high, at most LABEL_PX wide whatever the zoom) when that box clears
// every label shown so far. Zoomed out, only the best-ranked nodes' labels fit; zooming in makes room for more
// (run again after each zoom or pan). The node under the pointer shows its label anyway.
const LABEL_FONT = 11;
const LABEL_PX = 110;
const labelSize = (cy) => ({ "font-size": LABEL_FONT / cy.zoom(), "text-max-width": LABEL_PX / cy.zoom() + "px" });

function declutter(cy) {
  const shown = [];
  const size = labelSize(cy);
  const [w, h] = [cy.width(), cy.height()];
  cy.batch(() => cy.nodes().forEach((n) => {
    const p = n.renderedPosition();
    const half = Math.min(LABEL_PX, 6.5 * String(n.data("label")).length) / 2;
    const top = p.y - n.renderedHeight() / 2 - LABEL_FONT * 1.4;
    const box = [p.x - half, top, p.x + half, p.y - n.renderedHeight() / 2];
    const fits = box[2] > 0 && box[0] < w && box[3] > 0 && box[1] < h &&
      !shown.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3]);
    if (fits) { shown.push(box); n.style(size); }
    n.toggleClass("labelled", fits);
  }));
}

async function loadGraph() {
  // The graph is drawn as soon as /graph answers; the community choices fill in beside it (both asked at once).
  const choices = loadCommunities().catch((e) => showError(e.message));
  const data = await call("GET", "/graph?" + graphQuery().toString());
  const nodes = data.nodes || [];
  const entities = data.entities || [];
  const maxRank = Math.max(1e-9, ...nodes.map((n) => n.pagerank || 0));
  $("#graph-info").textContent = `${data.node_count} linked memories, ${data.edge_count} links` +
    (data.entities ? `, ${entities.length} entities` : "") + " (colour: community, size: PageRank; diamonds: entities)";
  const list = $("#graph-nodes");
  list.replaceChildren();
  nodes.forEach((n) => {
    const li = el("li", null, { "data-id": n.id });
    const a = el("a", `#${n.id} ${n.label}`, { href: "#memories", "data-id": n.id });
    a.addEventListener("click", (event) => { event.preventDefault(); openFromGraph(n.id); });
    li.append(a, el("span", ` PageRank ${Number(n.pagerank || 0).toFixed(3)}` + (n.community === null ? "" : `, community ${n.community}`), { class: "why" }));
    list.append(li);
  });
  const elist = $("#graph-entities");
  elist.replaceChildren();
  entities.forEach((e) => elist.append(el("li", `${e.name} (${e.entity_type}): ${e.memory_ids.map((i) => "#" + i).join(", ")}`, { "data-id": e.id })));
  // Positions come with /graph (positions=true: communities as groups, laid out once on the server and cached),
  // so the browser draws them as they are (preset layout) instead of running a force layout itself. An entity
  // sits just above the centre of the memories that mention it.
  const at = new Map(nodes.map((n) => [n.id, { x: n.x, y: n.y }]));
  const centre = (ids) => {
    const ps = ids.map((i) => at.get(i)).filter(Boolean);
    return { x: ps.reduce((a, p) => a + p.x, 0) / ps.length, y: ps.reduce((a, p) => a + p.y, 0) / ps.length - 30 };
  };
  const elements = nodes.map((n) => ({ position: at.get(n.id), data: { id: String(n.id), label: n.label.slice(0, 60),
    color: n.community === null ? "#7a8a99" : PALETTE[n.community % PALETTE.length], size: 14 + 30 * ((n.pagerank || 0) / maxRank) } }))
    .concat((data.edges || []).map((e) => ({ data: { id: "e" + e.id, source: String(e.source), target: String(e.target) } })))
    .concat(entities.map((e) => ({ group: "nodes", classes: "entity", position: centre(e.memory_ids),
      data: { id: "entity-" + e.id, label: e.name.slice(0, 40), color: "#e0a030", size: 16 } })))
    .concat(entities.flatMap((e) => e.memory_ids.map((m) => ({ classes: "mention", data: { id: `m-${e.id}-${m}`, source: "entity-" + e.id, target: String(m) } }))));
  if (state.cy) state.cy.destroy();
  state.cy = cytoscape({ container: $("#graph-canvas"), elements, layout: { name: "preset", fit: true, padding: 24 },
    style: [{ selector: "node", style: { "background-color": "data(color)", width: "data(size)", height: "data(size)" } },
      { selector: "node.labelled, node.hover", style: { label: "data(label)", "text-wrap": "ellipsis", color: "#1d232a" } },
      { selector: "node.hover", style: { "text-background-color": "#fff", "text-background-opacity": 0.9, "z-index": 10 } },
      { selector: "node.entity", style: { shape: "diamond" } },
      { selector: "edge", style: { width: 1, "line-color": "#b8c2cc" } },
      { selector: "edge.mention", style: { "line-style": "dashed", "line-color": "#e0c080" } }] });
  declutter(state.cy);
  let queued = false;
  state.cy.on("viewport", () => { if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; declutter(state.cy); }); } });
  state.cy.on("mouseover", "node", (evt) => evt.target.addClass("hover").style(labelSize(state.cy)));
  state.cy.on("mouseout", "node", (evt) => evt.target.removeClass("hover"));
  state.cy.on("tap", "node", (evt) => {
    if (evt.target.hasClass("entity")) return;
    openFromGraph(Number(evt.target.id()));
  });
  await choices;
}

async function loadInbox() {
  const data = await call("GET", "/inbox?limit=200");
  const body = $("#inbox-list tbody");
  body.replaceChildren();
  state.inbox = new Map();
  (data.pending || []).forEach((m) => {
    state.inbox.set(m.id, m);
    const tr = el("tr", null, { "data-id": m.id });
    const pick = el("td");
    const box = el("input", null, { type: "checkbox", class: "pick", "data-id": m.id, "aria-label": "select " + m.id });
    box.addEventListener("change", inboxSelection);
    pick.append(box);
    tr.append(pick);
    [m.id, m.content.slice(0, 200), (m.tags || []).join(", "), m.source || "", m.created_at].forEach((v) => tr.append(el("td", v)));
    const td = el("td");
    [["approve", () => call("POST", `/inbox/${m.id}/approve`, {})],
     ["reject", () => call("POST", `/inbox/${m.id}/reject`, {})]].forEach(([label, fn]) => {
      const b = el("button", label, { type: "button", "data-action": label });
      b.addEventListener("click", () => fn().then(loadInbox).catch((e) => showError(e.message)));
      td.append(b, " ");
    });
    const edit = el("button", "edit", { type: "button", "data-action": "edit" });
    edit.addEventListener("click", () => openInboxEditor(m));
    td.append(edit);
    tr.append(td);
    body.append(tr);
  });
  $("#inbox-all").checked = false;
  inboxSelection();
  if (!state.inbox.has(Number($("#inbox-editor").dataset.id))) $("#inbox-editor").hidden = true;
  $("#inbox-info").textContent = data.total ? `${data.total} pending` : "Nothing to review.";
}

function selectedInbox() {
  return Array.from(document.querySelectorAll("#inbox-list input.pick:checked")).map((b) => Number(b.dataset.id));
}

function inboxSelection() {
  const n = selectedInbox().length;
  $("#inbox-approve-selected").disabled = n === 0;
  $("#inbox-reject-selected").disabled = n === 0;
  $("#inbox-approve-selected").textContent = n ? `Approve ${n} selected` : "Approve selected";
  $("#inbox-reject-selected").textContent = n ? `Reject ${n} selected` : "Reject selected";
}

// Approve or reject the checked items in one request (POST /inbox/bulk: one transaction).
async function bulkInbox(action) {
  const ids = selectedInbox();
  if (!ids.length) return;
  if (action === "reject" && !confirm(`Reject ${ids.length} pending memories?`)) return;
  const d = await call("POST", "/inbox/bulk", { ids, action });
  $("#inbox-done").textContent = `${action === "approve" ? "Approved" : "Rejected"} ${d.count} of ${ids.length}.`;
  await loadInbox();
}

function openInboxEditor(m) {
  const form = $("#inbox-editor");
  form.dataset.id = m.id;
  $("#inbox-edit-id").textContent = "#" + m.id;
  form.elements.content.value = m.content;
  form.elements.category.value = m.category || "";
  form.elements.tags.value = (m.tags || []).join(", ");
  form.elements.importance.value = m.importance || "";
  form.hidden = false;
  form.elements.content.focus();
}

// Save the edited fields (a new version, approved: POST /inbox/{id}/edit); unchanged fields are not sent.
async function saveInboxEdit(event) {
  event.preventDefault();
  const form = event.target;
  const id = Number(form.dataset.id);
  const m = state.inbox.get(id) || {};
  const f = form.elements;
  const tags = f.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
  const changes = {};
  if (f.content.value !== m.content) changes.content = f.content.value;
  if (f.category.value.trim() && f.category.value.trim() !== (m.category || "")) changes.category = f.category.value.trim();
  if (tags.join(",") !== (m.tags || []).join(",")) changes.tags = tags;
  if (f.importance.value && Number(f.importance.value) !== m.importance) changes.importance = Number(f.importance.value);
  const d = await call("POST", `/inbox/${id}/edit`, changes);
  form.hidden = true;
  $("#inbox-done").textContent = `Memory ${id} edited and approved as #${d.id}.`;
  await loadInbox();
}

async function loadContradictions() {
  const data = await call("GET", "/contradictions?limit=200");
  const out = $("#contradiction-list");
  out.replaceChildren();
  const items = data.contradictions || [];
  if (!items.length) out.append(el("p", "No contradictions.", { class: "empty" }));
  items.forEach((c) => {
    const div = el("div", null, { class: "pair", "data-id": c.id });
    div.append(el("h3", `${c.kind} (confidence ${Number(c.confidence).toFixed(2)}): ${c.description || ""}`));
    [[c.newer_id, c.content_a, c.older_id, "newer"], [c.older_id, c.content_b, c.newer_id, "older"]].forEach(([id, text, other, side]) => {
      const col = el("div", null, { class: "side" });
      col.append(el("p", `#${id} (${side})`), el("p", text));
      const b = el("button", "keep " + side, { type: "button", "data-action": "keep-" + side });
      b.addEventListener("click", () => call("DELETE", `/memory/${other}`, {}).then(loadContradictions).catch((e) => showError(e.message)));
      col.append(b);
      div.append(col);
    });
    out.append(div);
  });
}

function showSecret(label, data) {
  const p = $("#secret");
  p.textContent = `${label}: ${data.api_key} (shown once: store it now)`;
  p.hidden = false;
}

function keyStatus(k) {
  if (k.revoked_at) return "revoked " + k.revoked_at;
  if (!k.is_active) return "expired " + (k.expires_at || "");
  const from = k.rotated_from ? ` (replaces #${k.rotated_from})` : "";
  return (k.expires_at ? "active until " + k.expires_at : "active") + from;
}

// Rotate: a new key with the same scopes, shown once; the old key stops working now (grace_hours 0). When the
// rotated key is this tab's own key, the tab carries on with the new one.
async function rotateKey(k) {
  if (!confirm(`Rotate key ${k.id}? A new key replaces it and the old one stops working now.`)) return;
  const d = await call("POST", "/keys/rotate", { key_id: k.id, grace_hours: 0 });
  const mine = sessionStorage.getItem(KEY) || "";
  if (k.prefix && mine.slice(mine.indexOf("_") + 1).startsWith(k.prefix)) sessionStorage.setItem(KEY, d.api_key);
  showSecret(`Key ${k.id} rotated, new key ${d.id}`, d);
  await loadKeys();
}

async function loadKeys() {
  const data = await call("GET", "/keys");
  const body = $("#key-list tbody");
  body.replaceChildren();
  (data.keys || []).forEach((k) => {
    const tr = el("tr", null, { "data-id": k.id });
    [k.id, k.name || "", (k.scopes || []).join ? k.scopes.join(", ") : k.scopes, k.created_at, keyStatus(k)].forEach((v) => tr.append(el("td", v)));
    const td = el("td");
    if (k.is_active !== false && !k.revoked_at) {
      const rotate = el("button", "rotate", { type: "button", "data-action": "rotate" });
      rotate.addEventListener("click", () => rotateKey(k).catch((e) => showError(e.message)));
      const revoke = el("button", "revoke", { type: "button", "data-action": "revoke" });
      revoke.addEventListener("click", () => { if (confirm("Revoke key " + k.id + "?")) call("DELETE", `/keys/${k.id}`, {}).then(loadKeys).catch((e) => showError(e.message)); });
      td.append(rotate, " ", revoke);
    }
    tr.append(td);
    body.append(tr);
  });
  let users;
  try { users = await call("GET", "/users"); } catch (e) { $("#users-admin").hidden = true; return; }  // not an admin key
  $("#users-admin").hidden = false;
  const ub = $("#user-list tbody");
  ub.replaceChildren();
  (users.users || []).forEach((u) => {
    const tr = el("tr", null, { "data-id": u.id });
    [u.id, u.name, u.is_admin ? "yes" : "", u.created_at].forEach((v) => tr.append(el("td", v)));
    ub.append(tr);
  });
}

async function loadHealth() {
  const [health, mine] = await Promise.all([call("GET", "/health"), call("GET", "/me/stats")]);
  const dl = el("dl");
  const add = (k, v) => dl.append(el("dt", k), el("dd", typeof v === "object" ? JSON.stringify(v) : v));
  add("status", health.status);
  add("version", health.version);
  add("embedding model", health.embedding_model || "none");
  add("vector search", health.vector_search);
  add("reranker", health.reranker);
  add("background jobs", health.jobs);
  add("your memories", mine);
  $("#health-body").replaceChildren(dl);
  const timeline = await call("GET", "/graph/timeline?weeks=52");
  const weeks = timeline.weeks || [];
  const charts = el("div", null, { id: "health-charts" });
  charts.append(el("h2", "Your memories over time (weekly totals)"), barChart(weeks.map((w) => [w.week_start, w.total_memories]), "memories-chart"));
  try {
    const m = await call("GET", "/metrics");
    charts.append(el("h2", "Latency percentiles (ms, from /metrics histograms)"));
    const rows = [];
    [["engram_search_stage_seconds", { stage: "total" }, "search"], ["engram_store_stage_seconds", { stage: "total" }, "store"]].forEach(([fam, labels, name]) => {
      ["0.5", "0.95", "0.99"].forEach((q) => { const v = percentile(m[fam], labels, Number(q)); if (v !== null) rows.push([`${name} p${Number(q) * 100}`, v * 1000]); });
    });
    charts.append(rows.length ? barChart(rows, "latency-chart") : el("p", "No searches or stores measured yet."));
  } catch (e) {
    charts.append(el("p", "Server metrics need an admin key."));
  }
  $("#health-body").append(charts);
}

// The upper bound of the bucket holding quantile q of a Prometheus histogram (cumulative buckets).
function percentile(family, labels, q) {
  if (!family) return null;
  const match = (s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  const buckets = family.samples.filter((s) => s.name.endsWith("_bucket") && match(s))
    .map((s) => [s.labels.le === "+Inf" ? Infinity : Number(s.labels.le), s.value]).sort((a, b) => a[0] - b[0]);
  const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
  if (!total) return null;
  const hit = buckets.find(([, count]) => count >= q * total);
  return hit && Number.isFinite(hit[0]) ? hit[0] : buckets[buckets.length - 2][0];
}

// A horizontal bar chart in SVG (attributes only: no inline style, fits the CSP).
function barChart(rows, id) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  const height = 20 * rows.length + 10;
  svg.setAttribute("id", id);
  svg.setAttribute("width", "640");
  svg.setAttribute("height", String(height));
  svg.setAttribute("viewBox", `0 0 640 ${height}`);
  const max = Math.max(1e-9, ...rows.map((r) => r[1]));
  rows.forEach(([label, value], i) => {
    const y = 5 + i * 20;
    const t = document.createElementNS(NS, "text");
    t.setAttribute("x", "0"); t.setAttribute("y", String(y + 13)); t.textContent = label;
    const bar = document.createElementNS(NS, "rect");
    bar.setAttribute("x", "140"); bar.setAttribute("y", String(y)); bar.setAttribute("height", "15");
    bar.setAttribute("width", String(Math.max(1, (value / max) * 420))); bar.setAttribute("fill", "#4a7bd0");
    const v = document.createElementNS(NS, "text");
    v.setAttribute("x", String(146 + (value / max) * 420)); v.setAttribute("y", String(y + 13));
    v.textContent = Number.isInteger(value) ? String(value) : value.toFixed(1);
    svg.append(t, bar, v);
  });
  return svg;
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", login);
  $("#search-form").addEventListener("submit", runSearch);
  $("#logout").addEventListener("click", () => { sessionStorage.removeItem(KEY); show("login"); });
  $("#filters").addEventListener("submit", (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    state.filters = { tags: f.get("tags"), category: f.get("category"), source: f.get("source"), status: f.get("status"),
      include_archived: f.get("include_archived") ? "true" : "", include_forgotten: f.get("include_forgotten") ? "true" : "" };
    state.offset = 0;
    loadMemories().catch((e) => showError(e.message));
  });
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    call("POST", "/keys", { name: new FormData(event.target).get("name") || "" })
      .then((d) => { showSecret("New key " + d.id, d); return loadKeys(); }).catch((e) => showError(e.message));
  });
  $("#user-form").addEventListener("submit", (event) => {
    event.preventDefault();
    call("POST", "/users", { name: new FormData(event.target).get("name") })
      .then((d) => { showSecret("First key of user " + d.id, d); return loadKeys(); }).catch((e) => showError(e.message));
  });
  $("#graph-filters").addEventListener("submit", (event) => { event.preventDefault(); loadGraph().catch((e) => showError(e.message)); });
  $("#inbox-all").addEventListener("change", (event) => {
    document.querySelectorAll("#inbox-list input.pick").forEach((b) => { b.checked = event.target.checked; });
    inboxSelection();
  });
  $("#inbox-approve-selected").addEventListener("click", () => bulkInbox("approve").catch((e) => showError(e.message)));
  $("#inbox-reject-selected").addEventListener("click", () => bulkInbox("reject").catch((e) => showError(e.message)));
  $("#inbox-editor").addEventListener("submit", (event) => saveInboxEdit(event).catch((e) => showError(e.message)));
  $("#inbox-edit-cancel").addEventListener("click", () => { $("#inbox-editor").hidden = true; });
  $("#prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.limit); loadMemories().catch((e) => showError(e.message)); });
  $("#next").addEventListener("click", () => { state.offset += state.limit; loadMemories().catch((e) => showError(e.message)); });
  window.addEventListener("hashchange", () => show(location.hash.slice(1) || "memories"));
  show(location.hash.slice(1) || "memories");
});

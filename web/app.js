// grove dashboard: one WebSocket to /ws, subscribed to every job.
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const token = params.get("token");
  const jobs = new Map();      // job id -> {job, request, state, started, updated, components: Map, tokens, report}
  const errors = [];
  let ws = null;
  let retry = 500;

  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const final = (s) => ["done", "partial", "failed", "cancelled"].includes(s);
  const compFinal = (s) => ["landed", "cached", "dropped"].includes(s);

  function job(id) {
    if (!jobs.has(id)) jobs.set(id, { job: id, request: "", state: "queued", started: Date.now(), updated: Date.now(), components: new Map(), tokens: 0, cost: 0, report: null });
    return jobs.get(id);
  }

  function fromStatus(js) {
    const j = job(js.job);
    j.request = js.request; j.state = js.state; j.started = js.started_ms; j.updated = js.updated_ms;
    j.tokens = (js.tokens_in || 0) + (js.tokens_out || 0);
    // A job restored from the journal after a restart has its report's figures only.
    j.cost = js.cost_usd || (js.report && js.report.usage ? js.report.usage.cost_usd || 0 : 0);
    for (const c of js.components) {
      j.components.set(c.name, { name: c.name, stage: c.stage, attempt: c.attempt, restarts: c.restarts, cache: c.cache_hit, node: c.node, started: c.started_ms, updated: c.updated_ms, tokens: c.tokens_in + c.tokens_out, cost: c.cost_usd || 0 });
    }
    if (js.finished && js.report) j.report = js.report;
    for (const e of js.errors || []) pushError(js.job, e);
  }

  function onEvent(ev) {
    if (!ev.job) { // node events (a service restarted, a cluster node joined or lost) belong to no job row
      if (ev.stage === "node_joined" || ev.stage === "node_lost") { loadNodes(); if (ev.stage === "node_lost") pushError("node " + ev.component, ev.detail); }
      return;
    }
    const j = job(ev.job);
    j.updated = ev.ts_ms;
    if (!ev.component) {
      if (ev.stage === "started" && ev.detail && !j.request) j.request = ev.detail;
      if (ev.stage === "queued") j.state = "queued #" + ev.position;
      if (["planning", "composing"].includes(ev.stage)) j.state = ev.stage;
      if (ev.stage === "planned") j.state = "running";
      if (final(ev.stage)) j.state = ev.stage;
      if (ev.stage === "error" && ev.detail) pushError(ev.job, ev.detail);
      return;
    }
    let c = j.components.get(ev.component);
    if (!c) { c = { name: ev.component, stage: "", attempt: 0, restarts: 0, cache: false, node: ev.node || "local", nodes: [], started: ev.ts_ms, updated: ev.ts_ms, tokens: 0, cost: 0 }; j.components.set(ev.component, c); }
    if (ev.stage === "generating" && ev.node) { c.node = ev.node; c.nodes = (c.nodes || []).concat([ev.node]); }
    c.updated = ev.ts_ms;
    if (ev.stage === "model" || ev.stage === "model_failed") {
      c.tokens += (ev.tokens_in || 0) + (ev.tokens_out || 0); j.tokens += (ev.tokens_in || 0) + (ev.tokens_out || 0);
      c.cost += ev.cost_usd || 0; j.cost += ev.cost_usd || 0; return;
    }
    if (["model_retry", "model_cooldown", "model_skipped", "correcting", "worktree_opened", "worktree_removed"].includes(ev.stage)) return;
    if (ev.stage === "crashed") c.restarts += 1;
    if (ev.stage === "rebasing") c.rebases = (c.rebases || 0) + 1;
    if (ev.stage === "conflict") c.conflict = ev.detail;
    if (ev.stage === "resolved") c.resolver = ev.provider;
    if (ev.stage === "reviewed") { c.findings = ev.detail || ""; return; }
    if (ev.stage === "lessons_given") { c.lessons = ev.detail || ""; return; }
    c.stage = ev.stage; c.attempt = ev.attempt; c.cache = c.cache || ev.cache_hit;
    if (["dropped", "crashed", "rejected", "conflict"].includes(ev.stage)) pushError(ev.job, ev.component + ": " + ev.detail);
  }

  function pushError(jobId, text) {
    if (errors.some((e) => e.job === jobId && e.text === text)) return;
    errors.push({ job: jobId, text, at: Date.now() });
    while (errors.length > 30) errors.shift();
  }

  function seconds(ms) { return ms > 0 ? (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s" : "–"; }

  let pending = false;
  function render() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; draw(); });
  }

  function draw() {
    const list = [...jobs.values()].sort((a, b) => b.started - a.started);
    const body = $("jobs");
    if (list.length === 0) return;
    let html = "";
    let running = 0, done = 0, bad = 0, comps = 0, tokens = 0, cost = 0;
    for (const j of list) {
      const cs = [...j.components.values()];
      const finished = cs.filter((c) => compFinal(c.stage)).length;
      const pct = cs.length ? Math.round((100 * finished) / cs.length) : (final(j.state) ? 100 : 0);
      const elapsed = (final(j.state) && j.report ? j.report.elapsed_ms : (final(j.state) ? j.updated - j.started : Date.now() - j.started));
      const page = j.report && j.report.composition_commit ? `<a href="/output/${encodeURIComponent(j.job)}${token ? "?token=" + encodeURIComponent(token) : ""}" target="_blank" rel="noopener">open</a>` : "–";
      if (final(j.state)) { if (j.state === "done") done++; else bad++; } else running++;
      comps += cs.length; tokens += j.tokens; cost += j.cost;
      html += `<tr class="job" data-job="${esc(j.job)}"><td><code>${esc(j.job)}</code></td><td class="req" title="${esc(j.request)}">${esc(j.request)}</td>` +
        `<td><span class="state ${esc(j.state)}">${esc(j.state)}</span></td>` +
        `<td>${finished}/${cs.length}<div class="bar" role="progressbar" aria-valuenow="${pct}" aria-valuemin="0" aria-valuemax="100"><i style="width:${pct}%"></i></div></td>` +
        `<td class="num">${j.tokens}</td><td class="num">${dollars(j.cost)}</td><td class="num">${seconds(elapsed)}</td><td>${page}</td></tr>`;
      for (const c of cs) {
        const t = compFinal(c.stage) ? c.updated - c.started : Date.now() - c.started;
        html += `<tr class="comp" data-component="${esc(c.name)}"><td>${esc(c.name)}</td><td>attempt ${c.attempt}${c.restarts ? ` · ${c.restarts} restart(s)` : ""} · node ${esc(c.nodes && c.nodes.length > 1 ? c.nodes.join(" → ") : c.node)}</td>` +
          `<td><span class="state ${esc(c.stage)}">${esc(c.stage)}</span>${c.cache ? '<span class="cache">cache hit</span>' : ""}` +
          `${c.rebases ? `<span class="cache">rebased ×${c.rebases}</span>` : ""}` +
          `${c.lessons ? `<span class="cache" title="${esc(c.lessons)}">lessons: ${c.lessons.split("; ").length}</span>` : ""}` +
          `${c.findings ? `<span class="cache" title="${esc(c.findings)}">review: ${c.findings.split(",").length} finding(s)</span>` : ""}` +
          `${c.resolver ? `<span class="cache" title="${esc(c.conflict || "")}">resolved by ${esc(c.resolver)}</span>` : (c.conflict ? `<span class="cache" title="${esc(c.conflict)}">conflict</span>` : "")}</td><td></td>` +
          `<td class="num">${c.tokens}</td><td class="num">${dollars(c.cost)}</td><td class="num">${seconds(t)}</td><td></td></tr>`;
      }
    }
    body.innerHTML = html;
    $("s-running").textContent = running; $("s-done").textContent = done; $("s-failed").textContent = bad;
    $("s-components").textContent = comps; $("s-tokens").textContent = tokens; $("s-cost").textContent = dollars(cost);
    const el = $("errors");
    el.innerHTML = errors.length ? errors.slice().reverse().map((e) => `<li><code>${esc(e.job)}</code> ${esc(e.text)}</li>`).join("") : '<li class="muted">None.</li>';
  }

  // Spend at the providers' prices: a cent and more in cents, less to a hundredth of a cent.
  function dollars(usd) { return usd > 0 ? "$" + usd.toFixed(usd >= 0.01 ? 2 : 4) : "–"; }

  // The server's rolling budget (grove serve --budget-usd-per-day), when one is set.
  function loadBudget() {
    fetch("/api/budget", { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)).then((b) => {
      if (!b || !b.configured) return;
      const box = $("s-budget-box"); box.hidden = false;
      $("s-budget").textContent = "$" + b.spent_usd.toFixed(2) + " / $" + b.limit_usd.toFixed(2);
      const w = b.window_ms;
      $("s-budget-window").textContent = "budget per " + (w === 86400000 ? "day" : w % 3600000 === 0 ? w / 3600000 + " h" : Math.ceil(w / 1000) + " s");
      box.title = Object.entries(b.by_provider || {}).map(([p, usd]) => p + ": $" + usd.toFixed(4)).join("\n") || "nothing spent";
      box.classList.toggle("spent", b.left_usd <= 0);
    }).catch(() => {});
  }

  let nodes = [];
  function loadNodes() {
    fetch("/api/nodes", { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : [])).then((list) => { nodes = Array.isArray(list) ? list : []; drawNodes(); }).catch(() => {});
  }

  function drawNodes() {
    if (nodes.length === 0) return;
    const ago = (ms) => { const s = Math.max(0, Math.round((Date.now() - ms) / 1000)); return s < 2 ? "now" : s + " s ago"; };
    $("nodes").innerHTML = nodes.map((n) => `<tr class="node" data-node="${esc(n.name)}"><td><code>${esc(n.name)}</code>${n.local ? ' <span class="muted">(serving)</span>' : ""}</td>` +
      `<td>${esc(n.address)}</td><td><span class="state ${n.up ? "up" : "down"}">${n.up ? "up" : "down"}</span></td>` +
      `<td class="num">${n.capacity}</td><td class="num">${n.in_flight}</td><td class="num">${n.placed}</td><td class="num">${n.lost}</td>` +
      `<td>${ago(n.last_seen_ms)}</td><td>${esc((n.providers || []).join(", "))}</td></tr>`).join("");
  }

  function connect() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" + (token ? "?token=" + encodeURIComponent(token) : "");
    ws = new WebSocket(url);
    ws.onopen = () => {
      retry = 500;
      $("conn").textContent = "live"; $("conn").className = "conn up";
      ws.send(JSON.stringify({ type: "subscribe", job: "*", id: "dashboard" }));
      ws.send(JSON.stringify({ type: "status", id: "initial" }));
    };
    ws.onmessage = (m) => {
      let f; try { f = JSON.parse(m.data); } catch (e) { return; }
      if (f.type === "event") onEvent(f);
      else if (f.type === "result") { const j = job(f.job); j.report = f.report; j.state = f.report.status; j.updated = Date.now(); }
      else if (f.type === "status") for (const js of f.jobs) fromStatus(js);
      else if (f.type === "accepted") { $("build-msg").textContent = "accepted as " + f.job; job(f.job).request = $("request").dataset.sent || ""; }
      else if (f.type === "error") { $("build-msg").textContent = f.code + ": " + f.message; if (f.job) pushError(f.job, f.message); }
      render();
    };
    ws.onclose = () => {
      $("conn").textContent = "reconnecting…"; $("conn").className = "conn down";
      setTimeout(connect, retry); retry = Math.min(retry * 2, 8000);
    };
  }

  $("build").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("request").value.trim();
    if (!text || !ws || ws.readyState !== 1) return;
    $("request").dataset.sent = text;
    ws.send(JSON.stringify({ type: "build", request: text, id: "form" }));
    $("request").value = "";
  });
  setInterval(() => { if ([...jobs.values()].some((j) => !final(j.state))) render(); }, 1000);
  setInterval(loadNodes, 2000);
  setInterval(loadBudget, 2000);
  loadNodes();
  loadBudget();
  connect();
})();

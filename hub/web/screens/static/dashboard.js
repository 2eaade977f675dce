// The manager's dashboard. Managers and admins only: the hub answers 403 to
// anyone else (GET /api/v1/dashboard, the `store` room), and the page then shows
// the refusal and forgets the token. Live over /ws (rooms `store` and `devices`,
// where the tills' and screens' presence comes): an event refreshes the panels it concerns; health and the clock-driven figures
// (kitchen late, sync lag) are read again every 10 s, never more often.
"use strict";

(() => {
  const { api, el } = Hub;
  const $ = (id) => document.getElementById(id);
  const pending = new Set();
  let timer = null;
  let live = null;

  function figures(id, pairs) {
    $(id).replaceChildren(
      ...pairs.flatMap(([term, value, cls]) => [
        el("dt", { text: term }),
        el("dd", { class: cls || null, text: value === null || value === undefined ? "—" : value }),
      ]),
    );
  }

  function when(stamp) {
    return stamp ? new Date(stamp).toLocaleTimeString() : "—";
  }

  const panels = {
    async summary() {
      const data = await api("/api/v1/dashboard");
      const states = ["paid", "preparing", "ready", "done", "invoiced", "cancelled", "draft", "validated"];
      figures("orders", states.filter((s) => data.orders_by_state[s]).map((s) => [s, data.orders_by_state[s]]));
      if (!$("orders").children.length) figures("orders", [["orders", 0]]);
      figures("takings", [...data.takings.map((t) => [t.method, t.amount]), ["total", data.takings_total, "total"]]);
      const k = data.kitchen;
      figures("kitchen", [
        ["waiting", k.waiting],
        ["late", k.late, k.late ? "bad" : null],
        ...Object.entries(k.stations).map(([s, v]) => [s, `${v.waiting} waiting, ${v.late} late`]),
      ]);
      $("sessions").replaceChildren(
        ...(data.open_sessions.length
          ? data.open_sessions.map((s) => el("li", { text: `${s.terminal} · ${s.user} · ${s.orders} orders · since ${when(s.opened_at)}` }))
          : [el("li", { class: "muted", text: "none" })]),
      );
      $("audit").replaceChildren(
        ...data.audit.map((a) => el("li", { text: `${when(a.at)} ${a.actor}: ${a.action} ${a.subject}` })),
      );
    },
    async devices() {
      const data = await api("/api/v1/devices?limit=200");
      $("devices").replaceChildren(
        ...data.items.map((d) =>
          el(
            "tr",
            { "data-device": d.id },
            el("td", { text: d.id }),
            el("td", { text: d.kind }),
            el("td", { text: d.station || "—" }),
            el("td", { class: d.online ? "good" : "bad", text: d.online ? "online" : "offline" }),
            el("td", { text: [d.paper, d.cover].filter(Boolean).join(" / ") || "—" }),
            el("td", { text: when(d.since || d.last_seen) }),
          ),
        ),
      );
      if (!data.items.length) $("devices").append(el("tr", {}, el("td", { colspan: 6, class: "muted", text: "no devices" })));
    },
    async sync() {
      const s = await api("/api/v1/sync/status");
      figures("sync", [
        ["state", s.state],
        ["pending", s.pending],
        ["parked", s.failed, s.failed ? "bad" : null],
        ["last success", when(s.last_success_at)],
        ["agent", s.agent.pid ? `pid ${s.agent.pid}, seen ${when(s.agent.heartbeat_at)}` : "not running"],
        ["last error", s.last_error || "—"],
      ]);
      $("parked").replaceChildren(
        ...s.parked.map((p) =>
          el(
            "tr",
            { "data-item": p.id },
            el("td", { text: `#${p.id} ${p.kind || ""}` }),
            el("td", { text: p.order_name || p.order_uuid || p.order_id || "—" }),
            el("td", { text: `${p.error_kind || ""} ${p.error || ""}`.trim() }),
            el("td", {}, el("button", { type: "button", class: "retry", text: "Retry", onclick: () => retry(p.id) })),
          ),
        ),
      );
      if (!s.parked.length) $("parked").append(el("tr", {}, el("td", { colspan: 4, class: "muted", text: "nothing parked" })));
    },
    async health() {
      const response = await fetch("/health");
      const h = await response.json();
      figures("health", [
        ["hub", h.status, h.status === "ok" ? "good" : "bad"],
        ...Object.entries(h.checks).map(([name, value]) => [name, value, value === "ok" || value === "idle" ? "good" : value === "off" ? null : "bad"]),
        ["jobs failing", (h.detail.jobs?.failing || []).join(", ") || "none"],
        ["backup", h.detail.backup?.newest ? `${Math.round(h.detail.backup.age_seconds / 3600)} h old` : "none"],
      ]);
    },
    async cache() {
      const c = await api("/api/v1/cache/stats");
      let hits = 0;
      let misses = 0;
      for (const kind of Object.values(c.kinds)) {
        hits += kind.hits;
        misses += kind.misses;
      }
      figures("cache", [
        ["backend", c.backend],
        ["hit rate", hits + misses ? `${Math.round((100 * hits) / (hits + misses))} %` : "—"],
        ["redis", c.redis],
      ]);
    },
  };

  async function retry(id) {
    try {
      await api(`/api/v1/sync/failed/${id}/retry`, { method: "POST" });
    } catch (error) {
      $("link").textContent = error.message;
    }
    refresh("sync");
  }

  // Panels to read again, a moment after the event that asked: a burst of events is one read.
  function refresh(...names) {
    for (const n of names) pending.add(n);
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      const names = [...pending];
      pending.clear();
      await Promise.all(names.map((n) => panels[n]().catch(onFailure)));
    }, 150);
  }

  function onFailure(error) {
    if (error.status === 401 || error.status === 403) refuse(error);
  }

  function refuse(error) {
    Hub.setToken(null);
    if (live) live.stop();
    live = null;
    $("panels").hidden = true;
    $("signout").hidden = true;
    $("who").textContent = "";
    $("login").hidden = false;
    $("refused").textContent =
      error.status === 403 ? `Refused: ${error.message}. The dashboard is for managers.` : error.message;
  }

  const ROUTE = {
    "order.created": ["summary"],
    "order.updated": ["summary"],
    "payment.processed": ["summary"],
    "payment.refunded": ["summary"],
    "session.updated": ["summary"],
    "device.status": ["devices"],
    "sync.status": ["sync"],
    "catalog.updated": ["cache"],
  };

  async function start() {
    try {
      await panels.summary(); // the role check: 403 for anyone but a manager or admin
    } catch (error) {
      if (error.status === 401 || error.status === 403) return refuse(error);
      throw error;
    }
    const me = Hub.whoami();
    $("who").textContent = me.name ? `${me.name} (${me.role})` : "";
    $("login").hidden = true;
    $("panels").hidden = false;
    $("signout").hidden = false;
    refresh("devices", "sync", "health", "cache");
    live = new Hub.Live({
      rooms: [["store", null], ["devices", null]],
      client: "dashboard",
      onEvent: (frame) => refresh(...(ROUTE[frame.event] || [])),
      onReset: async () => null,
      onStatus: (status) => {
        Hub.banner(status);
        if (status === "live") refresh("summary", "devices", "sync");
      },
      onUnauthorized: () => refuse({ status: 401, message: "Your sign-in has ended." }),
    });
    setInterval(() => refresh("summary", "health", "sync"), 10000);
  }

  $("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    $("refused").textContent = "";
    try {
      await Hub.signIn(form.login.value, form.pin.value);
      form.pin.value = "";
      await start();
    } catch (error) {
      $("refused").textContent = error.message;
    }
  });
  $("signout").addEventListener("click", () => {
    Hub.setToken(null);
    location.reload();
  });

  Hub.tokenFromFragment();
  if (Hub.token()) start();
  else $("login").hidden = false;
  window.dashboard = { refresh };
})();

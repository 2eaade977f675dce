// The kitchen display: open tickets of the chosen stations, live over /ws.
//
// One card per (order, station), oldest first. The page loads the tickets over
// REST (GET /api/v1/kitchen/tickets answers them with the log's head in the same
// snapshot), then joins kitchen:{station} with since = that head, so nothing
// falls between the two; after a blip it resumes from the last seq it saw.
// Cards are keyed, so an event that arrives twice (two stations' rooms, a
// replay) updates a card and never adds a second one.
"use strict";

(() => {
  const { api, el, elapsed } = Hub;
  const STATIONS_KEY = "edgehub.kds.stations";
  const BUMPED_KEY = "edgehub.kds.bumped";
  const STRUCK_KEY = "edgehub.kds.struck";
  const OPEN = new Set(["paid", "preparing"]);

  const state = {
    stations: JSON.parse(localStorage.getItem(STATIONS_KEY) || "[]"),
    orders: new Map(), // order id -> order (with ready_stations)
    cards: new Map(), // "orderId:station" -> <li>
    ages: {},
    bumped: JSON.parse(localStorage.getItem(BUMPED_KEY) || "[]"), // recall stack
    struck: new Set(JSON.parse(localStorage.getItem(STRUCK_KEY) || "[]")), // items done
    live: null,
    // Responsiveness, on the Performance API's clock (bench/kds.py reads these):
    // ms from a frame's arrival to its new card's first paint (Element Timing),
    // and to the end of the first animation frame after it (where Element
    // Timing is missing, this is the figure to read).
    paints: [],
    frames: [],
    arrivals: new Map(), // "ticket-<key>" -> arrival time of the frame that added it
  };
  window.kds = state; // for the end-to-end tests and the bench

  const $ = (id) => document.getElementById(id);

  function show(id, visible) {
    $(id).hidden = !visible;
  }

  function paidAt(order) {
    const pay = (order.state_history || []).find((h) => h.event === "pay");
    return Date.parse(pay ? pay.at : order.created_at);
  }

  function linesFor(order, station) {
    return order.lines.filter((line) => line.station === station);
  }

  function wanted(order, station) {
    return (
      OPEN.has(order.state) &&
      !(order.ready_stations || []).includes(station) &&
      linesFor(order, station).length > 0
    );
  }

  function ageClass(order, station) {
    const limits = state.ages[station] || { warn: 300, late: 600 };
    const age = (Date.now() - paidAt(order)) / 1000;
    return age >= limits.late ? "late" : age >= limits.warn ? "warn" : "fresh";
  }

  async function bump(order, station, action) {
    try {
      const updated = await api("/api/v1/kitchen/bumps", {
        method: "POST",
        body: { order_uuid: order.uuid, station, action },
      });
      if (action === "ready") {
        state.bumped.push({ uuid: order.uuid, station, id: order.id, number: order.number });
        state.bumped = state.bumped.slice(-20);
        localStorage.setItem(BUMPED_KEY, JSON.stringify(state.bumped));
      }
      apply(updated, true);
      renderRecall();
    } catch (error) {
      flash(`${action} #${order.number}: ${error.message}`);
    }
  }

  async function recall() {
    const last = state.bumped.pop();
    if (!last) return;
    localStorage.setItem(BUMPED_KEY, JSON.stringify(state.bumped));
    try {
      const updated = await api("/api/v1/kitchen/bumps", {
        method: "POST",
        body: { order_uuid: last.uuid, station: last.station, action: "recall" },
      });
      apply(updated, true);
    } catch (error) {
      flash(`recall #${last.number}: ${error.message}`);
    }
    renderRecall();
  }

  function toggleItem(key, node) {
    if (state.struck.has(key)) state.struck.delete(key);
    else state.struck.add(key);
    localStorage.setItem(STRUCK_KEY, JSON.stringify([...state.struck].slice(-500)));
    node.setAttribute("aria-pressed", String(state.struck.has(key)));
  }

  function cardBody(order, station) {
    const key = `${order.id}:${station}`;
    const items = linesFor(order, station).map((line) => {
      const itemKey = `${order.id}:${line.id}`;
      const done = state.struck.has(itemKey);
      const button = el(
        "button",
        { type: "button", class: "item", "aria-pressed": String(done), title: "Mark this item done" },
        el("span", { class: "qty", text: `${trimQty(line.qty)}×` }),
        el("span", { class: "name", text: line.name }),
        line.note ? el("span", { class: "note", text: line.note }) : null,
      );
      button.addEventListener("click", () => toggleItem(itemKey, button));
      return el("li", {}, button);
    });
    const started = order.state === "preparing";
    return [
      el(
        "header",
        {},
        el("span", { class: "number", elementtiming: `ticket-${key}`, text: `#${order.number}` }),
        el("span", { class: "order-name", text: order.name }),
        el("span", { class: "station-tag", text: station }),
        el("time", { class: "age", "data-key": key, text: elapsed((Date.now() - paidAt(order)) / 1000) }),
      ),
      order.note ? el("p", { class: "order-note", text: order.note }) : null,
      el("ul", { class: "items" }, items),
      el(
        "div",
        { class: "actions" },
        el("button", {
          type: "button",
          class: "start",
          disabled: started,
          text: started ? "Started" : "Start",
          onclick: () => bump(order, station, "start"),
        }),
        el("button", {
          type: "button",
          class: "bump",
          text: "Bump",
          "aria-label": `Bump order ${order.number} ready for ${station}`,
          onclick: () => bump(order, station, "ready"),
        }),
      ),
    ];
  }

  function trimQty(qty) {
    const text = String(qty);
    return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
  }

  // Where a new card goes: before the first card paid later (oldest first).
  function insert(card, order) {
    const list = $("tickets");
    const at = paidAt(order);
    for (const other of list.children) {
      const t = Number(other.dataset.paid);
      if (t > at || (t === at && Number(other.dataset.order) > order.id)) {
        list.insertBefore(card, other);
        return;
      }
    }
    list.append(card);
  }

  // One order's new state: add, update or remove its cards for our stations.
  function apply(order, authoritative) {
    const known = state.orders.get(order.id);
    if (!authoritative && known && known.ready_stations) {
      // Events carry the order but not the stations that bumped it: keep what we know.
      order.ready_stations = OPEN.has(order.state) ? known.ready_stations : [];
    }
    state.orders.set(order.id, order);
    for (const station of state.stations) {
      const key = `${order.id}:${station}`;
      const card = state.cards.get(key);
      if (!wanted(order, station)) {
        if (card) {
          card.remove();
          state.cards.delete(key);
        }
        continue;
      }
      if (card) {
        card.replaceChildren(...cardBody(order, station).filter(Boolean));
        card.className = `ticket ${ageClass(order, station)}`;
      } else {
        const fresh = el(
          "li",
          {
            class: `ticket ${ageClass(order, station)}`,
            "data-key": key,
            "data-order": order.id,
            "data-number": order.number,
            "data-paid": paidAt(order),
          },
          cardBody(order, station),
        );
        state.cards.set(key, fresh);
        insert(fresh, order);
      }
    }
    if (!OPEN.has(order.state)) state.orders.delete(order.id);
    afterChange();
  }

  function afterChange() {
    show("empty", state.cards.size === 0);
    if (!$("allday").hidden) renderAllDay();
  }

  function renderAllDay() {
    const counts = new Map();
    for (const key of state.cards.keys()) {
      const [orderId, station] = key.split(":");
      const order = state.orders.get(Number(orderId));
      if (!order) continue;
      for (const line of linesFor(order, station)) {
        if (state.struck.has(`${order.id}:${line.id}`)) continue;
        counts.set(line.name, (counts.get(line.name) || 0) + Number(line.qty));
      }
    }
    const items = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    $("allday-list").replaceChildren(
      ...items.map(([name, qty]) => el("li", {}, el("span", { class: "qty", text: trimQty(qty) }), " ", name)),
    );
  }

  function renderRecall() {
    const last = state.bumped[state.bumped.length - 1];
    $("recall").disabled = !last;
    $("recall").textContent = last ? `Recall #${last.number}` : "Recall last";
  }

  function tick() {
    for (const [key, card] of state.cards) {
      const [orderId, station] = key.split(":");
      const order = state.orders.get(Number(orderId));
      if (!order) continue;
      const age = card.querySelector(".age");
      if (age) age.textContent = elapsed((Date.now() - paidAt(order)) / 1000);
      const cls = `ticket ${ageClass(order, station)}`;
      if (card.className !== cls) card.className = cls;
    }
  }

  function flash(text) {
    const node = $("link");
    node.dataset.state = "error";
    node.textContent = text;
  }

  function record(list, ms) {
    list.push(ms);
    if (list.length > 1000) list.shift();
  }

  function onEvent(frame, arrived) {
    if (frame.event !== "order.updated" && frame.event !== "order.created") return;
    const before = new Set(state.cards.keys());
    apply(frame.data, false);
    const added = [...state.cards.keys()].filter((k) => !before.has(k));
    if (!added.length) return;
    for (const key of added) state.arrivals.set(`ticket-${key}`, arrived);
    // The frame is on screen once the task after the next animation frame runs.
    requestAnimationFrame(() => setTimeout(() => record(state.frames, performance.now() - arrived), 0));
  }

  if (window.PerformanceObserver && PerformanceObserver.supportedEntryTypes.includes("element")) {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const arrived = state.arrivals.get(entry.identifier);
        if (arrived === undefined) continue;
        state.arrivals.delete(entry.identifier);
        record(state.paints, (entry.renderTime || entry.loadTime) - arrived);
      }
    }).observe({ type: "element", buffered: true });
  }

  async function load() {
    const query = state.stations.map((s) => `station=${encodeURIComponent(s)}`).join("&");
    const data = await api(`/api/v1/kitchen/tickets?${query}`);
    state.ages = data.ages;
    const seen = new Set();
    for (const order of data.tickets) {
      seen.add(order.id);
      apply(order, true);
    }
    for (const id of [...state.orders.keys()]) {
      if (!seen.has(id)) apply({ ...state.orders.get(id), state: "done" }, true);
    }
    afterChange();
    return data.seq;
  }

  async function start() {
    show("login", false);
    show("pick", false);
    $("stations-label").textContent = state.stations.join(", ");
    for (const id of ["alldayToggle", "itemsToggle", "recall", "change"]) show(id, true);
    renderRecall();
    let seq;
    try {
      seq = await load();
    } catch (error) {
      if (error.status === 401 || error.status === 403) return signedOut(error.message);
      throw error;
    }
    state.live = new Hub.Live({
      rooms: state.stations.map((s) => [`kitchen:${s}`, seq]),
      client: `kds-${state.stations.join("-")}`.slice(0, 64),
      onEvent,
      onReset: load,
      onStatus: Hub.banner,
      onUnauthorized: () => signedOut("Your sign-in has ended."),
    });
    if (!state.ticking) state.ticking = setInterval(tick, 1000);
  }

  function signedOut(message) {
    Hub.setToken(null);
    if (state.live) state.live.stop();
    show("login", true);
    $("login").querySelector(".error").textContent = message || "";
  }

  async function pickStations() {
    const data = await api("/api/v1/kitchen/stations");
    const list = $("station-list");
    list.replaceChildren(
      ...data.items.map((name) =>
        el(
          "label",
          { class: "check" },
          el("input", { type: "checkbox", name: "station", value: name, checked: state.stations.includes(name) }),
          name,
        ),
      ),
    );
    show("pick", true);
    const first = list.querySelector("input");
    if (first) first.focus();
  }

  $("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      await Hub.signIn(form.login.value, form.pin.value);
      form.pin.value = "";
      show("login", false);
      if (state.stations.length) await start();
      else await pickStations();
    } catch (error) {
      form.querySelector(".error").textContent = error.message;
    }
  });

  $("pick").addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = [...event.target.querySelectorAll("input[name=station]:checked")].map((i) => i.value);
    if (!chosen.length) {
      event.target.querySelector(".error").textContent = "Pick at least one station.";
      return;
    }
    state.stations = chosen;
    localStorage.setItem(STATIONS_KEY, JSON.stringify(chosen));
    location.reload(); // one way in: the same path a reload takes
  });

  // "86": the station's items, each with a button taking it off sale or back on.
  async function renderItems() {
    const query = state.stations.map((s) => `station=${encodeURIComponent(s)}`).join("&");
    const data = await api(`/api/v1/kitchen/products?${query}`);
    $("items-list").replaceChildren(
      ...data.items.map((p) =>
        el(
          "li",
          { "data-product": p.id },
          el("span", { class: p.available ? "name" : "name off", text: p.name }),
          el("button", {
            type: "button",
            class: "toggle86",
            "aria-pressed": String(!p.available),
            "aria-label": p.available ? `86 ${p.name}` : `Put ${p.name} back on`,
            text: p.available ? "86" : "86'd · back on",
            onclick: () => setAvailable(p, !p.available),
          }),
        ),
      ),
    );
  }

  async function setAvailable(product, available) {
    try {
      await api(`/api/v1/kitchen/products/${product.id}/availability`, {
        method: "POST",
        body: { available },
      });
    } catch (error) {
      flash(`86 ${product.name}: ${error.message}`);
    }
    await renderItems();
  }

  $("itemsToggle").addEventListener("click", () => {
    const open = $("items").hidden;
    show("items", open);
    $("itemsToggle").setAttribute("aria-pressed", String(open));
    if (open) renderItems().catch((e) => flash(e.message));
  });

  $("change").addEventListener("click", () => {
    localStorage.removeItem(STATIONS_KEY);
    location.reload();
  });
  $("recall").addEventListener("click", recall);
  $("alldayToggle").addEventListener("click", () => {
    const open = $("allday").hidden;
    show("allday", open);
    $("alldayToggle").setAttribute("aria-pressed", String(open));
    if (open) renderAllDay();
  });

  // Station from the address (/kds?station=grill&station=fry) wins over the stored pick.
  const fromUrl = new URLSearchParams(location.search).getAll("station");
  if (fromUrl.length) {
    state.stations = fromUrl;
    localStorage.setItem(STATIONS_KEY, JSON.stringify(fromUrl));
  }
  Hub.tokenFromFragment();
  if (!Hub.token()) show("login", true);
  else if (!state.stations.length) pickStations().catch((e) => signedOut(e.message));
  else start();
})();

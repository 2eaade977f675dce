// What every screen shares: the signed-in token, REST calls, and the live /ws link.
// Plain JavaScript, no build step, nothing loaded from outside the hub.
"use strict";

const Hub = (() => {
  const TOKEN_KEY = "edgehub.token";

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function setToken(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  // A wall screen may be opened with a device token in the fragment (#token=...):
  // it is kept for this tab and taken out of the address bar at once.
  function tokenFromFragment() {
    const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (match) {
      setToken(decodeURIComponent(match[1]));
      history.replaceState(null, "", location.pathname + location.search);
    }
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function api(path, { method = "GET", body } = {}) {
    const headers = { accept: "application/json" };
    const t = token();
    if (t) headers.authorization = `Bearer ${t}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // Who the token says signed in (its unverified claims: for display only).
  function whoami() {
    try {
      const claims = JSON.parse(atob(token().split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      return claims.extras || {};
    } catch (_) {
      return {};
    }
  }

  async function signIn(login, pin) {
    const data = await api("/api/v1/auth/token", { method: "POST", body: { login, pin } });
    setToken(data.access_token);
    return data;
  }

  // The live link: one WebSocket, rooms joined with `since` so that a blip (or a
  // reload) resumes exactly where the page was. Each event reaches onEvent once:
  // frames at or below a room's last seq are dropped. A `reset` (the log no
  // longer holds what the page missed) calls onReset, which reloads over REST
  // and answers the seq to resume from.
  class Live {
    constructor({ rooms, onEvent, onReset, onStatus, onUnauthorized, view, client }) {
      this.rooms = new Map(rooms.map(([room, since]) => [room, since]));
      this.onEvent = onEvent;
      this.onReset = onReset || (async () => null);
      this.onStatus = onStatus || (() => {});
      this.onUnauthorized = onUnauthorized || (() => {});
      this.view = view;
      this.client = client; // the name this screen has in the devices list
      this.ws = null;
      this.delay = 250;
      this.stopped = false;
      this.heldUntil = 0;
      this.connect();
    }

    url() {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const params = new URLSearchParams();
      if (this.view) params.set("view", this.view);
      if (this.client) params.set("client", this.client);
      const query = params.toString() ? `?${params}` : "";
      return `${scheme}://${location.host}/ws${query}`;
    }

    connect() {
      const ws = new WebSocket(this.url());
      this.ws = ws;
      ws.onopen = () => {
        if (!this.view) ws.send(JSON.stringify({ type: "auth", token: token() }));
        for (const [room, since] of this.rooms) this.subscribe(room, since);
        this.delay = 250;
        this.onStatus("live");
      };
      // timeStamp: when the frame was handed to the page (Performance API clock).
      ws.onmessage = (message) => this.receive(JSON.parse(message.data), message.timeStamp);
      ws.onclose = (close) => {
        if (this.ws !== ws) return;
        this.ws = null;
        if (this.stopped) return;
        if (close.code === 4401 || close.code === 4403) {
          this.onStatus("signed-out");
          this.onUnauthorized();
          return;
        }
        this.onStatus("reconnecting");
        const wait = Math.max(this.delay, this.heldUntil - Date.now());
        setTimeout(() => this.connect(), wait);
        this.delay = Math.min(this.delay * 2, 5000);
      };
    }

    subscribe(room, since) {
      const message = { type: "subscribe", room };
      if (since !== null && since !== undefined) message.since = since;
      this.ws.send(JSON.stringify(message));
    }

    async receive(frame, arrived) {
      if (frame.type === "event") {
        const last = this.rooms.get(frame.room);
        if (last !== null && last !== undefined && frame.seq <= last) return;
        this.rooms.set(frame.room, frame.seq);
        this.onEvent(frame, arrived);
      } else if (frame.type === "subscribed") {
        if (this.rooms.get(frame.room) === null) this.rooms.set(frame.room, frame.seq);
      } else if (frame.type === "error" && frame.error === "reset") {
        const seq = await this.onReset(frame.room);
        this.rooms.set(frame.room, seq === null || seq === undefined ? frame.seq : seq);
      }
    }

    // Cut the socket as a network blip would (and stay away for holdMs); the link
    // then reconnects by itself. The end-to-end tests use it.
    drop(holdMs = 0) {
      this.heldUntil = Date.now() + holdMs;
      if (this.ws) this.ws.close();
    }

    stop() {
      this.stopped = true;
      if (this.ws) this.ws.close();
    }
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === false || value === null || value === undefined) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function elapsed(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const m = Math.floor(s / 60);
    return `${m}:${String(s % 60).padStart(2, "0")}`;
  }

  function banner(status) {
    const node = document.getElementById("link");
    if (!node) return;
    node.dataset.state = status;
    node.textContent =
      status === "live" ? "Live" : status === "signed-out" ? "Signed out" : "Reconnecting…";
  }

  return { api, ApiError, signIn, whoami, token, setToken, tokenFromFragment, Live, el, elapsed, banner };
})();

// The customer board: order numbers preparing and ready, live, no login.
//
// It reads GET /api/v1/board (numbers and the log head, nothing else) and joins
// the `board` room of /ws without a token (?view=board). A ready number leaves
// when the order is collected, or after the store's ready time. With ?chime=1
// the page beeps when a number turns ready (browsers play sound only after the
// page has been clicked once).
"use strict";

(() => {
  const { api, el } = Hub;
  const chime = new URLSearchParams(location.search).get("chime") === "1";
  const state = { places: new Map(), readySince: new Map(), readySeconds: 600, live: null };
  window.board = state; // for the end-to-end tests

  function render() {
    const preparing = [];
    const ready = [];
    for (const [number, place] of state.places) (place === "ready" ? ready : preparing).push(number);
    preparing.sort((a, b) => a - b);
    ready.sort((a, b) => state.readySince.get(a) - state.readySince.get(b) || a - b);
    const item = (n) => el("li", { "data-number": n, text: n });
    document.getElementById("preparing").replaceChildren(...preparing.map(item));
    document.getElementById("ready").replaceChildren(...ready.map(item));
  }

  function beep() {
    try {
      const audio = new AudioContext();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.6);
    } catch (_) {
      /* no sound device: the board works silently */
    }
  }

  function move(number, place, at) {
    const was = state.places.get(number);
    if (place === "gone") {
      state.places.delete(number);
      state.readySince.delete(number);
    } else {
      state.places.set(number, place);
      if (place === "ready") state.readySince.set(number, at);
      else state.readySince.delete(number);
    }
    if (place === "ready" && was !== "ready" && chime) beep();
  }

  function expire() {
    const cutoff = Date.now() - state.readySeconds * 1000;
    let changed = false;
    for (const [number, since] of state.readySince) {
      if (since < cutoff) {
        move(number, "gone");
        changed = true;
      }
    }
    if (changed) render();
  }

  async function load() {
    const data = await api("/api/v1/board");
    state.readySeconds = data.ready_seconds;
    state.places.clear();
    state.readySince.clear();
    for (const n of data.preparing) move(n, "preparing");
    for (const r of data.ready) {
      state.places.set(r.number, "ready");
      state.readySince.set(r.number, Date.parse(r.since));
    }
    render();
    return data.seq;
  }

  load().then((seq) => {
    state.live = new Hub.Live({
      view: "board",
      rooms: [["board", seq]],
      onEvent: (frame) => {
        if (frame.event !== "board.updated") return;
        move(frame.data.number, frame.data.state, Date.parse(frame.ts));
        render();
      },
      onReset: load,
      onStatus: Hub.banner,
    });
    setInterval(expire, 1000);
  });
})();

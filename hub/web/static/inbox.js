// The responder's inbox: open calls, most urgent first; acknowledge, arrive, resolve.
"use strict";

(() => {
  const { t, element, duration, apiJson } = Andon;
  const list = document.getElementById("calls");
  const template = document.getElementById("card");
  const wanted = Andon.data.call_id; // from ?call=ID: a notification's link
  const openForms = new Set(); // resolve forms being filled survive a refresh
  // The card the person last acted on: it keeps its place in the list and on the screen
  // while the list is redrawn, so the next tap lands on the same call, not on the call
  // that the new order slid under the finger. ``done`` says what their action did.
  let pinned = null; // { id, index, done, after }
  let reads = 0; // reads of the list started so far
  let reading = null; // the read being drawn now, if any
  let again = false; // asked for again while one was under way
  let clockOffset = 0;
  let landed = false;

  const URGENCY = { raised: 0, acknowledged: 1, arrived: 2 };
  function urgent(call) {
    const lineDown = (Andon.data.names.call_types[call.call_type] || {}).line_down;
    return [lineDown ? 0 : 1, URGENCY[call.state]];
  }
  function byUrgencyThenAge(a, b) {
    const [x, y] = [urgent(a), urgent(b)];
    return x[0] - y[0] || x[1] - y[1] || Date.parse(a.raised_at) - Date.parse(b.raised_at);
  }

  // One read at a time, drawn in the order asked: an answer that left the hub before an
  // action's could otherwise land after it and draw the call's old buttons under the finger.
  function refresh() {
    if (reading) {
      again = true;
      return reading;
    }
    reading = (async () => {
      try {
        do {
          again = false;
          await readAndDraw();
        } while (again);
      } finally {
        reading = null; // a read that failed must not stop the next
      }
    })();
    return reading;
  }

  async function readAndDraw() {
    const number = ++reads;
    const query = "state=raised&state=acknowledged&state=arrived&limit=1000";
    let page;
    try {
      page = await apiJson(`/api/calls?${query}`);
    } catch (error) {
      if (!(error instanceof Andon.Unauthorized)) Andon.setStatus(error.message);
      return;
    }
    clockOffset = 0;
    await Photos.ready(); // the cards are drawn whole: nothing is added above a finger later
    const calls = keepPinnedInPlace(page.calls.sort(byUrgencyThenAge));
    // Cards that did not change stay the same nodes: a tap on a button is never lost
    // to a redraw that replaced it between the finger going down and coming up.
    const kept = new Map([...list.children].map((node) => [node.dataset.signature, node]));
    const nodes = calls.map((call) => kept.get(signature(call)) || card(call));
    for (const node of nodes) showDone(node, number);
    if (nodes.some((node, i) => list.children[i] !== node) || nodes.length !== list.children.length) {
      const anchor = screenAnchor();
      list.replaceChildren(...nodes);
      holdOnScreen(anchor);
    }
    document.getElementById("empty").hidden = calls.length > 0;
    tick();
    if (wanted && !landed) land(calls);
  }

  // What the person's last action did, on its card only, and only once the card is drawn
  // from a read that started after the action's answer (it shows the call's new state).
  function showDone(node, number) {
    const mine = pinned && Number(node.dataset.call) === pinned.id && number > pinned.after;
    const done = mine ? pinned.done : null;
    const text = node.querySelector(".done");
    if (done) {
      node.dataset.done = done;
      text.textContent = t(`done_${done}`);
    } else {
      delete node.dataset.done;
    }
    text.hidden = !done;
  }

  function keepPinnedInPlace(calls) {
    const at = pinned ? calls.findIndex((call) => call.id === pinned.id) : -1;
    if (at < 0) return calls;
    const [call] = calls.splice(at, 1);
    calls.splice(Math.min(pinned.index, calls.length), 0, call);
    return calls;
  }

  // The pinned card, else the first card on screen, and where it is on the screen now.
  function screenAnchor() {
    const cards = [...list.children];
    const node = (pinned && cards.find((c) => Number(c.dataset.call) === pinned.id))
      || cards.find((c) => c.getBoundingClientRect().bottom > 0);
    return node ? { id: node.dataset.call, top: node.getBoundingClientRect().top } : null;
  }

  function holdOnScreen(anchor) {
    const node = anchor && list.querySelector(`[data-call="${anchor.id}"]`);
    if (node) window.scrollBy(0, node.getBoundingClientRect().top - anchor.top);
  }

  function land(calls) {
    landed = true;
    const target = list.querySelector(`[data-call="${wanted}"]`);
    if (target) {
      target.classList.add("wanted");
      target.scrollIntoView({ block: "center" });
      return;
    }
    if (!calls.some((call) => call.id === wanted)) {
      document.getElementById("not-open").hidden = false;
      document.getElementById("not-open-link").href = `/calls/${wanted}`;
    }
  }

  function signature(call) {
    return JSON.stringify([call.id, call.state, call.acknowledged_by, call.part_serial, call.part_lot, call.recurrence_of]);
  }

  function card(call) {
    const node = template.content.firstElementChild.cloneNode(true);
    node.dataset.signature = signature(call);
    node.dataset.call = call.id;
    node.dataset.state = call.state;
    node.dataset.station = call.station;
    node.querySelector(".badge").className = `badge ${call.state}`;
    node.querySelector(".where").textContent =
      `${Andon.stationName(call.line, call.station)} · ${Andon.lineName(call.line)}`;
    node.querySelector(".age").dataset.since = call.raised_at;
    node.querySelector(".type").textContent = Andon.callTypeName(call.call_type);
    node.querySelector(".state").textContent = t(call.state);
    node.querySelector(".who").textContent = call.acknowledged_by ? `${t("by")} ${Andon.personName(call.acknowledged_by)}` : "";
    node.querySelector(".part").textContent = [call.part_serial, call.part_lot].filter(Boolean).join(" · ");
    // A recurrence of an earlier fix: the root cause and countermeasure are asked for (the
    // hub refuses without them where the call type says so, and says why: then shown too).
    node.dataset.recurrenceOf = call.recurrence_of ?? "";
    node.querySelector(".root-cause").hidden = call.recurrence_of === null;
    node.querySelector(".details").href = `/calls/${call.id}`;
    node.querySelector(".do-acknowledge").hidden = call.state !== "raised";
    node.querySelector(".do-arrive").hidden = !["raised", "acknowledged"].includes(call.state);
    const select = node.querySelector("select"); // its first option, "Choose a reason…", is empty
    for (const [code, name] of Object.entries(Andon.data.names.reason_codes)) {
      select.append(element("option", { value: code, text: name }));
    }
    const form = node.querySelector("form.resolve");
    form.hidden = !openForms.has(call.id);
    node.querySelector(".do-acknowledge").addEventListener("click", () => act(node, call, "acknowledge"));
    node.querySelector(".do-arrive").addEventListener("click", () => act(node, call, "arrive"));
    node.querySelector(".do-resolve").addEventListener("click", () => {
      form.hidden = !form.hidden;
      if (form.hidden) openForms.delete(call.id); else openForms.add(call.id);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = {
        reason_code: select.value, note: form.note.value.trim() || null,
        root_cause: form.root_cause.value.trim() || null, countermeasure: form.countermeasure.value.trim() || null,
      };
      openForms.delete(call.id);
      act(node, call, "resolve", body);
    });
    Photos.attach(node.querySelector(".photos"), call.id);
    return node;
  }

  async function act(node, call, action, body) {
    const error = node.querySelector(".error");
    error.hidden = true;
    pinned = { id: call.id, index: [...list.children].indexOf(node), done: null, after: Infinity };
    // One action at a time per card: a second tap before the answer would act twice.
    const buttons = node.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    try {
      await apiJson(`/api/calls/${call.id}/${action}`, { method: "POST", body });
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      if (action === "resolve") {
        node.querySelector(".root-cause").hidden = false;
        node.querySelector("form.resolve").hidden = false;
        openForms.add(call.id);
      }
      return;
    } finally {
      for (const button of buttons) button.disabled = false;
    }
    pinned.done = action === "resolve" ? null : action;
    pinned.after = reads;
    refresh();
  }

  function tick() {
    const now = Date.now() + clockOffset;
    for (const age of list.querySelectorAll("[data-since]")) {
      age.textContent = duration((now - Date.parse(age.dataset.since)) / 1000);
    }
  }

  // On a phone's home screen the inbox opens even while the hub is out of reach: its
  // shell is kept by a service worker (HTTPS or localhost only; hub/web/inbox_app.py).
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/inbox-sw.js", { scope: "/inbox" })
      .catch((error) => { document.body.dataset.serviceWorker = `failed: ${error.message}`; });
  }

  setInterval(tick, 1000);
  // The board's stream says when any call changed: read the inbox again then.
  // Unchanged cards are kept, so a note being typed survives the refresh.
  Andon.stream(`/api/board/events?lang=${Andon.data.lang}`, () => refresh());
})();

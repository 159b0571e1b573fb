// Shared by every page: the token kept in this browser, API calls with it, the words of
// the page's language, and the event stream that reconnects by itself.
"use strict";

const Andon = (() => {
  const data = JSON.parse(document.getElementById("andon-data").textContent);
  const KEY = "andon_token";
  const listeners = [];

  const token = () => localStorage.getItem(KEY);
  const offered = tokenFromLink();

  // A wall board opened as /board?token=... keeps the token and drops it from the
  // address bar, so it is not left on screen, in the history or in a Referer. A link
  // never replaces a token this browser already keeps: someone else's link (a phishing
  // one too) would sign the screen in as them. The page asks first (offerToken).
  function tokenFromLink() {
    const url = new URL(window.location.href);
    if (!url.searchParams.has("token")) return null;
    const linked = url.searchParams.get("token").trim();
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
    if (!linked || linked === token()) return null;
    if (!token()) {
      localStorage.setItem(KEY, linked);
      return null;
    }
    return linked;
  }

  function offerToken(linked) {
    const prompt = document.getElementById("token-switch");
    prompt.hidden = false;
    document.getElementById("token-switch-yes").addEventListener("click", () => {
      localStorage.setItem(KEY, linked);
      window.location.reload(); // every stream and list starts again with the new token
    });
    document.getElementById("token-switch-no").addEventListener("click", () => {
      prompt.hidden = true;
    });
  }
  const t = (key) => data.texts[key] || key;

  function setStatus(text) {
    const status = document.getElementById("status");
    status.textContent = text || "";
    status.hidden = !text;
  }

  // A person signs in with a name and password (POST /api/login); a machine's or a wall
  // board's API token can still be pasted below it.
  function askForToken(refused) {
    document.getElementById("sign-in").hidden = false;
    document.getElementById("login").hidden = false;
    document.getElementById("login-error").hidden = !refused;
    document.getElementById("sign-in-name").focus();
  }

  function signedIn(newToken) {
    localStorage.setItem(KEY, newToken);
    document.getElementById("sign-in").hidden = true;
    document.getElementById("login").hidden = true;
    const signOut = document.getElementById("sign-out");
    if (signOut) signOut.hidden = false;
    showWho();
    for (const listener of listeners) listener();
  }

  // The name of whoever this browser acts as: the person of a sign-in, else the token.
  async function showWho() {
    const who = document.getElementById("signed-in");
    if (!who || !token()) return;
    try {
      const response = await fetch("/api/token", { headers: { Authorization: `Bearer ${token()}` } });
      if (!response.ok) return;
      const me = await response.json();
      who.textContent = personName(me.name);
      who.title = `${t("signed_in_as")} ${personName(me.name)}`;
      who.dataset.name = me.name;
      who.hidden = false;
    } catch (error) {
      // The name is a courtesy: the page works without it.
    }
  }

  async function signIn(event) {
    event.preventDefault();
    const error = document.getElementById("sign-in-error");
    const password = document.getElementById("sign-in-password");
    const response = await fetch("/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: document.getElementById("sign-in-name").value.trim(), password: password.value }),
    });
    password.value = "";
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      error.textContent = response.status === 401 ? t("sign_in_refused") : body.detail || `HTTP ${response.status}`;
      error.hidden = false;
      return;
    }
    error.hidden = true;
    signedIn((await response.json()).token);
  }

  class Unauthorized extends Error {}

  async function api(path, options = {}) {
    const headers = { ...(options.headers || {}) };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    // A form (a photo's upload) goes as it is: the browser writes its multipart type.
    const form = options.body instanceof FormData;
    if (options.body !== undefined && !form) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      ...options,
      headers,
      body: options.body === undefined || form ? options.body : JSON.stringify(options.body),
    });
    if (response.status === 401) {
      askForToken(Boolean(token()));
      throw new Unauthorized("token needed");
    }
    return response;
  }

  async function apiJson(path, options) {
    const response = await api(path, options);
    const body = await response.json();
    if (!response.ok) {
      const detail = body.detail;
      const message = typeof detail === "string" ? detail : (detail && detail.message) || JSON.stringify(detail);
      throw new Error(message);
    }
    return body;
  }

  // Server-sent events read with fetch, so the token travels in a header and not in
  // the URL. A stream that ends, fails or goes quiet is opened again, backing off.
  function stream(path, onEvent) {
    let backoff = 500;
    let lastHeard = Date.now();
    let controller = null;
    let refusal = null;
    const QUIET_MS = 15000; // the hub sends a comment every 5 s

    setInterval(() => {
      if (controller && Date.now() - lastHeard > QUIET_MS) controller.abort();
    }, 1000);

    async function connect() {
      controller = new AbortController();
      lastHeard = Date.now();
      try {
        const response = await api(path, { signal: controller.signal, headers: { Accept: "text/event-stream" } });
        if (!response.ok) {
          // A refusal (a token of another line, say) is shown, not hidden behind retries.
          const body = await response.json().catch(() => ({}));
          throw new Error(typeof body.detail === "string" ? body.detail : `HTTP ${response.status}`);
        }
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          lastHeard = Date.now();
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = parseFrame(frame);
            if (event) {
              backoff = 500;
              setStatus("");
              document.body.dataset.connected = "true";
              onEvent(event.name, event.data);
            }
          }
        }
      } catch (error) {
        if (error instanceof Unauthorized) return; // the sign-in form restarts it
        refusal = error.name === "AbortError" || error instanceof TypeError ? null : error.message;
      }
      document.body.dataset.connected = "false";
      setStatus(refusal ? `${refusal} · ${t("reconnecting")}` : t("reconnecting"));
      refusal = null;
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    }
    listeners.push(connect);
    connect();
  }

  function parseFrame(frame) {
    let name = "message";
    const lines = [];
    for (const line of frame.split("\n")) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) lines.push(line.slice(5).trimStart());
    }
    return lines.length ? { name, data: JSON.parse(lines.join("\n")) } : null;
  }

  function onSignIn(callback) {
    listeners.push(callback);
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (offered) offerToken(offered);
    document.getElementById("sign-in").addEventListener("submit", signIn);
    document.getElementById("login").addEventListener("submit", (event) => {
      event.preventDefault();
      signedIn(document.getElementById("login-token").value.trim());
    });
    // A kiosk board (?kiosk=1) has no menu: nobody at a wall screen signs it out.
    if (document.getElementById("menu")) setUpMenu();
  });

  function setUpMenu() {
    const signOut = document.getElementById("sign-out");
    signOut.hidden = !token();
    showWho();
    signOut.addEventListener("click", async (event) => {
      event.preventDefault();
      // A sign-in ends at the hub too (an API token answers 409 and stays: an admin's).
      if (token()) await fetch("/api/logout", { method: "POST", headers: { Authorization: `Bearer ${token()}` } }).catch(() => null);
      localStorage.removeItem(KEY);
      window.location.reload();
    });
    // The switch keeps the page's other parameters (?call=...).
    const language = document.getElementById("language");
    const here = new URL(window.location.href);
    here.searchParams.set("lang", language.getAttribute("href").split("=")[1]);
    language.href = here.pathname + here.search;
    // On a phone the bar folds into this button; the style sheet decides when.
    const bar = document.getElementById("bar");
    const toggle = document.getElementById("menu-toggle");
    toggle.addEventListener("click", () => {
      const open = bar.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }

  // Durations people read, in the page's words: 45 s, 12 min 05 s, 3 h 05 min
  // (45秒, 12分05秒, 3小时05分).
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.max(0, Math.round(seconds));
    const two = (n) => String(n).padStart(2, "0");
    if (s < 60) return words("duration_s", { s });
    if (s < 3600) return words("duration_min_s", { m: Math.floor(s / 60), s: two(s % 60) });
    return words("duration_h_min", { h: Math.floor(s / 3600), m: two(Math.floor((s % 3600) / 60)) });
  }

  // A sentence of the catalog with its {name} places filled in.
  function words(key, values) {
    return t(key).replace(/\{(\w+)\}/g, (place, name) => (name in values ? String(values[name]) : place));
  }

  // Dates and times in one format on every page: the browser's own locale (what its date
  // pickers show), whatever the page's language. `dateTime` for a moment, `date` for a
  // day, `clock` for the time of day.
  const dateTime = (iso) => (iso ? new Date(iso).toLocaleString(navigator.language) : "–");
  const date = (iso) => (iso ? new Date(iso).toLocaleDateString(navigator.language) : "–");
  const clock = (moment) => moment.toLocaleTimeString(navigator.language, { hour: "2-digit", minute: "2-digit" });

  const names = data.names;
  function lineName(line) { return (names.lines[line] || {}).name || line; }
  function stationName(line, station) {
    return ((names.lines[line] || {}).stations || {})[station] || station;
  }
  function callTypeName(id) { return (names.call_types[id] || {}).name || id; }
  function reasonName(id) { return names.reason_codes[id] || id; }
  function personName(id) { return names.people[id] || id; }

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  return {
    data, t, words, api, apiJson, stream, onSignIn, setStatus, duration, dateTime, date, clock,
    lineName, stationName, callTypeName, reasonName, personName, element, Unauthorized,
  };
})();

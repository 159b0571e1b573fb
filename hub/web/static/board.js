// The andon board: tiles redrawn from each picture the hub streams, ages ticking locally,
// and laid out to fill the screen so the text grows with the room each tile gets.
"use strict";

(() => {
  const { t, element, duration } = Andon;
  const tiles = document.getElementById("tiles");
  const line = tiles.dataset.line;
  // Below this a tile scrolls rather than shrinks: its text stays readable.
  const MIN_TILE_HEIGHT = 150;
  // The text is sized for a tile about 16:10; a taller one gains nothing.
  const ASPECT = 1.6;
  // Each line's size relative to the others, as andon.css writes them (keep in step):
  // the fullest tile's lines, at these sizes, fill its height.
  const WEIGHTS = { "tile-name": 1.4, "tile-line": 0.7, "tile-type": 1, "tile-age": 1.4,
    "tile-state": 0.8, "tile-part": 0.7, "tile-more": 0.7, "tile-machine": 0.8 };
  let clockOffset = 0; // the hub's clock minus this screen's

  if (line) document.getElementById("board-line").textContent = Andon.lineName(line);

  function render(board) {
    clockOffset = Date.parse(board.now) - Date.now();
    const header = board.header;
    document.getElementById("open-calls").textContent = header.open_calls;
    document.getElementById("calls-today").textContent = header.calls_today;
    document.getElementById("median-response").textContent = duration(header.median_response_s);
    tiles.replaceChildren(...board.tiles.map(tile));
    AndonBoardMachines.decorate(tiles);
    fit();
    tick();
    chime(board);
  }

  // ?sound=on: the board chimes while any call waits for its acknowledgement (the tile
  // flashes as long), and stops when the last one is acknowledged. The choice is this
  // screen's, kept per board; ?sound=off forgets it.
  const SOUND_KEY = `andon_sound:${window.location.pathname}`;
  if (Andon.data.sound) localStorage.setItem(SOUND_KEY, Andon.data.sound);
  const soundOn = localStorage.getItem(SOUND_KEY) === "on";
  const audio = document.getElementById("call-sound");
  const blocked = document.getElementById("sound-blocked");
  document.body.dataset.sound = soundOn ? "on" : "off";

  let lastBoard = null;
  function chime(board) {
    lastBoard = board;
    if (!soundOn) return;
    const waiting = board.tiles.some((station) => station.calls.some((call) => call.state === "raised"));
    if (waiting && audio.paused) {
      audio.play().then(() => {
        document.body.dataset.sounding = "true";
        blocked.hidden = true;
      }).catch(() => {
        // No sound before someone touches the page, unless the kiosk browser allows it
        // (Chromium: --autoplay-policy=no-user-gesture-required; docs/pages.md).
        blocked.hidden = false;
      });
    } else if (!waiting && !audio.paused) {
      audio.pause();
      audio.currentTime = 0;
      document.body.dataset.sounding = "false";
    }
  }
  // The tap is the gesture the browser waits for: the chime may start now.
  blocked.addEventListener("click", () => {
    blocked.hidden = true;
    if (lastBoard) chime(lastBoard);
  });

  function tile(station) {
    const top = station.calls[0];
    const node = element("article", {
      class: `tile ${station.colour}${station.flashing ? " flashing" : ""}`,
      "data-station": station.station,
      "data-line": station.line,
      "data-state": station.state,
      "data-colour": station.colour,
    });
    node.append(element("div", { class: "tile-name", text: station.name }));
    if (!line) node.append(element("div", { class: "tile-line", text: station.line_name }));
    if (!top) {
      node.append(element("div", { class: "tile-state", text: t("idle") }));
      return node;
    }
    node.append(element("div", { class: "tile-type", text: top.call_type_name }));
    node.append(element("div", { class: "tile-age", "data-since": top.raised_at }));
    const state = t(top.state) + (top.acknowledged_by ? ` · ${Andon.personName(top.acknowledged_by)}` : "");
    node.append(element("div", { class: "tile-state", text: state }));
    const part = [top.part_serial && `${t("serial")} ${top.part_serial}`, top.part_lot && `${t("lot")} ${top.part_lot}`]
      .filter(Boolean).join(" · ");
    if (part) node.append(element("div", { class: "tile-part", text: part }));
    if (top.recurrence_of !== null && top.recurrence_of !== undefined) {
      const recurs = Andon.words("recurs_call", { id: top.recurrence_of });
      node.append(element("div", { class: "tile-recurrence", "data-recurrence-of": top.recurrence_of, text: recurs }));
    }
    const more = station.calls.length - 1;
    if (more > 0) {
      const words = t(more === 1 ? "more_calls_one" : "more_calls").replace("{n}", more);
      node.append(element("div", { class: "tile-more", "data-more": more, text: words }));
    }
    return node;
  }

  // Columns and row height that give each tile the most room on this screen; the style
  // sheet sizes the text by the tile (container query units), so two stations on a wall
  // get letters several times those of twenty.
  function fit() {
    const count = tiles.children.length;
    if (!count) return;
    const style = getComputedStyle(tiles);
    const gap = parseFloat(style.rowGap) || 0;
    const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
    const width = tiles.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const below = parseFloat(getComputedStyle(tiles.parentElement).paddingBottom) || 0;
    const top = tiles.getBoundingClientRect().top + window.scrollY;
    const height = window.innerHeight - top - padding - below;
    let best = null;
    for (let columns = 1; columns <= count; columns++) {
      const rows = Math.ceil(count / columns);
      const tileWidth = (width - gap * (columns - 1)) / columns;
      const tileHeight = Math.max((height - gap * (rows - 1)) / rows, MIN_TILE_HEIGHT);
      const room = Math.min(tileWidth, tileHeight * ASPECT);
      if (!best || room > best.room) best = { columns, room, tileHeight: Math.min(tileHeight, tileWidth) };
    }
    const weights = Math.max(...[...tiles.children].map((node) =>
      [...node.children].reduce((sum, child) => sum + (WEIGHTS[child.className] || 0), 0)));
    // Set through the CSS object model, which the pages' Content-Security-Policy allows.
    tiles.style.setProperty("--weights", weights.toFixed(2));
    tiles.style.setProperty("--columns", best.columns);
    tiles.style.setProperty("--tile-height", `${Math.floor(best.tileHeight)}px`);
  }

  function tick() {
    const now = Date.now() + clockOffset;
    for (const age of tiles.querySelectorAll("[data-since]")) {
      age.textContent = duration((now - Date.parse(age.dataset.since)) / 1000);
    }
    document.getElementById("clock").textContent = Andon.clock(new Date(now));
  }

  setInterval(tick, 1000);
  AndonBoardMachines.start(tiles);
  window.addEventListener("resize", fit);
  // "Connection lost, reconnecting…" above the board moves the tiles down: fit again.
  new ResizeObserver(() => fit()).observe(document.getElementById("status"));
  const query = new URLSearchParams({ lang: Andon.data.lang });
  if (line) query.set("line", line);
  Andon.stream(`/api/board/events?${query}`, (name, board) => {
    if (name === "board") render(board);
  });
})();

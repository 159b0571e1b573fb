// The andon board: tiles redrawn from each picture the hub streams, ages ticking locally.
"use strict";

(() => {
  const { t, element, duration } = Andon;
  const tiles = document.getElementById("tiles");
  const line = tiles.dataset.line;
  let clockOffset = 0; // the hub's clock minus this screen's

  function render(board) {
    clockOffset = Date.parse(board.now) - Date.now();
    const header = board.header;
    document.getElementById("open-calls").textContent = header.open_calls;
    document.getElementById("calls-today").textContent = header.calls_today;
    document.getElementById("median-response").textContent = duration(header.median_response_s);
    tiles.replaceChildren(...board.tiles.map(tile));
    tick();
  }

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
    const state = t(top.state) + (top.acknowledged_by ? ` · ${top.acknowledged_by}` : "");
    node.append(element("div", { class: "tile-state", text: state }));
    const part = [top.part_serial && `${t("serial")} ${top.part_serial}`, top.part_lot && `${t("lot")} ${top.part_lot}`]
      .filter(Boolean).join(" · ");
    if (part) node.append(element("div", { class: "tile-part", text: part }));
    if (station.calls.length > 1) node.append(element("div", { class: "tile-more", text: `+${station.calls.length - 1}` }));
    return node;
  }

  function tick() {
    const now = Date.now() + clockOffset;
    for (const age of tiles.querySelectorAll("[data-since]")) {
      age.textContent = duration((now - Date.parse(age.dataset.since)) / 1000);
    }
    document.getElementById("clock").textContent = new Date(now).toLocaleTimeString(
      Andon.data.lang === "zh" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit" });
  }

  setInterval(tick, 1000);
  const query = new URLSearchParams({ lang: Andon.data.lang });
  if (line) query.set("line", line);
  Andon.stream(`/api/board/events?${query}`, (name, board) => {
    if (name === "board") render(board);
  });
})();

// The board's machines: each tile whose station has a machine shows its state and how
// long it has been in it (the edge's time of the change; board.js ticks the age).
"use strict";

const AndonBoardMachines = (() => {
  const { t, element } = Andon;
  const POLL_MS = 5000;
  let states = new Map();

  function decorate(tiles) {
    for (const tile of tiles.querySelectorAll("article.tile")) {
      const machine = states.get(`${tile.dataset.line}/${tile.dataset.station}`);
      tile.querySelector(".tile-machine")?.remove();
      if (!machine) continue;
      tile.append(element("div", { class: "tile-machine", "data-machine-state": machine.state },
        element("span", { class: "machine-state", text: `${t(`machine_${machine.state}`)} · ` }),
        element("span", { class: "machine-since", "data-since": machine.since })));
    }
  }

  async function poll(tiles) {
    try {
      const line = tiles.dataset.line;
      const found = await Andon.apiJson(`/api/machines${line ? `?line=${encodeURIComponent(line)}` : ""}`);
      states = new Map(found.map((machine) => [`${machine.line}/${machine.station}`, machine]));
      decorate(tiles);
    } catch (error) {
      if (!(error instanceof Andon.Unauthorized)) Andon.setStatus(error.message);
    }
  }

  function start(tiles) {
    poll(tiles);
    setInterval(() => poll(tiles), POLL_MS);
  }

  return { decorate, start };
})();

// The list of control charts: each characteristic at each station, with its newest
// lines, its last point and how many anomalies it had in the last 24 hours.
"use strict";

(() => {
  const { t, element, apiJson, lineName, stationName, dateTime } = Andon;
  const DAY_MS = 86400000;
  const number = (value) => (value === null || value === undefined ? "–" : Number(value).toPrecision(6).replace(/\.?0+$/, ""));

  async function recentAnomalies() {
    // Newest first; a page of the last day is enough to count what an engineer looks at.
    const since = Date.now() - DAY_MS;
    const counts = new Map();
    const page = await apiJson("/api/anomalies?limit=1000");
    for (const anomaly of page.anomalies) {
      if (Date.parse(anomaly.detected_at) < since) continue;
      const key = `${anomaly.characteristic}|${anomaly.line}|${anomaly.station}`;
      counts.set(key, (counts.get(key) || 0) + 1);
    }
    return counts;
  }

  async function load() {
    const [list, counts] = await Promise.all([apiJson("/api/characteristics"), recentAnomalies()]);
    const rows = list.characteristics.map((c) => {
      const href = `/charts/${encodeURIComponent(c.characteristic)}?line=${encodeURIComponent(c.line)}&station=${encodeURIComponent(c.station)}`;
      const tr = element("tr", { "data-characteristic": c.characteristic, "data-line": c.line, "data-station": c.station });
      const link = element("a", { href, text: c.characteristic });
      tr.append(element("td", {}, link));
      for (const cell of [lineName(c.line), stationName(c.line, c.station), c.chart, c.unit || "–", number(c.center), number(c.lcl),
        number(c.ucl), dateTime(c.last_point_at)]) {
        tr.append(element("td", { text: String(cell) }));
      }
      tr.append(element("td", { class: "anomaly-count", text: String(counts.get(`${c.characteristic}|${c.line}|${c.station}`) || 0) }));
      return tr;
    });
    document.querySelector("#characteristics tbody").replaceChildren(...rows);
    document.querySelector(".empty").hidden = rows.length > 0;
  }

  const show = () => load().catch((error) => {
    if (!(error instanceof Andon.Unauthorized)) Andon.setStatus(error.message);
  });
  Andon.onSignIn(show);
  show();
})();

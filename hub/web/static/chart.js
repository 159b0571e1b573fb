// One characteristic's control chart page: the chart (drawn by chart_draw.js) of the
// newest points, which arrive over the hub's event stream; below it the settings the
// points carry and the characteristic's recent anomalies, each with "raise a call" for
// a token that may raise (anomaly_call.js).
"use strict";

(() => {
  const { t, element, apiJson, lineName, stationName, dateTime } = Andon;
  const SHOWN = 100; // points on the chart: a shift or so of a fast characteristic
  const PAGES = 20; // pages of stored points read when the page opens
  const name = document.getElementById("characteristic").dataset.characteristic;
  const select = document.getElementById("station");
  const wanted = new URLSearchParams(window.location.search);
  let points = [];
  let stationKey = null; // "line|station"

  const { number } = ChartDraw;

  function draw() {
    const node = document.getElementById("chart");
    const shown = points.slice(-SHOWN);
    document.querySelector(".empty").hidden = shown.length > 0;
    if (!shown.length) { node.replaceChildren(); return; }
    ChartDraw.draw(node, shown, { name, t, when: dateTime });
    settings(shown[shown.length - 1]);
  }

  // What the hub knows of the rules: what the points carry (the edge's rule file decides).
  function settings(last) {
    const seen = [...new Set(points.flatMap((p) => p.tests))].sort((a, b) => a - b);
    const facts = [[t("station"), `${lineName(last.line)} · ${stationName(last.line, last.station)}`],
      [t("chart_kind"), last.chart], [t("measurement"), last.measurement], [t("unit"), last.unit || "–"],
      [t("center"), number(last.center)],
      [t("lcl"), number(last.lcl)], [t("ucl"), number(last.ucl)],
      [t("tests_seen"), seen.length ? seen.join(", ") : "–"], [t("points_shown"), String(Math.min(points.length, SHOWN))]];
    document.getElementById("settings").replaceChildren(
      ...facts.flatMap(([label, value]) => [element("dt", { text: label }), element("dd", { text: value })]));
  }

  async function stations() {
    const list = await apiJson(`/api/characteristics?${new URLSearchParams()}`);
    const mine = list.characteristics.filter((c) => c.characteristic === name);
    select.replaceChildren(...mine.map((c) => element("option", { value: `${c.line}|${c.station}`,
      text: `${lineName(c.line)} · ${stationName(c.line, c.station)}` })));
    const asked = `${wanted.get("line")}|${wanted.get("station")}`;
    if (mine.some((c) => `${c.line}|${c.station}` === asked)) select.value = asked;
    stationKey = select.value || null;
  }

  async function history() {
    points = [];
    if (!stationKey) return;
    const [line, station] = stationKey.split("|");
    let cursor = null;
    for (let page = 0; page < PAGES; page += 1) {
      const query = new URLSearchParams({ line, station, limit: "1000" });
      if (cursor) query.set("cursor", cursor);
      const body = await apiJson(`/api/characteristics/${encodeURIComponent(name)}/points?${query}`);
      points = points.concat(body.points).slice(-SHOWN);
      cursor = body.next_cursor;
      if (!cursor) break;
    }
  }

  async function anomalies() {
    const table = document.getElementById("anomalies");
    const query = new URLSearchParams({ characteristic: name, limit: "20" });
    if (stationKey) {
      const [line, station] = stationKey.split("|");
      query.set("line", line);
      query.set("station", station);
    }
    const [body, mayRaise] = await Promise.all([apiJson(`/api/anomalies?${query}`), AnomalyCall.mayRaise()]);
    document.querySelector(".no-anomalies").hidden = body.anomalies.length > 0;
    const head = element("tr");
    for (const label of [t("when"), t("station"), t("subgroup"), t("value"), t("tests"), t("part"), ""]) head.append(element("th", { text: label }));
    const rows = body.anomalies.map((a) => {
      const tr = element("tr", { "data-anomaly": String(a.id), "data-tests": a.tests.join(",") });
      for (const cell of [dateTime(a.detected_at), stationName(a.line, a.station), a.subgroup, number(a.value),
        a.tests.join(", "), a.part_serial || a.part_lot || "–"]) tr.append(element("td", { text: String(cell) }));
      tr.append(AnomalyCall.cell(a, mayRaise));
      return tr;
    });
    table.replaceChildren(...(rows.length ? [head, ...rows] : []));
  }

  function onPoint(kind, point) {
    if (kind === "open") { document.getElementById("live").hidden = false; return; }
    if (kind !== "point" || `${point.line}|${point.station}` !== stationKey) return;
    points.push(point);
    points = points.slice(-SHOWN);
    draw();
    if (point.tests.length) anomalies().catch(() => {}); // the anomaly row follows its point
  }

  async function load() {
    await stations();
    await Promise.all([history(), anomalies()]);
    draw();
  }

  select.addEventListener("change", () => { stationKey = select.value; load(); });
  const show = () => load().catch((error) => {
    if (!(error instanceof Andon.Unauthorized)) Andon.setStatus(error.message);
  });
  Andon.onSignIn(show);
  show().then(() => Andon.stream(`/api/characteristics/${encodeURIComponent(name)}/events`, onPoint));
})();

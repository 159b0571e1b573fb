// One characteristic's control chart, drawn as SVG: points, center line, control
// limits, the 1- and 2-sigma zones, flagged points marked with their test numbers; new
// points arrive over the hub's event stream. Below it: the settings the points carry
// and the characteristic's recent anomalies.
"use strict";

(() => {
  const { t, element, apiJson, localTime, lineName, stationName } = Andon;
  const SVG = "http://www.w3.org/2000/svg";
  const SHOWN = 100; // points on the chart: a shift or so of a fast characteristic
  const PAGES = 20; // pages of stored points read when the page opens
  const name = document.getElementById("characteristic").dataset.characteristic;
  const select = document.getElementById("station");
  const wanted = new URLSearchParams(window.location.search);
  let points = [];
  let stationKey = null; // "line|station"

  const number = (value) => Number(value).toPrecision(6).replace(/\.?0+$/, "");

  function svg(tag, attributes = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The chart's scale covers the limits and every point, with a margin.
  function scale(shown, height, pad) {
    const last = shown[shown.length - 1];
    let low = Math.min(last.lcl, ...shown.map((p) => p.value));
    let high = Math.max(last.ucl, ...shown.map((p) => p.value));
    const margin = (high - low) * 0.08 || 1;
    low -= margin;
    high += margin;
    return (value) => pad + (high - value) / (high - low) * (height - 2 * pad);
  }

  function draw() {
    const node = document.getElementById("chart");
    const shown = points.slice(-SHOWN);
    document.querySelector(".empty").hidden = shown.length > 0;
    if (!shown.length) { node.replaceChildren(); return; }
    const width = 960, height = 360, left = 64, right = 90, pad = 24;
    const y = scale(shown, height, pad);
    const step = (width - left - right) / Math.max(shown.length - 1, 1);
    const x = (i) => left + i * step;
    const last = shown[shown.length - 1];
    const sigma = (last.ucl - last.center) / 3;
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "spc", role: "img",
      "aria-label": `${t("chart")} ${name}`, "data-chart": last.chart });
    // Zones C, B and A (within 1, 2 and 3 sigma of the center), lightest nearest it.
    for (const [k, zone] of [[3, "a"], [2, "b"], [1, "c"]]) {
      const top = y(last.center + k * sigma), bottom = y(last.center - k * sigma);
      chart.append(svg("rect", { class: `zone zone-${zone}`, x: left, y: top, width: width - left - right, height: bottom - top }));
    }
    for (const [key, value, cls] of [["ucl", last.ucl, "limit"], ["center", last.center, "center"], ["lcl", last.lcl, "limit"]]) {
      chart.append(svg("line", { class: cls, x1: left, x2: width - right, y1: y(value), y2: y(value) }));
      chart.append(svg("text", { class: "line-label", x: width - right + 6, y: y(value) + 4 }, `${t(key)} ${number(value)}`));
    }
    chart.append(svg("polyline", { class: "trace", points: shown.map((p, i) => `${x(i)},${y(p.value)}`).join(" ") }));
    shown.forEach((p, i) => chart.append(marker(p, x(i), y(p.value))));
    node.replaceChildren(chart);
    settings(last);
  }

  function marker(p, cx, cy) {
    const flagged = p.tests.length > 0;
    const group = svg("g", { class: flagged ? "point flagged" : "point", "data-subgroup": p.subgroup, "data-tests": p.tests.join(",") });
    group.append(svg("circle", { cx, cy, r: flagged ? 6 : 3.5 }));
    group.append(svg("title", {}, `${t("subgroup")} ${p.subgroup}: ${number(p.value)} · ${localTime(p.at)}`
      + (flagged ? ` · ${t("tests")} ${p.tests.join(", ")}` : "")));
    if (flagged) group.append(svg("text", { class: "test-number", x: cx, y: cy - 10, "text-anchor": "middle" }, p.tests.join(",")));
    return group;
  }

  // What the hub knows of the rules: what the points carry (the edge's rule file decides).
  function settings(last) {
    const seen = [...new Set(points.flatMap((p) => p.tests))].sort((a, b) => a - b);
    const facts = [[t("station"), `${lineName(last.line)} · ${stationName(last.line, last.station)}`],
      [t("chart_kind"), last.chart], [t("measurement"), last.measurement], [t("center"), number(last.center)],
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
    const body = await apiJson(`/api/anomalies?${query}`);
    document.querySelector(".no-anomalies").hidden = body.anomalies.length > 0;
    const head = element("tr");
    for (const label of [t("when"), t("station"), t("subgroup"), t("value"), t("tests"), t("part")]) head.append(element("th", { text: label }));
    const rows = body.anomalies.map((a) => {
      const tr = element("tr", { "data-tests": a.tests.join(",") });
      for (const cell of [localTime(a.detected_at), stationName(a.line, a.station), a.subgroup, number(a.value),
        a.tests.join(", "), a.part_serial || a.part_lot || "–"]) tr.append(element("td", { text: String(cell) }));
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

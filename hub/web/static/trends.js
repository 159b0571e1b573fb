// Weekly trends on the reports page: a small line chart per series of
// /api/reports/trends (the 12 ISO weeks up to the period's end, on the site's clock),
// drawn as SVG like the Pareto and the control charts; each series downloads as CSV.
// Every point carries data-week and data-value, every chart data-series.
"use strict";

(() => {
  const { t, element, duration, apiJson, api } = Andon;
  const NS = "http://www.w3.org/2000/svg";
  const WIDTH = 360, HEIGHT = 180;
  const BOX = { left: 64, right: 12, top: 12, bottom: 28 };
  const DAY_MS = 86400000;
  const form = document.getElementById("period");
  const section = document.getElementById("trends");

  const shown = (unit, value) => (unit === "seconds" ? duration(value) : `${(value * 100).toFixed(1)} %`);
  const title = (series) => (series.unit === "seconds" ? `${t(series.name)} (${t("median")})` : t(series.name));

  function svg(tag, attributes, text) {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The value range drawn: every value, with a margin; 0 at the bottom unless the values
  // sit far above it (a first-pass yield near 100 %), one value alone from 0; a rate
  // never past 100 %.
  function range(values, unit) {
    let low = Math.min(...values), high = Math.max(...values);
    if (low === high || low < (high - low) * 2) low = 0;
    const margin = (high - low) * 0.1 || 1;
    high += margin;
    if (unit === "ratio") high = Math.min(high, 1);
    return [low === 0 ? 0 : Math.max(0, low - margin), high];
  }

  function chart(weeks, series) {
    const drawing = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "trend", role: "img", "aria-label": title(series) });
    const plotWidth = WIDTH - BOX.left - BOX.right, bottom = HEIGHT - BOX.bottom;
    const x = (i) => BOX.left + (weeks.length > 1 ? (plotWidth * i) / (weeks.length - 1) : plotWidth / 2);
    const known = series.values.filter((v) => v !== null);
    const [low, high] = known.length ? range(known, series.unit) : [0, 1];
    const y = (v) => bottom - ((bottom - BOX.top) * (v - low)) / (high - low);
    // No value at all: no scale to read either, only the weeks.
    for (const v of known.length ? [low, (low + high) / 2, high] : []) {
      drawing.append(svg("line", { x1: BOX.left, x2: WIDTH - BOX.right, y1: y(v), y2: y(v), class: "grid" }),
        svg("text", { x: BOX.left - 4, y: y(v) + 3, "text-anchor": "end", class: "axis" }, shown(series.unit, v)));
    }
    drawing.append(svg("line", { x1: BOX.left, x2: WIDTH - BOX.right, y1: bottom, y2: bottom, class: "axis-line" }));
    weeks.forEach((week, i) => {
      if (i % 2 === (weeks.length - 1) % 2) {
        drawing.append(svg("text", { x: x(i), y: bottom + 14, "text-anchor": "middle", class: "axis" }, week.week.slice(5)));
      }
    });
    // A week without a value breaks the line: the runs between are drawn apart.
    let run = [];
    const flush = () => {
      if (run.length > 1) drawing.append(svg("polyline", { points: run.join(" "), class: "line" }));
      run = [];
    };
    series.values.forEach((value, i) => {
      if (value === null) return flush();
      run.push(`${x(i)},${y(value)}`);
      const point = svg("circle", { cx: x(i), cy: y(value), r: 3, class: "point", "data-week": weeks[i].week, "data-value": String(value) });
      point.append(svg("title", {}, `${weeks[i].week}: ${shown(series.unit, value)}`));
      drawing.append(point);
    });
    flush();
    return drawing;
  }

  function figure(weeks, series) {
    const button = element("button", { type: "button", class: "trend-csv", "data-series": series.name, text: t("csv") });
    button.addEventListener("click", () => download(series.name));
    const last = [...series.values].reverse().find((v) => v !== null);
    const caption = element("figcaption", {}, element("span", { text: title(series) }),
      element("span", { class: "latest", text: last === undefined ? "–" : shown(series.unit, last) }), button);
    return element("figure", { "data-series": series.name, "data-unit": series.unit }, caption, chart(weeks, series));
  }

  // The period's end: the end of the form's last day in the browser's time zone.
  function query(extra) {
    const until = new Date(new Date(`${form.until.value}T00:00:00`).getTime() + DAY_MS);
    const params = new URLSearchParams({ until: until.toISOString(), ...extra });
    if (form.line.value) params.set("line", form.line.value);
    return params;
  }

  async function show() {
    delete section.dataset.loaded;
    try {
      const report = await apiJson(`/api/reports/trends?${query()}`);
      section.querySelector(".trend-charts").replaceChildren(...report.series.map((s) => figure(report.weeks, s)));
      section.dataset.loaded = "true";
    } catch (error) {
      if (!(error instanceof Andon.Unauthorized)) Andon.setStatus(error.message);
    }
  }

  async function download(series) {
    const response = await api(`/api/reports/trends?${query(series ? { series, format: "csv" } : { format: "csv" })}`);
    const name = `andon-trends${series ? `-${series}` : ""}.csv`;
    element("a", { href: URL.createObjectURL(await response.blob()), download: name }).click();
  }

  section.querySelector("h2 .trend-csv").addEventListener("click", () => download(""));
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  Andon.onSignIn(show);
  show();
})();

// Reports: response times and calls by reason (a Pareto chart), line, station, call type
// and shift over the chosen days, and the stations' quality figures (quality.js); each
// table downloads as CSV.
"use strict";

(() => {
  const { t, element, duration, apiJson, api } = Andon;
  const form = document.getElementById("period");
  const DIMENSIONS = ["reason_code", "line", "station", "call_type", "shift"];
  const TIMES = ["to_acknowledge_s", "to_arrive_s", "to_resolve_s", "unattended_s"];
  const DAY_MS = 86400000;

  const isoDay = (date) => date.toISOString().slice(0, 10);
  form.until.value = isoDay(new Date());
  form.since.value = isoDay(new Date(Date.now() - 6 * DAY_MS));
  for (const [id, line] of Object.entries(Andon.data.names.lines)) {
    form.line.append(element("option", { value: id, text: line.name }));
  }

  // Days are the browser's: from the first day's midnight to the end of the last.
  function query(extra) {
    const since = new Date(`${form.since.value}T00:00:00`);
    const until = new Date(new Date(`${form.until.value}T00:00:00`).getTime() + DAY_MS);
    const params = new URLSearchParams({ since: since.toISOString(), until: until.toISOString(), lang: Andon.data.lang, ...extra });
    if (form.line.value) params.set("line", form.line.value);
    return params;
  }

  // A row per group; the share and running share only where there is something to
  // compare (two groups or more), never on the one-row summary.
  function table(node, rows, withKey, by) {
    const compared = withKey && rows.length > 1;
    const head = element("tr");
    for (const label of [withKey ? "" : null, t("calls"), compared ? t("share") : null, compared ? t("cumulative") : null,
      t("resolved_calls"), ...TIMES.map((time) => `${t(time)} (${t("median")})`), `${t("unattended_s")} (${t("total")})`]) {
      if (label !== null) head.append(element("th", { text: label }));
    }
    const body = rows.map((row) => {
      const tr = element("tr", { "data-key": row.key ?? "" });
      const f = row.figures;
      const cells = [withKey ? groupName(row, by) : null, f.calls, compared ? percent(row.share) : null,
        compared ? percent(row.cumulative_share) : null, f.resolved,
        ...TIMES.map((time) => duration(f.times[time].median)), duration(f.times.unattended_s.total)];
      for (const cell of cells) if (cell !== null) tr.append(element("td", { text: String(cell) }));
      return tr;
    });
    node.replaceChildren(element("thead", {}, head), element("tbody", {}, ...body));
    // A section with nothing to show has no heading either.
    node.closest("section").hidden = rows.length === 0 && by !== "reason_code";
  }

  // Calls outside every shift are named so, not "-".
  const groupName = (row, by) => (by === "shift" && row.key === null ? t("outside_shifts") : row.label);

  const percent = (share) => `${Math.round(share * 100)} %`;

  // Bars by count, largest first, and the running share as a line on a 0-100 % axis.
  function pareto(rows) {
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    const left = 20, bottom = 200, top = 20, height = 230;
    const slot = Math.max(40, Math.min(90, 600 / Math.max(1, rows.length)));
    const width = left + slot * Math.max(1, rows.length) + 50;
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("class", "pareto");
    const most = Math.max(1, ...rows.map((row) => row.figures.calls));
    const shape = (tag, attributes, text) => {
      const node = document.createElementNS(NS, tag);
      for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
      if (text !== undefined) node.textContent = text;
      svg.append(node);
      return node;
    };
    const points = [];
    rows.forEach((row, i) => {
      const h = ((bottom - top) * row.figures.calls) / most;
      const x = left + i * slot;
      shape("rect", { x: x + slot * 0.15, y: bottom - h, width: slot * 0.7, height: h, class: "bar", "data-key": row.key });
      shape("text", { x: x + slot / 2, y: bottom - h - 4, "text-anchor": "middle", class: "count" }, row.figures.calls);
      shape("text", { x: x + slot / 2, y: bottom + 16, "text-anchor": "middle", class: "axis" }, groupName(row, "reason_code"));
      points.push(`${x + slot / 2},${bottom - (bottom - top) * row.cumulative_share}`);
    });
    shape("polyline", { points: points.join(" "), class: "cumulative" });
    const right = left + slot * Math.max(1, rows.length);
    shape("line", { x1: left, y1: bottom, x2: right, y2: bottom, class: "axis-line" });
    shape("line", { x1: right, y1: top, x2: right, y2: bottom, class: "axis-line" });
    shape("text", { x: right + 4, y: top + 4, class: "axis" }, "100 %");
    shape("text", { x: right + 4, y: bottom, class: "axis" }, "0 %");
    return svg;
  }

  async function show() {
    try {
      const summary = await apiJson(`/api/reports/summary?${query()}`);
      table(document.getElementById("summary"), summary.rows, false, "summary");
      for (const by of DIMENSIONS) {
        const report = await apiJson(`/api/reports/calls?${query({ by })}`);
        table(document.getElementById(`by-${by}`), report.rows, true, by);
        if (by === "reason_code") {
          document.getElementById("pareto").replaceChildren(pareto(report.rows));
          document.querySelector(".empty").hidden = report.rows.length > 0;
        }
      }
      await AndonQuality.show(query());
      document.body.dataset.loaded = "true";
    } catch (error) {
      if (!(error instanceof Andon.Unauthorized)) Andon.setStatus(error.message);
    }
  }

  async function download(report) {
    const own = report === "summary" || report === "quality";
    const path = own ? `/api/reports/${report}` : "/api/reports/calls";
    const extra = own ? { format: "csv" } : { by: report, format: "csv" };
    const response = await api(`${path}?${query(extra)}`);
    const link = element("a", { href: URL.createObjectURL(await response.blob()), download: `andon-${report}.csv` });
    link.click();
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  for (const button of document.querySelectorAll("button.csv")) {
    button.addEventListener("click", () => download(button.dataset.report));
  }
  Andon.onSignIn(show);
  show();
})();

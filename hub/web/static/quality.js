// Quality figures on the reports page: per station and shift the parts counted and the
// defect rate, rework rate and first-pass yield, and each station's week over week.
// Every row and cell carries data- attributes (station, shift, figure) for plant tools.
"use strict";

const AndonQuality = (() => {
  const { t, element, apiJson } = Andon;
  const COUNTS = ["inspected", "defective", "reworked"];
  // Rates as the API names them, the cell's data-figure, and whether higher is better.
  const RATES = [
    ["defect_rate", "defect-rate", false],
    ["rework_rate", "rework-rate", false],
    ["first_pass_yield", "fpy", true],
  ];

  const rate = (value) => (value === null ? "–" : `${(value * 100).toFixed(1)} %`);

  function cell(figure, value, text) {
    return element("td", { "data-figure": figure, "data-value": value === null ? "" : String(value), text });
  }

  function figureCells(figures) {
    return [
      ...COUNTS.map((name) => cell(name, figures[name], String(figures[name]))),
      ...RATES.map(([name, figure]) => cell(figure, figures[name], rate(figures[name]))),
    ];
  }

  function shiftTable(stations) {
    const head = element("tr");
    for (const label of [t("station"), t("shift"), t("inspected"), t("defective"), t("reworked"),
      t("defect_rate"), t("rework_rate"), t("first_pass_yield")]) head.append(element("th", { text: label }));
    const rows = [];
    for (const station of stations) {
      const key = { "data-line": station.line, "data-station": station.station };
      for (const shift of station.shifts) {
        const tr = element("tr", { ...key, "data-shift": shift.shift ?? "" },
          element("td", { text: station.label }), element("td", { text: shift.shift === null ? t("outside_shifts") : shift.label }));
        tr.append(...figureCells(shift.figures));
        rows.push(tr);
      }
      const total = element("tr", { ...key, "data-shift": "all", class: "total" },
        element("td", { text: station.label }), element("td", { text: t("all_shifts") }));
      total.append(...figureCells(station.figures));
      rows.push(total);
    }
    return [element("thead", {}, head), element("tbody", {}, ...rows)];
  }

  // A change in percentage points, its arrow, and whether it is for the better.
  function deltaCell(figure, delta, higherIsBetter) {
    if (delta === null) return element("td", { "data-figure": figure, "data-value": "", text: "–" });
    const points = delta * 100;
    const arrow = points > 0.05 ? "▲" : points < -0.05 ? "▼" : "▶";
    const way = arrow === "▶" ? "same" : (points > 0) === higherIsBetter ? "better" : "worse";
    const text = `${arrow} ${points > 0 ? "+" : ""}${points.toFixed(1)} ${t("points")}`;
    return element("td", { "data-figure": figure, "data-value": String(delta), "data-trend": way, class: `trend ${way}`, text });
  }

  function trendTable(stations) {
    const head = element("tr", {}, element("th", { text: t("station") }));
    for (const [name] of RATES) {
      for (const when of ["last_week", "this_week", "change"]) {
        head.append(element("th", { text: `${t(name)} · ${t(when)}` }));
      }
    }
    const rows = stations.map((station) => {
      const tr = element("tr", { "data-line": station.line, "data-station": station.station },
        element("td", { text: station.label }));
      const { last_week: last, this_week: now, delta } = station.trend;
      for (const [name, figure, higherIsBetter] of RATES) {
        tr.append(cell(`${figure}-last-week`, last[name], rate(last[name])),
          cell(`${figure}-this-week`, now[name], rate(now[name])),
          deltaCell(`${figure}-delta`, delta[name], higherIsBetter));
      }
      return tr;
    });
    return [element("thead", {}, head), element("tbody", {}, ...rows)];
  }

  async function show(params) {
    const report = await apiJson(`/api/reports/quality?${params}`);
    const none = report.stations.length === 0;
    document.getElementById("quality-empty").hidden = !none;
    for (const id of ["quality-shifts", "quality-trend-title", "quality-trend", "quality-weeks"]) document.getElementById(id).hidden = none;
    document.getElementById("quality-shifts").replaceChildren(...shiftTable(report.stations));
    document.getElementById("quality-trend").replaceChildren(...trendTable(report.stations));
    // ISO weeks on the plant's wall clock, as the hub counted them.
    document.getElementById("quality-weeks").textContent =
      `${t("last_week")}: ${report.last_week.week} · ${t("this_week")}: ${report.this_week.week}`;
  }

  return { show };
})();

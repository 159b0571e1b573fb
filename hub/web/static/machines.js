// Reports, machines: OEE by station and shift with its three factors, the downtime
// Pareto by reason, and MTBF and MTTR per station from the machines' faults; read from
// /api/reports/oee and /api/downtime for the period the page's form chooses.
"use strict";

(() => {
  const { t, element, duration, apiJson, api } = Andon;
  const form = document.getElementById("period");
  const section = document.getElementById("machines");
  const DAY_MS = 86400000;
  const MAX_PAGES = 20;

  function period() {
    const since = new Date(`${form.since.value}T00:00:00`);
    const until = new Date(new Date(`${form.until.value}T00:00:00`).getTime() + DAY_MS);
    const params = new URLSearchParams({ since: since.toISOString(), until: until.toISOString() });
    if (form.line.value) params.set("line", form.line.value);
    return params;
  }

  const percent = (ratio) => (ratio === null ? "–" : `${(ratio * 100).toFixed(1)} %`);
  const shiftName = (id) => (id === null ? "–" : (Andon.data.names.shifts || {})[id] || id);

  function fill(node, heads, rows) {
    const head = element("tr", {}, ...heads.map((text) => element("th", { text })));
    node.replaceChildren(element("thead", {}, head), element("tbody", {}, ...rows));
  }

  function oeeTable(rows) {
    const body = rows.map((row) => element("tr", { "data-station": row.station, "data-shift": row.shift ?? "" },
      ...[Andon.stationName(row.line, row.station), shiftName(row.shift), percent(row.availability),
        percent(row.performance), percent(row.quality), percent(row.oee), duration(row.planned_s),
        duration(row.down_s), String(row.total), String(row.good), String(row.micro_stops)]
        .map((text) => element("td", { text }))));
    fill(document.getElementById("oee"), [t("station"), t("shift"), t("availability"), t("performance"),
      t("quality"), "OEE", t("planned_time"), t("downtime"), t("parts"), t("good_parts"), t("micro_stops")], body);
    document.getElementById("oee-empty").hidden = rows.length > 0;
  }

  async function downtime(params) {
    const periods = [];
    let cursor = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = new URLSearchParams(params);
      query.set("limit", "1000");
      if (cursor) query.set("cursor", cursor);
      const answer = await apiJson(`/api/downtime?${query}`);
      periods.push(...answer.periods);
      cursor = answer.next_cursor;
      if (!cursor) break;
    }
    return periods.filter((p) => p.state !== "planned_stop" && p.seconds !== null);
  }

  // Seconds of downtime by reason, the largest first, as bars.
  function pareto(periods) {
    const byReason = new Map();
    for (const p of periods) byReason.set(p.reason, (byReason.get(p.reason) || 0) + p.seconds);
    const rows = [...byReason.entries()].sort((a, b) => b[1] - a[1]);
    const total = rows.reduce((sum, [, seconds]) => sum + seconds, 0);
    let running = 0;
    const body = rows.map(([reason, seconds]) => {
      running += seconds;
      return element("tr", { "data-reason": reason ?? "" },
        ...[reason === null ? t("no_reason") : Andon.reasonName(reason), duration(seconds),
          percent(seconds / total), percent(running / total)].map((text) => element("td", { text })));
    });
    fill(document.getElementById("downtime-by-reason"), [t("reason"), t("downtime"), t("share"), t("cumulative")], body);
    const bars = document.getElementById("downtime-pareto");
    bars.replaceChildren(...rows.map(([reason, seconds]) => {
      const bar = element("div", { class: "bar", "data-reason": reason ?? "" });
      bar.style.setProperty("width", `${Math.max(1, (100 * seconds) / (rows[0][1] || 1))}%`);
      return element("div", { class: "pareto-row" },
        element("span", { text: reason === null ? t("no_reason") : Andon.reasonName(reason) }), bar);
    }));
  }

  // MTBF = run time / faults; MTTR = the faults' downtime / faults (per station).
  function reliability(periods, stations) {
    const body = stations.map((row) => {
      const faults = periods.filter((p) => p.fault_code !== null && p.line === row.line && p.station === row.station);
      const repair = faults.reduce((sum, p) => sum + p.seconds, 0);
      const mtbf = faults.length ? duration(row.run_s / faults.length) : "–";
      const mttr = faults.length ? duration(repair / faults.length) : "–";
      return element("tr", { "data-station": row.station, "data-faults": faults.length },
        ...[Andon.stationName(row.line, row.station), String(faults.length), mtbf, mttr].map((text) => element("td", { text })));
    });
    fill(document.getElementById("mtbf-mttr"), [t("station"), t("faults"), "MTBF", "MTTR"], body);
  }

  async function show() {
    try {
      const params = period();
      const byShift = await apiJson(`/api/reports/oee?${params}&by=shift`);
      const rows = byShift.rows.length ? byShift.rows : (await apiJson(`/api/reports/oee?${params}`)).rows;
      oeeTable(rows);
      const periods = await downtime(params);
      pareto(periods);
      reliability(periods, (await apiJson(`/api/reports/oee?${params}&by=station`)).rows);
      section.dataset.loaded = "true";
    } catch (error) {
      if (!(error instanceof Andon.Unauthorized)) Andon.setStatus(error.message);
    }
  }

  async function download() {
    const response = await api(`/api/reports/oee?${period()}&by=shift&format=csv`);
    element("a", { href: URL.createObjectURL(await response.blob()), download: "andon-oee.csv" }).click();
  }

  section.querySelector(".machines-csv").addEventListener("click", download);
  form.addEventListener("submit", () => show());
  Andon.onSignIn(show);
  show();
})();

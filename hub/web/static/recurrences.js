// Recurrence rates on the reports page, by station and by reason code over the chosen
// days (/api/reports/recurrences); each table downloads as CSV. Rows carry data-key and
// cells data-figure (resolved, recurrences, rate) with data-value.
"use strict";

(() => {
  const { t, element, apiJson, api } = Andon;
  const DAY_MS = 86400000;
  const form = document.getElementById("period");
  const section = document.getElementById("recurrences");

  function query(extra) {
    const since = new Date(`${form.since.value}T00:00:00`);
    const until = new Date(new Date(`${form.until.value}T00:00:00`).getTime() + DAY_MS);
    const params = new URLSearchParams({ since: since.toISOString(), until: until.toISOString(), lang: Andon.data.lang, ...extra });
    if (form.line.value) params.set("line", form.line.value);
    return params;
  }

  const cell = (figure, value, text) => element("td", { "data-figure": figure, "data-value": value === null ? "" : String(value), text });

  function table(node, rows, by) {
    const head = element("tr");
    for (const label of [t(by === "station" ? "station" : "reason_code"), t("resolved_calls"), t("recurrences"), t("recurrence_rate")]) {
      head.append(element("th", { text: label }));
    }
    const body = rows.map((row) => element("tr", { "data-key": row.key }, element("td", { text: row.label }),
      cell("resolved", row.resolved, String(row.resolved)), cell("recurrences", row.recurrences, String(row.recurrences)),
      cell("rate", row.rate, row.rate === null ? "–" : `${(row.rate * 100).toFixed(1)} %`)));
    node.replaceChildren(element("thead", {}, head), element("tbody", {}, ...body));
  }

  async function show() {
    delete section.dataset.loaded;
    try {
      for (const by of ["station", "reason_code"]) {
        const report = await apiJson(`/api/reports/recurrences?${query({ by })}`);
        table(document.getElementById(`recurrences-${by}`), report.rows, by);
      }
      section.dataset.loaded = "true";
    } catch (error) {
      if (!(error instanceof Andon.Unauthorized)) Andon.setStatus(error.message);
    }
  }

  async function download(by) {
    const response = await api(`/api/reports/recurrences?${query({ by, format: "csv" })}`);
    element("a", { href: URL.createObjectURL(await response.blob()), download: `andon-recurrences-${by}.csv` }).click();
  }

  for (const button of section.querySelectorAll("button.recurrence-csv")) {
    button.addEventListener("click", () => download(button.dataset.by));
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  Andon.onSignIn(show);
  show();
})();

// "Raise a call" for an SPC anomaly, offered only to a token whose role may raise
// (GET /api/token): a call of the hub's anomaly call type (quality) at the anomaly's
// station, carrying its characteristic and part (POST /api/anomalies/{id}/call). Any
// page listing anomalies can use it: AnomalyCall.cell(anomaly) gives the table cell.
"use strict";

const AnomalyCall = (() => {
  const { t, element, apiJson } = Andon;
  let asked = null; // the token's answer, asked once per page and sign-in

  function mayRaise() {
    if (!asked) {
      asked = apiJson("/api/token").then((me) => me.permissions.includes("raise")).catch(() => false);
    }
    return asked;
  }
  Andon.onSignIn(() => { asked = null; });

  function raised(cell, call) {
    const link = element("a", { href: `/calls/${call.id}`, class: "raised-call", "data-call": String(call.id),
      text: `${t("call")} ${call.id}` });
    cell.replaceChildren(link);
  }

  async function raise(cell, anomaly, button) {
    button.disabled = true;
    try {
      raised(cell, await apiJson(`/api/anomalies/${anomaly.id}/call`, { method: "POST" }));
    } catch (error) {
      button.disabled = false;
      cell.append(element("span", { class: "error", text: ` ${error.message}` }));
    }
  }

  // The action cell of one anomaly's row: a button for a token that may raise, else empty.
  function cell(anomaly, allowed) {
    const td = element("td", { class: "anomaly-action" });
    if (!allowed) return td;
    const button = element("button", { type: "button", class: "raise-call", text: t("raise_call") });
    button.addEventListener("click", () => raise(td, anomaly, button));
    td.append(button);
    return td;
  }

  return { mayRaise, cell };
})();

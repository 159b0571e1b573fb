// One call: what, where, when, its timeline, who was told, and how calls like it were fixed.
"use strict";

(() => {
  const { t, element, duration, localTime, apiJson } = Andon;
  const id = Andon.data.call_id;

  function facts(list, pairs) {
    list.replaceChildren();
    for (const [label, value] of pairs) {
      list.append(element("dt", { text: label }), element("dd", { text: value ?? "–" }));
    }
  }

  async function load() {
    let call;
    try {
      call = await apiJson(`/api/calls/${id}`);
    } catch (error) {
      if (!(error instanceof Andon.Unauthorized)) Andon.setStatus(error.message);
      return;
    }
    document.body.dataset.state = call.state;
    facts(document.getElementById("call"), [
      [t("station"), `${Andon.stationName(call.line, call.station)} · ${Andon.lineName(call.line)}`],
      [t("call_type"), Andon.callTypeName(call.call_type)],
      [t("state"), t(call.state)],
      [t("raised_at"), localTime(call.raised_at)],
      [t("acknowledged_by"), call.acknowledged_by],
      [t("part"), [call.part_serial, call.part_lot].filter(Boolean).join(" · ") || null],
      [t("characteristic"), call.characteristic],
      [t("reason_code"), call.reason_code && Andon.reasonName(call.reason_code)],
      [t("note"), call.note],
    ]);
    const d = call.durations;
    facts(document.getElementById("durations"), [
      [t("to_acknowledge_s"), duration(d.to_acknowledge_s)],
      [t("to_arrive_s"), duration(d.to_arrive_s)],
      [t("to_resolve_s"), duration(d.to_resolve_s)],
      [t("unattended_s"), duration(d.unattended_s)],
    ]);
    const rows = call.timeline.map((entry) => {
      const detail = entry.detail || {};
      const note = [detail.reason_code && Andon.reasonName(detail.reason_code), detail.note, detail.cancel_reason]
        .filter(Boolean).join(" · ");
      const row = element("tr", { "data-action": entry.action });
      for (const text of [localTime(entry.at), t(entry.action), entry.actor, entry.source, note]) {
        row.append(element("td", { text }));
      }
      return row;
    });
    document.querySelector("#timeline tbody").replaceChildren(...rows);
    await loadNotifications();
    const fixes = await apiJson(`/api/calls/${id}/suggestions`);
    showFixes(fixes, "frequent", "recent", false);
    document.getElementById("no-fixes").hidden = fixes.most_recent.length > 0;
    // A call raised for an SPC anomaly: the fixes of earlier calls on its characteristic,
    // at any station, each saying where it was.
    const same = fixes.same_characteristic;
    document.getElementById("by-characteristic").hidden = !same;
    if (same) {
      document.getElementById("characteristic-name").textContent = fixes.characteristic;
      showFixes(same, "characteristic-frequent", "characteristic-recent", true);
      document.getElementById("no-characteristic-fixes").hidden = same.most_recent.length > 0;
    }
  }

  function showFixes(fixes, frequentId, recentId, withStation) {
    document.getElementById(frequentId).replaceChildren(...fixes.most_frequent.map((fix) =>
      element("li", { class: "fix", text: `${Andon.reasonName(fix.reason_code)} × ${fix.calls} (${localTime(fix.last_resolved_at)})` })));
    document.getElementById(recentId).replaceChildren(...fixes.most_recent.map((fix) => {
      const part = [fix.part_serial, fix.part_lot].filter(Boolean).join(" · ");
      const where = withStation ? `${Andon.stationName(fix.line, fix.station)} · ${Andon.lineName(fix.line)}` : null;
      const text = [localTime(fix.resolved_at), where, Andon.reasonName(fix.reason_code), fix.note, fix.resolved_by, part]
        .filter(Boolean).join(" · ");
      return element("li", { class: "fix", "data-call": fix.call_id, "data-station": fix.station, text });
    }));
  }

  // The delivery log, every attempt in order; the channel comes redacted from the API.
  async function loadNotifications() {
    const log = await apiJson(`/api/calls/${id}/notifications`);
    const rows = log.notifications.map((attempt) => {
      const row = element("tr", {
        class: "notification", "data-level": attempt.level, "data-status": attempt.status,
        "data-attempt": attempt.attempt,
      });
      const when = attempt.finished_at || attempt.started_at || attempt.created_at;
      const person = attempt.person ? Andon.personName(attempt.person) : attempt.via;
      for (const text of [localTime(when), attempt.level, person, attempt.channel, attempt.attempt,
        t(`notification_${attempt.status}`), attempt.error]) {
        row.append(element("td", { text: text ?? "–" }));
      }
      return row;
    });
    document.querySelector("#notifications tbody").replaceChildren(...rows);
    document.getElementById("no-notifications").hidden = rows.length > 0;
  }

  Andon.onSignIn(load);
  load();
})();

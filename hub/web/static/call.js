// One call: what, where, when, its timeline (each escalation saying whom it told), who
// was told, the SPC anomalies at its station (each with "raise a call" for a token that
// may raise, anomaly_call.js), and how calls like it were fixed.
"use strict";

(() => {
  const { t, element, duration, dateTime, apiJson } = Andon;
  const id = Andon.data.call_id;
  const ANOMALIES = 10; // the newest at the station: what SPC saw there lately
  const number = (value) => Number(value).toPrecision(6).replace(/\.?0+$/, "");

  function facts(list, pairs) {
    list.replaceChildren();
    for (const [label, value] of pairs) {
      list.append(element("dt", { text: label }), element("dd", { text: value ?? "–" }));
    }
  }

  async function load() {
    let call, log;
    try {
      [call, log] = await Promise.all([apiJson(`/api/calls/${id}`), apiJson(`/api/calls/${id}/notifications`)]);
    } catch (error) {
      if (!(error instanceof Andon.Unauthorized)) Andon.setStatus(error.message);
      return;
    }
    document.body.dataset.state = call.state;
    facts(document.getElementById("call"), [
      [t("station"), `${Andon.stationName(call.line, call.station)} · ${Andon.lineName(call.line)}`],
      [t("call_type"), Andon.callTypeName(call.call_type)],
      [t("state"), t(call.state)],
      [t("raised_at"), dateTime(call.raised_at)],
      [t("acknowledged_by"), call.acknowledged_by && Andon.personName(call.acknowledged_by)],
      [t("part"), [call.part_serial, call.part_lot].filter(Boolean).join(" · ") || null],
      [t("characteristic"), call.characteristic],
      [t("reason_code"), call.reason_code && Andon.reasonName(call.reason_code)],
      [t("note"), call.note],
      [t("root_cause"), call.root_cause],
      [t("countermeasure"), call.countermeasure],
    ]);
    showRecurrence(call);
    const d = call.durations;
    facts(document.getElementById("durations"), [
      [t("to_acknowledge_s"), duration(d.to_acknowledge_s)],
      [t("to_arrive_s"), duration(d.to_arrive_s)],
      [t("to_resolve_s"), duration(d.to_resolve_s)],
      [t("unattended_s"), duration(d.unattended_s)],
    ]);
    showTimeline(call, log.notifications);
    await Photos.attach(document.querySelector("#photos .photos"), id);
    showNotifications(log.notifications);
    await showAnomalies(call);
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

  // A recurrence names the earlier call it recurs, with a link to it.
  function showRecurrence(call) {
    if (call.recurrence_of === null) return;
    const link = element("a", { href: `/calls/${call.recurrence_of}`, text: Andon.words("recurs_call", { id: call.recurrence_of }) });
    const list = document.getElementById("call");
    list.append(element("dt", { text: t("recurrence") }), element("dd", { class: "recurrence", "data-recurrence-of": call.recurrence_of }, link));
  }

  // Whom a notification went to: the person's name, else the (redacted) channel.
  const recipient = (attempt) => (attempt.person ? Andon.personName(attempt.person) : attempt.channel);

  // "Level 1: Liu Yang" for each level an escalation step told, from the delivery log's
  // messages of that step (its level and its seconds after the call was raised).
  function told(detail, notifications) {
    return (detail.levels || []).map((level) => {
      const people = notifications.filter((n) => n.level === level && n.step_s === detail.step_s).map(recipient);
      const names = [...new Set(people)].join(", ") || "–";
      return Andon.words("level_told", { level, people: names });
    });
  }

  // Who acted: the hub by itself in the page's words, a station by its name, a person
  // (an acknowledgement link) by theirs, a token by its name.
  function actorName(call, entry) {
    if (entry.source === "hub" && entry.actor === "hub") return t("source_hub");
    if (entry.source === "station") return Andon.stationName(call.line, entry.actor);
    return Andon.personName(entry.actor);
  }

  function showTimeline(call, notifications) {
    const rows = call.timeline.map((entry) => {
      const detail = entry.detail || {};
      const said = entry.action === "escalated" ? told(detail, notifications) : [];
      const note = [...said, detail.reason_code && Andon.reasonName(detail.reason_code), detail.note, detail.cancel_reason]
        .filter(Boolean).join(" · ");
      const row = element("tr", { "data-action": entry.action });
      for (const text of [dateTime(entry.at), t(entry.action), actorName(call, entry), t(`source_${entry.source}`), note]) {
        row.append(element("td", { text }));
      }
      return row;
    });
    document.querySelector("#timeline tbody").replaceChildren(...rows);
  }

  // The SPC anomalies at the call's station (on its characteristic, for a call raised
  // for one), newest first; the section shows only when there are some.
  async function showAnomalies(call) {
    const query = new URLSearchParams({ line: call.line, station: call.station, limit: String(ANOMALIES) });
    if (call.characteristic) query.set("characteristic", call.characteristic);
    const [body, mayRaise] = await Promise.all([apiJson(`/api/anomalies?${query}`), AnomalyCall.mayRaise()]);
    const rows = body.anomalies.map((a) => {
      const tr = element("tr", { "data-anomaly": String(a.id), "data-tests": a.tests.join(",") });
      for (const cell of [dateTime(a.detected_at), a.characteristic, a.subgroup, number(a.value), a.tests.join(", "),
        a.part_serial || a.part_lot || "–"]) tr.append(element("td", { text: String(cell) }));
      tr.append(AnomalyCall.cell(a, mayRaise));
      return tr;
    });
    document.querySelector("#anomalies tbody").replaceChildren(...rows);
    document.getElementById("anomalies").hidden = rows.length === 0;
  }

  function showFixes(fixes, frequentId, recentId, withStation) {
    document.getElementById(frequentId).replaceChildren(...fixes.most_frequent.map((fix) =>
      element("li", { class: "fix", text: `${Andon.reasonName(fix.reason_code)} × ${fix.calls} (${dateTime(fix.last_resolved_at)})` })));
    document.getElementById(recentId).replaceChildren(...fixes.most_recent.map((fix) => {
      const part = [fix.part_serial, fix.part_lot].filter(Boolean).join(" · ");
      const where = withStation ? `${Andon.stationName(fix.line, fix.station)} · ${Andon.lineName(fix.line)}` : null;
      const text = [dateTime(fix.resolved_at), where, Andon.reasonName(fix.reason_code), fix.note, fix.resolved_by && Andon.personName(fix.resolved_by), part]
        .filter(Boolean).join(" · ");
      return element("li", { class: "fix", "data-call": fix.call_id, "data-station": fix.station, text });
    }));
  }

  // The delivery log, every attempt in order; the channel comes redacted from the API.
  function showNotifications(notifications) {
    const rows = notifications.map((attempt) => {
      const row = element("tr", {
        class: "notification", "data-level": attempt.level, "data-status": attempt.status,
        "data-attempt": attempt.attempt,
      });
      const when = attempt.finished_at || attempt.started_at || attempt.created_at;
      const person = attempt.person ? Andon.personName(attempt.person) : attempt.via;
      for (const text of [dateTime(when), attempt.level, person, attempt.channel, attempt.attempt,
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

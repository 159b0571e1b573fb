// Roster overrides: who covers whom and when, in the site's time zone; a token whose
// role may ("override": engineers and admins) adds and removes them.
"use strict";

(() => {
  const { t, element, apiJson, api, personName, Unauthorized } = Andon;
  const form = document.getElementById("override-form");
  const rows = document.querySelector("#overrides tbody");
  const failure = document.getElementById("override-error");
  let mayChange = false;

  for (const [id, name] of Object.entries(Andon.data.names.people)) {
    form.person.append(element("option", { value: id, text: name }));
    form.covers.append(element("option", { value: id, text: name }));
  }

  function row(override) {
    const tr = element("tr", { "data-override-id": String(override.id) });
    const cells = [personName(override.person), personName(override.covers), override.starts_local,
      override.ends_local, override.note, override.created_by];
    for (const text of cells) tr.append(element("td", { text }));
    const actions = element("td");
    if (mayChange) {
      const remove = element("button", { type: "button", class: "remove", text: t("remove") });
      remove.addEventListener("click", () => change(() => api(`/api/roster-overrides/${override.id}`, { method: "DELETE" })));
      actions.append(remove);
    }
    tr.append(actions);
    return tr;
  }

  async function show() {
    const me = await apiJson("/api/token");
    mayChange = me.permissions.includes("override");
    document.getElementById("override-add").hidden = !mayChange;
    const { overrides } = await apiJson("/api/roster-overrides");
    document.getElementById("no-overrides").hidden = overrides.length > 0;
    rows.replaceChildren(...overrides.map(row));
    document.body.dataset.loaded = "true";
  }

  async function change(send) {
    failure.hidden = true;
    try {
      await send();
      await show();
    } catch (error) {
      if (error instanceof Unauthorized) return;
      failure.textContent = error.message;
      failure.hidden = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    // An end time alone is that time the same day, or the next when it is not later.
    const ends = form.ends_on.value ? `${form.ends_on.value} ${form.ends.value}` : form.ends.value;
    const body = { person: form.person.value, covers: form.covers.value, starts: form.starts.value,
      ends, note: form.note.value };
    change(async () => {
      await apiJson("/api/roster-overrides", { method: "POST", body });
      form.reset();
    });
  });

  Andon.onSignIn(() => show().catch(() => {}));
  show().catch(() => {});
})();

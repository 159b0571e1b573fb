// Photos of a call: thumbnails read with the browser's token (an <img> cannot send one,
// so each is fetched and shown from a blob: URL), and "Take a photo" for a token whose
// role may photograph (GET /api/token): the phone's camera opens at once
// (capture="environment"), and the picture goes to POST /api/calls/{id}/photos.
// Photos.attach(container, callId) fills a container; the call page and the inbox use it.
// A page that draws many cards awaits Photos.ready() first: the camera's button is then
// placed with the card, not added later under a finger about to tap the card's buttons.
"use strict";

const Photos = (() => {
  const { t, element, api, apiJson } = Andon;
  let asked = null; // the token's answer, asked once per page and sign-in
  let known = null; // that answer once it came: true or false

  function ready() {
    if (!asked) {
      asked = apiJson("/api/token").then((me) => me.permissions.includes("photograph")).catch(() => false)
        .then((may) => { known = may; return may; });
    }
    return asked;
  }
  Andon.onSignIn(() => { asked = null; known = null; });

  async function thumbnail(callId, photo) {
    const response = await api(`/api/calls/${callId}/photos/${photo.id}?size=thumb`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const url = URL.createObjectURL(await response.blob());
    const img = element("img", { class: "photo-thumb", src: url, alt: `${t("photo")} ${photo.id}`,
      "data-photo": String(photo.id), title: `${photo.by} · ${Andon.dateTime(photo.created_at)}` });
    img.addEventListener("click", () => openFull(callId, photo));
    return img;
  }

  async function openFull(callId, photo) {
    const response = await api(`/api/calls/${callId}/photos/${photo.id}`);
    if (response.ok) window.open(URL.createObjectURL(await response.blob()), "_blank", "noopener");
  }

  async function show(list, callId) {
    const body = await apiJson(`/api/calls/${callId}/photos`);
    const old = [...list.querySelectorAll("img")].map((img) => img.src);
    list.replaceChildren(...(await Promise.all(body.photos.map((photo) => thumbnail(callId, photo)))));
    for (const url of old) URL.revokeObjectURL(url);
    list.dataset.count = String(body.photos.length);
  }

  async function upload(container, callId, file) {
    const status = container.querySelector(".photo-status");
    const form = new FormData();
    form.append("file", file);
    status.textContent = t("photo_sending");
    status.hidden = false;
    try {
      await apiJson(`/api/calls/${callId}/photos`, { method: "POST", body: form });
      status.hidden = true;
      await show(container.querySelector(".photo-list"), callId);
    } catch (error) {
      status.textContent = error.message; // the hub's sentence: too large, not an image, full
    }
  }

  async function attach(container, callId) {
    const list = element("div", { class: "photo-list" });
    const status = element("p", { class: "photo-status", role: "status", hidden: "" });
    container.replaceChildren(list, status);
    const shown = show(list, callId).catch((error) => {
      if (!(error instanceof Andon.Unauthorized)) status.textContent = error.message;
    });
    if (known ?? (await ready())) container.append(camera(container, callId));
    await shown;
  }

  function camera(container, callId) {
    const input = element("input", { type: "file", accept: "image/*", capture: "environment",
      class: "photo-input", "data-call": String(callId) });
    const label = element("label", { class: "photo-take" }, t("take_photo"), input);
    input.addEventListener("change", () => {
      if (input.files.length) upload(container, callId, input.files[0]);
      input.value = "";
    });
    return label;
  }

  return { attach, ready };
})();

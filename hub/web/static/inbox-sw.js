// The inbox's service worker: it keeps the page's shell (the page, its scripts, its style
// and icon) so the inbox opens from a phone's home screen even while the hub is out of
// reach, and lets everything else through untouched: calls, photos and the event stream
// always come live from the API, with the token, never from a cache.
// Served at /inbox-sw.js (hub/web/inbox_app.py) so that its scope can be /inbox.
"use strict";

const SHELL = "andon-inbox-shell-v1";
const PAGE = "/inbox";
const FILES = [PAGE, "/static/andon.css", "/static/andon.js", "/static/photos.js", "/static/inbox.js",
  "/static/icon.svg", "/manifest.webmanifest"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key !== SHELL).map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

// The shell from the network first (a new release shows at once), from the cache when
// the network fails; anything else is not answered here, so the browser fetches it.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  const key = url.pathname === PAGE ? PAGE : url.pathname;
  if (!FILES.includes(key)) return;
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      event.waitUntil(caches.open(SHELL).then((cache) => cache.put(key, copy)));
    }
    return response;
  }).catch(() => caches.match(key).then((cached) => cached || Response.error())));
});

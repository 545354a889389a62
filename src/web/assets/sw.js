// gomtin's service worker: only what installing the app on a phone needs (so that
// "Chia sẻ → gomtin" appears in the share sheet). It keeps no data offline: every
// request goes to the network exactly as without it.
"use strict";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

// guidecast's service worker: the page opens offline, and the sessions a listener played
// (the last SAVED_MAX of them) play offline too, seeking included.
"use strict";

var PAGES = "guidecast-pages-v1";
var SESSIONS = "guidecast-sessions-v1";
var SAVED_MAX = 5;

// The page itself, kept at once: the first visit was not yet seen by this worker.
self.addEventListener("install", function (event) {
  self.skipWaiting();
  event.waitUntil(caches.open(PAGES).then(function (cache) {
    return cache.add("./");
  }).catch(function () { return undefined; }));
});
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

// The page asks to keep a session it played: the whole MP3, under its versioned URL.
self.addEventListener("message", function (event) {
  var url = event.data && event.data.save;
  if (typeof url !== "string") { return; }
  var target = new URL(url, self.location.href);
  if (target.origin !== self.location.origin) { return; }
  var page = event.source && event.source.url;
  event.waitUntil(Promise.all([save(target.href), page ? keepPage(page) : undefined]));
});

// The page a session was played from, as it is now (it lists that session).
function keepPage(url) {
  return caches.open(PAGES).then(function (cache) {
    return fetch(url, {cache: "no-store"}).then(function (reply) {
      return reply.status === 200 ? cache.put(url, reply) : undefined;
    });
  }).catch(function () { return undefined; });
}

function save(url) {
  return caches.open(SESSIONS).then(function (cache) {
    return cache.match(url).then(function (found) {
      if (found) { return cache.delete(url).then(function () { return cache.put(url, found); }); }
      return fetch(url, {cache: "no-store"}).then(function (reply) {
        if (reply.status !== 200) { return undefined; }
        return cache.put(url, reply);
      });
    }).then(function () {
      return cache.keys();
    }).then(function (keys) {
      // Keys keep the order they were put in: the oldest played go first.
      var extra = keys.slice(0, Math.max(0, keys.length - SAVED_MAX));
      return Promise.all(extra.map(function (key) { return cache.delete(key); }));
    });
  }).catch(function () { return undefined; });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") !== -1) { return; }
  if (/\.mp3$/i.test(url.pathname)) {
    event.respondWith(savedOrNetwork(request));
  } else {
    event.respondWith(networkFirst(request));
  }
});

// The page, the feed, covers and transcripts: fresh when the server answers, kept for offline.
function networkFirst(request) {
  return answered(fetch(request)).then(function (reply) {
    if (reply.ok && reply.status === 200) {
      var copy = reply.clone();
      caches.open(PAGES).then(function (cache) { return cache.put(request, copy); });
    }
    return reply;
  }).catch(function () {
    return caches.match(request, {cacheName: PAGES}).then(function (found) {
      return found || new Response("Offline, and this was not saved.\n", {
        status: 503, headers: {"Content-Type": "text/plain; charset=utf-8"}
      });
    });
  });
}

// A session plays from the server while it answers, and from the phone when it does not. (A
// player must not mix the two in one playback: Chrome refuses a range from another source.)
function savedOrNetwork(request) {
  return caches.match(request.url, {cacheName: SESSIONS}).then(function (found) {
    if (!found) { return fetch(request); }
    return answered(fetch(request)).catch(function () {
      return found.blob().then(function (blob) {
        return ranged(blob, request.headers.get("range"));
      });
    });
  });
}

// A fetch that gives up after 4 s without an answer: away from home the server's address may
// not answer at all, and a TCP timeout is minutes.
function answered(fetching) {
  var late = new Promise(function (_, reject) {
    setTimeout(function () { reject(new Error("no answer")); }, 4000);
  });
  return Promise.race([fetching, late]);
}

function ranged(blob, range) {
  var size = blob.size;
  var headers = {"Content-Type": "audio/mpeg", "Accept-Ranges": "bytes"};
  var match = /^bytes=(\d*)-(\d*)$/.exec((range || "").trim());
  if (!match || (match[1] === "" && match[2] === "")) {
    headers["Content-Length"] = String(size);
    return new Response(blob, {status: 200, headers: headers});
  }
  var start, end;
  if (match[1] === "") {
    start = Math.max(0, size - parseInt(match[2], 10));
    end = size - 1;
  } else {
    start = parseInt(match[1], 10);
    end = match[2] === "" ? size - 1 : Math.min(parseInt(match[2], 10), size - 1);
  }
  if (start >= size || start > end) {
    return new Response(null, {status: 416, headers: {"Content-Range": "bytes */" + size}});
  }
  headers["Content-Range"] = "bytes " + start + "-" + end + "/" + size;
  headers["Content-Length"] = String(end - start + 1);
  return new Response(blob.slice(start, end + 1), {status: 206, headers: headers});
}

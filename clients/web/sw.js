/* sw.js: the web client's service worker, for slow and intermittent links.
 * Keeps the client, the catalogue, outlines and every lesson opened (or a
 * whole course, on request) for reading offline; queues a DONE or SUBMIT
 * made offline (IndexedDB) with an idempotency key and replays it when the
 * link is back, so a lost answer never costs a second attempt.
 *   files, lessons, the catalogue, outlines, /api/me: the cache at once,
 *     refreshed behind; the pages hear ("updated") when that differs;
 *   exercise views, progress, next, statements, attempts: the network,
 *     else the cache; POST done and submit: the network, else the queue.
 * MINE (one learner's) is dropped at login, logout and register, and when
 * a refreshed /api/me names another user. */
"use strict";

const SHELL = "campus-shell-v5";   /* the client's files */
const READ = "campus-read-v3";     /* lessons, the same for anyone */
const MINE = "campus-mine-v3";     /* what is one learner's own: dropped at logout */
const FILES = ["/", "/campus.css", "/campus.js", "/lib.js", "/progress.js", "/exercise.js", "/live.js", "/trainer.js", "/offline.js",
  "/i18n/en.json", "/i18n/fr.json", "/i18n/es.json"];
const DB = "campus-offline", STORE = "queue";
let gen = 0;   /* one per session: a refresh begun in another is not kept */

/* The cache that answers a GET at once, if any. */
const cacheFor = (p) => FILES.includes(p) || p === "/index.html" ? SHELL : p.startsWith("/api/lessons/") ? READ
  : p === "/api/me" || /^\/api\/courses(\/[^/]+)?$/.test(p) ? MINE : null;

/* A mark or an answer changes its course's outline (in any language). */
const dropOutline = (u) => caches.open(MINE).then((c) => c.delete("/api/courses/" + u.split("/")[3], { ...IV, ignoreSearch: true }));
/* One (decoded) copy per address; another language is refreshed behind. */
const IV = { ignoreVary: true };

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (ev) => {
  const keep = [SHELL, READ, MINE];
  ev.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => !keep.includes(n)).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

/* ---- the queue ---- */

function db() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: "key" });
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function queueOp(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(STORE, mode);
    const r = fn(t.objectStore(STORE));
    t.oncomplete = () => { d.close(); resolve(r && r.result); };
    t.onerror = () => { d.close(); reject(t.error); };
  });
}

/* The key names the request: the same DONE, or the same answer to the
 * same exercise, queued twice is one entry and one attempt. */
async function keyOf(url, body) {
  const bytes = new TextEncoder().encode(url + "\n" + body);
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return "sw-" + [...h.slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function enqueue(url, text) {
  const key = await keyOf(url, text);
  let doc = {};
  try { doc = text ? JSON.parse(text) : {}; } catch (e) { doc = {}; }
  doc.key = doc.key || key;
  if (url.includes("/api/done/") && !doc.at) doc.at = Date.now();   /* when it was marked */
  await queueOp("readwrite", (s) => s.put({ key, url, body: JSON.stringify(doc), queued: Date.now() }));
  tell({ type: "queued", count: await queued() });
}

const queued = () => queueOp("readonly", (s) => s.count());

let replaying = null;
/* Sends what waits, oldest first. A 2xx or a refusal (4xx other than 401,
 * 408 and 429) settles an entry; a failed link or a 5xx keeps it. */
function replay() {
  if (replaying) return replaying;
  replaying = (async () => {
    const all = (await queueOp("readonly", (s) => s.getAll())) || [];
    all.sort((a, b) => a.queued - b.queued);
    let sent = 0, refused = 0;
    for (const e of all) {
      let r;
      try {
        r = await fetch(e.url, { method: "POST", headers: { "Content-Type": "application/json" }, body: e.body });
      } catch (err) { break; }                    /* still offline */
      const keep = r.status >= 500 || r.status === 401 || r.status === 408 || r.status === 429;
      if (keep) continue;
      await queueOp("readwrite", (s) => s.delete(e.key));
      if (r.ok) { sent++; dropOutline(e.url); } else refused++;
    }
    if (all.length) tell({ type: "replayed", sent, refused, count: await queued() });
  })().finally(() => { replaying = null; });
  return replaying;
}

let down = false;   /* the link failed when last tried */
async function tell(msg) {
  down = msg.type === "offline" || (down && msg.type !== "online");
  for (const c of await self.clients.matchAll({ includeUncontrolled: true })) c.postMessage(msg);
}

/* ---- answers ---- */

const json = (status, doc) => new Response(JSON.stringify(doc), { status,
  headers: { "Content-Type": "application/json; charset=utf-8" } });

function offlineAnswer() {
  tell({ type: "offline" });
  return json(503, { code: 503, error: "you are offline and this page was not saved for offline reading" });
}

/* The cache at once, else the network, which refreshes the cache either way. */
async function swr(ev, req, name) {
  const hit = await (await caches.open(name)).match(req, IV), old = hit && hit.clone(), g = gen, net = fetch(req);
  ev.waitUntil(net.then((r) => refresh(req, r.clone(), old, name, g), () => tell({ type: "offline" })));
  return hit || net.catch(offlineAnswer);
}

async function refresh(req, r, old, name, g) {
  tell({ type: "online" });
  if (!r.ok) return;
  replay();
  const fresh = await r.clone().text(), before = old && await old.text(), p = new URL(req.url).pathname;
  const who = (t) => JSON.parse(t).data.user;
  if (fresh === before || g !== gen) return;
  if (p === "/api/me" && before && who(before) !== who(fresh)) { gen++; await caches.delete(MINE); }
  const c = await caches.open(name);
  await c.delete(req, IV);
  await c.put(req, r);
  if (old && name !== SHELL) tell({ type: "updated", url: p });
}

/* The network, else what the cache kept. (Not the cache after a wait:
 * these answers are a learner's own state, and a stale one shown as fresh,
 * on a link that is merely slow, would mislead more than a slow answer.) */
async function networkFirst(req, cacheName) {
  const cache = await caches.open(cacheName), g = gen;
  try {
    const r = await fetch(req);
    if (r.ok && g === gen) cache.put(req, r.clone());
    tell({ type: "online" });
    if (r.ok) replay();                           /* the link is back */
    return r;
  } catch (e) {
    const hit = await cache.match(req, IV);
    tell({ type: "offline" });
    return hit || offlineAnswer();
  }
}

async function post(req) {
  const text = await req.clone().text();
  try {
    const r = await fetch(req);
    tell({ type: "online" });
    if (r.ok) await dropOutline(new URL(req.url).pathname);
    return r;
  } catch (e) {
    const url = new URL(req.url).pathname;
    await enqueue(url, text);
    if (url.startsWith("/api/done/"))
      return json(202, { code: 202, message: "queued offline: sent as done when the link is back" });
    return json(503, { code: 503, error: "you are offline: your answer is saved on this device and " +
      "will be sent once the link is back (it counts as one attempt)" });
  }
}

/* A new session keeps nothing of the last one. */
async function session(req) {
  gen++;
  await caches.delete(MINE);
  try { return await fetch(req); } finally { gen++; }
}

self.addEventListener("fetch", (ev) => {
  const req = ev.request, url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const p = url.pathname;
  if (req.method === "POST") {
    if (/^\/api\/done\/[^/]+\/[^/]+$/.test(p) || /^\/api\/exercises\/[^/]+\/[^/]+\/submit$/.test(p))
      ev.respondWith(post(req));
    else if (/^\/api\/(login|logout|register)$/.test(p))
      ev.respondWith(session(req));
    return;
  }
  if (req.method !== "GET") return;
  const name = cacheFor(p);
  if (name) ev.respondWith(swr(ev, req, name));
  else if (/^\/api\/exercises\/[^/]+\/[^/]+(\/attempts)?$/.test(p) || /^\/api\/(progress|next)(\/[^/]+)?$/.test(p) ||
           p === "/api/me/statements")
    ev.respondWith(networkFirst(req, MINE));
});

/* ---- messages from the page (offline.js) ---- */

/* A whole course for offline reading: its outline, every lesson, and the
 * exercise view of every quiz and case, as the page asks (q: lang=). */
async function saveCourse(course, q) {
  const read = await caches.open(READ), mine = await caches.open(MINE), arg = (c) => (q ? c + q : "");
  const outlineUrl = "/api/courses/" + encodeURIComponent(course) + arg("?");
  const r = await fetch(outlineUrl);
  if (!r.ok) throw new Error("the outline could not be fetched (" + r.status + ")");
  await mine.put(outlineUrl, r.clone());
  const doc = await r.json();
  let n = 0;
  for (const row of doc.items || []) {
    const id = row.lesson.split("/").map(encodeURIComponent).join("/");
    const urls = [["/api/lessons/" + id + "?format=html" + arg("&"), read]];
    if (row.kind !== "lesson") urls.push(["/api/exercises/" + id + arg("?"), mine]);
    for (const [u, cache] of urls) {
      const a = await fetch(u);
      if (a.ok) await cache.put(u, a);
    }
    n++;
    tell({ type: "saving", course, done: n, total: doc.items.length });
  }
  return n;
}

/* Lessons, outlines and who you are, as the page fetched them before this
 * worker controlled it. */
async function keep(urls) {
  for (const u of urls) {
    const name = cacheFor(u.split("?")[0]);
    if (!name || name === SHELL) continue;
    const cache = await caches.open(name);
    if (await cache.match(u, IV)) continue;
    const r = await fetch(u).catch(() => null);
    if (r && r.ok) await cache.put(u, r);
  }
}

self.addEventListener("message", (ev) => {
  const m = ev.data || {};
  if (m.type === "replay") ev.waitUntil(replay());
  else if (m.type === "count") ev.waitUntil(queued().then((count) => tell({ type: "count", count, offline: down })));
  else if (m.type === "keep") ev.waitUntil(keep(m.urls || []));
  else if (m.type === "save-course")
    ev.waitUntil(saveCourse(m.course, m.q).then((n) => tell({ type: "saved", course: m.course, lessons: n }),
      (e) => tell({ type: "save-failed", course: m.course, error: String(e.message || e) })));
});

self.addEventListener("sync", (ev) => {
  if (ev.tag === "campus-replay") ev.waitUntil(replay());
});

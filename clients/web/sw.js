/* sw.js: the service worker, for slow and intermittent links.
 *   files, lessons, the catalogue, outlines, /api/me: the cache at once,
 *     refreshed behind ("updated" to the pages when it differs);
 *   exercises, attempts, progress, next: the network, else the cache;
 *   POST done and submit: the network, else a queue (IndexedDB) replayed
 *     with an idempotency key: a lost answer never costs a second attempt.
 * MINE (one learner's own) is dropped at login, logout and register, and
 * when /api/me names another user. */
"use strict";

/* v6: the catalogues are .txt; activate drops v5 and its .json. */
const SHELL = "campus-shell-v6", READ = "campus-read-v3", MINE = "campus-mine-v3";
const FILES = ["/", "/campus.css", "/campus.js", "/lib.js", "/progress.js", "/exercise.js", "/live.js", "/trainer.js", "/offline.js",
  "/i18n/en.txt", "/i18n/fr.txt", "/i18n/es.txt"];
const IV = { ignoreVary: true };   /* one (decoded) copy per address; another language is refreshed behind */
let gen = 0;        /* one per session: a refresh begun in another is not kept */
let down = false;   /* the link failed when last tried */

/* The cache that answers a GET at once, if any. */
const cacheFor = (p) => FILES.includes(p) || p === "/index.html" ? SHELL : p.startsWith("/api/lessons/") ? READ
  : p === "/api/me" || /^\/api\/courses(\/[^/]+)?$/.test(p) ? MINE : null;
/* A mark or an answer changes its course's outline (in any language). */
const dropOutline = (p) => caches.open(MINE).then((c) => c.delete("/api/courses/" + p.split("/")[3], { ...IV, ignoreSearch: true }));

addEventListener("install", (ev) => ev.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES)).then(() => skipWaiting())));
addEventListener("activate", (ev) => ev.waitUntil(caches.keys()
  .then((names) => Promise.all(names.filter((n) => ![SHELL, READ, MINE].includes(n)).map((n) => caches.delete(n))))
  .then(() => clients.claim())));

async function tell(msg) {
  down = msg.type === "offline" || (down && msg.type !== "online");
  for (const c of await clients.matchAll({ includeUncontrolled: true })) c.postMessage(msg);
}

/* ---- the queue ---- */

/* One transaction; resolves to the result of fn(store)'s request. */
const queue = (mode, fn) => new Promise((resolve, reject) => {
  const o = indexedDB.open("campus-offline", 1);
  o.onupgradeneeded = () => o.result.createObjectStore("queue", { keyPath: "key" });
  o.onerror = () => reject(o.error);
  o.onsuccess = () => {
    const d = o.result, tx = d.transaction("queue", mode), r = fn(tx.objectStore("queue"));
    tx.oncomplete = () => { d.close(); resolve(r.result); };
    tx.onerror = () => { d.close(); reject(tx.error); };
  };
});
const queued = () => queue("readonly", (s) => s.count());

/* The key names the request: the same DONE, or the same answer to the same
 * exercise, queued twice is one entry and one attempt. */
async function enqueue(url, text) {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(url + "\n" + text)));
  const key = "sw-" + [...h.slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("");
  let doc = {};
  try { doc = (text && JSON.parse(text)) || {}; } catch (e) { /* sent as {} */ }
  doc.key ||= key;
  if (url.startsWith("/api/done/")) doc.at ||= Date.now();   /* when it was marked */
  await queue("readwrite", (s) => s.put({ key, url, body: JSON.stringify(doc), queued: Date.now() }));
  tell({ type: "queued", count: await queued() });
}

let replaying = null;
/* Sends what waits, oldest first. A 2xx or a refusal (4xx but 401, 408 and
 * 429) settles an entry; a failed link or a 5xx keeps it. */
const replay = () => replaying ||= (async () => {
  const all = (await queue("readonly", (s) => s.getAll())).sort((x, y) => x.queued - y.queued);
  let sent = 0, refused = 0;
  for (const e of all) {
    let r;
    try { r = await fetch(e.url, { method: "POST", headers: { "Content-Type": "application/json" }, body: e.body }); } catch (err) { break; }
    if (r.status >= 500 || [401, 408, 429].includes(r.status)) continue;
    await queue("readwrite", (s) => s.delete(e.key));
    if (r.ok) { sent++; dropOutline(e.url); } else refused++;
  }
  if (all.length) tell({ type: "replayed", sent, refused, count: await queued() });
})().finally(() => { replaying = null; });

/* ---- answers ---- */

const json = (status, doc) => new Response(JSON.stringify({ code: status, ...doc }), { status,
  headers: { "Content-Type": "application/json; charset=utf-8" } });
const unsaved = () => json(503, { error: "you are offline and this page was not saved for offline reading" });

/* The cache at once, else the network, whose answer refreshes the cache either way. */
async function swr(ev, req, name) {
  const hit = await (await caches.open(name)).match(req, IV), old = hit && hit.clone(), g = gen, net = fetch(req);
  ev.waitUntil(net.then((r) => refresh(req, r.clone(), old, name, g), () => tell({ type: "offline" })));
  return hit || net.catch(unsaved);
}

async function refresh(req, r, old, name, g) {
  tell({ type: "online" });
  if (!r.ok) return;
  replay();
  const p = new URL(req.url).pathname, fresh = await r.clone().text(), before = old && await old.text();
  if (fresh === before || g !== gen) return;
  const who = (s) => JSON.parse(s).data.user;
  if (p === "/api/me" && before && who(before) !== who(fresh)) { gen++; await caches.delete(MINE); }
  const c = await caches.open(name);
  await c.delete(req, IV);
  await c.put(req, r);
  if (old && name !== SHELL) tell({ type: "updated", url: p });
}

/* The network, else what the cache kept: a learner's own state, stale but
 * shown as fresh on a merely slow link, would mislead more than a wait. */
async function networkFirst(req) {
  const cache = await caches.open(MINE), g = gen;
  try {
    const r = await fetch(req);
    tell({ type: "online" });
    if (r.ok) { if (g === gen) cache.put(req, r.clone()); replay(); }
    return r;
  } catch (e) {
    const hit = await cache.match(req, IV);
    tell({ type: "offline" });
    return hit || unsaved();
  }
}

async function post(req) {
  const p = new URL(req.url).pathname, text = await req.clone().text();
  try {
    const r = await fetch(req);
    tell({ type: "online" });
    if (r.ok) await dropOutline(p);
    return r;
  } catch (e) {
    await enqueue(p, text);
    return p.startsWith("/api/done/") ? json(202, { message: "queued offline: sent as done when the link is back" })
      : json(503, { error: "you are offline: your answer is saved on this device and will be sent once the link is back (it counts as one attempt)" });
  }
}

/* A new session keeps nothing of the last one. */
async function session(req) {
  gen++;
  await caches.delete(MINE);
  try { return await fetch(req); } finally { gen++; }
}

addEventListener("fetch", (ev) => {
  const req = ev.request, url = new URL(req.url), p = url.pathname;
  if (url.origin !== location.origin) return;
  if (req.method === "POST") {
    if (/^\/api\/(done\/[^/]+\/[^/]+|exercises\/[^/]+\/[^/]+\/submit)$/.test(p)) ev.respondWith(post(req));
    else if (/^\/api\/(login|logout|register)$/.test(p)) ev.respondWith(session(req));
    return;
  }
  if (req.method !== "GET") return;
  const name = cacheFor(p);
  if (name) ev.respondWith(swr(ev, req, name));
  else if (/^\/api\/(exercises\/[^/]+\/[^/]+(\/attempts)?|(progress|next)(\/[^/]+)?|me\/statements)$/.test(p)) ev.respondWith(networkFirst(req));
});

/* ---- messages from the page (offline.js) ---- */

/* A whole course for offline reading: its outline, every lesson, and the
 * exercise view of every quiz and case, as the page asks (q: lang=). */
async function saveCourse(course, q) {
  const read = await caches.open(READ), mine = await caches.open(MINE), arg = (sep) => (q ? sep + q : "");
  const outline = "/api/courses/" + encodeURIComponent(course) + arg("?"), r = await fetch(outline);
  if (!r.ok) throw new Error("the outline could not be fetched (" + r.status + ")");
  await mine.put(outline, r.clone());
  const rows = (await r.json()).items || [];
  for (const [n, row] of rows.entries()) {
    const id = row.lesson.split("/").map(encodeURIComponent).join("/");
    for (const [u, cache] of [["/api/lessons/" + id + "?format=html" + arg("&"), read], ["/api/exercises/" + id + arg("?"), mine]].slice(0, row.kind === "lesson" ? 1 : 2)) {
      const got = await fetch(u);
      if (got.ok) await cache.put(u, got);
    }
    tell({ type: "saving", course, done: n + 1, total: rows.length });
  }
  return rows.length;
}

/* What the page fetched before this worker controlled it. */
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

addEventListener("message", (ev) => {
  const m = ev.data || {};
  if (m.type === "replay") ev.waitUntil(replay());
  else if (m.type === "count") ev.waitUntil(queued().then((count) => tell({ type: "count", count, offline: down })));
  else if (m.type === "keep") ev.waitUntil(keep(m.urls || []));
  else if (m.type === "save-course") ev.waitUntil(saveCourse(m.course, m.q).then((lessons) => tell({ type: "saved", course: m.course, lessons }),
    (e) => tell({ type: "save-failed", course: m.course, error: String(e.message || e) })));
});
addEventListener("sync", (ev) => { if (ev.tag === "campus-replay") ev.waitUntil(replay()); });

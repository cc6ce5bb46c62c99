/* campus.js: the catalogue and the lesson reader, over campusd's JSON API.
 * Plain JavaScript, no build step. Routes: #/ courses, #/course/ID,
 * #/lesson/COURSE/LESSON, #/search/WORDS. */
"use strict";

const main = document.getElementById("main");

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function api(path) {
  const r = await fetch("/api/" + path, { credentials: "same-origin" });
  const doc = await r.json();
  if (!r.ok) throw new Error(doc.error || ("HTTP " + r.status));
  return doc;
}

function show(...nodes) {
  main.replaceChildren(...nodes);
  window.scrollTo(0, 0);
}

async function courses() {
  const doc = await api("courses");
  const list = el("ul", { class: "courses" });
  for (const c of doc.items) {
    list.append(el("li", {}, el("a", { href: "#/course/" + c.id }, c.title),
      el("div", { class: "meta" }, `${c.modules} modules · ${c.lessons} lessons · ${c.minutes} minutes`)));
  }
  show(el("h1", {}, "Courses"), list);
}

async function course(id) {
  const doc = await api("courses/" + encodeURIComponent(id));
  const nodes = [el("h1", {}, doc.message)];
  let module = null, list = null;
  for (const row of doc.items) {
    if (row.module !== module) {
      module = row.module;
      list = el("ul", { class: "outline" });
      nodes.push(el("h2", {}, module), list);
    }
    list.append(el("li", {}, el("a", { href: "#/lesson/" + row.lesson }, row.title),
      el("span", { class: "meta" }, ` ${row.minutes} min · ${row.kind}`)));
  }
  show(...nodes);
}

async function lesson(full) {
  const [c, l] = full.split("/");
  const doc = await api(`lessons/${encodeURIComponent(c)}/${encodeURIComponent(l)}?format=html`);
  const article = el("article", { "data-version": doc.data.version });
  article.innerHTML = doc.body;      /* campusd's renderer escapes raw HTML */
  const pager = el("nav", { class: "pager" });
  pager.append(doc.data.prev ? el("a", { href: "#/lesson/" + doc.data.prev, rel: "prev" }, "← Previous") : el("span"));
  pager.append(el("a", { href: "#/course/" + doc.data.course }, "Outline"));
  pager.append(doc.data.next ? el("a", { href: "#/lesson/" + doc.data.next, rel: "next" }, "Next →") : el("span"));
  show(el("p", { class: "meta" }, `${doc.data.module} · ${doc.data.minutes} min`), article, pager);
}

async function search(words) {
  const doc = await api("search?q=" + encodeURIComponent(words));
  const list = el("ul", { class: "outline" });
  for (const r of doc.items) {
    list.append(el("li", {}, el("a", { href: "#/lesson/" + r.lesson }, r.title),
      el("div", { class: "meta" }, r.snippet)));
  }
  show(el("h1", {}, `Search: ${words}`), doc.items.length ? list : el("p", {}, "Nothing found."));
}

async function route() {
  const h = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  try {
    if (h.startsWith("course/")) await course(h.slice(7));
    else if (h.startsWith("lesson/")) await lesson(h.slice(7));
    else if (h.startsWith("search/")) await search(h.slice(7));
    else await courses();
  } catch (e) {
    show(el("p", { class: "error" }, "Sorry: " + e.message));
  }
}

document.getElementById("search").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = new FormData(ev.target).get("q").trim();
  if (q) location.hash = "#/search/" + q;
});
window.addEventListener("hashchange", route);
route();

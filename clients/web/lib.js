/* lib.js: what every page of the web client uses: building elements, calling
 * campusd's JSON API, showing a page, and the one way numbers, scores and
 * counts are written. Text from the server is always set as text. */

export const main = document.getElementById("main");
export const state = { me: null };  /* me: {user, role, reviewsNew} when logged in */

export function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (typeof v === "function") e.addEventListener(k, v);
    else if (v != null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat()) if (c != null && c !== false)
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

/* Calls the API; a body makes it a POST (or the method given). Throws an
 * Error whose message is campusd's own explanation, .code the HTTP status. */
export async function api(path, body, method) {
  const init = { credentials: "same-origin", method: method || (body === undefined ? "GET" : "POST") };
  if (body !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(body);
  }
  let r, doc = {};
  try { r = await fetch("/api/" + path, init); } catch (e) {
    throw Object.assign(new Error("the server cannot be reached; check your connection"), { code: 0 });
  }
  try { doc = await r.json(); } catch (e) { /* not JSON: keep the status */ }
  if (!r.ok) throw Object.assign(new Error(doc.error || "the server answered " + r.status), { code: r.status });
  return doc;
}

export const enc = (id) => id.split("/").map(encodeURIComponent).join("/");
export const say = (text) => { document.getElementById("say").textContent = text; };

export function show(title, ...nodes) {
  document.title = title ? title + " · Campus" : "Campus";
  main.replaceChildren(...nodes.filter(Boolean));
  window.scrollTo(0, 0);
  const h = main.querySelector("h1");
  if (h) { h.tabIndex = -1; h.focus({ preventScroll: true }); }
}

export function fail(where, e) {
  where.replaceChildren(el("p", { class: "error", role: "alert" }, "Sorry: " + e.message));
}

/* Plain text with blank lines between paragraphs, as paragraphs. */
export function paras(text) {
  return String(text || "").trim().split(/\n\s*\n/).filter(Boolean)
    .map((p) => el("p", {}, p.replace(/\s*\n\s*/g, " ")));
}

/* "1 attempt", "2 attempts". */
export const plural = (n, one, many) => `${n} ${+n === 1 ? one : many || one + "s"}`;

/* The one rule for scores, as campusd writes them in its own text (and so
 * the terminal client shows them): one decimal, a tie to the even digit as
 * C's printf("%.1f") rounds an exact half. */
export function score(s) {
  const x = Number(s);
  if (!isFinite(x)) return String(s);
  const y = x * 10, f = Math.floor(y);
  const n = y - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(y);
  return (n / 10).toFixed(1);
}

/* Whole numbers with thousands separators (11000 -> 11,000), in English as
 * the courses are written. */
export const num = (v) => Number(v).toLocaleString("en");

/* A machine name as words: intensive_service_users -> Intensive service users. */
export const words = (s) => { const t = String(s).replace(/[_-]+/g, " ").trim(); return t.charAt(0).toUpperCase() + t.slice(1); };

/* A progress bar: done of total, with the numbers in words beside it. */
export function bar(done, total, label, unit) {
  const pct = total ? Math.round(100 * done / total) : 0;
  const fill = el("span");
  fill.style.width = pct + "%";
  return el("div", { class: "progress" },
    el("div", { class: "bar", role: "progressbar", "aria-label": label, "aria-valuemin": 0,
      "aria-valuemax": 100, "aria-valuenow": pct, "aria-valuetext": `${done} of ${total} done` }, fill),
    el("span", { class: "meta" }, `${done} of ${total} ${unit || "lessons"} done · ${pct}%`));
}

const outlines = {};            /* course id -> COURSE answer */
const catalogue = { doc: null };

/* A course's outline; for a learner it carries done and opens per row, so it
 * is asked again when fresh is set. */
export async function outline(course, fresh) {
  if (fresh || !outlines[course]) outlines[course] = await api("courses/" + encodeURIComponent(course));
  return outlines[course];
}

export function forget() { for (const k in outlines) delete outlines[k]; }

export async function courses() {
  if (!catalogue.doc) catalogue.doc = await api("courses");
  return catalogue.doc;
}

/* A course's title by id, or the id. */
export async function courseTitle(id) {
  try { const c = (await courses()).items.find((x) => x.id === id); return c ? c.title : id; } catch (e) { return id; }
}

/* A table from rows of cells; head is the header row. */
export function table(head, rows, cls) {
  return el("table", { class: cls || "data" },
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => c instanceof Node && c.tagName === "TD" ? c : el("td", {}, c))))));
}

export function when(iso) { const t = Date.parse(iso); return isNaN(t) ? String(iso || "") : new Date(t).toLocaleString(); }

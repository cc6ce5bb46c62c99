/* lib.js: what every page uses: elements, the JSON API, showing a page, and
 * the one way scores, numbers and counts are written. */

export const main = document.getElementById("main");
export const state = { me: null };  /* me: {user, role, reviewsNew} when logged in */

/* el("p.meta", {attrs}, ...kids): attrs may be left out. */
export function el(tag, attrs, ...kids) {
  const [t, ...cls] = tag.split(".");
  const e = document.createElement(t);
  if (cls.length) e.className = cls.join(" ");
  if (!attrs || typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs)) { kids.unshift(attrs); attrs = {}; }
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") e.addEventListener(k, v);
    else if (v != null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat(9)) if (c != null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}
export const a = (href, ...kids) => el("a", { href }, ...kids);
export const btn = (label, click, cls) => el("button", { type: "button", class: cls, click }, label);
export const field = (id, label, input, hint) => el("div.field", el("label", { for: id }, label), input, hint && el("p.hint", hint));
export const status = () => el("div", { role: "status" });
export const onSubmit = (form, fn) => { form.addEventListener("submit", (ev) => { ev.preventDefault(); fn(); }); return form; };
export const E = encodeURIComponent;
export const enc = (id) => id.split("/").map(E).join("/");
export const say = (text) => { document.getElementById("say").textContent = text; };

/* A body makes it a POST; throws campusd's error text, .code the status. */
export async function api(path, body) {
  const init = { credentials: "same-origin", method: body === undefined ? "GET" : "POST" };
  if (body !== undefined) Object.assign(init, { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  let r, doc = {};
  try { r = await fetch("/api/" + path, init); } catch (e) {
    throw Object.assign(new Error("the server cannot be reached; check your connection"), { code: 0 });
  }
  try { doc = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) throw Object.assign(new Error(doc.error || "the server answered " + r.status), { code: r.status });
  return doc;
}

export function show(title, ...nodes) {
  document.title = title ? title + " · Campus" : "Campus";
  main.replaceChildren(...nodes.filter(Boolean));
  window.scrollTo(0, 0);
  const h = main.querySelector("h1");
  if (h) { h.tabIndex = -1; h.focus({ preventScroll: true }); }
}

export const fail = (where, e) => where.replaceChildren(el("p.error", { role: "alert" }, "Sorry: " + e.message));

/* Text with blank lines between paragraphs, as paragraphs. */
export const paras = (text) => String(text || "").trim().split(/\n\s*\n/).filter(Boolean).map((p) => el("p", p.replace(/\s*\n\s*/g, " ")));

export const plural = (n, one) => `${n} ${+n === 1 ? one : one + "s"}`;

/* The one rule for scores, as campusd's text (so the terminal) writes them:
 * one decimal, an exact half to the even digit as printf("%.1f"). */
export function score(s) {
  const x = Number(s), y = x * 10, f = Math.floor(y);
  if (!isFinite(x)) return String(s);
  return ((y - f === 0.5 ? f + (f % 2) : Math.round(y)) / 10).toFixed(1);
}

export const num = (v) => Number(v).toLocaleString("en");     /* 11000 -> 11,000 */
/* intensive_service_users -> Intensive service users */
export const words = (s) => { const t = String(s).replace(/[_-]+/g, " ").trim(); return t.charAt(0).toUpperCase() + t.slice(1); };
export const when = (iso) => { const t = Date.parse(iso); return isNaN(t) ? String(iso || "") : new Date(t).toLocaleString(); };

export function bar(done, total, label) {
  const pct = total ? Math.round(100 * done / total) : 0, fill = el("span");
  fill.style.width = pct + "%";
  return el("div.progress", el("div.bar", { role: "progressbar", "aria-label": label, "aria-valuemin": 0,
    "aria-valuemax": 100, "aria-valuenow": pct, "aria-valuetext": `${done} of ${total} done` }, fill),
  el("span.meta", `${done} of ${total} lessons done · ${pct}%`));
}

const outlines = {};            /* course id -> COURSE answer */
let catalogue = null;
/* A course's outline; a learner's has done and opens per row: fresh asks again. */
export async function outline(course, fresh) {
  if (fresh || !outlines[course]) outlines[course] = await api("courses/" + E(course));
  return outlines[course];
}
export function forget(all) { if (all) catalogue = null; for (const k in outlines) delete outlines[k]; }
export async function courses() { return catalogue || (catalogue = await api("courses")); }
export async function titles() { try { return Object.fromEntries((await courses()).items.map((c) => [c.id, c.title])); } catch (e) { return {}; } }
export const courseTitle = async (id) => (await titles())[id] || id;

/* A table: header row, rows of cells (a <td> given stays). */
export const table = (head, rows, cls) => el("table", { class: cls || "data" },
  el("thead", el("tr", head.map((h) => el("th", { scope: "col" }, h)))),
  el("tbody", rows.map((r) => el("tr", r.map((c) => c instanceof Node && c.tagName === "TD" ? c : el("td", c))))));

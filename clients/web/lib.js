/* lib.js: what every page uses: strings in the page's language, elements,
 * the JSON API, showing a page, and how scores, numbers and dates are
 * written (Intl). */

export const main = document.getElementById("main");
export const state = { me: null, page: 0 };  /* me: {user, role, reviewsNew, lang} when logged in */

/* ---- languages ---- */
export const LANGS = { en: "English", fr: "Français", es: "Español" };
export let lang = "en";
let L = {}, plurals, nf, sf, df, dd, dn;
/* RFC 4647 lookup of each tag in turn: fr-CA, then fr; English when none. */
export const lookup = (tags) => {
  for (const tag of tags) for (let s = String(tag).toLowerCase(); s; s = s.replace(/-?[^-]*$/, "")) if (s in LANGS) return s;
  return "en";
};
/* A catalogue (i18n/LANG.txt) is lines of key=value, "#" a comment;
 * key.one=, key.other=... are a plural's forms, as Intl.PluralRules names them. */
const parse = (text) => {
  const c = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf("="), k = line.slice(0, i), v = line.slice(i + 1), p = /^(.+)\.(zero|one|two|few|many|other)$/.exec(k);
    if (i < 1 || line[0] === "#") continue;
    if (p) (c[p[1]] ||= {})[p[2]] = v; else c[k] = v;
  }
  return c;
};
/* Only this language's catalogue is fetched; on failure the page keeps the one it has. */
export async function setLang(l) {
  if (l !== lang || !L.dir) {
    try { L = parse(await (await fetch(`i18n/${l}.txt`)).text()); lang = l; catalogue = null; } catch (e) { if (!L.dir) throw e; }
  }
  Object.assign(document.documentElement, { lang, dir: L.dir });
  plurals = new Intl.PluralRules(lang);
  nf = new Intl.NumberFormat(lang);
  sf = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1, roundingMode: "halfEven" });
  df = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  dd = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" });
  dn = new Intl.DisplayNames(lang, { type: "language" });
}
/* The string of key k, {0}, {1}... filled with v (numbers through Intl); an
 * entry {one, other, ...} is chosen by Intl.PluralRules on v[0]. */
export function t(k, ...v) {
  let s = L[k] ?? k;
  if (typeof s === "object") s = s[plurals.select(+v[0])] ?? s.other;
  return s.replace(/\{(\d)\}/g, (_, i) => (typeof v[i] === "number" ? nf.format(v[i]) : v[i] ?? ""));
}
/* The string of key k with nodes (links) in place of {0}, {1}...: a list for el(). */
export const tn = (k, ...nodes) => t(k, "{0}", "{1}").split(/\{(\d)\}/).map((s, i) => (i % 2 ? nodes[s] : s));
/* A GET names the page's language if it is not English or not what the
 * server would choose unasked (the account's, else Accept-Language). */
const implied = () => (state.me && state.me.lang) || lookup(navigator.languages || []);
export const langArg = (l = lang) => (l === "en" && implied() === "en" ? "" : "lang=" + l);
const url = (path, q) => "/api/" + path + (q ? (path.includes("?") ? "&" : "?") + q : "");

/* ---- elements ---- */
/* el("p.meta", {attrs}, ...kids): attrs may be left out; a function is a listener. */
export function el(tag, attrs, ...kids) {
  const [n, ...cls] = tag.split("."), e = document.createElement(n);
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
/* A labelled input, with its hint tied to it. */
export const field = (id, label, input, hint) => {
  if (hint) input.setAttribute("aria-describedby", id + "-hint");
  return el("div.field", el("label", { for: id }, label), input, hint && el("p.hint", { id: id + "-hint" }, hint));
};
export const onSubmit = (form, fn) => { form.addEventListener("submit", (ev) => { ev.preventDefault(); fn(); }); return form; };
/* A form of kids with a status line at its end: run(out) says in out how it went. */
export const form = (tag, kids, run) => { const out = el("div", { role: "status" }); return onSubmit(el(tag, kids, out), () => run(out)); };
export const ops = (list) => list.map(([k, s]) => el("option", { value: k }, s ?? k));
export const crumbs = (...links) => el("nav.crumbs", { "aria-label": t("crumbs") }, links.flatMap((l, i) => (i ? [" › ", l] : [l])));
export const E = encodeURIComponent;
export const enc = (id) => id.split("/").map(E).join("/");
export const say = (text) => { document.getElementById("say").textContent = text; };

/* A cold start's GETs, begun before their page asks; api() takes each once. */
let early = {};
export const prefetch = (l, paths) => { early = {}; for (let p of paths) early[p = url(p, langArg(l))] = fetch(p); };

/* A body makes it a POST; throws campusd's error text, .code the status. */
export async function api(path, body) {
  const post = body !== undefined, u = url(path, !post && langArg()), got = !post && early[u];
  let r, doc = {};
  delete early[u];
  try {
    r = await (got || fetch(u, post ? { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) } : {}));
  } catch (e) { throw Object.assign(new Error(t("unreachable")), { code: 0 }); }
  try { doc = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) throw Object.assign(new Error(doc.error || t("answered", r.status)), { code: r.status });
  return doc;
}

/* route() numbers its pages: one that waits on the network takes its number
 * (const live = current()) and draws only if no later page has begun. */
export const current = () => { const n = state.page; return () => n === state.page; };

export function show(title, ...nodes) {
  document.title = title ? title + " · Campus" : "Campus";
  main.replaceChildren(...nodes.filter(Boolean));
  scrollTo(0, 0);
  const h = main.querySelector("h1");
  if (h) { h.tabIndex = -1; h.focus({ preventScroll: true }); }
}

export const fail = (where, e) => where.replaceChildren(el("p.error", { role: "alert" }, t("sorry", e.message)));
export const note = (where, text) => where.replaceChildren(el("p.note", text));
/* Text with blank lines between paragraphs, as paragraphs. */
export const paras = (text) => String(text || "").trim().split(/\n\s*\n/).filter(Boolean).map((p) => el("p", p.replace(/\s*\n\s*/g, " ")));

/* Scores as campusd (so the terminal) writes them: one decimal, a half to
 * the even digit, the language's decimal sign. */
export const score = (s) => (s !== "" && isFinite(s) ? sf.format(s) : String(s));
export const num = (v) => nf.format(v);    /* 11000 -> 11,000 or 11 000 */
export const pct = (p) => t("pct", +p);
/* intensive_service_users -> Intensive service users */
export const words = (s) => { const w = String(s).replace(/[_-]+/g, " ").trim(); return w.charAt(0).toUpperCase() + w.slice(1); };
/* A time as the language writes it; dates (2025-01-06) inside text as well. */
export const when = (iso) => (isNaN(Date.parse(iso)) || /^\d{4}-\d\d-\d\d$/.test(iso) ? day(iso) : df.format(Date.parse(iso)));
export const day = (s) => String(s ?? "").replace(/\b\d{4}-\d\d-\d\d\b(?!T)/g, (d) => dd.format(new Date(d + "T00:00Z")));
/* A language's name in the page's language: fr -> French, francés. */
export const langName = (l) => { try { return dn.of(l); } catch (e) { return l; } };
/* A lesson or course in another language than asked says so. */
export const served = (d) => d && d.asked && el("p.note", t("fellBack", langName(d.asked), langName(d.lang)));

export function bar(done, total, label) {
  const p = total ? Math.round(100 * done / total) : 0, fill = el("span");
  fill.style.width = p + "%";
  return el("div.progress", el("div.bar", { role: "progressbar", "aria-label": label, "aria-valuemin": 0,
    "aria-valuemax": 100, "aria-valuenow": p, "aria-valuetext": t("ofDone", done, total) }, fill),
  el("span.meta", t("lessonsDone", done, total, pct(p))));
}

const outlines = {};            /* course id -> COURSE answer, in the page's language */
let catalogue = null;
/* A course's outline; a learner's has done and opens per row: fresh asks again. */
export async function outline(course, fresh) {
  if (fresh || !outlines[course]) outlines[course] = await api("courses/" + E(course));
  return outlines[course];
}
export function forget(all) { if (all) catalogue = null; for (const k in outlines) delete outlines[k]; }
export const courses = async () => catalogue ||= await api("courses");
/* Course id -> title; {} when the catalogue cannot be had. */
export const titles = () => courses().then((d) => Object.fromEntries(d.items.map((c) => [c.id, c.title])), () => ({}));
export const courseTitle = async (id) => (await titles())[id] || id;
/* COURSE's status text is the course title, then " lang=TAG [asked=TAG]". */
export const courseName = (doc) => doc.message.replace(/ lang=\S+( asked=\S+)?$/, "");
/* A lesson's HTML (rendered and escaped by campusd) in an article of its language. */
export const article = (doc) => Object.assign(el("article", { lang: doc.data.lang, "data-version": doc.data.version }), { innerHTML: doc.body });

/* A table: header row, rows of cells (a <td> given stays). */
export const table = (head, rows, cls = "data") => el("table", { class: cls },
  el("thead", el("tr", head.map((h) => el("th", { scope: "col" }, h)))),
  el("tbody", rows.map((r) => el("tr", r.map((c) => (c instanceof Node && c.tagName === "TD" ? c : el("td", c)))))));
/* A table that scrolls by itself, reachable by keyboard. */
export const scroll = (label, node) => el("div.scroll", { tabindex: 0, role: "region", "aria-label": label }, node);

/* campus.js: the router, the reading pages (#/, #/course/ID, #/lesson/C/L,
 * #/search/Q), #/login, #/register and the language switch; the other pages'
 * modules load when first needed, offline.js once the first page is drawn.
 * Server text is set as text; only a lesson's body, rendered and escaped by
 * campusd, is HTML. */
import { el, a, btn, field, onSubmit, E, api, enc, say, show, bar, num, words, day, t, outline, forget, courses, titles,
  crumbs, article, state, current, served, courseName, tn, langName, LANGS, lang, lookup, setLang, prefetch } from "./lib.js";

const me = () => state.me;
const $ = (id) => document.getElementById(id);
const isDone = (r) => r.done && r.done !== "no";      /* an outline's done column: yes, passed or no */
const doneOf = (rows) => ({ done: rows.filter(isDone).length, total: rows.length });
const loginNote = (k) => el("p.note", tn(k, a("#/login", t("loginLink")), a("#/register", t("registerLink"))));
const inCourse = (p) => bar(p.done, p.total, t("inCourse"));
const kindOf = (r) => r && r.kind !== "lesson" && " · " + t("item-" + r.kind);

async function continueLink(course) {
  try {
    const d = me() && (await api(course ? "next/" + E(course) : "next")).data;
    return d && d.lesson ? el("p.continue", el("a.button", { href: "#/lesson/" + d.lesson }, t("continue", d.title))) : null;
  } catch (e) { return null; }
}

async function catalogue() {
  const live = current();
  const [doc, prog, cont] = await Promise.all([courses(), me() && api("progress").catch(() => null), continueLink()]);
  const by = Object.fromEntries(((prog && prog.items) || []).map((p) => [p.course, p]));
  const title = Object.fromEntries(doc.items.map((c) => [c.id, c.title]));
  if (!live()) return;
  show(t("courses"), el("h1", t("courses")), cont, !me() && loginNote("toTrack"),
    /* Suggested routes through the courses (programmes.yaml), in their order. */
    ...((doc.data && doc.data.programmes) || []).map((p) => el("section.programme", el("h2", t("programme", p.title)),
      el("p", p.summary), el("ol", p.courses.map((c) => el("li", a("#/course/" + c, title[c] || c)))))),
    el("ul.courses", doc.items.map((c) => el("li", el("h2", a("#/course/" + c.id, c.title)),
      el("div.meta", t("modules", +c.modules), " · ", t("lessons", +c.lessons), " · ", t("minutes", +c.minutes)),
      by[c.id] && bar(+by[c.id].done, +by[c.id].total, t("progressIn", c.title))))));
}

async function course(id) {
  const live = current();
  const [doc, cont] = await Promise.all([outline(id, true), continueLink(id)]);
  const mods = [];
  for (const r of doc.items) {
    if (!mods.length || mods.at(-1).title !== r.module) mods.push({ title: r.module, rows: [] });
    mods.at(-1).rows.push(r);
  }
  const name = courseName(doc);
  if (!live()) return;
  show(name, el("h1", name), served(doc.data), me() && inCourse(doneOf(doc.items)), cont, ...mods.map(({ title, rows }) => {
    const opens = rows[0].opens;
    return el("section", { class: "module" + (opens ? " locked" : "") }, el("h2", title),
      opens ? el("p.note.lock", t("lockedUntil", day(opens))) : me() && bar(doneOf(rows).done, rows.length, t("progressIn", title)),
      el("ol.outline", rows.map((r) => el("li", { class: isDone(r) && "done" },
        el("span.mark", { "aria-hidden": "true" }, isDone(r) ? "✓" : opens ? "🔒" : ""),
        opens ? el("span", r.title) : a("#/lesson/" + r.lesson, r.title),
        el("span.meta", " ", t("min", +r.minutes), kindOf(r),
          r.done === "passed" ? " · " + t("passed") : isDone(r) ? " · " + t("done") : "", opens && " · " + t("locked"))))));
  }));
}

async function lesson(full) {
  const live = current();
  const [doc, out] = await Promise.all([api(`lessons/${enc(full)}?format=html`), outline(full.split("/")[0]).catch(() => null)]);
  const d = doc.data, art = article(doc), row = out && out.items.find((r) => r.lesson === full);
  let h1 = art.querySelector("h1");
  if (!h1) art.prepend(h1 = el("h1", d.title));
  /* Data tables for readers: column names in words, 11000 as 11,000. */
  for (const th of art.querySelectorAll("table.data th")) th.textContent = words(th.textContent);
  for (const td of art.querySelectorAll("table.data td.num")) {
    const v = td.textContent.trim();
    if (/^-?\d{4,}(\.\d+)?$/.test(v)) td.textContent = num(v);
  }
  h1.after(el("p.meta", t("min", d.minutes), kindOf(row), " · ", langName(d.lang)), served(d) || "");
  const progress = el("div.course-progress"), actions = el("div.actions");
  const showBar = () => { if (out && me()) { const p = doneOf(out.items); progress.replaceChildren(inCourse(p)); return p; } };
  if (me()) {
    const b = el("button", { type: "button" });
    const mark = (done) => {
      Object.assign(b, { className: done ? "done" : "primary", textContent: t(done ? "isDone" : "markDone") });
      b.setAttribute("aria-pressed", done);
    };
    mark(!!row && isDone(row));
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await api("done/" + enc(full), {});
        mark(true);
        if (row && row.done === "no") row.done = "yes";
        const p = showBar();
        say(p ? t("markedCount", p.done, p.total) : t("marked"));
      } catch (e) { b.after(el("p.error", { role: "alert" }, t("cannotMark", e.message))); }
      b.disabled = false;
    });
    actions.append(b, progress);
    showBar();
  } else actions.append(loginNote("toMark"));
  const go = (id, rel, text) => (id ? el("a", { href: "#/lesson/" + id, rel }, text) : el("span"));
  if (!live()) return;
  show(d.title, crumbs(a("#/", t("courses")), a("#/course/" + d.course, out ? courseName(out) : d.course), d.module),
    art, actions, el("nav.pager", { "aria-label": t("lessonsNav") }, go(d.prev, "prev", t("prev")), a("#/course/" + d.course, t("outline")), go(d.next, "next", t("next"))));
  let spot = art.querySelector("[data-exercise]");
  if (!spot && kindOf(row)) art.append(spot = el("section.exercise"));
  if (spot) (await import("./exercise.js")).exercise(spot, spot.getAttribute("data-exercise") || full);
}

async function search(q) {
  const live = current();
  const [doc, ti] = await Promise.all([api("search?q=" + E(q)), titles()]);
  const terms = q.split(/\s+/).filter((w) => w.length > 1).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp(`(${terms.join("|")})`, "gi");
  const marked = (text) => (terms.length ? String(text).split(re).map((s, i) => (i % 2 ? el("mark", s) : s)) : text);
  if (!live()) return;
  show(t("search"), el("h1", t("searchFor", q)), doc.items.length ? el("ul.outline.hits", doc.items.map((r) => {
    const c = r.lesson.split("/")[0];
    return el("li", el("a", { href: "#/lesson/" + r.lesson, lang: r.lang }, marked(r.title)), el("div.meta.course-name", ti[c] || c),
      el("div.snippet", { lang: r.lang }, marked(r.snippet)));
  })) : el("p", t("nothingFound")));
}

/* The header: account links and the language switch. */
function chrome() {
  const m = me(), tr = m && m.role !== "learner", sw = $("lang");
  $("account").replaceChildren(...(m ? [tr && a("#/reviews", t("reviews")), tr && a("#/cohorts", t("cohorts")),
    a("#/progress", t("myProgress")), el("span.who", m.user, tr && ` (${t("role-" + m.role)})`),
    m.reviewsNew && el("strong", " ", t("newReviews", m.reviewsNew), " "), btn(t("logOut"), logout, "link")]
    : [a("#/login", t("logIn")), a("#/register", t("register"))]).filter(Boolean));
  $("account").setAttribute("aria-label", t("account"));
  document.querySelector(".skip").textContent = t("skip");
  Object.assign(document.querySelector("#search input"), { placeholder: t("searchLessons"), ariaLabel: t("searchLessons") });
  sw.setAttribute("aria-label", t("language"));
  if (!sw.length) sw.append(...Object.entries(LANGS).map(([k, n]) => el("option", { value: k, lang: k }, n)));
  sw.value = lang;
}

/* wait: for the account's language too (at login); else the page draws at
 * once and redraws if the account's language, when it comes, is another. */
async function whoami(wait) {
  try {
    const d = (await api("me")).data, u = d && d.user;
    state.me = u ? { user: u, role: d.role, reviewsNew: +(d["reviews-new"] || 0) } : null;
    const got = u && api("lang").then((r) => {
      if (!me() || me().user !== u) return;
      const was = chosen();
      me().lang = r.data.lang;
      if (!wait && chosen() !== was) relang().then(route);
    }, () => {});
    if (wait) await got;
  } catch (e) { state.me = null; }
}

/* The language: the account's when logged in, else the one chosen in this
 * browser, else navigator.languages, else English. */
const chosen = () => {
  const m = me() && me().lang;
  let s = null;
  try { s = localStorage.getItem("campus.lang"); } catch (e) { /* storage off */ }
  return m in LANGS ? m : s in LANGS ? s : lookup(navigator.languages || []);
};
async function relang() {
  await setLang(chosen());
  forget();
  chrome();
}

function accountForm(reg) {
  const err = el("p.error", { role: "alert" }), k = (r, l) => t(reg ? r : l);
  const name = el("input", { id: "name", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false",
    pattern: "[a-z0-9._\\-]{3,32}" });
  const pw = el("input", { id: "password", type: "password", required: true, autocomplete: reg ? "new-password" : "current-password", minlength: reg && 10 });
  const button = el("button.primary", k("createAccount", "logIn"));
  const form = onSubmit(el("form.account", field("name", t("name"), name, reg && t("nameHint")),
    field("password", t("password"), pw, reg && t("passwordHint")), err, button,
    el("p", k("haveAccount", "newHere"), " ", a(reg ? "#/login" : "#/register", k("logIn", "register")))), async () => {
    err.textContent = "";
    button.disabled = true;
    const creds = { name: name.value.trim(), password: pw.value };
    try {
      if (reg) await api("register", creds);
      await api("login", creds);
      await whoami(true);
      await relang();
      location.hash = sessionStorage.getItem("campus.back") || "#/";
    } catch (e) {
      err.textContent = e.message;
      (e.code === 409 || e.code === 400 ? name : pw).focus();
    }
    button.disabled = false;
  });
  show(k("register", "logIn"), el("h1", k("createTitle", "logIn")), form);
}

async function logout() {
  try { await api("logout", {}); } catch (e) { /* the cookie goes either way */ }
  state.me = null;
  await relang();
  route();
}

let leaving = null;      /* a page's clean-up (a live view's event stream) */
let typed = false;       /* the learner typed into this page */

async function route() {
  const h = decodeURIComponent(location.hash.replace(/^#\/?/, "")), p = (s) => h.startsWith(s) && h.slice(s.length);
  typed = false;
  state.page++;
  const live = current(), account = h === "login" || h === "register";
  if (!account) sessionStorage.setItem("campus.back", location.hash || "#/");
  if (leaving) leaving();
  leaving = null;
  try {
    if (p("course/")) await course(p("course/"));
    else if (p("lesson/")) await lesson(p("lesson/"));
    else if (p("search/")) await search(p("search/"));
    else if (account) accountForm(h === "register");
    else if (/^(progress|join|reviews|cohort|live\/)/.test(h) && !me()) location.hash = "#/login";
    else if (h === "progress" || h === "join") await (await import("./progress.js"))[h]();
    else if (/^(reviews|cohorts|cohort\/)/.test(h)) await (await import("./trainer.js")).page(h);
    else if (p("live/")) leaving = await (await import("./live.js")).page(p("live/"));
    else await catalogue();
  } catch (e) {
    if (live()) show(t("error"), el("h1", t(e.code === 404 ? "notFound" : "wentWrong")),
      el("p.error", { role: "alert" }, t("sorry", e.message)), el("p", a("#/", t("backToCourses"))));
  }
}

onSubmit($("search"), () => {
  const q = new FormData($("search")).get("q").trim();
  if (q) location.hash = "#/search/" + q;
});
/* A switch is kept in this browser, and in the account when logged in. */
$("lang").addEventListener("change", async (ev) => {
  const l = ev.target.value;
  try { localStorage.setItem("campus.lang", l); } catch (e) { /* storage off */ }
  if (me()) {
    try { await api("lang", { lang: l }); me().lang = l; } catch (e) { me().lang = null; }
  }
  await relang();
  await route();
  say(t("languageSet", LANGS[l]));
});
document.querySelector(".skip").addEventListener("click", (ev) => { ev.preventDefault(); $("main").focus(); });
addEventListener("hashchange", route);
$("main").addEventListener("input", () => { typed = true; });
/* sw.js refreshed an answer and it differs: the account again; a reading
 * page where it was, unless typed into or only the account changed. */
if (navigator.serviceWorker) navigator.serviceWorker.addEventListener("message", async ({ data: m }) => {
  if (!m || m.type !== "updated") return;
  const was = me() && me().user;
  if (m.url === "/api/me") {
    await whoami();
    chrome();
    if ((me() && me().user) === was) return;
  }
  if (typed || !/^(#\/?)?((course|lesson)\/|$)/.test(location.hash)) return;
  forget(1);
  const y = scrollY;
  await route();
  scrollTo(0, y);
});
/* A start asks at once, in the browser's language (whoami redraws in the
 * account's), for its page's data beside its catalogue and /api/me. */
const first = chosen(), h = location.hash, l = /^#\/lesson\/(([^/]+)\/.+)/.exec(h), c = /^#\/course\/([^/]+)$/.exec(h);
prefetch(first, l ? [`lessons/${l[1]}?format=html`, "courses/" + l[2]] : c ? ["courses/" + c[1]] : /^#?\/?$/.test(h) ? ["courses"] : []);
Promise.all([whoami(), setLang(first)]).then(relang).then(route).finally(() => { prefetch(lang, []); if (navigator.serviceWorker) import("./offline.js"); });

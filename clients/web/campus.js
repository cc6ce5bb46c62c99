/* campus.js: the Campus web client over campusd's JSON API. Plain JavaScript
 * modules, no build step. This file routes and shows the learner's pages:
 * #/ catalogue, #/course/ID, #/lesson/COURSE/LESSON, #/search/WORDS,
 * #/progress, #/join, #/login, #/register. The exercise (exercise.js), the
 * trainer's pages (trainer.js: #/reviews, #/cohorts, #/cohort/ID) and live
 * sessions (live.js: #/live/ID) load when first needed. Text from the
 * server is always set as text; only a lesson's body, which campusd renders
 * and escapes, is HTML. */
import { el, api, enc, say, show, fail, bar, num, words, plural, score, when, outline, forget,
  courses as catalogueDoc, courseTitle, table, state } from "./lib.js";

const trainer = () => state.me && state.me.role !== "learner";

/* "Continue where I left off": a link to the next lesson, or nothing. */
async function continueLink(course) {
  if (!state.me) return null;
  try {
    const doc = await api(course ? "next/" + encodeURIComponent(course) : "next");
    if (!doc.data || !doc.data.lesson) return null;
    return el("p", { class: "continue" }, el("a", { class: "button", href: "#/lesson/" + doc.data.lesson },
      "Continue where you left off: ", doc.data.title));
  } catch (e) { return null; }
}

/* Lessons done of all, from an outline's done column (a passed quiz or case
 * counts, as PROGRESS counts it). */
function counted(rows) {
  return { done: rows.filter((r) => r.done && r.done !== "no").length, total: rows.length };
}

/* ---- pages ---- */

async function catalogue() {
  const [doc, prog, cont] = await Promise.all([catalogueDoc(),
    state.me ? api("progress").catch(() => null) : null, continueLink()]);
  const by = {};
  for (const p of (prog && prog.items) || []) by[p.course] = p;
  const list = el("ul", { class: "courses" });
  for (const c of doc.items) {
    const p = by[c.id];
    list.append(el("li", {}, el("h2", {}, el("a", { href: "#/course/" + c.id }, c.title)),
      el("div", { class: "meta" }, `${plural(c.modules, "module")} · ${plural(c.lessons, "lesson")} · ${c.minutes} minutes`),
      p ? bar(+p.done, +p.total, "Progress in " + c.title) : null));
  }
  show("Courses", el("h1", {}, "Courses"), cont,
    state.me ? null : el("p", { class: "note" }, el("a", { href: "#/login" }, "Log in"), " or ",
      el("a", { href: "#/register" }, "register"), " to keep track of your progress."), list);
}

/* Groups an outline's rows by module, keeping course order. */
function modules(rows) {
  const out = [];
  for (const r of rows) {
    if (!out.length || out[out.length - 1].title !== r.module) out.push({ title: r.module, rows: [] });
    out[out.length - 1].rows.push(r);
  }
  return out;
}

async function course(id) {
  const [doc, cont] = await Promise.all([outline(id, true), continueLink(id)]);
  const nodes = [el("h1", {}, doc.message)];
  if (state.me) { const p = counted(doc.items); nodes.push(bar(p.done, p.total, "Progress in this course")); }
  if (cont) nodes.push(cont);
  for (const m of modules(doc.items)) {
    const opens = m.rows[0].opens;
    const list = el("ol", { class: "outline" });
    const p = counted(m.rows);
    nodes.push(el("section", { class: "module" + (opens ? " locked" : "") }, el("h2", {}, m.title),
      opens ? el("p", { class: "note lock" }, `Locked: opens on ${opens}`) :
        state.me ? bar(p.done, p.total, "Progress in " + m.title) : null, list));
    for (const row of m.rows) {
      const done = row.done && row.done !== "no", passed = row.done === "passed";
      list.append(el("li", { class: done ? "done" : null },
        el("span", { class: "mark", "aria-hidden": "true" }, done ? "✓" : opens ? "🔒" : ""),
        opens ? el("span", {}, row.title) : el("a", { href: "#/lesson/" + row.lesson }, row.title),
        el("span", { class: "meta" }, ` ${row.minutes} min`, row.kind !== "lesson" ? " · " + row.kind : "",
          passed ? " · passed" : done ? " · done" : "", opens ? " · locked" : "")));
    }
  }
  show(doc.message, ...nodes);
}

async function lesson(full) {
  const c = full.split("/")[0];
  const [doc, out] = await Promise.all([api(`lessons/${enc(full)}?format=html`), outline(c).catch(() => null)]);
  const d = doc.data;
  const article = el("article", { "data-version": d.version });
  article.innerHTML = doc.body;      /* campusd's renderer omits raw HTML and escapes text */
  let h1 = article.querySelector("h1");
  if (!h1) { h1 = el("h1", {}, d.title); article.prepend(h1); }
  tidyTables(article);
  const row = out && out.items.find((r) => r.lesson === full);
  h1.after(el("p", { class: "meta" }, `${d.minutes} min`, row && row.kind !== "lesson" ? " · " + row.kind : ""));
  const crumbs = el("nav", { class: "crumbs", "aria-label": "Breadcrumbs" },
    el("a", { href: "#/" }, "Courses"), " › ",
    el("a", { href: "#/course/" + d.course }, out ? out.message : d.course), " › ", d.module);
  const progress = el("div", { class: "course-progress" });
  const actions = el("div", { class: "actions" });
  const showBar = () => { if (out && state.me) { const p = counted(out.items); progress.replaceChildren(bar(p.done, p.total, "Progress in this course")); return p; } };
  if (state.me) {
    const done = !!row && row.done && row.done !== "no";
    const btn = el("button", { type: "button", class: done ? "done" : "primary", "aria-pressed": done ? "true" : "false" },
      done ? "✓ Done" : "Mark as done");
    btn.addEventListener("click", () => markDone(full, row, btn, showBar));
    actions.append(btn, progress);
    showBar();
  } else {
    actions.append(el("p", { class: "note" }, el("a", { href: "#/login" }, "Log in"),
      " to mark lessons done and keep your place."));
  }
  const pager = el("nav", { class: "pager", "aria-label": "Lessons" },
    d.prev ? el("a", { href: "#/lesson/" + d.prev, rel: "prev" }, "← Previous") : el("span"),
    el("a", { href: "#/course/" + d.course }, "Outline"),
    d.next ? el("a", { href: "#/lesson/" + d.next, rel: "next" }, "Next →") : el("span"));
  show(d.title, crumbs, article, actions, pager);
  let spot = article.querySelector("[data-exercise]");
  if (!spot && row && row.kind !== "lesson") { spot = el("section", { class: "exercise" }); article.append(spot); }
  if (spot) (await import("./exercise.js")).exercise(spot, spot.getAttribute("data-exercise") || full);
}

/* Data tables as a reader reads them: column names in words, numbers with
 * thousands separators. The text stays text. */
function tidyTables(root) {
  for (const th of root.querySelectorAll("table.data th")) th.textContent = words(th.textContent);
  for (const td of root.querySelectorAll("table.data td.num"))
    if (/^-?\d{4,}(\.\d+)?$/.test(td.textContent.trim())) td.textContent = num(td.textContent.trim());
}

async function markDone(full, row, btn, showBar) {
  btn.disabled = true;
  try {
    await api("done/" + enc(full), {});
    btn.textContent = "✓ Done";
    btn.className = "done";
    btn.setAttribute("aria-pressed", "true");
    if (row && row.done === "no") row.done = "yes";
    const p = showBar();
    say(p ? `Marked as done. ${p.done} of ${p.total} lessons done.` : "Marked as done.");
  } catch (e) {
    btn.after(el("p", { class: "error", role: "alert" }, "Could not mark it done: " + e.message));
  }
  btn.disabled = false;
}

/* Text with the words searched for in <mark>, built as nodes. */
function marked(text, terms) {
  if (!terms.length) return [text];
  const re = new RegExp(`(${terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`, "gi");
  return String(text).split(re).map((part, i) => i % 2 ? el("mark", {}, part) : part);
}

async function search(q) {
  const [doc, cat] = await Promise.all([api("search?q=" + encodeURIComponent(q)), catalogueDoc().catch(() => ({ items: [] }))]);
  const terms = q.split(/\s+/).filter((t) => t.length > 1);
  const titles = Object.fromEntries(cat.items.map((c) => [c.id, c.title]));
  const list = el("ul", { class: "outline hits" });
  for (const r of doc.items) {
    const c = r.lesson.split("/")[0];
    list.append(el("li", {}, el("a", { href: "#/lesson/" + r.lesson }, marked(r.title, terms)),
      el("div", { class: "meta course-name" }, titles[c] || c), el("div", { class: "snippet" }, marked(r.snippet, terms))));
  }
  show("Search", el("h1", {}, `Search: ${q}`), doc.items.length ? list : el("p", {}, "Nothing found."));
}

/* ---- the learner's progress ---- */

const seenKey = () => "campus.seen." + state.me.user;
function seen() { try { return new Set(JSON.parse(localStorage.getItem(seenKey())) || []); } catch (e) { return new Set(); } }

/* One course's exercises: best score, attempts, and trainers' comments, a
 * comment this browser has not shown before marked new. */
async function exercisesOf(box, id, rows, old) {
  const ex = rows.filter((r) => r.kind !== "lesson");
  const lists = await Promise.all(ex.map((r) => api(`exercises/${enc(r.lesson)}/attempts`).catch(() => null)));
  const body = [], now = [];
  ex.forEach((r, i) => {
    const doc = lists[i], items = (doc && doc.items) || [];
    const m = doc && /counted score (\S+)/.exec(doc.message);
    const comments = items.filter((a) => a.comment).map((a) => {
      const k = `${r.lesson}#${a.attempt}:${a.comment}`;
      now.push(k);
      return el("p", { class: "comment" }, old.has(k) ? null : el("strong", { class: "new" }, "New "),
        `Attempt ${a.attempt}: ${a.comment}`);
    });
    body.push([el("a", { href: "#/lesson/" + r.lesson }, r.title), el("td", { class: "num" }, items.length && m ? score(m[1]) : "–"),
      el("td", { class: "num" }, items.length), r.done === "passed" ? "passed" : items.length ? "not yet" : "not started",
      el("td", {}, comments)]);
  });
  box.replaceChildren(ex.length ? table(["Exercise", "Best score", "Attempts", "Result", "Trainer's comments"], body)
    : el("p", { class: "meta" }, "No exercises."));
  return now;
}

async function certificates() {
  const box = el("section", {}, el("h2", {}, "Certificates"));
  try {
    const doc = await api("certs");
    if (!doc.items.length) { box.append(el("p", { class: "meta" }, "None yet: finish a course to earn one.")); return box; }
    const titles = Object.fromEntries((await catalogueDoc()).items.map((c) => [c.id, c.title]));
    box.append(el("ul", { class: "outline" }, doc.items.map((c) => {
      const out = el("span", { class: "meta", "aria-live": "polite" });
      return el("li", {}, titles[c.course] || c.course, " · ", when(c.issued), " · ",
        el("a", { href: "/certificates/" + encodeURIComponent(c.id) }, "View and print"), " · ",
        el("button", { type: "button", class: "link", click: () => download(c) }, "Download"), " · ",
        el("button", { type: "button", class: "link", click: () => verify(c, out) }, "Verify"), " ", out);
    })));
  } catch (e) { box.append(el("p", { class: "meta" }, "Certificates cannot be shown: " + e.message)); }
  return box;
}

async function download(c) {
  const doc = await api("certs/" + encodeURIComponent(c.id));
  const a = el("a", { href: URL.createObjectURL(new Blob([doc.body], { type: "application/vc+jwt" })), download: `campus-${c.course}.jwt` });
  document.body.append(a); a.click(); a.remove();
}

async function verify(c, out) {
  try {
    const jwt = (await api("certs/" + encodeURIComponent(c.id))).body;
    const v = (await api("verify", { credential: jwt })).data;
    out.textContent = v.valid === "yes" ? "Valid: signed by " + v.issuer : "Not valid: " + v.reason;
  } catch (e) { out.textContent = "Cannot verify: " + e.message; }
}

async function progressPage() {
  if (!state.me) return login();
  const [prog, cohorts, certs] = await Promise.all([api("progress"), api("cohorts").catch(() => ({ items: [] })), certificates()]);
  const nodes = [el("h1", {}, "My progress")];
  const mine = cohorts.items.filter((c) => c.as === "learner");
  nodes.push(el("section", {}, el("h2", {}, "My cohorts"), mine.length ? el("ul", { class: "outline" }, mine.map((c) =>
    el("li", {}, c.name, el("span", { class: "meta" }, ` · ${c.course} · started ${c.start}`), " · ",
      el("a", { href: "#/live/" + c.id }, "Live session")))) : el("p", { class: "meta" }, "You are in no cohort."),
  el("p", {}, el("a", { href: "#/join" }, "Join a cohort with a code"))));
  const old = seen(), all = [...old], loads = [];
  for (const p of prog.items) {
    const mods = el("div"), ex = el("div", {}, el("p", { class: "meta" }, "Loading the exercises…"));
    nodes.push(el("section", { class: "course-report" }, el("h2", {}, el("a", { href: "#/course/" + p.course }, p.title)),
      bar(+p.done, +p.total, "Progress in " + p.title),
      el("p", { class: "meta" }, `${p.exercises_passed} of ${p.exercises} exercises passed · ${p.minutes_left} minutes left`),
      el("h3", {}, "Modules"), mods, el("h3", {}, "Exercises"), ex));
    loads.push(api("progress/" + encodeURIComponent(p.course)).then((d) => mods.replaceChildren(...d.items.map((m) =>
      el("div", { class: "module-bar" }, el("span", {}, m.title), bar(+m.done, +m.total, "Progress in " + m.title))))).catch((e) => fail(mods, e)));
    const load = () => outline(p.course, true).then((o) => exercisesOf(ex, p.course, o.items, old)).then((k) => all.push(...k)).catch((e) => fail(ex, e));
    /* A course not begun is not worth a request per exercise until asked. */
    if (+p.done || +p.exercises_passed || mine.some((c) => c.course === p.course)) loads.push(load());
    else ex.replaceChildren(el("button", { type: "button", click: () => load().then(keep) }, "Show the exercises of ", p.title));
  }
  nodes.push(certs);
  show("My progress", ...nodes);
  const keep = () => { try { localStorage.setItem(seenKey(), JSON.stringify([...new Set(all)].slice(-500))); } catch (e) { /* storage off */ } };
  await Promise.all(loads);
  keep();
}

function joinPage() {
  if (!state.me) return login();
  const code = el("input", { id: "code", name: "code", required: true, autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
  const out = el("div", { role: "status" });
  const form = el("form", { class: "account" }, el("label", { for: "code" }, "Enrolment code"), code,
    el("p", { class: "hint" }, "Your trainer gives you this code."), el("button", { class: "primary" }, "Join"), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    try {
      const r = await api("cohorts/join", { code: code.value.trim() });
      const id = (/cohort (\S+)/.exec(r.message) || [])[1];
      const c = id ? (await api("cohorts/" + id)).data : null;
      forget();
      out.replaceChildren(el("p", { class: "note" }, c ? `You joined ${c.name}. ` : r.message + ". ",
        c ? el("a", { href: "#/course/" + c.course }, "Open " + await courseTitle(c.course)) : ""));
    } catch (e) { fail(out, e); code.focus(); }
  });
  show("Join a cohort", el("h1", {}, "Join a cohort"), form);
}

/* ---- accounts ---- */

function renderAccount() {
  const nav = document.getElementById("account"), me = state.me;
  if (me) {
    nav.replaceChildren(
      trainer() ? el("a", { href: "#/reviews" }, "Reviews") : null,
      trainer() ? el("a", { href: "#/cohorts" }, "Cohorts") : null,
      el("a", { href: "#/progress" }, "My progress"),
      el("span", { class: "who" }, me.user, me.role !== "learner" ? ` (${me.role})` : ""),
      me.reviewsNew ? el("strong", {}, ` ${plural(me.reviewsNew, "new review")} `) : "",
      el("button", { type: "button", class: "link", click: logout }, "Log out"));
  } else {
    nav.replaceChildren(el("a", { href: "#/login" }, "Log in"), el("a", { href: "#/register" }, "Register"));
  }
}

async function whoami() {
  try {
    const doc = await api("me");
    state.me = doc.data && doc.data.user ? { user: doc.data.user, role: doc.data.role,
      reviewsNew: Number(doc.data["reviews-new"] || 0) } : null;
  } catch (e) { state.me = null; }
  renderAccount();
}

function login() { location.hash = "#/login"; }

function accountForm(register) {
  const err = el("p", { class: "error", role: "alert" });
  const name = el("input", { id: "name", name: "name", autocomplete: "username", required: true,
    autocapitalize: "none", spellcheck: "false", pattern: "[a-z0-9._\\-]{3,32}" });
  const pw = el("input", { id: "password", name: "password", type: "password", required: true,
    autocomplete: register ? "new-password" : "current-password", minlength: register ? 10 : null });
  const form = el("form", { class: "account" },
    el("label", { for: "name" }, "Name"), name,
    register ? el("p", { class: "hint", id: "name-hint" }, "3 to 32 of a–z, 0–9, dot, dash, underscore.") : null,
    el("label", { for: "password" }, "Password"), pw,
    register ? el("p", { class: "hint" }, "At least 10 characters.") : null,
    err, el("button", { class: "primary" }, register ? "Create my account" : "Log in"),
    el("p", {}, register ? "Have an account? " : "New here? ",
      el("a", { href: register ? "#/login" : "#/register" }, register ? "Log in" : "Register")));
  if (register) name.setAttribute("aria-describedby", "name-hint");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    const creds = { name: name.value.trim(), password: pw.value };
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      if (register) await api("register", creds);
      await api("login", creds);
      await whoami();
      forget();
      location.hash = sessionStorage.getItem("campus.back") || "#/";
    } catch (e) {
      err.textContent = e.message;
      (e.code === 409 || e.code === 400 ? name : pw).focus();
    }
    button.disabled = false;
  });
  show(register ? "Register" : "Log in", el("h1", {}, register ? "Create an account" : "Log in"), form);
}

async function logout() {
  try { await api("logout", {}); } catch (e) { /* the cookie is gone either way */ }
  state.me = null;
  forget();
  renderAccount();
  route();
}

/* ---- routing ---- */

let leaving = null;      /* a page's clean-up (a live view's event stream) */

async function route() {
  const h = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  if (h !== "login" && h !== "register") sessionStorage.setItem("campus.back", location.hash || "#/");
  if (leaving) { leaving(); leaving = null; }
  try {
    if (h.startsWith("course/")) await course(h.slice(7));
    else if (h.startsWith("lesson/")) await lesson(h.slice(7));
    else if (h.startsWith("search/")) await search(h.slice(7));
    else if (h === "progress") await progressPage();
    else if (h === "join") joinPage();
    else if (/^(reviews|cohorts|cohort\/)/.test(h)) await (await import("./trainer.js")).page(h);
    else if (h.startsWith("live/")) leaving = await (await import("./live.js")).page(h.slice(5));
    else if (h === "login" || h === "register") accountForm(h === "register");
    else await catalogue();
  } catch (e) {
    show("Error", el("h1", {}, e.code === 404 ? "Not found" : e.code === 401 ? "Please log in" : "Something went wrong"),
      el("p", { class: "error", role: "alert" }, "Sorry: " + e.message), el("p", {}, el("a", { href: "#/" }, "Back to the courses")));
  }
}

document.getElementById("search").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = new FormData(ev.target).get("q").trim();
  if (q) location.hash = "#/search/" + q;
});
document.querySelector(".skip").addEventListener("click", (ev) => { ev.preventDefault(); document.getElementById("main").focus(); });
window.addEventListener("hashchange", route);
whoami().then(route);

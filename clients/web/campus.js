/* campus.js: the web client's router and learner pages (#/, #/course/ID,
 * #/lesson/C/L, #/search/Q, #/progress, #/join, #/login, #/register);
 * exercise.js, trainer.js and live.js load when needed. Server text is set
 * as text; only a lesson's body, rendered and escaped by campusd, is HTML. */
import { el, a, btn, field, status, onSubmit, E, api, enc, say, show, fail, bar, num, words, plural, score, when,
  outline, forget, courses, titles, courseTitle, table, state } from "./lib.js";

const me = () => state.me;
const isDone = (r) => r.done && r.done !== "no";      /* an outline's done column: yes, passed or no */
const counted = (rows) => ({ done: rows.filter(isDone).length, total: rows.length });
const loginNote = (...what) => el("p.note", a("#/login", "Log in"), ...what);

async function continueLink(course) {
  try {
    const d = me() && (await api(course ? "next/" + E(course) : "next")).data;
    return d && d.lesson ? el("p.continue", el("a.button", { href: "#/lesson/" + d.lesson }, "Continue where you left off: ", d.title)) : null;
  } catch (e) { return null; }
}

async function catalogue() {
  const [doc, prog, cont] = await Promise.all([courses(), me() && api("progress").catch(() => null), continueLink()]);
  const by = Object.fromEntries(((prog && prog.items) || []).map((p) => [p.course, p]));
  show("Courses", el("h1", "Courses"), cont, !me() && loginNote(" or ", a("#/register", "register"), " to keep track of your progress."),
    el("ul.courses", doc.items.map((c) => el("li", el("h2", a("#/course/" + c.id, c.title)),
      el("div.meta", `${plural(c.modules, "module")} · ${plural(c.lessons, "lesson")} · ${c.minutes} minutes`),
      by[c.id] && bar(+by[c.id].done, +by[c.id].total, "Progress in " + c.title)))));
}

async function course(id) {
  const [doc, cont] = await Promise.all([outline(id, true), continueLink(id)]);
  const mods = [];
  for (const r of doc.items) {
    if (!mods.length || mods[mods.length - 1].title !== r.module) mods.push({ title: r.module, rows: [] });
    mods[mods.length - 1].rows.push(r);
  }
  const all = counted(doc.items);
  show(doc.message, el("h1", doc.message), me() && bar(all.done, all.total, "Progress in this course"), cont, ...mods.map((m) => {
    const opens = m.rows[0].opens, p = counted(m.rows);
    return el("section", { class: "module" + (opens ? " locked" : "") }, el("h2", m.title),
      opens ? el("p.note.lock", `Locked: opens on ${opens}`) : me() && bar(p.done, p.total, "Progress in " + m.title),
      el("ol.outline", m.rows.map((r) => el("li", { class: isDone(r) && "done" },
        el("span.mark", { "aria-hidden": "true" }, isDone(r) ? "✓" : opens ? "🔒" : ""),
        opens ? el("span", r.title) : a("#/lesson/" + r.lesson, r.title),
        el("span.meta", ` ${r.minutes} min`, r.kind !== "lesson" && " · " + r.kind,
          r.done === "passed" ? " · passed" : isDone(r) ? " · done" : "", opens && " · locked")))));
  }));
}

async function lesson(full) {
  const [doc, out] = await Promise.all([api(`lessons/${enc(full)}?format=html`), outline(full.split("/")[0]).catch(() => null)]);
  const d = doc.data, art = el("article", { "data-version": d.version });
  art.innerHTML = doc.body;      /* campusd omits raw HTML and escapes text */
  let h1 = art.querySelector("h1");
  if (!h1) art.prepend(h1 = el("h1", d.title));
  /* Data tables for readers: column names in words, 11000 as 11,000. */
  for (const th of art.querySelectorAll("table.data th")) th.textContent = words(th.textContent);
  for (const td of art.querySelectorAll("table.data td.num"))
    if (/^-?\d{4,}(\.\d+)?$/.test(td.textContent.trim())) td.textContent = num(td.textContent.trim());
  const row = out && out.items.find((r) => r.lesson === full);
  h1.after(el("p.meta", `${d.minutes} min`, row && row.kind !== "lesson" && " · " + row.kind));
  const progress = el("div.course-progress"), actions = el("div.actions");
  const showBar = () => { if (out && me()) { const p = counted(out.items); progress.replaceChildren(bar(p.done, p.total, "Progress in this course")); return p; } };
  if (me()) {
    const done = !!row && isDone(row);
    const b = el("button", { type: "button", class: done ? "done" : "primary", "aria-pressed": String(done) }, done ? "✓ Done" : "Mark as done");
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await api("done/" + enc(full), {});
        b.textContent = "✓ Done";
        b.className = "done";
        b.setAttribute("aria-pressed", "true");
        if (row && row.done === "no") row.done = "yes";
        const p = showBar();
        say(p ? `Marked as done. ${p.done} of ${p.total} lessons done.` : "Marked as done.");
      } catch (e) { b.after(el("p.error", { role: "alert" }, "Could not mark it done: " + e.message)); }
      b.disabled = false;
    });
    actions.append(b, progress);
    showBar();
  } else actions.append(loginNote(" to mark lessons done and keep your place."));
  const go = (id, rel, text) => (id ? el("a", { href: "#/lesson/" + id, rel }, text) : el("span"));
  show(d.title, el("nav.crumbs", { "aria-label": "Breadcrumbs" }, a("#/", "Courses"), " › ", a("#/course/" + d.course, out ? out.message : d.course), " › ", d.module),
    art, actions, el("nav.pager", { "aria-label": "Lessons" }, go(d.prev, "prev", "← Previous"), a("#/course/" + d.course, "Outline"), go(d.next, "next", "Next →")));
  let spot = art.querySelector("[data-exercise]");
  if (!spot && row && row.kind !== "lesson") art.append(spot = el("section.exercise"));
  if (spot) (await import("./exercise.js")).exercise(spot, spot.getAttribute("data-exercise") || full);
}

async function search(q) {
  const [doc, t] = await Promise.all([api("search?q=" + E(q)), titles()]);
  const terms = q.split(/\s+/).filter((w) => w.length > 1).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp(`(${terms.join("|")})`, "gi");
  const marked = (text) => (terms.length ? String(text).split(re).map((s, i) => (i % 2 ? el("mark", s) : s)) : text);
  show("Search", el("h1", `Search: ${q}`), doc.items.length ? el("ul.outline.hits", doc.items.map((r) =>
    el("li", a("#/lesson/" + r.lesson, marked(r.title)), el("div.meta.course-name", t[r.lesson.split("/")[0]] || r.lesson.split("/")[0]),
      el("div.snippet", marked(r.snippet))))) : el("p", "Nothing found."));
}


/* A course's exercises: score kept, attempts, trainers' comments; a comment
 * this browser has not shown before is marked new. Returns the ones shown. */
async function exercisesOf(box, rows, old) {
  const ex = rows.filter((r) => r.kind !== "lesson"), shown = [];
  const lists = await Promise.all(ex.map((r) => api(`exercises/${enc(r.lesson)}/attempts`).catch(() => null)));
  box.replaceChildren(ex.length ? table(["Exercise", "Score", "Attempts", "Result", "Trainer's comments"], ex.map((r, i) => {
    const doc = lists[i], items = (doc && doc.items) || [], m = doc && /counted score (\S+)/.exec(doc.message);
    return [a("#/lesson/" + r.lesson, r.title), el("td.num", items.length && m ? score(m[1]) : "–"), el("td.num", items.length),
      r.done === "passed" ? "passed" : items.length ? "not yet" : "not started",
      el("td", items.filter((x) => x.comment).map((x) => {
        const k = `${r.lesson}#${x.attempt}:${x.comment}`;
        shown.push(k);
        return el("p.comment", !old.has(k) && el("strong.new", "New "), `Attempt ${x.attempt}: ${x.comment}`);
      }))];
  })) : el("p.meta", "No exercises."));
  return shown;
}

async function certificates() {
  const box = el("section", el("h2", "Certificates"));
  try {
    const [doc, t] = await Promise.all([api("certs"), titles()]);
    const jwt = async (c) => (await api("certs/" + E(c.id))).body;
    box.append(doc.items.length ? el("ul.outline", doc.items.map((c) => {
      const out = el("span.meta", { "aria-live": "polite" });
      return el("li", t[c.course] || c.course, " · ", when(c.issued), " · ", a("/certificates/" + E(c.id), "View and print"), " · ",
        btn("Download", async () => {
          const l = el("a", { href: URL.createObjectURL(new Blob([await jwt(c)], { type: "application/vc+jwt" })), download: `campus-${c.course}.jwt` });
          document.body.append(l); l.click(); l.remove();
        }, "link"), " · ",
        btn("Verify", async () => {
          try {
            const v = (await api("verify", { credential: await jwt(c) })).data;
            out.textContent = v.valid === "yes" ? "Valid: signed by " + v.issuer : "Not valid: " + v.reason;
          } catch (e) { out.textContent = "Cannot verify: " + e.message; }
        }, "link"), " ", out);
    })) : el("p.meta", "None yet: finish a course to earn one."));
  } catch (e) { box.append(el("p.meta", "Certificates cannot be shown: " + e.message)); }
  return box;
}

async function progressPage() {
  const [prog, co, certs] = await Promise.all([api("progress"), api("cohorts").catch(() => ({ items: [] })), certificates()]);
  const mine = co.items.filter((c) => c.as === "learner"), key = "campus.seen." + me().user;
  let old;
  try { old = new Set(JSON.parse(localStorage.getItem(key)) || []); } catch (e) { old = new Set(); }
  const all = [...old], loads = [];
  const keep = () => { try { localStorage.setItem(key, JSON.stringify([...new Set(all)].slice(-500))); } catch (e) { /* storage off */ } };
  show("My progress", el("h1", "My progress"), el("section", el("h2", "My cohorts"),
    mine.length ? el("ul.outline", mine.map((c) => el("li", c.name, el("span.meta", ` · ${c.course} · started ${c.start}`), " · ",
      a("#/live/" + c.id, "Live session")))) : el("p.meta", "You are in no cohort."), el("p", a("#/join", "Join a cohort with a code"))),
  ...prog.items.map((p) => {
    const mods = el("div"), ex = el("div", el("p.meta", "Loading the exercises…"));
    loads.push(api("progress/" + E(p.course)).then((d) => mods.replaceChildren(...d.items.map((m) =>
      el("div.module-bar", el("span", m.title), bar(+m.done, +m.total, "Progress in " + m.title))))).catch((e) => fail(mods, e)));
    const load = () => outline(p.course, true).then((o) => exercisesOf(ex, o.items, old)).then((k) => all.push(...k)).catch((e) => fail(ex, e));
    /* A course not begun costs no request per exercise until asked. */
    if (+p.done || +p.exercises_passed || mine.some((c) => c.course === p.course)) loads.push(load());
    else ex.replaceChildren(btn("Show the exercises of " + p.title, () => load().then(keep)));
    return el("section", el("h2", a("#/course/" + p.course, p.title)), bar(+p.done, +p.total, "Progress in " + p.title),
      el("p.meta", `${p.exercises_passed} of ${p.exercises} exercises passed · ${p.minutes_left} minutes left`),
      el("h3", "Modules"), mods, el("h3", "Exercises"), ex);
  }), certs);
  await Promise.all(loads);
  keep();
}

function joinPage() {
  const code = el("input", { id: "code", required: true, autocomplete: "off", autocapitalize: "none", spellcheck: "false" }), out = status();
  show("Join a cohort", el("h1", "Join a cohort"), onSubmit(el("form.account", field("code", "Enrolment code", code, "Your trainer gives you this code."),
    el("button.primary", "Join"), out), async () => {
    try {
      const r = await api("cohorts/join", { code: code.value.trim() }), id = (/cohort (\S+)/.exec(r.message) || [])[1];
      const c = id && (await api("cohorts/" + id)).data;
      forget();
      out.replaceChildren(el("p.note", c ? `You joined ${c.name}. ` : r.message + ". ", c && a("#/course/" + c.course, "Open " + await courseTitle(c.course))));
    } catch (e) { fail(out, e); code.focus(); }
  }));
}


function renderAccount() {
  const m = me(), t = m && m.role !== "learner";
  document.getElementById("account").replaceChildren(...(m ? [t && a("#/reviews", "Reviews"), t && a("#/cohorts", "Cohorts"),
    a("#/progress", "My progress"), el("span.who", m.user, t && ` (${m.role})`),
    m.reviewsNew && el("strong", ` ${plural(m.reviewsNew, "new review")} `), btn("Log out", logout, "link")]
    : [a("#/login", "Log in"), a("#/register", "Register")]).filter(Boolean));
}

async function whoami() {
  try {
    const d = (await api("me")).data;
    state.me = d && d.user ? { user: d.user, role: d.role, reviewsNew: +(d["reviews-new"] || 0) } : null;
  } catch (e) { state.me = null; }
  renderAccount();
}

function accountForm(reg) {
  const err = el("p.error", { role: "alert" });
  const name = el("input", { id: "name", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false",
    pattern: "[a-z0-9._\\-]{3,32}", "aria-describedby": reg && "name-hint" });
  const pw = el("input", { id: "password", type: "password", required: true, autocomplete: reg ? "new-password" : "current-password", minlength: reg && 10 });
  const button = el("button.primary", reg ? "Create my account" : "Log in");
  const form = onSubmit(el("form.account", el("label", { for: "name" }, "Name"), name,
    reg && el("p.hint", { id: "name-hint" }, "3 to 32 of a–z, 0–9, dot, dash, underscore."),
    el("label", { for: "password" }, "Password"), pw, reg && el("p.hint", "At least 10 characters."), err, button,
    el("p", reg ? "Have an account? " : "New here? ", a(reg ? "#/login" : "#/register", reg ? "Log in" : "Register"))), async () => {
    err.textContent = "";
    button.disabled = true;
    const creds = { name: name.value.trim(), password: pw.value };
    try {
      if (reg) await api("register", creds);
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
  show(reg ? "Register" : "Log in", el("h1", reg ? "Create an account" : "Log in"), form);
}

async function logout() {
  try { await api("logout", {}); } catch (e) { /* the cookie goes either way */ }
  state.me = null;
  forget();
  renderAccount();
  route();
}


let leaving = null;      /* a page's clean-up (a live view's event stream) */
let typed = false;       /* the learner typed into this page */

async function route() {
  const h = decodeURIComponent(location.hash.replace(/^#\/?/, "")), p = (s) => h.startsWith(s) && h.slice(s.length);
  typed = false;
  const account = h === "login" || h === "register";
  if (!account) sessionStorage.setItem("campus.back", location.hash || "#/");
  if (leaving) leaving();
  leaving = null;
  try {
    if (p("course/")) await course(p("course/"));
    else if (p("lesson/")) await lesson(p("lesson/"));
    else if (p("search/")) await search(p("search/"));
    else if (account) accountForm(h === "register");
    else if (/^(progress|join|reviews|cohort|live\/)/.test(h) && !me()) location.hash = "#/login";
    else if (h === "progress") await progressPage();
    else if (h === "join") joinPage();
    else if (/^(reviews|cohorts|cohort\/)/.test(h)) await (await import("./trainer.js")).page(h);
    else if (p("live/")) leaving = await (await import("./live.js")).page(p("live/"));
    else await catalogue();
  } catch (e) {
    show("Error", el("h1", e.code === 404 ? "Not found" : "Something went wrong"),
      el("p.error", { role: "alert" }, "Sorry: " + e.message), el("p", a("#/", "Back to the courses")));
  }
}

onSubmit(document.getElementById("search"), () => {
  const q = new FormData(document.getElementById("search")).get("q").trim();
  if (q) location.hash = "#/search/" + q;
});
document.querySelector(".skip").addEventListener("click", (ev) => { ev.preventDefault(); document.getElementById("main").focus(); });
window.addEventListener("hashchange", route);
document.getElementById("main").addEventListener("input", () => { typed = true; });
/* sw.js's refresh of what it answered differs: the account again, and a
 * reading page where it was, unless typed into or only the account changed. */
if (navigator.serviceWorker) navigator.serviceWorker.addEventListener("message", async ({ data: m }) => {
  if (!m || m.type !== "updated") return;
  const was = me() && me().user;
  if (m.url === "/api/me" && (await whoami(), (me() && me().user) === was) || typed ||
      !/^(#\/?)?((course|lesson)\/|$)/.test(location.hash)) return;
  forget(1);
  const y = scrollY;
  await route();
  scrollTo(0, y);
});
whoami().then(route);

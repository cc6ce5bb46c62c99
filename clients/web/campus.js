/* campus.js: the Campus web client over campusd's JSON API. Plain JavaScript,
 * no build step. Routes: #/ catalogue, #/course/ID, #/lesson/COURSE/LESSON,
 * #/search/WORDS, #/login, #/register. Text from the server is always set as
 * text; only a lesson's body, which campusd renders and escapes, is HTML. */
"use strict";

const main = document.getElementById("main");
let me = null;                    /* {user, role, reviewsNew} when logged in */
const outlines = {};              /* course id -> COURSE answer, fetched once */

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (typeof v === "function") e.addEventListener(k, v);
    else if (v != null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat()) if (c != null && c !== false)
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

/* Calls the API; a JSON body makes it a POST. Throws an Error whose message
 * is campusd's own explanation, with .code the HTTP status. */
async function api(path, body) {
  const init = { credentials: "same-origin", method: body === undefined ? "GET" : "POST" };
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

const enc = (id) => id.split("/").map(encodeURIComponent).join("/");
const say = (text) => { document.getElementById("say").textContent = text; };

function show(title, ...nodes) {
  document.title = title ? title + " · Campus" : "Campus";
  main.replaceChildren(...nodes.filter(Boolean));
  window.scrollTo(0, 0);
  const h = main.querySelector("h1");
  if (h) { h.tabIndex = -1; h.focus({ preventScroll: true }); }
}

function fail(where, e) {
  where.replaceChildren(el("p", { class: "error", role: "alert" }, "Sorry: " + e.message));
}

/* Plain text with blank lines between paragraphs, as paragraphs. */
function paras(text) {
  return String(text || "").trim().split(/\n\s*\n/).filter(Boolean)
    .map((p) => el("p", {}, p.replace(/\s*\n\s*/g, " ")));
}

/* A progress bar: done of total, with the numbers in words beside it. */
function bar(done, total, label) {
  const pct = total ? Math.round(100 * done / total) : 0;
  const fill = el("span");
  fill.style.width = pct + "%";
  return el("div", { class: "progress" },
    el("div", { class: "bar", role: "progressbar", "aria-label": label, "aria-valuemin": 0,
      "aria-valuemax": 100, "aria-valuenow": pct, "aria-valuetext": `${done} of ${total} done` }, fill),
    el("span", { class: "meta" }, `${done} of ${total} lessons done · ${pct}%`));
}

async function outline(course) {
  if (!outlines[course]) outlines[course] = await api("courses/" + encodeURIComponent(course));
  return outlines[course];
}

async function courseProgress(course) {
  const doc = await api("progress/" + encodeURIComponent(course));
  let done = 0, total = 0;
  for (const m of doc.items) { done += +m.done; total += +m.total; }
  return { done, total };
}

/* The lessons this learner has completed and the exercises passed, from
 * their own event stream (xAPI), fetched since the last look and kept in
 * localStorage so a slow link carries each event once. */
async function marks() {
  if (!me) return { done: new Set(), passed: new Set() };
  const key = "campus.marks." + me.user;
  let c;
  try { c = JSON.parse(localStorage.getItem(key)); } catch (e) { c = null; }
  c = c || { since: 0, done: [], passed: [] };
  const done = new Set(c.done), passed = new Set(c.passed);
  try {
    const list = await api("me/statements" + (c.since ? "?since=" + c.since : ""));
    for (const s of list) {
      const id = ((s.object && s.object.id) || "").split("#/lesson/")[1];
      const verb = s.verb && s.verb.display && s.verb.display["en-US"];
      if (id && verb === "completed") done.add(id);
      if (id && (verb === "passed" || (verb === "attempted" && s.result && s.result.success))) passed.add(id);
      const t = Date.parse(s.timestamp);
      if (t > c.since) c.since = t;
    }
  } catch (e) { /* marks are a help, not a must */ }
  c.done = [...done]; c.passed = [...passed];
  try { localStorage.setItem(key, JSON.stringify(c)); } catch (e) { /* storage full or off */ }
  return { done, passed };
}

/* "Continue where I left off": a link to the next lesson, or nothing. */
async function continueLink(course) {
  if (!me) return null;
  try {
    const doc = await api(course ? "next/" + encodeURIComponent(course) : "next");
    if (!doc.data || !doc.data.lesson) return null;
    return el("p", { class: "continue" }, el("a", { class: "button", href: "#/lesson/" + doc.data.lesson },
      "Continue where you left off: ", doc.data.title));
  } catch (e) { return null; }
}

/* ---- pages ---- */

async function courses() {
  const [doc, prog, cont] = await Promise.all([api("courses"),
    me ? api("progress").catch(() => null) : null, continueLink()]);
  const by = {};
  for (const p of (prog && prog.items) || []) by[p.course] = p;
  const list = el("ul", { class: "courses" });
  for (const c of doc.items) {
    const p = by[c.id];
    list.append(el("li", {}, el("h2", {}, el("a", { href: "#/course/" + c.id }, c.title)),
      el("div", { class: "meta" }, `${c.modules} modules · ${c.lessons} lessons · ${c.minutes} minutes`),
      p ? bar(+p.done, +p.total, "Progress in " + c.title) : null));
  }
  show("Courses", el("h1", {}, "Courses"), cont,
    me ? null : el("p", { class: "note" }, el("a", { href: "#/login" }, "Log in"), " or ",
      el("a", { href: "#/register" }, "register"), " to keep track of your progress."), list);
}

async function course(id) {
  const [doc, prog, m, cont] = await Promise.all([outline(id),
    me ? courseProgress(id).catch(() => null) : null, marks(), continueLink(id)]);
  const nodes = [el("h1", {}, doc.message)];
  if (prog) nodes.push(bar(prog.done, prog.total, "Progress in this course"));
  if (cont) nodes.push(cont);
  let module = null, list = null;
  for (const row of doc.items) {
    if (row.module !== module) {
      module = row.module;
      list = el("ol", { class: "outline" });
      nodes.push(el("h2", {}, module), list);
    }
    const done = m.done.has(row.lesson), passed = m.passed.has(row.lesson);
    list.append(el("li", { class: done ? "done" : null },
      el("span", { class: "mark", "aria-hidden": "true" }, done ? "✓" : ""),
      el("a", { href: "#/lesson/" + row.lesson }, row.title),
      el("span", { class: "meta" }, ` ${row.minutes} min`, row.kind !== "lesson" ? " · " + row.kind : "",
        done ? " · done" : "", passed ? " · passed" : "")));
  }
  show(doc.message, ...nodes);
}

async function lesson(full) {
  const [c, l] = full.split("/");
  const [doc, out, m] = await Promise.all([api(`lessons/${enc(full)}?format=html`),
    outline(c).catch(() => null), marks()]);
  const d = doc.data;
  const article = el("article", { "data-version": d.version });
  article.innerHTML = doc.body;      /* campusd's renderer omits raw HTML and escapes text */
  if (!article.querySelector("h1")) article.prepend(el("h1", {}, d.title));
  const crumbs = el("nav", { class: "crumbs", "aria-label": "Breadcrumbs" },
    el("a", { href: "#/" }, "Courses"), " › ",
    el("a", { href: "#/course/" + d.course }, out ? out.message : d.course), " › ", d.module);
  const progress = el("div", { class: "course-progress" });
  const actions = el("div", { class: "actions" });
  const row = out && out.items.find((r) => r.lesson === full);
  if (me) {
    const done = m.done.has(full);
    const btn = el("button", { type: "button", class: done ? "done" : "primary", "aria-pressed": done ? "true" : "false" },
      done ? "✓ Done" : "Mark as done");
    btn.addEventListener("click", () => markDone(full, d.course, btn, progress));
    actions.append(btn);
    courseProgress(d.course).then((p) => progress.replaceChildren(bar(p.done, p.total, "Progress in this course")),
      () => progress.replaceChildren());
  } else {
    actions.append(el("p", { class: "note" }, el("a", { href: "#/login" }, "Log in"),
      " to mark lessons done and keep your place."));
  }
  const pager = el("nav", { class: "pager", "aria-label": "Lessons" },
    d.prev ? el("a", { href: "#/lesson/" + d.prev, rel: "prev" }, "← Previous") : el("span"),
    el("a", { href: "#/course/" + d.course }, "Outline"),
    d.next ? el("a", { href: "#/lesson/" + d.next, rel: "next" }, "Next →") : el("span"));
  show(d.title, crumbs, progress, el("p", { class: "meta" }, `${d.minutes} min`,
    row && row.kind !== "lesson" ? " · " + row.kind : ""), article, actions, pager);
  const spot = article.querySelector("[data-exercise]");
  if (spot) exercise(spot, spot.getAttribute("data-exercise"));
  else if (row && row.kind !== "lesson") {
    const box = el("section", { class: "exercise" });
    article.append(box);
    exercise(box, full);
  }
}

async function markDone(full, course, btn, progress) {
  btn.disabled = true;
  try {
    await api("done/" + enc(full), {});
    btn.textContent = "✓ Done";
    btn.className = "done";
    btn.setAttribute("aria-pressed", "true");
    const p = await courseProgress(course);
    progress.replaceChildren(bar(p.done, p.total, "Progress in this course"));
    say(`Marked as done. ${p.done} of ${p.total} lessons done.`);
  } catch (e) {
    btn.after(el("p", { class: "error", role: "alert" }, "Could not mark it done: " + e.message));
  }
  btn.disabled = false;
}

async function search(words) {
  const doc = await api("search?q=" + encodeURIComponent(words));
  const list = el("ul", { class: "outline" });
  for (const r of doc.items)
    list.append(el("li", {}, el("a", { href: "#/lesson/" + r.lesson }, r.title), el("div", { class: "meta" }, r.snippet)));
  show("Search", el("h1", {}, `Search: ${words}`), doc.items.length ? list : el("p", {}, "Nothing found."));
}

/* ---- accounts ---- */

function renderAccount() {
  const nav = document.getElementById("account");
  if (me) {
    nav.replaceChildren(el("span", { class: "who" }, me.user, me.role !== "learner" ? ` (${me.role})` : ""),
      me.reviewsNew ? el("strong", {}, ` ${me.reviewsNew} new reviews `) : "",
      el("button", { type: "button", class: "link", click: logout }, "Log out"));
  } else {
    nav.replaceChildren(el("a", { href: "#/login" }, "Log in"), el("a", { href: "#/register" }, "Register"));
  }
}

async function whoami() {
  try {
    const doc = await api("me");
    me = doc.data && doc.data.user ? { user: doc.data.user, role: doc.data.role,
      reviewsNew: Number(doc.data["reviews-new"] || 0) } : null;
  } catch (e) { me = null; }
  renderAccount();
}

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
  localStorage.removeItem("campus.marks." + me.user);
  me = null;
  renderAccount();
  route();
}

/* ---- exercises ---- */

let uid = 0;
const KINDS = { order: "Put in order", classify: "Sort", numeric: "Calculate", network: "Network",
  rubric: "Written answer", review: "For a trainer" };

/* One input per question or task; each returns [node, getter], the getter
 * giving the answer in the answer-document syntax ("" when left blank). */
function giftInput(q, base) {
  const name = base + q.id;
  const opts = q.options || [];
  const pick = (type) => {
    const box = el("div", { class: "options" });
    for (const o of opts) {
      const id = `${name}-${o.key}`;
      box.append(el("div", { class: "option" }, el("input", { type, id, name, value: o.key }),
        el("label", { for: id }, o.text)));
    }
    return [box, () => [...box.querySelectorAll("input:checked")].map((i) => i.value).join(",")];
  };
  switch (q.question) {
  case "multiple choice": return pick("radio");
  case "multiple answers": return pick("checkbox");
  case "true/false": {
    const box = el("div", { class: "options" });
    for (const v of ["true", "false"])
      box.append(el("div", { class: "option" }, el("input", { type: "radio", id: `${name}-${v}`, name, value: v }),
        el("label", { for: `${name}-${v}` }, v === "true" ? "True" : "False")));
    return [box, () => { const i = box.querySelector("input:checked"); return i ? i.value : ""; }];
  }
  case "matching": {
    const box = el("div", { class: "pairs" });
    (q.subquestions || []).forEach((s, i) => {
      const id = `${name}-${i + 1}`;
      box.append(el("label", { for: id }, s), el("select", { id, "data-n": i + 1 },
        el("option", { value: "" }, "— choose —"), opts.map((o) => el("option", { value: o.key }, o.text))));
    });
    return [box, () => [...box.querySelectorAll("select")].filter((s) => s.value)
      .map((s) => `${s.dataset.n}=${s.value}`).join(" ")];
  }
  case "essay": return textInput(name, "textarea", "Your answer");
  case "description": return [null, null];
  default: return textInput(name, "input", q.question === "numerical" ? "Your number" : "Your answer",
    q.question === "numerical" ? "decimal" : null);
  }
}

function textInput(id, tag, label, mode, unit) {
  const input = el(tag, { id, name: id, inputmode: mode, rows: tag === "textarea" ? 6 : null, autocomplete: "off" });
  return [el("div", { class: "field" }, el("label", { for: id }, label), input,
    unit ? el("span", { class: "unit" }, " " + unit) : null), () => input.value.trim()];
}

function orderInput(t, base) {
  const list = el("ol", { class: "order" });
  const live = el("p", { class: "sr", "aria-live": "polite" });
  const move = (li, dir) => {
    const to = dir < 0 ? li.previousElementSibling : li.nextElementSibling;
    if (!to) return;
    if (dir < 0) list.insertBefore(li, to); else list.insertBefore(to, li);
    li.querySelector(dir < 0 ? ".up" : ".down").focus();
    live.textContent = `${li.dataset.text}: now at position ${[...list.children].indexOf(li) + 1}`;
  };
  t.items.forEach((text, i) => {
    const li = el("li", { "data-n": i + 1, "data-text": text }, el("span", {}, text));
    li.append(el("button", { type: "button", class: "up", "aria-label": "Move up: " + text, click: () => move(li, -1) }, "↑"),
      el("button", { type: "button", class: "down", "aria-label": "Move down: " + text, click: () => move(li, 1) }, "↓"));
    list.append(li);
  });
  return [el("div", {}, el("p", { class: "hint" }, "Use the arrows to put the items in order, first at the top."), list, live),
    () => [...list.children].map((li) => li.dataset.n).join(" ")];
}

function classifyInput(t, base) {
  const box = el("div", { class: "pairs" });
  t.items.forEach((text, i) => {
    const id = `${base}${t.id}-${i + 1}`;
    box.append(el("label", { for: id }, text), el("select", { id, "data-n": i + 1 },
      el("option", { value: "" }, "— choose —"), t.categories.map((c) => el("option", { value: c.key }, c.name))));
  });
  return [box, () => {
    const by = {};
    for (const s of box.querySelectorAll("select")) if (s.value) (by[s.value] = by[s.value] || []).push(s.dataset.n);
    return Object.entries(by).map(([k, ns]) => `${k}=${ns.join(",")}`).join(" ");
  }];
}

function taskInput(t, base) {
  switch (t.type) {
  case "order": return orderInput(t, base);
  case "classify": return classifyInput(t, base);
  case "numeric": return textInput(base + t.id, "input", "Your number", "decimal", t.unit);
  case "network": return textInput(base + t.id, "input", /number/.test(t.answer) ? "Your number" : "Actor names, separated by commas",
    /number/.test(t.answer) ? "decimal" : null);
  case "rubric": case "review": return textInput(base + t.id, "textarea", "Your answer");
  default: return giftInput(t, base);
  }
}

/* Renders the exercise into box: the learner's view for their next attempt,
 * a form per task, and on submit the result with feedback per task. */
async function exercise(box, id) {
  box.replaceChildren(el("p", { class: "meta" }, "Loading the exercise…"));
  let doc, view;
  try {
    doc = await api("exercises/" + enc(id));
    view = JSON.parse(doc.body);
  } catch (e) { return fail(box, e); }
  const d = doc.data, base = `x${++uid}-`, getters = [], fieldsets = {};
  const left = d.attempts_left;
  const form = el("form", { class: "exercise-form", "aria-label": "Exercise: " + view.title });
  let n = 0;
  const addTask = (q) => {
    const fs = el("fieldset", { class: "task", id: base + "task-" + q.id });
    const [node, get] = q.type === "text" ? [null, null] : (q.type === "gift" || q.question) ? giftInput(q, base) : taskInput(q, base);
    if (!get) { form.append(el("div", { class: "task-text" }, paras(q.text || q.prompt))); return; }
    fs.append(el("legend", {}, `${++n}. `, q.title || KINDS[q.type] || ""), el("div", { class: "prompt" }, paras(q.text || q.prompt),
      q.points ? el("p", { class: "meta" }, `${q.points} points`) : null), node || "");
    getters.push([q.id, get]);
    fieldsets[q.id] = fs;
    form.append(fs);
  };
  for (const t of view.tasks) {
    if (t.type === "pool") for (const q of t.questions || []) addTask(q);
    else addTask(t);
  }
  const result = el("div", { class: "result", tabindex: "-1" });
  const submit = el("button", { class: "primary", disabled: !me || left === "0" }, "Submit answers");
  const info = `Attempt ${d.attempt}` + (left === "unlimited" ? " · unlimited attempts" : ` · ${left} left`) +
    ` · pass mark ${d.pass}` + (d.policy !== "best" ? ` · ${d.policy} attempt counts` : "");
  form.append(submit, !me ? el("p", { class: "note" }, el("a", { href: "#/login" }, "Log in"), " to submit your answers.")
    : left === "0" ? el("p", { class: "note" }, "You have used every attempt at this exercise.") : "");
  const history = el("div", { class: "history" });
  const meta = el("p", { class: "meta" }, info);
  box.replaceChildren(el("h2", {}, "Exercise: ", view.title), meta, history, form, result);
  if (me) attempts(history, id);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const answers = {};
    for (const [tid, get] of getters) { const v = get(); if (v) answers[tid] = v; }
    submit.disabled = true;
    result.replaceChildren(el("p", { class: "meta" }, "Grading…"));
    let r;
    try { r = await api(`exercises/${enc(id)}/submit`, { answers }); } catch (e) {
      submit.disabled = false;
      fail(result, e);
      return result.focus();
    }
    const g = JSON.parse(r.body);
    for (const c of form.elements) c.disabled = true;
    meta.textContent = `Attempt ${r.data.attempt}, submitted`;
    showResult(result, r.data, g, fieldsets, () => exercise(box, id));
    attempts(history, id);
    result.focus();
  });
}

function verdict(score) { return score >= 99.95 ? "right" : score > 0 ? "partly" : "wrong"; }

function showResult(result, data, g, fieldsets, again) {
  const status = g.pending ? "pending" : g.passed ? "passed" : "failed";
  const words = { passed: "Passed", failed: "Not passed yet", pending: "Waiting for a trainer" }[status];
  const left = data.attempts_left;
  result.className = "result " + status;
  result.replaceChildren(el("h3", {}, words, ` — score ${g.score} (pass mark ${g.pass})`),
    el("p", {}, g.pending ? `${g.pending} answer${g.pending > 1 ? "s" : ""} will be graded by a trainer. ` : "",
      left === "unlimited" ? "You may try again as often as you like." :
      left === "0" ? "No attempts left." : `${left} attempt${left === "1" ? "" : "s"} left.`));
  let right = 0;
  for (const t of g.tasks) {
    const v = t.pending ? "pending" : verdict(t.score);
    right += v === "right";
    const fb = el("div", { class: "feedback " + v },
      el("strong", {}, t.provisional ? `Provisional: ${t.suggested}` : t.pending ? "To be graded" : v === "right" ? "Right" : v === "partly" ? "Partly right" :
        t.answered === false ? "Not answered" : "Not right",
        t.pending ? "" : ` · ${t.score} of 100`),
      paras(t.feedback), t.key ? el("p", { class: "key" }, "Answer: ", t.key) : null);
    if (fieldsets[t.id]) fieldsets[t.id].append(fb);
  }
  result.append(el("p", {}, `${right} of ${g.tasks.length} tasks right; the feedback is under each task.`));
  if (left !== "0") result.append(el("button", { type: "button", class: "primary", click: again }, "Try again"));
}

/* One attempt: scores, feedback, a trainer's comment and rubric levels. */
async function attemptDetail(box, id, n) {
  try {
    const a = JSON.parse((await api(`exercises/${enc(id)}/attempts/${n}`)).body);
    box.replaceChildren(...a.tasks.map((t) => el("div", { class: "feedback" },
      el("strong", {}, t.id, " · ", t.provisional ? "provisional " + t.suggested : t.pending ? "to be graded"
        : t.reviewed ? `${t.points} of ${t.max} points` : t.score + " of 100"), paras(t.feedback),
      ...(t.levels || []).map((l) => el("p", {}, `${l.name}: ${l.points} of ${l.max}, ${l.level} ${l.comment}`)),
      t.comment ? el("p", {}, "Trainer: ", t.comment) : "")));
  } catch (e) { fail(box, e); }
}

async function attempts(box, id) {
  try {
    const doc = await api(`exercises/${enc(id)}/attempts`);
    if (!doc.items.length) return box.replaceChildren();
    const more = el("div");
    const table = el("table", { class: "data" }, el("thead", {}, el("tr", {}, ["Attempt", "Score", "Result", "When", "Comment"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, doc.items.map((a) => el("tr", {}, el("td", {}, el("button", { type: "button", class: "link", click: () => attemptDetail(more, id, a.attempt) }, a.attempt)),
        el("td", { class: "num" }, a.score), el("td", {}, a.result), el("td", {}, new Date(a.time).toLocaleString()), el("td", {}, a.comment)))));
    box.replaceChildren(el("details", {}, el("summary", {}, "Your attempts: ", doc.message), table, more));
  } catch (e) { box.replaceChildren(); }
}

/* ---- routing ---- */

async function route() {
  const h = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  if (h !== "login" && h !== "register") sessionStorage.setItem("campus.back", location.hash || "#/");
  try {
    if (h.startsWith("course/")) await course(h.slice(7));
    else if (h.startsWith("lesson/")) await lesson(h.slice(7));
    else if (h.startsWith("search/")) await search(h.slice(7));
    else if (h === "login" || h === "register") accountForm(h === "register");
    else await courses();
  } catch (e) {
    show("Error", el("h1", {}, e.code === 404 ? "Not found" : "Something went wrong"),
      el("p", { class: "error", role: "alert" }, "Sorry: " + e.message), el("p", {}, el("a", { href: "#/" }, "Back to the courses")));
  }
}

document.getElementById("search").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = new FormData(ev.target).get("q").trim();
  if (q) location.hash = "#/search/" + q;
});
document.querySelector(".skip").addEventListener("click", (ev) => { ev.preventDefault(); main.focus(); });
window.addEventListener("hashchange", route);
whoami().then(route);

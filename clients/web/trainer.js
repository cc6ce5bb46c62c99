/* trainer.js: the trainer's pages, loaded only when a trainer opens one:
 * #/reviews (the queue, oldest first, filtered by course and cohort),
 * #/reviews/ID (one answer beside its prompt and marking guide, graded on
 * the task's own points), #/cohorts (list and create), #/cohort/ID (the
 * heat map, enrolment, paced release, the gradebook). */
import { el, api, enc, say, show, fail, paras, plural, score, when, courses, courseTitle, table, words } from "./lib.js";

/* "reviews?course=x&cohort=2" -> ["reviews", URLSearchParams]. */
function parse(h) { const [p, q] = h.split("?"); return [p, new URLSearchParams(q || "")]; }
const field = (id, label, input, hint) => el("div", { class: "field" }, el("label", { for: id }, label), input, hint ? el("p", { class: "hint" }, hint) : null);
const status = () => el("div", { role: "status", class: "status" });
const ok = (box, text) => box.replaceChildren(el("p", { class: "note" }, text));

export async function page(h) {
  const [p, q] = parse(h);
  if (p === "reviews") return queue(q);
  if (p.startsWith("reviews/")) return review(p.slice(8), q);
  if (p === "cohorts") return cohorts();
  const m = /^cohort\/(\d+)$/.exec(p);
  if (m) return dashboard(m[1], q);
  throw Object.assign(new Error("no such page"), { code: 404 });
}

/* ---- the review queue ---- */

async function queueItems(q) {
  const qs = new URLSearchParams();
  if (q.get("course")) qs.set("course", q.get("course"));
  if (q.get("cohort")) qs.set("cohort", q.get("cohort"));
  const doc = await api("reviews" + (qs.toString() ? "?" + qs : ""));
  return doc.items.sort((a, b) => a.submitted.localeCompare(b.submitted) || a.id - b.id);
}

async function queue(q) {
  const [items, cat, co] = await Promise.all([queueItems(q), courses(), api("cohorts")]);
  const titles = Object.fromEntries(cat.items.map((c) => [c.id, c.title]));
  const pick = (id, label, opts, v) => field(id, label, el("select", { id, name: id },
    el("option", { value: "" }, "All"), opts.map(([k, t]) => el("option", { value: k, selected: k === v }, t))));
  const filter = el("form", { class: "filters" },
    pick("course", "Course", cat.items.map((c) => [c.id, c.title]), q.get("course")),
    pick("cohort", "Cohort", co.items.filter((c) => c.as !== "learner").map((c) => [c.id, `${c.name} (${c.course})`]), q.get("cohort")),
    el("button", {}, "Filter"));
  filter.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new URLSearchParams(new FormData(filter));
    for (const [k, v] of [...f]) if (!v) f.delete(k);
    location.hash = "#/reviews" + (f.toString() ? "?" + f : "");
  });
  const qs = q.toString() ? "?" + q : "";
  const rows = items.map((i) => [el("a", { href: `#/reviews/${i.id}${qs}` }, "Grade " + i.id), i.learner,
    titles[i.exercise.split("/")[0]] ? `${titles[i.exercise.split("/")[0]]} › ${i.exercise.split("/")[1]}` : i.exercise,
    i.task, when(i.submitted)]);
  show("Reviews", el("h1", {}, "Reviews"), filter,
    el("p", {}, plural(items.length, "answer") + " waiting, oldest first."),
    items.length ? table(["", "Learner", "Exercise", "Task", "Submitted"], rows, "data queue") : el("p", { class: "note" }, "Nothing to grade."));
}

/* One answer: the learner's text beside the prompt and the marking guide;
 * points on the task's scale (or a level per rubric criterion, or the
 * grader's suggestion confirmed), a comment, previous and next. */
async function review(id, q) {
  const [doc, items] = await Promise.all([api("reviews/" + encodeURIComponent(id)), queueItems(q).catch(() => [])]);
  const d = doc.data, max = +d.points;
  const at = items.findIndex((i) => i.id === id);
  const qs = q.toString() ? "?" + q : "";
  const go = (i) => { if (items[i]) location.hash = `#/reviews/${items[i].id}${qs}`; };
  const prevId = at > 0 ? at - 1 : -1, nextId = at >= 0 ? at + 1 : 0;
  const out = status(), comment = el("textarea", { id: "comment", name: "comment", rows: 4 });
  const grade = el("form", { class: "grade", "aria-label": "Grade" });
  let body;
  if (d.rubric) {
    grade.append(...d.rubric.map((c) => el("fieldset", { class: "task" }, el("legend", {}, `${c.name} (up to ${c.max})`),
      c.levels.map((l, k) => el("div", { class: "option" }, el("input", { type: "radio", name: "c-" + c.id, id: `c-${c.id}-${k}`, value: l.points, required: true }),
        el("label", { for: `c-${c.id}-${k}` }, `${plural(l.points, "point")}: ${l.text}`))))));
    body = () => {
      const levels = {};
      for (const c of d.rubric) levels[c.id] = +grade.querySelector(`input[name="c-${c.id}"]:checked`).value;
      return { levels };
    };
  } else {
    const pts = el("input", { id: "points", name: "points", type: "number", min: 0, max, step: 0.5, required: true, inputmode: "decimal",
      "aria-describedby": "points-hint", value: d.suggested || null });
    grade.append(field("points", `Points, out of ${max}`, pts),
      el("p", { class: "hint", id: "points-hint" }, `The learner was told ${plural(max, "point")}; half points allowed. Stored as a percentage.`));
    body = () => ({ points: +pts.value });
  }
  grade.append(field("comment", "Comment for the learner", comment),
    el("div", { class: "actions" },
      el("button", { type: "button", disabled: prevId < 0, click: () => go(prevId), "aria-keyshortcuts": "Alt+ArrowLeft" }, "← Previous"), " ",
      el("button", { class: "primary", "aria-keyshortcuts": "Control+Enter" }, "Save grade"), " ",
      d.suggested ? el("button", { type: "button", click: () => send({ confirm: true }) }, `Confirm ${d.suggested} of ${max}`) : null, " ",
      el("button", { type: "button", disabled: !items[nextId] || nextId === at, click: () => go(nextId), "aria-keyshortcuts": "Alt+ArrowRight" }, "Next →")),
    el("p", { class: "hint" }, "Keys: Ctrl+Enter saves and opens the next answer; Alt+← and Alt+→ move between answers."), out);
  async function send(b) {
    if (comment.value.trim()) b.comment = comment.value.trim();
    try {
      const r = await api("reviews/" + encodeURIComponent(id), b);
      ok(out, r.message);
      say("Saved. " + r.message);
      const rest = items.filter((i) => i.id !== id);
      const next = rest[Math.max(0, at)] || null;
      setTimeout(() => { location.hash = next ? `#/reviews/${next.id}${qs}` : "#/reviews" + qs; }, 600);
    } catch (e) { fail(out, e); }
  }
  grade.addEventListener("submit", (ev) => { ev.preventDefault(); send(body()); });
  grade.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); grade.requestSubmit(); } });
  const keys = (ev) => {
    if (!document.body.contains(grade)) return document.removeEventListener("keydown", keys);
    if (ev.altKey && ev.key === "ArrowRight") { ev.preventDefault(); go(nextId); }
    if (ev.altKey && ev.key === "ArrowLeft") { ev.preventDefault(); go(prevId); }
  };
  document.addEventListener("keydown", keys);
  const title = await courseTitle(d.exercise.split("/")[0]);
  show("Review " + id, el("nav", { class: "crumbs", "aria-label": "Breadcrumbs" }, el("a", { href: "#/reviews" + qs }, "Reviews"),
    at >= 0 ? ` › ${at + 1} of ${items.length}` : ""),
  el("h1", {}, `${d.learner}: ${d.title}`),
  el("p", { class: "meta" }, `${title} · attempt ${d.attempt} · task ${d.task} · ${plural(max, "point")}`),
  el("div", { class: "review" },
    el("section", { class: "answer", "aria-label": "Answer" }, el("h2", {}, "Answer"), el("div", { class: "text" }, paras(d.answer))),
    el("section", { class: "guide", "aria-label": "Task and marking guide" }, el("h2", {}, "Task"), paras(d.prompt),
      d.guide ? [el("h2", {}, "Marking guide"), ...paras(d.guide)] : null,
      d.model ? el("details", {}, el("summary", {}, "Model answer"), paras(d.model)) : null)),
  grade);
}

/* ---- cohorts ---- */

async function cohorts() {
  const [co, cat] = await Promise.all([api("cohorts"), courses()]);
  const mine = co.items.filter((c) => c.as !== "learner");
  const out = status();
  const pace = el("select", { id: "pace", name: "pace" }, el("option", { value: "self" }, "Self-paced: every module opens at the start"),
    el("option", { value: "every" }, "One module every N days"));
  const days = el("input", { id: "days", name: "days", type: "number", min: 1, max: 365, value: 7 });
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
  const form = el("form", { class: "account" },
    field("course", "Course", el("select", { id: "course", name: "course", required: true }, cat.items.map((c) => el("option", { value: c.id }, c.title)))),
    field("cname", "Name", el("input", { id: "cname", name: "name", required: true, maxlength: 120 })),
    field("start", "Start date", el("input", { id: "start", name: "start", type: "date", required: true, value: new Date().toISOString().slice(0, 10) })),
    field("pace", "Pace", pace), field("days", "Days between modules", days, "Used with “one module every N days”."),
    field("tz", "Time zone", el("input", { id: "tz", name: "tz", list: "zones", value: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" })),
    el("datalist", { id: "zones" }, zones.map((z) => el("option", { value: z }))),
    el("button", { class: "primary" }, "Create the cohort"), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(form));
    try {
      const r = await api("cohorts", { course: f.course, name: f.name.trim(), start: f.start, tz: f.tz.trim() || "UTC",
        pace: f.pace === "self" ? "self" : "every " + f.days });
      const id = /cohort (\d+)/.exec(r.message)[1];
      location.hash = "#/cohort/" + id;
    } catch (e) { fail(out, e); }
  });
  show("Cohorts", el("h1", {}, "Cohorts"),
    mine.length ? table(["Cohort", "Course", "Start", "Time zone", "Learners", "Closed"], mine.map((c) =>
      [el("a", { href: "#/cohort/" + c.id }, c.name), c.course, c.start, c.tz, el("td", { class: "num" }, c.learners), c.closed]))
      : el("p", { class: "note" }, "You run no cohort yet."),
    el("h2", {}, "New cohort"), form);
}

/* The heat map's five steps, light to dark blue (one hue, so it reads
 * without telling red from green); the number is in every cell. */
const step = (p) => (p >= 100 ? 4 : p >= 75 ? 3 : p >= 50 ? 2 : p > 0 ? 1 : 0);

/* RFC 4180 CSV to rows of cells. */
function csv(text) {
  const rows = [[]]; let cell = "", q = false;
  text = text.replace(/^\ufeff/, "");
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (q) { if (ch === '"') { if (text[i + 1] === '"') { cell += '"'; i++; } else q = false; } else cell += ch; }
    else if (ch === '"') q = true;
    else if (ch === ",") { rows[rows.length - 1].push(cell); cell = ""; }
    else if (ch === "\n" || ch === "\r") { if (ch === "\r" && text[i + 1] === "\n") i++; rows[rows.length - 1].push(cell); cell = ""; rows.push([]); }
    else cell += ch;
  }
  if (cell || rows[rows.length - 1].length) rows[rows.length - 1].push(cell);
  return rows.filter((r) => r.length && !(r.length === 1 && r[0] === ""));
}

async function dashboard(id, q) {
  const [c, prog, grades] = await Promise.all([api("cohorts/" + id), api("cohorts/" + id + "/progress"), api("cohorts/" + id + "/grades")]);
  const d = c.data;
  const mods = Object.keys(d).filter((k) => k.startsWith("module ")).map((k) => {
    const [, opens, due] = /^opens (\S+)(?:, due (\S+))?/.exec(d[k]) || [];
    return { id: k.slice(7), opens, due };
  });
  const titles = {};
  try { for (const m of (await api("progress/" + encodeURIComponent(d.course))).items) titles[m.module] = m.title; } catch (e) { /* ids will do */ }
  const gb = csv(grades.body || "");
  show(d.name, el("nav", { class: "crumbs", "aria-label": "Breadcrumbs" }, el("a", { href: "#/cohorts" }, "Cohorts"), " › ", d.name),
    el("h1", {}, d.name),
    el("p", { class: "meta" }, `${await courseTitle(d.course)} · starts ${d.start} (${d.tz}) · ${d.pace} · ${plural(d.learners, "learner")}`,
      d.closed === "yes" ? " · closed" : ""),
    codeBox(id, d.code), el("p", {}, el("a", { class: "button", href: "#/live/" + id }, "Live session console")),
    heatmap(id, prog.items, mods, titles, gb, q), enrol(id), release(id, mods, titles, prog.items), gradebook(id, d, gb));
}

function codeBox(id, code) {
  const out = el("span", { role: "status", class: "meta" });
  const copy = async () => {
    try { await navigator.clipboard.writeText(code); out.textContent = " Copied."; } catch (e) {
      const r = document.createRange(); r.selectNodeContents(shown); getSelection().removeAllRanges(); getSelection().addRange(r);
      out.textContent = " Selected: press Ctrl+C to copy.";
    }
  };
  const shown = el("code", { class: "code" }, code || "off");
  return el("p", { class: "enrol-code" }, "Enrolment code: ", shown, " ",
    code ? el("button", { type: "button", click: copy }, "Copy the code") : null, out);
}

function heatmap(id, rows, mods, titles, gb, q) {
  const box = el("section", { class: "heat", "aria-labelledby": "heat-h" }, el("h2", { id: "heat-h" }, "Progress"));
  if (!rows.length) { box.append(el("p", { class: "note" }, "No learner has joined yet.")); return box; }
  const now = new Date().toISOString().slice(0, 10);
  const cols = [["name", "Learner"], ...mods.map((m) => [m.id + " %", titles[m.id] || words(m.id)]), ["passed", "Exercises passed"], ["late", "Late"]];
  let sort = q.get("sort") || "name", desc = q.get("order") === "desc";
  const detail = el("div", { class: "learner", tabindex: "-1" });
  const wrap = el("div", { class: "scroll" });
  const draw = () => {
    const by = [...rows].sort((a, b) => {
      const x = a[sort], y = b[sort], nx = parseFloat(x), ny = parseFloat(y);
      const r = sort !== "name" && !isNaN(nx) && !isNaN(ny) ? nx - ny : String(x).localeCompare(String(y));
      return (desc ? -r : r) || a.name.localeCompare(b.name);
    });
    const th = ([k, label]) => el("th", { scope: "col", "aria-sort": k === sort ? (desc ? "descending" : "ascending") : "none" },
      el("button", { type: "button", class: "sort", click: () => { desc = k === sort ? !desc : k !== "name"; sort = k; draw(); wrap.querySelector(`th[aria-sort$="ending"] button`).focus(); } },
        label, k === sort ? (desc ? " ▼" : " ▲") : ""));
    wrap.replaceChildren(el("table", { class: "data heatmap" },
      el("caption", {}, "Lessons done per module, in percent; ", el("span", { class: "late-mark" }, "!"), " marks a module past its due date and not finished."),
      el("thead", {}, el("tr", {}, cols.map(th))),
      el("tbody", {}, by.map((r) => el("tr", {},
        el("th", { scope: "row" }, el("button", { type: "button", class: "link", click: () => learner(id, r, gb, detail) }, r.display || r.name)),
        mods.map((m) => {
          const p = +r[m.id + " %"] || 0, late = m.due && m.due < now && p < 100;
          return el("td", { class: `num h${step(p)}${late ? " late" : ""}` }, `${p}%`, late ? el("span", { class: "late-mark", title: "late" }, " !", el("span", { class: "sr" }, " late")) : "");
        }),
        el("td", { class: "num" }, r.passed), el("td", { class: "num" + (+r.late ? " late" : "") }, r.late))))));
  };
  draw();
  box.append(wrap, el("p", { class: "legend meta" }, "Scale: ", [0, 1, 2, 3, 4].map((s) =>
    el("span", { class: "num h" + s }, ["0%", "1–49%", "50–74%", "75–99%", "100%"][s]))), detail);
  return box;
}

/* A learner's scores per exercise (the gradebook's row) and their answers
 * waiting in the review queue. */
async function learner(id, r, gb, box) {
  const head = gb[0] || [], row = gb.find((g, i) => i && g[2] === r.name) || [];
  const ex = head.map((h, i) => [h, i]).filter(([h]) => /^Exercise: /.test(h));
  let waiting = [];
  try { waiting = (await api("reviews?cohort=" + encodeURIComponent(id))).items.filter((i) => i.learner === r.name); } catch (e) { /* shown empty */ }
  box.replaceChildren(el("h3", {}, `Attempts of ${r.display || r.name}`),
    el("p", { class: "meta" }, `Last activity ${r["last activity"] ? when(r["last activity"]) : "never"} · ${plural(r.late, "late submission")}`),
    table(["Exercise", "Score kept"], ex.map(([h, i]) => [h.replace(/^Exercise: /, "").replace(/ \(Real\)$/, ""),
      el("td", { class: "num" }, row[i] === "-" || row[i] == null ? "not attempted" : score(row[i]))])),
    waiting.length ? el("p", {}, "Waiting for a grade: ", waiting.map((w) => el("a", { href: `#/reviews/${w.id}?cohort=${id}` }, `${w.exercise.split("/")[1]} (${w.task}) `))) : null);
  box.focus();
}

/* Bulk enrolment: pasted or chosen CSV, checked line by line here, then
 * sent whole (campusd applies all or nothing and names a bad line). */
const NAME = /^[a-z0-9._-]{3,32}$/;
function enrol(id) {
  const text = el("textarea", { id: "csv", name: "csv", rows: 5, placeholder: "name,display name,email" });
  const file = el("input", { id: "csvfile", type: "file", accept: ".csv,text/csv" });
  const accounts = el("input", { id: "accounts", type: "checkbox" });
  const out = status();
  file.addEventListener("change", async () => { if (file.files[0]) text.value = await file.files[0].text(); });
  const form = el("form", {}, field("csv", "Paste rows: name, display name, email", text),
    field("csvfile", "or choose a CSV file", file),
    el("div", { class: "option" }, accounts, el("label", { for: "accounts" }, "Create accounts for new names (one-time passwords)")),
    el("button", { class: "primary" }, "Enrol"), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const rows = csv(text.value), bad = [];
    rows.forEach((r, i) => {
      if (i === 0 && r[0].trim().toLowerCase() === "name") return;
      if (!NAME.test(r[0].trim())) bad.push(`line ${i + 1}: '${r[0]}' is not an account name (3 to 32 of a-z, 0-9, . _ -)`);
      else if (r.length > 3) bad.push(`line ${i + 1}: more than three columns`);
    });
    if (!rows.length) bad.push("no rows to enrol");
    if (bad.length) return out.replaceChildren(el("ul", { class: "error", role: "alert" }, bad.map((b) => el("li", {}, b))));
    try {
      const r = await api(`cohorts/${id}/enrol`, { csv: text.value, accounts: accounts.checked });
      const pw = r.body ? csv(r.body) : [];
      out.replaceChildren(el("p", { class: "note" }, r.message), pw.length > 1 ? [el("p", {}, "New accounts and their one-time passwords (shown only now):"),
        table(pw[0], pw.slice(1))] : "");
    } catch (e) { out.replaceChildren(el("p", { class: "error", role: "alert" }, e.message)); }
  });
  return el("section", {}, el("h2", {}, "Enrol learners"), form);
}

function release(id, mods, titles, rows) {
  const out = status();
  const modSel = (n) => el("select", { id: n, name: "module" }, mods.map((m) => el("option", { value: m.id }, `${titles[m.id] || m.id} (opens ${m.opens}${m.due ? ", due " + m.due : ""})`)));
  const open = el("form", {}, field("open-module", "Module", modSel("open-module")), el("button", {}, "Open it now for everyone"));
  open.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { ok(out, (await api(`cohorts/${id}/open/${enc(open.elements.module.value)}`, {})).message); } catch (e) { fail(out, e); }
  });
  const ext = el("form", {}, field("ext-learner", "Learner", el("select", { id: "ext-learner", name: "learner" }, rows.map((r) => el("option", { value: r.name }, r.display || r.name)))),
    field("ext-module", "Module", modSel("ext-module")),
    field("ext-date", "Date", el("input", { id: "ext-date", name: "date", type: "date", required: true }), "Before the opening: opens it earlier for them; after: their new due date."),
    el("button", {}, "Extend for this learner"));
  ext.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(ext));
    try { ok(out, (await api(`cohorts/${id}/extend`, f)).message); } catch (e) { fail(out, e); }
  });
  return el("section", {}, el("h2", {}, "Modules"), open, rows.length ? ext : null, out);
}

function gradebook(id, d, gb) {
  const head = (gb[0] || []).map((h) => h.replace(/^Exercise: /, "").replace(/ \(Real\)$/, ""));
  return el("section", {}, el("h2", {}, "Gradebook"),
    el("p", {}, el("a", { class: "button", href: `/api/cohorts/${id}/grades.csv`, download: `cohort-${id}-${d.course}-grades.csv` }, "Download the CSV")),
    gb.length > 1 ? el("div", { class: "scroll" }, table(head, gb.slice(1).map((r) => r.map((v, i) => i > 3 && /^-?\d+(\.\d+)?$/.test(v) ? el("td", { class: "num" }, score(v)) : v)), "data gradebook"))
      : el("p", { class: "meta" }, "No learners yet."));
}

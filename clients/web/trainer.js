/* trainer.js: the trainer's pages, loaded when first opened: #/reviews
 * (the queue), #/reviews/ID (grading), #/cohorts, #/cohort/ID. */
import { el, a, btn, field, status, onSubmit as submit, E, api, enc, say, show, fail, paras, plural, score, when, courses, titles,
  courseTitle, table, words } from "./lib.js";

const ops = (list) => list.map(([k, t]) => el("option", { value: k }, t));
const ok = (box, text) => box.replaceChildren(el("p.note", text));
const crumbs = (href, up, here) => el("nav.crumbs", { "aria-label": "Breadcrumbs" }, a(href, up), " › ", here);
const scroll = (label, node) => el("div.scroll", { tabindex: 0, role: "region", "aria-label": label }, node);

export async function page(h) {
  const [p, qs] = h.split("?"), q = new URLSearchParams(qs || ""), m = /^cohort\/(\d+)$/.exec(p);
  if (p === "reviews") return queue(q);
  if (p.startsWith("reviews/")) return review(p.slice(8), q);
  if (p === "cohorts") return cohorts();
  if (m) return dashboard(m[1]);
  throw Object.assign(new Error("no such page"), { code: 404 });
}


const qstr = (q) => (q.toString() ? "?" + q : "");
async function queueItems(q) {
  const doc = await api("reviews" + qstr(q));
  return doc.items.sort((a, b) => a.submitted.localeCompare(b.submitted) || a.id - b.id);
}

async function queue(q) {
  const [items, cat, co, t] = await Promise.all([queueItems(q), courses(), api("cohorts"), titles()]);
  const pick = (id, label, opts) => { const s = el("select", { id, name: id }, ops([["", "All"], ...opts])); s.value = q.get(id) || ""; return field(id, label, s); };
  const filter = submit(el("form.filters",
    pick("course", "Course", cat.items.map((c) => [c.id, c.title])),
    pick("cohort", "Cohort", co.items.filter((c) => c.as !== "learner").map((c) => [c.id, `${c.name} (${c.course})`])),
    el("button", "Filter")), () => {
    const f = new URLSearchParams([...new FormData(filter)].filter(([, v]) => v));
    location.hash = "#/reviews" + qstr(f);
  });
  const rows = items.map((i) => {
    const [c, x] = i.exercise.split("/");
    return [a(`#/reviews/${i.id}${qstr(q)}`, "Grade " + i.id), i.learner, `${t[c] || c} › ${x}`, i.task, when(i.submitted)];
  });
  show("Reviews", el("h1", "Reviews"), filter, el("p", plural(items.length, "answer") + " waiting, oldest first."),
    items.length ? table(["", "Learner", "Exercise", "Task", "Submitted"], rows, "data queue") : el("p.note", "Nothing to grade."));
}

/* An answer beside its prompt and guide, graded in the task's points, by
 * rubric levels, or by confirming the grader's suggestion. */
async function review(id, q) {
  const [doc, items] = await Promise.all([api("reviews/" + E(id)), queueItems(q).catch(() => [])]);
  const d = doc.data, max = +d.points, at = items.findIndex((i) => i.id === id), prev = at - 1, next = at + 1;
  const go = (i) => { if (at >= 0 && items[i]) location.hash = `#/reviews/${items[i].id}${qstr(q)}`; };
  const move = (i, k, t) => el("button", { type: "button", disabled: at < 0 || !items[i], click: () => go(i), "aria-keyshortcuts": "Alt+" + k }, t);
  const out = status(), comment = el("textarea", { id: "comment", rows: 4 }), grade = el("form.grade", { "aria-label": "Grade" });
  let body;
  if (d.rubric) {
    grade.append(...d.rubric.map((c) => el("fieldset.task", el("legend", `${c.name} (up to ${c.max})`),
      c.levels.map((l, k) => el("div.option", el("input", { type: "radio", name: "c-" + c.id, id: `c-${c.id}-${k}`, value: l.points, required: true }),
        el("label", { for: `c-${c.id}-${k}` }, `${plural(l.points, "point")}: ${l.text}`))))));
    body = () => ({ levels: Object.fromEntries(d.rubric.map((c) => [c.id, +grade.querySelector(`[name="c-${c.id}"]:checked`).value])) });
  } else {
    const pts = el("input", { id: "points", type: "number", min: 0, max, step: 0.5, required: true, value: d.suggested });
    grade.append(field("points", `Points, out of ${max}`, pts, `The learner was told ${plural(max, "point")}; half points allowed. Stored as a percentage.`));
    body = () => ({ points: +pts.value });
  }
  const send = async (b) => {
    if (comment.value.trim()) b.comment = comment.value.trim();
    try {
      const r = await api("reviews/" + E(id), b);
      ok(out, r.message);
      say("Saved. " + r.message);
      const after = items.filter((i) => i.id !== id)[Math.max(0, at)];
      setTimeout(() => { location.hash = "#/reviews" + (after ? "/" + after.id : "") + qstr(q); }, 600);
    } catch (e) { fail(out, e); }
  };
  grade.append(field("comment", "Comment for the learner", comment), el("div.actions",
    move(prev, "P", "← Previous"), " ", el("button.primary", { "aria-keyshortcuts": "Control+Enter" }, "Save grade"), " ",
    d.suggested && btn(`Confirm ${d.suggested} of ${max}`, () => send({ confirm: true })), " ", move(next, "N", "Next →")),
  el("p.hint", "Keys: Ctrl+Enter saves and opens the next answer; Alt+N next, Alt+P previous."), out);
  submit(grade, () => send(body()));
  grade.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); grade.requestSubmit(); } });
  const keys = (ev) => {
    if (!grade.isConnected) return document.removeEventListener("keydown", keys);
    const k = ev.altKey && { KeyN: next, KeyP: prev }[ev.code];
    if (k !== undefined && k !== false) { ev.preventDefault(); go(k); }
  };
  document.addEventListener("keydown", keys);
  show("Review " + id, crumbs("#/reviews" + qstr(q), "Reviews", at >= 0 ? `${at + 1} of ${items.length}` : id),
    el("h1", `${d.learner}: ${d.title}`),
    el("p.meta", `${await courseTitle(d.exercise.split("/")[0])} · attempt ${d.attempt} · task ${d.task} · ${plural(max, "point")}`),
    el("div.review",
      el("section.answer", { "aria-label": "Answer" }, el("h2", "Answer"), el("div.text", paras(d.answer))),
      el("section.guide", { "aria-label": "Task and marking guide" }, el("h2", "Task"), paras(d.prompt),
        d.guide && [el("h2", "Marking guide"), ...paras(d.guide)],
        d.model && el("details", el("summary", "Model answer"), paras(d.model)))),
    grade);
}


async function cohorts() {
  const [co, cat] = await Promise.all([api("cohorts"), courses()]);
  const mine = co.items.filter((c) => c.as !== "learner"), out = status();
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
  const form = submit(el("form.account",
    field("course", "Course", el("select", { id: "course", name: "course" }, ops(cat.items.map((c) => [c.id, c.title])))),
    field("cname", "Name", el("input", { id: "cname", name: "name", required: true, maxlength: 120 })),
    field("start", "Start date", el("input", { id: "start", name: "start", type: "date", required: true, value: new Date().toISOString().slice(0, 10) })),
    field("pace", "Pace", el("select", { id: "pace", name: "pace" }, ops([["self", "Self-paced: every module opens at the start"], ["every", "One module every N days"]]))),
    field("days", "Days between modules", el("input", { id: "days", name: "days", type: "number", min: 1, max: 365, value: 7 }), "Used with “one module every N days”."),
    field("tz", "Time zone", el("input", { id: "tz", name: "tz", list: "zones", value: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" })),
    el("datalist", { id: "zones" }, ops(zones.map((z) => [z]))),
    el("button.primary", "Create the cohort"), out), async () => {
    const f = Object.fromEntries(new FormData(form));
    try {
      const r = await api("cohorts", { course: f.course, name: f.name.trim(), start: f.start, tz: f.tz.trim() || "UTC",
        pace: f.pace === "self" ? "self" : "every " + f.days });
      location.hash = "#/cohort/" + /cohort (\d+)/.exec(r.message)[1];
    } catch (e) { fail(out, e); }
  });
  show("Cohorts", el("h1", "Cohorts"),
    mine.length ? table(["Cohort", "Course", "Start", "Time zone", "Learners", "Closed"], mine.map((c) =>
      [a("#/cohort/" + c.id, c.name), c.course, c.start, c.tz, el("td.num", c.learners), c.closed]))
      : el("p.note", "You run no cohort yet."),
    el("h2", "New cohort"), form);
}

/* RFC 4180 CSV to rows. */
function csv(text) {
  const rows = [];
  let row = [];
  for (const m of text.replace(/^\ufeff/, "").matchAll(/(?:"((?:[^"]|"")*)"|([^,\r\n]*))(,|\r?\n|\r|$)/g)) {
    row.push(m[1] != null ? m[1].replace(/""/g, '"') : m[2]);
    if (m[3] !== ",") { rows.push(row); row = []; if (!m[3]) break; }
  }
  return rows.filter((r) => r.join("") !== "");
}

async function dashboard(id) {
  const [c, prog, grades] = await Promise.all(["", "/progress", "/grades"].map((s) => api("cohorts/" + id + s)));
  const d = c.data, names = {};
  const mods = Object.keys(d).filter((k) => k.startsWith("module ")).map((k) => {
    const [, opens, due] = /^opens ([^,]+)(?:, due (\S+))?/.exec(d[k]) || [];
    return { id: k.slice(7), opens, due };
  });
  try { for (const m of (await api("progress/" + E(d.course))).items) names[m.module] = m.title; } catch (e) { /* ids do */ }
  const gb = csv(grades.body || "");
  show(d.name, crumbs("#/cohorts", "Cohorts", d.name), el("h1", d.name),
    el("p.meta", `${await courseTitle(d.course)} · starts ${d.start} (${d.tz}) · ${d.pace} · ${plural(d.learners, "learner")}`,
      d.closed === "yes" ? " · closed" : ""),
    codeBox(d.code), el("p", el("a.button", { href: "#/live/" + id }, "Live session console")),
    heatmap(id, prog.items, mods, names), enrol(id), release(id, mods, names, prog.items), gradebook(id, d, gb));
}

function codeBox(code) {
  const out = el("span", { role: "status", class: "meta" }), shown = el("code.code", code || "off");
  const copy = async () => {
    try { await navigator.clipboard.writeText(code); out.textContent = " Copied."; } catch (e) {
      getSelection().selectAllChildren(shown);
      out.textContent = " Selected: press Ctrl+C to copy.";
    }
  };
  return el("p.enrol-code", "Enrolment code: ", shown, " ", code && el("button", { type: "button", click: copy }, "Copy the code"), out);
}

/* Percent done: five steps of one blue (no red against green), the number
 * in every cell. */
const step = (p) => (p >= 100 ? 4 : p >= 75 ? 3 : p >= 50 ? 2 : p > 0 ? 1 : 0);
function heatmap(id, rows, mods, names) {
  const box = el("section.heat", el("h2", "Progress"));
  if (!rows.length) return box.appendChild(el("p.note", "No learner has joined yet.")) && box;
  const today = new Date().toISOString().slice(0, 10);
  const cols = [["name", "Learner"], ...mods.map((m) => [m.id + " %", names[m.id] || words(m.id)]), ["passed", "Exercises passed"], ["late", "Late"]];
  const detail = el("div.learner", { tabindex: "-1" }), wrap = scroll("Heat map");
  let sort = "name", desc = false;
  const draw = () => {
    const by = [...rows].sort((a, b) => {
      const x = parseFloat(a[sort]), y = parseFloat(b[sort]);
      const r = sort !== "name" && !isNaN(x) && !isNaN(y) ? x - y : String(a[sort]).localeCompare(b[sort]);
      return (desc ? -r : r) || a.name.localeCompare(b.name);
    });
    const th = ([k, label]) => el("th", { scope: "col", "aria-sort": k === sort ? (desc ? "descending" : "ascending") : "none" },
      el("button", { type: "button", class: "sort", click: () => { desc = k === sort ? !desc : k !== "name"; sort = k; draw(); wrap.querySelector("th[aria-sort$=ending] button").focus(); } },
        label, k === sort ? (desc ? " ▼" : " ▲") : ""));
    wrap.replaceChildren(el("table.data.heatmap",
      el("caption", "Lessons done per module, in percent; ! marks a module past its due date and not finished."),
      el("thead", el("tr", cols.map(th))),
      el("tbody", by.map((r) => el("tr",
        el("th", { scope: "row" }, el("button", { type: "button", class: "link", click: () => learner(id, r, detail) }, r.display || r.name)),
        mods.map((m) => {
          const p = +r[m.id + " %"] || 0, late = m.due && m.due < today && p < 100;
          return el("td", { class: `num h${step(p)}${late ? " late" : ""}` }, p + "%", late && el("span", { title: "late" }, " !", el("span.sr", " late")));
        }),
        el("td.num", r.passed), el("td", { class: "num" + (+r.late ? " late" : "") }, r.late))))));
  };
  draw();
  box.append(wrap, el("p.legend.meta", "Scale: ", ["0%", "1–49%", "50–74%", "75–99%", "100%"].map((s, i) => el("span", { class: "h" + i }, s))), detail);
  return box;
}

/* A learner's attempts at the course's exercises, and answers waiting. */
async function learner(id, r, box) {
  const [att, q] = await Promise.all([api(`cohorts/${id}/learners/${E(r.name)}/attempts`), api("reviews?cohort=" + id).catch(() => ({ items: [] }))]);
  const waiting = q.items.filter((i) => i.learner === r.name);
  box.replaceChildren(el("h3", "Attempts of ", r.display || r.name),
    el("p.meta", `Last activity ${r["last activity"] ? when(r["last activity"]) : "never"} · ${plural(r.late, "late submission")}`),
    att.items.length ? table(["Exercise", "Attempt", "When", "Score", "Result", "Comment"], att.items.map((x) =>
      [x.title, el("td.num", x.attempt), when(x.time), el("td.num", score(x.score)), x.result + (x.late === "yes" ? ", late" : ""), x.comment]))
      : el("p.meta", "No attempts yet."),
    waiting.length ? el("p", "Waiting for a grade: ", waiting.map((w) => a(`#/reviews/${w.id}?cohort=${id}`, `${w.exercise.split("/")[1]} (${w.task}) `))) : null);
  box.focus();
}
const exName = (h) => h.replace(/^Exercise: /, "").replace(/ \(Real\)$/, "");

/* Bulk enrolment: lines checked here, then sent whole (campusd applies all
 * or nothing, naming a bad line). */
function enrol(id) {
  const text = el("textarea", { id: "csv", rows: 5, placeholder: "name,display name,email" });
  const file = el("input", { id: "csvfile", type: "file", accept: ".csv,text/csv" });
  const accounts = el("input", { id: "accounts", type: "checkbox" }), out = status();
  file.addEventListener("change", async () => { if (file.files[0]) text.value = await file.files[0].text(); });
  const form = submit(el("form", field("csv", "Paste rows: name, display name, email", text), field("csvfile", "or choose a CSV file", file),
    el("div.option", accounts, el("label", { for: "accounts" }, "Create accounts for new names (one-time passwords)")),
    el("button.primary", "Enrol"), out), async () => {
    const rows = csv(text.value), bad = rows.length ? [] : ["no rows to enrol"];
    rows.forEach((r, i) => {
      if (i === 0 && r[0].trim().toLowerCase() === "name") return;
      if (!/^[a-z0-9._-]{3,32}$/.test(r[0].trim())) bad.push(`line ${i + 1}: '${r[0]}' is not an account name (3 to 32 of a-z, 0-9, . _ -)`);
      else if (r.length > 3) bad.push(`line ${i + 1}: more than three columns`);
    });
    if (bad.length) return out.replaceChildren(el("ul.error", { role: "alert" }, bad.map((b) => el("li", b))));
    try {
      const r = await api(`cohorts/${id}/enrol`, { csv: text.value, accounts: accounts.checked }), pw = r.body ? csv(r.body) : [];
      out.replaceChildren(el("p.note", r.message), ...(pw.length > 1 ? [el("p", "New accounts and their one-time passwords (shown only now):"), table(pw[0], pw.slice(1))] : []));
    } catch (e) { out.replaceChildren(el("p.error", { role: "alert" }, e.message)); }
  });
  return el("section", el("h2", "Enrol learners"), form);
}

function release(id, mods, names, rows) {
  const out = status(), run = async (p, b) => { try { ok(out, (await api(p, b)).message); } catch (e) { fail(out, e); } };
  const modSel = (n) => el("select", { id: n, name: "module" }, ops(mods.map((m) => [m.id, `${names[m.id] || m.id} (opens ${m.opens}${m.due ? ", due " + m.due : ""})`])));
  const open = submit(el("form", field("open-module", "Module", modSel("open-module")), el("button", "Open it now for everyone")),
    () => run(`cohorts/${id}/open/${enc(open.elements.module.value)}`, {}));
  const ext = submit(el("form", field("ext-learner", "Learner", el("select", { id: "ext-learner", name: "learner" }, ops(rows.map((r) => [r.name, r.display || r.name])))),
    field("ext-module", "Module", modSel("ext-module")),
    field("ext-date", "Date", el("input", { id: "ext-date", name: "date", type: "date", required: true }), "Before the opening: opens it earlier for them; after: their new due date."),
    el("button", "Extend for this learner")), () => run(`cohorts/${id}/extend`, Object.fromEntries(new FormData(ext))));
  return el("section", el("h2", "Modules"), open, rows.length ? ext : null, out);
}

function gradebook(id, d, gb) {
  return el("section", el("h2", "Gradebook"),
    el("p", el("a.button", { href: `/api/cohorts/${id}/grades.csv`, download: `cohort-${id}-${d.course}-grades.csv` }, "Download the CSV")),
    gb.length > 1 ? scroll("Gradebook", table(gb[0].map(exName), gb.slice(1).map((r) => r.map((v, i) => i > 3 && /^-?\d+(\.\d+)?$/.test(v) ? el("td.num", score(v)) : v)), "data gradebook"))
      : el("p.meta", "No learners yet."));
}

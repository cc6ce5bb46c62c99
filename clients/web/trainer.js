/* trainer.js: the trainer's pages, loaded when first opened: #/reviews (the
 * queue), #/reviews/ID (grading), #/cohorts, #/cohort/ID. */
import { el, a, btn, field, form, onSubmit, E, api, enc, say, show, current, fail, note, paras, score, when, day, num, pct, t, tn,
  courses, titles, courseTitle, table, words, ops, crumbs, scroll } from "./lib.js";

export async function page(h) {
  const [p, qs] = h.split("?"), q = new URLSearchParams(qs || ""), m = /^cohort\/(\d+)$/.exec(p);
  if (p === "reviews") return queue(q);
  if (p.startsWith("reviews/")) return review(p.slice(8), q);
  if (p === "cohorts") return cohorts();
  if (m) return dashboard(m[1]);
  throw Object.assign(new Error(t("noPage")), { code: 404 });
}

const qstr = (q) => (q.toString() ? "?" + q : "");
const queueItems = async (q) => (await api("reviews" + qstr(q))).items.sort((x, y) => x.submitted.localeCompare(y.submitted) || x.id - y.id);
const select = (id, list, name = id) => el("select", { id, name }, ops(list));
const courseOps = (cat) => cat.items.map((c) => [c.id, c.title]);

async function queue(q) {
  const live = current();
  const [items, cat, co, ti] = await Promise.all([queueItems(q), courses(), api("cohorts"), titles()]);
  const pick = (id, list) => { const s = select(id, [["", t("all")], ...list]); s.value = q.get(id) || ""; return field(id, t(id), s); };
  const filter = onSubmit(el("form.filters", pick("course", courseOps(cat)),
    pick("cohort", co.items.filter((c) => c.as !== "learner").map((c) => [c.id, `${c.name} (${c.course})`])),
    el("button", t("filter"))), () => {
    location.hash = "#/reviews" + qstr(new URLSearchParams([...new FormData(filter)].filter(([, v]) => v)));
  });
  if (live()) show(t("reviews"), el("h1", t("reviews")), filter, el("p", t("waiting", items.length)),
    items.length ? table(["", t("learner"), t("exercise"), t("task"), t("submittedCol")], items.map((i) => {
      const [c, x] = i.exercise.split("/");
      return [a(`#/reviews/${i.id}${qstr(q)}`, t("grade", i.id)), i.learner, `${ti[c] || c} › ${x}`, i.task, when(i.submitted)];
    }), "data queue") : el("p.note", t("nothingToGrade")));
}

/* An answer beside its prompt and guide, graded in the task's points, by
 * rubric levels, or by confirming the grader's suggestion. */
async function review(id, q) {
  const live = current();
  const [doc, items] = await Promise.all([api("reviews/" + E(id)), queueItems(q).catch(() => [])]);
  const d = doc.data, ctitle = await courseTitle(d.exercise.split("/")[0]);
  if (!live()) return;
  const max = +d.points, at = items.findIndex((i) => i.id === id), prev = at - 1, next = at + 1;
  const go = (i) => { if (at >= 0 && items[i]) location.hash = `#/reviews/${items[i].id}${qstr(q)}`; };
  const move = (i, k, s) => el("button", { type: "button", disabled: at < 0 || !items[i], click: () => go(i), "aria-keyshortcuts": "Alt+" + k }, t(s));
  const comment = el("textarea", { id: "comment", rows: 4 });
  let body;
  const grading = d.rubric ? d.rubric.map((c) => el("fieldset.task", el("legend", t("upTo", c.name, c.max)),
    c.levels.map((l, k) => el("div.option", el("input", { type: "radio", name: "c-" + c.id, id: `c-${c.id}-${k}`, value: l.points, required: true }),
      el("label", { for: `c-${c.id}-${k}` }, t("points", l.points), ": ", l.text)))))
    : field("points", t("outOf", max), el("input", { id: "points", type: "number", min: 0, max, step: 0.5, required: true, value: d.suggested }),
      t("pointsHint", t("points", max)));
  const grade = form("form.grade", [grading, field("comment", t("commentFor"), comment), el("div.actions",
    move(prev, "P", "prev"), " ", el("button.primary", { "aria-keyshortcuts": "Control+Enter" }, t("saveGrade")), " ",
    d.suggested && btn(t("confirm", d.suggested, max), () => send({ confirm: true })), " ", move(next, "N", "next")),
  el("p.hint", t("keys"))], () => send(d.rubric
    ? { levels: Object.fromEntries(d.rubric.map((c) => [c.id, +grade.querySelector(`[name="c-${c.id}"]:checked`).value])) }
    : { points: +grade.elements.points.value }));
  const out = grade.lastChild;
  const send = async (b) => {
    if (comment.value.trim()) b.comment = comment.value.trim();
    try {
      const r = await api("reviews/" + E(id), b);
      note(out, r.message);
      say(t("saved", r.message));
      const after = items.filter((i) => i.id !== id)[Math.max(0, at)];
      setTimeout(() => { location.hash = "#/reviews" + (after ? "/" + after.id : "") + qstr(q); }, 600);
    } catch (e) { fail(out, e); }
  };
  grade.setAttribute("aria-label", t("gradeForm"));
  grade.addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); grade.requestSubmit(); } });
  const keys = (ev) => {
    if (!grade.isConnected) return document.removeEventListener("keydown", keys);
    const k = ev.altKey && { KeyN: next, KeyP: prev }[ev.code];
    if (k !== undefined && k !== false) { ev.preventDefault(); go(k); }
  };
  document.addEventListener("keydown", keys);
  show(t("reviewOf", id), crumbs(a("#/reviews" + qstr(q), t("reviews")), at >= 0 ? t("nOfM", at + 1, items.length) : id),
    el("h1", `${d.learner}: ${d.title}`),
    el("p.meta", ctitle, " · ", t("reviewMeta", d.attempt, d.task), " · ", t("points", max)),
    el("div.review",
      el("section.answer", { "aria-label": t("answerHead") }, el("h2", t("answerHead")), el("div.text", paras(d.answer))),
      el("section.guide", { "aria-label": t("taskGuide") }, el("h2", t("task")), paras(d.prompt),
        d.guide && [el("h2", t("guide")), paras(d.guide)],
        d.model && el("details", el("summary", t("model")), paras(d.model)))),
    grade);
}

async function cohorts() {
  const live = current();
  const [co, cat] = await Promise.all([api("cohorts"), courses()]);
  const mine = co.items.filter((c) => c.as !== "learner");
  const input = (id, more, name = id) => el("input", { id, name, ...more });
  const make = form("form.account", [
    field("course", t("course"), select("course", courseOps(cat))),
    field("cname", t("name"), input("cname", { required: true, maxlength: 120 }, "name")),
    field("start", t("startDate"), input("start", { type: "date", required: true, value: new Date().toISOString().slice(0, 10) })),
    field("pace", t("pace"), select("pace", [["self", t("selfPaced")], ["every", t("everyN")]])),
    field("days", t("days"), input("days", { type: "number", min: 1, max: 365, value: 7 }), t("daysHint")),
    field("tz", t("tz"), input("tz", { list: "zones", value: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" })),
    el("datalist", { id: "zones" }, ops((Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : []).map((z) => [z]))),
    el("button.primary", t("createCohort"))], async (out) => {
    const f = Object.fromEntries(new FormData(make));
    try {
      const r = await api("cohorts", { course: f.course, name: f.name.trim(), start: f.start, tz: f.tz.trim() || "UTC",
        pace: f.pace === "self" ? "self" : "every " + f.days });
      location.hash = "#/cohort/" + /cohort (\d+)/.exec(r.message)[1];
    } catch (e) { fail(out, e); }
  });
  if (live()) show(t("cohorts"), el("h1", t("cohorts")),
    mine.length ? table([t("cohort"), t("course"), t("start"), t("tz"), t("learners"), t("closed")], mine.map((c) =>
      [a("#/cohort/" + c.id, c.name), c.course, day(c.start), c.tz, el("td.num", num(c.learners)), t(c.closed)]))
      : el("p.note", t("noCohortRun")),
    el("h2", t("newCohort")), make);
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
  const live = current();
  const [c, prog, grades] = await Promise.all(["", "/progress", "/grades"].map((s) => api("cohorts/" + id + s)));
  const d = c.data, names = {};
  const mods = Object.keys(d).filter((k) => k.startsWith("module ")).map((k) => {
    const [, opens, due] = /^opens ([^,]+)(?:, due (\S+))?/.exec(d[k]) || [];
    return { id: k.slice(7), opens, due };
  });
  try { for (const m of (await api("progress/" + E(d.course))).items) names[m.module] = m.title; } catch (e) { /* ids do */ }
  const ctitle = await courseTitle(d.course);
  if (!live()) return;
  show(d.name, crumbs(a("#/cohorts", t("cohorts")), d.name), el("h1", d.name),
    el("p.meta", ctitle, " · ", t("starts", day(d.start), d.tz), " · ", d.pace, " · ", t("nLearners", +d.learners),
      d.closed === "yes" && " · " + t("isClosed")),
    codeBox(d.code), el("p", el("a.button", { href: "#/live/" + id }, t("liveConsole"))),
    heatmap(id, prog.items, mods, names), enrol(id), release(id, mods, names, prog.items), gradebook(id, d, csv(grades.body || "")));
}

function codeBox(code) {
  const out = el("span.meta", { role: "status" }), shown = el("code.code", code || t("off"));
  const copy = async () => {
    try { await navigator.clipboard.writeText(code); out.textContent = " " + t("copied"); } catch (e) {
      getSelection().selectAllChildren(shown);
      out.textContent = " " + t("selected");
    }
  };
  return el("p.enrol-code", tn("enrolCode", shown), " ", code && btn(t("copyCode"), copy), out);
}

/* Percent done: five steps of one blue (no red against green), the number
 * in every cell. */
const step = (p) => (p >= 100 ? 4 : p >= 75 ? 3 : p >= 50 ? 2 : p > 0 ? 1 : 0);
function heatmap(id, rows, mods, names) {
  const box = el("section.heat", el("h2", t("progress")));
  if (!rows.length) return box.appendChild(el("p.note", t("noLearner"))) && box;
  const today = new Date().toISOString().slice(0, 10);
  const cols = [["name", t("learner")], ...mods.map((m) => [m.id + " %", names[m.id] || words(m.id)]), ["passed", t("passedCol")], ["late", t("late")]];
  const detail = el("div.learner", { tabindex: "-1" }), wrap = scroll(t("heatMap"));
  let sort = "name", desc = false;
  const draw = () => {
    const by = [...rows].sort((x, y) => {
      const u = parseFloat(x[sort]), v = parseFloat(y[sort]);
      const r = sort !== "name" && !isNaN(u) && !isNaN(v) ? u - v : String(x[sort]).localeCompare(y[sort]);
      return (desc ? -r : r) || x.name.localeCompare(y.name);
    });
    const th = ([k, label]) => el("th", { scope: "col", "aria-sort": k === sort ? (desc ? "descending" : "ascending") : "none" },
      btn([label, k === sort ? (desc ? " ▼" : " ▲") : ""], () => {
        desc = k === sort ? !desc : k !== "name";
        sort = k;
        draw();
        wrap.querySelector("th[aria-sort$=ending] button").focus();
      }, "sort"));
    wrap.replaceChildren(el("table.data.heatmap", el("caption", t("heatCaption")), el("thead", el("tr", cols.map(th))),
      el("tbody", by.map((r) => el("tr",
        el("th", { scope: "row" }, btn(r.display || r.name, () => learner(id, r, detail), "link")),
        mods.map((m) => {
          const p = +r[m.id + " %"] || 0, late = m.due && m.due < today && p < 100;
          return el("td", { class: `num h${step(p)}${late ? " late" : ""}` }, pct(p), late && el("span", { title: t("lateWord") }, " !", el("span.sr", " " + t("lateWord"))));
        }),
        el("td.num", num(r.passed)), el("td", { class: "num" + (+r.late ? " late" : "") }, num(r.late)))))));
  };
  draw();
  box.append(wrap, el("p.legend.meta", tn("scale", [[0], [1, 49], [50, 74], [75, 99], [100]].map((s, i) => el("span", { class: "h" + i }, s.map(pct).join("–"))))), detail);
  return box;
}

/* A learner's attempts at the course's exercises, and answers waiting. */
async function learner(id, r, box) {
  const [att, q] = await Promise.all([api(`cohorts/${id}/learners/${E(r.name)}/attempts`), api("reviews?cohort=" + id).catch(() => ({ items: [] }))]);
  const waiting = q.items.filter((i) => i.learner === r.name);
  box.replaceChildren(el("h3", t("attemptsOf", r.display || r.name)),
    el("p.meta", t("lastActivity", r["last activity"] ? when(r["last activity"]) : t("never")), " · ", t("lateSubmissions", +r.late)),
    att.items.length ? table([t("exercise"), t("attemptCol"), t("when"), t("score"), t("result"), t("comment")], att.items.map((x) =>
      [x.title, el("td.num", num(x.attempt)), when(x.time), el("td.num", score(x.score)), t("res-" + x.result) + (x.late === "yes" ? ", " + t("lateWord") : ""), x.comment]))
      : el("p.meta", t("noAttempts")),
    waiting.length ? el("p", tn("waitingGrade", waiting.map((w) => a(`#/reviews/${w.id}?cohort=${id}`, `${w.exercise.split("/")[1]} (${w.task}) `)))) : "");
  box.focus();
}

/* Bulk enrolment: lines checked here, then sent whole (campusd applies all
 * or nothing, naming a bad line). */
function enrol(id) {
  const text = el("textarea", { id: "csv", rows: 5, placeholder: t("csvPlaceholder") });
  const file = el("input", { id: "csvfile", type: "file", accept: ".csv,text/csv" });
  const accounts = el("input", { id: "accounts", type: "checkbox" });
  file.addEventListener("change", async () => { if (file.files[0]) text.value = await file.files[0].text(); });
  return el("section", el("h2", t("enrolLearners")), form("form", [field("csv", t("pasteRows"), text), field("csvfile", t("orFile"), file),
    el("div.option", accounts, el("label", { for: "accounts" }, t("createAccounts"))), el("button.primary", t("enrol"))], async (out) => {
    const rows = csv(text.value), bad = rows.length ? [] : [t("noRows")];
    rows.forEach((r, i) => {
      if (i === 0 && r[0].trim().toLowerCase() === "name") return;
      if (!/^[a-z0-9._-]{3,32}$/.test(r[0].trim())) bad.push(t("badName", i + 1, r[0]));
      else if (r.length > 3) bad.push(t("tooManyColumns", i + 1));
    });
    if (bad.length) return out.replaceChildren(el("ul.error", { role: "alert" }, bad.map((b) => el("li", b))));
    try {
      const r = await api(`cohorts/${id}/enrol`, { csv: text.value, accounts: accounts.checked }), pw = r.body ? csv(r.body) : [];
      out.replaceChildren(el("p.note", r.message), ...(pw.length > 1 ? [el("p", t("newAccounts")), table(pw[0], pw.slice(1))] : []));
    } catch (e) { out.replaceChildren(el("p.error", { role: "alert" }, e.message)); }
  }));
}

function release(id, mods, names, rows) {
  const out = el("div", { role: "status" }), run = async (p, b) => { try { note(out, (await api(p, b)).message); } catch (e) { fail(out, e); } };
  const modSel = (n) => select(n, mods.map((m) => [m.id, t(m.due ? "opensDue" : "opens", names[m.id] || m.id, day(m.opens), day(m.due))]), "module");
  const open = onSubmit(el("form", field("open-module", t("module"), modSel("open-module")), el("button", t("openNow"))),
    () => run(`cohorts/${id}/open/${enc(open.elements.module.value)}`, {}));
  const ext = onSubmit(el("form", field("ext-learner", t("learner"), select("ext-learner", rows.map((r) => [r.name, r.display || r.name]), "learner")),
    field("ext-module", t("module"), modSel("ext-module")),
    field("ext-date", t("date"), el("input", { id: "ext-date", name: "date", type: "date", required: true }), t("extendHint")),
    el("button", t("extend"))), () => run(`cohorts/${id}/extend`, Object.fromEntries(new FormData(ext))));
  return el("section", el("h2", t("modulesHead")), open, rows.length > 0 && ext, out);
}

/* Gradebook columns are "Exercise: TITLE (Real)" and the like: the title. */
const exName = (h) => h.replace(/^Exercise: /, "").replace(/ \(Real\)$/, "");
function gradebook(id, d, gb) {
  return el("section", el("h2", t("gradebook")),
    el("p", el("a.button", { href: `/api/cohorts/${id}/grades.csv`, download: `cohort-${id}-${d.course}-grades.csv` }, t("downloadCsv"))),
    gb.length > 1 ? scroll(t("gradebook"), table(gb[0].map(exName), gb.slice(1).map((r) => r.map((v, i) => i > 3 && /^-?\d+(\.\d+)?$/.test(v) ? el("td.num", score(v)) : v)), "data gradebook"))
      : el("p.meta", t("noLearnersYet")));
}

/* exercise.js: a lesson's exercise: a form per task, the result with
 * feedback, and the learner's attempts with trainers' comments. */
import { el, a, btn, api, enc, fail, paras, score, when, num, ops, state, table, t, tn } from "./lib.js";

let uid = 0;
const me = () => state.me;
const kind = (k) => { const s = t("task-" + k); return s.startsWith("task-") ? t("question") : s; };
const key = (k) => String(k).replace(/\s*->\s*/g, " → ");    /* arrows, not "->" */
/* A title naming its kind ("Case study: X") stands alone. */
const exTitle = (s) => /^(case study|quiz|exercise|étude de cas|questionnaire|exercice|estudio de caso|cuestionario|ejercicio)\b/i.test(s) ? s : t("exerciseTitle", s);

/* An input per task: [node, getter of the answer-document text]. */
function pick(name, type, list) {
  const box = el("div.options", list.map((o) => el("div.option", el("input", { type, id: `${name}-${o.key}`, name, value: o.key }),
    el("label", { for: `${name}-${o.key}` }, o.text))));
  return [box, () => [...box.querySelectorAll("input:checked")].map((i) => i.value).join(",")];
}

function textInput(id, tag, label, mode, unit) {
  const input = el(tag, { id, name: id, inputmode: mode, rows: tag === "textarea" ? 6 : null, autocomplete: "off" });
  return [el("div.field", el("label", { for: id }, t(label)), input, unit && el("span.unit", " " + unit)), () => input.value.trim()];
}

function orderInput(q, name) {
  const list = el("ol.order"), live = el("p.sr", { "aria-live": "polite" });
  const move = (li, dir) => {
    const to = dir < 0 ? li.previousElementSibling : li.nextElementSibling;
    if (!to) return;
    if (dir < 0) list.insertBefore(li, to); else list.insertBefore(to, li);
    li.querySelector(dir < 0 ? ".up" : ".down").focus();
    live.textContent = t("nowAt", li.dataset.text, [...list.children].indexOf(li) + 1);
  };
  q.items.forEach((text, i) => {
    const li = el("li", { "data-n": i + 1, "data-text": text }, el("span", text));
    for (const [c, d, w] of [["up", -1, "↑"], ["down", 1, "↓"]])
      li.append(el("button", { type: "button", class: c, "aria-label": t(c === "up" ? "moveUp" : "moveDown", text), click: () => move(li, d) }, w));
    list.append(li);
  });
  return [el("div", el("p.hint", t("orderHint")), list, live), () => [...list.children].map((li) => li.dataset.n).join(" ")];
}

/* A labelled select per item; get reads the selects. */
function selects(name, items, opts, get) {
  const box = el("div.pairs", items.flatMap((s, i) => [el("label", { for: `${name}-${i + 1}` }, s), el("select", { id: `${name}-${i + 1}`, "data-n": i + 1 },
    ops([["", t("choose")], ...opts]))]));
  return [box, () => get([...box.querySelectorAll("select")])];
}

function input(q, base) {
  const name = base + q.id, opts = q.options || [], number = /number/.test(q.answer);
  switch (q.question || q.type) {
  case "multiple choice": return pick(name, "radio", opts);
  case "multiple answers": return pick(name, "checkbox", opts);
  case "true/false": return pick(name, "radio", [{ key: "true", text: t("true") }, { key: "false", text: t("false") }]);
  case "matching": return selects(name, q.subquestions || [], opts.map((o) => [o.key, o.text]),
    (ss) => ss.filter((s) => s.value).map((s) => `${s.dataset.n}=${s.value}`).join(" "));
  case "classify": return selects(name, q.items, q.categories.map((c) => [c.key, c.name]), (ss) => {
    const by = {};
    for (const s of ss) if (s.value) (by[s.value] = by[s.value] || []).push(s.dataset.n);
    return Object.entries(by).map(([k, ns]) => `${k}=${ns.join(",")}`).join(" ");
  });
  case "order": return orderInput(q, name);
  case "description": case "text": return [null, null];
  case "numeric": case "numerical": return textInput(name, "input", "yourNumber", "decimal", q.unit);
  case "network": return textInput(name, "input", number ? "yourNumber" : "actorNames", number ? "decimal" : null);
  case "essay": case "rubric": case "review": return textInput(name, "textarea", "yourAnswer");
  default: return textInput(name, "input", "yourAnswer");
  }
}

/* The exercise into box, as the learner's next attempt. */
export async function exercise(box, id) {
  box.replaceChildren(el("p.meta", t("loadingExercise")));
  let doc, view;
  try {
    doc = await api("exercises/" + enc(id));
    view = JSON.parse(doc.body);
  } catch (e) { return fail(box, e); }
  const d = doc.data, base = `x${++uid}-`, getters = [], fieldsets = {}, left = d.attempts_left;
  const form = el("form.exercise-form", { "aria-label": t("exerciseTitle", view.title) });
  let n = 0;
  for (const q of view.tasks.flatMap((x) => (x.type === "pool" ? x.questions || [] : [x]))) {
    const [node, get] = input(q, base);
    if (!get) { form.append(el("div.task-text", paras(q.text || q.prompt))); continue; }
    form.append(fieldsets[q.id] = el("fieldset.task", { id: base + "task-" + q.id },
      el("legend", `${num(++n)}. `, q.title || kind(q.question || q.type)),
      el("div.prompt", paras(q.text || q.prompt), q.points && el("p.meta", t("points", q.points))), node || ""));
    getters.push([q.id, get]);
  }
  const result = el("div.result", { tabindex: "-1" }), history = el("div.history");
  const submit = el("button.primary", { disabled: !me() || left === "0" }, t("submit"));
  const meta = el("p.meta", t("attempt", d.attempt), " · ", left === "unlimited" ? t("unlimited") : t("left", +left),
    " · ", t("passMark", d.pass), d.policy !== "best" && " · " + t("policy-" + d.policy));
  form.append(submit, !me() ? el("p.note", tn("toSubmit", a("#/login", t("loginLink")))) : left === "0" ? el("p.note", t("usedAll")) : "");
  box.lang = d.lang || "";
  box.replaceChildren(el("h2", exTitle(view.title)), meta, history, form, result);
  if (me()) attempts(history, id);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const answers = {};
    for (const [tid, get] of getters) { const v = get(); if (v) answers[tid] = v; }
    submit.disabled = true;
    result.replaceChildren(el("p.meta", t("grading")));
    let r;
    try { r = await api(`exercises/${enc(id)}/submit`, { answers }); } catch (e) {
      submit.disabled = false;
      fail(result, e);
      return result.focus();
    }
    for (const c of form.elements) c.disabled = true;
    meta.textContent = t("submitted", r.data.attempt);
    showResult(result, r.data.attempts_left, JSON.parse(r.body), fieldsets, () => exercise(box, id));
    attempts(history, id);
    result.focus();
  });
}

const verdict = (s) => (s >= 99.95 ? "right" : s > 0 ? "partly" : "wrong");

function showResult(result, left, g, fieldsets, again) {
  const st = g.pending ? "pending" : g.passed ? "passed" : "failed";
  result.className = "result " + st;
  result.replaceChildren(el("h3", t("st-" + st), " — ", t("scoreOf", score(g.score), g.pass)),
    el("p", g.pending && t("byTrainer", g.pending) + " ", left === "unlimited" ? t("tryAsOften") : left === "0" ? t("noneLeft") : t("attemptsLeft", +left)));
  let right = 0;
  for (const x of g.tasks) {
    const v = x.pending ? "pending" : verdict(x.score);
    right += v === "right";
    if (fieldsets[x.id]) fieldsets[x.id].append(el("div", { class: "feedback " + v },
      el("strong", x.provisional ? t("provisional", x.suggested) : t(x.pending ? "toGrade" : v === "wrong" && x.answered === false ? "unanswered" : "v-" + v),
        x.pending ? "" : " · " + t("of100", score(x.score))),
      paras(x.feedback), x.key && el("p.key", t("answer", key(x.key)))));
  }
  result.append(el("p", t("tasksRight", right, g.tasks.length)));
  if (left !== "0") result.append(btn(t("tryAgain"), again, "primary"));
}

async function attemptDetail(box, id, n) {
  try {
    const v = JSON.parse((await api(`exercises/${enc(id)}/attempts/${n}`)).body);
    box.replaceChildren(...v.tasks.map((x) => el("div.feedback",
      el("strong", x.id, " · ", x.provisional ? t("provisional", x.suggested) : x.pending ? t("toGrade")
        : x.reviewed ? t("pointsOf", x.points, x.max) : t("of100", score(x.score))), paras(x.feedback),
      (x.levels || []).map((l) => el("p", t("level", l.name, l.points, l.max, l.level, l.comment))),
      x.comment && el("p", t("trainerSaid", x.comment)))));
  } catch (e) { fail(box, e); }
}

export async function attempts(box, id) {
  try {
    const doc = await api(`exercises/${enc(id)}/attempts`);
    if (!doc.items.length) return box.replaceChildren();
    const more = el("div");
    box.replaceChildren(el("details", el("summary", t("yourAttempts", doc.message)), table([t("attemptCol"), t("score"), t("result"), t("when"), t("comment")],
      doc.items.map((x) => [btn(num(x.attempt), () => attemptDetail(more, id, x.attempt), "link"), el("td.num", score(x.score)), t("res-" + x.result),
        when(x.time), x.comment])), more));
  } catch (e) { box.replaceChildren(); }
}

/* exercise.js: an exercise inside a lesson: a form per task in the learner's
 * view of their next attempt, the result with feedback per task, and their
 * attempts with a trainer's comments. Loaded when a lesson holds one. */
import { el, api, enc, fail, paras, plural, score, state } from "./lib.js";


let uid = 0;
const KINDS = { order: "Put in order", classify: "Sort", numeric: "Calculate", network: "Network",
  rubric: "Written answer", review: "For a trainer", "multiple choice": "Choose one",
  "multiple answers": "Choose all that apply", "true/false": "True or false", matching: "Match",
  "short answer": "Short answer", numerical: "Number", essay: "Written answer" };
const me = () => state.me;
/* An answer key as the learner reads it: arrows, not "->". */
const key = (k) => String(k).replace(/\s*->\s*/g, " → ");
/* "Exercise: Case study: X" says the same twice: a title that names its kind stands alone. */
export const exTitle = (t) => /^(case study|quiz|exercise)\b/i.test(t) ? t : "Exercise: " + t;

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
export async function exercise(box, id) {
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
    fs.append(el("legend", {}, `${++n}. `, q.title || KINDS[q.type] || KINDS[q.question] || "Question"), el("div", { class: "prompt" }, paras(q.text || q.prompt),
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
  const submit = el("button", { class: "primary", disabled: !me() || left === "0" }, "Submit answers");
  const info = `Attempt ${d.attempt}` + (left === "unlimited" ? " · unlimited attempts" : ` · ${left} left`) +
    ` · pass mark ${d.pass}` + (d.policy !== "best" ? ` · ${d.policy} attempt counts` : "");
  form.append(submit, !me() ? el("p", { class: "note" }, el("a", { href: "#/login" }, "Log in"), " to submit your answers.")
    : left === "0" ? el("p", { class: "note" }, "You have used every attempt at this exercise.") : "");
  const history = el("div", { class: "history" });
  const meta = el("p", { class: "meta" }, info);
  box.replaceChildren(el("h2", {}, exTitle(view.title)), meta, history, form, result);
  if (me()) attempts(history, id);
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
  result.replaceChildren(el("h3", {}, words, ` — score ${score(g.score)} (pass mark ${g.pass})`),
    el("p", {}, g.pending ? `${g.pending} answer${g.pending > 1 ? "s" : ""} will be graded by a trainer. ` : "",
      left === "unlimited" ? "You may try again as often as you like." :
      left === "0" ? "No attempts left." : plural(left, "attempt") + " left."));
  let right = 0;
  for (const t of g.tasks) {
    const v = t.pending ? "pending" : verdict(t.score);
    right += v === "right";
    const fb = el("div", { class: "feedback " + v },
      el("strong", {}, t.provisional ? `Provisional: ${t.suggested}` : t.pending ? "To be graded" : v === "right" ? "Right" : v === "partly" ? "Partly right" :
        t.answered === false ? "Not answered" : "Not right",
        t.pending ? "" : ` · ${score(t.score)} of 100`),
      paras(t.feedback), t.key ? el("p", { class: "key" }, "Answer: ", key(t.key)) : null);
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
        : t.reviewed ? `${t.points} of ${t.max} points` : score(t.score) + " of 100"), paras(t.feedback),
      ...(t.levels || []).map((l) => el("p", {}, `${l.name}: ${l.points} of ${l.max}, ${l.level} ${l.comment}`)),
      t.comment ? el("p", {}, "Trainer: ", t.comment) : "")));
  } catch (e) { fail(box, e); }
}

/* ATTEMPTS' message ("1 attempts, 2 left, counted score 0.0 (best)") in words. */
function attemptsLine(doc) {
  const m = /^(\d+) attempts?, (\S+) left, counted score (\S+) \((\w+)\)/.exec(doc.message || "");
  if (!m) return doc.message;
  return `${plural(m[1], "attempt")}, ${m[2] === "unlimited" ? "unlimited" : m[2]} left, score counted ${score(m[3])} (${m[4]})`;
}

export async function attempts(box, id) {
  try {
    const doc = await api(`exercises/${enc(id)}/attempts`);
    if (!doc.items.length) return box.replaceChildren();
    const more = el("div");
    const table = el("table", { class: "data" }, el("thead", {}, el("tr", {}, ["Attempt", "Score", "Result", "When", "Comment"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, doc.items.map((a) => el("tr", {}, el("td", {}, el("button", { type: "button", class: "link", click: () => attemptDetail(more, id, a.attempt) }, a.attempt)),
        el("td", { class: "num" }, score(a.score)), el("td", {}, a.result), el("td", {}, new Date(a.time).toLocaleString()), el("td", {}, a.comment)))));
    box.replaceChildren(el("details", {}, el("summary", {}, "Your attempts: ", attemptsLine(doc)), table, more));
  } catch (e) { box.replaceChildren(); }
}


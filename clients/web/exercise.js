/* exercise.js: a lesson's exercise: a form per task, the result with
 * feedback, and the learner's attempts with trainers' comments. */
import { el, a, btn, api, enc, fail, paras, plural, score, state, table } from "./lib.js";

let uid = 0;
const KINDS = { order: "Put in order", classify: "Sort", numeric: "Calculate", network: "Network",
  rubric: "Written answer", review: "For a trainer", "multiple choice": "Choose one",
  "multiple answers": "Choose all that apply", "true/false": "True or false", matching: "Match",
  "short answer": "Short answer", numerical: "Number", essay: "Written answer" };
const me = () => state.me;
const key = (k) => String(k).replace(/\s*->\s*/g, " → ");    /* arrows, not "->" */
/* A title naming its kind ("Case study: X") stands alone. */
const exTitle = (t) => /^(case study|quiz|exercise)\b/i.test(t) ? t : "Exercise: " + t;

/* An input per task: [node, getter of the answer-document text]. */
function giftInput(q, base) {
  const name = base + q.id, opts = q.options || [];
  const pick = (type, list) => {
    const box = el("div.options", list.map((o) => el("div.option", el("input", { type, id: `${name}-${o.key}`, name, value: o.key }),
      el("label", { for: `${name}-${o.key}` }, o.text))));
    return [box, () => [...box.querySelectorAll("input:checked")].map((i) => i.value).join(",")];
  };
  switch (q.question) {
  case "multiple choice": return pick("radio", opts);
  case "multiple answers": return pick("checkbox", opts);
  case "true/false": return pick("radio", [{ key: "true", text: "True" }, { key: "false", text: "False" }]);
  case "matching": return selects(name, q.subquestions || [], opts.map((o) => [o.key, o.text]),
    (ss) => ss.filter((s) => s.value).map((s) => `${s.dataset.n}=${s.value}`).join(" "));
  case "essay": return textInput(name, "textarea", "Your answer");
  case "description": return [null, null];
  default: return textInput(name, "input", q.question === "numerical" ? "Your number" : "Your answer",
    q.question === "numerical" ? "decimal" : null);
  }
}

function textInput(id, tag, label, mode, unit) {
  const input = el(tag, { id, name: id, inputmode: mode, rows: tag === "textarea" ? 6 : null, autocomplete: "off" });
  return [el("div.field", el("label", { for: id }, label), input,
    unit ? el("span.unit", " " + unit) : null), () => input.value.trim()];
}

function orderInput(t, base) {
  const list = el("ol.order");
  const live = el("p.sr", { "aria-live": "polite" });
  const move = (li, dir) => {
    const to = dir < 0 ? li.previousElementSibling : li.nextElementSibling;
    if (!to) return;
    if (dir < 0) list.insertBefore(li, to); else list.insertBefore(to, li);
    li.querySelector(dir < 0 ? ".up" : ".down").focus();
    live.textContent = `${li.dataset.text}: now at position ${[...list.children].indexOf(li) + 1}`;
  };
  t.items.forEach((text, i) => {
    const li = el("li", { "data-n": i + 1, "data-text": text }, el("span", text));
    for (const [c, d, w] of [["up", -1, "↑"], ["down", 1, "↓"]])
      li.append(el("button", { type: "button", class: c, "aria-label": `Move ${c}: ${text}`, click: () => move(li, d) }, w));
    list.append(li);
  });
  return [el("div", el("p.hint", "Use the arrows to put the items in order, first at the top."), list, live),
    () => [...list.children].map((li) => li.dataset.n).join(" ")];
}

/* A labelled select per item; get reads the selects. */
function selects(name, items, opts, get) {
  const box = el("div.pairs", items.flatMap((s, i) => [el("label", { for: `${name}-${i + 1}` }, s), el("select", { id: `${name}-${i + 1}`, "data-n": i + 1 },
    el("option", { value: "" }, "— choose —"), opts.map(([k, t]) => el("option", { value: k }, t)))]));
  return [box, () => get([...box.querySelectorAll("select")])];
}

function classifyInput(t, base) {
  return selects(base + t.id, t.items, t.categories.map((c) => [c.key, c.name]), (ss) => {
    const by = {};
    for (const s of ss) if (s.value) (by[s.value] = by[s.value] || []).push(s.dataset.n);
    return Object.entries(by).map(([k, ns]) => `${k}=${ns.join(",")}`).join(" ");
  });
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

/* The exercise into box, as the learner's next attempt. */
export async function exercise(box, id) {
  box.replaceChildren(el("p.meta", "Loading the exercise…"));
  let doc, view;
  try {
    doc = await api("exercises/" + enc(id));
    view = JSON.parse(doc.body);
  } catch (e) { return fail(box, e); }
  const d = doc.data, base = `x${++uid}-`, getters = [], fieldsets = {};
  const left = d.attempts_left;
  const form = el("form.exercise-form", { "aria-label": "Exercise: " + view.title });
  let n = 0;
  const addTask = (q) => {
    const fs = el("fieldset.task", { id: base + "task-" + q.id });
    const [node, get] = q.type === "text" ? [null, null] : (q.type === "gift" || q.question) ? giftInput(q, base) : taskInput(q, base);
    if (!get) { form.append(el("div.task-text", paras(q.text || q.prompt))); return; }
    fs.append(el("legend", `${++n}. `, q.title || KINDS[q.type] || KINDS[q.question] || "Question"), el("div.prompt", paras(q.text || q.prompt),
      q.points && el("p.meta", plural(q.points, "point"))), node || "");
    getters.push([q.id, get]);
    fieldsets[q.id] = fs;
    form.append(fs);
  };
  for (const t of view.tasks) {
    if (t.type === "pool") for (const q of t.questions || []) addTask(q);
    else addTask(t);
  }
  const result = el("div.result", { tabindex: "-1" });
  const submit = el("button.primary", { disabled: !me() || left === "0" }, "Submit answers");
  const info = `Attempt ${d.attempt}` + (left === "unlimited" ? " · unlimited attempts" : ` · ${left} left`) +
    ` · pass mark ${d.pass}` + (d.policy !== "best" ? ` · ${d.policy} attempt counts` : "");
  form.append(submit, !me() ? el("p.note", a("#/login", "Log in"), " to submit your answers.")
    : left === "0" ? el("p.note", "You have used every attempt at this exercise.") : "");
  const history = el("div.history");
  const meta = el("p.meta", info);
  box.replaceChildren(el("h2", exTitle(view.title)), meta, history, form, result);
  if (me()) attempts(history, id);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const answers = {};
    for (const [tid, get] of getters) { const v = get(); if (v) answers[tid] = v; }
    submit.disabled = true;
    result.replaceChildren(el("p.meta", "Grading…"));
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
  result.replaceChildren(el("h3", words, ` — score ${score(g.score)} (pass mark ${g.pass})`),
    el("p", g.pending && plural(g.pending, "answer") + " will be graded by a trainer. ",
      left === "unlimited" ? "You may try again as often as you like." :
      left === "0" ? "No attempts left." : plural(left, "attempt") + " left."));
  let right = 0;
  for (const t of g.tasks) {
    const v = t.pending ? "pending" : verdict(t.score);
    right += v === "right";
    const fb = el("div", { class: "feedback " + v },
      el("strong", t.provisional ? `Provisional: ${t.suggested}` : t.pending ? "To be graded" : v === "right" ? "Right" : v === "partly" ? "Partly right" :
        t.answered === false ? "Not answered" : "Not right",
        t.pending ? "" : ` · ${score(t.score)} of 100`),
      paras(t.feedback), t.key && el("p.key", "Answer: ", key(t.key)));
    if (fieldsets[t.id]) fieldsets[t.id].append(fb);
  }
  result.append(el("p", `${right} of ${g.tasks.length} tasks right; the feedback is under each task.`));
  if (left !== "0") result.append(btn("Try again", again, "primary"));
}

async function attemptDetail(box, id, n) {
  try {
    const a = JSON.parse((await api(`exercises/${enc(id)}/attempts/${n}`)).body);
    box.replaceChildren(...a.tasks.map((t) => el("div.feedback",
      el("strong", t.id, " · ", t.provisional ? "provisional " + t.suggested : t.pending ? "to be graded"
        : t.reviewed ? `${t.points} of ${t.max} points` : score(t.score) + " of 100"), paras(t.feedback),
      ...(t.levels || []).map((l) => el("p", `${l.name}: ${l.points} of ${l.max}, ${l.level} ${l.comment}`)),
      t.comment && el("p", "Trainer: ", t.comment))));
  } catch (e) { fail(box, e); }
}

export async function attempts(box, id) {
  try {
    const doc = await api(`exercises/${enc(id)}/attempts`);
    if (!doc.items.length) return box.replaceChildren();
    const more = el("div");
    box.replaceChildren(el("details", el("summary", "Your attempts: ", doc.message), table(["Attempt", "Score", "Result", "When", "Comment"],
      doc.items.map((x) => [btn(x.attempt, () => attemptDetail(more, id, x.attempt), "link"), el("td.num", score(x.score)), x.result,
        new Date(x.time).toLocaleString(), x.comment])), more));
  } catch (e) { box.replaceChildren(); }
}


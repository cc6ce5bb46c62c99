/* progress.js: #/progress (courses, modules, exercises and trainers'
 * comments, certificates) and #/join, loaded when first asked for. */
import { el, a, btn, field, form, E, api, enc, fail, bar, num, score, when, day, t,
  outline, forget, titles, courseTitle, table, state, current, show } from "./lib.js";

/* A course's exercises: score kept, attempts, trainers' comments; a comment
 * this browser has not shown before is marked new. Returns the ones shown. */
async function exercisesOf(box, rows, old) {
  const ex = rows.filter((r) => r.kind !== "lesson"), shown = [];
  const lists = await Promise.all(ex.map((r) => api(`exercises/${enc(r.lesson)}/attempts`).catch(() => null)));
  box.replaceChildren(ex.length ? table([t("exercise"), t("score"), t("attempts"), t("result"), t("comments")], ex.map((r, i) => {
    const doc = lists[i], items = (doc && doc.items) || [], m = doc && /counted score (\S+)/.exec(doc.message);
    return [a("#/lesson/" + r.lesson, r.title), el("td.num", items.length && m ? score(m[1]) : "–"), el("td.num", num(items.length)),
      t(r.done === "passed" ? "passed" : items.length ? "notYet" : "notStarted"),
      el("td", items.filter((x) => x.comment).map((x) => {
        const k = `${r.lesson}#${x.attempt}:${x.comment}`;
        shown.push(k);
        return el("p.comment", !old.has(k) && el("strong.new", t("new") + " "), t("attemptSaid", x.attempt, x.comment));
      }))];
  })) : el("p.meta", t("noExercises")));
  return shown;
}

async function certificates() {
  const box = el("section", el("h2", t("certificates")));
  try {
    const [doc, ti] = await Promise.all([api("certs"), titles()]);
    const jwt = async (c) => (await api("certs/" + E(c.id))).body;
    box.append(doc.items.length ? el("ul.outline", doc.items.map((c) => {
      const out = el("span.meta", { "aria-live": "polite" });
      return el("li", ti[c.course] || c.course, " · ", when(c.issued), " · ", a("/certificates/" + E(c.id), t("viewPrint")), " · ",
        btn(t("download"), async () => {
          const l = el("a", { href: URL.createObjectURL(new Blob([await jwt(c)], { type: "application/vc+jwt" })), download: `campus-${c.course}.jwt` });
          document.body.append(l); l.click(); l.remove();
        }, "link"), " · ",
        btn(t("verify"), async () => {
          try {
            const v = (await api("verify", { credential: await jwt(c) })).data;
            out.textContent = v.valid === "yes" ? t("valid", v.issuer) : t("notValid", v.reason);
          } catch (e) { out.textContent = t("cannotVerify", e.message); }
        }, "link"), " ", out);
    })) : el("p.meta", t("noCerts")));
  } catch (e) { box.append(el("p.meta", t("certsFailed", e.message))); }
  return box;
}

export async function progress() {
  const live = current();
  const [prog, co, certs] = await Promise.all([api("progress"), api("cohorts").catch(() => ({ items: [] })), certificates()]);
  const mine = co.items.filter((c) => c.as === "learner"), key = "campus.seen." + state.me.user;
  let old;
  try { old = new Set(JSON.parse(localStorage.getItem(key)) || []); } catch (e) { old = new Set(); }
  const all = [...old], loads = [];
  const keep = () => { try { localStorage.setItem(key, JSON.stringify([...new Set(all)].slice(-500))); } catch (e) { /* storage off */ } };
  if (!live()) return;
  show(t("myProgress"), el("h1", t("myProgress")), el("section", el("h2", t("myCohorts")),
    mine.length ? el("ul.outline", mine.map((c) => el("li", c.name, el("span.meta", " · ", c.course, " · ", t("started", day(c.start))), " · ",
      a("#/live/" + c.id, t("liveSession"))))) : el("p.meta", t("noCohort")), el("p", a("#/join", t("joinWithCode")))),
  ...prog.items.map((p) => {
    const mods = el("div"), ex = el("div", el("p.meta", t("loadingExercises")));
    loads.push(api("progress/" + E(p.course)).then((d) => mods.replaceChildren(...d.items.map((m) =>
      el("div.module-bar", el("span", m.title), bar(+m.done, +m.total, t("progressIn", m.title)))))).catch((e) => fail(mods, e)));
    const load = () => outline(p.course, true).then((o) => exercisesOf(ex, o.items, old)).then((k) => all.push(...k)).catch((e) => fail(ex, e));
    /* A course not begun costs no request per exercise until asked. */
    if (+p.done || +p.exercises_passed || mine.some((c) => c.course === p.course)) loads.push(load());
    else ex.replaceChildren(btn(t("showExercises", p.title), () => load().then(keep)));
    return el("section", el("h2", a("#/course/" + p.course, p.title)), bar(+p.done, +p.total, t("progressIn", p.title)),
      el("p.meta", t("exercisesPassed", +p.exercises_passed, +p.exercises), " · ", t("minutesLeft", +p.minutes_left)),
      el("h3", t("modulesHead")), mods, el("h3", t("exercises")), ex);
  }), certs);
  await Promise.all(loads);
  keep();
}

export function join() {
  const code = el("input", { id: "code", required: true, autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
  show(t("join"), el("h1", t("join")), form("form.account", [field("code", t("code"), code, t("codeHint")),
    el("button.primary", t("joinButton"))], async (out) => {
    try {
      const r = await api("cohorts/join", { code: code.value.trim() }), id = (/cohort (\S+)/.exec(r.message) || [])[1];
      const c = id && (await api("cohorts/" + id)).data;
      forget();
      out.replaceChildren(el("p.note", c ? t("joined", c.name) + " " : r.message + ". ", c && a("#/course/" + c.course, t("open", await courseTitle(c.course)))));
    } catch (e) { fail(out, e); code.focus(); }
  }));
}

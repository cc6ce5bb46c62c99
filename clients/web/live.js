/* live.js: #/live/ID, the trainer's console or the learner's view that
 * follows the trainer and answers polls, over Server-Sent Events. */
import { el, btn, api, enc, E, say, show, current, fail, paras, outline, onSubmit, num, note, article, t } from "./lib.js";

export async function page(id) {
  const live = current();
  const c = (await api("cohorts/" + E(id))).data, teach = "code" in c;   /* SHOW gives trainers the code */
  const base = "live/" + E(id), st = el("p.live-state", { role: "status" }), out = el("div", { role: "status" });
  const lesson = el("div"), said = el("div", { "aria-live": "polite" }), poll = el("div"), tally = el("div");
  let es = null;
  const post = async (verb, body) => { try { return await api(`${base}/${verb}`, body || {}); } catch (e) { fail(out, e); } };
  const state = (k, n) => { st.textContent = t(k, n); };
  const ended = () => { state("liveEnded"); if (es) es.close(); poll.replaceChildren(); };
  const goto = async (l) => {
    if (!l || !l.lesson) return lesson.replaceChildren();
    try {
      const d = await api(`lessons/${enc(l.lesson)}?format=html`), art = article(d);
      lesson.replaceChildren(el("h2", t("now", d.data.title)), teach ? "" : art);
      const to = l.anchor && art.querySelector("#" + CSS.escape(l.anchor));
      if (to) to.scrollIntoView();
    } catch (e) { fail(lesson, e); }
  };
  const line = (s) => el("p.said", typeof s === "string" ? s : s.text);
  const ask = (p) => {
    if (!p) return poll.replaceChildren();
    if (teach) return poll.replaceChildren(el("h2", t("poll"), " ", p.id), paras(p.question));
    const opts = (p.options || []).map((o) => o.text || o);      /* answered by letter */
    const f = onSubmit(el("form", el("h2", t("poll")), paras(p.question), opts.length
      ? opts.map((o, i) => el("div.option", el("input", { type: "radio", name: "answer", id: "pa" + i, value: String.fromCharCode(97 + i), required: true }),
        el("label", { for: "pa" + i }, o)))
      : [el("label", { for: "pa" }, t("yourAnswer")), el("input", { id: "pa", name: "answer", required: true })],
    el("p", el("button.primary", t("sendAnswer")))), async () => {
      if (await post("answer", { text: new FormData(f).get("answer") })) { note(f, t("answerSent")); say(t("answerSent")); }
    });
    poll.replaceChildren(f);
  };
  const count = (x) => teach && x && tally.replaceChildren(el("h3", t("tally")),
    el("ul.outline", Object.entries(x.counts || x).filter(([, v]) => typeof v === "number").map(([k, v]) => el("li", k, ": ", num(v)))));
  const room = (n) => teach && state("present", n);
  const apply = (s) => {
    if (s.state === "ended") ended(); else state(s.state === "paused" ? "paused" : "live");
    if (s.room != null) room(s.room);
    goto(s); said.replaceChildren(...(s.said || []).slice(-5).map(line)); ask(s.poll); count(s.tally);
  };
  const on = { goto, say: (d) => said.append(line(d)), poll: ask, tally: count, room: (d) => room(d.room),
    paused: () => state("paused"), resumed: () => state("live"), resync: async () => apply(await api(base)), end: ended };
  const begin = async () => {
    let s = null;
    try { s = await api(base); } catch (e) { if (e.code !== 404) throw e; }
    if (!s) return state(teach ? "noLiveStart" : "noLive");
    apply(s);
    if (s.state === "ended") return;
    if (!teach) await post("join");
    if (es) es.close();
    es = new EventSource(`/api/${base}/events`);
    for (const [k, f] of Object.entries(on)) es.addEventListener(k, (e) => f(JSON.parse(e.data || "{}")));
  };
  const nodes = [el("h1", t("liveOf", c.name)), st, out];
  if (teach) {
    const pick = el("select", { id: "goto" }, (await outline(c.course)).items.map((r) => el("option", { value: r.lesson }, r.title)));
    const text = el("input", { id: "saytext", required: true }), gift = el("textarea", { id: "gift", rows: 3, required: true });
    const form = (run, id, label, input, button) => onSubmit(el("form", el("label", { for: id }, t(label)), " ", input, " ", el("button", t(button))), run);
    nodes.push(el("p", btn(t("start"), async () => { if (await post("start")) begin(); }, "primary"), " ",
      btn(t("end"), async () => { if (await post("end")) ended(); })),
    form(() => post("goto", { lesson: pick.value }), "goto", "lessonLabel", pick, "go"),
    form(async () => { if (await post("say", { text: text.value })) text.value = ""; }, "saytext", "sayLabel", text, "send"),
    form(async () => { const r = await post("poll", { gift: gift.value }); if (r) ask({ id: r.poll, question: gift.value }); }, "gift", "pollLabel", gift, "ask"),
    el("p", btn(t("closePoll"), async () => { const r = await post("close"); if (r) count(r.tally || r.data || r); })), tally, poll, lesson, said);
  } else nodes.push(lesson, said, poll);
  if (!live()) return null;
  show(t("liveOf", c.name), ...nodes);
  await begin();
  return () => { if (es) es.close(); if (!teach) api(base + "/leave", {}).catch(() => {}); };
}

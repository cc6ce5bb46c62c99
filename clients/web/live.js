/* live.js: #/live/ID, the trainer's console or the learner's view that
 * follows the trainer and answers polls, over Server-Sent Events. */
import { el, btn, api, enc, E, say, show, fail, paras, plural, outline } from "./lib.js";

export async function page(id) {
  const c = (await api("cohorts/" + E(id))).data, teach = "code" in c;   /* SHOW gives trainers the code */
  const base = "live/" + E(id), st = el("p.live-state", { role: "status" }), out = el("div", { role: "status" });
  const lesson = el("div"), said = el("div", { "aria-live": "polite" }), poll = el("div"), tally = el("div");
  let es = null;
  const post = async (verb, body) => { try { return await api(`${base}/${verb}`, body || {}); } catch (e) { fail(out, e); } };
  const state = (t) => { st.textContent = t; };
  const goto = async (l) => {
    if (!l || !l.lesson) return lesson.replaceChildren();
    try {
      const d = await api(`lessons/${enc(l.lesson)}?format=html`), art = el("article");
      art.innerHTML = d.body;          /* rendered and escaped by campusd */
      lesson.replaceChildren(el("h2", "Now: ", d.data.title), teach ? "" : art);
      const t = l.anchor && art.querySelector("#" + CSS.escape(l.anchor));
      if (t) t.scrollIntoView();
    } catch (e) { fail(lesson, e); }
  };
  const line = (t) => el("p.said", typeof t === "string" ? t : t.text);
  const ask = (p) => {
    if (!p) return poll.replaceChildren();
    if (teach) return poll.replaceChildren(el("h2", "Poll ", p.id), paras(p.question));
    const f = el("form", el("h2", "Poll"), paras(p.question));
    const opts = (p.options || []).map((o, i) => ({ key: String.fromCharCode(97 + i), text: o.text || o }));   /* answered by letter */
    f.append(...(opts.length ? opts.map((o, i) => el("div.option", el("input", { type: "radio", name: "answer", id: "pa" + i, value: o.key, required: true }),
      el("label", { for: "pa" + i }, o.text))) : [el("label", { for: "pa" }, "Your answer"), el("input", { id: "pa", name: "answer", required: true })]),
    el("p", el("button.primary", "Send my answer")));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (await post("answer", { text: new FormData(f).get("answer") })) { f.replaceChildren(el("p.note", "Answer sent. Thank you.")); say("Answer sent"); }
    });
    poll.replaceChildren(f);
  };
  const count = (t) => teach && t && tally.replaceChildren(el("h3", "Tally"),
    el("ul.outline", Object.entries(t.counts || t).filter(([, v]) => typeof v === "number").map(([k, v]) => el("li", k, ": ", v))));
  const room = (n) => teach && state(`Live · ${plural(n, "learner")} present`);
  const apply = (s) => {
    state(s.state === "ended" ? "The session has ended." : s.state === "paused" ? "Paused" : "Live");
    if (s.room != null) room(s.room);
    goto(s); said.replaceChildren(...(s.said || []).slice(-5).map(line)); ask(s.poll); count(s.tally);
  };
  const on = { goto, say: (d) => said.append(line(d)), poll: ask, tally: count, room: (d) => room(d.room),
    paused: () => state("Paused"), resumed: () => state("Live"),
    resync: async () => apply(await api(base)),
    end: () => { state("The session has ended."); es.close(); poll.replaceChildren(); } };
  const begin = async () => {
    let s = null;
    try { s = await api(base); } catch (e) { if (e.code !== 404) throw e; }
    if (!s) return state(teach ? "No live session: start one." : "No live session now. This page follows the trainer once one starts.");
    apply(s);
    if (s.state === "ended") return;
    if (!teach) await post("join");
    if (es) es.close();
    es = new EventSource(`/api/${base}/events`);
    for (const [k, f] of Object.entries(on)) es.addEventListener(k, (e) => f(JSON.parse(e.data || "{}")));
  };
  const nodes = [el("h1", "Live: ", c.name), st, out];
  if (teach) {
    const pick = el("select", { id: "goto" }, (await outline(c.course)).items.map((r) => el("option", { value: r.lesson }, r.title)));
    const text = el("input", { id: "saytext", required: true }), gift = el("textarea", { id: "gift", rows: 3, required: true });
    const form = (run, ...kids) => { const f = el("form", ...kids); f.addEventListener("submit", (ev) => { ev.preventDefault(); run(); }); return f; };
    nodes.push(el("p", btn("Start", async () => { if (await post("start")) begin(); }, "primary"), " ",
      btn("End", async () => { if (await post("end")) { state("The session has ended."); if (es) es.close(); } })),
    form(() => post("goto", { lesson: pick.value }), el("label", { for: "goto" }, "Lesson "), pick, " ", el("button", "Go")),
    form(async () => { if (await post("say", { text: text.value })) text.value = ""; }, el("label", { for: "saytext" }, "Say "), text, " ", el("button", "Send")),
    form(async () => { const r = await post("poll", { gift: gift.value }); if (r) ask({ id: r.poll, question: gift.value }); },
      el("label", { for: "gift" }, "Poll (one GIFT question)"), gift, el("button", "Ask")),
    el("p", btn("Close the poll", async () => { const r = await post("close"); if (r) count(r.tally || r.data || r); })), tally, poll, lesson, said);
  } else nodes.push(lesson, said, poll);
  show("Live: " + c.name, ...nodes);
  await begin();
  return () => { if (es) es.close(); if (!teach) api(base + "/leave", {}).catch(() => {}); };
}

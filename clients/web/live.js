/* live.js: a cohort's live session (#/live/ID): the trainer's console
 * (start, go to a lesson, say, poll with its tally, end; who is present)
 * and the learner's view, which follows the trainer and answers polls.
 * Events come as Server-Sent Events; EventSource resumes with
 * Last-Event-ID by itself. Returns the page's clean-up. */
import { el, api, enc, say, show, fail, paras, plural, outline } from "./lib.js";

const opt = (o) => (typeof o === "string" ? { key: o, text: o } : { key: o.key || o.id || o.text, text: o.text || o.key });

export async function page(id) {
  const c = (await api("cohorts/" + encodeURIComponent(id))).data;
  const teach = "code" in c;                /* SHOW gives the code to its trainers only */
  const base = `live/${encodeURIComponent(id)}`;
  const st = el("p", { class: "live-state", role: "status" }), out = el("div", { role: "status" });
  const lesson = el("div", { class: "live-lesson" }), said = el("div", { "aria-live": "polite" }), poll = el("div"), tally = el("div");
  let es = null, gone = false, pollId = null;
  const post = async (verb, body) => { try { return await api(`${base}/${verb}`, body || {}); } catch (e) { fail(out, e); return null; } };
  const showLesson = async (l) => {
    if (!l || !l.lesson) return lesson.replaceChildren();
    try {
      const d = await api(`lessons/${enc(l.lesson)}?format=html`);
      const a = el("article"); a.innerHTML = d.body;       /* campusd renders and escapes lessons */
      lesson.replaceChildren(el("h2", {}, "Now: ", d.data.title), teach ? "" : a);
      if (l.anchor) { const t = a.querySelector("#" + CSS.escape(l.anchor)); if (t) t.scrollIntoView(); }
    } catch (e) { fail(lesson, e); }
  };
  const showSaid = (list) => said.replaceChildren(...(list || []).slice(-5).map((t) => el("p", { class: "said" }, typeof t === "string" ? t : t.text)));
  const showPoll = (p) => {
    pollId = p ? p.id : null;
    if (!p) return poll.replaceChildren();
    if (teach) return poll.replaceChildren(el("h2", {}, "Poll ", p.id), paras(p.question));
    const opts = (p.options || []).map(opt), box = el("form", { class: "live-poll" }, el("h2", {}, "Poll"), paras(p.question));
    if (opts.length) opts.forEach((o, i) => box.append(el("div", { class: "option" },
      el("input", { type: "radio", name: "answer", id: `pa-${i}`, value: o.key, required: true }), el("label", { for: `pa-${i}` }, o.text))));
    else box.append(el("label", { for: "pa-text" }, "Your answer"), el("input", { id: "pa-text", name: "answer", required: true }));
    box.append(el("p", {}, el("button", { class: "primary" }, "Send my answer")));
    box.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (await post("answer", { text: new FormData(box).get("answer") })) { box.replaceChildren(el("p", { class: "note" }, "Answer sent. Thank you.")); say("Answer sent"); }
    });
    poll.replaceChildren(box);
  };
  const showTally = (t) => {
    if (!t || !teach) return;
    const rows = Object.entries(t.counts || t).filter(([, v]) => typeof v === "number");
    tally.replaceChildren(el("h3", {}, "Tally"), el("ul", { class: "outline tally" }, rows.map(([k, v]) => el("li", {}, el("span", {}, k), el("span", { class: "num" }, v)))));
  };
  const room = (n) => teach && (st.dataset.room = n, st.textContent = `Live · ${plural(n, "learner")} present`);
  const apply = (s) => {
    st.textContent = s.state === "ended" ? "The session has ended." : s.state === "paused" ? "Paused" : "Live";
    if (s.room != null) room(s.room);
    showLesson(s); showSaid(s.said); showPoll(s.poll); showTally(s.tally);
  };
  const listen = () => {
    es = new EventSource(`/api/${base}/events`);
    es.addEventListener("goto", (e) => showLesson(JSON.parse(e.data)));
    es.addEventListener("say", (e) => { const d = JSON.parse(e.data); said.append(el("p", { class: "said" }, d.text)); });
    es.addEventListener("poll", (e) => showPoll(JSON.parse(e.data)));
    es.addEventListener("tally", (e) => showTally(JSON.parse(e.data)));
    es.addEventListener("room", (e) => room(JSON.parse(e.data).room));
    es.addEventListener("paused", () => { st.textContent = "Paused"; });
    es.addEventListener("resumed", () => { st.textContent = "Live"; });
    es.addEventListener("resync", async () => apply((await api(base)).data || {}));
    es.addEventListener("end", () => { st.textContent = "The session has ended."; es.close(); poll.replaceChildren(); });
  };
  const begin = async () => {
    let s;
    try { s = await api(base); } catch (e) { if (e.code !== 404) throw e; s = null; }
    if (!s) { st.textContent = teach ? "No live session: start one." : "No live session now. This page follows the trainer once one starts."; return false; }
    if (!teach) await post("join");
    apply(s.data || s);
    listen();
    return true;
  };
  const nodes = [el("h1", {}, "Live: ", c.name), st, out];
  if (teach) {
    const rows = (await outline(c.course)).items;
    const pick = el("select", { id: "goto", name: "lesson" }, rows.map((r) => el("option", { value: r.lesson }, r.title)));
    const text = el("input", { id: "saytext", name: "text", required: true });
    const gift = el("textarea", { id: "gift", name: "gift", rows: 3, required: true, placeholder: "Which phase comes first? {=Selection ~Diagnostic}" });
    const form = (label, ...kids) => { const f = el("form", {}, ...kids); f.addEventListener("submit", (ev) => { ev.preventDefault(); label(f); }); return f; };
    nodes.push(el("p", {}, el("button", { type: "button", class: "primary", click: async () => { if (await post("start")) { gone = false; await begin(); } } }, "Start"), " ",
      el("button", { type: "button", click: async () => { if (await post("end")) { st.textContent = "The session has ended."; if (es) es.close(); } } }, "End")),
    form(() => post("goto", { lesson: pick.value }), el("label", { for: "goto" }, "Lesson"), " ", pick, " ", el("button", {}, "Go")),
    form(async () => { if (await post("say", { text: text.value })) text.value = ""; }, el("label", { for: "saytext" }, "Say"), " ", text, " ", el("button", {}, "Send")),
    form(async () => { const r = await post("poll", { gift: gift.value }); if (r) showPoll({ id: r.poll, question: gift.value }); },
      el("label", { for: "gift" }, "Poll (one GIFT question)"), gift, el("button", {}, "Ask")),
    el("p", {}, el("button", { type: "button", click: async () => { const r = await post("close"); if (r) showTally(r.tally || r.data || r); } }, "Close the poll")),
    tally, poll, lesson, said);
  } else nodes.push(lesson, said, poll);
  show("Live: " + c.name, ...nodes);
  await begin();
  return () => { if (es) es.close(); if (!teach && !gone && pollId !== undefined) api(`${base}/leave`, {}).catch(() => {}); gone = true; };
}

/* offline.js: the page's side of sw.js: registers it once the first page
 * is drawn, shows a bar (offline, marks and answers waiting, what a replay
 * sent), asks for a replay when the link is back, and puts "save this
 * course" on an outline. Touches no state of campus.js. */
import { el, t, langArg } from "./lib.js";

const sw = navigator.serviceWorker;
let offline = !navigator.onLine, waiting = 0, sent = "";   /* sent: the last replay's, till the next page */

const bar = el("p", { id: "offline", role: "status" });
document.querySelector("header").after(bar);
const render = () => {
  bar.textContent = [offline && t("offReading"), waiting && t("offWaiting", waiting), sent].filter(Boolean).join(" ");
  bar.hidden = !bar.textContent;
};
const post = (msg) => sw.ready.then((r) => r.active && r.active.postMessage(msg));

sw.addEventListener("message", ({ data: m }) => {
  if (!m) return;
  if (m.type === "offline" || m.type === "online") offline = m.type === "offline";
  if ("count" in m) waiting = m.count;       /* queued, count, replayed */
  if (m.offline) offline = true;
  if (m.sent) sent = t("offSent", m.sent);
  const b = document.getElementById("save-course");
  if (/^sav/.test(m.type) && b && b.dataset.course === m.course) {
    b.nextElementSibling.textContent = m.type === "saving" ? t("offSavingN", m.done, m.total)
      : m.type === "saved" ? t("offSaved", m.lessons) : t("offSaveFailed", m.error);
    b.disabled = m.type === "saving";
  }
  render();
});
addEventListener("online", () => { offline = false; render(); post({ type: "replay" }); });
addEventListener("offline", () => { offline = true; render(); });
addEventListener("hashchange", () => { sent = ""; render(); });

/* On a course's outline, once campus.js has drawn it. */
function saveButton() {
  const m = /^#\/course\/([a-z0-9-]+)$/.exec(location.hash), h1 = document.querySelector("main h1");
  if (!m || !h1 || document.getElementById("save-course")) return;
  const s = el("span.meta", { role: "status" }), b = el("button", { type: "button", id: "save-course", "data-course": m[1], click: () => {
    b.disabled = true;
    s.textContent = t("offSaving");
    post({ type: "save-course", course: m[1], q: langArg() });
  } }, t("offSave"));
  h1.after(el("p", b, s));
}
/* Registered once the first page is drawn: its install would delay it. */
let started = false;
const drawn = () => {
  saveButton();
  if (!started && document.querySelector("main h1")) start(started = true);
};
new MutationObserver(drawn).observe(document.getElementById("main"), { childList: true });

const start = () => sw.register("/sw.js").then(() => {
  post({ type: "count" });
  if (navigator.onLine) post({ type: "replay" });
  /* What this first page fetched before the worker ran is kept as well. */
  if (!sw.controller) post({ type: "keep", urls: performance.getEntriesByType("resource").map((e) => new URL(e.name))
    .map((u) => u.pathname + u.search).filter((u) => /^\/api\/(lessons\/|courses|me$)/.test(u)) });
}, () => { /* no offline reading here (an insecure origin): the page works as before */ });
render();
drawn();

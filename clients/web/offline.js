/* offline.js: the page's side of reading offline (sw.js does the work):
 * registers the service worker, shows an offline indicator and how many
 * marks and answers wait to be sent, asks for a replay when the link is
 * back, and puts a "save this course for offline reading" button on a
 * course's outline. Touches no state of campus.js, which imports it once the
 * first page is drawn (the worker tells the link's state with the count). */
import { el, t, langArg } from "./lib.js";

const sw = navigator.serviceWorker;
let offline = !navigator.onLine, waiting = 0, note = "";   /* what the last replay sent, till the next page */

const bar = el("p", { id: "offline", role: "status" });
document.querySelector("header").after(bar);

function render() {
  const parts = [];
  if (offline) parts.push(t("offReading"));
  if (waiting) parts.push(t("offWaiting", waiting));
  if (note) parts.push(note);
  bar.textContent = parts.join(" ");
  bar.hidden = parts.length === 0;
}

const post = (msg) => sw.ready.then((r) => r.active && r.active.postMessage(msg));

sw.addEventListener("message", (ev) => {
  const m = ev.data || {};
  if (m.type === "offline") { offline = true; render(); }
  else if (m.type === "online") { if (offline) { offline = false; render(); } }
  else if (m.type === "queued" || m.type === "count") { waiting = m.count; if (m.offline) offline = true; render(); }
  else if (m.type === "replayed") {
    waiting = m.count;
    if (m.sent) note = t("offSent", m.sent);
    render();
  } else if (m.type === "saving" || m.type === "saved" || m.type === "save-failed") {
    const b = document.getElementById("save-course");
    if (!b || b.dataset.course !== m.course) return;
    const s = b.nextElementSibling;
    s.textContent = m.type === "saving" ? t("offSavingN", m.done, m.total)
      : m.type === "saved" ? t("offSaved", m.lessons) : t("offSaveFailed", m.error);
    b.disabled = m.type === "saving";
  }
});
addEventListener("online", () => { offline = false; render(); post({ type: "replay" }); });
addEventListener("offline", () => { offline = true; render(); });
addEventListener("hashchange", () => { note = ""; render(); });

/* On a course's outline, once campus.js has drawn it. */
function saveButton() {
  const m = location.hash.match(/^#\/course\/([a-z0-9-]+)$/), h1 = document.querySelector("main h1");
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
  if (!sw.controller)
    post({ type: "keep", urls: performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname +
      new URL(e.name).search).filter((u) => /^\/api\/(lessons\/|courses|me$)/.test(u)) });
},
  () => { /* no offline reading here (an insecure origin): the page works as before */ });
render();
drawn();

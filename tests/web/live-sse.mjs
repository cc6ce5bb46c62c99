// live-sse.mjs: a live session's event stream in real Chromium (Debian's
// /usr/bin/chromium through playwright-core), through the browser's own
// EventSource: a learner's page follows a trainer who acts on a second
// campusd; the page's campusd is stopped mid-session (its streams end),
// the trainer goes on, campusd comes back on the same port, and the
// browser resumes the stream by itself with Last-Event-ID and is replayed
// what it missed: every event once, in order.
// Prints "N passed, M failed" last; exits 1 on any failure (harness.mjs).
import path from "node:path";
import { main, assert, waitFor, PASSWORD as PW } from "./harness.mjs";

const COURSES = "tests/fixtures/courses-good";

async function api(base, method, p, token, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const r = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, doc: await r.json() };
}

await main("campus-live-web-", async (h) => {
  const test = (name, fn) => h.test(name, fn);
  const redis = await h.startRedis();
  // Ready once the live sessions are up; start() again after stop() keeps the ports.
  const opts = { courses: path.join(h.SOURCE, COURSES), redis, ready: (doc) => doc.status === "ok" && doc.live === true };
  const page1 = await h.campusd("page", opts);
  const lead = await h.campusd("lead", opts);
  await page1.start();
  await lead.start();
  h.addUser(lead, "tara", "trainer");
  h.addUser(lead, "lena", "learner");
  const tara = (await api(lead.url, "POST", "/api/login", null, { name: "tara", password: PW })).doc.data.token;
  const made = await api(lead.url, "POST", "/api/cohorts", tara, { course: "demo", name: "Web live", start: "2026-01-01" });
  assert(made.status === 201, JSON.stringify(made));
  const cid = made.doc.message.split(" ")[1];
  assert((await api(lead.url, "POST", `/api/cohorts/${cid}/learners`, tara, { names: ["lena"] })).status === 200, "add");
  assert((await api(lead.url, "POST", `/api/live/${cid}/start`, tara, {})).status === 201, "start");

  const ctx = await h.persistentContext("chromium-profile");
  const page = await h.newPage(ctx);
  const pageErrors = h.pageErrors;

  const say = (text) => api(lead.url, "POST", `/api/live/${cid}/say`, tara, { text });
  const events = () => page.evaluate(() => window.liveEvents);

  await test("EventSource follows the trainer, and resumes with Last-Event-ID after the server drops the stream", async () => {
    await page.goto(page1.url + "/");
    // Logged in by the page itself, so the stream carries the session cookie.
    const st = await page.evaluate(async (pw) => (await fetch("/api/login", { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: "lena", password: pw }) })).status, PW);
    assert(st === 200, "login " + st);
    await page.evaluate((cid) => {
      window.liveEvents = [];
      window.liveOpens = 0;
      const es = new EventSource(`/api/live/${cid}/events`);
      for (const t of ["goto", "say", "poll", "tally", "end", "paused", "resumed", "resync", "room"])
        es.addEventListener(t, (e) => window.liveEvents.push({ type: t, id: Number(e.lastEventId), data: JSON.parse(e.data) }));
      es.onopen = () => { window.liveOpens++; };
      window.liveSource = es;
    }, cid);
    await waitFor(() => page.evaluate(() => window.liveOpens === 1), "the stream to open");
    assert((await api(lead.url, "POST", `/api/live/${cid}/goto`, tara, { lesson: "demo/welcome" })).status === 200, "goto");
    await say("first");
    await waitFor(async () => (await events()).length === 2, "two events");

    // The page's campusd goes away: its streams end. The trainer goes on
    // on the other one; then the page's campusd comes back.
    await page1.stop();
    await say("missed one");
    assert((await api(lead.url, "POST", `/api/live/${cid}/poll`, tara,
      { gift: "Clusters need brokers. {T}" })).status === 201, "poll");
    await say("missed two");
    await page1.start();
    await waitFor(() => page.evaluate(() => window.liveOpens >= 2), "the browser to reconnect", 30000);
    await say("after");
    await waitFor(async () => (await events()).length >= 6, "the replay and the new event", 15000);
    const ev = await events();
    const texts = ev.map((e) => e.type + ":" + (e.data.text || e.data.lesson || e.data.kind || ""));
    assert(JSON.stringify(texts) === JSON.stringify(["goto:demo/welcome", "say:first", "say:missed one",
      "poll:truefalse", "say:missed two", "say:after"]), "events: " + JSON.stringify(texts));
    for (let i = 1; i < ev.length; i++) assert(ev[i].id === ev[i - 1].id + 1, "ids " + JSON.stringify(ev.map((e) => e.id)));
    const state = await page.evaluate(async (cid) => (await fetch(`/api/live/${cid}`)).json(), cid);
    assert(state.poll && state.poll.kind === "truefalse" && state.lesson === "demo/welcome", JSON.stringify(state));
    assert(!("tally" in state), "a learner sees no running tally");
    assert(pageErrors.length === 0, pageErrors.join("; "));
    await page.evaluate(() => window.liveSource.close());
  });

  await ctx.close();
  await page1.stop();
  await lead.stop();
});

// live-sse.mjs: a live session's event stream in real Chromium (Debian's
// /usr/bin/chromium through playwright-core), through the browser's own
// EventSource: a learner's page follows a trainer who acts on a second
// campusd; the page's campusd is stopped mid-session (its streams end),
// the trainer goes on, campusd comes back on the same port, and the
// browser resumes the stream by itself with Last-Event-ID and is replayed
// what it missed: every event once, in order.
// Prints "N passed, M failed" last; exits 1 on any failure.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = process.env.CAMPUS_SOURCE || path.resolve(HERE, "..", "..");
const CAMPUSD = process.env.CAMPUSD || path.join(SOURCE, "build", "daemon", "campusd");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const COURSES = path.join(SOURCE, "tests", "fixtures", "courses-good");
const WEB = path.join(SOURCE, "clients", "web");
const SANITIZER_MARKS = ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
  "SUMMARY: UndefinedBehaviorSanitizer"];
const PW = "a long enough password";

if (!existsSync(path.join(HERE, "node_modules", "playwright-core"))) {
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: HERE, stdio: "inherit" });
  if (r.status !== 0) { console.log("npm ci failed\n0 passed, 1 failed"); process.exit(1); }
}
const { chromium } = createRequire(import.meta.url)("playwright-core");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function waitFor(pred, what, timeout = 30000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    try { if (await pred()) return; } catch (e) { /* not yet */ }
    await sleep(100);
  }
  throw new Error("timed out waiting for " + what);
}

function assert(cond, msg) { if (!cond) throw new Error("assertion failed: " + msg); }

const tmp = mkdtempSync(path.join(os.tmpdir(), "campus-live-web-"));
const procs = [];

async function startRedis() {
  const port = await freePort();
  const dir = path.join(tmp, "redis");
  mkdirSync(dir);
  const p = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir,
    "--appendonly", "yes", "--save", "", "--daemonize", "no", "--loglevel", "warning"], { stdio: "ignore" });
  procs.push(p);
  await waitFor(() => new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.on("error", () => resolve(false));
    s.on("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => { s.destroy(); resolve(d.toString().startsWith("+PONG")); });
  }), "redis-server");
  return port;
}

// One campusd; start() may be called again after stop() on the same ports.
function campusd(name, redisPort, http, text) {
  const log = path.join(tmp, name + ".log");
  const data = path.join(tmp, name + "-data");
  mkdirSync(data, { recursive: true });
  const d = { url: `http://127.0.0.1:${http}`, log, proc: null };
  d.start = async () => {
    d.proc = spawn(CAMPUSD, ["--bind", "127.0.0.1", "--text-port", String(text), "--tls-port", "0",
      "--http-port", String(http), "--data", data, "--courses", COURSES, "--web", WEB,
      "--redis", "127.0.0.1:" + redisPort, "--scrypt-ln", "10", "--log-level", "debug"],
    { stdio: ["ignore", openSync(log, "a"), openSync(log, "a")],
      env: { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || "detect_leaks=1" } });
    procs.push(d.proc);
    await waitFor(async () => {
      if (d.proc.exitCode !== null) throw new Error(`campusd exited early:\n${readFileSync(log, "utf8")}`);
      const h = await (await fetch(d.url + "/healthz")).json();
      return h.status === "ok" && h.live === true;
    }, "campusd " + name);
  };
  d.stop = async () => {
    if (d.proc.exitCode === null) {
      const done = new Promise((r) => d.proc.once("exit", r));
      d.proc.kill("SIGTERM");
      await Promise.race([done, sleep(30000)]);
    }
    const textLog = readFileSync(log, "utf8");
    for (const m of SANITIZER_MARKS)
      if (textLog.includes(m)) throw new Error("sanitizer report in campusd log:\n" + textLog.slice(-6000));
    if (d.proc.exitCode !== 0) throw new Error(`campusd exited with ${d.proc.exitCode}:\n${textLog.slice(-3000)}`);
  };
  return d;
}

function addUser(redisPort, name, role) {
  const r = spawnSync(CAMPUSD, ["--redis", "127.0.0.1:" + redisPort, "--add-user", name, "--role", role,
    "--scrypt-ln", "10"], { input: PW + "\n", timeout: 60000 });
  if (r.status !== 0) throw new Error("--add-user failed: " + r.stderr);
}

async function api(base, method, p, token, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const r = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, doc: await r.json() };
}

const results = [];
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push(true);
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(2)}s)`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL ${name}\n${e.stack || e}`);
  }
}

async function run() {
  const redis = await startRedis();
  const page1 = campusd("page", redis, await freePort(), await freePort());
  const lead = campusd("lead", redis, await freePort(), await freePort());
  await page1.start();
  await lead.start();
  addUser(redis, "tara", "trainer");
  addUser(redis, "lena", "learner");
  const tara = (await api(lead.url, "POST", "/api/login", null, { name: "tara", password: PW })).doc.data.token;
  const made = await api(lead.url, "POST", "/api/cohorts", tara, { course: "demo", name: "Web live", start: "2026-01-01" });
  assert(made.status === 201, JSON.stringify(made));
  const cid = made.doc.message.split(" ")[1];
  assert((await api(lead.url, "POST", `/api/cohorts/${cid}/learners`, tara, { names: ["lena"] })).status === 200, "add");
  assert((await api(lead.url, "POST", `/api/live/${cid}/start`, tara, {})).status === 201, "start");

  const ctx = await chromium.launchPersistentContext(path.join(tmp, "chromium-profile"), {
    executablePath: CHROMIUM, headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await ctx.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(30000);

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
}

try {
  await run();
} catch (e) {
  results.push(false);
  console.log("FAIL setup\n" + (e.stack || e));
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
}
const failed = results.filter((r) => !r).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

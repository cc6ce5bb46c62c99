// offline.mjs: the web client on an intermittent link, in real Chromium
// (Debian's, through playwright-core) against a real campusd and
// redis-server: gzip as the browser receives it, the service worker keeping
// the client and every lesson opened (and a whole course on request), the
// offline indicator, and DONE and SUBMIT made with the network cut
// (context.setOffline) queued and replayed once it is back, a SUBMIT
// queued twice costing one attempt. Prints "N passed, M failed" last.
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
const LAB = path.join(HERE, "fixtures", "courses");
const WEB = path.join(SOURCE, "clients", "web");
const SANITIZER_MARKS = ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"];

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

const tmp = mkdtempSync(path.join(os.tmpdir(), "campus-offline-"));
const procs = [];
let log, campusd;

async function start() {
  const rport = await freePort();
  mkdirSync(path.join(tmp, "redis"));
  procs.push(spawn("redis-server", ["--port", String(rport), "--bind", "127.0.0.1", "--dir",
    path.join(tmp, "redis"), "--save", "", "--appendonly", "yes", "--daemonize", "no"], { stdio: "ignore" }));
  const http = await freePort(), text = await freePort();
  log = path.join(tmp, "campusd.log");
  mkdirSync(path.join(tmp, "data"));
  campusd = spawn(CAMPUSD, ["--bind", "127.0.0.1", "--text-port", String(text), "--tls-port", "0",
    "--http-port", String(http), "--data", path.join(tmp, "data"), "--courses", LAB, "--web", WEB,
    "--redis", "127.0.0.1:" + rport, "--scrypt-ln", "10", "--log-level", "debug"],
  { stdio: ["ignore", openSync(log, "a"), openSync(log, "a")],
    env: { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || "detect_leaks=1" } });
  procs.push(campusd);
  const url = `http://127.0.0.1:${http}`;
  await waitFor(async () => {
    if (campusd.exitCode !== null) throw new Error("campusd exited early:\n" + readFileSync(log, "utf8"));
    return (await fetch(url + "/healthz")).status === 200;
  }, "campusd");
  return url;
}

const results = [], pageErrors = [];
function assert(cond, msg) { if (!cond) throw new Error("assertion failed: " + msg); }
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
  const url = await start();
  const ctx = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
    executablePath: CHROMIUM, headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await ctx.newPage();
    page.setDefaultTimeout(20000);
    page.on("pageerror", (e) => pageErrors.push(`${page.url()}: ${e.message}`));
    const gzipped = new Set();
    page.on("response", async (r) => {
      const h = await r.allHeaders().catch(() => ({}));
      if (h["content-encoding"] === "gzip") gzipped.add(new URL(r.url()).pathname);
    });

    await test("the browser gets the client and lessons gzipped, and reads them", async () => {
      await page.goto(url + "/#/register");
      await page.getByLabel("Name").fill("offline1");
      await page.getByLabel("Password").fill("a long enough password");
      await page.getByRole("button", { name: "Create my account" }).click();
      await page.locator("#account .who", { hasText: "offline1" }).waitFor();
      await page.goto(url + "/#/lesson/web-lab/plain");
      await page.locator("article h1").waitFor();
      for (const p of ["/campus.js", "/campus.css", "/api/lessons/web-lab/plain"])
        assert(gzipped.has(p), p + " came gzipped: " + [...gzipped].join(" "));
      assert((await page.locator("article p").count()) > 0, "the lesson's paragraphs render");
    });

    await test("the service worker takes over the page", async () => {
      await page.reload();
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20000 });
      await page.locator("article h1").waitFor();
    });

    await test("offline: a lesson opened before reads, one never opened says so, the indicator shows", async () => {
      await ctx.setOffline(true);
      await page.reload();
      await page.locator("article h1").waitFor();
      assert((await page.locator("article p").count()) > 0, "the saved lesson's text");
      await page.locator("#offline", { hasText: "Offline" }).waitFor();
      await page.goto(url + "/#/lesson/web-lab/hostile");
      await page.locator("main .error", { hasText: "offline" }).waitFor();
      await ctx.setOffline(false);
    });

    await test("a whole course saved on request reads offline", async () => {
      await page.goto(url + "/#/course/web-lab");
      await page.locator("#save-course").click();
      await page.locator("#save-course + span", { hasText: "Saved" }).waitFor();
      await ctx.setOffline(true);
      await page.goto(url + "/#/lesson/web-lab/hostile");
      await page.locator("article h1").waitFor();
      await page.goto(url + "/#/course/web-lab");
      await page.locator("ol.outline a").first().waitFor();
    });

    await test("DONE and SUBMIT made offline are queued, replayed once, one attempt", async () => {
      await page.goto(url + "/#/lesson/web-lab/plain");
      await page.getByRole("button", { name: "Mark as done" }).click();
      await page.locator("#offline", { hasText: "1 mark" }).waitFor();
      // The same answer sent twice (a learner pressing again): one entry.
      for (let i = 0; i < 2; i++) {
        const st = await page.evaluate(async () => (await fetch("/api/exercises/web-lab/reflection/submit", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ answers: { note: "Dear mayor, the market needs a roof." } }) })).status);
        assert(st === 503, "an offline SUBMIT is answered 503 (queued), got " + st);
      }
      await page.locator("#offline", { hasText: "2 marks or answers" }).waitFor();
      await ctx.setOffline(false);
      await page.evaluate(() => dispatchEvent(new Event("online")));
      await page.locator("#offline", { hasText: "Sent 2" }).waitFor();
      const state = await page.evaluate(async () => ({
        attempts: (await (await fetch("/api/exercises/web-lab/reflection/attempts")).json()).items,
        progress: (await (await fetch("/api/progress/web-lab")).json()).items,
      }));
      assert(state.attempts.length === 1, "one attempt: " + JSON.stringify(state.attempts));
      const done = state.progress.reduce((n, m) => n + Number(m.done), 0);
      assert(done >= 1, "the lesson counts as done: " + JSON.stringify(state.progress));
      // Replaying again sends nothing: the queue is empty.
      await page.evaluate(() => navigator.serviceWorker.controller.postMessage({ type: "replay" }));
      await sleep(300);
      const again = await page.evaluate(async () =>
        (await (await fetch("/api/exercises/web-lab/reflection/attempts")).json()).items.length);
      assert(again === 1, "still one attempt");
    });

    await test("no script errors", async () => { assert(pageErrors.length === 0, pageErrors.join("\n")); });
  } finally {
    await ctx.close();
  }
  await test("campusd stops cleanly, without sanitizer reports", async () => {
    const done = new Promise((r) => campusd.once("exit", r));
    campusd.kill("SIGTERM");
    await Promise.race([done, sleep(30000)]);
    const text = readFileSync(log, "utf8");
    for (const m of SANITIZER_MARKS) assert(!text.includes(m), "sanitizer report:\n" + text.slice(-4000));
    assert(campusd.exitCode === 0, "campusd exit status " + campusd.exitCode);
  });
}

let crashed = null;
try { await run(); } catch (e) { crashed = e; console.log("FAIL setup\n" + (e.stack || e)); } finally {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
  await sleep(300);
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
}
const passed = results.filter(Boolean).length, failed = results.length - passed + (crashed ? 1 : 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

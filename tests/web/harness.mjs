// harness.mjs: what every web test shares. A real redis-server and real
// campusd processes on free loopback ports, Debian's Chromium driven by
// playwright-core, a test runner whose every test is bounded in time, and a
// teardown that always stops what was started (browsers, then processes,
// then the temporary directory), whatever failed.
//
//   import { main } from "./harness.mjs";
//   await main("campus-x-", async (h) => {
//     const redis = await h.startRedis();
//     const d = await h.startCampusd("one", { courses: h.LAB, redis });
//     const ctx = await h.persistentContext("profile");
//     await h.test("something a user sees", async () => { ... h.assert(...) });
//     await h.stopCampusd(d);              // sanitizer reports fail the run
//   });
//
// main() prints "N passed, M failed" last and exits 1 on any failure.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE = process.env.CAMPUS_SOURCE || path.resolve(HERE, "..", "..");
export const CAMPUSD = process.env.CAMPUSD || path.join(SOURCE, "build", "daemon", "campusd");
export const BUILD = process.env.CAMPUS_BUILD || path.dirname(path.dirname(CAMPUSD));
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const COURSES = path.join(SOURCE, "courses");                // the bundled courses
export const LAB = path.join(HERE, "fixtures", "courses");          // every task type, hostile HTML
export const WEB = path.join(SOURCE, "clients", "web");
export const SANITIZER_MARKS = ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
  "SUMMARY: UndefinedBehaviorSanitizer"];
export const PASSWORD = "a long enough password";
// Cheap password hashes for tests (campusd's defaults are costly on purpose).
const FAST_HASH = ["--scrypt-ln", "10", "--argon2-m", "256", "--argon2-t", "1"];
const TEST_TIMEOUT = 180000;       // ms one test may take unless it says otherwise
const WAIT_TIMEOUT = 30000;        // ms a server may take to answer after it starts
const STOP_TIMEOUT = 30000;        // ms campusd may take to stop after SIGTERM
const KILL_GRACE = 300;            // ms between SIGTERM and SIGKILL at teardown
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function assert(cond, msg) { if (!cond) throw new Error("assertion failed: " + msg); }

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// Polls pred every 100 ms until it is true; a pred that throws is "not yet".
export async function waitFor(pred, what, timeout = WAIT_TIMEOUT) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    try { if (await pred()) return; } catch (e) { /* not yet */ }
    await sleep(100);
  }
  throw new Error("timed out waiting for " + what);
}

function redisPing(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.setTimeout(1000, () => { s.destroy(); resolve(false); });
    s.on("error", () => resolve(false));
    s.on("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => { s.destroy(); resolve(d.toString().startsWith("+PONG")); });
  });
}

// playwright-core and axe-core from tests/web/node_modules, installed by
// `npm ci` on a fresh machine.
function loadChromium() {
  if (!["playwright-core", "axe-core"].every((m) => existsSync(path.join(HERE, "node_modules", m)))) {
    const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: HERE, stdio: "inherit" });
    if (r.status !== 0) throw new Error("npm ci failed");
  }
  return createRequire(import.meta.url)("playwright-core").chromium;
}

class Harness {
  constructor(prefix) {
    this.tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
    this.procs = [];
    this.browsers = [];            // browsers and persistent contexts, closed at teardown
    this.results = [];
    this.pageErrors = [];
    this.chromium = loadChromium();
    Object.assign(this, { sleep, assert, waitFor, freePort, SOURCE, CAMPUSD, BUILD, CHROMIUM, COURSES, LAB, WEB, PASSWORD });
  }

  // Runs one test, bounded by opts.timeout ms; a failure is printed and
  // counted, and the next test runs.
  async test(name, fn, opts = {}) {
    const t0 = Date.now(), limit = opts.timeout || TEST_TIMEOUT;
    let timer;
    try {
      await Promise.race([fn(), new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the test took over ${limit / 1000} s`)), limit);
      })]);
      this.results.push(true);
      console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(2)}s)`);
    } catch (e) {
      this.results.push(false);
      console.log(`FAIL ${name}\n${e.stack || e}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async startRedis() {
    const port = await freePort();
    const dir = path.join(this.tmp, "redis-" + port);
    mkdirSync(dir);
    this.procs.push(spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir,
      "--appendonly", "yes", "--save", "", "--daemonize", "no", "--loglevel", "warning"], { stdio: "ignore" }));
    await waitFor(() => redisPing(port), "redis-server");
    return port;
  }

  // A campusd serving opts.courses against the redis-server on opts.redis;
  // start() may be called again after stop(), on the same ports. Ready when
  // /healthz answers 200 (and opts.ready(healthz document), if given).
  async campusd(name, opts) {
    const http = opts.http || await freePort(), text = opts.text || await freePort();
    const log = path.join(this.tmp, name + ".log");
    const data = path.join(this.tmp, name + "-data");
    mkdirSync(data, { recursive: true });
    const d = { name, url: `http://127.0.0.1:${http}`, log, data, proc: null, redis: opts.redis };
    d.start = async () => {
      d.proc = spawn(CAMPUSD, ["--bind", "127.0.0.1", "--text-port", String(text), "--tls-port", "0",
        "--http-port", String(http), "--data", data, "--courses", opts.courses, "--web", WEB,
        "--redis", "127.0.0.1:" + opts.redis, ...FAST_HASH, "--log-level", "debug", ...(opts.args || [])],
      { stdio: ["ignore", openSync(log, "a"), openSync(log, "a")],
        env: { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || "detect_leaks=1" } });
      this.procs.push(d.proc);
      await waitFor(async () => {
        if (d.proc.exitCode !== null) throw new Error("campusd exited early");
        const r = await fetch(d.url + "/healthz");
        return r.status === 200 && (!opts.ready || opts.ready(await r.json()));
      }, "campusd " + name).catch((e) => {
        throw new Error(e.message + "\n" + readFileSync(log, "utf8").slice(-3000));
      });
    };
    d.stop = () => this.stopCampusd(d);
    return d;
  }

  async startCampusd(name, opts) {
    const d = await this.campusd(name, opts);
    await d.start();
    return d;
  }

  // SIGTERM, then its log must hold no sanitizer report and its exit status be 0.
  async stopCampusd(d) {
    if (d.proc.exitCode === null && d.proc.signalCode === null) {
      const done = new Promise((r) => d.proc.once("exit", r));
      d.proc.kill("SIGTERM");
      await Promise.race([done, sleep(STOP_TIMEOUT)]);
    }
    const text = readFileSync(d.log, "utf8");
    for (const m of SANITIZER_MARKS)
      if (text.includes(m)) throw new Error("sanitizer report in campusd log:\n" + text.slice(-6000));
    if (d.proc.exitCode !== 0) throw new Error(`campusd exited with ${d.proc.exitCode}:\n${text.slice(-3000)}`);
  }

  // An account made with campusd --add-user (the way an operator makes a trainer).
  addUser(d, name, role, password = PASSWORD) {
    const r = spawnSync(CAMPUSD, ["--redis", "127.0.0.1:" + d.redis, "--data", d.data, "--add-user", name,
      "--role", role, ...FAST_HASH], { input: password + "\n", timeout: 60000 });
    if (r.status !== 0) throw new Error("--add-user failed: " + r.stderr);
  }

  // A Chromium with a profile on disk (service workers and caches last
  // across its pages), under the temporary directory.
  async persistentContext(profile, opts = {}) {
    const ctx = await this.chromium.launchPersistentContext(path.join(this.tmp, profile), {
      executablePath: CHROMIUM, headless: true, ...opts, args: [...CHROMIUM_ARGS, ...(opts.args || [])] });
    this.browsers.push(ctx);
    return ctx;
  }

  // A Chromium for throwaway contexts (browser.newContext()).
  async browser() {
    const b = await this.chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    this.browsers.push(b);
    return b;
  }

  // A new page of ctx whose script errors and dialogs are recorded in pageErrors.
  async newPage(ctx, viewport, timeout = WAIT_TIMEOUT) {
    const page = await ctx.newPage();
    if (viewport) await page.setViewportSize(viewport);
    page.on("pageerror", (e) => this.pageErrors.push(`${page.url()}: ${e.message}`));
    page.on("dialog", (d) => { this.pageErrors.push(`dialog opened: ${d.message()}`); d.dismiss(); });
    page.setDefaultTimeout(timeout);
    return page;
  }

  async teardown() {
    for (const b of this.browsers.reverse()) await Promise.race([b.close().catch(() => {}), sleep(10000)]);
    const alive = () => this.procs.filter((p) => p.exitCode === null && p.signalCode === null);
    for (const p of alive()) p.kill("SIGTERM");
    for (let i = 0; i < 20 && alive().length; i++) await sleep(KILL_GRACE / 2);
    for (const p of alive()) p.kill("SIGKILL");
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

// Runs body(harness), always tears down, prints the count and exits.
export async function main(prefix, body) {
  let h = null, crashed = null;
  try {
    h = new Harness(prefix);
    await body(h);
  } catch (e) {
    crashed = e;
    console.log("FAIL setup\n" + (e.stack || e));
  } finally {
    if (h) await h.teardown();
  }
  const results = h ? h.results : [];
  const passed = results.filter(Boolean).length, failed = results.length - passed + (crashed ? 1 : 0);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

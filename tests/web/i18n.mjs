// i18n.mjs: the web client in Spanish and French, in real Chromium against a
// real campusd and redis-server on free loopback ports. A browser set to
// es-ES gets the Spanish catalogue (and only it), <html lang="es">, a
// cluster-development lesson in Spanish, numbers, scores and dates as Spanish
// writes them, and a notice where a lesson exists only in English; the
// language switch moves a logged-in learner to French, the account keeps it
// (API and Redis), and it follows them into another browser; a French
// browser's course saved for offline reading reads in French offline. An
// axe scan of the Spanish pages. Prints "N passed, M failed" last; exits 1 on any failure.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = process.env.CAMPUS_SOURCE || path.resolve(HERE, "..", "..");
const CAMPUSD = process.env.CAMPUSD || path.join(SOURCE, "build", "daemon", "campusd");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const WEB = path.join(SOURCE, "clients", "web");
const SANITIZER_MARKS = ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"];

if (!["playwright-core", "axe-core"].every((m) => existsSync(path.join(HERE, "node_modules", m)))) {
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: HERE, stdio: "inherit" });
  if (r.status !== 0) { console.log("npm ci failed\n0 passed, 1 failed"); process.exit(1); }
}
const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

// ---- the servers (the least of run.mjs's start-up: one redis, one campusd) ----

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tmp = mkdtempSync(path.join(os.tmpdir(), "campus-i18n-"));
const procs = [];

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

/* One command to redis-server, its first reply line back. */
function redis(port, line) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let got = "";
    s.setTimeout(3000, () => { s.destroy(); reject(new Error("redis timed out")); });
    s.on("error", reject);
    s.on("connect", () => s.write(line + "\r\n"));
    s.on("data", (d) => {
      got += d;
      const m = /^\$(-?\d+)\r\n/.exec(got);
      if (got.startsWith("+") || got.startsWith("-") || (m && (+m[1] < 0 || got.length >= m[0].length + +m[1] + 2))) {
        s.destroy();
        resolve(m ? (+m[1] < 0 ? null : got.slice(m[0].length, m[0].length + +m[1])) : got.trim());
      }
    });
  });
}

async function start() {
  const rport = await freePort(), http = await freePort(), text = await freePort();
  mkdirSync(path.join(tmp, "redis"));
  mkdirSync(path.join(tmp, "data"));
  procs.push(spawn("redis-server", ["--port", String(rport), "--bind", "127.0.0.1", "--dir", path.join(tmp, "redis"),
    "--appendonly", "yes", "--save", "", "--daemonize", "no", "--loglevel", "warning"], { stdio: "ignore" }));
  await waitFor(async () => (await redis(rport, "PING")) === "+PONG", "redis-server");
  const log = path.join(tmp, "campusd.log");
  const p = spawn(CAMPUSD, ["--bind", "127.0.0.1", "--text-port", String(text), "--tls-port", "0",
    "--http-port", String(http), "--data", path.join(tmp, "data"), "--courses", path.join(SOURCE, "courses"), "--web", WEB,
    "--redis", "127.0.0.1:" + rport, "--scrypt-ln", "10", "--argon2-m", "256", "--argon2-t", "1"],
  { stdio: ["ignore", openSync(log, "a"), openSync(log, "a")], env: { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS || "detect_leaks=1" } });
  procs.push(p);
  const url = `http://127.0.0.1:${http}`;
  await waitFor(async () => {
    if (p.exitCode !== null) throw new Error("campusd exited early:\n" + readFileSync(log, "utf8"));
    return (await fetch(url + "/healthz")).status === 200;
  }, "campusd", 60000);
  return { url, rport, proc: p, log };
}

async function stop(d) {
  if (d.proc.exitCode === null) {
    const done = new Promise((r) => d.proc.once("exit", r));
    d.proc.kill("SIGTERM");
    await Promise.race([done, sleep(30000)]);
  }
  const text = readFileSync(d.log, "utf8");
  for (const m of SANITIZER_MARKS) if (text.includes(m)) throw new Error("sanitizer report in campusd log:\n" + text.slice(-6000));
  if (d.proc.exitCode !== 0) throw new Error(`campusd exited with ${d.proc.exitCode}:\n${text.slice(-3000)}`);
}

// ---- the tests ----

let passed = 0, failed = 0;
const pageErrors = [];
function assert(c, msg) { if (!c) throw new Error("assertion failed: " + msg); }
async function test(name, fn) {
  const t0 = Date.now();
  try { await fn(); passed++; console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(2)}s)`); } catch (e) {
    failed++; console.log(`FAIL ${name}\n${e.stack || e}`);
  }
}

/* The front-matter title of a course file. */
const titleOf = (file) => readFileSync(file, "utf8").match(/^title:\s*"?(.+?)"?\s*$/m)[1];
const CLUSTER = path.join(SOURCE, "courses", "cluster-development");
/* A catalogue as lib.js reads it: key=value lines, "#" comments, key.one=
 * and key.other= a plural's forms. A line of neither kind is an error. */
const catalogue = (l) => {
  const c = {}, file = path.join(WEB, "i18n", l + ".txt");
  readFileSync(file, "utf8").split(/\r?\n/).forEach((line, n) => {
    if (line === "" || line.startsWith("#")) return;
    const i = line.indexOf("=");
    assert(i > 0, `${file}:${n + 1}: not key=value: ${line}`);
    const k = line.slice(0, i), v = line.slice(i + 1), p = /^(.+)\.(zero|one|two|few|many|other)$/.exec(k);
    assert(!(p ? c[p[1]] && c[p[1]][p[2]] !== undefined : k in c), `${file}:${n + 1}: ${k} twice`);
    assert(v === v.trim(), `${file}:${n + 1}: ${k} starts or ends with a space (an editor may drop it: use {0})`);
    if (p) (c[p[1]] ||= {})[p[2]] = v; else c[k] = v;
  });
  return c;
};

async function axe(page, where) {
  await page.evaluate(AXE);
  const r = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations
    .filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`));
  assert(r.length === 0, where + ": " + r.join("; "));
}

async function run() {
  const srv = await start();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  const es = await browser.newContext({ locale: "es-ES", timezoneId: "UTC", serviceWorkers: "block" });
  const open = async (ctx, hash) => {
    const page = await ctx.newPage();
    page.on("pageerror", (e) => pageErrors.push(`${page.url()}: ${e.message}`));
    await page.goto(srv.url + "/#/" + hash);
    await page.locator("main h1").waitFor();
    return page;
  };
  const ES = catalogue("es"), FR = catalogue("fr"), EN = catalogue("en");

  await test("every catalogue has the English keys, with the same placeholders, and each key the client uses", async () => {
    const holes = (v) => [...new Set(JSON.stringify(v).match(/\{\d\}/g) || [])].sort().join();
    for (const [name, cat] of [["fr", FR], ["es", ES]]) {
      const miss = Object.keys(EN).filter((k) => !(k in cat)), extra = Object.keys(cat).filter((k) => !(k in EN));
      assert(!miss.length && !extra.length, `${name}: missing ${miss}, extra ${extra}`);
      const odd = Object.keys(EN).filter((k) => holes(EN[k]) !== holes(cat[k]));
      assert(!odd.length, `${name}: placeholders differ in ${odd}`);
      const same = Object.keys(EN).filter((k) => typeof EN[k] === "string" && EN[k].length > 12 && EN[k] === cat[k] && !["csvPlaceholder", "provisional"].includes(k));
      assert(!same.length, `${name}: left in English: ${same}`);
    }
    const code = readdirSync(WEB).filter((f) => f.endsWith(".js")).map((f) => readFileSync(path.join(WEB, f), "utf8")).join("\n");
    const used = [...code.matchAll(/\btn?\(\s*"([^"]+)"/g)].map((m) => m[1]);
    const none = used.filter((k) => !(k in EN) && !k.endsWith("-"));
    assert(used.length > 100 && !none.length, "keys without an entry: " + none);
    // And no entry the client no longer asks for: each key is in the code
    // as a string, or its family's prefix is ("task-" + kind); "dir" is the loader's.
    const unused = Object.keys(EN).filter((k) => k !== "dir" && !code.includes(`"${k}"`) && !(/-/.test(k) && code.includes(`"${k.split("-")[0]}-"`)));
    assert(!unused.length, "entries no code uses: " + unused);
  });

  let home;
  await test("es-ES: the catalogue page in Spanish, <html lang=es>, only es.txt fetched, programmes in order", async () => {
    const page = await es.newPage();
    const cats = [];
    page.on("request", (r) => { if (r.url().includes("/i18n/")) cats.push(new URL(r.url()).pathname); });
    page.on("pageerror", (e) => pageErrors.push(`${page.url()}: ${e.message}`));
    await page.goto(srv.url + "/");
    await page.locator("ul.courses li").first().waitFor();
    assert(await page.evaluate(() => document.documentElement.lang) === "es", "html lang");
    assert(await page.evaluate(() => document.documentElement.dir) === "ltr", "html dir");
    assert((await page.locator("main h1").textContent()) === ES.courses, "the heading: " + await page.locator("main h1").textContent());
    assert(await page.getByLabel(ES.searchLessons).count() === 1, "the search box labelled in Spanish");
    assert(await page.getByRole("combobox", { name: ES.language }).inputValue() === "es", "the switch shows Spanish");
    assert((await page.locator(".skip").textContent()) === ES.skip, "the skip link");
    assert(JSON.stringify(cats) === JSON.stringify(["/i18n/es.txt"]), "only the Spanish catalogue: " + cats);
    // The cluster course's title in Spanish, its counts written the Spanish way.
    const li = page.locator("ul.courses li", { has: page.locator('a[href="#/course/cluster-development"]') });
    assert((await li.locator("h2").textContent()) === titleOf(path.join(CLUSTER, "course.es.md")), "course title in Spanish");
    const doc = await (await fetch(srv.url + "/api/courses")).json(), c = doc.items.find((x) => x.id === "cluster-development");
    const meta = await li.locator(".meta").textContent();
    assert(meta === `${c.modules} módulos · ${c.lessons} lecciones · ${c.minutes} minutos`, "counts: " + meta);
    // The programme: its title, summary, and its courses in the file's order.
    const prog = doc.data.programmes[0], sec = page.locator("section.programme");
    assert((await sec.locator("h2").textContent()) === `Itinerario: ${prog.title}`, "programme title");
    assert((await sec.locator("p").textContent()) === prog.summary, "programme summary");
    const hrefs = await sec.locator("ol li a").evaluateAll((as) => as.map((x) => x.getAttribute("href")));
    assert(JSON.stringify(hrefs) === JSON.stringify(prog.courses.map((x) => "#/course/" + x)), "courses in order: " + hrefs);
    home = page;
  });

  await test("es-ES: a cluster-development lesson in Spanish, its big numbers in Spanish digits", async () => {
    const page = await open(es, "lesson/cluster-development/medina-dakar");
    await page.locator("article table.data").first().waitFor();
    const h1 = (await page.locator("article h1").textContent()).trim();
    const want = titleOf(path.join(CLUSTER, "06-project-experiences-b", "03-medina-dakar.case.es.md"));
    assert(h1 === want, `the Spanish title: ${h1} / ${want}`);
    assert(await page.locator("article").getAttribute("lang") === "es", "the article says its language");
    assert((await page.locator("article h1 + p.meta").textContent()).includes("español"), "the language served is named");
    assert(await page.locator("article h1 + p.meta + p.note").count() === 0, "no fallback notice");
    const cells = await page.locator("article table.data td.num").allTextContents();
    assert(cells.includes("600.000.000"), "600000000 as Spanish writes it: " + cells);
    assert((await page.locator("nav.crumbs a").first().textContent()) === ES.courses, "breadcrumbs in Spanish");
    await page.locator(".exercise h2").waitFor();
    assert(await page.getByRole("button", { name: ES.submit }).count() === 1, "the exercise's button in Spanish");
    await axe(page, "Spanish lesson and exercise");
    await page.close();
  });

  await test("es-ES: a lesson not written in Spanish says so, and says it is in English", async () => {
    const page = await open(es, "lesson/led-foundations/what-is-led");
    await page.locator("article h1 + p.meta + p.note").waitFor();
    assert((await page.locator("article h1 + p.meta + p.note").textContent()) === "Todavía no está disponible en español: se muestra en inglés.",
      "the notice: " + await page.locator("article h1 + p.meta + p.note").textContent());
    assert(await page.locator("article").getAttribute("lang") === "en", "the article is marked English");
    await page.close();
  });

  const user = "i18n" + Date.now().toString(36), password = "a long enough password";
  await test("es-ES: a learner registers, submits, and sees the score and date as Spanish writes them", async () => {
    const page = await open(es, "register");
    await page.getByLabel(ES.name, { exact: true }).fill(user);
    await page.getByLabel(ES.password, { exact: true }).fill(password);
    await page.getByRole("button", { name: ES.createAccount }).click();
    await page.locator("#account .who", { hasText: user }).waitFor();
    assert(await page.getByRole("button", { name: ES.logOut }).count() === 1, "log out in Spanish");
    await page.goto(srv.url + "/#/lesson/cluster-development/quiz-foundations");
    await page.getByRole("button", { name: ES.submit }).click();
    await page.locator(".result h3").waitFor();
    const head = await page.locator(".result h3").textContent();
    assert(head.startsWith(ES["st-failed"]) && /puntuación \d+,\d \(nota para aprobar 60\)/.test(head), "result: " + head);
    await page.locator("details summary").click();
    const row = page.locator(".history tbody tr").first();
    const [, sc, , when] = await row.locator("td").allTextContents();
    assert(/^\d+,\d$/.test(sc), "score with a decimal comma: " + sc);
    const att = await (await page.request.get(srv.url + "/api/exercises/cluster-development/quiz-foundations/attempts")).json();
    const es1 = await page.evaluate((iso) => new Intl.DateTimeFormat("es", { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)), att.items[0].time);
    assert(when === es1, `the attempt's time as Spanish writes it: ${when} / ${es1}`);
    await axe(page, "Spanish result");
    home = page;
  });

  await test("es-ES: the progress page names the course and its modules in Spanish", async () => {
    const page = await open(es, "progress");
    const sec = page.locator("section", { has: page.locator('h2 a[href="#/course/cluster-development"]') });
    await sec.locator(".module-bar span").first().waitFor();
    assert((await sec.locator("h2 a").textContent()) === titleOf(path.join(CLUSTER, "course.es.md")), "the course's title in Spanish");
    const first = (await sec.locator(".module-bar span").first().textContent()).trim();
    const want = titleOf(path.join(CLUSTER, "01-clusters-and-collective-efficiency", "module.es.md"));
    assert(first === want, `the first module's name in Spanish: ${first} / ${want}`);
    assert(first !== titleOf(path.join(CLUSTER, "01-clusters-and-collective-efficiency", "module.md")), "not the English name");
    await page.close();
  });

  await test("the switch moves the page to French; the account keeps it; another browser follows it", async () => {
    const page = home;
    await page.goto(srv.url + "/#/");
    await page.locator("ul.courses li").first().waitFor();
    await page.getByRole("combobox", { name: ES.language }).selectOption("fr");
    await page.locator("main h1", { hasText: FR.courses }).waitFor();
    await page.waitForFunction(() => document.documentElement.lang === "fr");
    assert((await page.locator(".skip").textContent()) === FR.skip, "the header in French");
    assert((await page.locator('ul.courses a[href="#/course/cluster-development"]').textContent()) === titleOf(path.join(CLUSTER, "course.fr.md")),
      "the course title in French");
    const api = await (await page.request.get(srv.url + "/api/lang")).json();
    assert(api.data.lang === "fr", "GET /api/lang: " + JSON.stringify(api));
    const stored = await redis(srv.rport, `HGET campus:{u:${user}}:account lang`);
    assert(stored === "fr", "the account's hash in Redis: " + stored);
    await axe(page, "French catalogue");
    // A fresh browser that prefers Spanish: once logged in, the account's French wins.
    const other = await browser.newContext({ locale: "es-ES", serviceWorkers: "block" });
    const p2 = await open(other, "login");
    assert(await p2.evaluate(() => document.documentElement.lang) === "es", "Spanish before logging in");
    await p2.getByLabel(ES.name, { exact: true }).fill(user);
    await p2.getByLabel(ES.password, { exact: true }).fill(password);
    await p2.getByRole("button", { name: ES.logIn }).click();
    await p2.locator("#account .who", { hasText: user }).waitFor();
    await p2.waitForFunction(() => document.documentElement.lang === "fr");
    await p2.goto(srv.url + "/#/lesson/cluster-development/what-is-a-cluster");
    await p2.locator("article h1").waitFor();
    const h1 = (await p2.locator("article h1").textContent()).trim();
    assert(h1 === titleOf(path.join(CLUSTER, "01-clusters-and-collective-efficiency", "02-what-is-a-cluster.fr.md")), "the lesson in French: " + h1);
    assert((await p2.locator("nav.crumbs a").first().textContent()) === FR.courses, "French interface");
    await other.close();
  });

  // The page asks for lessons with its language (lang=fr); a saved course
  // keeps them at those addresses, so it reads in French offline too.
  await test("fr-FR: a course saved for offline reading reads in French with the network cut", async () => {
    const fr = await browser.newContext({ locale: "fr-FR", timezoneId: "UTC" });
    try {
      const page = await open(fr, "course/cluster-development");
      await page.locator("#save-course", { hasText: FR.offSave }).click();
      await page.locator("#save-course + span", { hasText: "hors ligne" }).waitFor({ timeout: 60000 });
      await fr.setOffline(true);
      await page.goto(srv.url + "/#/lesson/cluster-development/isolation-not-size");     // never opened
      await page.locator("article h1").waitFor();
      const h1 = (await page.locator("article h1").textContent()).trim();
      assert(h1 === titleOf(path.join(CLUSTER, "01-clusters-and-collective-efficiency", "03-isolation-not-size.fr.md")), "the lesson in French: " + h1);
      assert(await page.locator("article").getAttribute("lang") === "fr", "the article is marked French");
      assert((await page.locator("nav.crumbs a").first().textContent()) === FR.courses, "French interface");
      await page.locator("#offline", { hasText: FR.offReading }).waitFor();
      await page.goto(srv.url + "/#/course/cluster-development");
      await page.locator("main h1", { hasText: titleOf(path.join(CLUSTER, "course.fr.md")) }).waitFor();
      await page.locator('ol.outline a[href="#/lesson/cluster-development/isolation-not-size"]').waitFor();
    } finally {
      await fr.setOffline(false);
      await fr.close();
    }
  });

  await test("no script errors in any page", async () => { assert(pageErrors.length === 0, pageErrors.join("\n")); });
  await es.close();
  await browser.close();
  await test("campusd stops cleanly, without sanitizer reports", async () => stop(srv));
}

try {
  await run();
} catch (e) {
  failed++;
  console.log("FAIL setup\n" + (e.stack || e));
} finally {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
  await sleep(300);
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

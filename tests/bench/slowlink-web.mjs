// slowlink-web.mjs: one load of the web client in Chromium for slowlink.py:
//   node slowlink-web.mjs BASE LESSON PROFILE_DIR gzip|identity
// Prints {"ms": time from navigation to the lesson's paragraphs on screen,
// "controlled": whether the service worker answered, "timeline": each request
// of the page until then as [path, start ms, end ms, bytes]} as its last line. A
// load also waits until the service worker has kept the lesson, its outline
// and /api/me (at once on a warm load).
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(HERE, "..", "web", "package.json"));
const { chromium } = require("playwright-core");
const [base, lesson, profile, encoding] = process.argv.slice(2);

const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
  extraHTTPHeaders: encoding === "identity" ? { "Accept-Encoding": "identity" } : undefined,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",
    // a service worker needs a secure origin; the benchmark's is a private address
    "--unsafely-treat-insecure-origin-as-secure=" + base],
});
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  /* When the page itself put the lesson's text in, for the timeline. */
  await page.addInitScript(() => new MutationObserver((_, o) => {
    if (document.querySelector("article p")) { self.drawnAt = performance.now(); o.disconnect(); }
  }).observe(document, { childList: true, subtree: true }));
  const t0 = Date.now();
  await page.goto(base + "/#/lesson/" + lesson, { waitUntil: "commit", timeout: 120000 });
  await page.locator("article p").first().waitFor({ timeout: 120000 });
  const ms = Date.now() - t0;
  const timeline = await page.evaluate(() => [performance.getEntriesByType("navigation")[0], ...performance.getEntriesByType("resource")]
    .map((e) => [new URL(e.name).pathname + new URL(e.name).search, Math.round(e.startTime), Math.round(e.responseEnd), e.transferSize])
    .concat([["(the lesson's text drawn)", Math.round(self.drawnAt), Math.round(self.drawnAt), 0]]));
  const controlled = await page.evaluate(() => navigator.serviceWorker.controller !== null);
  /* The lesson, its outline and who you are (what a warm start shows from
   * the cache), kept before the browser closes, as a reader would leave it
   * open: also on a first load that the worker took over on the way. */
  const urls = ["/api/lessons/" + lesson + "?format=html", "/api/courses/" + lesson.split("/")[0], "/api/me"];
  await page.waitForFunction(async (us) => (await Promise.all(us.map((u) => caches.match(u, { ignoreVary: true }))))
    .every(Boolean), urls, { timeout: 120000, polling: 250 });
  await page.evaluate(() => navigator.serviceWorker.ready);
  if (!controlled) await page.waitForTimeout(1500);     /* the registration reaches the profile on disk */
  console.log(JSON.stringify({ ms, controlled, timeline }));
} finally {
  await ctx.close();
}

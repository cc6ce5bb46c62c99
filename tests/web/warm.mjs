// warm.mjs: a warm start of the web client in real Chromium does not wait
// on the network, and a cold one does not wait for its catalogue to ask for
// its lesson. The browser reaches campusd through a proxy of this file that
// can hold every request, or those it names (answering none until
// released): with the catalogue held, a first load has asked for the lesson
// and its outline, once each; with all of them held, a lesson seen before
// shows its text, and once they are released the page redraws with what
// changed on the server. And one learner's cached state never reaches the
// next one: not after a logout and a login as someone else, nor after a
// session that ended without a logout.
// Prints "N passed, M failed" last (harness.mjs).
import http from "node:http";
import { main, assert, waitFor, LAB, PASSWORD } from "./harness.mjs";

const LESSON = "web-lab/plain", COURSE = "web-lab";

// Forwards every request to campusd's HTTP port; while hold is set (true,
// or a RegExp that the request's path matches), a request waits
// (unanswered) until release(). seen: every request's path, as it came.
function proxy(target) {
  const up = new URL(target), held = [];
  const p = { hold: false, held: 0, answered: 0, url: null, seen: [] };
  const forward = (req, res) => {
    res.on("finish", () => p.answered++);
    const u = http.request({ host: up.hostname, port: up.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    u.on("error", () => res.destroy());
    req.pipe(u);
  };
  const server = http.createServer((req, res) => {
    p.seen.push(req.url);
    if (!p.hold || (p.hold instanceof RegExp && !p.hold.test(req.url))) return forward(req, res);
    p.held++;
    held.push(() => forward(req, res));
  });
  p.release = () => { p.hold = false; for (const f of held.splice(0)) f(); };
  p.start = () => new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    p.url = `http://127.0.0.1:${server.address().port}`;
    resolve(p);
  }));
  p.stop = () => { p.release(); server.closeAllConnections(); server.close(); };
  return p;
}

// Every response any cache of the page's origin holds, as text.
const cachedTexts = (page) => page.evaluate(async () => {
  const out = [];
  for (const n of await caches.keys()) {
    const c = await caches.open(n);
    for (const k of await c.keys()) out.push(k.url + " " + await (await c.match(k)).text());
  }
  return out;
});

async function register(page, base, name) {
  await page.goto(base + "/#/register");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create my account" }).click();
  await page.locator("#account .who", { hasText: name }).waitFor();
}

await main("campus-warm-", async (h) => {
  const d = await h.startCampusd("campusd", { courses: LAB, redis: await h.startRedis() });
  const px = await proxy(d.url).start();
  const ctx = await h.persistentContext("profile");
  const page = await h.newPage(ctx, null, 20000);
  const base = px.url;
  try {
    // The first load of this profile: no service worker yet.
    await h.test("a cold start asks for the lesson and its outline while the catalogue's answer is held, and asks once", async () => {
      const lesson = `/api/lessons/${LESSON}?format=html`, outline = "/api/courses/" + COURSE;
      px.hold = /^\/i18n\//;
      try {
        await page.goto(base + "/#/lesson/" + LESSON, { waitUntil: "commit" });
        // All three leave together, so they may reach the proxy in any order;
        // the catalogue is never answered while held, so the other two did
        // not wait for it.
        await waitFor(() => [lesson, outline, "/i18n/en.txt"].every((u) => px.seen.includes(u)),
          "the lesson's, the outline's and the catalogue's requests", 20000);
        assert(px.held === 1, "the catalogue alone held: " + px.seen);
        assert(await page.locator("article").count() === 0, "nothing drawn before the page's strings");
      } finally {
        px.release();
      }
      await page.locator("article p").first().waitFor();
      const n = (u) => px.seen.filter((x) => x === u).length;
      assert(n(lesson) === 1 && n(outline) === 1, "each asked once: " + px.seen);
    });

    await h.test("with every request to the server held, a warm start shows the lesson; released, the page redraws", async () => {
      await register(page, base, "warm1");
      await page.goto(base + "/#/lesson/" + LESSON);
      await page.locator("article p").first().waitFor();
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20000 });
      await page.reload();
      await page.getByRole("button", { name: "Mark as done" }).waitFor();
      await page.waitForFunction(async (l) => (await Promise.all([`/api/lessons/${l}?format=html`,
        "/api/courses/" + l.split("/")[0], "/api/me"].map((u) => caches.match(u)))).every(Boolean), LESSON, { timeout: 20000 });
      // Behind the browser's back (the terminal, another device): the lesson is marked done.
      const login = await (await fetch(d.url + "/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: "warm1", password: PASSWORD }) })).json();
      const done = await fetch(d.url + "/api/done/" + LESSON, { method: "POST", body: "{}",
        headers: { Authorization: "Bearer " + login.data.token, "Content-Type": "application/json" } });
      assert(done.status === 200, "marked done behind the browser: " + done.status);
      px.hold = true;
      px.held = 0;
      await page.reload({ waitUntil: "commit" });
      await page.locator("article p").first().waitFor();
      assert((await page.locator("article h1").textContent()).trim().length > 0, "the lesson's title");
      await page.locator("#account .who", { hasText: "warm1" }).waitFor();
      await page.getByRole("button", { name: "Mark as done" }).waitFor();     // what the cache knew
      await waitFor(() => px.held > 0, "the background refreshes to reach the proxy", 20000);
      assert(px.hold, "every request to the server is still held, none answered");
      px.release();
      await page.getByRole("button", { name: "✓ Done" }).waitFor();          // redrawn from the refreshed outline
      await page.locator("article p").first().waitFor();
    });

    await h.test("a page answered after the learner moved on does not draw over the one they moved to", async () => {
      px.release();
      px.hold = true;
      px.held = 0;
      await page.evaluate(() => { location.hash = "#/search/cluster"; });       // no cache answers a search
      await waitFor(() => px.held > 0, "the search to reach the proxy", 20000);
      await page.evaluate(() => { location.hash = "#/login"; });
      await page.getByLabel("Name").waitFor();
      const before = px.answered;
      px.release();
      await waitFor(() => px.answered > before, "the held search to be answered", 20000);
      await page.waitForTimeout(300);            // and the page to take it in
      assert(await page.getByLabel("Name").isVisible(), "the login form is still shown");
      assert(await page.locator("h1", { hasText: "cluster" }).count() === 0, "the search's answer was not drawn");
      await page.goto(base + "/#/lesson/" + LESSON);
      await page.locator("article p").first().waitFor();
    });

    await h.test("after a logout and another learner's login, nothing of the first one is cached or shown", async () => {
      px.release();                 // whatever the test before left held
      await page.getByRole("button", { name: "Log out" }).click();
      await page.locator("#account a", { hasText: "Log in" }).waitFor();
      const left = (await cachedTexts(page)).filter((t) => t.includes("warm1"));
      assert(left.length === 0, "the first learner's answers left in the cache: " + left.map((t) => t.slice(0, 120)));
      await register(page, base, "warm2");
      await page.goto(base + "/#/course/" + COURSE);
      await page.locator("ol.outline a").first().waitFor();
      assert(await page.locator("ol.outline li.done").count() === 0, "the second learner sees no lesson done");
      await page.goto(base + "/#/lesson/" + LESSON);
      await page.getByRole("button", { name: "Mark as done" }).waitFor();
      assert((await cachedTexts(page)).every((t) => !t.includes("warm1")), "still nothing of warm1 in the cache");
    });

    await h.test("a session that ended without a logout: the page drops the learner's cached name and marks", async () => {
      await page.waitForFunction(async () => !!(await caches.match("/api/me")), null, { timeout: 20000 });
      await ctx.clearCookies();
      await page.reload();
      await page.locator("#account a", { hasText: "Log in" }).waitFor();
      await page.locator("article p").first().waitFor();
      await waitFor(async () => (await cachedTexts(page)).every((t) => !t.includes("warm2")), "warm2's answers to leave the cache", 20000);
    });

    await h.test("no script errors", async () => { assert(h.pageErrors.length === 0, h.pageErrors.join("\n")); });
  } finally {
    await ctx.close();
    px.stop();
  }
  await h.test("campusd stops cleanly, without sanitizer reports", () => h.stopCampusd(d));
});

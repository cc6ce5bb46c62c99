// offline.mjs: the web client on an intermittent link, in real Chromium
// (Debian's, through playwright-core) against a real campusd and
// redis-server: gzip as the browser receives it, the service worker keeping
// the client and every lesson opened (and a whole course on request), the
// offline indicator, and DONE and SUBMIT made with the network cut
// (context.setOffline) queued and replayed once it is back, a SUBMIT
// queued twice costing one attempt. Prints "N passed, M failed" last
// (harness.mjs).
import { main, assert, sleep, LAB } from "./harness.mjs";

await main("campus-offline-", async (h) => {
  const test = (name, fn) => h.test(name, fn), pageErrors = h.pageErrors;
  const campusd = await h.startCampusd("campusd", { courses: LAB, redis: await h.startRedis() });
  const url = campusd.url;
  const ctx = await h.persistentContext("profile");
  try {
    const page = await h.newPage(ctx, null, 20000);
    const gzipped = new Set();
    page.on("response", async (r) => {
      const hd = await r.allHeaders().catch(() => ({}));
      if (hd["content-encoding"] === "gzip") gzipped.add(new URL(r.url()).pathname);
    });

    await test("the browser gets the client and lessons gzipped, and reads them", async () => {
      await page.goto(url + "/#/register");
      await page.getByLabel("Name").fill("offline1");
      await page.getByLabel("Password").fill("a long enough password");
      await page.getByRole("button", { name: "Create my account" }).click();
      await page.locator("#account .who", { hasText: "offline1" }).waitFor();
      await page.goto(url + "/#/lesson/web-lab/plain");
      await page.locator("article h1").waitFor();
      // The response handler awaits each response's headers: the lesson
      // may be on the page before its handler has run. Wait for it, 5 s
      // at most.
      const want = ["/campus.js", "/campus.css", "/api/lessons/web-lab/plain"];
      for (let end = Date.now() + 5000; !want.every((p) => gzipped.has(p)) && Date.now() < end; )
        await new Promise((r) => setTimeout(r, 50));
      for (const p of want)
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
  await test("campusd stops cleanly, without sanitizer reports", () => h.stopCampusd(campusd));
});

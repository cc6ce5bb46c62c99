// trainer.mjs: the web client's trainer pages and the learner pages that go
// with them, run from run.mjs against the same campusd and redis-server:
// the story of a cohort (a trainer creates it, a learner joins with its code,
// submits a case with a review task, the trainer grades it from the queue by
// keyboard alone, the learner sees the comment and the score, the heat map and
// the CSV show it), an axe-core scan of every page of both roles, screenshots
// at 320 px and 200% zoom, and the weight of the whole client.
import { mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const CASE = "value-chains/enter-growth-sri-lanka";   // a bundled case with a review task (a rubric of 10 points)
const MODULE = "services";                             // its module, locked at first in a paced cohort

export async function trainerTests(t) {
  const { test, assert, textOf, register, main, h, password, BUILD, WEB } = t;
  // Read here, not on import: run.mjs installs node_modules first on a fresh machine.
  const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  const shots = path.join(BUILD, t.ARTIFACTS);
  mkdirSync(shots, { recursive: true });
  const browser = await h.browser();
  const open = (ctx, viewport) => h.newPage(ctx, viewport);
  const coach = "coach" + Date.now().toString(36), learner = "lea" + Date.now().toString(36);
  h.addUser(main, coach, "trainer", password);
  const tctx = await browser.newContext({ acceptDownloads: true }), lctx = await browser.newContext();
  const tp = await open(tctx, { width: 1200, height: 1000 }), lp = await open(lctx, { width: 1000, height: 1000 });
  let cohort = null, code = null, review = null, kept = null;
  // One rule for scores on screen, as campusd's text writes them: one decimal.
  const one = (x) => { const y = x * 10, f = Math.floor(y); return ((y - f === 0.5 ? (f % 2 ? f + 1 : f) : Math.round(y)) / 10).toFixed(1); };

  const login = async (page, name) => {
    await page.goto(main.url + "/#/login");
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.locator("#account .who", { hasText: name }).waitFor();
  };

  await test("a trainer creates a paced cohort and sees its enrolment code with a copy button", async () => {
    await login(tp, coach);
    await tp.getByRole("link", { name: "Cohorts" }).click();
    await tp.getByLabel("Course").selectOption("value-chains");
    await tp.getByLabel("Name", { exact: true }).fill("Autumn <b>group</b>");
    await tp.getByLabel("Start date").fill(new Date().toISOString().slice(0, 10));
    await tp.getByLabel("Pace").selectOption("every");
    await tp.getByLabel("Days between modules").fill("7");
    await tp.getByLabel("Time zone").fill("UTC");
    await tp.getByRole("button", { name: "Create the cohort" }).click();
    await tp.locator("main h1", { hasText: "Autumn <b>group</b>" }).waitFor();
    cohort = /#\/cohort\/(\d+)/.exec(tp.url())[1];
    code = (await textOf(tp, "code.code")).trim();
    assert(/^[a-z0-9]{6,}$/.test(code), "an enrolment code: " + code);
    await tp.getByRole("button", { name: "Copy the code" }).click();
    await tp.locator(".enrol-code [role=status]", { hasText: /Copied|Selected/ }).waitFor();
    await tp.locator(".heat .note", { hasText: "No learner" }).waitFor();
  });

  await test("a learner joins with the code; later modules show as locked with their opening dates", async () => {
    await register(lp, main.url, learner, password);
    await lp.goto(main.url + "/#/progress");
    await lp.getByRole("link", { name: "Join a cohort with a code" }).click();
    await lp.getByLabel("Enrolment code").fill(code.toUpperCase());
    await lp.getByRole("button", { name: "Join" }).click();
    await lp.locator("[role=status] .note", { hasText: "You joined Autumn <b>group</b>" }).waitFor();
    await lp.getByRole("link", { name: /^Open / }).click();
    await lp.locator("section.module.locked").first().waitFor();
    const lock = await textOf(lp, "section.module.locked .lock");
    assert(/^Locked: opens on [A-Z][a-z]{2} \d{1,2}, \d{4} \(UTC\)$/.test(lock), "the opening date in the outline: " + lock);
    assert(await lp.locator(`section.module.locked a[href="#/lesson/${CASE}"]`).count() === 0, "no link into a locked module");
    assert(await lp.locator("section.module:not(.locked) [role=progressbar]").count() >= 1, "a bar per open module");
    await lp.goto(main.url + "/#/progress");
    await lp.locator("main li", { hasText: "Autumn <b>group</b>" }).waitFor();
  });

  await test("the trainer opens a module early; the learner submits the case with its review task", async () => {
    await tp.reload();
    await tp.getByLabel("Module", { exact: true }).first().selectOption(MODULE);
    await tp.getByRole("button", { name: "Open it now for everyone" }).click();
    await tp.locator("section [role=status] .note").waitFor();
    await lp.goto(main.url + "/#/lesson/" + CASE);
    const note = lp.locator("fieldset", { hasText: "head of District C" }).getByLabel("Your answer");
    await note.fill("District C has the lowest share of paying clients, 30 per cent.\n\nKeep free advice for the poorest.");
    await lp.getByRole("button", { name: "Submit answers" }).click();
    await lp.locator(".result.pending h3", { hasText: "Waiting for a trainer" }).waitFor();
    const legends = await lp.locator("fieldset.task legend").allTextContents();
    assert(legends.every((l) => !/^\d+\.\s*$/.test(l)), "every task's legend has words: " + legends);
    assert(!(await textOf(lp, ".exercise h2")).startsWith("Exercise: Case study:"), "the title says 'Case study' once");
  });

  await test("the trainer grades from the queue by keyboard alone, beside the prompt and the marking guide", async () => {
    await tp.goto(main.url + "/#/reviews");
    await tp.getByLabel("Cohort").selectOption(cohort);
    await tp.getByRole("button", { name: "Filter" }).click();
    await tp.waitForURL(/cohort=/);
    const row = tp.locator("table.queue tbody tr", { hasText: learner });
    await row.waitFor();
    assert(await tp.locator("table.queue tbody tr").count() === 1, "the filter keeps this cohort's one answer");
    await row.getByRole("link").click();
    await tp.locator(".review .answer", { hasText: "30 per cent" }).waitFor();
    assert((await textOf(tp, ".review .guide")).includes("Marking guide"), "the marking guide beside the answer");
    review = /#\/reviews\/(\d+)/.exec(tp.url())[1];
    // Keyboard only: Tab into each criterion's levels, Space and arrows pick one.
    const focused = () => tp.evaluate(() => document.activeElement && (document.activeElement.name || document.activeElement.id));
    const tabTo = async (want) => {
      for (let i = 0; i < 40; i++) { if ((await focused()) === want) return; await tp.keyboard.press("Tab"); }
      throw new Error("Tab never reached " + want);
    };
    for (const [crit, downs] of [["reading", 1], ["cause", 2], ["steps", 2]]) {
      await tabTo("c-" + crit);
      await tp.keyboard.press("Space");
      for (let i = 0; i < downs; i++) await tp.keyboard.press("ArrowDown");
    }
    await tabTo("comment");
    await tp.keyboard.type("Good reading of the table; name who pays.");
    await tp.keyboard.press("Control+Enter");
    await tp.locator("form.grade [role=status] .note", { hasText: "graded" }).waitFor();
    await tp.waitForURL(/#\/reviews(\?|$)/);
    await tp.locator("main .note", { hasText: "Nothing to grade" }).waitFor();
  });

  await test("the learner sees the trainer's comment, marked new, and the new score", async () => {
    await lp.goto(main.url + "/#/");
    await lp.reload();
    await lp.locator("#account strong", { hasText: "1 new review" }).waitFor();
    await lp.goto(main.url + "/#/progress");
    const row = lp.locator("tr", { hasText: "Enter-Growth" });
    await row.locator(".comment", { hasText: "Good reading of the table; name who pays." }).waitFor();
    assert((await row.locator(".comment .new").count()) === 1, "the comment is marked new");
    // The score the attempt now holds, with the trainer's 1 + 3 + 4 of 10 in it.
    const rec = JSON.parse((await (await lp.request.get(main.url + `/api/exercises/${CASE}/attempts/1`)).json()).body);
    const task = rec.tasks.find((x) => x.reviewed);
    assert(task && task.points === 8 && task.max === 10 && task.score === 80, "graded 8 of 10, stored as 80%: " + JSON.stringify(task));
    kept = rec.score;
    assert(kept > 0, "the attempt's score rose: " + kept);
    assert((await row.locator("td.num").first().textContent()).trim() === one(kept), `best score ${one(kept)}: ` + await row.textContent());
    assert((await row.textContent()).includes("1"), "one attempt");
    await lp.reload();
    await lp.locator("tr", { hasText: "Enter-Growth" }).locator(".comment").waitFor();
    assert(await lp.locator("tr", { hasText: "Enter-Growth" }).locator(".comment .new").count() === 0, "seen once, no longer new");
    await lp.goto(main.url + "/#/lesson/" + CASE);
    await lp.locator("details summary", { hasText: "1 attempt," }).waitFor();
  });

  await test("the heat map shows the learner by keyboard, sorts, opens their attempts; the CSV has the score", async () => {
    await tp.goto(main.url + "/#/cohort/" + cohort);
    const cell = tp.locator("table.heatmap tbody tr", { hasText: learner });
    await cell.waitFor();
    const cells = await cell.locator("td.num").allTextContents();
    assert(cells.some((c) => /^\d+%/.test(c)), "percent in the cells: " + cells);
    const focused = () => tp.evaluate(() => document.activeElement && document.activeElement.textContent.trim());
    for (let i = 0; i < 60 && !(await focused()).startsWith("Exercises passed"); i++) await tp.keyboard.press("Tab");
    await tp.keyboard.press("Enter");
    await tp.locator("th[aria-sort=descending]", { hasText: "Exercises passed" }).waitFor();
    for (let i = 0; i < 30 && (await focused()) !== learner; i++) await tp.keyboard.press("Tab");
    assert((await focused()) === learner, "Tab reaches the learner's name");
    await tp.keyboard.press("Enter");
    const detail = tp.locator(".learner", { hasText: "Attempts of " + learner });
    await detail.waitFor();
    assert(await tp.evaluate(() => document.activeElement.classList.contains("learner")), "focus moves to their attempts");
    assert((await detail.locator("tr", { hasText: "Enter-Growth" }).textContent()).includes(one(kept)), "their score in the panel");
    await tp.locator("table.gradebook tr", { hasText: learner }).waitFor();
    const [dl] = await Promise.all([tp.waitForEvent("download"), tp.getByRole("link", { name: "Download the CSV" }).click()]);
    const text = readFileSync(await dl.path(), "utf8");
    const head = text.replace(/^\ufeff/, "").split("\r\n")[0].split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/);
    const line = text.split("\r\n").find((l) => l.includes("," + learner + ","));
    assert(line, "the learner's row in the CSV");
    const col = head.findIndex((h) => h.includes("Enter-Growth"));
    assert(line.split(",")[col] === kept.toFixed(2), `CSV cell ${line.split(",")[col]} is ${kept.toFixed(2)} in ${line}`);
  });

  await test("bulk enrolment shows its errors by line, then enrols with one-time passwords; extend for one learner", async () => {
    await tp.goto(main.url + "/#/cohort/" + cohort);
    const csvBox = tp.getByLabel("Paste rows: name, display name, email");
    await csvBox.fill("name,display,email\nok.name,Ann One,ann@example.org\nBad Name,Bee\n");
    await tp.getByRole("button", { name: "Enrol", exact: true }).click();
    const err = tp.locator("ul.error[role=alert] li");
    await err.first().waitFor();
    assert((await err.allTextContents()).join("|").startsWith("line 3: 'Bad Name' is not an account name"), "the bad line named: " + await err.allTextContents());
    const fresh = "new" + Date.now().toString(36);
    await csvBox.fill(`name,display name,email\n${fresh},New Learner,new@example.org\n`);
    await tp.getByLabel("Create accounts for new names (one-time passwords)").check();
    await tp.getByRole("button", { name: "Enrol", exact: true }).click();
    await tp.locator("section", { hasText: "Enrol learners" }).locator("table tr", { hasText: fresh }).waitFor();
    await tp.reload();
    await tp.locator("table.heatmap tbody tr", { hasText: "New Learner" }).waitFor();
    await tp.getByLabel("Learner", { exact: true }).selectOption(learner);
    await tp.locator("#ext-module").selectOption(MODULE);
    await tp.getByLabel("Date", { exact: true }).fill(new Date(Date.now() + 30 * 86400e3).toISOString().slice(0, 10));
    await tp.getByRole("button", { name: "Extend for this learner" }).click();
    await tp.locator("section", { hasText: "Extend for this learner" }).locator("[role=status] .note").waitFor();
  });

  await test("the heat map marks a module past its due date and not finished", async () => {
    const tok = (await (await fetch(main.url + "/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: coach, password }) })).json()).data.token;
    const auth = { Authorization: "Bearer " + tok, "Content-Type": "application/json" };
    const mods = (await (await fetch(main.url + "/api/progress/value-chains", { headers: auth })).json()).items.map((m) => m.module);
    const day = (n) => new Date(Date.now() + n * 86400e3).toISOString().slice(0, 10);
    const made = await (await fetch(main.url + "/api/cohorts", { method: "POST", headers: auth, body: JSON.stringify({ course: "value-chains",
      name: "Late ones", start: day(-10), tz: "UTC", schedule: `${mods[0]} ${day(-10)} ${day(-2)}\n` }) })).json();
    assert(made.code === 201, "cohort made: " + JSON.stringify(made));
    const [, id, late] = /cohort (\d+) code (\S+)/.exec(made.message);
    const ltok = (await (await fetch(main.url + "/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: learner, password }) })).json()).data.token;
    const joined = await fetch(main.url + "/api/cohorts/join", { method: "POST", body: JSON.stringify({ code: late }),
      headers: { Authorization: "Bearer " + ltok, "Content-Type": "application/json" } });
    assert(joined.status === 200, "joined: " + joined.status);
    await tp.goto(main.url + "/#/cohort/" + id);
    const cells = tp.locator("table.heatmap tbody tr", { hasText: learner }).locator("td.late");
    await cells.first().waitFor();
    assert((await cells.first().textContent()).includes("late"), "the late cell says so in words");
    assert(await tp.locator("table.heatmap tbody td.num.late").count() === 1, "one module is late");
  });

  await test("a live session: the trainer leads, two learners follow and answer a poll", async () => {
    const l2ctx = await browser.newContext(), l2 = await open(l2ctx, { width: 900, height: 900 });
    await register(l2, main.url, "two" + Date.now().toString(36), password);
    assert((await l2.request.post(main.url + "/api/cohorts/join", { data: { code } })).ok(), "second learner joined");
    await tp.goto(main.url + "/#/live/" + cohort);
    await tp.locator(".live-state", { hasText: "No live session" }).waitFor();
    await tp.getByRole("button", { name: "Start", exact: true }).click();
    await tp.locator(".live-state", { hasText: "Live" }).waitFor();
    for (const p of [lp, l2]) {
      await p.goto(main.url + "/#/live/" + cohort);
      await p.locator(".live-state", { hasText: "Live" }).waitFor();
    }
    await tp.locator(".live-state", { hasText: "2 learners present" }).waitFor();
    await tp.locator("#goto").selectOption(CASE);
    await tp.getByRole("button", { name: "Go", exact: true }).click();
    await tp.locator("#saytext").fill("Look at the table of districts.");
    await tp.getByRole("button", { name: "Send", exact: true }).click();
    for (const p of [lp, l2]) {
      await p.locator("h2", { hasText: "Now: Case study: Enter-Growth in Sri Lanka" }).waitFor();
      await p.locator(".said", { hasText: "Look at the table of districts." }).waitFor();
    }
    await tp.getByLabel("Poll (one GIFT question)").fill("Which district has the lowest share of paying clients? {=District C ~District A}");
    await tp.getByRole("button", { name: "Ask" }).click();
    for (const p of [lp, l2]) {
      await p.getByLabel("District C").check();
      await p.getByRole("button", { name: "Send my answer" }).click();
      await p.locator(".note", { hasText: "Answer sent" }).waitFor();
    }
    await tp.getByRole("button", { name: "Close the poll" }).click();
    await tp.locator("main li", { hasText: ": 2" }).waitFor();
    await tp.getByRole("button", { name: "End", exact: true }).click();
    for (const p of [lp, l2]) await p.locator(".live-state", { hasText: "The session has ended." }).waitFor();
    await l2ctx.close();
  });

  await test("search hits name their course and mark the words found", async () => {
    await lp.goto(main.url + "/#/search/cluster broker");
    await lp.locator(".hits li").first().waitFor();
    assert((await textOf(lp, ".hits li .course-name")).trim().length > 0, "the course of a hit");
    assert(await lp.locator(".hits mark").count() > 0, "matched words marked");
  });

  await test("a lesson view never downloads the learner's history", async () => {
    const seen = [];
    lp.on("request", (r) => seen.push(r.url()));
    await lp.goto(main.url + "/#/lesson/value-chains/" + (await firstLesson(main.url, "value-chains")));
    await lp.locator("article h1").waitFor();
    await lp.waitForLoadState("networkidle");
    assert(!seen.some((u) => u.includes("/api/me/statements")), "no /api/me/statements: " + seen.join(" "));
  });

  await test("on a phone the lesson's title comes first, above the bars", async () => {
    const page = await open(lctx, { width: 360, height: 740 });
    await page.goto(main.url + "/#/lesson/" + CASE);
    await page.locator("article h1").waitFor();
    const top = await page.locator("article h1").evaluate((h) => h.getBoundingClientRect().top);
    assert(top < 200, "the title starts " + top + "px down");
    await page.close();
  });

  // Every page of both roles, as each role sees it.
  const pages = {
    learner: ["/#/", "/#/course/value-chains", "/#/lesson/" + CASE, "/#/search/cluster", "/#/progress", "/#/join", "/#/live/" + "COHORT"],
    trainer: ["/#/reviews", "/#/reviews/REVIEW", "/#/cohorts", "/#/cohort/COHORT", "/#/live/COHORT"],
    anonymous: ["/#/login", "/#/register"],
  };
  const fill = (r) => r.replace("COHORT", cohort).replace("REVIEW", review);

  await test("axe-core finds no serious or critical violation on any page of either role", async () => {
    // A second answer waits, so the grading page is scanned as a trainer sees it.
    const r = await lp.request.post(main.url + `/api/exercises/${CASE}/submit`, { data: { answers: { "district-note": "A second note." } } });
    assert(r.status() === 200, "second attempt: " + r.status());
    const q = await (await tp.request.get(main.url + "/api/reviews")).json();
    review = q.items.find((i) => i.learner === learner).id;
    const anon = await browser.newContext();
    const bad = [];
    for (const [role, ctx] of [["learner", lctx], ["trainer", tctx], ["anonymous", anon]]) {
      const page = await open(ctx, { width: 1100, height: 900 });
      for (const r of pages[role]) {
        await page.goto(main.url + fill(r));
        await page.locator("main h1").first().waitFor();     /* a live view holds the lesson's own h1 too */
        await page.waitForLoadState("networkidle");
        assert(await page.locator("main .error:not(:empty)").count() === 0, `${role} ${r}: the page shows an error: ` + await page.locator("main").textContent());
        await page.evaluate(AXE);
        const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
        for (const v of res.violations) if (v.impact === "serious" || v.impact === "critical")
          bad.push(`${role} ${r}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`);
      }
      await page.close();
    }
    await anon.close();
    assert(bad.length === 0, bad.join("\n"));
  });

  await test("Alt+N and Alt+P move between the answers waiting, without the mouse", async () => {
    const r = await lp.request.post(main.url + `/api/exercises/${CASE}/submit`, { data: { answers: { "district-note": "A third note." } } });
    assert(r.status() === 200, "third attempt: " + r.status());
    await tp.goto(main.url + "/#/reviews");
    await tp.locator("table.queue tbody tr").nth(1).waitFor();
    await tp.locator("table.queue tbody tr").first().getByRole("link").click();
    await tp.locator(".review .answer", { hasText: "A second note." }).waitFor();
    await tp.keyboard.press("Alt+KeyN");
    await tp.locator(".review .answer", { hasText: "A third note." }).waitFor();
    assert((await textOf(tp, "main .crumbs")).includes("2 of 2"), "the second of two");
    await tp.keyboard.press("Alt+KeyP");
    await tp.locator(".review .answer", { hasText: "A second note." }).waitFor();
  });

  await test("every page at 320 px has no sideways scrolling; screenshots at 320 px and 200% zoom saved", async () => {
    const wide = [];
    for (const [role, ctx] of [["learner", lctx], ["trainer", tctx]]) {
      for (const [tag, vp, scale] of [["320px", { width: 320, height: 640 }, 1], ["zoom200", { width: 640, height: 480 }, 2]]) {
        const zctx = scale === 1 ? ctx : await browser.newContext({ viewport: vp, deviceScaleFactor: 2, storageState: await ctx.storageState() });
        const page = await open(zctx, vp);
        for (const r of pages[role]) {
          await page.goto(main.url + fill(r));
          await page.locator("main h1").first().waitFor();     /* a live view holds the lesson's own h1 too */
          await page.waitForLoadState("networkidle");
          const w = await page.evaluate(() => document.documentElement.scrollWidth);
          if (w > vp.width) wide.push(`${role} ${r} at ${tag}: ${w}px`);
          await page.screenshot({ path: path.join(shots, `${role}-${tag}-${r.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "") || "home"}.png`), fullPage: true });
        }
        await page.close();
        if (scale !== 1) await zctx.close();
      }
    }
    assert(wide.length === 0, "pages wider than the screen: " + wide.join("; "));
    assert(readdirSync(shots).filter((f) => f.endsWith(".png")).length >= 2 * (pages.learner.length + pages.trainer.length), "screenshots saved");
  });

  // Every file under clients/web a browser may load, with one language
  // catalogue (i18n/*.txt), the largest: a page fetches only its own.
  await test("the whole web client weighs under its budget", async () => {
    const files = [], cats = [];
    const walk = (dir) => {
      for (const f of readdirSync(dir)) {
        const p = path.join(dir, f), s = statSync(p), rel = path.relative(WEB, p);
        if (s.isDirectory()) walk(p);
        else (/^i18n[/\\][^/\\]+\.txt$/.test(rel) ? cats : files).push([rel, s.size]);
      }
    };
    walk(WEB);
    assert(cats.length >= 3, "a catalogue per language: " + cats.map(([f]) => f));
    const biggest = cats.sort((x, y) => y[1] - x[1])[0], counted = [...files, biggest];
    const total = counted.reduce((n, [, size]) => n + size, 0);
    assert(total <= t.CLIENT_BUDGET, `the client's files weigh ${total} bytes, over ${t.CLIENT_BUDGET}: ${counted.map((f) => f.join(" ")).join(", ")}`);
  });

  await tctx.close();
  await lctx.close();
  await browser.close();
}

async function firstLesson(base, course) {
  const doc = await (await fetch(`${base}/api/courses/${course}`)).json();
  return doc.items.find((r) => r.kind === "lesson").lesson.split("/")[1];
}

import { createRequire } from "node:module";
const { chromium } = createRequire(import.meta.url)("playwright-core");
const U = "http://127.0.0.1:18080";
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--headless"] });
async function as(user, routes) {
  const ctx = await b.newContext({ viewport: { width: 1100, height: 1000 } });
  const p = await ctx.newPage();
  p.on("pageerror", (e) => console.log("PAGEERROR", e.message));
  p.on("console", (m) => { if (m.type() === "error") console.log("CONSOLE", m.text()); });
  await p.goto(U + "/#/login");
  await p.getByLabel("Name").fill(user); await p.getByLabel("Password").fill("a long enough password");
  await p.getByRole("button", { name: "Log in" }).click();
  await p.locator("#account .who").waitFor();
  for (const r of routes) {
    await p.goto(U + "/#/" + r); await p.waitForTimeout(1200);
    console.log("==", user, r, (await p.locator("main").innerText()).slice(0, 700).replace(/\n+/g, " | "));
    await p.screenshot({ path: `/tmp/webdev/shots/${user}-${r.replace(/\W/g, "_")}.png`, fullPage: true });
  }
  await ctx.close();
}
const [user, ...routes] = process.argv.slice(2);
await as(user, routes);
await b.close();

// GraphiQL as a gateway with FLOWGATE_GRAPHIQL_ASSETS=cdn serves it, in headless Debian
// Chromium driven by Playwright: the page asks a public CDN for GraphiQL, React and the rest.
// This machine has no internet, so the CDN's answers are the gateway's own copies of the same
// files (CDN_FILES: {CDN URL: path on the gateway}, from the manifest); the browser checks
// each against the page's integrity hash and Content-Security-Policy as it would the CDN's.
// Every other request that does not go to the gateway is aborted.
//
// Environment: FLOWGATE_URL, CDN_FILES (JSON), CHROMIUM. Prints one JSON object of what it
// saw; tests/test_clients_graphiql.py makes the assertions.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.FLOWGATE_URL;
const gateway = new URL(base).origin;
const cdnFiles = JSON.parse(process.env.CDN_FILES);
const TIMEOUT = 45_000;

const seen = { tabs: [], fromCdn: [], blocked: [], console: [] };

async function main() {
  const profile = mkdtempSync(join(tmpdir(), "flowgate-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  try {
    await context.route("**/*", async (route) => {
      const url = route.request().url();
      if (url.startsWith("data:") || new URL(url).origin === gateway) return route.continue();
      if (!(url in cdnFiles)) {
        seen.blocked.push(url);
        return route.abort("internetdisconnected");
      }
      seen.fromCdn.push(url);
      const answer = await fetch(`${gateway}${cdnFiles[url]}`); // decoded: a CDN's bytes
      return route.fulfill({
        status: 200,
        body: Buffer.from(await answer.arrayBuffer()),
        contentType: answer.headers.get("content-type"),
        headers: { "access-control-allow-origin": "*" },
      });
    });
    page.on("console", (message) => {
      if (message.type() === "error") seen.console.push(message.text());
    });
    await context.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) => {
        console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
      });
    });

    await page.goto(`${base}/graphql`);
    await page.waitForSelector(".graphiql-tab", { timeout: TIMEOUT });
    seen.tabs = (await page.locator(".graphiql-tab").allInnerTexts()).map((t) => t.trim());
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    console.log(JSON.stringify(seen));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

// GraphiQL as an analyst uses it, in headless Debian Chromium driven by Playwright: open the
// page, paste the credential into the Headers tab, run the first example (the dashboard),
// then the live-executions subscription, and watch the response pane change.
//
// Environment: FLOWGATE_URL (the gateway's base URL), FLOWGATE_HEADERS (the credential as the
// demo prints it, a JSON object), CHROMIUM (the browser, default /usr/bin/chromium),
// SCREENSHOT (a PNG to write at the end, or on failure). Prints one JSON object of what it
// saw; the pytest side (tests/test_clients_graphiql.py) makes the assertions.
//
// The machine has no network beyond package registries: the page's CDN files (unpkg) are
// answered from this project's node_modules, which hold the same pinned versions; the
// browser checks them against the page's integrity hashes as it would the CDN's.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const base = process.env.FLOWGATE_URL;
const credential = process.env.FLOWGATE_HEADERS;
const LIVE_EVENTS = 2; // distinct subscription payloads to wait for
const TIMEOUT = 45_000;

const seen = { tabs: [], blocked: [], connectionInit: [], query: null, events: [], console: [] };

// https://unpkg.com/<package>@<version>/<file> -> node_modules/<package>/<file>, if that
// version is the one installed.
function fromNodeModules(url) {
  const match = new URL(url).pathname.match(/^\/((?:@[^/]+\/)?[^@/]+)@([^/]+)\/(.+)$/);
  if (!match) return null;
  const [, name, version, file] = match;
  const root = join(HERE, "node_modules", name);
  const installed = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
  if (installed !== version) return null;
  const type = file.endsWith(".css") ? "text/css" : "application/javascript";
  return { body: readFileSync(join(root, file)), contentType: type };
}

async function editorText(page, selector) {
  return page.$eval(`${selector} .CodeMirror`, (element) => element.CodeMirror.getValue());
}

async function main() {
  const profile = mkdtempSync(join(tmpdir(), "flowgate-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  try {
    await context.route("https://unpkg.com/**", async (route) => {
      const file = fromNodeModules(route.request().url());
      if (!file) {
        seen.blocked.push(route.request().url());
        return route.abort();
      }
      return route.fulfill({
        status: 200,
        body: file.body,
        contentType: file.contentType,
        headers: { "access-control-allow-origin": "*" },
      });
    });
    page.on("console", (message) => {
      if (message.type() === "error") seen.console.push(message.text());
    });
    page.on("websocket", (socket) => {
      socket.on("framesent", ({ payload }) => {
        const message = JSON.parse(String(payload));
        if (message.type === "connection_init") seen.connectionInit.push(message.payload ?? null);
      });
    });

    // the page loads, on the example tabs
    await page.goto(`${base}/graphql`);
    await page.waitForSelector(".graphiql-tab", { timeout: TIMEOUT });
    seen.tabs = (await page.locator(".graphiql-tab").allInnerTexts()).map((t) => t.trim());

    // the credential, typed into the Headers editor as a person pastes it
    await page.getByText("Headers", { exact: true }).click();
    const headers = '.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden)';
    await page.locator(`${headers} .CodeMirror`).click();
    await page.keyboard.insertText(credential);
    seen.headersTyped = await editorText(page, headers);

    // a query runs and its result shows
    await page.locator(".graphiql-execute-button").click();
    await page.waitForFunction(
      () => /"data"|"errors"/.test(document.querySelector(".graphiql-response .CodeMirror").CodeMirror.getValue()),
      null,
      { timeout: TIMEOUT },
    );
    seen.query = JSON.parse(await editorText(page, ".graphiql-response"));

    // a subscription shows live events: the response pane changes as they arrive
    await page.locator(".graphiql-tab", { hasText: "LiveExecutions" }).click();
    await page.waitForTimeout(500); // as a person would: GraphiQL reads a new tab's query after 100 ms
    await page.locator(".graphiql-execute-button").click();
    const deadline = Date.now() + TIMEOUT;
    while (seen.events.length < LIVE_EVENTS && Date.now() < deadline) {
      const text = await editorText(page, ".graphiql-response");
      if (/"data"|"errors"/.test(text) && !seen.events.includes(text)) seen.events.push(text);
      await page.waitForTimeout(100);
    }
    seen.events = seen.events.map((text) => JSON.parse(text));
    await page.locator(".graphiql-execute-button").click(); // stop
  } finally {
    if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    console.log(JSON.stringify(seen));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

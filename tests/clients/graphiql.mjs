// GraphiQL as an analyst uses it, in headless Debian Chromium driven by Playwright: open the
// page, paste the credential into the Headers tab, run the first example (the dashboard),
// then the live-executions subscription, and watch the response pane change; then check where
// the credential was kept, and that another site cannot frame the page.
//
// Environment: FLOWGATE_URL (the gateway's base URL), FLOWGATE_HEADERS (the credential as the
// demo prints it, a JSON object), CHROMIUM (the browser, default /usr/bin/chromium),
// SCREENSHOT (a PNG to write at the end, or on failure). Prints one JSON object of what it
// saw; the pytest side (tests/test_clients_graphiql.py) makes the assertions.
//
// Offline, as on an air-gapped install: every request that does not go to the gateway
// itself is aborted (and listed in `blocked`); the page must load all it needs from there.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.FLOWGATE_URL;
const gateway = new URL(base).origin;
const credential = process.env.FLOWGATE_HEADERS;
const LEFTOVER = "Bearer leftover-credential";
const LIVE_EVENTS = 2; // distinct subscription payloads to wait for
const TIMEOUT = 45_000;

const seen = {
  tabs: [],
  blocked: [],
  files: [], // what the page loaded from the gateway: [path, status, content-encoding]
  connectionInit: [],
  query: null,
  events: [],
  console: [],
  storage: null,
  framed: null,
};

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
    await context.route("**/*", async (route) => {
      const url = route.request().url();
      if (url.startsWith("data:") || new URL(url).origin === gateway) return route.continue();
      seen.blocked.push(url);
      return route.abort("internetdisconnected");
    });
    page.on("response", async (response) => {
      const path = new URL(response.url()).pathname;
      if (path.startsWith("/graphql/static/")) {
        seen.files.push([path, response.status(), (await response.allHeaders())["content-encoding"] ?? null]);
      }
    });
    // A violation of the page's Content-Security-Policy becomes a console error, as a
    // person with the developer tools open would see it.
    await context.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) => {
        console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
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

    // what earlier versions of the page left in localStorage: the credential, and history
    // with its headers
    await page.goto(`${base}/healthz`);
    await page.evaluate((leftover) => {
      const headers = JSON.stringify({ Authorization: leftover });
      localStorage.setItem("flowgate:authorization", leftover);
      localStorage.setItem("graphiql:headers", headers);
      localStorage.setItem("graphiql:queries", JSON.stringify({ queries: [{ query: "{ me { id } }", headers }] }));
    }, LEFTOVER);

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

    // the credential is kept for this browser tab only
    seen.storage = await page.evaluate(() => ({
      local: JSON.stringify(localStorage),
      session: JSON.stringify(sessionStorage),
    }));

    // another site frames the page: the browser refuses to show it
    const other = await context.newPage();
    await other.setContent(`<iframe src="${base}/graphql" width="800" height="600"></iframe>`);
    await other.waitForTimeout(1500);
    const frame = other.frames().find((f) => f !== other.mainFrame());
    seen.framed = frame
      ? await frame.evaluate(() => Boolean(document.getElementById("graphiql"))).catch(() => false)
      : false;
    await other.close();
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

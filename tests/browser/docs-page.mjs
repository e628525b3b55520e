// Opens the interactive docs of the API at BASE_URL in headless Chromium,
// tries GET /book/{book_id} out with BOOK_ID, and prints what it saw as JSON
// for tests/test_docs_page.py. Screenshots go to ARTIFACTS: docs-page.png (the
// page as it opens) and docs-try-it-out.png (the operation tried out).
//
//   node tests/browser/docs-page.mjs BASE_URL BOOK_ID ARTIFACTS
//
// The browser is Debian's chromium (CHROMIUM overrides its path). Requests to
// any origin other than BASE_URL's are refused and reported.
import path from "node:path";

import { chromium } from "playwright-core";

const [baseUrl, bookId, artifacts] = process.argv.slice(2);
const origin = new URL(baseUrl).origin;
const seen = {
  consoleErrors: [],
  pageErrors: [],
  outsideRequests: [],
  failedRequests: [],
  operations: [],
  tryItOut: null,
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // Playwright gives the browser a new empty profile of its own.
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (message) => {
    if (message.type() === "error") seen.consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => seen.pageErrors.push(String(error)));
  page.on("requestfailed", (request) => {
    seen.failedRequests.push(`${request.url()}: ${request.failure()?.errorText}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) {
      seen.failedRequests.push(`${response.url()}: ${response.status()}`);
    }
  });
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("data:") || new URL(url).origin === origin) {
      return route.continue();
    }
    seen.outsideRequests.push(url);
    return route.abort("blockedbyclient");
  });

  await page.goto(`${baseUrl}/docs`, { waitUntil: "load" });
  await page.locator(".opblock").first().waitFor();
  seen.operations = await page.locator(".opblock").evaluateAll((blocks) =>
    blocks.map((block) => {
      const method = block.querySelector(".opblock-summary-method").textContent;
      const route = block.querySelector("[data-path]").getAttribute("data-path");
      return `${method.trim()} ${route}`;
    }),
  );
  await page.screenshot({ path: path.join(artifacts, "docs-page.png") });

  const operation = page
    .locator(".opblock-get")
    .filter({ has: page.locator('[data-path="/book/{book_id}"]') });
  await operation.locator(".opblock-summary").click();
  await operation.locator('tr[data-param-name="book_id"] input').fill(bookId);
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === `/book/${bookId}`),
    operation.locator("button.execute").click(),
  ]);
  const statusCell = operation.locator(
    ".live-responses-table td.response-col_status:not(.col_header)",
  );
  await statusCell.waitFor();
  seen.tryItOut = {
    url: response.url(),
    status: response.status(),
    displayedStatus: (await statusCell.textContent()).trim(),
    displayedBody: await operation
      .locator(".live-responses-table .response-col_description pre")
      .first()
      .textContent(),
  };
  await operation.screenshot({ path: path.join(artifacts, "docs-try-it-out.png") });
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));

// Drives the gateway's web console in headless Chromium (playwright-core, Debian's chromium).
// Usage: node console_test.mjs <base url> <rep token> <manager token> <artifacts dir>
// Prints "READY" once the rep is signed in and the alert stream is live, then waits for the
// first alert to appear and prints one JSON line: {alert_id, stream_id, received_ms, ...}.
// Then signs in as the manager and checks the statistics chart. Exit status 0 on success.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [base, repToken, managerToken, artifacts] = process.argv.slice(2);
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cadence-chromium-'));
fs.mkdirSync(artifacts, { recursive: true });

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1200, height: 900 },
});
let code = 1;
try {
  const page = context.pages()[0] || await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  await page.goto(base + '/');
  await page.getByLabel('Your access token').fill(repToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#stream-state.live').waitFor({ timeout: 15000 });
  await page.locator('#queue').waitFor();
  console.log('READY');

  const alert = page.locator('li.alert').first();
  await alert.waitFor({ timeout: 60000 });
  const result = await alert.evaluate((li) => ({
    alert_id: li.dataset.alertId,
    stream_id: li.dataset.streamId,
    received_ms: Number(li.dataset.receivedMs),
    text: li.innerText,
  }));
  await page.screenshot({ path: path.join(artifacts, 'console-rep-alert.png'), fullPage: true });
  // The lead's history opens from the alert.
  await alert.getByRole('button').click();
  await page.locator('#lead ol.timeline li').first().waitFor({ timeout: 10000 });
  result.timeline_entries = await page.locator('#lead ol.timeline li').count();
  await page.screenshot({ path: path.join(artifacts, 'console-rep-lead.png'), fullPage: true });

  // The manager's view: measures and the SVG chart.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Your access token').fill(managerToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#measures dd').first().waitFor({ timeout: 15000 });
  // the history's own month (the default range is the last 30 days, which moves on)
  await page.locator('#stats-from').fill('2026-11-01');
  await page.locator('#stats-to').fill('2026-11-30');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.locator('body[data-stats-loaded="2026-11-01..2026-11-30"]').waitFor({ timeout: 15000 });
  result.chart_bars = await page.locator('#chart svg rect title').allTextContents();
  result.measures = await page.locator('#measures').innerText();
  await page.screenshot({ path: path.join(artifacts, 'console-manager-stats.png'), fullPage: true });
  result.console_errors = consoleErrors;
  console.log(JSON.stringify(result));
  code = 0;
} catch (e) {
  console.error(String(e && e.stack || e));
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(code);

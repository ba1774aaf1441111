// Drives the gateway's web console in headless Chromium (playwright-core, Debian's chromium).
// Usage: node console_test.mjs <base url> <rep token> <manager token> <artifacts dir>
//
// Talks with tests/integration/test_gateway_browser.py through its output: a line "WAIT <what>"
// asks the Python side to do something (publish a visit, restart the gateway) and the Python
// side writes "<what>" followed by a newline on our stdin when done. The flows, for a rep:
//   1. an alert arrives: a card, a desktop notification (the Notification API, recorded), the
//      count in the tab title, "x minutes ago";
//   2. an alert update (same alert_id, revision 2) refreshes the card instead of adding one;
//   3. the queue shows an overdue task with what to say (voicemail script filled in, tel:
//      link); logging an outcome takes it out of the queue and the lead's next touch appears;
//   4. a lead search by a name prefix opens the lead's page with its history in words;
//   5. on a phone-width screen nothing overflows sideways;
//   6. the alert stream reconnects (with backoff) after the gateway restarts.
// Then the manager's statistics. Prints one JSON line of findings; exit status 0 on success.
// Screenshots go to the artifacts directory.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const [base, repToken, managerToken, artifacts] = process.argv.slice(2);
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cadence-chromium-'));
fs.mkdirSync(artifacts, { recursive: true });

const lines = readline.createInterface({ input: process.stdin });
const acks = [];
let ackWaiter = null;
lines.on('line', (l) => { acks.push(l.trim()); if (ackWaiter) ackWaiter(); });
async function ask(what) {
  console.log('WAIT ' + what);
  for (;;) {
    const i = acks.indexOf(what);
    if (i >= 0) { acks.splice(i, 1); return; }
    await new Promise((r) => { ackWaiter = r; });
  }
}

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--autoplay-policy=no-user-gesture-required'],
  viewport: { width: 1200, height: 900 },
});
// Desktop notifications are recorded (headless Chromium shows none): the console must call
// the API with the alert, and only when the user allowed it.
await context.addInitScript(() => {
  window.__notifications = [];
  window.__sounds = 0;
  class RecordingNotification {
    constructor(title, opts) { window.__notifications.push({ title, body: opts && opts.body, tag: opts && opts.tag }); }
    static requestPermission() { return Promise.resolve('granted'); }
  }
  RecordingNotification.permission = 'granted';
  window.Notification = RecordingNotification;
  const Real = window.AudioContext;
  if (Real) window.AudioContext = class extends Real { constructor() { super(); window.__sounds++; } };
});
let code = 1;
const shot = (page, name) => page.screenshot({ path: path.join(artifacts, name), fullPage: true });
try {
  const page = context.pages()[0] || await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  await page.goto(base + '/');
  await page.getByLabel('Your access token').fill(repToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#stream-state.live').waitFor({ timeout: 15000 });
  console.log('READY');

  // 1. an alert, loud
  await ask('visit');
  const alert = page.locator('li.alert').first();
  await alert.waitFor({ timeout: 60000 });
  const result = await alert.evaluate((li) => ({
    alert_id: li.dataset.alertId,
    stream_id: li.dataset.streamId,
    received_ms: Number(li.dataset.receivedMs),
    text: li.innerText,
  }));
  result.title = await page.title();
  result.notifications = await page.evaluate(() => window.__notifications);
  result.sounds = await page.evaluate(() => window.__sounds);
  result.ago = await alert.locator('.ago').innerText();
  await shot(page, 'console-rep-alert.png');

  // 2. the update refreshes the same card
  await ask('update');
  await page.locator('li.alert[data-revision="2"]').waitFor({ timeout: 60000 });
  result.alert_cards = await page.locator('li.alert').count();
  result.updated_text = await page.locator('li.alert').first().innerText();
  result.notifications_after_update = await page.evaluate(() => window.__notifications.length);
  await shot(page, 'console-rep-alert-update.png');
  await page.locator('li.alert').first().getByRole('button', { name: 'Done' }).click();
  result.title_after_done = await page.title();

  // 3. act on a task: what to say, then log the outcome; the next touch appears
  await ask('task');
  const deadline = Date.now() + 60000;
  while (!(await page.locator('#queue-overdue li.task, #queue-today li.task').count()) && Date.now() < deadline) {
    await page.getByRole('button', { name: 'Refresh' }).first().click();
    await page.waitForTimeout(500);
  }
  const task = page.locator('li.task', { hasText: 'Mia Schulz' }).first();
  await task.waitFor({ timeout: 5000 });
  const taskId = await task.getAttribute('data-task-id');
  result.task_when = await task.locator('.when').innerText();
  result.task_overdue = await task.evaluate((li) => li.classList.contains('overdue'));
  await task.locator('.task-head').click();
  const card = task.locator('.task-card');
  await card.locator('.script').first().waitFor({ timeout: 5000 });
  result.task_card = await card.innerText();
  result.tel = await card.locator('a.tel').getAttribute('href');
  await shot(page, 'console-rep-task.png');
  await card.getByRole('button', { name: 'Log outcome' }).click();
  await page.locator('#outcome').waitFor({ state: 'visible' });
  await page.getByLabel('Left a voicemail').check();
  await page.locator('#o-script').waitFor({ state: 'visible' });
  result.script_choice = await page.locator('#o-script').inputValue();
  await page.getByLabel('Notes').fill('left vm-1, will email');
  await shot(page, 'console-rep-outcome-form.png');
  await page.locator('#o-send').click();
  await page.locator('#outcome').waitFor({ state: 'hidden', timeout: 10000 });
  // the worker applied it: the task left the queue and the lead page shows the next touch
  const next = page.locator('#lead .next-touch[data-task-id]');
  await next.waitFor({ timeout: 30000 });
  result.old_task_id = taskId;
  result.next_task_id = await next.getAttribute('data-task-id');
  result.next_touch = await next.innerText();
  result.task_still_queued = await page.locator(`li.task[data-task-id="${taskId}"]`).count();
  result.lead_history = await page.locator('#lead ol.timeline').innerText();
  await shot(page, 'console-rep-next-touch.png');

  // 4. find a lead by the start of a name
  await page.getByLabel('Name, company or email').fill('okaf');
  const hit = page.locator('#search-results button', { hasText: 'Dana Okafor' });
  await hit.waitFor({ timeout: 10000 });
  await hit.click();
  await page.locator('#lead h3', { hasText: 'Dana Okafor' }).waitFor({ timeout: 10000 });
  result.search_lead = await page.locator('#lead').innerText();
  result.timeline_entries = await page.locator('#lead ol.timeline > li').count();
  await shot(page, 'console-rep-lead.png');

  // 5. phone width
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  result.phone_overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await shot(page, 'console-rep-phone.png');
  await page.setViewportSize({ width: 1200, height: 900 });

  // 6. the stream comes back after the gateway restarts
  console.log('WAIT restart');
  await page.locator('#stream-state:not(.live)').waitFor({ timeout: 30000 });
  result.retry_ms = Number(await page.locator('#stream-state').getAttribute('data-retry-ms'));
  acks.push('stopped-seen');
  console.log('STREAM DOWN');
  await page.locator('#stream-state.live').waitFor({ timeout: 60000 });
  result.reconnected = true;

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
  await shot(page, 'console-manager-stats.png');
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

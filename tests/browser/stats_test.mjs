// The managers' statistics view in headless Chromium (playwright-core, Debian's chromium).
// Usage: node stats_test.mjs <base url> <manager token> <artifacts dir>
// Signs in as a manager, picks the known history's range (tests/integration/stats_history.py)
// and a range that leaves days out, reads the measures, the per-rep and per-step tables and
// checks that every chart label lies inside its SVG (nothing clipped) and that no source path
// shows; opens rep.bob's queue and alert feed; repeats at phone width. Prints one JSON line;
// exit status 0 when the page could be driven (the Python driver checks the figures).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [base, managerToken, artifacts] = process.argv.slice(2);
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cadence-chromium-'));
fs.mkdirSync(artifacts, { recursive: true });

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1200, height: 900 },
});

// Every <text> of every chart: is its box inside the SVG's own box (nothing clipped)?
async function chartCheck(page) {
  return page.evaluate(() => [...document.querySelectorAll('#manager-view .chart svg')].map((svg) => {
    const vb = svg.viewBox.baseVal;
    const out = [];
    for (const t of svg.querySelectorAll('text')) {
      const b = t.getBBox();
      const m = t.getCTM();
      // corners through the element's own transform (rotated labels), in viewBox units
      const pts = [[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height], [b.x + b.width, b.y + b.height]]
        .map(([x, y]) => { const p = svg.createSVGPoint(); p.x = x; p.y = y; return p.matrixTransform(svg.getCTM().inverse().multiply(m)); });
      const inside = pts.every((p) => p.x >= vb.x - 0.5 && p.x <= vb.x + vb.width + 0.5 && p.y >= vb.y - 0.5 && p.y <= vb.y + vb.height + 0.5);
      if (!inside) out.push(t.textContent);
    }
    const r = svg.getBoundingClientRect();
    return { id: svg.parentElement.id, texts: svg.querySelectorAll('text').length, clipped: out,
             axis_titles: [...svg.querySelectorAll('.axis-title')].map((t) => t.textContent),
             width: r.width, page_width: document.documentElement.clientWidth };
  }));
}

async function tableRows(page, id) {
  return page.locator(`#${id} tbody tr`).evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.innerText.trim())));
}

async function pickRange(page, from, to) {
  await page.locator('#stats-from').fill(from);
  await page.locator('#stats-to').fill(to);
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.locator(`body[data-stats-loaded="${from}..${to}"]`).waitFor({ timeout: 15000 });
}

let code = 1;
try {
  const page = context.pages()[0] || await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  await page.goto(base + '/');
  await page.getByLabel('Your access token').fill(managerToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('body[data-stats-loaded]').waitFor({ timeout: 15000 });
  const result = { default_range: await page.locator('body').getAttribute('data-stats-loaded') };

  await pickRange(page, '2026-11-02', '2026-11-09');
  result.measures = await page.locator('#measures').innerText();
  result.reps = await tableRows(page, 'reps');
  result.steps = await tableRows(page, 'steps');
  result.charts = await chartCheck(page);
  result.activity_bars = await page.locator('#activity-chart svg rect title').allTextContents();
  result.step_bars = await page.locator('#chart svg rect title').allTextContents();
  result.text = await page.locator('main').innerText();
  await page.screenshot({ path: path.join(artifacts, 'console-stats-range.png'), fullPage: true });

  await pickRange(page, '2026-11-03', '2026-11-05');
  result.middle_measures = await page.locator('#measures').innerText();
  result.middle_reps = await tableRows(page, 'reps');

  await pickRange(page, '2026-11-07', '2026-11-08');
  result.empty_measures = await page.locator('#measures').innerText();
  result.empty_reps = await tableRows(page, 'reps');
  result.empty_charts = await page.locator('#manager-view .chart').allInnerTexts();

  // a bad range answers with the API's message, not a crash
  await page.locator('#stats-from').fill('2026-11-09');
  await page.locator('#stats-to').fill('2026-11-02');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.locator('#stats-error:not(:empty)').waitFor({ timeout: 10000 });
  result.bad_range_error = await page.locator('#stats-error').innerText();

  // a manager opens any rep's queue and feed
  await pickRange(page, '2026-11-02', '2026-11-09');
  await page.getByRole('button', { name: 'Open rep.bob' }).click();
  await page.locator('#rep-queue tbody tr').first().waitFor({ timeout: 10000 });
  await page.locator('#rep-alerts li').first().waitFor({ timeout: 15000 });
  result.rep_queue = await tableRows(page, 'rep-queue');
  result.rep_alerts = await page.locator('#rep-alerts li').allInnerTexts();
  result.rep_feed_state = await page.locator('#rep-feed-state').innerText();
  await page.screenshot({ path: path.join(artifacts, 'console-stats-rep.png'), fullPage: true });

  // phone width
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.locator('body[data-stats-loaded]').waitFor({ timeout: 15000 });
  await pickRange(page, '2026-11-02', '2026-11-09');
  result.phone_charts = await chartCheck(page);
  result.phone_overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.screenshot({ path: path.join(artifacts, 'console-stats-phone.png'), fullPage: true });

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

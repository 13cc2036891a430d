// The dashboard over a real `wikistream run` (a paced replay into a warehouse
// that already holds batch results), in headless Chromium.
// Usage: node dashboard_replay_check.mjs URL SCREENSHOT.png
// Exit 0 when the page loads without errors, the live total rises while the
// replay runs, a HIGH-risk alert reaches the alert feed, and every batch panel
// shows rows from the warehouse. Writes a full-page screenshot for humans.
import { chromium } from 'playwright-core';

const [url, screenshot] = process.argv.slice(2);
const problems = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const num = (text) => Number(String(text || '').replace(/[^0-9.]/g, '')) || 0;
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`); });
  await page.goto(url, { waitUntil: 'load', timeout: 20000 });

  const today = async () => num(await page.textContent('#live-today-total'));
  await page.waitForFunction(() => Number((document.getElementById('live-today-total')?.textContent || '')
    .replace(/[^0-9.]/g, '')) > 0, null, { timeout: 20000 });
  const first = await today();
  await page.waitForTimeout(2500);
  const second = await today();
  if (!(second > first)) problems.push(`live total did not rise while the replay ran: ${first} -> ${second}`);

  await page.waitForFunction(() => [...document.querySelectorAll('#live-alerts li')]
    .some((li) => li.textContent.includes('HIGH')), null, { timeout: 30000 })
    .catch(() => problems.push('no HIGH alert in the live alert feed'));

  await page.waitForFunction(() => document.querySelectorAll('#risk-table tbody tr').length > 0 &&
    document.querySelectorAll('#contributors-table tbody tr').length > 0, null, { timeout: 20000 })
    .catch(() => problems.push('batch panels stayed empty'));
  const batch = await page.evaluate(() => ({
    total: document.getElementById('summary-total').textContent,
    risk: document.querySelectorAll('#risk-table tbody tr').length,
    trending: document.querySelectorAll('#trending-table tbody tr').length,
    contributors: document.querySelectorAll('#contributors-table tbody tr').length,
    dq: document.querySelectorAll('#dq-table tbody tr').length,
    pipeline: document.querySelectorAll('#pipeline-table tbody tr').length,
  }));
  if (!(num(batch.total) > 0)) problems.push(`summary total: ${batch.total}`);
  for (const k of ['risk', 'contributors', 'dq', 'pipeline']) {
    if (!(batch[k] > 0)) problems.push(`${k} panel has no rows`);
  }
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ first, second, batch }));
} catch (err) {
  problems.push(`exception: ${err.message}`);
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('dashboard over a real run ok');

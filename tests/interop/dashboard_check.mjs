// Drives the dashboard in headless Chromium (playwright-core + Debian's
// /usr/bin/chromium) against a server started by the serve gtest.
// Usage: node dashboard_check.mjs URL
// Exit 0 when: the page loads without console errors or page errors, the
// live tiles show numbers from the SSE stream, the charts render, and the
// batch panels are filled from the API. Otherwise prints why and exits 1.
import { chromium } from 'playwright-core';

const url = process.argv[2];
if (!url) {
  console.error('usage: dashboard_check.mjs URL');
  process.exit(2);
}

const problems = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    // The SSE request is aborted when the page closes; anything else is a bug.
    if (!req.url().endsWith('/api/live')) problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });

  await page.goto(url, { waitUntil: 'load', timeout: 20000 });
  await page.waitForFunction(() => window.Chart !== undefined, null, { timeout: 10000 });

  // Live tiles: the gtest keeps observing events, so the numbers become > 0.
  await page.waitForFunction(() => {
    const n = (id) => Number((document.getElementById(id)?.textContent || '').replace(/,/g, ''));
    return n('live-minute-total') > 0 && n('live-hour-total') > 0 && n('live-today-total') > 0;
  }, null, { timeout: 15000 });
  const live = await page.evaluate(() => ({
    eps: document.getElementById('live-eps').textContent,
    minute: document.getElementById('live-minute-total').textContent,
    bot: document.getElementById('live-bot').textContent,
    anon: document.getElementById('live-anon').textContent,
    regions: document.querySelectorAll('#live-regions li').length,
    trending: document.querySelectorAll('#live-trending li').length,
    alerts: [...document.querySelectorAll('#live-alerts li')].map((li) => li.textContent),
    frames: window.wikistream.liveFrames,
    status: document.getElementById('status').dataset.state,
  }));
  if (!/^[0-9.]+$/.test(live.eps)) problems.push(`events/s tile is not a number: ${live.eps}`);
  if (live.regions !== 5) problems.push(`expected 5 region bars, got ${live.regions}`);
  if (live.trending < 1) problems.push('live trending list is empty');
  if (live.status !== 'live') problems.push(`status is ${live.status}`);
  // The gtest's events include a HIGH-risk user: the alert reaches the tile.
  await page.waitForFunction(() => [...document.querySelectorAll('#live-alerts li')].some((li) => li.textContent.includes('HIGH')),
    null, { timeout: 15000 }).catch(() => problems.push('no HIGH alert in the recent alerts tile'));

  // Charts: Chart.js instances with data, drawn on non-blank canvases.
  await page.waitForFunction(() => window.wikistream.batchLoaded === true, null, { timeout: 10000 });
  const charts = await page.evaluate(() => {
    const info = (id) => {
      const canvas = document.getElementById(id);
      const chart = window.Chart.getChart(canvas);
      if (!chart) return { exists: false };
      const ctx = canvas.getContext('2d');
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < img.length; i += 4) if (img[i] !== 0) painted += 1;
      const points = chart.data.datasets.reduce((n, d) => n + d.data.filter((v) => v > 0).length, 0);
      return { exists: true, datasets: chart.data.datasets.length, points, painted, width: canvas.width };
    };
    return { live: info('live-chart'), hourly: info('hourly-chart') };
  });
  for (const [name, c] of Object.entries(charts)) {
    if (!c.exists) problems.push(`${name} chart missing`);
    else if (c.points < 1 || c.painted < 100 || c.width < 50) problems.push(`${name} chart not rendered: ${JSON.stringify(c)}`);
  }
  if (charts.hourly.datasets !== 2) problems.push(`hourly chart should have 2 wikis, has ${charts.hourly.datasets}`);

  const batch = await page.evaluate(() => ({
    total: document.getElementById('summary-total').textContent,
    date: document.getElementById('batch-date').textContent,
    risk: [...document.querySelectorAll('#risk-table tbody tr')].map((tr) => tr.textContent),
    trending: document.querySelectorAll('#trending-table tbody tr').length,
    contributors: document.querySelectorAll('#contributors-table tbody tr').length,
    dq: document.querySelectorAll('#dq-table tbody tr').length,
    gates: document.getElementById('dq-gates').textContent,
    pipeline: document.querySelectorAll('#pipeline-table tbody tr').length,
    dates: [...document.querySelectorAll('#date-select option')].map((o) => o.value),
  }));
  if (batch.total !== '2,000') problems.push(`summary total is ${batch.total}`);
  if (batch.date !== '2024-08-22') problems.push(`batch date is ${batch.date}`);
  if (batch.risk.length !== 3 || !batch.risk[0].includes('Vandal') || !batch.risk[0].includes('velocity')) {
    problems.push(`risk table: ${JSON.stringify(batch.risk)}`);
  }
  if (batch.trending !== 4) problems.push(`trending rows: ${batch.trending}`);
  if (batch.contributors !== 3) problems.push(`contributor rows: ${batch.contributors}`);
  if (batch.dq !== 3 || !batch.gates.includes('gold gate FAILED')) problems.push(`dq: ${batch.dq} ${batch.gates}`);
  if (batch.pipeline !== 2) problems.push(`pipeline rows: ${batch.pipeline}`);
  if (batch.dates.join(',') !== '2024-08-22,2024-08-21') problems.push(`dates: ${batch.dates}`);

  // Choosing another date reloads the batch panels.
  await page.selectOption('#date-select', '2024-08-21');
  await page.waitForFunction(() => document.getElementById('summary-total').textContent === '1,000', null, { timeout: 10000 })
    .catch(() => problems.push('date change did not reload the summary'));

  // Text from the server is never interpreted as HTML.
  const injected = await page.evaluate(() => document.querySelectorAll('#live-trending img, #risk-table img').length);
  if (injected !== 0) problems.push('server text was rendered as HTML');
  console.log(JSON.stringify({ live, charts, batch }));
} catch (err) {
  problems.push(`exception: ${err.message}`);
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('dashboard ok');

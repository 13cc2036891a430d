// The dashboard over a real `wikistream run` (a paced replay into a
// warehouse that already holds several days), in headless Chromium.
// Usage: node dashboard_replay_check.mjs URL SCREENSHOT_DIR FROM TO
// (FROM..TO: the days the warehouse held before the run.)
// Exit 0 when: the live tiles rise while the replay runs and a HIGH alert
// arrives; the span shows each of its days; the analyst's question ("which
// wikis in Europe had the most anonymous edits, and who were the riskiest
// users there?") is answered by clicks; a HIGH-risk user's page shows the
// evidence gold holds; a downloaded CSV equals the API's JSON; every view
// fills, paints its charts and has no serious or critical axe-core
// violation; the controls follow the keyboard. Writes a screenshot of each
// view into SCREENSHOT_DIR.
import { mkdirSync, readFileSync } from 'node:fs';
import {
  PAGES, axe, charts, csvEqualsJson, launch, openPage, renders, tableRows, view, waitDrawn,
} from './dashboard_lib.mjs';

const [rawBase, shots, from, to] = process.argv.slice(2);
const base = (rawBase || '').replace(/\/$/, '');
if (!base || !shots || !from || !to) {
  console.error('usage: dashboard_replay_check.mjs URL SCREENSHOT_DIR FROM TO');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const problems = [];
const report = {};
const num = (text) => Number(String(text || '').replace(/[^0-9.]/g, '')) || 0;
const api = (page, path) => page.evaluate(async (p) => (await fetch(p)).json(), path);
const browser = await launch();
try {
  const page = await openPage(browser, problems);

  // Live: the tiles rise under `run`, and a HIGH alert reaches the feed.
  await view(page, base, '#/live');
  await page.waitForFunction(() => Number((document.getElementById('live-today-total')?.textContent || '').replace(/[^0-9.]/g, '')) > 0,
    null, { timeout: 20000 })
    .catch(() => problems.push('live total stayed at zero'));
  // Wait for a rise rather than sampling after a fixed pause: on a loaded
  // machine the page may take seconds to poll again.
  const first = num(await page.textContent('#live-today-total'));
  await page.waitForFunction((start) => Number((document.getElementById('live-today-total')?.textContent || '').replace(/[^0-9.]/g, '')) > start,
    first, { timeout: 20000 }).catch(() => {});
  const second = num(await page.textContent('#live-today-total'));
  if (!(second > first)) problems.push(`live total did not rise while the replay ran: ${first} -> ${second}`);
  await page.waitForFunction(() => (document.getElementById('live-alerts')?.textContent || '').includes('HIGH'), null, { timeout: 60000 })
    .catch(() => problems.push('no HIGH alert in the live alert feed'));
  report.live = { first, second };

  // A span of several days shows each of them.
  await view(page, base, `#/overview?from=${from}&to=${to}`);
  const days = (await tableRows(page, 'overview-table')).filter((r) => num(r[1]) > 0);
  if (days.length < 3) problems.push(`overview shows ${days.length} days with events: ${JSON.stringify(days)}`);
  const daily = (await charts(page)).find((c) => c.id === 'ov-daily');
  if (!daily || daily.labels < 3 || daily.points < 3) problems.push(`daily chart: ${JSON.stringify(daily)}`);
  report.days = days.length;

  // The analyst's question, by clicks: Europe's wikis by anonymous edits...
  await view(page, base, `#/wikis?from=${from}&to=${to}`);
  let before = await renders(page);
  await page.selectOption('#f-region', 'europe');
  await waitDrawn(page, before);
  before = await renders(page);
  await page.selectOption('#f-sort', 'anonymous_edits');
  await waitDrawn(page, before);
  const wikis = await tableRows(page, 'wikis-table');
  const anon = wikis.map((r) => num(r[3]));
  if (!wikis.length || wikis.some((r) => r[1] !== 'Europe')) problems.push(`wikis of Europe: ${JSON.stringify(wikis)}`);
  if (anon.some((v, i) => i > 0 && v > anon[i - 1])) problems.push(`wikis not sorted by anonymous edits: ${anon}`);
  if (!page.url().includes('region=europe') || !page.url().includes('sort=anonymous_edits')) problems.push(`wikis state not in the URL: ${page.url()}`);
  // ...and the riskiest users there.
  before = await renders(page);
  await page.click('#wikis-risky');
  await waitDrawn(page, before);
  const risky = await tableRows(page, 'risk-table');
  if (!risky.length || risky.some((r) => !r.join(' ').includes('HIGH'))) problems.push(`riskiest users in Europe: ${JSON.stringify(risky.slice(0, 3))}`);
  report.europe = { wikis: wikis.length, top: wikis[0]?.[0], highUsers: risky.length };

  // Export: the downloaded CSV equals the API's JSON for the same rows.
  const csvHref = await page.getAttribute('#risk-csv', 'href');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#risk-csv')]);
  const csv = readFileSync(await download.path(), 'utf8');
  const json = await api(page, csvHref.replace(/&?format=csv/, ''));
  const diff = csvEqualsJson(csv, json.rows);
  if (diff) problems.push(`CSV differs from the JSON: ${diff}`);
  if (!json.rows.length || !json.rows.every((r) => r.edits_in_scope > 0)) problems.push('exported rows lack their Europe edits');
  report.csvRows = json.rows.length;

  // A HIGH-risk user's page shows the evidence gold holds.
  const user = json.rows[0]?.entity_id;
  before = await renders(page);
  await page.click('#risk-table a.user-link');
  await waitDrawn(page, before);
  const gold = await api(page, `/api/risk?from=${from}&to=${to}&limit=1000`);
  const goldRows = gold.rows.filter((r) => r.entity_id === user).sort((a, b) => a.stat_date.localeCompare(b.stat_date));
  const shown = await tableRows(page, 'user-scores');
  if (!goldRows.length || shown.length !== goldRows.length) problems.push(`user ${user}: ${shown.length} score rows shown, gold has ${goldRows.length}`);
  goldRows.forEach((g, i) => {
    const row = shown[i] || [];
    if (row[0] !== g.stat_date || row[1] !== String(g.risk_score) || row[2] !== g.risk_level) {
      problems.push(`user ${user} day ${g.stat_date}: shown ${JSON.stringify(row.slice(0, 3))}, gold ${g.risk_score} ${g.risk_level}`);
    }
    if (!row[8] || !(g.evidence.factors || []).every((f) => row[8].includes(f))) problems.push(`evidence of ${g.stat_date}: ${row[8]}`);
  });
  const evidence = await api(page, `/api/risk/user?user=${encodeURIComponent(user)}&from=${from}&to=${to}`);
  if (!evidence.events_total || !evidence.wikis.length || !evidence.pages.length) problems.push(`user evidence from silver is empty: ${JSON.stringify(evidence).slice(0, 200)}`);
  if (num(await page.textContent('#user-events')) !== evidence.events_total) problems.push('user events tile differs from the API');
  if (evidence.scores.some((s) => s.risk_level === 'HIGH') && !evidence.alerts.length) problems.push(`HIGH user ${user} without an alert`);
  if ((await tableRows(page, 'user-alerts-table')).length !== evidence.alerts.length) problems.push('alerts shown differ from the API');
  await page.screenshot({ path: `${shots}/user.png`, fullPage: true });
  report.user = { user, days: goldRows.length, events: evidence.events_total, alerts: evidence.alerts.length };

  // A trending page opens its edits over time.
  await view(page, base, `#/trending?date=${to}`);
  before = await renders(page);
  await page.click('#trending-table a.page-link');
  await waitDrawn(page, before);
  if (!(await tableRows(page, 'page-trending')).length || !(await tableRows(page, 'page-edits')).length) problems.push('page view is empty');
  await page.screenshot({ path: `${shots}/page.png`, fullPage: true });

  // Keyboard: a select changes the view with arrow keys alone.
  await view(page, base, `#/contributors?from=${to}&to=${to}`);
  await page.focus('#f-user-type');
  before = await renders(page);
  await page.keyboard.press('ArrowDown');
  await waitDrawn(page, before);
  if (!page.url().includes('user_type=human')) problems.push(`keyboard choice not applied: ${page.url()}`);

  // Every view: filled, charts painted, no serious axe violation, a screenshot.
  report.axe = {};
  for (const p of PAGES) {
    await view(page, base, p === 'live' || p === 'quality' || p === 'trending' ? `#/${p}` : `#/${p}?from=${from}&to=${to}`);
    if (p === 'live') await page.waitForTimeout(1500);
    const filled = await page.evaluate(() => document.querySelectorAll('#main tbody tr:not(:has(td.empty)), #main .feed li:not(.muted)').length);
    if (!filled) problems.push(`${p} view shows no rows`);
    for (const c of await charts(page)) {
      if (!c.exists || c.painted < 100 || c.axes < 2 || !c.legend) problems.push(`${p} chart ${c.id}: ${JSON.stringify(c)}`);
    }
    report.axe[p] = (await axe(page, p, problems)).serious;
    await page.screenshot({ path: `${shots}/${p}.png`, fullPage: true });
  }
  await page.click('#theme-toggle');
  await view(page, base, `#/overview?from=${from}&to=${to}`);
  report.axe['overview-dark'] = (await axe(page, 'dark overview', problems)).serious;
  await page.screenshot({ path: `${shots}/overview-dark.png`, fullPage: true });
  const phone = await openPage(browser, problems, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await view(phone, base, `#/risk?from=${from}&to=${to}`);
  await phone.screenshot({ path: `${shots}/risk-phone.png`, fullPage: true });
  await phone.context().close();
  console.log(JSON.stringify(report));
} catch (err) {
  problems.push(`exception: ${err.stack || err.message}`);
} finally {
  await browser.close();
}
if (problems.length) {
  console.error([...new Set(problems)].join('\n'));
  process.exit(1);
}
console.log('dashboard over a real run ok');

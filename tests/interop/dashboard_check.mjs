// The dashboard over the serve test's fixture warehouse and a live
// aggregator it keeps feeding (tests/serve/dashboard_test.cc).
// Usage: node dashboard_check.mjs URL
// Exit 0 when every view draws without console errors or failed requests,
// fills from the fixture, keeps its state in the URL, shows server text as
// text, follows keyboard input, fits a phone, and has no serious or
// critical axe-core violation in either theme. Otherwise prints why, exit 1.
import {
  PAGES, axe, charts, fitsWidth, launch, openPage, renders, tableRows, tabStops, view, waitDrawn,
} from './dashboard_lib.mjs';

const base = (process.argv[2] || '').replace(/\/$/, '');
if (!base) {
  console.error('usage: dashboard_check.mjs URL');
  process.exit(2);
}
const problems = [];
const report = {};
const browser = await launch();
try {
  const page = await openPage(browser, problems);

  // Every view draws and fills from the fixture (newest date 2024-08-22).
  await view(page, base, '#/overview?from=2024-08-21&to=2024-08-22');
  const days = await tableRows(page, 'overview-table');
  if (days.length !== 2 || days[1][1] !== '2,000') problems.push(`overview days: ${JSON.stringify(days)}`);
  const overviewCharts = await charts(page);
  for (const c of overviewCharts) {
    if (!c.exists || c.painted < 100 || c.axes < 2 || !c.legend) problems.push(`overview chart ${c.id}: ${JSON.stringify(c)}`);
  }
  report.overviewCharts = overviewCharts.length;

  await view(page, base, '#/risk?from=2024-08-22&to=2024-08-22');
  const risk = await tableRows(page, 'risk-table');
  if (risk.length !== 3 || !risk[0][1].includes('Vandal') || !risk[0].join(' ').includes('velocity')) problems.push(`risk table: ${JSON.stringify(risk)}`);
  // State in the URL: a level filter chosen with the keyboard.
  await page.focus('#f-level');
  let before = await renders(page);
  await page.selectOption('#f-level', 'HIGH');
  await waitDrawn(page, before);
  if (!page.url().includes('level=HIGH')) problems.push(`level not in the URL: ${page.url()}`);
  if ((await tableRows(page, 'risk-table')).length !== 1) problems.push('level filter did not filter');
  if (!(await page.evaluate(() => document.activeElement && document.activeElement.id === 'f-level'))) problems.push('focus lost after a filter change');
  // A shared link shows the same view.
  const shared = page.url();
  const second = await openPage(browser, problems);
  await second.goto(shared);
  await waitDrawn(second, -1);
  if ((await tableRows(second, 'risk-table')).length !== 1) problems.push('a shared link did not restore the view');
  await second.context().close();

  // The user page holds gold's evidence.
  before = await renders(page);
  await page.click('#risk-table a.user-link');
  await waitDrawn(page, before);
  const scores = await tableRows(page, 'user-scores');
  if (!scores.length || !scores[scores.length - 1].join(' ').includes('HIGH')) problems.push(`user scores: ${JSON.stringify(scores)}`);
  const userWikis = await tableRows(page, 'user-wikis-table');
  if (userWikis.length !== 2) problems.push(`user wikis: ${JSON.stringify(userWikis)}`);

  await view(page, base, '#/trending?date=2024-08-22');
  const trending = await tableRows(page, 'trending-table');
  if (trending.length !== 4 || trending[0][0] !== '1') problems.push(`trending: ${JSON.stringify(trending)}`);
  before = await renders(page);
  await page.click('#trending-table a.page-link');
  await waitDrawn(page, before);
  if ((await tableRows(page, 'page-trending')).length !== 1) problems.push('page view lacks its trending hour');

  await view(page, base, '#/contributors?from=2024-08-22&to=2024-08-22&user_type=bot');
  const bots = await tableRows(page, 'contributors-table');
  if (bots.length !== 1 || !bots[0].join(' ').includes('BotX')) problems.push(`bot filter: ${JSON.stringify(bots)}`);
  await view(page, base, '#/wikis?from=2024-08-21&to=2024-08-22&region=europe');
  const wikis = await tableRows(page, 'wikis-table');
  if (wikis.length !== 1 || wikis[0][0] !== 'de.wikipedia.org') problems.push(`wikis: ${JSON.stringify(wikis)}`);
  await view(page, base, '#/quality');
  const gates = await page.textContent('#dq-gates');
  if (!gates.includes('gold gate FAILED')) problems.push(`gates: ${gates}`);
  if ((await tableRows(page, 'cycles-table')).length !== 1) problems.push('cycle history is empty');

  // Live: the numbers rise, a HIGH alert arrives, markup stays text.
  await view(page, base, '#/live');
  await page.waitForFunction(() => Number((document.getElementById('live-minute-total')?.textContent || '').replace(/,/g, '')) > 0,
    null, { timeout: 15000 }).catch(() => problems.push('live tiles stayed at zero'));
  await page.waitForFunction(() => (document.getElementById('live-alerts')?.textContent || '').includes('HIGH'), null, { timeout: 15000 })
    .catch(() => problems.push('no HIGH alert on the live view'));
  const injected = await page.evaluate(() => document.querySelectorAll('#main img').length);
  const shownAsText = await page.evaluate(() => document.getElementById('live-trending').textContent.includes('<img'));
  if (injected !== 0 || !shownAsText) problems.push(`server text handling: ${injected} img, shown as text ${shownAsText}`);
  const liveChart = (await charts(page)).find((c) => c.id === 'live-chart');
  if (!liveChart || liveChart.points < 1) problems.push(`live chart: ${JSON.stringify(liveChart)}`);

  // Keyboard: the skip link, every nav link and the theme toggle are tab
  // stops that show focus; Enter on a nav link opens its view.
  await view(page, base, '#/overview?from=2024-08-21&to=2024-08-22');
  const stops = await tabStops(page, 16);
  if (!stops.length || stops[0].text !== 'Skip to content') problems.push(`first tab stop: ${JSON.stringify(stops[0])}`);
  const navStops = stops.filter((s) => s.tag === 'A').map((s) => s.text);
  for (const name of ['Overview', 'Wikis', 'Risk', 'Trending', 'Contributors', 'Live']) {
    if (!navStops.includes(name)) problems.push(`nav link ${name} is not a tab stop`);
  }
  if (stops.some((s) => !s.outline)) problems.push(`a tab stop shows no focus outline: ${JSON.stringify(stops.find((s) => !s.outline))}`);
  await page.focus('nav a[data-page="wikis"]');
  before = await renders(page);
  await page.keyboard.press('Enter');
  await waitDrawn(page, before);
  if (!page.url().includes('#/wikis')) problems.push('Enter on the Wikis link did not open it');
  report.tabStops = stops.length;

  // Accessibility in both themes, and a phone's width.
  report.axe = {};
  for (const theme of ['light', 'dark']) {
    if (theme === 'dark') await page.click('#theme-toggle');
    for (const p of PAGES) {
      await view(page, base, `#/${p}`);
      report.axe[`${theme}/${p}`] = (await axe(page, `${theme} ${p}`, problems)).serious;
    }
  }
  const phone = await openPage(browser, problems, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  for (const p of PAGES) {
    await view(phone, base, `#/${p}`);
    if (!(await fitsWidth(phone))) problems.push(`${p} is wider than a phone`);
  }
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
console.log('dashboard ok');

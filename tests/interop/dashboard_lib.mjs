// Shared by the dashboard checks: headless Chromium (playwright-core and
// Debian's /usr/bin/chromium), error tracking, axe-core, keyboard and
// layout checks. Each check pushes a line to `problems` when it fails.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const PAGES = ['overview', 'wikis', 'risk', 'trending', 'contributors', 'quality', 'live'];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

// A page that records console errors, page errors, failed requests and
// HTTP errors into `problems`.
export async function openPage(browser, problems, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, ...options });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Streams end when a view or the page closes; downloads are not page loads.
    const failure = r.failure()?.errorText || '';
    if (!r.url().endsWith('/api/live') && !/ERR_ABORTED/.test(failure)) problems.push(`request failed: ${r.url()} ${failure}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`); });
  return page;
}

// Goes to a view and waits until it has drawn.
export async function view(page, base, hash) {
  const before = await page.evaluate(() => (window.wikistream ? window.wikistream.renders : -1)).catch(() => -1);
  if (before < 0) {
    await page.goto(`${base}/${hash}`, { waitUntil: 'load', timeout: 20000 });
  } else {
    await page.evaluate((h) => { location.hash = h; }, hash);
  }
  await waitDrawn(page, before);
}

export async function waitDrawn(page, before) {
  await page.waitForFunction((b) => window.wikistream && window.wikistream.loaded && window.wikistream.renders > b,
    before, { timeout: 20000 });
}

export async function renders(page) {
  return page.evaluate(() => window.wikistream.renders);
}

// Serious and critical WCAG 2 A/AA violations of the current document.
export async function axe(page, label, problems) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) {
    problems.push(`axe ${label}: ${v.id} (${v.impact}) on ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  }
  return { violations: result.violations.length, serious: bad.length, passes: result.passes.length };
}

// Rows of a table (cell texts), without the "no rows" line.
export async function tableRows(page, id) {
  return page.evaluate((tid) => [...document.querySelectorAll(`#${tid} tbody tr`)]
    .filter((tr) => !tr.querySelector('td.empty'))
    .map((tr) => [...tr.cells].map((td) => td.textContent.trim())), id);
}

// Canvases of Chart.js charts with data that paint pixels.
export async function charts(page) {
  return page.evaluate(() => [...document.querySelectorAll('canvas')].map((canvas) => {
    const chart = window.Chart && window.Chart.getChart(canvas);
    if (!chart) return { id: canvas.id, exists: false };
    const img = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < img.length; i += 4) if (img[i] !== 0) painted += 1;
    const points = chart.data.datasets.reduce((n, d) => n + d.data.filter((v) => Number(v) > 0).length, 0);
    const axes = Object.values(chart.options.scales || {}).filter((s) => s.title && s.title.display && s.title.text).length;
    return { id: canvas.id, exists: true, points, painted, axes, legend: chart.options.plugins.legend.display, labels: chart.data.labels.length };
  }));
}

// Every page fits a phone's width (no sideways scrolling of the page).
export async function fitsWidth(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}

// Tabs from the top of the document: every control is reachable and shows focus.
export async function tabStops(page, count = 40) {
  // A fresh load: the sequential focus starts at the top of the document.
  await page.reload({ waitUntil: 'load' });
  await waitDrawn(page, -1);
  const seen = [];
  for (let i = 0; i < count; i += 1) {
    await page.keyboard.press('Tab');
    seen.push(await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      const style = getComputedStyle(e);
      return { tag: e.tagName, id: e.id, text: (e.textContent || '').trim().slice(0, 30), outline: style.outlineStyle !== 'none' && style.outlineWidth !== '0px' };
    }));
  }
  // A date input is several stops (its fields, its picker): keep the first.
  const unique = new Map();
  for (const s of seen.filter(Boolean)) {
    const key = `${s.tag}#${s.id}#${s.text}`;
    if (!unique.has(key)) unique.set(key, s);
  }
  return [...unique.values()];
}

// CSV text -> rows of fields (RFC 4180).
export function parseCsv(text) {
  const rows = [[]];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 1; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { rows[rows.length - 1].push(field); field = ''; } else if (c === '\r' && text[i + 1] === '\n') {
      rows[rows.length - 1].push(field); field = ''; rows.push([]); i += 1;
    } else field += c;
  }
  if (!rows[rows.length - 1].length) rows.pop();
  return rows;
}

// JSON text with object keys sorted (the order of keys carries no meaning).
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

// The CSV rows equal the JSON rows, column by column.
export function csvEqualsJson(csv, rows) {
  const [header, ...body] = parseCsv(csv);
  if (body.length !== rows.length) return `CSV has ${body.length} rows, JSON ${rows.length}`;
  for (let i = 0; i < rows.length; i += 1) {
    for (let c = 0; c < header.length; c += 1) {
      const v = rows[i][header[c]];
      const cell = body[i][c];
      if (v === undefined) return `JSON row ${i} lacks column ${header[c]}`;
      const same = v === null ? cell === '' : typeof v === 'object' ? canonical(JSON.parse(cell)) === canonical(v)
        : typeof v === 'number' ? Number(cell) === v : String(v) === cell;
      if (!same) return `row ${i} column ${header[c]}: CSV ${cell} vs JSON ${JSON.stringify(v)}`;
    }
  }
  return null;
}

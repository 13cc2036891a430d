// Trending pages of one hour (gold's rank and trend score); each page opens
// its edits over time.
import { chart, series, SERIES } from '../charts.js';
import {
  apiUrl, csvLink, el, field, filters, fmtInt, fmtNum, getJson, knownDates, addDays, pageHref, pager, panel,
  regionOptions, table,
} from '../util.js';

export async function render(root, params, nav) {
  const dates = await knownDates();
  const date = params.date || dates[dates.length - 1] || '';
  const q = { date, hour: params.hour, domain: params.domain, region: params.region, limit: params.limit || 25, offset: params.offset };
  const t = await getJson(apiUrl('/api/trending', q));
  if (!params.date && date) nav.replace({ date });
  const hours = [['', 'Newest hour'], ...Array.from({ length: 24 }, (_, h) => [String(h), `${String(h).padStart(2, '0')}:00 UTC`])];

  root.append(
    el('h1', null, 'Trending', el('small', null, t.hour === null ? `${date}: no trending pages` : `${date}, ${String(t.hour).padStart(2, '0')}:00 UTC`)),
    filters('Trending filters',
      field('f-date', 'Date (UTC)', 'date', date, [], (v) => nav.update({ date: v })),
      field('f-hour', 'Hour', 'select', params.hour || '', hours, (v) => nav.update({ hour: v })),
      field('f-region', 'Region', 'select', params.region || '', regionOptions(), (v) => nav.update({ region: v })),
      field('f-domain', 'Wiki', 'text', params.domain || '', [], (v) => nav.update({ domain: v.trim() }))),
  );
  const span = { from: addDays(date, -1), to: date };
  const columns = [
    { key: 'rank', label: 'Rank', num: true },
    { key: 'domain', label: 'Wiki' },
    { key: 'title', label: 'Page', render: (r) => el('a', { class: 'page-link', href: pageHref('page', { domain: r.domain, title: r.title, ...span }) }, r.title) },
    { key: 'edits', label: 'Edits', num: true },
    { key: 'unique_editors', label: 'Editors', num: true },
    { key: 'bytes_changed', label: 'Bytes changed', num: true, render: (r) => fmtInt(r.bytes_changed) },
    { key: 'prev_24h_edits', label: 'Edits, previous 24 h', num: true },
    { key: 'trend_score', label: 'Trend score', num: true, render: (r) => fmtNum(r.trend_score, 4) },
  ];
  const top = t.rows.slice(0, 12);
  root.append(panel('Trend scores', null, chart('trending-chart', 'Trend score of the pages listed (edits over the previous 24 h average)', {
    type: 'bar', labels: top.map((r) => `${r.title} (${r.domain.split('.')[0]})`), x: 'Page (wiki)', y: 'Trend score',
    datasets: [series('Trend score', top.map((r) => r.trend_score), SERIES[0]), series('Edits this hour', top.map((r) => r.edits), SERIES[1])],
  })));
  root.append(panel('Pages', csvLink('trending-csv', '/api/trending', q),
    table('trending-table', 'Gold\'s rank within each wiki; wikis merged by trend score', columns, t.rows),
    pager('trending-pager', t, (offset) => nav.update({ offset }))));
}

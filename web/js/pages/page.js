// One page: the hours it trended (gold) and its edits over time (silver).
import { chart, series, COLORS, SERIES } from '../charts.js';
import { apiUrl, defaultSpan, el, filters, fmtInt, fmtNum, fmtTime, getJson, knownDates, pageHref, panel, spanFields, table, tile } from '../util.js';

export async function render(root, params, nav) {
  if (!params.domain || !params.title) {
    root.append(el('h1', null, 'Page'), el('p', null, 'No page chosen: pick one on the ', el('a', { href: '#/trending' }, 'Trending'), ' page.'));
    return;
  }
  const span = await defaultSpan(params, 2);
  if (!params.from || !params.to) nav.replace(span);
  const dates = await knownDates();
  const p = await getJson(apiUrl('/api/trending/page', { domain: params.domain, title: params.title, from: span.from, to: span.to, limit: 50 }));
  const best = p.trending.reduce((m, r) => (r.trend_score > (m?.trend_score ?? -1) ? r : m), null);

  root.append(
    el('h1', null, p.title, el('small', null, `${p.domain}, ${p.from} to ${p.to}`)),
    el('p', null, el('a', { href: pageHref('trending', { domain: p.domain }) }, `← Trending on ${p.domain}`)),
    filters('Page span', ...spanFields(span, nav.update, dates[dates.length - 1])),
    el('div', { class: 'tiles' },
      tile('Events', fmtInt(p.events_total), p.truncated ? 'first 100,000 read' : 'in silver, this span', 'page-events'),
      tile('Editors', fmtInt(p.editors_total), null, 'page-editors'),
      tile('Hours trending', String(p.trending.length), null, 'page-trending-hours'),
      tile('Best trend score', best ? fmtNum(best.trend_score, 4) : '–', best ? `rank ${best.rank}, ${best.stat_date} ${String(best.stat_hour).padStart(2, '0')}:00` : null, 'page-best')),
  );
  const labels = p.hours.map((h) => `${h.date} ${String(h.hour).padStart(2, '0')}:00`);
  root.append(panel('Edits over time', null, chart('page-hours', 'Events, edits and editors per UTC hour', {
    type: 'bar', labels, x: 'Hour (UTC)', y: 'Per hour (count)',
    datasets: [series('Edits (edit/new)', p.hours.map((h) => h.edits), COLORS.human), series('Other events', p.hours.map((h) => h.events - h.edits), SERIES[6]),
      series('Editors', p.hours.map((h) => h.editors), SERIES[1], { type: 'line' })],
  })));
  root.append(panel('Hours in trending', null, table('page-trending', 'gold.trending_pages rows of this page', [
    { key: 'stat_date', label: 'Date' },
    { key: 'stat_hour', label: 'Hour', num: true },
    { key: 'rank', label: 'Rank', num: true },
    { key: 'edits', label: 'Edits', num: true },
    { key: 'unique_editors', label: 'Editors', num: true },
    { key: 'prev_24h_edits', label: 'Previous 24 h', num: true },
    { key: 'trend_score', label: 'Trend score', num: true, render: (r) => fmtNum(r.trend_score, 4) },
  ], p.trending, 'The page did not trend in this span.')));
  root.append(panel('Newest events', null, table('page-edits', 'Events on this page (silver), newest first', [
    { key: 'event_timestamp', label: 'Time', render: (e) => fmtTime(e.event_timestamp) },
    { key: 'user_normalized', label: 'User', render: (e) => (e.user_normalized ? el('a', { href: pageHref('user', { user: e.user_normalized, from: span.from, to: span.to }) }, e.user_normalized) : '–') },
    { key: 'user_type', label: 'User type' },
    { key: 'event_type', label: 'Type' },
    { key: 'length_delta', label: 'Δ bytes', num: true, render: (e) => fmtInt(e.length_delta) },
  ], p.edits)));
}

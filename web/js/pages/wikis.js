// Wikis compared over a span, filtered by region, sorted by any measure;
// each wiki links to its risky users, contributors and trending pages.
import { chart, series, SERIES } from '../charts.js';
import {
  apiUrl, csvLink, defaultSpan, el, field, filters, fmtInt, fmtNum, getJson, knownDates, pageHref, pager, panel,
  REGION_NAMES, regionOptions, spanFields, table,
} from '../util.js';

const SORTS = [
  ['total_events', 'Events'], ['anonymous_edits', 'Anonymous edits'], ['anonymous_percentage', 'Anonymous %'],
  ['bot_edits', 'Bot edits'], ['bot_percentage', 'Bot %'], ['human_edits', 'Human edits'], ['bytes_added', 'Bytes added'],
  ['bytes_removed', 'Bytes removed'], ['large_deletions', 'Large deletions'], ['peak_hour_events', 'Busiest hour'],
];

export async function render(root, params, nav) {
  const span = await defaultSpan(params);
  const sort = params.sort || 'total_events';
  if (!params.from || !params.to || !params.sort) nav.replace({ ...span, sort });
  const dates = await knownDates();
  const q = { from: span.from, to: span.to, region: params.region, sort, limit: params.limit || 25, offset: params.offset };
  const w = await getJson(apiUrl('/api/wikis', q));
  const sortLabel = SORTS.find(([k]) => k === sort)?.[1] || sort;
  const where = params.region ? REGION_NAMES[params.region] : 'all regions';

  root.append(
    el('h1', null, 'Wikis', el('small', null, `${where}, ${span.from} to ${span.to}`)),
    filters('Wiki filters',
      ...spanFields(span, nav.update, dates[dates.length - 1]),
      field('f-region', 'Region', 'select', params.region || '', regionOptions(), (v) => nav.update({ region: v })),
      field('f-sort', 'Sort by', 'select', sort, SORTS, (v) => nav.update({ sort: v }))),
  );
  const scope = { from: span.from, to: span.to, region: params.region };
  root.append(el('p', null,
    el('a', { id: 'wikis-risky', href: pageHref('risk', { ...scope, level: 'HIGH' }) }, `Riskiest users in ${where} over these days`),
    ' · ',
    el('a', { href: pageHref('contributors', scope) }, `Top contributors in ${where}`)));

  const top = w.rows.slice(0, 8);
  const labels = [...new Set(w.series.map((s) => s.date))].sort();
  const grid = el('div', { class: 'grid' });
  grid.append(panel(`By ${sortLabel.toLowerCase()}`, null, chart('wikis-bar', `${sortLabel} per wiki over the span`, {
    type: 'bar', labels: w.rows.map((r) => r.domain), x: 'Wiki', y: sort.endsWith('percentage') ? `${sortLabel} (%)` : `${sortLabel} (count)`,
    datasets: [series(sortLabel, w.rows.map((r) => r[sort]), SERIES[0])],
  })));
  grid.append(panel('Events per day', null, chart('wikis-daily', 'Events per day of the first eight wikis listed', {
    type: 'line', labels, x: 'Date (UTC)', y: 'Events per day',
    datasets: top.map((r, i) => series(r.domain, labels.map((d) => w.series.find((s) => s.domain === r.domain && s.date === d)?.total_events || 0), SERIES[i % SERIES.length])),
  })));
  root.append(grid);

  const columns = [
    { key: 'domain', label: 'Wiki', render: (r) => el('a', { href: pageHref('risk', { ...scope, domain: r.domain, region: '' }) }, r.domain) },
    { key: 'region', label: 'Region', render: (r) => REGION_NAMES[r.region] || r.region },
    { key: 'total_events', label: 'Events', num: true, render: (r) => fmtInt(r.total_events) },
    { key: 'anonymous_edits', label: 'Anonymous', num: true, render: (r) => fmtInt(r.anonymous_edits) },
    { key: 'anonymous_percentage', label: 'Anon. %', num: true, render: (r) => fmtNum(r.anonymous_percentage) },
    { key: 'bot_edits', label: 'Bot', num: true, render: (r) => fmtInt(r.bot_edits) },
    { key: 'bot_percentage', label: 'Bot %', num: true, render: (r) => fmtNum(r.bot_percentage) },
    { key: 'bytes_added', label: 'Bytes +', num: true, render: (r) => fmtInt(r.bytes_added) },
    { key: 'bytes_removed', label: 'Bytes −', num: true, render: (r) => fmtInt(r.bytes_removed) },
    { key: 'large_deletions', label: 'Large del.', num: true },
    { key: 'links', label: 'Drill down', render: (r) => el('span', null,
      el('a', { href: pageHref('contributors', { ...scope, domain: r.domain, region: '' }), 'aria-label': `Contributors of ${r.domain}` }, 'contributors'), ' · ',
      el('a', { href: pageHref('trending', { ...scope, domain: r.domain, region: '' }), 'aria-label': `Trending pages of ${r.domain}` }, 'trending')) },
  ];
  root.append(panel('Wikis', csvLink('wikis-csv', '/api/wikis', q),
    table('wikis-table', `Wikis sorted by ${sortLabel.toLowerCase()} (the wiki links to its scored users)`, columns, w.rows),
    pager('wikis-pager', w, (offset) => nav.update({ offset }))));
}

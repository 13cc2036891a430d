// Top contributors by wiki and user type, with a bot/human filter.
import { chart, series, COLORS } from '../charts.js';
import {
  apiUrl, csvLink, defaultSpan, el, field, filters, fmtInt, getJson, knownDates, pageHref, pager, panel, regionOptions,
  spanFields, table,
} from '../util.js';

const TYPES = [['', 'Everyone'], ['human', 'Humans'], ['bot', 'Bots'], ['registered', 'Registered'], ['anonymous', 'Anonymous (IP or temporary)']];

export async function render(root, params, nav) {
  const span = await defaultSpan(params, 1);
  if (!params.from || !params.to) nav.replace(span);
  const dates = await knownDates();
  const q = { from: span.from, to: span.to, domain: params.domain, region: params.region, user_type: params.user_type, limit: params.limit || 50, offset: params.offset };
  const c = await getJson(apiUrl('/api/contributors', q));

  root.append(
    el('h1', null, 'Contributors', el('small', null, `${params.domain || 'all wikis'}, ${span.from} to ${span.to}`)),
    filters('Contributor filters',
      ...spanFields(span, nav.update, dates[dates.length - 1]),
      field('f-user-type', 'Who', 'select', params.user_type || '', TYPES, (v) => nav.update({ user_type: v })),
      field('f-region', 'Region', 'select', params.region || '', regionOptions(), (v) => nav.update({ region: v })),
      field('f-domain', 'Wiki', 'text', params.domain || '', [], (v) => nav.update({ domain: v.trim() }))),
  );
  const types = Object.keys(c.by_type).sort();
  root.append(panel('Edits by user type', null, chart('contrib-types', 'Edits of the listed contributors by user type (all pages of the result)', {
    type: 'bar', labels: types, x: 'User type', y: 'Edits (count)',
    datasets: [series('Edits', types.map((t) => c.by_type[t].edits), types.map((t) => COLORS[t] || COLORS.human)),
      series('Contributors (user-days)', types.map((t) => c.by_type[t].rows), '#7f7f7f')],
  })));
  const columns = [
    { key: 'stat_date', label: 'Date' },
    { key: 'domain', label: 'Wiki' },
    { key: 'rank', label: 'Rank', num: true },
    { key: 'user_normalized', label: 'User', render: (r) => (r.is_bot ? r.user_normalized : el('a', { href: pageHref('user', { user: r.user_normalized, from: span.from, to: span.to }) }, r.user_normalized)) },
    { key: 'user_type', label: 'Type' },
    { key: 'edits', label: 'Edits', num: true, render: (r) => fmtInt(r.edits) },
    { key: 'pages_edited', label: 'Pages', num: true, render: (r) => fmtInt(r.pages_edited) },
    { key: 'bytes_added', label: 'Bytes +', num: true, render: (r) => fmtInt(r.bytes_added) },
    { key: 'bytes_removed', label: 'Bytes −', num: true, render: (r) => fmtInt(r.bytes_removed) },
  ];
  root.append(panel('Contributors', csvLink('contrib-csv', '/api/contributors', q),
    table('contributors-table', 'gold.top_contributors: the top 50 per wiki and day, in gold\'s rank', columns, c.rows),
    pager('contrib-pager', c, (offset) => nav.update({ offset }))));
}

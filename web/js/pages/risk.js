// Scored users with their evidence, filtered by level, user type and the
// wikis they edited; each user opens their evidence page.
import { chart, series, COLORS } from '../charts.js';
import {
  apiUrl, csvLink, defaultSpan, el, evidenceText, field, filters, fmtInt, getJson, knownDates, levelBadge, pageHref,
  pager, panel, REGION_NAMES, regionOptions, spanFields, table, tile,
} from '../util.js';

const USER_TYPES = [['', 'All users'], ['registered', 'Registered'], ['anonymous', 'Anonymous (IP or temporary)'],
  ['ip', 'IP address'], ['temporary', 'Temporary account']];

export async function render(root, params, nav) {
  const span = await defaultSpan(params);
  if (!params.from || !params.to) nav.replace(span);
  const dates = await knownDates();
  const q = {
    from: span.from, to: span.to, level: params.level, user_type: params.user_type, region: params.region,
    domain: params.domain, limit: params.limit || 50, offset: params.offset,
  };
  const r = await getJson(apiUrl('/api/risk', q));
  const scoped = params.domain || params.region;
  const where = params.domain || (params.region ? REGION_NAMES[params.region] : null);

  root.append(
    el('h1', null, 'Risk', el('small', null, `${where ? `users who edited ${where}, ` : ''}${span.from} to ${span.to}`)),
    filters('Risk filters',
      ...spanFields(span, nav.update, dates[dates.length - 1]),
      field('f-level', 'Level', 'select', params.level || '', [['', 'All levels'], ['HIGH', 'HIGH'], ['MEDIUM', 'MEDIUM'], ['LOW', 'LOW']],
        (v) => nav.update({ level: v })),
      field('f-user-type', 'User type', 'select', params.user_type || '', USER_TYPES, (v) => nav.update({ user_type: v })),
      field('f-region', 'Edited in region', 'select', params.region || '', regionOptions('Any wiki'), (v) => nav.update({ region: v })),
      field('f-domain', 'Edited in wiki', 'text', params.domain || '', [], (v) => nav.update({ domain: v.trim() }))),
    el('div', { class: 'tiles' },
      tile('HIGH', fmtInt(r.counts.HIGH), 'user-days', 'risk-high'),
      tile('MEDIUM', fmtInt(r.counts.MEDIUM), 'user-days', 'risk-medium'),
      tile('LOW', fmtInt(r.counts.LOW), 'user-days', 'risk-low')),
  );
  const byDay = {};
  for (const d of r.dates || []) byDay[d] = { HIGH: 0, MEDIUM: 0 };
  for (const row of r.rows) if (byDay[row.stat_date] && row.risk_level !== 'LOW') byDay[row.stat_date][row.risk_level] += 1;

  const columns = [
    { key: 'stat_date', label: 'Date' },
    { key: 'entity_id', label: 'User', render: (x) => el('a', { class: 'user-link', href: pageHref('user', { user: x.entity_id, from: span.from, to: span.to }) }, x.entity_id) },
    { key: 'user_type', label: 'Type' },
    { key: 'risk_score', label: 'Score', num: true },
    { key: 'risk_level', label: 'Level', render: (x) => levelBadge(x.risk_level) },
    { key: 'total_edits', label: 'Edits', num: true, render: (x) => fmtInt(x.total_edits) },
    { key: 'peak_hour_edits', label: 'Peak/h', num: true },
    { key: 'large_deletions', label: 'Large del.', num: true },
    { key: 'domains_edited', label: 'Wikis', num: true },
    ...(scoped ? [{ key: 'edits_in_scope', label: `Edits in ${where}`, num: true }] : []),
    { key: 'evidence', label: 'Evidence', render: (x) => evidenceText(x.evidence) },
  ];
  root.append(panel('Scored users', csvLink('risk-csv', '/api/risk', q),
    table('risk-table', 'Users scored by gold, riskiest first within each day (a user opens their evidence)', columns, r.rows),
    pager('risk-pager', r, (offset) => nav.update({ offset }))));
  const labels = Object.keys(byDay);
  root.append(panel('HIGH and MEDIUM users listed, per day', null, chart('risk-daily', 'Users on this page by level and day', {
    type: 'bar', stacked: true, labels, x: 'Date (UTC)', y: 'Users (count)',
    datasets: [series('HIGH', labels.map((d) => byDay[d].HIGH), COLORS.HIGH), series('MEDIUM', labels.map((d) => byDay[d].MEDIUM), COLORS.MEDIUM)],
  })));
}

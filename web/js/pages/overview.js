// Overview of a span of days: traffic per day and hour, the user split,
// region shares, platform health with its parts, DLQ and data quality.
import { chart, series, COLORS } from '../charts.js';
import {
  apiUrl, csvLink, defaultSpan, el, filters, fmtInt, fmtNum, getJson, knownDates, panel, REGIONS, REGION_NAMES,
  spanFields, statusBadge, table, tile,
} from '../util.js';

export async function render(root, params, nav) {
  const span = await defaultSpan(params);
  if (!params.from || !params.to) nav.replace(span);
  const dates = await knownDates();
  const q = { from: span.from, to: span.to };
  const [o, dq, dlq] = await Promise.all([
    getJson(apiUrl('/api/overview', q)),
    getJson('/api/dq?limit=1'),
    getJson('/api/dlq?limit=1'),
  ]);
  const days = o.days;
  const withData = days.filter((d) => d.total_events > 0);
  const sum = (k) => days.reduce((n, d) => n + (Number(d[k]) || 0), 0);
  const health = withData.length ? withData.reduce((n, d) => n + (d.platform_health_score || 0), 0) / withData.length : null;

  root.append(
    el('h1', null, 'Overview', el('small', null, `${o.from} to ${o.to} (UTC)`)),
    filters('Overview span', ...spanFields(span, nav.update, dates[dates.length - 1])),
    el('div', { class: 'tiles' },
      tile('Events', fmtInt(sum('total_events')), `${withData.length} of ${days.length} days with data`, 'ov-events'),
      tile('Bot / human / anonymous', `${fmtInt(sum('bot_events'))} / ${fmtInt(sum('human_events') - sum('anonymous_events'))} / ${fmtInt(sum('anonymous_events'))}`, 'human excludes anonymous here', 'ov-split'),
      tile('Mean health score', health === null ? '–' : fmtNum(health, 1), 'of 100, days with data', 'ov-health'),
      tile('HIGH-risk users', fmtInt(sum('high_risk_user_count')), 'summed over the days', 'ov-high'),
      tile('Data quality', dq.gates.length ? dq.gates.map((g) => `${g.layer} ${g.passed ? 'passed' : 'FAILED'}`).join(', ') : '–',
        'latest gate of each layer', 'ov-dq'),
      tile('DLQ (newest day)', fmtInt(dlq.total), dlq.date ? `received ${dlq.date}` : 'nothing rejected', 'ov-dlq')),
  );

  const labels = days.map((d) => d.date);
  const grid = el('div', { class: 'grid' });
  grid.append(panel('Events per day', null, chart('ov-daily', 'Events per day by user kind (stacked)', {
    type: 'bar', stacked: true, labels, x: 'Date (UTC)', y: 'Events per day',
    datasets: [
      series('Bot', days.map((d) => d.bot_events), COLORS.bot),
      series('Human (not anonymous)', days.map((d) => d.human_events - d.anonymous_events), COLORS.human),
      series('Anonymous', days.map((d) => d.anonymous_events), COLORS.anonymous),
    ],
  })));
  grid.append(panel('Events per hour', null, chart('ov-hourly', 'Events per UTC hour over the span', {
    type: 'line', labels: o.hours.map((h) => `${h.date} ${String(h.hour).padStart(2, '0')}:00`), x: 'Hour (UTC)', y: 'Events per hour',
    datasets: [
      series('All events', o.hours.map((h) => h.total_events), COLORS.human),
      series('Bot', o.hours.map((h) => h.bot_events), COLORS.bot),
      series('Anonymous', o.hours.map((h) => h.anonymous_events), COLORS.anonymous),
    ],
  })));
  grid.append(panel('Region shares', null, chart('ov-regions', 'Share of each day\'s events by region (%)', {
    type: 'bar', stacked: true, percent: true, labels, x: 'Date (UTC)', y: 'Share of events (%)',
    datasets: REGIONS.map((r) => series(REGION_NAMES[r], days.map((d) => d[`${r}_percentage`]), COLORS[r])),
  })));
  grid.append(panel('Platform health', null, chart('ov-health-chart', 'Health score per day and its four parts (points)', {
    type: 'bar', stacked: true, labels, x: 'Date (UTC)', y: 'Points (of 100)',
    datasets: [
      series('Low-risk users (≤ 40)', days.map((d) => d.health_low_risk_points), COLORS.LOW),
      series('Registered events (≤ 30)', days.map((d) => d.health_registered_points), COLORS.human),
      series('Content growth (≤ 20)', days.map((d) => d.health_content_points), COLORS.anonymous),
      series('Few large deletions (≤ 10)', days.map((d) => d.health_deletion_points), COLORS.bot),
      series('Health score', days.map((d) => d.platform_health_score), '#7f7f7f', { type: 'line', stack: 'score', borderDash: [6, 3] }),
    ],
  })));
  root.append(grid);

  const columns = [
    { key: 'date', label: 'Date' },
    { key: 'total_events', label: 'Events', num: true, render: (d) => fmtInt(d.total_events) },
    { key: 'bot_percentage', label: 'Bot %', num: true, render: (d) => fmtNum(d.bot_percentage) },
    { key: 'anonymous_percentage', label: 'Anonymous %', num: true, render: (d) => fmtNum(d.anonymous_percentage) },
    { key: 'unique_users', label: 'Users', num: true, render: (d) => fmtInt(d.unique_users) },
    { key: 'platform_health_score', label: 'Health', num: true, render: (d) => fmtNum(d.platform_health_score) },
    { key: 'high_risk_user_count', label: 'HIGH users', num: true },
    { key: 'dlq_events', label: 'DLQ', num: true, render: (d) => fmtInt(d.dlq_events) },
    { key: 'dq', label: 'DQ runs / failed gates', render: (d) => (d.dq_runs ? `${d.dq_runs} / ${d.dq_gate_failures}` : '–') },
  ];
  root.append(panel('Days', csvLink('ov-csv', '/api/overview', q),
    table('overview-table', 'One row per day of the span (DLQ by received date, DQ by run date)', columns, days)));
  const gates = dq.gates.map((g) => el('li', null, statusBadge(g.passed ? 'PASSED' : 'FAILED'),
    ` ${g.layer} gate, run ${g.run_timestamp}: ${g.checks} checks, ${g.failed} failed, ${g.warnings} warnings`));
  root.append(panel('Data quality and DLQ now', el('a', { href: '#/quality' }, 'Details'),
    el('ul', { class: 'feed', id: 'ov-gates' }, gates.length ? gates : el('li', { class: 'muted' }, 'No gate has run yet.')),
    el('p', null, `DLQ of ${dlq.date || '–'}: `, Object.entries(dlq.by_code || {}).map(([c, n]) => `${c} ${fmtInt(n)}`).join(', ') || 'none')));
}

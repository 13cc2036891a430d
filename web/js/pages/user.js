// One user's evidence: each day's score and the points behind it, hourly
// activity, wikis, pages touched, newest events and the alerts raised.
import { chart, series, COLORS, SERIES } from '../charts.js';
import {
  apiUrl, defaultSpan, el, evidenceText, filters, fmtInt, fmtTime, getJson, knownDates, levelBadge, pageHref, panel,
  spanFields, table, tile,
} from '../util.js';

export async function render(root, params, nav) {
  if (!params.user) {
    root.append(el('h1', null, 'User'), el('p', null, 'No user chosen: pick one on the ', el('a', { href: '#/risk' }, 'Risk'), ' page.'));
    return;
  }
  const span = await defaultSpan(params);
  if (!params.from || !params.to) nav.replace(span);
  const dates = await knownDates();
  const u = await getJson(apiUrl('/api/risk/user', { user: params.user, from: span.from, to: span.to, limit: 25 }));
  const top = u.scores.reduce((m, s) => (s.risk_score > (m?.risk_score ?? -1) ? s : m), null);

  root.append(
    el('h1', null, `User ${u.user}`, el('small', null, `${u.from} to ${u.to}`)),
    el('p', null, el('a', { href: pageHref('risk', { from: span.from, to: span.to }) }, '← All scored users')),
    filters('User span', ...spanFields(span, nav.update, dates[dates.length - 1])),
    el('div', { class: 'tiles' },
      tile('Highest score', top ? String(top.risk_score) : '–', top ? el('span', null, levelBadge(top.risk_level), ` on ${top.stat_date}`) : 'not scored in this span', 'user-top'),
      tile('Days scored', String(u.scores.length), null, 'user-days'),
      tile('Events', fmtInt(u.events_total), u.truncated ? 'first 200,000 read' : 'in silver, this span', 'user-events'),
      tile('Wikis', String(u.wikis.length), null, 'user-wikis'),
      tile('Alerts', String(u.alerts.length), `${u.alerts.filter((a) => a.delivered).length} delivered`, 'user-alerts')),
  );

  const days = u.scores.map((s) => s.stat_date);
  const grid = el('div', { class: 'grid' });
  grid.append(panel('Score per day', null, chart('user-score', 'Risk score per day and the points of each factor', {
    type: 'bar', stacked: true, labels: days, x: 'Date (UTC)', y: 'Points (score capped at 100)',
    datasets: [
      series('Velocity', u.scores.map((s) => s.velocity_points), SERIES[0]),
      series('Deletions', u.scores.map((s) => s.deletion_points), SERIES[5]),
      series('Anonymous', u.scores.map((s) => s.anonymous_points), SERIES[1]),
      series('Cross-wiki', u.scores.map((s) => s.cross_domain_points), SERIES[3]),
    ],
  })));
  const hourLabels = u.hourly.map((h) => `${h.date} ${String(h.hour).padStart(2, '0')}:00`);
  grid.append(panel('Hourly activity', null, chart('user-hourly', 'Events per UTC hour (silver)', {
    type: 'bar', labels: hourLabels, x: 'Hour (UTC)', y: 'Events per hour', datasets: [series('Events', u.hourly.map((h) => h.events), COLORS.human)],
  })));
  root.append(grid);

  root.append(panel('Scores and evidence', null, table('user-scores', 'gold.risk_scores for this user', [
    { key: 'stat_date', label: 'Date' },
    { key: 'risk_score', label: 'Score', num: true },
    { key: 'risk_level', label: 'Level', render: (s) => levelBadge(s.risk_level) },
    { key: 'points', label: 'Points (velocity, deletions, anonymous, cross-wiki)', render: (s) => `${s.velocity_points}, ${s.deletion_points}, ${s.anonymous_points}, ${s.cross_domain_points}` },
    { key: 'total_edits', label: 'Edits', num: true },
    { key: 'peak_hour_edits', label: 'Peak/h', num: true },
    { key: 'large_deletions', label: 'Large del.', num: true },
    { key: 'domains_edited', label: 'Wikis', num: true },
    { key: 'evidence', label: 'Evidence', render: (s) => evidenceText(s.evidence) },
  ], u.scores, 'Not scored in this span.')));

  const grid2 = el('div', { class: 'grid' });
  grid2.append(panel('Wikis', null, table('user-wikis-table', 'Events per wiki', [
    { key: 'domain', label: 'Wiki' },
    { key: 'events', label: 'Events', num: true },
    { key: 'bytes_added', label: 'Bytes +', num: true, render: (w) => fmtInt(w.bytes_added) },
    { key: 'bytes_removed', label: 'Bytes −', num: true, render: (w) => fmtInt(w.bytes_removed) },
    { key: 'large_deletions', label: 'Large del.', num: true },
  ], u.wikis)));
  grid2.append(panel('Pages touched', null, table('user-pages', `Most edited pages (${fmtInt(u.pages_total)} in all)`, [
    { key: 'title', label: 'Page', render: (p) => el('a', { href: pageHref('page', { domain: p.domain, title: p.title, from: span.from, to: span.to }) }, p.title) },
    { key: 'domain', label: 'Wiki' },
    { key: 'events', label: 'Events', num: true },
    { key: 'bytes_changed', label: 'Bytes changed', num: true, render: (p) => fmtInt(p.bytes_changed) },
  ], u.pages)));
  root.append(grid2);

  root.append(panel('Alerts raised', null, table('user-alerts-table', 'Alerts for this user (ops.alerts and not yet committed)', [
    { key: 'raised_at', label: 'Raised', render: (a) => fmtTime(a.raised_at) },
    { key: 'alert_date', label: 'For day' },
    { key: 'severity', label: 'Severity', render: (a) => levelBadge(a.severity) },
    { key: 'subject', label: 'Subject' },
    { key: 'delivered', label: 'Delivered', render: (a) => (a.delivered ? 'yes' : `no${a.delivery_error ? ` (${a.delivery_error})` : ''}`) },
  ], u.alerts, 'No alert raised for this user in this span.')));

  root.append(panel('Newest events', null, table('user-events-table', 'The user\'s newest events (silver)', [
    { key: 'event_timestamp', label: 'Time', render: (e) => fmtTime(e.event_timestamp) },
    { key: 'domain', label: 'Wiki' },
    { key: 'title', label: 'Page' },
    { key: 'event_type', label: 'Type' },
    { key: 'length_delta', label: 'Δ bytes', num: true, render: (e) => fmtInt(e.length_delta) },
    { key: 'is_large_deletion', label: 'Large deletion', render: (e) => (e.is_large_deletion ? 'yes' : '') },
  ], u.events)));
}

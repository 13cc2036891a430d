// Live: events per second, top wikis, trending, risk and alerts as they
// happen, from the /api/live Server-Sent Events stream (open only while
// this view is shown).
import { chart, series, COLORS } from '../charts.js';
import { bars, el, fmtInt, fmtNum, fmtTime, levelBadge, pageHref, panel, REGIONS, REGION_NAMES, tile } from '../util.js';

let source = null;

export function leave() {
  if (source) source.close();
  source = null;
}

function set(id, text) {
  const e = document.getElementById(id);
  if (e) e.textContent = text;
}

function draw(s) {
  const state = window.wikistream;
  state.live = s;
  state.liveFrames = (state.liveFrames || 0) + 1;
  const h = s.last_hour;
  set('live-now', `as of ${s.now}`);
  set('live-eps', fmtNum(s.events_per_second, 1));
  set('live-minute-total', fmtInt(s.last_minute.total));
  set('live-hour-total', fmtInt(h.total));
  set('live-split', `${fmtInt(h.bot)} / ${fmtInt(h.human - h.anonymous)} / ${fmtInt(h.anonymous)}`);
  const t = s.today || {};
  set('live-today-total', fmtInt(t.total_events));
  set('live-today-risk', t.date ? `${t.date}: ${fmtInt(t.high_risk_users)} HIGH, ${fmtInt(t.medium_risk_users)} MEDIUM users` : '');
  document.getElementById('live-regions')?.replaceChildren(bars(REGIONS.map((r) => [REGION_NAMES[r], h.by_region[r] || 0])));
  document.getElementById('live-wikis')?.replaceChildren(bars(s.last_minute.by_wiki.slice(0, 10).map((w) => [w.domain, w.count])));
  const trending = document.getElementById('live-trending');
  if (trending) {
    trending.replaceChildren(...s.trending.slice(0, 10).map((p) => el('li', null, el('strong', null, p.title),
      el('span', { class: 'muted' }, ` ${p.domain} · ${p.edits} edits · ${fmtInt(p.bytes_changed)} B`))));
    if (!s.trending.length) trending.append(el('li', { class: 'muted' }, 'nothing yet'));
  }
  const risk = document.getElementById('live-risk');
  if (risk) {
    const users = (s.risk || []).filter((u) => u.risk_level !== 'LOW').slice(0, 10);
    risk.replaceChildren(...users.map((u) => el('li', null, levelBadge(u.risk_level), ' ',
      el('a', { href: pageHref('user', { user: u.entity_id || u.user }) }, u.entity_id || u.user), ` score ${u.risk_score}`)));
    if (!users.length) risk.append(el('li', { class: 'muted' }, 'no MEDIUM or HIGH user today'));
  }
  drawAlerts(s.alerts);
  const canvas = document.getElementById('live-chart');
  const c = canvas && window.Chart ? window.Chart.getChart(canvas) : null;
  if (c) {
    const start = s.per_second.start;
    c.data.labels = s.per_second.counts.map((_, i) => new Date((start + i) * 1000).toISOString().slice(11, 19));
    c.data.datasets[0].data = s.per_second.counts;
    c.update('none');
  }
}

function drawAlerts(alerts) {
  const list = document.getElementById('live-alerts');
  if (!list) return;
  list.replaceChildren(...alerts.slice(0, 15).map((a) => el('li', null, levelBadge(a.severity), ` ${a.subject || a.entity} `,
    el('span', { class: 'muted' }, fmtTime(a.raised_at)))));
  if (!alerts.length) list.append(el('li', { class: 'muted' }, 'no alerts'));
}

export async function render(root) {
  leave();
  root.append(
    el('h1', null, 'Live', el('small', { id: 'live-now' }, 'connecting…'), ' ', el('span', { id: 'live-status', class: 'badge', role: 'status' }, 'connecting')),
    el('div', { class: 'tiles' },
      tile('Events / s (10 s mean)', '–', null, 'live-eps'),
      tile('Last minute', '–', 'events', 'live-minute-total'),
      tile('Last hour', '–', 'events', 'live-hour-total'),
      tile('Bot / human / anonymous', '–', 'last hour; human excludes anonymous', 'live-split'),
      el('div', { class: 'tile' }, el('div', { class: 'label' }, 'Today (live)'), el('div', { class: 'value', id: 'live-today-total' }, '–'),
        el('div', { class: 'sub', id: 'live-today-risk' }))),
    panel('Events per second', null, chart('live-chart', 'Events per second over the last two minutes', {
      type: 'line', labels: [], x: 'Time (UTC)', y: 'Events per second', datasets: [series('Events/s', [], COLORS.human, { fill: true })],
    })),
  );
  const grid = el('div', { class: 'grid' });
  grid.append(panel('Regions (last hour)', null, el('div', { id: 'live-regions' })));
  grid.append(panel('Top wikis (last minute)', null, el('div', { id: 'live-wikis' })));
  grid.append(panel('Trending (last hour)', null, el('ol', { id: 'live-trending', class: 'feed' })));
  grid.append(panel('Riskiest users today', null, el('ul', { id: 'live-risk', class: 'feed' })));
  grid.append(panel('Alerts', null, el('ul', { id: 'live-alerts', class: 'feed', 'aria-live': 'polite' })));
  root.append(grid);

  source = new EventSource('/api/live');
  const status = (text) => set('live-status', text);
  source.addEventListener('open', () => status('live'));
  source.addEventListener('summary', (e) => draw(JSON.parse(e.data)));
  source.addEventListener('alert', (e) => {
    const a = JSON.parse(e.data);
    const s = window.wikistream.live;
    if (s) {
      s.alerts = [a, ...s.alerts.filter((x) => x.alert_id !== a.alert_id)];
      drawAlerts(s.alerts);
    }
  });
  source.addEventListener('bye', () => { status('server stopped'); leave(); });
  source.addEventListener('error', () => { if (source && source.readyState !== EventSource.OPEN) status('reconnecting…'); });
}

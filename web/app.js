// WikiStream dashboard: live tiles from the /api/live Server-Sent Events
// stream, batch panels from the JSON API. Plain JS; every value from the
// server is inserted as text (never as HTML).
'use strict';

const $ = (id) => document.getElementById(id);
const fmtInt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
const fmtPct = (n) => (n === null || n === undefined ? '–' : `${Number(n).toFixed(2)} %`);
const REGIONS = ['americas', 'europe', 'asia_pacific', 'middle_east', 'other'];
const PALETTE = ['#2f7ed8', '#e39b2f', '#3c9a5f', '#8e6bd1', '#c9302c', '#17a2b8', '#6c757d', '#d63384',
                 '#20c997', '#fd7e14', '#6610f2', '#0d6efd', '#198754', '#dc3545', '#ffc107', '#0dcaf0'];

const state = { date: '', charts: {}, live: null, liveFrames: 0 };
window.wikistream = state;  // for tests and debugging

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function fillTable(table, rows, cells) {
  const body = table.tBodies[0];
  body.replaceChildren();
  if (!rows.length) {
    const tr = el('tr');
    const td = el('td', 'no data', 'empty');
    td.colSpan = table.tHead.rows[0].cells.length;
    tr.append(td);
    body.append(tr);
    return;
  }
  for (const row of rows) {
    const tr = el('tr');
    for (const c of cells(row)) {
      if (c instanceof Node) {
        const td = el('td');
        td.append(c);
        tr.append(td);
      } else {
        tr.append(el('td', c));
      }
    }
    body.append(tr);
  }
}

function fillBars(list, entries) {
  list.replaceChildren();
  const max = Math.max(1, ...entries.map(([, v]) => v));
  for (const [name, v] of entries) {
    const li = el('li');
    li.append(el('span', name));
    const bar = el('span', null, 'bar');
    bar.style.width = `${(100 * v) / max}%`;
    const track = el('span');
    track.append(bar);
    li.append(track, el('span', fmtInt(v), 'num'));
    list.append(li);
  }
  if (!entries.length) list.append(el('li', 'no events', 'muted'));
}

async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

function withDate(path, params = {}) {
  const q = new URLSearchParams();
  if (state.date) q.set('date', state.date);
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// ---------------------------------------------------------------------------
// Live

function makeLineChart(canvas, label) {
  if (!window.Chart) return null;
  return new window.Chart(canvas, {
    type: 'line',
    data: { labels: [], datasets: [{ label, data: [], borderColor: '#2f7ed8', backgroundColor: 'rgba(47,126,216,.15)', fill: true, pointRadius: 0, tension: .25 }] },
    options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } },
               scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

function renderLive(s) {
  state.live = s;
  state.liveFrames += 1;
  $('live-now').textContent = s.now;
  $('live-eps').textContent = Number(s.events_per_second).toFixed(1);
  $('live-minute-total').textContent = fmtInt(s.last_minute.total);
  $('live-hour-total').textContent = fmtInt(s.last_hour.total);
  const h = s.last_hour;
  $('live-bot').textContent = fmtInt(h.bot);
  $('live-human').textContent = fmtInt(h.human - h.anonymous);
  $('live-anon').textContent = fmtInt(h.anonymous);
  const total = Math.max(1, h.total);
  const bar = $('live-splitbar').children;
  bar[0].style.width = `${(100 * h.bot) / total}%`;
  bar[1].style.width = `${(100 * (h.human - h.anonymous)) / total}%`;
  bar[2].style.width = `${(100 * h.anonymous) / total}%`;
  const t = s.today || {};
  $('live-today-total').textContent = fmtInt(t.total_events);
  $('live-today-risk').textContent = t.date
    ? `${t.date}: ${fmtInt(t.high_risk_users)} high / ${fmtInt(t.medium_risk_users)} medium risk users`
    : '';
  fillBars($('live-regions'), REGIONS.map((r) => [r, h.by_region[r] || 0]));
  fillBars($('live-wikis'), s.last_minute.by_wiki.map((w) => [w.domain, w.count]));

  const trending = $('live-trending');
  trending.replaceChildren();
  for (const p of s.trending) {
    const li = el('li');
    li.append(el('strong', p.title), el('span', ` ${p.domain} · ${p.edits} edits · ${fmtInt(p.bytes_changed)} B`, 'muted'));
    trending.append(li);
  }
  if (!s.trending.length) trending.append(el('li', 'nothing yet', 'muted'));
  renderAlerts(s.alerts);

  if (!state.charts.live) state.charts.live = makeLineChart($('live-chart'), 'events/s');
  const chart = state.charts.live;
  if (chart) {
    const start = s.per_second.start;
    chart.data.labels = s.per_second.counts.map((_, i) => new Date((start + i) * 1000).toISOString().slice(11, 19));
    chart.data.datasets[0].data = s.per_second.counts;
    chart.update('none');
  }
}

function renderAlerts(alerts) {
  const list = $('live-alerts');
  list.replaceChildren();
  for (const a of alerts.slice(0, 15)) {
    const li = el('li');
    li.append(el('span', a.severity, `level-${a.severity}`), el('span', ` ${a.subject || a.entity} `),
              el('span', a.raised_at, 'muted'));
    list.append(li);
  }
  if (!alerts.length) list.append(el('li', 'no alerts', 'muted'));
}

function connectLive() {
  const status = $('status');
  const es = new EventSource('/api/live');
  es.addEventListener('open', () => { status.dataset.state = 'live'; status.textContent = 'live'; });
  es.addEventListener('summary', (e) => renderLive(JSON.parse(e.data)));
  es.addEventListener('alert', (e) => {
    const a = JSON.parse(e.data);
    if (state.live) {
      state.live.alerts = [a, ...state.live.alerts.filter((x) => x.alert_id !== a.alert_id)];
      renderAlerts(state.live.alerts);
    }
  });
  es.addEventListener('bye', () => { status.dataset.state = 'error'; status.textContent = 'server stopped'; es.close(); });
  es.addEventListener('error', () => {
    if (es.readyState !== EventSource.OPEN) { status.dataset.state = 'error'; status.textContent = 'reconnecting…'; }
  });
}

// ---------------------------------------------------------------------------
// Batch

async function loadSummary() {
  const s = await getJson(withDate('/api/summary'));
  const select = $('date-select');
  if (!select.options.length || select.options.length !== s.dates.length) {
    select.replaceChildren();
    for (const d of [...s.dates].reverse()) select.append(new Option(d, d));
  }
  if (s.date) select.value = s.date;
  $('batch-date').textContent = s.date || 'no batch data yet';
  const x = s.summary || {};
  $('summary-total').textContent = fmtInt(x.total_events);
  $('summary-users').textContent = fmtInt(x.unique_users);
  $('summary-bot').textContent = fmtPct(x.bot_percentage);
  $('summary-anon').textContent = fmtPct(x.anonymous_percentage);
  $('summary-high').textContent = fmtInt(x.high_risk_user_count);
  $('summary-health').textContent = x.platform_health_score === undefined || x.platform_health_score === null
    ? '–' : Number(x.platform_health_score).toFixed(1);
}

async function loadHourly() {
  const domain = $('hourly-domain').value;
  const h = await getJson(withDate('/api/hourly', { domain }));
  const select = $('hourly-domain');
  const known = new Set([...select.options].map((o) => o.value));
  for (const d of h.domains) if (!known.has(d)) select.append(new Option(d, d));
  // One dataset per wiki; the busiest first so the legend reads well.
  const byDomain = new Map();
  for (const r of h.rows) {
    if (!byDomain.has(r.domain)) byDomain.set(r.domain, new Array(24).fill(0));
    byDomain.get(r.domain)[r.stat_hour] = r.total_events;
  }
  const series = [...byDomain.entries()].sort((a, b) => b[1].reduce((x, y) => x + y) - a[1].reduce((x, y) => x + y));
  const datasets = series.map(([d, data], i) => ({ label: d, data, backgroundColor: PALETTE[i % PALETTE.length], stack: 'h' }));
  const labels = Array.from({ length: 24 }, (_, i) => `${String(i).padStart(2, '0')}:00`);
  if (!window.Chart) return;
  if (!state.charts.hourly) {
    state.charts.hourly = new window.Chart($('hourly-chart'), {
      type: 'bar',
      data: { labels, datasets },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
                 scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
                 plugins: { legend: { position: 'right', labels: { boxWidth: 12 } } } },
    });
  } else {
    state.charts.hourly.data.datasets = datasets;
    state.charts.hourly.update('none');
  }
}

async function loadTrending() {
  const t = await getJson(withDate('/api/trending', { hour: $('trending-hour').value, limit: 20 }));
  const select = $('trending-hour');
  if (select.options.length === 1) for (let i = 0; i < 24; i += 1) select.append(new Option(String(i), String(i)));
  fillTable($('trending-table'), t.rows, (r) => [r.rank, r.domain, r.title, r.edits, r.unique_editors, r.prev_24h_edits, r.trend_score]);
}

async function loadContributors() {
  const c = await getJson(withDate('/api/contributors', { limit: 25 }));
  fillTable($('contributors-table'), c.rows, (r) => [r.domain, r.user_normalized, r.user_type, fmtInt(r.edits),
    fmtInt(r.pages_edited), fmtInt(r.bytes_added), fmtInt(r.bytes_removed)]);
}

function evidenceText(ev) {
  if (!ev || typeof ev !== 'object') return String(ev ?? '');
  const factors = (ev.factors || []).join(', ') || 'none';
  return `${factors} — peak ${ev.peak_hour_edits ?? '?'}/h, ${ev.large_deletions ?? 0} large deletions, ${ev.domains_edited ?? '?'} wikis, ${ev.anonymous_edits ?? 0} anonymous`;
}

async function loadRisk() {
  const r = await getJson(withDate('/api/risk', { level: $('risk-level').value, limit: 50 }));
  fillTable($('risk-table'), r.rows, (x) => [x.entity_id, x.user_type, x.risk_score, el('span', x.risk_level, `level-${x.risk_level}`),
    x.total_edits, x.peak_hour_edits, evidenceText(x.evidence)]);
}

async function loadDq() {
  const d = await getJson('/api/dq?limit=50');
  const gates = $('dq-gates');
  gates.replaceChildren();
  for (const g of d.gates) gates.append(el('span', `${g.layer} gate ${g.passed ? 'passed' : 'FAILED'}`, `gate ${g.passed ? 'pass' : 'fail'}`));
  fillTable($('dq-table'), d.rows, (x) => [x.run_timestamp, x.layer, x.check_name, x.check_type, x.severity,
    el('span', x.status, `status-${x.status}`), x.metric_value === null ? '' : Number(x.metric_value).toFixed(4), x.message || '']);
}

async function loadPipeline() {
  const p = await getJson('/api/pipeline?limit=30');
  $('pipeline-status').textContent = p.status ? JSON.stringify(p.status) : '';
  fillTable($('pipeline-table'), p.rows, (x) => [x.started_at, x.stage, x.attempt, el('span', x.status, `status-${x.status}`),
    fmtInt(x.rows_in), fmtInt(x.rows_out), x.error || '']);
}

async function loadBatch() {
  const tasks = [loadSummary, loadHourly, loadTrending, loadContributors, loadRisk, loadDq, loadPipeline];
  const results = await Promise.allSettled(tasks.map((f) => f()));
  for (const r of results) if (r.status === 'rejected') console.warn('panel failed:', r.reason.message);
  state.batchLoaded = true;
}

function init() {
  $('date-select').addEventListener('change', (e) => { state.date = e.target.value; loadBatch(); });
  $('hourly-domain').addEventListener('change', () => loadHourly());
  $('trending-hour').addEventListener('change', () => loadTrending());
  $('risk-level').addEventListener('change', () => loadRisk());
  connectLive();
  loadBatch();
  // Gold changes once per batch interval (30 s by default).
  setInterval(loadBatch, 30000);
}

document.addEventListener('DOMContentLoaded', init);

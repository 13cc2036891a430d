// Data quality and pipeline: each gate's checks over time, the batch cycle
// history, failed runs and the dead-letter queue. Dates are run dates
// (DQ, pipeline) and received dates (DLQ), not event dates.
import { chart, series, COLORS, SERIES } from '../charts.js';
import {
  apiUrl, csvLink, el, field, filters, fmtInt, fmtNum, fmtTime, getJson, pager, panel, statusBadge, table,
} from '../util.js';

export async function render(root, params, nav) {
  const span = { from: params.from, to: params.to };
  const layer = params.layer || '';
  const [runs, checks, cycles, failures, dlq, pipeline] = await Promise.all([
    getJson(apiUrl('/api/dq/runs', { ...span, layer, limit: 200 })),
    getJson(apiUrl('/api/dq', { ...span, layer, status: params.status, limit: 50, offset: params.offset })),
    getJson(apiUrl('/api/pipeline/cycles', { ...span, limit: 20 })),
    getJson(apiUrl('/api/pipeline', { ...span, status: 'FAILED', limit: 20 })),
    getJson(apiUrl('/api/dlq', { ...span, limit: 20 })),
    getJson('/api/pipeline?limit=1'),
  ]);
  root.append(
    el('h1', null, 'Data quality & pipeline', el('small', null, span.from ? `${span.from} to ${span.to || 'now'} (run dates)` : 'newest runs')),
    filters('Quality filters',
      field('f-from', 'From (run date)', 'date', span.from || '', [], (v) => nav.update({ from: v })),
      field('f-to', 'To (run date)', 'date', span.to || '', [], (v) => nav.update({ to: v })),
      field('f-layer', 'Gate', 'select', layer, [['', 'Both gates'], ['silver', 'Silver'], ['gold', 'Gold']], (v) => nav.update({ layer: v })),
      field('f-status', 'Check status', 'select', params.status || '', [['', 'Any status'], ['PASSED', 'PASSED'], ['WARNING', 'WARNING'], ['FAILED', 'FAILED'], ['ERROR', 'ERROR'], ['SKIPPED', 'SKIPPED']],
        (v) => nav.update({ status: v }))),
  );
  const gates = el('ul', { class: 'feed', id: 'dq-gates' }, checks.gates.map((g) => el('li', null, statusBadge(g.passed ? 'PASSED' : 'FAILED'),
    ` ${g.layer} gate ${g.passed ? 'passed' : 'FAILED'} at ${fmtTime(g.run_timestamp)}: ${g.checks} checks, ${g.failed} failed, ${g.warnings} warnings, ${g.skipped} skipped`)));
  if (!checks.gates.length) gates.append(el('li', { class: 'muted' }, 'No gate has run yet.'));
  const status = pipeline.status ? Object.entries(pipeline.status).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ') : 'not reported by this process';
  root.append(panel('Now', null, gates, el('p', { class: 'muted', id: 'pipeline-status' }, `Pipeline: ${status}`)));

  const ordered = [...runs.rows].reverse();
  root.append(panel('Gate runs over time', csvLink('dq-runs-csv', '/api/dq/runs', { ...span, layer }), chart('dq-runs-chart', 'Checks per gate run by outcome (oldest left)', {
    type: 'bar', stacked: true, labels: ordered.map((r) => `${r.layer} ${fmtTime(r.run_timestamp).slice(5, 16)}`), x: 'Gate run (layer, UTC time)', y: 'Checks (count)',
    datasets: [series('Passed', ordered.map((r) => r.passed_checks), COLORS.LOW), series('Warnings', ordered.map((r) => r.warnings), COLORS.MEDIUM),
      series('Failed', ordered.map((r) => r.failed), COLORS.HIGH), series('Skipped', ordered.map((r) => r.skipped), SERIES[6])],
  })));
  root.append(panel('Checks', csvLink('dq-csv', '/api/dq', { ...span, layer, status: params.status, limit: 50, offset: params.offset }),
    table('dq-table', 'dq_audit.quality_results, newest first', [
      { key: 'run_timestamp', label: 'Run', render: (x) => fmtTime(x.run_timestamp) },
      { key: 'layer', label: 'Gate' },
      { key: 'check_name', label: 'Check' },
      { key: 'check_type', label: 'Type' },
      { key: 'severity', label: 'Severity' },
      { key: 'status', label: 'Status', render: (x) => statusBadge(x.status) },
      { key: 'metric_value', label: 'Value', num: true, render: (x) => fmtNum(x.metric_value, 4) },
      { key: 'threshold_value', label: 'Threshold', num: true, render: (x) => fmtNum(x.threshold_value, 4) },
      { key: 'message', label: 'Message' },
    ], checks.rows),
    pager('dq-pager', checks, (offset) => nav.update({ offset }))));

  const grid = el('div', { class: 'grid' });
  grid.append(panel('Batch cycles', csvLink('cycles-csv', '/api/pipeline/cycles', span), table('cycles-table', 'Cycle history, newest first', [
    { key: 'started_at', label: 'Started', render: (c) => fmtTime(c.started_at) },
    { key: 'duration_ms', label: 'ms', num: true, render: (c) => fmtInt(c.duration_ms) },
    { key: 'status', label: 'Status', render: (c) => statusBadge(c.status) },
    { key: 'stages', label: 'Stages' },
    { key: 'rows_out', label: 'Rows out', num: true, render: (c) => fmtInt(c.rows_out) },
  ], cycles.rows, 'No batch cycle recorded.')));
  grid.append(panel('Failures', null, table('failures-table', 'Failed pipeline runs (ops.pipeline_runs)', [
    { key: 'started_at', label: 'Started', render: (r) => fmtTime(r.started_at) },
    { key: 'stage', label: 'Stage' },
    { key: 'attempt', label: 'Attempt', num: true },
    { key: 'error', label: 'Error' },
  ], failures.rows, 'No failed run.')));
  root.append(grid);

  const codes = Object.entries(dlq.by_code).sort((a, b) => b[1] - a[1]);
  root.append(panel('Dead-letter queue', csvLink('dlq-csv', '/api/dlq', { ...span, limit: 20 }),
    el('p', null, `${fmtInt(dlq.total)} rejected payloads ${dlq.date ? `received ${dlq.date}` : `from ${dlq.from || '–'} to ${dlq.to || '–'}`}: `,
      codes.map(([c, n]) => `${c} ${fmtInt(n)}`).join(', ') || 'none'),
    table('dlq-table', 'Newest rejected payloads (payloads are not served)', [
      { key: 'received_at', label: 'Received', render: (d) => fmtTime(d.received_at) },
      { key: 'source', label: 'Source' },
      { key: 'error_code', label: 'Code' },
      { key: 'error_message', label: 'Message' },
      { key: 'payload_bytes', label: 'Bytes', num: true, render: (d) => fmtInt(d.payload_bytes) },
    ], dlq.rows, 'Nothing rejected.')));
}

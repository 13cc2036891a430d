// Shared helpers: DOM building (text only, never HTML), formatting, the
// JSON API, URL state, tables with paging and CSV export.

export const REGIONS = ['europe', 'americas', 'asia_pacific', 'middle_east', 'other'];
export const REGION_NAMES = {
  europe: 'Europe', americas: 'Americas', asia_pacific: 'Asia-Pacific', middle_east: 'Middle East', other: 'Other',
};

// el('td', {class: 'num'}, 'text', child, ...): attributes, then children
// (strings become text nodes).
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = String(v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export const fmtInt = (n) => (n === null || n === undefined || n === '' ? '–' : Math.round(Number(n)).toLocaleString('en-US'));
export const fmtNum = (n, d = 2) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: d }));
export const fmtPct = (n) => (n === null || n === undefined ? '–' : `${Number(n).toFixed(2)} %`);
export const fmtTime = (iso) => (iso ? String(iso).replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–');

// Dates are UTC "YYYY-MM-DD" strings.
export function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export class ApiError extends Error {}

export async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await res.json(); } catch { body = null; }
  if (!res.ok) throw new ApiError((body && body.error) || `HTTP ${res.status}`);
  return body;
}

// "/api/x" + params (empty values left out).
export function apiUrl(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// The view's state lives in the hash: #/page?key=value...
export function parseHash(hash = location.hash) {
  const h = hash.replace(/^#\/?/, '');
  const [page, query = ''] = h.split('?');
  return { page: page || 'overview', params: Object.fromEntries(new URLSearchParams(query)) };
}

export function pageHref(page, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null) q.set(k, v);
  const s = q.toString();
  return `#/${page}${s ? `?${s}` : ''}`;
}

// Dates with data (from /api/summary), fetched at most every 30 s.
let datesCache = { at: 0, dates: [] };
export async function knownDates() {
  if (Date.now() - datesCache.at < 30000 && datesCache.dates.length) return datesCache.dates;
  const s = await getJson('/api/summary');
  datesCache = { at: Date.now(), dates: s.dates || [] };
  return datesCache.dates;
}

// from/to of a view: the URL's, else the week up to the newest date with data.
export async function defaultSpan(params, days = 7) {
  if (params.from && params.to) return { from: params.from, to: params.to };
  const dates = await knownDates();
  const newest = dates.length ? dates[dates.length - 1] : new Date().toISOString().slice(0, 10);
  const to = params.to || newest;
  return { from: params.from || addDays(to, -(days - 1)), to };
}

// A labelled control. kind: 'select' (options [[value, label]...]), 'date', 'text'.
export function field(id, label, kind, value, options = [], onchange = null) {
  let input;
  if (kind === 'select') {
    input = el('select', { id, name: id });
    for (const [v, l] of options) input.append(el('option', { value: v }, l));
    input.value = value ?? '';
  } else {
    input = el('input', { id, name: id, type: kind, value: value ?? '' });
    if (kind === 'text') input.setAttribute('autocomplete', 'off');
  }
  if (onchange) input.addEventListener('change', () => onchange(input.value));
  return el('div', { class: 'field' }, el('label', { for: id }, label), input);
}

// A table: columns [{key, label, num, render(row) -> Node|string}].
export function table(id, caption, columns, rows, empty = 'No rows for these filters.') {
  const thead = el('thead', null, el('tr', null, columns.map((c) => el('th', { scope: 'col', class: c.num ? 'num' : null }, c.label))));
  const tbody = el('tbody');
  for (const r of rows) {
    tbody.append(el('tr', null, columns.map((c) => {
      const v = c.render ? c.render(r) : r[c.key];
      return el('td', { class: c.num ? 'num' : null }, v instanceof Node ? v : (v === null || v === undefined ? '' : String(v)));
    })));
  }
  if (!rows.length) tbody.append(el('tr', null, el('td', { colspan: columns.length, class: 'empty' }, empty)));
  return el('div', { class: 'tablewrap', tabindex: '0', role: 'region', 'aria-label': caption },
    el('table', { id }, el('caption', null, caption), thead, tbody));
}

// Paging controls for an API page ({total, offset, limit, next_offset}).
export function pager(id, body, onOffset) {
  const offset = body.offset || 0;
  const limit = body.limit || body.rows.length || 1;
  const shown = body.rows.length;
  const info = shown ? `Rows ${fmtInt(offset + 1)}–${fmtInt(offset + shown)} of ${fmtInt(body.total)}` : `0 of ${fmtInt(body.total)} rows`;
  const prev = el('button', { type: 'button', id: `${id}-prev`, disabled: offset <= 0, onclick: () => onOffset(Math.max(0, offset - limit)) }, 'Previous');
  const next = el('button', { type: 'button', id: `${id}-next`, disabled: body.next_offset === null || body.next_offset === undefined, onclick: () => onOffset(body.next_offset) }, 'Next');
  return el('div', { class: 'pager' }, prev, el('span', { class: 'muted', 'aria-live': 'polite' }, info), next);
}

// A link that downloads the CSV of the API request behind a table.
export function csvLink(id, path, params) {
  return el('a', { id, class: 'button csv', href: apiUrl(path, { ...params, format: 'csv' }), download: '' }, 'Download CSV');
}

export function tile(label, value, sub, id) {
  return el('div', { class: 'tile' }, el('div', { class: 'label' }, label),
    el('div', { class: String(value).length > 14 ? 'value text' : 'value', id }, value), sub ? el('div', { class: 'sub' }, sub) : null);
}

export function levelBadge(level) {
  return el('span', { class: `badge level-${level}` }, level);
}

export function statusBadge(status) {
  return el('span', { class: `badge status-${status}` }, status);
}

export function evidenceText(ev) {
  if (!ev || typeof ev !== 'object') return String(ev ?? '');
  const factors = (ev.factors || []).join(', ') || 'none';
  return `${factors} — peak ${ev.peak_hour_edits ?? '?'}/h, ${ev.large_deletions ?? 0} large deletions, ${ev.domains_edited ?? '?'} wikis, ${ev.anonymous_edits ?? 0} anonymous`;
}

// The from/to fields of a view, with presets ending at the newest date.
export function spanFields(span, update, newest) {
  const end = newest || span.to;
  const preset = (label, days) => el('button', {
    type: 'button', id: `preset-${days}`, onclick: () => update({ from: addDays(end, -(days - 1)), to: end }),
  }, label);
  return [
    field('f-from', 'From (UTC)', 'date', span.from, [], (v) => update({ from: v })),
    field('f-to', 'To (UTC)', 'date', span.to, [], (v) => update({ to: v })),
    el('div', { class: 'field' }, el('span', { class: 'muted', id: 'presets-label' }, 'Quick spans'),
      el('div', { class: 'presets', role: 'group', 'aria-labelledby': 'presets-label' },
        preset('1 day', 1), preset('7 days', 7), preset('30 days', 30))),
  ];
}

export function regionOptions(all = 'All regions') {
  return [['', all], ...REGIONS.map((r) => [r, REGION_NAMES[r]])];
}

export function filters(label, ...children) {
  return el('form', { class: 'filters', 'aria-label': label, onsubmit: (e) => e.preventDefault() }, ...children);
}

export function panel(title, actions, ...children) {
  const id = `h-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return el('section', { class: 'panel', 'aria-labelledby': id },
    el('div', { class: 'panel-head' }, el('h2', { id }, title), actions), ...children);
}

export function bars(entries, fmt = fmtInt) {
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const list = el('ul', { class: 'bars' });
  for (const [name, v] of entries) {
    list.append(el('li', null, el('span', { class: 'name', title: name }, name),
      el('span', { class: 'track', 'aria-hidden': 'true' }, el('span', { class: 'bar', style: `width:${(100 * v) / max}%` })),
      el('span', { class: 'num' }, fmt(v))));
  }
  if (!entries.length) list.append(el('li', { class: 'muted' }, 'nothing yet'));
  return list;
}

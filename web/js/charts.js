// Chart.js (served from /assets/chart.umd.js) with axes titles, units,
// legends and colours that follow the theme. Every chart a view makes is
// destroyed when the view is drawn again.
import { el } from './util.js';

// Colour-blind-friendly series colours (Okabe-Ito), each readable on both themes.
export const SERIES = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#7f7f7f', '#f0e442'];
export const COLORS = {
  bot: '#cc79a7', human: '#0072b2', anonymous: '#e69f00', registered: '#009e73',
  HIGH: '#d55e00', MEDIUM: '#e69f00', LOW: '#009e73',
  europe: '#0072b2', americas: '#e69f00', asia_pacific: '#009e73', middle_east: '#cc79a7', other: '#7f7f7f',
};

const live = new Set();
const pending = [];

function themeColors() {
  const css = getComputedStyle(document.documentElement);
  return { text: css.getPropertyValue('--fg').trim() || '#1d2430', grid: css.getPropertyValue('--line').trim() || '#d0d5dc' };
}

export function destroyCharts() {
  for (const c of live) c.destroy();
  live.clear();
  pending.length = 0;
}

// Makes the charts of the view once their canvases are in the document.
export function mountCharts() {
  for (const make of pending.splice(0)) make();
}

export function applyTheme() {
  if (!window.Chart) return;
  const t = themeColors();
  window.Chart.defaults.color = t.text;
  window.Chart.defaults.borderColor = t.grid;
  for (const c of live) {
    for (const s of Object.values(c.options.scales || {})) {
      if (s.ticks) s.ticks.color = t.text;
      if (s.title) s.title.color = t.text;
      if (s.grid) s.grid.color = t.grid;
    }
    if (c.options.plugins?.legend?.labels) c.options.plugins.legend.labels.color = t.text;
    c.update('none');
  }
}

// A chart in a labelled box. spec: {type, labels, datasets, x, y, y2?, stacked?, percent?}
// (x/y: axis titles with units). Returns the figure; the chart is made by mountCharts().
export function chart(id, label, spec) {
  const canvas = el('canvas', { id, role: 'img', 'aria-label': label });
  const box = el('div', { class: 'chartbox' }, canvas);
  const figure = el('figure', { class: 'chart' }, box, el('figcaption', null, label));
  if (!window.Chart) {
    box.append(el('p', { class: 'muted' }, 'Charts are unavailable (chart library not loaded).'));
    return figure;
  }
  const t = themeColors();
  const axis = (title, extra = {}) => ({
    title: { display: true, text: title, color: t.text },
    ticks: { color: t.text, ...(extra.ticks || {}) },
    grid: { color: t.grid },
    ...extra,
  });
  const scales = {
    x: axis(spec.x, { stacked: !!spec.stacked }),
    y: axis(spec.y, { stacked: !!spec.stacked, beginAtZero: true, ...(spec.percent ? { max: 100 } : {}) }),
  };
  if (spec.y2) scales.y2 = axis(spec.y2, { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false } });
  pending.push(() => {
    if (!canvas.isConnected) return;
    const c = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: spec.type === 'doughnut' ? {} : scales,
        plugins: { legend: { display: true, position: 'bottom', labels: { color: t.text, boxWidth: 12 } } },
      },
    });
    live.add(c);
  });
  return figure;
}

export function series(label, data, color, extra = {}) {
  return { label, data, backgroundColor: color, borderColor: color, pointRadius: 0, borderWidth: 2, ...extra };
}

// WikiStream dashboard: a view per page, its state in the URL hash
// (#/page?key=value), so every view is a shareable link. Plain modules, no
// build step; every value from the server is inserted as text.
import { applyTheme, destroyCharts, mountCharts } from './charts.js';
import { el, parseHash, pageHref } from './util.js';
import * as overview from './pages/overview.js';
import * as wikis from './pages/wikis.js';
import * as risk from './pages/risk.js';
import * as user from './pages/user.js';
import * as trending from './pages/trending.js';
import * as page from './pages/page.js';
import * as contributors from './pages/contributors.js';
import * as quality from './pages/quality.js';
import * as live from './pages/live.js';

// In the navigation order; user and page are drill-downs of risk and trending.
const PAGES = {
  overview: { title: 'Overview', module: overview },
  wikis: { title: 'Wikis', module: wikis },
  risk: { title: 'Risk', module: risk },
  trending: { title: 'Trending', module: trending },
  contributors: { title: 'Contributors', module: contributors },
  quality: { title: 'Data quality & pipeline', module: quality },
  live: { title: 'Live', module: live },
  user: { title: 'User', module: user, parent: 'risk' },
  page: { title: 'Page', module: page, parent: 'trending' },
};

const state = { page: null, renders: 0, loaded: false, errors: [] };
window.wikistream = state;  // for tests and debugging

let current = null;  // the module drawn now (it may hold a live stream)
let seq = 0;

// Merges `changes` into the view's URL state (a new history entry).
function update(changes, replace = false) {
  const { page: name, params } = parseHash();
  const next = { ...params, ...changes };
  if (!('offset' in changes)) delete next.offset;  // a new filter starts at the first page
  const href = pageHref(name, next);
  if (replace) {
    history.replaceState(null, '', href);
  } else {
    history.pushState(null, '', href);
  }
  render();
}

// Writes the defaults a view chose into the URL without drawing it again,
// so that the link shows (and shares) exactly what is on screen.
function fillDefaults(defaults) {
  const { page: name, params } = parseHash();
  history.replaceState(null, '', pageHref(name, { ...params, ...defaults }));
}

async function render() {
  const { page: name, params } = parseHash();
  const def = PAGES[name] || PAGES.overview;
  const my = ++seq;
  state.loaded = false;
  const main = document.getElementById('main');
  const focusId = document.activeElement && document.activeElement.id;
  if (current && current.leave) current.leave();
  current = def.module;
  destroyCharts();
  for (const a of document.querySelectorAll('nav a')) {
    const active = a.dataset.page === (def.parent || name);
    if (active) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.title = `${def.title} · WikiStream`;
  const status = document.getElementById('view-status');
  status.textContent = `Loading ${def.title}…`;
  const view = el('div', { class: 'view' });
  try {
    await def.module.render(view, params, { update, replace: fillDefaults });
    if (my !== seq) return;  // a newer render started
    main.replaceChildren(view);
    mountCharts();
    status.textContent = `${def.title} loaded.`;
  } catch (err) {
    if (my !== seq) return;
    state.errors.push(err.message);
    main.replaceChildren(el('div', { class: 'view' }, el('h1', null, def.title),
      el('p', { class: 'error', role: 'alert' }, `Could not load this view: ${err.message}`)));
    status.textContent = `${def.title} failed to load.`;
  }
  if (focusId && focusId !== 'main') {
    const again = document.getElementById(focusId);
    if (again) again.focus();
  }
  state.page = name;
  state.renders += 1;
  state.loaded = true;
}

function setTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const button = document.getElementById('theme-toggle');
  button.setAttribute('aria-pressed', theme === 'dark' ? 'true' : 'false');
  button.textContent = theme === 'dark' ? 'Light theme' : 'Dark theme';
  try { localStorage.setItem('wikistream-theme', theme); } catch { /* private mode */ }
  applyTheme();
}

function init() {
  const nav = document.getElementById('nav');
  for (const [name, def] of Object.entries(PAGES)) {
    if (def.parent) continue;
    nav.append(el('li', null, el('a', { href: `#/${name}`, 'data-page': name }, def.title)));
  }
  let theme = null;
  try { theme = localStorage.getItem('wikistream-theme'); } catch { theme = null; }
  if (!theme) theme = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  setTheme(theme);
  document.getElementById('theme-toggle').addEventListener('click', () => {
    setTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark');
  });
  window.addEventListener('hashchange', render);
  window.addEventListener('popstate', render);
  if (!location.hash) history.replaceState(null, '', '#/overview');
  render();
}

document.addEventListener('DOMContentLoaded', init);

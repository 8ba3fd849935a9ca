// The namespace list (with usage bars) and the key list of the current
// namespace: pages of PAGE_SIZE keys by cursor, search by prefix or
// substring, and the changes the watch stream reports applied in place.
import * as api from './api.js';
import { $, formatAgo, formatBytes, formatDuration, h, toast } from './dom.js';
import { PAGE_SIZE, keyId, matchesSearch, nsLabel, state } from './state.js';

let openKey = () => {};
// `fn(item)` opens a key's page when its row is chosen.
export function onOpenKey(fn) { openKey = fn; }

// ------------------------------------------------------------ namespaces

function usageBar(bytes, quota) {
  const share = quota ? Math.min(1, bytes / quota) : 0;
  const fill = h('span');
  fill.style.width = `${(share * 100).toFixed(2)}%`; // CSSOM: the CSP allows no style attributes
  const bar = h('div.bar', {
    role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': String(quota || 0),
    'aria-valuenow': String(bytes), 'aria-label': 'Space used',
  }, fill);
  if (share >= 0.95) bar.classList.add('full');
  else if (share >= 0.75) bar.classList.add('high');
  return bar;
}

function sameNs(a, b) { return a.ns === b.ns && a.app === b.app; }

function renderNamespaces() {
  const list = [...state.namespaces];
  if (!list.some((n) => sameNs({ ns: n.namespace, app: n.app }, state.ns))) {
    list.unshift({ namespace: state.ns.ns, app: state.ns.app, keys: 0, bytes: 0, quota_bytes: 0 });
  }
  $('#namespaces').replaceChildren(...list.map((n) => {
    const ns = { ns: n.namespace, app: n.app };
    const current = sameNs(ns, state.ns);
    return h('li', {},
      h('button', {
        type: 'button', 'aria-current': current ? 'true' : 'false', dataset: { ns: nsLabel(ns) },
        onclick: () => selectNamespace(ns),
      },
      h('span.ns-name', {}, nsLabel(ns)),
      h('span.ns-stats', {}, `${n.keys} ${n.keys === 1 ? 'key' : 'keys'} · ${formatBytes(n.bytes)}`
        + (n.quota_bytes ? ` of ${formatBytes(n.quota_bytes)}` : '')),
      usageBar(n.bytes, n.quota_bytes)));
  }));
}

function renderUsage(s) {
  const share = s.quota_bytes ? (100 * s.bytes) / s.quota_bytes : 0;
  $('#usage').replaceChildren(
    h('div.line', {},
      h('span.title', {}, nsLabel(state.ns)),
      h('span', {}, `${s.keys} ${s.keys === 1 ? 'key' : 'keys'} · ${formatBytes(s.bytes)} of `
        + `${formatBytes(s.quota_bytes)} (${share < 1 && share > 0 ? '<1' : Math.round(share)}%)`)),
    usageBar(s.bytes, s.quota_bytes));
  $('#crumb').textContent = nsLabel(state.ns);
}

export async function loadNamespaces() {
  const [all, current] = await Promise.all([api.namespaces(), api.stats(state.ns)]);
  state.namespaces = all.namespaces;
  renderNamespaces();
  renderUsage(current);
  return current.revision;
}

// Usage changes with every write: refresh it a moment after the last one.
let usageTimer;
export function refreshUsageSoon() {
  clearTimeout(usageTimer);
  usageTimer = setTimeout(() => loadNamespaces().catch(() => {}), 300);
}

let selectHandler = () => {};
// `fn(ns)` switches the page to namespace `ns`.
export function onSelectNamespace(fn) { selectHandler = fn; }
function selectNamespace(ns) {
  $('#sidebar').classList.remove('open');
  $('#menu').setAttribute('aria-expanded', 'false');
  selectHandler(ns);
}

// ------------------------------------------------------------ key list

function ttlText(item) {
  return item.expire_at_ms ? formatDuration(item.expire_at_ms - Date.now()) : '';
}

function row(item) {
  const id = keyId(item);
  const label = item.key_encoding === 'base64' ? `(bytes) ${item.key}` : item.key;
  return h('tr', { dataset: { key: id }, 'aria-selected': state.selected === id ? 'true' : 'false' },
    h('td.key', {}, h('button.keylink', { type: 'button', title: label, onclick: () => openKey(item) }, label)),
    h('td.num', {}, formatBytes(item.size)),
    h('td.wide.muted', {}, (item.content_type || '').split(';')[0]),
    h('td.ttl', { dataset: { expires: item.expire_at_ms || '' } }, ttlText(item)),
    h('td.wide.muted', { title: new Date(item.updated_ms).toISOString() }, formatAgo(item.updated_ms)));
}

function renderPage() {
  const { keys, next_cursor: next } = state.page;
  $('#keys').replaceChildren(...keys.map(row));
  const empty = $('#empty');
  empty.hidden = keys.length > 0;
  empty.textContent = state.search.text
    ? `No key ${state.search.mode === 'prefix' ? 'starts with' : 'contains'} “${state.search.text}” on this page.`
    : 'No keys here yet. Add one, import a file, or run kv set.';
  const n = state.cursors.length;
  $('#page-info').textContent = `Page ${n}${keys.length ? ` · ${keys.length} ${keys.length === 1 ? 'key' : 'keys'}` : ''}`;
  $('#prev').disabled = n <= 1;
  $('#next').disabled = !next;
  $('#key-caption').textContent = `Keys of ${nsLabel(state.ns)}, page ${n}`;
}

let inflight;
export async function loadPage() {
  inflight?.abort();
  const controller = new AbortController();
  inflight = controller;
  const { mode, text } = state.search;
  try {
    state.page = await api.listKeys(state.ns, {
      prefix: mode === 'prefix' ? text : undefined,
      contains: mode === 'contains' ? text : undefined,
      cursor: state.cursors[state.cursors.length - 1],
      limit: PAGE_SIZE,
      signal: controller.signal,
    });
    renderPage();
  } catch (e) {
    if (e.name !== 'AbortError') toast(e.message, { bad: true });
  }
}

export function firstPage() {
  state.cursors = [''];
  return loadPage();
}
export function nextPage() {
  if (!state.page.next_cursor) return undefined;
  state.cursors.push(state.page.next_cursor);
  return loadPage();
}
export function previousPage() {
  if (state.cursors.length <= 1) return undefined;
  state.cursors.pop();
  return loadPage();
}

export function markSelected(id) {
  state.selected = id;
  for (const tr of $('#keys').children) tr.setAttribute('aria-selected', tr.dataset.key === id ? 'true' : 'false');
}

// The remaining TTLs count down once a second.
export function tickTtls() {
  for (const td of document.querySelectorAll('#keys td.ttl')) {
    if (td.dataset.expires) td.textContent = formatDuration(Number(td.dataset.expires) - Date.now());
  }
}

function flash(tr) {
  tr.classList.remove('flash');
  void tr.offsetWidth; // restart the animation
  tr.classList.add('flash');
}

// Applies one watch event to the list: a changed key on this page is
// updated, a new one that sorts into this page appears, a deleted or expired
// one goes away. Keys are compared as kvd sorts them (bytes; UTF-16 order
// matches it for the keys a person types).
export function applyEvent(ev) {
  if (ev.key_encoding === 'base64' || !matchesSearch(ev)) return;
  const keys = state.page.keys;
  const i = keys.findIndex((k) => keyId(k) === keyId(ev));
  if (ev.type === 'delete' || ev.type === 'expire') {
    if (i >= 0) {
      keys.splice(i, 1);
      renderPage();
    }
    return;
  }
  const item = {
    key: ev.key, etag: String(ev.revision), revision: ev.revision, size: ev.size,
    content_type: ev.content_type, updated_ms: ev.time_ms, expire_at_ms: ev.expire_at_ms,
  };
  if (i >= 0) {
    keys[i] = item;
  } else {
    const first = state.cursors.length === 1;
    const last = !state.page.next_cursor;
    const afterStart = first || (keys.length > 0 && ev.key > keys[0].key);
    const beforeEnd = last || (keys.length > 0 && ev.key < keys[keys.length - 1].key);
    if (!afterStart || !beforeEnd) return;
    keys.push(item);
    keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  renderPage();
  const tr = $('#keys').querySelector(`tr[data-key="${CSS.escape(keyId(item))}"]`);
  if (tr) flash(tr);
}

// A key's page: its value (JSON pretty-printed and highlighted, text as text,
// other bytes as a hex preview with a download), its metadata, and what can
// be done to it: edit (saved with If-Match, so a concurrent change shows as a
// conflict instead of being overwritten), set or clear the TTL, delete.
import * as api from './api.js';
import {
  $, confirmDialog, formatBytes, formatDuration, formatTime, h, openDialog, saveBlob, toast,
} from './dom.js';
import { keyId, state } from './state.js';

let current = null;  // {item, data, editing, own}: own = the revision of our last write
let onClosed = () => {};
export function onDetailClosed(fn) { onClosed = fn; }

const isJsonType = (type) => /^application\/(.+\+)?json\b/i.test(type.split(';')[0].trim());

// The value as text, or null when it is not UTF-8.
function asText(bytes) {
  try { return new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch { return null; }
}

function parseJson(text) {
  try { return { ok: true, value: JSON.parse(text) }; } catch (e) { return { ok: false, error: e.message }; }
}

// Pretty JSON as spans: keys, strings, numbers and literals get a class.
function highlightJson(value) {
  const text = JSON.stringify(value, null, 2);
  const out = [];
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1]) {
      out.push(h(`span.${m[2] ? 'k' : 's'}`, {}, m[1]));
      if (m[2]) out.push(m[2]);
    } else {
      out.push(h(`span.${m[3] ? 'n' : 'l'}`, {}, m[0]));
    }
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

function hexPreview(bytes, limit = 512) {
  const lines = [];
  for (let off = 0; off < Math.min(bytes.length, limit); off += 16) {
    const chunk = [...bytes.slice(off, off + 16)];
    const hex = chunk.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = chunk.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > limit) lines.push(`… ${formatBytes(bytes.length - limit)} more`);
  return lines.join('\n');
}

function base64Of(bytes, limit = 3072) {
  let s = '';
  for (const b of bytes.slice(0, limit)) s += String.fromCharCode(b);
  return btoa(s) + (bytes.length > limit ? '…' : '');
}

function download(item, data) {
  saveBlob(new Blob([data.bytes], { type: data.content_type }), item.key.replace(/[^\w.-]+/g, '_') || 'value');
}

function valueView(data) {
  const text = asText(data.bytes);
  if (text !== null && isJsonType(data.content_type)) {
    const parsed = parseJson(text);
    if (parsed.ok) return { kind: 'JSON', node: h('pre.value#value', { tabindex: '0' }, highlightJson(parsed.value)) };
  }
  if (text !== null) return { kind: 'text', node: h('pre.value#value', { tabindex: '0' }, text) };
  let mode = 'hex';
  const pre = h('pre.value#value', { tabindex: '0' }, hexPreview(data.bytes));
  const toggle = h('button', {
    type: 'button',
    onclick: () => {
      mode = mode === 'hex' ? 'base64' : 'hex';
      pre.textContent = mode === 'hex' ? hexPreview(data.bytes) : base64Of(data.bytes);
      toggle.textContent = mode === 'hex' ? 'Show base64' : 'Show hex';
    },
  }, 'Show base64');
  return { kind: 'binary', node: h('div', {}, h('div.row', {}, h('span.badge', {}, `binary · ${formatBytes(data.bytes.length)}`), toggle), pre) };
}

function metaList(data) {
  const rows = [
    ['ETag', `"${data.etag}"`],
    ['Revision', String(data.revision)],
    ['Size', `${formatBytes(data.bytes.length)} (${data.bytes.length} bytes)`],
    ['Content type', data.content_type],
    ['Created', data.created ? formatTime(Date.parse(data.created)) : ''],
    ['Updated', data.updated ? formatTime(Date.parse(data.updated)) : ''],
    ['Expires', data.expire_at_ms ? `${formatTime(data.expire_at_ms)} (in ${formatDuration(data.expire_at_ms - Date.now())})` : 'never'],
  ];
  return h('dl.meta#meta', {}, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { dataset: { field: k } }, v)]));
}

function panel() { return $('#detail'); }

export function closeDetail() {
  current = null;
  panel().hidden = true;
  panel().replaceChildren();
  $('#app').classList.add('no-detail');
  onClosed();
}

function header(item) {
  return h('header', {},
    h('h2#detail-key', { tabindex: '-1' }, item.key),
    h('button.icon', { type: 'button', 'aria-label': 'Close', onclick: closeDetail }, '×'));
}

function render(notice) {
  const { item, data } = current;
  const view = valueView(data);
  const actions = h('div.actions', {},
    h('button#edit', { type: 'button', disabled: view.kind === 'binary', title: view.kind === 'binary' ? 'Binary values cannot be edited here' : undefined, onclick: () => edit() }, 'Edit'),
    h('button#ttl', { type: 'button', onclick: setTtl }, data.expire_at_ms ? 'Change TTL' : 'Set TTL'),
    data.expire_at_ms ? h('button#persist', { type: 'button', onclick: clearTtl }, 'Clear TTL') : null,
    h('button#download', { type: 'button', onclick: () => download(item, data) }, 'Download'),
    h('button.danger#delete', { type: 'button', onclick: remove }, 'Delete'));
  panel().replaceChildren(header(item), notice || '', metaList(data), actions,
    h('div.row', {}, h('h3.muted', {}, 'Value'), h('span.badge#value-kind', {}, view.kind)), view.node);
}

async function load(item, notice) {
  try {
    const own = current && keyId(current.item) === keyId(item) ? current.own : 0;
    current = { item, data: await api.getKey(state.ns, item), editing: false, own };
    render(notice);
  } catch (e) {
    if (e.status === 404) {
      toast(`${item.key} is gone (deleted or expired)`);
      closeDetail();
    } else {
      toast(e.message, { bad: true });
    }
  }
}

export async function openDetail(item) {
  panel().hidden = false;
  $('#app').classList.remove('no-detail');
  await load(item);
  panel().querySelector('h2')?.focus(); // keyboard users land on the key's page
}

// ------------------------------------------------------------ editing

function edit(conflict) {
  const { item, data } = current;
  current.editing = true;
  const text = asText(data.bytes) ?? '';
  const json = isJsonType(data.content_type);
  const parsed = json ? parseJson(text) : null;
  const area = h('textarea#editor', {
    'aria-label': 'Value', spellcheck: 'false',
    value: conflict ? conflict.mine : (parsed?.ok ? JSON.stringify(parsed.value, null, 2) : text),
  });
  const type = h('input#edit-type', { value: conflict ? conflict.type : data.content_type, spellcheck: 'false' });
  const error = h('p.error#edit-error', { role: 'alert' });
  let etag = conflict ? conflict.theirs.etag : data.etag;
  const save = h('button.primary#save', { type: 'submit' }, conflict ? 'Overwrite theirs' : 'Save');

  const form = h('form#edit-form', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      let value = area.value;
      if (isJsonType(type.value)) {
        const p = parseJson(value);
        if (!p.ok) {
          error.textContent = `Not valid JSON: ${p.error}`;
          area.focus();
          return;
        }
        value = JSON.stringify(p.value);
      }
      save.disabled = true;
      try {
        const res = await api.putKey(state.ns, item, value, { contentType: type.value, ifMatch: etag, keepTtl: true });
        current.own = res.revision;
        current.editing = false;
        toast(`Saved ${item.key}`);
        await load(item);
      } catch (e) {
        save.disabled = false;
        if (e.status === 412) return showConflict(area.value, type.value);
        error.textContent = e.message;
      }
    },
  },
  h('label', { for: 'editor' }, 'Value'), area,
  h('label', { for: 'edit-type' }, 'Content type'), type,
  error,
  h('div.actions', {},
    save,
    h('button', { type: 'button', onclick: () => { current.editing = false; render(); } }, 'Cancel')));

  const notice = conflict ? conflictNotice(conflict) : null;
  panel().replaceChildren(header(item), notice || '', form);
  area.addEventListener('input', () => { error.textContent = ''; });
  area.focus();
}

function conflictNotice(conflict) {
  const theirs = asText(conflict.theirs.bytes);
  return h('div.notice.conflict#conflict', { role: 'alert' },
    h('strong', {}, 'Someone else changed this key while you were editing. '),
    `It is now at revision ${conflict.theirs.revision}; your edit was not saved. Their value:`,
    h('pre.value', {}, theirs === null ? hexPreview(conflict.theirs.bytes, 128) : theirs),
    h('div.actions', {},
      h('button#take-theirs', { type: 'button', onclick: () => { current.editing = false; load(current.item); } }, 'Discard mine, show theirs')),
    h('p.muted', {}, 'Or keep editing below and save to overwrite their change.'));
}

async function showConflict(mine, type) {
  try {
    const theirs = await api.getKey(state.ns, current.item);
    current.data = theirs;
    edit({ mine, type, theirs });
  } catch (e) {
    if (e.status === 404) {
      toast(`${current.item.key} was deleted meanwhile`, { bad: true });
      closeDetail();
    } else {
      toast(e.message, { bad: true });
    }
  }
}

// ------------------------------------------------------------ TTL, delete

async function setTtl() {
  const { item } = current;
  const ttl = await openDialog((close) => {
    const input = h('input#ttl-input', { placeholder: '30s, 5m, 1h30m, 7d', spellcheck: 'false', autofocus: true, required: true });
    const error = h('p.error', { role: 'alert' });
    return h('form', {
      onsubmit: (ev) => {
        ev.preventDefault();
        if (!/^(\d+(ms|s|m|h|d)?)+$/.test(input.value.trim())) {
          error.textContent = 'Use a duration such as 90s, 15m, 1h30m or 7d.';
          return;
        }
        close(input.value.trim());
      },
    },
    h('h2', {}, 'Time to live'),
    h('p', {}, 'The key is deleted when this time has passed.'),
    h('label', { for: 'ttl-input' }, 'Expires in'), input, error,
    h('div.buttons', {}, h('button', { type: 'button', onclick: () => close(null) }, 'Cancel'),
      h('button.primary#ttl-save', { type: 'submit' }, 'Set TTL')));
  });
  if (!ttl) return;
  try {
    current.own = (await api.expireKey(state.ns, item, ttl)).revision;
    toast(`${item.key} expires in ${ttl}`);
    await load(item);
  } catch (e) { toast(e.message, { bad: true }); }
}

async function clearTtl() {
  const { item } = current;
  try {
    current.own = (await api.persistKey(state.ns, item)).revision;
    toast(`${item.key} no longer expires`);
    await load(item);
  } catch (e) { toast(e.message, { bad: true }); }
}

async function remove() {
  const { item, data } = current;
  const yes = await confirmDialog({
    title: 'Delete this key?', action: 'Delete',
    message: `“${item.key}” (${formatBytes(data.bytes.length)}) will be deleted. This cannot be undone.`,
  });
  if (!yes) return;
  try {
    await api.deleteKey(state.ns, item, data.etag);
    toast(`Deleted ${item.key}`);
    closeDetail();
  } catch (e) {
    if (e.status === 412) {
      toast('The key changed since you opened it: look at it again before deleting.', { bad: true });
      await load(item);
    } else if (e.status === 404) {
      toast(`${item.key} was gone already`);
      closeDetail();
    } else {
      toast(e.message, { bad: true });
    }
  }
}

// A watch event: when it is about the open key, show the news. An open
// editor is left alone (saving will then show the conflict).
export function applyEventToDetail(ev) {
  if (!current || keyId(ev) !== keyId(current.item)) return;
  if (ev.type === 'delete' || ev.type === 'expire') {
    if (current.editing) return;
    toast(`${current.item.key} was ${ev.type === 'delete' ? 'deleted' : 'expired'}`);
    closeDetail();
    return;
  }
  if (ev.revision <= current.data.revision || ev.revision <= current.own) return; // seen, or our own write
  if (current.editing) {
    const form = $('#edit-form');
    if (form && !$('#changed-notice')) {
      form.before(h('div.notice#changed-notice', { role: 'status' },
        `Changed elsewhere (revision ${ev.revision}) while you edit: saving will show both versions.`));
    }
    return;
  }
  load(current.item, h('div.notice#changed-notice', { role: 'status' },
    `Updated elsewhere just now (revision ${ev.revision}).`));
}

// Small DOM helpers shared by the views: elements are built with h() and text
// is always set as text (never as HTML), so a key or value cannot inject
// markup. Also: formatting, the toast, and the one <dialog>.

// h('button.primary#save', {type: 'button', onclick}, 'Save')
export function h(spec, attrs = {}, ...children) {
  const [, tag, rest] = spec.match(/^([a-z0-9]+)(.*)$/);
  const el = document.createElement(tag);
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'value') el.value = value;
    else if (name in el && typeof value !== 'string') el[name] = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export const $ = (sel) => document.querySelector(sel);

export function formatBytes(n) {
  if (n === null || n === undefined) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

// 90_061_000 -> "1d 1h", 61_000 -> "1m 1s": the two largest units.
export function formatDuration(ms) {
  if (ms <= 0) return 'expired';
  let s = Math.ceil(ms / 1000);
  const parts = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    if (s >= size || (unit === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.slice(0, 2).join(' ');
}

export function formatTime(ms) {
  if (!ms) return '';
  return new Date(ms).toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

export function formatAgo(ms) {
  if (!ms) return '';
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return formatTime(ms);
}

let toastTimer;
export function toast(message, { bad = false } = {}) {
  const el = $('#toast');
  el.textContent = message;
  el.classList.toggle('bad', bad);
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), bad ? 6000 : 3000);
}

// Shows the dialog with `content` (a node or nodes); resolves with the value
// passed to close(), or null when dismissed (Esc). `build` gets close().
export function openDialog(build) {
  const dialog = $('#dialog');
  return new Promise((resolve) => {
    let done = false;
    const close = (value = null) => {
      if (done) return;
      done = true;
      dialog.close();
      resolve(value);
    };
    dialog.replaceChildren(...[build(close)].flat());
    dialog.onclose = () => close(null);
    dialog.showModal();
    const first = dialog.querySelector('[autofocus], input, select, textarea, button.primary');
    if (first) first.focus();
  });
}

// A yes/no question. Resolves true when confirmed.
export function confirmDialog({ title, message, action, danger = true }) {
  return openDialog((close) => [
    h('h2', {}, title),
    h('p', {}, message),
    h('div.buttons', {},
      h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'),
      h(`button.${danger ? 'danger.solid' : 'primary'}`, { type: 'button', onclick: () => close(true) }, action)),
  ]).then((v) => v === true);
}

// Hands `blob` to the browser as a download named `name`.
export function saveBlob(blob, name) {
  const a = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

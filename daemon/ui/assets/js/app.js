// The kv admin panel: sign-in, then one namespace at a time (its keys, a
// key's page, add, clear, export and import), kept current by the watch
// stream. Served by kvd at /ui (daemon/api/ui_routes.h); talks to /v1.
import * as api from './api.js';
import { $, h, openDialog, toast } from './dom.js';
import { applyEventToDetail, closeDetail, onDetailClosed, openDetail } from './detail.js';
import {
  applyEvent, firstPage, loadNamespaces, markSelected, nextPage, onOpenKey, onSelectNamespace,
  previousPage, refreshUsageSoon, tickTtls,
} from './keys.js';
import { startLive, stopLive } from './live.js';
import { keyId, nsLabel, state } from './state.js';
import { exportDialog, importDialog } from './transfer.js';

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

// ------------------------------------------------------------ sign-in

function showSignIn(message = '') {
  stopLive();
  $('#app').hidden = true;
  $('#signin').hidden = false;
  $('#signin-error').textContent = message;
  $('#signin-token').focus();
}

api.setSignedOutHandler(() => {
  api.session.clear();
  showSignIn('Your session has ended: sign in again.');
});

$('#signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = $('#signin-token');
  const token = input.value.trim();
  try {
    await api.signInWithToken(token);
    input.value = '';
    await enter();
  } catch (e) {
    $('#signin-error').textContent = e.status === 401 ? 'That token is not valid here.' : e.message;
  }
});

$('#signout').addEventListener('click', async () => {
  await api.signOut();
  closeDetail();
  showSignIn('Signed out.');
});

// ------------------------------------------------------------ namespace

function follow(since) {
  startLive(state.ns, since, (ev) => {
    applyEvent(ev);
    applyEventToDetail(ev);
    refreshUsageSoon();
  }, () => reload());
}

// Reloads the namespace list, the first page and the live stream.
async function reload() {
  try {
    const revision = await loadNamespaces();
    await firstPage();
    follow(revision);
  } catch (e) {
    toast(e.message, { bad: true });
  }
}

function selectNamespace(ns) {
  state.ns = ns;
  sessionStorage.setItem('kv.ns', JSON.stringify(ns));
  closeDetail();
  $('#search-text').value = '';
  state.search.text = '';
  return reload();
}
onSelectNamespace(selectNamespace);

$('#ns-open').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const [ns, app = 'default', extra] = $('#ns-name').value.trim().split('/');
  if (!NAME.test(ns) || !NAME.test(app) || extra !== undefined) {
    $('#ns-error').textContent = 'Names are 1 to 64 of A-Z a-z 0-9 . _ - (namespace or namespace/app).';
    return;
  }
  $('#ns-error').textContent = '';
  $('#ns-name').value = '';
  selectNamespace({ ns, app });
});

$('#menu').addEventListener('click', () => {
  const open = $('#sidebar').classList.toggle('open');
  $('#menu').setAttribute('aria-expanded', String(open));
});

// ------------------------------------------------------------ keys

onOpenKey((item) => {
  markSelected(keyId(item));
  openDetail(item);
});
onDetailClosed(() => markSelected(null));

let searchTimer;
function search() {
  state.search = { mode: $('#search-mode').value, text: $('#search-text').value };
  firstPage();
}
$('#search').addEventListener('submit', (ev) => { ev.preventDefault(); clearTimeout(searchTimer); search(); });
$('#search-text').addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 250); });
$('#search-mode').addEventListener('change', search);
$('#next').addEventListener('click', () => nextPage());
$('#prev').addEventListener('click', () => previousPage());

document.addEventListener('keydown', (ev) => {
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName);
  if (ev.key === '/' && !typing && !$('#dialog').open) {
    ev.preventDefault();
    $('#search-text').focus();
  } else if (ev.key === 'Escape' && !$('#dialog').open && !$('#detail').hidden && !typing) {
    closeDetail();
  }
});

// ------------------------------------------------------------ add, clear

$('#add').addEventListener('click', async () => {
  const added = await openDialog((close) => {
    const key = h('input#add-key', { required: true, spellcheck: 'false', autofocus: true, placeholder: 'user:42' });
    const type = h('select#add-type', {},
      h('option', { value: 'application/json' }, 'JSON'),
      h('option', { value: 'text/plain; charset=utf-8' }, 'Text'));
    const value = h('textarea#add-value', { spellcheck: 'false', placeholder: '{"name": "Ada"}' });
    const ttl = h('input#add-ttl', { spellcheck: 'false', placeholder: 'none, or 30s, 1h, 7d' });
    const error = h('p.error#add-error', { role: 'alert' });
    return h('form', {
      onsubmit: async (ev) => {
        ev.preventDefault();
        let body = value.value;
        if (type.value === 'application/json') {
          try { body = JSON.stringify(JSON.parse(body)); } catch (e) {
            error.textContent = `Not valid JSON: ${e.message}`;
            return;
          }
        }
        const t = ttl.value.trim();
        if (t && !/^(\d+(ms|s|m|h|d)?)+$/.test(t)) {
          error.textContent = 'TTL: use a duration such as 90s, 15m, 1h30m or 7d, or leave it empty.';
          return;
        }
        try {
          await api.putKey(state.ns, { key: key.value }, body, { contentType: type.value, ifAbsent: true, ttl: t || undefined });
          close(key.value);
        } catch (e) {
          error.textContent = e.status === 412 ? `A key named “${key.value}” exists already: open it to edit it.` : e.message;
        }
      },
    },
    h('h2', {}, `Add a key to ${nsLabel(state.ns)}`),
    h('label', { for: 'add-key' }, 'Key'), key,
    h('label', { for: 'add-type' }, 'Type'), type,
    h('label', { for: 'add-value' }, 'Value'), value,
    h('label', { for: 'add-ttl' }, 'Expires in (optional)'), ttl,
    error,
    h('div.buttons', {}, h('button', { type: 'button', onclick: () => close() }, 'Cancel'),
      h('button.primary#add-save', { type: 'submit' }, 'Add key')));
  });
  if (added) {
    toast(`Added ${added}`);
    openDetail({ key: added });
    markSelected(added);
  }
});

$('#clear').addEventListener('click', async () => {
  const name = nsLabel(state.ns);
  const yes = await openDialog((close) => {
    const input = h('input#clear-confirm', { spellcheck: 'false', autocomplete: 'off', autofocus: true });
    const go = h('button.danger.solid#clear-run', { type: 'submit', disabled: true }, 'Delete every key');
    input.addEventListener('input', () => { go.disabled = input.value !== name; });
    return h('form', { onsubmit: (ev) => { ev.preventDefault(); if (input.value === name) close(true); } },
      h('h2', {}, `Clear ${name}?`),
      h('p', {}, 'Every key of this namespace will be deleted. This cannot be undone.'),
      h('label', { for: 'clear-confirm' }, `Type ${name} to confirm`), input,
      h('div.buttons', {}, h('button', { type: 'button', onclick: () => close(false) }, 'Cancel'), go));
  });
  if (!yes) return;
  try {
    const { deleted } = await api.clearNamespace(state.ns);
    toast(`Deleted ${deleted} ${deleted === 1 ? 'key' : 'keys'}`);
    closeDetail();
    await reload();
  } catch (e) { toast(e.message, { bad: true }); }
});

$('#export').addEventListener('click', () => exportDialog());
$('#import').addEventListener('click', async () => {
  if (await importDialog()) await reload();
});

// ------------------------------------------------------------ start

async function enter() {
  $('#signin').hidden = true;
  $('#app').hidden = false;
  $('#app').classList.add('no-detail');
  $('#tenant').textContent = `tenant ${api.session.tenant}`;
  try {
    const saved = JSON.parse(sessionStorage.getItem('kv.ns') || 'null');
    if (saved && NAME.test(saved.ns) && NAME.test(saved.app)) state.ns = saved;
  } catch { /* the default namespace */ }
  await reload();
}

async function start() {
  // A one-time login link from `kv ui`: trade the code for a session, and
  // take it out of the address bar and the history at once.
  const code = new URLSearchParams(location.hash.slice(1)).get('login');
  if (code) {
    history.replaceState(null, '', location.pathname);
    try {
      await api.signInWithCode(code);
    } catch (e) {
      showSignIn(e.message);
      return;
    }
  }
  if (!api.session.token) {
    showSignIn();
    return;
  }
  await enter();
}

setInterval(tickTtls, 1000);
start();

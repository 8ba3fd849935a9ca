// Export a namespace to a file and import one, in two formats:
//   - kv's NDJSON (what `kv export` writes and `kv import` reads): one
//     {"key","value"[,"encoding"],"content_type"[,"ttl_ms"]} per line; exact.
//   - a JSON object {key: value} (Invoke's kv.get/kv.set view of a project):
//     JSON values stay JSON, text becomes a string; bytes that are not text
//     cannot be written this way and are left out (the export says how many).
// Import merges (keys in the file overwrite, others stay) or replaces (the
// namespace is cleared first), and writes through POST /v1/batch in chunks,
// with a progress bar.
import * as api from './api.js';
import { h, openDialog, saveBlob, toast } from './dom.js';
import { nsLabel, state } from './state.js';

const EXPORT_PAGE = 1000;
const BATCH_ITEMS = 500;
const BATCH_BYTES = 4 << 20; // well under kvd's body limit (--max-value-bytes)

function saveFile(name, text, type) {
  saveBlob(new Blob([text], { type }), name);
}

function progressView(label) {
  const bar = h('progress#progress', { max: 1, value: 0 });
  const text = h('p#progress-text', { 'aria-live': 'polite' }, label);
  return {
    nodes: [bar, text],
    set(done, total, what) {
      bar.max = Math.max(total, 1);
      bar.value = done;
      text.textContent = what;
    },
  };
}

// ------------------------------------------------------------ export

async function runExport(format, progress) {
  const lines = [];
  const object = {};
  let count = 0;
  let skipped = 0;
  let cursor = '';
  const total = (await api.stats(state.ns)).keys;
  for (let pages = 0; pages < 1e6; pages += 1) {
    const page = await api.listKeys(state.ns, { cursor, limit: EXPORT_PAGE, values: true });
    const now = Date.now();
    for (const item of page.keys) {
      const ttl = item.expire_at_ms ? item.expire_at_ms - now : null;
      if (ttl !== null && ttl <= 0) continue;
      if (format === 'ndjson') {
        const rec = { key: item.key };
        if (item.key_encoding) rec.key_encoding = item.key_encoding;
        rec.value = item.value;
        if (item.encoding !== 'json') rec.encoding = item.encoding;
        rec.content_type = item.content_type;
        if (ttl !== null) rec.ttl_ms = ttl;
        lines.push(JSON.stringify(rec));
      } else if (item.encoding === 'base64' || item.key_encoding) {
        skipped += 1;
        continue;
      } else {
        object[item.key] = item.value;
      }
      count += 1;
    }
    progress.set(count, total, `Exported ${count} of about ${total} keys…`);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  const base = nsLabel(state.ns).replace('/', '-');
  if (format === 'ndjson') {
    saveFile(`${base}.ndjson`, lines.length ? `${lines.join('\n')}\n` : '', 'application/x-ndjson');
  } else {
    saveFile(`${base}.json`, `${JSON.stringify(object, null, 2)}\n`, 'application/json');
  }
  return { count, skipped };
}

export function exportDialog() {
  return openDialog((close) => {
    const progress = progressView('');
    const run = h('button.primary#export-run', { type: 'submit' }, 'Export');
    const form = h('form', {
      onsubmit: async (ev) => {
        ev.preventDefault();
        run.disabled = true;
        const format = form.elements.format.value;
        try {
          const { count, skipped } = await runExport(format, progress);
          progress.set(count, count, `Exported ${count} ${count === 1 ? 'key' : 'keys'}.`
            + (skipped ? ` ${skipped} binary ${skipped === 1 ? 'value was' : 'values were'} left out: use kv NDJSON for those.` : ''));
          toast(`Exported ${count} keys`);
        } catch (e) {
          progress.set(0, 1, `Export failed: ${e.message}`);
        }
        run.disabled = false;
      },
    },
    h('h2', {}, `Export ${nsLabel(state.ns)}`),
    h('fieldset', {}, h('legend', {}, 'Format'),
      h('label.choice', {}, h('input', { type: 'radio', name: 'format', value: 'ndjson', checked: true }),
        h('span', {}, 'kv NDJSON — exact: every value, content type and TTL (kv import reads it)')),
      h('label.choice', {}, h('input', { type: 'radio', name: 'format', value: 'object' }),
        h('span', {}, 'JSON object {key: value} — Invoke’s format (no TTLs, no binary values)'))),
    ...progress.nodes,
    h('div.buttons', {}, h('button', { type: 'button', onclick: () => close() }, 'Close'), run));
    return form;
  });
}

// ------------------------------------------------------------ import

// The batch items of a file, or an Error saying why it cannot be read.
export function parseImport(text) {
  const trimmed = text.trim();
  if (!trimmed) throw new Error('The file is empty.');
  const firstLine = trimmed.slice(0, trimmed.indexOf('\n') >= 0 ? trimmed.indexOf('\n') : undefined);
  let first;
  try { first = JSON.parse(firstLine); } catch { first = undefined; }
  const isRecord = first && typeof first === 'object' && !Array.isArray(first)
    && typeof first.key === 'string' && 'value' in first;
  if (isRecord) {
    return trimmed.split('\n').map((line, i) => [line.trim(), i]).filter(([line]) => line).map(([line, i]) => {
      let rec;
      try { rec = JSON.parse(line); } catch { throw new Error(`Line ${i + 1} is not JSON.`); }
      if (!rec || typeof rec.key !== 'string' || !('value' in rec)) throw new Error(`Line ${i + 1} has no "key" and "value".`);
      const item = { key: rec.key };
      if (rec.key_encoding) item.key_encoding = rec.key_encoding;
      if (rec.encoding === 'text' || rec.encoding === 'base64') {
        item.value = String(rec.value);
        item.encoding = rec.encoding;
      } else {
        item.value = JSON.stringify(rec.value);
        item.encoding = 'text';
      }
      item.content_type = rec.content_type || (rec.encoding ? 'application/octet-stream' : 'application/json');
      if (typeof rec.ttl_ms === 'number') {
        if (rec.ttl_ms <= 0) return null; // expired on the way
        item.ttl_ms = rec.ttl_ms;
      }
      return item;
    }).filter(Boolean);
  }
  let doc;
  try { doc = JSON.parse(trimmed); } catch (e) {
    throw new Error(`The file is neither kv NDJSON ({"key":…,"value":…} per line) nor a JSON object of key → value: ${e.message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new Error('Expected a JSON object of key → value, or kv NDJSON.');
  }
  return Object.entries(doc).map(([key, value]) => {
    if (!key) throw new Error('The object has an empty key.');
    if (typeof value === 'string') {
      // As kv import does: a string that is JSON is stored as JSON.
      let json = false;
      try { JSON.parse(value); json = true; } catch { /* text */ }
      return { key, value, encoding: 'text', content_type: json ? 'application/json' : 'application/octet-stream' };
    }
    return { key, value: JSON.stringify(value), encoding: 'text', content_type: 'application/json' };
  });
}

async function runImport(items, replace, progress) {
  if (replace) {
    progress.set(0, items.length, 'Clearing the namespace…');
    await api.clearNamespace(state.ns);
  }
  let written = 0;
  const errors = [];
  let chunk = [];
  let bytes = 0;
  let done = 0;
  const flush = async () => {
    if (!chunk.length) return;
    const res = await api.batch(state.ns, chunk);
    written += res.written;
    for (const e of res.errors) errors.push(e);
    done += chunk.length;
    chunk = [];
    bytes = 0;
    progress.set(done, items.length, `Imported ${done} of ${items.length} keys…`);
  };
  for (const item of items) {
    const line = JSON.stringify(item);
    if (chunk.length >= BATCH_ITEMS || bytes + line.length > BATCH_BYTES) await flush();
    chunk.push(line);
    bytes += line.length + 1;
  }
  await flush();
  return { written, errors };
}

// Resolves true when something was imported (the list needs reloading).
export function importDialog() {
  let changed = false;
  return openDialog((close) => {
    const file = h('input#import-file', { type: 'file', accept: '.json,.ndjson,.jsonl,application/json,application/x-ndjson', required: true });
    const progress = progressView('');
    const run = h('button.primary#import-run', { type: 'submit' }, 'Import');
    const form = h('form', {
      onsubmit: async (ev) => {
        ev.preventDefault();
        const f = file.files[0];
        if (!f) return;
        let items;
        try {
          items = parseImport(await f.text());
        } catch (e) {
          progress.set(0, 1, e.message);
          return;
        }
        const replace = form.elements.mode.value === 'replace';
        run.disabled = true;
        try {
          const { written, errors } = await runImport(items, replace, progress);
          changed = true;
          let summary = `Imported ${written} of ${items.length} ${items.length === 1 ? 'key' : 'keys'}.`;
          if (errors.length) summary += ` ${errors.length} failed, e.g. ${errors[0].key}: ${errors[0].error}`;
          progress.set(items.length, items.length, summary);
          toast(summary, { bad: errors.length > 0 });
        } catch (e) {
          changed = true;
          progress.set(0, 1, `Import stopped: ${e.message}`);
        }
        run.disabled = false;
      },
    },
    h('h2', {}, `Import into ${nsLabel(state.ns)}`),
    h('p.muted', {}, 'kv NDJSON (from kv export or Export) or a JSON object {key: value}; the format is recognised.'),
    h('label', { for: 'import-file' }, 'File'), file,
    h('fieldset', {}, h('legend', {}, 'Keys already here'),
      h('label.choice', {}, h('input', { type: 'radio', name: 'mode', value: 'merge', checked: true }),
        h('span', {}, 'Merge: keys in the file overwrite, the others stay')),
      h('label.choice', {}, h('input', { type: 'radio', name: 'mode', value: 'replace' }),
        h('span', {}, 'Replace: delete every key of the namespace first'))),
    ...progress.nodes,
    h('div.buttons', {}, h('button', { type: 'button', onclick: () => close() }, 'Close'), run));
    return form;
  }).then(() => changed);
}

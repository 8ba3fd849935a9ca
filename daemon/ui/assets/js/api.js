// The kvd HTTP API as the page uses it (daemon/api/native_api.h documents
// every route). Every call sends the session token as a Bearer header: the
// page never relies on a cookie, so another site cannot make the browser
// write to kvd. The session token lives in sessionStorage: it ends with the
// tab, and the URL never carries it.

const TOKEN = 'kv.session';
const TENANT = 'kv.tenant';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN); },
  get tenant() { return sessionStorage.getItem(TENANT) || ''; },
  save(grant) {
    sessionStorage.setItem(TOKEN, grant.token);
    sessionStorage.setItem(TENANT, grant.tenant);
  },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(TENANT);
  },
};

// Called when kvd answers 401 to a signed-in request (the session ended).
let onSignedOut = () => {};
export function setSignedOutHandler(fn) { onSignedOut = fn; }

async function errorOf(res) {
  let body = {};
  try { body = await res.json(); } catch { /* not JSON */ }
  return new ApiError(res.status, body.code || `HTTP_${res.status}`,
                      body.error || res.statusText || `HTTP ${res.status}`);
}

// fetch() with the token; throws ApiError for any answer that is not 2xx.
async function call(method, path, { ns, query, headers, body, signal, token } = {}) {
  const url = new URL(path, location.origin);
  if (ns) {
    url.searchParams.set('ns', ns.ns);
    url.searchParams.set('app', ns.app);
  }
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, value);
  }
  const h = new Headers(headers || {});
  const bearer = token || session.token;
  if (bearer) h.set('Authorization', `Bearer ${bearer}`);
  let res;
  try {
    res = await fetch(url, { method, headers: h, body, signal, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'UNREACHABLE', 'kvd cannot be reached');
  }
  if (res.ok) return res;
  const err = await errorOf(res);
  if (res.status === 401 && !token && session.token) onSignedOut(err);
  throw err;
}

async function json(method, path, options) {
  const res = await call(method, path, options);
  return res.status === 204 ? null : res.json();
}

// A key in a path: every byte percent-encoded but the unreserved ones, so '/'
// in a key never reaches kvd as a path separator. Keys that are not UTF-8
// come from kvd in base64 (key_encoding) and go back as their raw bytes.
export function keyPath(item) {
  const bytes = item.key_encoding === 'base64'
    ? Uint8Array.from(atob(item.key), (c) => c.charCodeAt(0))
    : new TextEncoder().encode(item.key);
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `/v1/kv/${out}`;
}

// ------------------------------------------------------------- sign-in

export async function signInWithCode(code) {
  const res = await fetch('/ui/api/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code }), cache: 'no-store',
  });
  if (!res.ok) throw await errorOf(res);
  session.save(await res.json());
}

export async function signInWithToken(token) {
  session.save(await json('POST', '/ui/api/session', { token }));
}

export async function signOut() {
  try { await call('DELETE', '/ui/api/session'); } catch { /* gone already */ }
  session.clear();
}

// ------------------------------------------------------------- the store

export const namespaces = () => json('GET', '/v1/namespaces');
export const stats = (ns) => json('GET', '/v1/stats', { ns });

// One page of keys: {keys, next_cursor}.
export function listKeys(ns, { prefix, contains, cursor, limit = 50, values = false, signal }) {
  return json('GET', '/v1/keys', {
    ns, signal, query: { prefix, contains, cursor, limit, values: values ? 1 : undefined },
  });
}

// A key's value and metadata, from one GET (its headers carry the metadata).
export async function getKey(ns, item) {
  const res = await call('GET', keyPath(item), { ns });
  const h = res.headers;
  const bytes = new Uint8Array(await res.arrayBuffer());
  const expires = h.get('KV-Expires-At');
  return {
    key: item.key, key_encoding: item.key_encoding, bytes,
    content_type: h.get('Content-Type') || 'application/octet-stream',
    etag: (h.get('ETag') || '').replace(/"/g, ''),
    revision: Number(h.get('KV-Revision') || 0),
    created: h.get('X-Created-At'),
    updated: h.get('Last-Modified'),
    expire_at_ms: expires ? Number(expires) : null,
  };
}

// PUT. `condition`: {ifMatch: etag} | {ifAbsent: true}; `ttl`: a duration
// ("1h") or undefined to keep the key's TTL (keepTtl) or have none.
export function putKey(ns, item, value, { contentType, ifMatch, ifAbsent, ttl, keepTtl } = {}) {
  const headers = { 'Content-Type': contentType || 'application/octet-stream' };
  if (ifMatch) headers['If-Match'] = `"${ifMatch}"`;
  if (ifAbsent) headers['If-None-Match'] = '*';
  if (ttl) headers['KV-TTL'] = ttl;
  else if (keepTtl) headers['KV-Keep-TTL'] = '1';
  return json('PUT', keyPath(item), { ns, headers, body: value });
}

export function deleteKey(ns, item, etag) {
  return call('DELETE', keyPath(item), { ns, headers: etag ? { 'If-Match': `"${etag}"` } : {} });
}

export const expireKey = (ns, item, ttl) => json('POST', `${keyPath(item)}/expire`, { ns, query: { ttl } });
export const persistKey = (ns, item) => json('POST', `${keyPath(item)}/persist`, { ns });
export const clearNamespace = (ns) => json('DELETE', '/v1/keys', { ns, query: { confirm: 1 } });

// POST /v1/batch: `lines` are NDJSON lines of batch items.
export function batch(ns, lines) {
  return json('POST', '/v1/batch', {
    ns, headers: { 'Content-Type': 'application/x-ndjson' }, body: `${lines.join('\n')}\n`,
  });
}

// Streams the namespace's changes after revision `since`, calling onEvent
// for each, until the stream ends (resolves) or fails (rejects).
export async function watch(ns, since, onEvent, signal) {
  const res = await call('GET', '/v1/watch', { ns, query: { since }, signal });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    pending += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (!line) continue;
      const event = JSON.parse(line);
      if (event.error) throw new ApiError(event.status, event.code, event.error);
      onEvent(event);
    }
  }
}

// The admin panel in a real browser: Debian's chromium (/usr/bin/chromium,
// never a downloaded one), driven headless by playwright-core, against a real
// kvd started here on 127.0.0.1, with the real kv CLI writing alongside.
// The steps run in order on one kvd and one browser, as a person would use
// the panel: sign in, browse, search, view, edit (with a conflict), TTL,
// delete, export then import, a live update from `kv set`, `kv ui`'s
// one-time link, a phone-sized screen, dark mode, sign out.
//
// Screenshots go to $UI_ARTIFACTS (ctest sets build/tests/ui/artifacts).
//
//   KVD_PATH=build/cmd/kvd KV_PATH=build/cmd/kv node --test tests/ui/admin_panel_test.mjs
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { chromium } from 'playwright-core';

const KVD = process.env.KVD_PATH;
const KV = process.env.KV_PATH;
const ARTIFACTS = process.env.UI_ARTIFACTS || path.join(tmpdir(), 'kv-ui-artifacts');
assert.ok(KVD && KV, 'set KVD_PATH and KV_PATH to the built kvd and kv');
mkdirSync(ARTIFACTS, { recursive: true });

const dir = mkdtempSync(path.join(tmpdir(), 'kv-ui-test-'));
const socket = path.join(dir, 'kvd.sock');
let kvd;
let base;      // http://127.0.0.1:PORT
let token;     // acme's kv_ token
let context;   // the browser
let page;
const pageErrors = []; // uncaught errors in the page's scripts

// ------------------------------------------------------------ helpers

function startKvd() {
  return new Promise((resolve, reject) => {
    kvd = spawn(KVD, ['--data-dir', path.join(dir, 'data'), '--socket', socket,
      '--listen', '127.0.0.1:0', '--log-file', path.join(dir, 'kvd.log')],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    kvd.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on tcp (\S+)\n/);
      if (m) resolve(`http://${m[1]}`);
    });
    kvd.on('exit', (code) => reject(new Error(`kvd exited (${code}) before listening: ${out}`)));
  });
}

// Runs kv; resolves {code, stdout (Buffer), stderr}.
function kvRun(args, { input, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = execFile(KV, args, {
      encoding: 'buffer', timeout: 30000,
      env: { ...process.env, KV_NO_AUTOSTART: '1', XDG_CONFIG_HOME: path.join(dir, 'config'), DISPLAY: '', WAYLAND_DISPLAY: '', ...env },
    }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr: stderr.toString() });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

// kv as tenant acme, over TCP with its token.
async function kv(args, options) {
  const r = await kvRun(['--url', base, '--token', token, ...args], options);
  return r;
}
async function kvOk(args, options) {
  const r = await kv(args, options);
  assert.equal(r.code, 0, `kv ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString();
}

async function shot(name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

const rows = () => page.locator('#keys tr');
const row = (key) => page.locator(`#keys tr[data-key="${key}"]`);

async function openKey(key) {
  await row(key).locator('button.keylink').click();
  await page.locator('#detail-key', { hasText: key }).waitFor();
  await page.locator('#meta').waitFor();
}

// ------------------------------------------------------------ setup

before(async () => {
  base = await startKvd();
  const made = await kvRun(['--socket', socket, 'token', 'create', 'acme']);
  assert.equal(made.code, 0, made.stderr);
  token = made.stdout.toString().trim();
  assert.match(token, /^kv_/);

  // 60 JSON users, a text note, a binary blob, a session with a TTL.
  const lines = [];
  for (let i = 0; i < 60; i += 1) {
    const n = String(i).padStart(3, '0');
    lines.push(JSON.stringify({ key: `user:${n}`, value: { name: `User ${n}`, n: i, admin: i === 7 }, content_type: 'application/json' }));
  }
  await kvOk(['import'], { input: `${lines.join('\n')}\n` });
  await kvOk(['set', 'note', 'Remember the milk', '--content-type', 'text/plain']);
  await kvOk(['set', 'blob', '-', '--content-type', 'application/octet-stream'], { input: Buffer.from([0, 1, 2, 255, 254, 10, 65, 66]) });
  await kvOk(['set', 'session:abc', '{"user":7}', '--ttl', '2h']);
  await kvOk(['-n', 'shop', 'set', 'cart:1', '{"items":[1,2]}']);
  // Another tenant's key: never shown to acme.
  await kvRun(['--socket', socket, 'set', 'local-secret', 'x']);

  const profile = path.join(dir, 'chromium-profile');
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e));
});

after(async () => {
  await context?.close();
  if (kvd && kvd.exitCode === null) {
    kvd.kill('SIGTERM');
    await new Promise((r) => { kvd.on('exit', r); });
  }
  rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------ the steps

test('sign in with a tenant token; a wrong one is refused', async () => {
  await page.goto(`${base}/ui/`);
  await page.locator('#signin-form').waitFor();
  await shot('01-sign-in');
  await page.fill('#signin-token', 'kv_not_a_real_token');
  await page.click('#signin-form button[type=submit]');
  await page.locator('#signin-error', { hasText: 'not valid' }).waitFor();

  await page.fill('#signin-token', token);
  await page.click('#signin-form button[type=submit]');
  await page.locator('#tenant', { hasText: 'tenant acme' }).waitFor();
  // The browser keeps a session token, never the tenant token, and no URL carries either.
  const stored = await page.evaluate(() => sessionStorage.getItem('kv.session'));
  assert.match(stored, /^kvs_/);
  assert.ok(!page.url().includes('kv_') && !page.url().includes('kvs_'));
});

test('browse: namespaces with usage, keys in pages of 50', async () => {
  await page.locator('#keys tr').first().waitFor();
  assert.equal(await rows().count(), 50);
  await page.locator('#page-info', { hasText: 'Page 1' }).waitFor();
  await assert.doesNotReject(row('blob').waitFor());
  assert.equal(await row('local-secret').count(), 0);
  // Namespaces of acme only, with counts and a usage bar.
  const ns = page.locator('#namespaces button');
  assert.deepEqual(await ns.locator('.ns-name').allTextContents(), ['default', 'shop']);
  await page.locator('#namespaces button[data-ns="default"] .ns-stats', { hasText: '63 keys' }).waitFor();
  assert.equal(await page.locator('#namespaces .bar[role=meter]').count(), 2);
  await shot('02-browse');

  await page.click('#next');
  await page.locator('#page-info', { hasText: 'Page 2' }).waitFor();
  assert.equal(await rows().count(), 13);
  await row('user:059').waitFor();
  await page.click('#prev');
  await page.locator('#page-info', { hasText: 'Page 1' }).waitFor();
  assert.equal(await rows().count(), 50);

  await page.click('#namespaces button[data-ns="shop"]');
  await row('cart:1').waitFor();
  assert.equal(await rows().count(), 1);
  await page.click('#namespaces button[data-ns="default"]');
  await row('blob').waitFor();
});

test('search by prefix and by substring', async () => {
  await page.fill('#search-text', 'user:01');
  await page.press('#search-text', 'Enter');
  await page.locator('#page-info', { hasText: '10 keys' }).waitFor();
  assert.equal(await rows().count(), 10);
  assert.equal(await rows().first().getAttribute('data-key'), 'user:010');

  await page.selectOption('#search-mode', 'contains');
  await page.fill('#search-text', 'ESSION');
  await page.press('#search-text', 'Enter');
  await page.locator('#page-info', { hasText: '1 key' }).waitFor();
  assert.equal(await rows().first().getAttribute('data-key'), 'session:abc');
  await shot('03-search');

  await page.fill('#search-text', 'nothing-like-this');
  await page.press('#search-text', 'Enter');
  await page.locator('#empty', { hasText: 'contains' }).waitFor();

  await page.fill('#search-text', '');
  await page.selectOption('#search-mode', 'prefix');
  await page.press('#search-text', 'Enter');
  await page.locator('#page-info', { hasText: '50 keys' }).waitFor();
});

test('view: JSON pretty and highlighted, text as text, binary as hex with a download', async () => {
  await openKey('user:007');
  assert.equal(await page.textContent('#value-kind'), 'JSON');
  const shown = await page.textContent('#value');
  assert.deepEqual(JSON.parse(shown), { name: 'User 007', n: 7, admin: true });
  assert.ok(shown.includes('\n  "name"'), 'pretty-printed');
  assert.ok(await page.locator('#value span.k').count() >= 3, 'keys highlighted');
  const etag = (await kvOk(['meta', 'user:007', '-o', 'json']));
  assert.ok((await page.textContent('#meta')).includes(`"${JSON.parse(etag).etag}"`));
  await shot('04-view-json');

  await openKey('note');
  assert.equal(await page.textContent('#value-kind'), 'text');
  assert.equal(await page.textContent('#value'), 'Remember the milk');

  await openKey('blob');
  assert.equal(await page.textContent('#value-kind'), 'binary');
  assert.match(await page.textContent('#value'), /00000000 {2}00 01 02 ff fe 0a 41 42/);
  assert.equal(await page.locator('#edit').isDisabled(), true);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const saved = path.join(dir, 'blob.bin');
  await download.saveAs(saved);
  assert.deepEqual([...readFileSync(saved)], [0, 1, 2, 255, 254, 10, 65, 66]);
});

test('edit: invalid JSON is refused, a concurrent change is a visible conflict', async () => {
  await openKey('user:001');
  await page.click('#edit');
  await page.fill('#editor', '{"name": "broken",');
  await page.click('#save');
  await page.locator('#edit-error', { hasText: 'Not valid JSON' }).waitFor();
  assert.deepEqual(JSON.parse(await kvOk(['get', 'user:001'])), { name: 'User 001', n: 1, admin: false });

  // Someone else writes while the editor is open...
  await kvOk(['set', 'user:001', '{"name":"changed by the CLI"}']);
  await page.fill('#editor', '{"name": "changed in the browser"}');
  await page.click('#save');
  // ...so saving shows their value instead of overwriting it.
  await page.locator('#conflict').waitFor();
  assert.ok((await page.textContent('#conflict')).includes('changed by the CLI'));
  assert.deepEqual(JSON.parse(await kvOk(['get', 'user:001'])), { name: 'changed by the CLI' });
  await shot('05-edit-conflict');

  // Overwriting is a deliberate second step.
  await page.click('#save');
  await page.locator('#value-kind', { hasText: 'JSON' }).waitFor();
  assert.deepEqual(JSON.parse(await kvOk(['get', 'user:001'])), { name: 'changed in the browser' });
});

test('add a key; adding it again is refused', async () => {
  await page.click('#add');
  await page.fill('#add-key', 'fresh');
  await page.fill('#add-value', '{"hello": "world"}');
  await page.click('#add-save');
  await page.locator('#detail-key', { hasText: 'fresh' }).waitFor();
  assert.deepEqual(JSON.parse(await kvOk(['get', 'fresh'])), { hello: 'world' });
  await page.click('#add');
  await page.fill('#add-key', 'fresh');
  await page.fill('#add-value', '1');
  await page.click('#add-save');
  await page.locator('#add-error', { hasText: 'exists already' }).waitFor();
  await page.keyboard.press('Escape');
  assert.deepEqual(JSON.parse(await kvOk(['get', 'fresh'])), { hello: 'world' });
});

test('TTL: set, then clear', async () => {
  await openKey('note');
  await page.click('#ttl');
  await page.fill('#ttl-input', 'soon');
  await page.click('#ttl-save');
  await page.locator('#dialog .error', { hasText: 'duration' }).waitFor();
  await page.fill('#ttl-input', '1h');
  await page.click('#ttl-save');
  await page.locator('#meta dd[data-field="Expires"]', { hasText: 'in ' }).waitFor();
  const meta = JSON.parse(await kvOk(['meta', 'note', '-o', 'json']));
  assert.ok(meta.ttl_ms > 3500000 && meta.ttl_ms <= 3600000, `ttl_ms ${meta.ttl_ms}`);
  await page.locator('#keys tr[data-key="note"] td.ttl', { hasText: /\d/ }).waitFor();

  await page.click('#persist');
  await page.locator('#meta dd[data-field="Expires"]', { hasText: 'never' }).waitFor();
  assert.equal(JSON.parse(await kvOk(['meta', 'note', '-o', 'json'])).ttl_ms, null);
});

test('delete asks first', async () => {
  await openKey('user:002');
  await page.click('#delete');
  await page.click('#dialog button:has-text("Cancel")');
  assert.equal((await kv(['has', 'user:002'])).code, 0);
  await page.click('#delete');
  await page.click('#dialog button:has-text("Delete")');
  await page.locator('#detail').waitFor({ state: 'hidden' });
  await row('user:002').waitFor({ state: 'detached' });
  assert.equal((await kv(['has', 'user:002'])).code, 1);
});

test('export, clear with typed confirmation, import: everything comes back', async () => {
  const before = (await kvOk(['export'])).trim().split('\n').map((l) => JSON.parse(l));
  await page.click('#export');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-run')]);
  const file = path.join(dir, 'default.ndjson');
  await download.saveAs(file);
  await page.locator('#progress-text', { hasText: `Exported ${before.length} keys` }).waitFor();
  await page.click('#dialog button:has-text("Close")');
  const exported = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(exported.map((r) => r.key), before.map((r) => r.key));

  // Invoke's format too: {key: value}.
  await page.click('#export');
  await page.check('#dialog input[value=object]');
  const [objDownload] = await Promise.all([page.waitForEvent('download'), page.click('#export-run')]);
  const objFile = path.join(dir, 'default.json');
  await objDownload.saveAs(objFile);
  await page.locator('#progress-text', { hasText: 'left out' }).waitFor(); // the binary blob
  await page.click('#dialog button:has-text("Close")');
  const obj = JSON.parse(readFileSync(objFile, 'utf8'));
  assert.deepEqual(obj['user:007'], { name: 'User 007', n: 7, admin: true });
  assert.equal(obj.note, 'Remember the milk');
  assert.equal(obj.blob, undefined);

  await page.click('#clear');
  await page.fill('#clear-confirm', 'defaul');
  assert.equal(await page.locator('#clear-run').isDisabled(), true);
  await page.fill('#clear-confirm', 'default');
  await page.click('#clear-run');
  await page.locator('#empty', { hasText: 'No keys here yet' }).waitFor();
  assert.equal((await kvOk(['ls'])).trim(), '');

  await page.click('#import');
  await page.setInputFiles('#import-file', file);
  await page.click('#import-run');
  await page.locator('#progress-text', { hasText: `Imported ${before.length} of ${before.length} keys` }).waitFor();
  assert.equal(await page.locator('#progress').getAttribute('max'), String(before.length));
  await shot('06-import');
  await page.click('#dialog button:has-text("Close")');
  await row('blob').waitFor();
  const after = (await kvOk(['export'])).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(after.map(({ ttl_ms: _t, ...r }) => r), before.map(({ ttl_ms: _t, ...r }) => r));
  assert.ok(after.find((r) => r.key === 'session:abc').ttl_ms > 0, 'TTLs come back');
  const blob = await kv(['get', 'blob']);
  assert.deepEqual([...blob.stdout], [0, 1, 2, 255, 254, 10, 65, 66]);

  // Invoke's {key: value} into another namespace, replacing what was there.
  const invoke = path.join(dir, 'invoke.json');
  writeFileSync(invoke, JSON.stringify({ 'user:1': { name: 'Alice' }, counter: 3, greeting: 'hi' }));
  await page.click('#namespaces button[data-ns="shop"]');
  await row('cart:1').waitFor();
  await page.click('#import');
  await page.setInputFiles('#import-file', invoke);
  await page.check('#dialog input[value=replace]');
  await page.click('#import-run');
  await page.locator('#progress-text', { hasText: 'Imported 3 of 3 keys' }).waitFor();
  await page.click('#dialog button:has-text("Close")');
  await row('greeting').waitFor();
  assert.equal(await row('cart:1').count(), 0);
  assert.deepEqual((await kvOk(['-n', 'shop', 'ls'])).trim().split('\n'), ['counter', 'greeting', 'user:1']);
  assert.deepEqual(JSON.parse(await kvOk(['-n', 'shop', 'get', 'user:1'])), { name: 'Alice' });

  // A file that is neither format changes nothing.
  const bad = path.join(dir, 'bad.json');
  writeFileSync(bad, '[1, 2, 3]');
  await page.click('#import');
  await page.setInputFiles('#import-file', bad);
  await page.click('#import-run');
  await page.locator('#progress-text', { hasText: 'Expected a JSON object' }).waitFor();
  await page.click('#dialog button:has-text("Close")');
  assert.equal((await kvOk(['-n', 'shop', 'ls'])).trim().split('\n').length, 3);
  await page.click('#namespaces button[data-ns="default"]');
  await row('blob').waitFor();
});

test('live: a kv set elsewhere shows up without a reload', async () => {
  await page.locator('#live[data-state="on"]').waitFor();
  await kvOk(['set', 'aaa-live', '{"from":"the CLI"}']);
  await row('aaa-live').waitFor();
  await openKey('aaa-live');
  await kvOk(['set', 'aaa-live', '{"from":"the CLI, again"}']);
  await page.locator('#changed-notice').waitFor();
  await page.locator('#value', { hasText: 'again' }).waitFor();
  await shot('07-live');
  await kvOk(['del', 'aaa-live']);
  await row('aaa-live').waitFor({ state: 'detached' });
  await page.locator('#detail').waitFor({ state: 'hidden' });
});

test('keyboard: / searches, Tab and Enter open a key, Esc closes it', async () => {
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'search-text');
  await page.keyboard.type('note');
  await page.keyboard.press('Enter');
  await page.locator('#page-info', { hasText: '1 key' }).waitFor();
  await row('note').locator('button.keylink').focus();
  await page.keyboard.press('Enter');
  await page.locator('#detail-key', { hasText: 'note' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-key');
  await page.keyboard.press('Escape');
  await page.locator('#detail').waitFor({ state: 'hidden' });
  await page.fill('#search-text', '');
  await page.press('#search-text', 'Enter');
  await page.locator('#page-info', { hasText: '50 keys' }).waitFor();
});

test('a phone-sized screen and dark mode', async () => {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.locator('#menu').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 360, `the page is ${overflow}px wide at 360px`);
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(18, 21, 27)');
  await shot('08-phone-dark');
  await page.click('#menu');
  await page.locator('#sidebar.open').waitFor();
  await shot('09-phone-namespaces');
  await page.click('#namespaces button[data-ns="default"]');
  await openKey('user:007');
  await shot('10-phone-key');
  await page.click('#detail header button');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('kv ui: a one-time sign-in link, and sign out', async () => {
  const ui = await kvRun(['--socket', socket, 'ui', '--no-browser']);
  assert.equal(ui.code, 0, ui.stderr);
  const url = ui.stdout.toString().trim();
  assert.match(url, new RegExp(`^${base}/ui/#login=kvl_`));
  assert.match(ui.stderr, /works once/);

  const tab = await context.newPage();
  await tab.goto(url);
  await tab.locator('#tenant', { hasText: 'tenant local' }).waitFor();
  assert.equal(new URL(tab.url()).hash, '', 'the code leaves the address bar');
  await tab.locator('#keys tr[data-key="local-secret"]').waitFor();
  // The link works once.
  const again = await context.newPage();
  await again.goto(url);
  await again.locator('#signin-error', { hasText: 'used already' }).waitFor();
  await again.close();

  // Signing out ends the session on kvd too.
  const session = await tab.evaluate(() => sessionStorage.getItem('kv.session'));
  await tab.click('#signout');
  await tab.locator('#signin-form').waitFor();
  const status = await tab.evaluate(async (t) => (await fetch('/v1/stats', { headers: { Authorization: `Bearer ${t}` } })).status, session);
  assert.equal(status, 401);
  await tab.close();
});

test('kv ui hands the browser a private page, never the code on a command line', async () => {
  // A browser that only records its arguments: what `ps` would show.
  const state = mkdtempSync(path.join(dir, 'state-'));
  const argsFile = path.join(dir, 'browser-args');
  const browser = path.join(dir, 'browser.sh');
  writeFileSync(browser, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\n`, { mode: 0o755 });
  const ui = await kvRun(['--socket', socket, 'ui'],
    { env: { DISPLAY: ':99', BROWSER: browser, XDG_STATE_HOME: state } });
  assert.equal(ui.code, 0, ui.stderr);
  assert.equal(ui.stdout.toString(), '', 'opened, so no URL printed');
  assert.match(ui.stderr, /opened the admin panel/);
  const arg = readFileSync(argsFile, 'utf8').trim();
  assert.match(arg, /^file:\/\//);
  assert.doesNotMatch(arg, /kvl_|login/, 'the code is not in the browser\'s arguments');
  const page = decodeURIComponent(new URL(arg).pathname);
  assert.ok(page.startsWith(path.join(state, 'kv') + '/'), page);
  assert.equal(statSync(page).mode & 0o777, 0o600);
  assert.match(readFileSync(page, 'utf8'), /#login=kvl_/);

  // The page signs the browser in, once.
  const tab = await context.newPage();
  await tab.goto(arg);
  await tab.locator('#tenant', { hasText: 'tenant local' }).waitFor();
  assert.equal(new URL(tab.url()).hash, '', 'the code leaves the address bar');
  const again = await context.newPage();
  await again.goto(arg);
  await again.locator('#signin-error', { hasText: 'used already' }).waitFor();
  await again.close();
  await tab.close();

  // Where the page cannot be written, the URL is printed instead.
  rmSync(argsFile);
  const unwritable = await kvRun(['--socket', socket, 'ui'],
    { env: { DISPLAY: ':99', BROWSER: browser, XDG_STATE_HOME: '/dev/null/state' } });
  assert.equal(unwritable.code, 0, unwritable.stderr);
  assert.match(unwritable.stdout.toString(), new RegExp(`^${base}/ui/#login=kvl_`));
  assert.match(unwritable.stderr, /no browser opened: cannot create \/dev\/null\/state/);
  assert.throws(() => statSync(argsFile), 'no browser was started');
});

test('the page ran without a script error', () => {
  assert.deepEqual(pageErrors.map((e) => e.message), []);
});

test('screenshot for the README', async () => {
  await page.setViewportSize({ width: 1200, height: 680 });
  await openKey('user:007');
  await page.locator('#live[data-state="on"]').waitFor();
  await page.locator('#toast.show').waitFor({ state: 'detached' });
  await page.screenshot({ path: path.join(ARTIFACTS, 'readme.png') });
});

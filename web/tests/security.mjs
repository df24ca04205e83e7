// Browser security checks against a real `redscope serve` with tokens: a page on another origin
// cannot read the API, not even with a signed-in user's cookie (the cookie is SameSite=Strict,
// but 127.0.0.1:<other port> is the same site, so the Origin check and CORS have to hold), while
// a page on a configured origin (server.cors_origins) may, with its own bearer token.
//
//   REDSCOPE_BIN  the redscope binary, default ../target/debug/redscope
//   CHROMIUM      browser binary, default /usr/bin/chromium
//
// Run: `npm run test:security`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.REDSCOPE_BIN || join(root, 'target', 'debug', 'redscope');
const data = mkdtempSync(join(tmpdir(), 'redscope-security-'));
let server;
let browser;
let pages = [];
let API;
let READ;
let EVIL;
let FRIEND;

function freePort() {
  return new Promise((resolve) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** An empty page on its own origin, to run fetches from. */
async function pageServer() {
  const port = await freePort();
  const s = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other site</title>'));
  await new Promise((r) => s.listen(port, '127.0.0.1', r));
  pages.push(s);
  return `http://127.0.0.1:${port}`;
}

function token(scope) {
  const r = spawnSync(BIN, ['token', 'create', '--scope', scope, '--data', data], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

before(async () => {
  READ = token('read');
  EVIL = await pageServer();
  FRIEND = await pageServer();
  const [api, http, grpc] = [await freePort(), await freePort(), await freePort()];
  API = `http://127.0.0.1:${api}`;
  server = spawn(BIN, ['serve', '--data', data, '--api', `127.0.0.1:${api}`, '--otlp-http', `127.0.0.1:${http}`, '--otlp-grpc', `127.0.0.1:${grpc}`], {
    env: { ...process.env, REDSCOPE_LOG: 'warn', REDSCOPE_SERVER__CORS_ORIGINS: FRIEND },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${API}/healthz`)).ok) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGKILL');
  for (const p of pages) p.close();
  rmSync(data, { recursive: true, force: true });
});

/** What a page at `origin` gets from fetching `path` of the API: 'read: <status> <body>' or 'blocked: <error>'. */
function fetchFrom(page, path, init) {
  return page.evaluate(
    async ([url, init]) => {
      try {
        const r = await fetch(url, init);
        return `read: ${r.status} ${(await r.text()).slice(0, 200)}`;
      } catch (e) {
        return `blocked: ${e.name}`;
      }
    },
    [`${API}${path}`, init],
  );
}

async function authStatus() {
  const r = await fetch(`${API}/api/v1/status`, { headers: { authorization: `Bearer ${READ}` } });
  return (await r.json()).status.auth;
}

test('a signed-in browser reads the API; a page on another origin cannot, even with the cookie', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${API}/`);
  assert.match(await page.content(), /action="\/login"/);
  await page.fill('input[name=token]', READ);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.equal(new URL(page.url()).pathname, '/');
  const cookies = await ctx.cookies(API);
  const cookie = cookies.find((c) => c.name === 'redscope_token');
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', JSON.stringify(cookies));
  assert.match(await fetchFrom(page, '/api/v1/services'), /^read: 200 /);
  assert.equal(await page.evaluate(() => document.cookie), '', 'the cookie is not readable by scripts');

  const before = await authStatus();
  const evil = await ctx.newPage();
  await evil.goto(EVIL);
  assert.equal(await fetchFrom(evil, '/api/v1/services', { credentials: 'include' }), 'blocked: TypeError');
  const sql = { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'SELECT 1' }) };
  assert.equal(await fetchFrom(evil, '/api/v1/sql', sql), 'blocked: TypeError');
  // A "simple" request needs no preflight and would reach the handler: the Origin check stops it.
  const simple = { method: 'POST', credentials: 'include', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"query": "SELECT 1"}' };
  await fetchFrom(evil, '/api/v1/sql', simple);
  const mcp = { method: 'POST', credentials: 'include', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' };
  await fetchFrom(evil, '/mcp', mcp);
  const afterwards = await authStatus();
  assert.ok(afterwards.origin_refused >= before.origin_refused + 3, JSON.stringify({ before, afterwards }));
  await ctx.close();
});

test('a page on a configured origin reads the API with its own bearer token', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(FRIEND);
  const withToken = { headers: { authorization: `Bearer ${READ}` } };
  assert.match(await fetchFrom(page, '/api/v1/services', withToken), /^read: 200 /);
  assert.match(await fetchFrom(page, '/api/v1/services'), /^read: 401 /);
  await ctx.close();
});

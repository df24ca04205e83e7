// Browser test of the Web section (real user monitoring): starts its own `redscope serve`
// (serving the built UI), sends it four scripted browser sessions through OTLP/HTTP JSON in the
// SDK's shapes (tests/web-fixture.mjs: page views, vitals, errors with stacks, fetch spans
// whose traces continue in a backend service, a replay segment, custom events), then opens
// every Web page in headless Chromium and checks what it shows against numbers worked out by
// hand, and that no page throws or logs an error.
//
//   REDSCOPE_BIN  the redscope binary, default ../target/debug/redscope
//   CHROMIUM      browser binary, default /usr/bin/chromium
//
// Needs the built UI (`npm run build`). Run: `npm run test:web`.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { BACKEND, EXPECTED, sendSessions, T1, T2 } from './web-fixture.mjs';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(webDir, '..');
const BIN = process.env.REDSCOPE_BIN || join(root, 'target', 'debug', 'redscope');
const artifacts = join(webDir, 'test-artifacts');
mkdirSync(artifacts, { recursive: true });
const data = mkdtempSync(join(tmpdir(), 'redscope-web-'));
let server;
let browser;
let UI;
const RANGE = 'from=now-1h';

function freePort() {
  return new Promise((resolve) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function getJson(path) {
  const r = await fetch(`${UI}${path}`);
  assert.ok(r.ok, `GET ${path}: ${r.status}`);
  return r.json();
}

before(async () => {
  assert.ok(existsSync(join(webDir, 'dist', 'index.html')), 'the UI is built (npm run build)');
  const [api, http, grpc] = [await freePort(), await freePort(), await freePort()];
  UI = `http://127.0.0.1:${api}`;
  server = spawn(BIN, ['serve', '--data', data, '--api', `127.0.0.1:${api}`, '--otlp-http', `127.0.0.1:${http}`, '--otlp-grpc', `127.0.0.1:${grpc}`], {
    env: { ...process.env, REDSCOPE_LOG: 'warn', REDSCOPE_SERVER__UI_DIR: join(webDir, 'dist') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${UI}/healthz`)).ok) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // Ten minutes ago, so that "the last hour" holds all of it.
  await sendSessions(UI, Date.now() - 600e3);
  for (let i = 0; i < 100; i++) {
    const s = await getJson(`/api/v1/web/sessions?${RANGE}`);
    const traces = await getJson(`/api/v1/traces?${RANGE}&service=${BACKEND}`);
    if (s.total === EXPECTED.sessions && traces.traces.length === 2) break;
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
  rmSync(data, { recursive: true, force: true });
});

/** A page that records uncaught exceptions, console errors and failed API answers. */
async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(30000);
  page.problems = [];
  page.on('console', (m) => m.type() === 'error' && page.problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 500 || (r.status() >= 400 && new URL(r.url()).pathname.startsWith('/api/'))) page.problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  return page;
}

async function done(page, name) {
  await page.screenshot({ path: join(artifacts, `web-${name}.png`), fullPage: true });
  assert.deepEqual(page.problems, [], `problems on ${page.url()}`);
  await page.context().close();
}

/** Waits until nothing is loading and no request is in flight. */
async function settled(page) {
  await page.waitForFunction(() => !document.querySelector('.state.loading') && !document.documentElement.dataset.busy);
}

const text = (page, sel) => page.locator(sel).first().innerText();
const texts = (page, sel) => page.locator(sel).allInnerTexts();

describe('Web section', () => {
  test('overview: traffic, bounce and error rates, vitals with rating shares, slowest and most erroring pages, filters', async () => {
    const page = await newPage();
    await page.goto(`${UI}/web?${RANGE}`);
    await page.waitForSelector('[data-testid=web-stats]');
    await settled(page);
    assert.equal(await text(page, '.nav-item.active'), 'Web');
    assert.equal(await text(page, '[data-testid=stat-page-views]'), String(EXPECTED.pageViews));
    assert.equal(await text(page, '[data-testid=stat-sessions]'), String(EXPECTED.sessions));
    assert.equal(await text(page, '[data-testid=stat-users]'), String(EXPECTED.users));
    assert.equal(await text(page, '[data-testid=stat-bounce]'), EXPECTED.bounceRate);
    assert.equal(await text(page, '[data-testid=stat-error-rate]'), EXPECTED.errorRate);
    const vital = async (name) => ({
      p75: await text(page, `[data-testid=vital-${name}] [data-testid=vital-p75]`),
      shares: await page.locator(`[data-testid=vital-${name}] .rating-bar > span`).evaluateAll((els) => Object.fromEntries(els.map((e) => [e.dataset.rating, e.title.split('%')[0] + '%']))),
    });
    const lcp = await vital('LCP');
    assert.equal(lcp.p75, EXPECTED.lcp.p75);
    assert.deepEqual(lcp.shares, { good: EXPECTED.lcp.good, 'needs-improvement': EXPECTED.lcp.ni, poor: EXPECTED.lcp.poor });
    const cls = await vital('CLS');
    assert.equal(cls.p75, EXPECTED.cls.p75);
    assert.deepEqual(cls.shares, { good: EXPECTED.cls.good, poor: EXPECTED.cls.poor });
    assert.ok(await page.locator('[data-testid=vital-LCP] .vital-value.r-needs-improvement').count(), 'p75 LCP 3 s is coloured "needs improvement"');
    assert.deepEqual(await texts(page, '[data-testid=slowest-pages] [data-testid=route]'), ['/products/:id', '/']);
    assert.deepEqual(await texts(page, '[data-testid=erroring-pages] [data-testid=route]'), ['/cart', '/checkout']);
    // The chart has drawn.
    assert.ok(await page.locator('.uplot canvas').count());

    // Device class: only s2 is on a phone (3 page views, an error, no bounce).
    await page.selectOption('[data-testid=filter-device]', 'mobile');
    await page.waitForFunction(() => document.querySelector('[data-testid=stat-sessions]')?.textContent === '1');
    await settled(page);
    assert.ok(page.url().includes('device=mobile'), 'the filter is in the URL');
    assert.equal(await text(page, '[data-testid=stat-page-views]'), '3');
    assert.equal(await text(page, '[data-testid=stat-error-rate]'), '100%');
    assert.equal(await text(page, '[data-testid=vital-LCP] [data-testid=vital-p75]'), '5.00 s');
    // Release 1.1.0: only s4 (LCP 2600).
    await page.selectOption('[data-testid=filter-device]', '');
    await page.selectOption('[data-testid=filter-release]', '1.1.0');
    await page.waitForFunction(() => document.querySelector('[data-testid=vital-LCP] [data-testid=vital-p75]')?.textContent === '2.60 s');
    assert.equal(await text(page, '[data-testid=stat-sessions]'), '1');
    assert.equal(await text(page, '[data-testid=stat-page-views]'), '2');
    await done(page, 'overview');
  });

  test('pages: views, p75 vitals and errors per route, and the sessions that viewed one', async () => {
    const page = await newPage();
    await page.goto(`${UI}/web/pages?${RANGE}`);
    await page.waitForSelector('[data-testid=pages-table] tbody tr');
    await settled(page);
    const rows = await page.locator('[data-testid=pages-table] tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        route: tr.querySelector('[data-testid=route]').textContent,
        views: Number(tr.querySelector('[data-testid=views]').textContent),
        errors: Number(tr.querySelector('[data-testid=errors]').textContent),
        lcp: tr.querySelector('[data-vital=LCP]')?.textContent ?? null,
      })),
    );
    assert.deepEqual(
      rows.map((r) => r.route),
      ['/', '/cart', '/products/:id', '/checkout'],
      'most viewed first',
    );
    for (const r of rows) {
      const want = EXPECTED.routes[r.route];
      assert.equal(r.views, want.views, `${r.route} views`);
      assert.equal(r.errors, want.errors, `${r.route} errors`);
      if (want.lcp) assert.equal(r.lcp, want.lcp, `${r.route} p75 LCP`);
    }
    const row = page.locator('[data-testid=pages-table] tbody tr', { hasText: '/products/:id' });
    await row.locator('[data-testid=page-sessions-link]').click();
    await page.waitForURL(/\/web\/sessions\?.*page=%2Fproducts/);
    await page.waitForSelector('[data-testid=page-filter]');
    await settled(page);
    const ids = await page.locator('[data-testid=sessions-table] tbody tr [data-testid=session-link]').evaluateAll((as) => as.map((a) => a.getAttribute('href').split('?')[0]));
    assert.deepEqual(ids.sort(), ['/web/sessions/s1', '/web/sessions/s2'], 'the sessions that viewed a product page');
    await done(page, 'pages');
  });

  test('sessions: the list, its filters, and a session with its replay beside the timeline', async () => {
    const page = await newPage();
    await page.goto(`${UI}/web/sessions?${RANGE}`);
    await page.waitForSelector('[data-testid=sessions-table] tbody tr');
    await settled(page);
    const rowText = await texts(page, '[data-testid=sessions-table] tbody tr');
    assert.equal(rowText.length, 4);
    assert.match(rowText[0], /cy/, 'newest first: s4');
    assert.match(rowText[3], /ada/, 's1 last');
    assert.match(rowText[1], /bob.*Firefox.*bounce/s, 's3 is a bounce');
    assert.match(rowText[2], /anonymous.*Mobile Safari.*iOS.*mobile/s);
    assert.match(rowText[3], /40\.00 s\s+4\s+1\s+ada.*Chrome.*Windows.*desktop.*\/ → \/checkout.*replay/s);
    await page.check('[data-testid=filter-errors]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=sessions-table] tbody tr').length === 3);
    assert.ok(page.url().includes('has_errors=true'));
    await page.uncheck('[data-testid=filter-errors]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=sessions-table] tbody tr').length === 4);

    await page.locator('[data-testid=sessions-table] tbody tr', { hasText: 'ada' }).click();
    await page.waitForURL(/\/web\/sessions\/s1/);
    await page.waitForSelector('[data-testid=replay-player][data-ready]');
    await settled(page);
    assert.equal(await text(page, '[data-testid=session-pages]'), String(EXPECTED.s1.pages));
    assert.equal(await text(page, '[data-testid=session-duration]'), `${EXPECTED.s1.durationS}.00 s`);
    assert.equal(await text(page, '[data-testid=session-clicks]'), String(EXPECTED.s1.clicks));
    // The player rebuilt the recorded page in its iframe (masked text, as recorded).
    const frame = page.frameLocator('[data-testid=replay-player] iframe');
    await frame.locator('#buy').waitFor();
    assert.equal(await frame.locator('h1').innerText(), '**** ****');
    assert.equal(await text(page, '[data-testid=replay-clock]'), '0:00 / 0:40');
    // The timeline beside it: page views, vitals, the click, the request, custom events, the error.
    const kinds = await page.locator('[data-testid=timeline] .tl-item').evaluateAll((li) => li.map((l) => l.dataset.kind));
    assert.equal(kinds.length, 15);
    for (const k of ['page_view', 'vital', 'click', 'request', 'custom', 'error']) assert.ok(kinds.includes(k), `a ${k} in the timeline`);
    // Clicking an item seeks the player there: the click was 5 s after the recording started.
    await page.locator('[data-testid=timeline] .tl-item[data-kind=click]').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=replay-player]').dataset.time === '5000');
    assert.equal(await text(page, '[data-testid=replay-clock]'), '0:05 / 0:40');
    assert.ok(await page.locator('[data-testid=timeline] .tl-item.current[data-kind=click]').count(), 'the item reached is marked');
    await page.locator('[data-testid=timeline] .tl-item', { hasText: 'order.placed' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=replay-player]').dataset.time === '40000');
    // Playing moves the clock on.
    await page.locator('[data-testid=timeline] .tl-item[data-kind=page_view]').first().click();
    await page.click('[data-testid=replay-toggle]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=replay-player]').dataset.time) >= 400);
    await page.click('[data-testid=replay-toggle]');
    // Page views with their vitals and requests; the request links to its backend trace.
    assert.deepEqual(await texts(page, '[data-testid=page-route]'), ['/', '/products/:id', '/cart', '/checkout']);
    const pv2 = page.locator('[data-testid=page-view]').nth(1);
    assert.deepEqual(await pv2.locator('[data-vital]').allInnerTexts(), ['3.00 s', '350 ms']);
    const traceHref = await pv2.locator('[data-testid=request-trace-link]').getAttribute('href');
    assert.equal(traceHref.split('?')[0], `/trace/${T1}`);
    assert.equal((await page.locator('[data-testid=timeline] [data-testid=trace-link]').getAttribute('href')).split('?')[0], `/trace/${T1}`);
    await page.screenshot({ path: join(artifacts, 'web-session.png'), fullPage: true });

    // The backend trace links back to the session.
    await pv2.locator('[data-testid=request-trace-link]').click();
    await page.waitForURL(new RegExp(`/trace/${T1}`));
    await page.waitForSelector('[data-testid=wf-row]');
    assert.equal(await page.locator('[data-testid=wf-row]').count(), 2, 'the browser span and the backend span');
    assert.ok(await page.locator('[data-testid=wf-row]', { hasText: BACKEND }).count());
    const back = page.locator('[data-testid=trace-session-link]');
    assert.equal((await back.getAttribute('href')).split('?')[0], '/web/sessions/s1');
    await back.click();
    await page.waitForURL(/\/web\/sessions\/s1/);
    await page.waitForSelector('[data-testid=session-summary]');
    await done(page, 'trace');
  });

  test('errors: groups, then one error with its stack, breadcrumbs, sessions and failing request', async () => {
    const page = await newPage();
    await page.goto(`${UI}/web/errors?${RANGE}`);
    await page.waitForSelector('[data-testid=errors-table] tbody tr');
    await settled(page);
    const groups = await page.locator('[data-testid=errors-table] tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ['error-link', 'error-count', 'error-users', 'error-sessions', 'error-releases'].map((t) => tr.querySelector(`[data-testid=${t}]`).textContent)),
    );
    assert.equal(groups.length, 2);
    assert.deepEqual(groups[0].slice(1), ['2', '2', '2', '1.0.0, 1.1.0']);
    assert.match(groups[0][0], /^TypeError: order \d+ has no total$/);
    assert.deepEqual(groups[1], ['ReferenceError: promo is not defined', '1', '1', '1', '1.0.0']);

    await page.locator('[data-testid=error-link]').first().click();
    await page.waitForURL(/\/web\/errors\/[0-9a-f]{16}/);
    await page.waitForSelector('[data-testid=error-stack]');
    await settled(page);
    assert.match(await text(page, '[data-testid=error-stack]'), /at renderTotal \(https:\/\/shop\.example\.com\/assets\/app\.4f2a\.js:1:2045\)/);
    // The latest occurrence is s4's: what it did before the error.
    const crumbs = await page.locator('[data-testid=breadcrumbs] .tl-item').evaluateAll((li) => li.map((l) => l.dataset.kind));
    assert.deepEqual(crumbs, ['page_view', 'vital', 'page_view', 'error']);
    // s2's occurrence came with the trace of its failed request (a 500 from the backend).
    assert.deepEqual((await texts(page, '[data-testid=occurrence-session]')).sort(), ['s2', 's4']);
    assert.equal((await page.locator('[data-testid=failing-trace-link]').getAttribute('href')).split('?')[0], `/trace/${T2}`);
    await page.click('[data-testid=failing-trace-link]');
    await page.waitForSelector('[data-testid=wf-row]');
    assert.ok(await page.locator('[data-testid=wf-row]', { hasText: 'GET /cart/total' }).count(), 'the backend span that failed');
    await done(page, 'error');
  });

  test('funnels: a form of ordered steps, bars of the drop-off, a breakdown, and the definition in the URL', async () => {
    const page = await newPage();
    await page.goto(`${UI}/web/funnels?${RANGE}`);
    await page.waitForSelector('[data-testid=funnel-form]');
    assert.ok(await page.locator('[data-testid=funnel-hint]').count(), 'asks for steps first');
    const steps = page.locator('[data-testid=funnel-step]');
    await steps.nth(0).locator('[data-testid=step-match]').fill('/');
    await steps.nth(1).locator('[data-testid=step-type]').selectOption('page');
    await steps.nth(1).locator('[data-testid=step-match]').fill('/cart');
    await page.click('[data-testid=add-step]');
    await steps.nth(2).locator('[data-testid=step-match]').fill('order.placed');
    await page.fill('[data-testid=funnel-breakdown]', 'browser.name');
    await page.click('[data-testid=funnel-run]');
    await page.waitForSelector('[data-testid=funnel-bar]');
    await settled(page);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('steps'), 'page:/,page:/cart,event:order.placed');
    assert.equal(url.searchParams.get('breakdown'), 'browser.name');
    const check = async () => {
      assert.deepEqual((await texts(page, '[data-testid=bar-count]')).map(Number), EXPECTED.funnel.counts);
      assert.deepEqual(await texts(page, '[data-testid=bar-dropped]'), ['−1', '−2']);
      assert.equal(await text(page, '[data-testid=funnel-conversion]'), '25% overall');
      // Bar heights are the counts over the first step's.
      const heights = await page.locator('.funnel-fill').evaluateAll((els) => els.map((e) => e.style.height));
      assert.deepEqual(heights, ['100%', '75%', '25%']);
      const rows = await page.locator('[data-testid=funnel-breakdown-table] tbody tr').evaluateAll((trs) =>
        trs.map((tr) => [tr.dataset.value, [...tr.querySelectorAll('[data-testid=breakdown-count]')].map((td) => Number(td.textContent))]),
      );
      assert.deepEqual(Object.fromEntries(rows), { Chrome: EXPECTED.funnel.Chrome, 'Mobile Safari': EXPECTED.funnel['Mobile Safari'], Firefox: EXPECTED.funnel.Firefox });
    };
    await check();
    // The link is the funnel: opened anew, the same form and answer.
    const shared = page.url();
    await page.goto('about:blank');
    await page.goto(shared);
    await page.waitForSelector('[data-testid=funnel-bar]');
    await settled(page);
    assert.deepEqual(await page.locator('[data-testid=step-match]').evaluateAll((els) => els.map((e) => e.value)), ['/', '/cart', 'order.placed']);
    await check();
    await done(page, 'funnels');
  });

  test('without browser data, the pages say how to install the SDK', async () => {
    const page = await newPage();
    const day = 86400e3;
    const range = `from=${new Date(Date.now() - 3 * day).toISOString()}&to=${new Date(Date.now() - 2 * day).toISOString()}`;
    for (const path of ['/web', '/web/sessions', '/web/errors', '/web/pages']) {
      await page.goto(`${UI}${path}?${range}`);
      await page.waitForSelector('[data-testid=empty-state]');
      if (path === '/web') {
        const snippet = await text(page, '[data-testid=sdk-snippet]');
        assert.ok(snippet.includes(`(window,document,"${UI}/sdk/redscope.js")`), snippet);
        assert.match(snippet, /redscope\.init\(\{\s+endpoint: "http:\/\/127\.0\.0\.1:\d+",/);
      }
    }
    // The snippet's script is there to load.
    const sdk = await fetch(`${UI}/sdk/redscope.js`);
    assert.equal(sdk.status, 200);
    // A session id only backend spans carried (no browser data): said so, not thrown.
    await page.goto(`${UI}/web/sessions/backend-only?${RANGE}`);
    await page.waitForSelector('[data-testid=session-not-found]');
    page.problems = page.problems.filter((p) => !/404/.test(p));
    await done(page, 'empty');
  });
});

// The demo's storefront in a real browser: this starts `redscope demo` (healthy, a little
// history), opens /shop/ in headless Debian Chromium driven by playwright-core, clicks a
// product into the cart and through checkout, and then finds that session through the API
// with the backend trace of its checkout request (browser fetch span → frontend → checkout).
//
//   REDSCOPE_BIN   the redscope binary, default target/debug/redscope of the repository
//   CHROMIUM       browser binary, default /usr/bin/chromium
//
// Needs the SDK built into web/dist/sdk (`npm run build` in sdk/browser). Run:
// `npm run test:shop`.
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launchBrowser, sleep, startDemo } from './demo.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = process.env.REDSCOPE_BIN || join(root, 'target', 'debug', 'redscope');
let demo;
let browser;
let API;

async function getJson(path) {
  const r = await fetch(`${API}${path}`);
  assert.ok(r.ok, `GET ${path}: ${r.status}`);
  return r.json();
}

before(async () => {
  demo = await startDemo({ bin, cwd: root, prefix: 'redscope-shop-', ready: '/shop/', args: ['--rate', '2', '--backfill', '2m'] });
  API = demo.url;
  const sdk = await fetch(`${API}/sdk/redscope.js`);
  assert.equal(sdk.status, 200, 'the SDK is built into web/dist/sdk');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

test('a visitor clicks to checkout and the session shows with its backend trace', { timeout: 120_000 }, async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${API}/shop/`);
  await page.click('#product-2');
  await page.waitForURL('**/shop/products/2');
  await page.click('#add-to-cart');
  await page.click('#go-to-cart');
  await page.waitForURL('**/shop/cart');
  await page.click('#to-checkout');
  await page.waitForURL('**/shop/checkout');
  // A payment provider times out now and then, even in a healthy shop: try again, as people do.
  for (let i = 0; i < 5; i++) {
    await page.click('#place-order');
    await page.waitForFunction(() => !document.querySelector('#place-order').disabled && document.querySelector('#status').textContent !== 'Placing the order\u2026');
    if ((await page.textContent('#status')).startsWith('Thank you')) break;
  }
  assert.match(await page.textContent('#status'), /^Thank you/);
  await page.evaluate(() => window.redscope.flush());
  const session = await page.evaluate(() => {
    for (let i = 0; i < localStorage.length; i++) {
      const v = localStorage.getItem(localStorage.key(i)) || '';
      const m = /"id":"([0-9a-f]{32})"/.exec(v);
      if (m) return m[1];
    }
    return null;
  });
  await page.close();
  assert.deepEqual(errors, [], 'the healthy release throws nothing');

  // The session arrives with its four pages; its checkout request leads to the backend trace.
  let found = null;
  let ours = [];
  for (let i = 0; i < 60 && !found; i++) {
    const list = await getJson('/api/v1/web/sessions?from=now-15m&limit=500');
    ours = list.sessions.filter((s) => String(s.entry_page).startsWith('/shop'));
    found = ours.find((s) => (!session || s.session_id === session) && s.page_views >= 4);
    if (!found) await sleep(1000);
  }
  assert.ok(found, `the clicked session ${session} is listed: ${JSON.stringify(ours)}`);
  const detail = await getJson(`/api/v1/web/sessions/${found.session_id}?from=now-15m`);
  const requests = detail.page_views.flatMap((p) => p.requests);
  const checkout = requests.find((r) => String(r.details['url.full']).endsWith('/shop/api/checkout') && r.details['http.response.status_code'] === 200);
  assert.ok(checkout && checkout.trace_id, `a checkout request with its trace: ${JSON.stringify(requests)}`);
  let spans = [];
  for (let i = 0; i < 30; i++) {
    const r = await fetch(`${API}/api/v1/traces/${checkout.trace_id}`);
    spans = r.ok ? (await r.json()).spans : [];
    if (spans.some((s) => s.service_name === 'email')) break;
    await sleep(1000);
  }
  const fetchSpan = spans.find((s) => s.service_name === 'shop-web' && s.kind === 'CLIENT');
  assert.ok(fetchSpan, 'the browser fetch span is in the trace');
  const entry = spans.find((s) => s.service_name === 'frontend' && s.parent_span_id === fetchSpan.span_id);
  assert.ok(entry, 'the frontend continues the browser span');
  for (const service of ['checkout', 'payment', 'shipping']) {
    assert.ok(spans.some((s) => s.service_name === service), `${service} in the trace`);
  }
});

// Scripted browser sessions for the Web section's browser test (tests/web.mjs), shaped like
// what the browser SDK (sdk/browser, see its README) sends: OTLP/HTTP JSON log records of
// page views, Web Vitals, errors, clicks, custom events and a replay segment, and fetch CLIENT
// spans whose traces continue in a backend service.
//
// Also a seeder for development: `node tests/web-fixture.mjs http://127.0.0.1:28080` sends the
// sessions to a running redscope (ten minutes ago).
//
// Four sessions of the shop `shop-web`, a minute apart (seconds after each one's start):
//
// | session | client | release | user | events |
// | s1 | Chrome desktop | 1.0.0 | ada | / 0 (LCP 1200, CLS 0.05, FCP 900, TTFB 300), click 5, /products/12 10 (LCP 3000, INP 350), fetch 12 (trace T1), /cart 20, checkout.started 25, /checkout 30, ReferenceError 35, order.placed 40; replay segment from 0 |
// | s2 | iPhone mobile | 1.0.0 | — | / 0 (LCP 5000, CLS 0.3), /products/7 10, /cart 20, failing fetch 21 (trace T2), TypeError 22 (trace T2) |
// | s3 | Firefox desktop | 1.0.0 | bob | / 0 (LCP 2000): a bounce |
// | s4 | Chrome desktop | 1.1.0 | cy | / 0 (LCP 2600), /cart 10, TypeError 12, checkout.started 15 |
//
// The numbers the UI should show are in EXPECTED, worked out by hand below.
import { gzipSync } from 'node:zlib';

export const SHOP = 'https://shop.example.com';
export const SERVICE = 'shop-web';
export const BACKEND = 'shop-api';
export const T1 = '0af7651916cd43dd8448eb211c80319c';
export const T2 = '5b8efff798038103d269b633813fc60c';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Safari/537.36';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const FIREFOX = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';

/**
 * What the pages should show. Sessions 4; page views 4 + 3 + 1 + 2 = 10; users ada, bob, cy and
 * s2 (no user: the session stands for one) = 4; bounces s3 = 1/4; sessions with errors s1, s2,
 * s4 = 3/4.
 *
 * LCP, one per page view: 1200 (good), 3000 (needs improvement), 5000 (poor), 2000 (good),
 * 2600 (needs improvement); sorted 1200 2000 2600 3000 5000, p75 nearest rank ceil(5·3/4) = 4
 * → 3000; shares 40% / 40% / 20%. CLS 0.05 (good), 0.3 (poor): p75 rank 2 → 0.3, 50% / 0 / 50%.
 *
 * Routes: / 4 views (LCP 1200 5000 2000 2600 → p75 rank 3 = 2600), /products/:id 2 (LCP 3000),
 * /cart 3 views and 2 errors (s2, s4), /checkout 1 view and 1 error. Slowest by p75 LCP:
 * /products/:id, then /. Most errors: /cart.
 *
 * Error groups: TypeError "order N has no total" (s2, s4: count 2, sessions 2, users 2,
 * releases 1.0.0 and 1.1.0), ReferenceError "promo is not defined" (s1: count 1).
 *
 * Funnel / → /cart → order.placed per session: s1 3 steps, s2 2, s3 1, s4 2 → [4, 3, 1]; by
 * browser: Chrome (s1, s4) [2, 2, 1], Mobile Safari (s2) [1, 1, 0], Firefox (s3) [1, 0, 0].
 */
export const EXPECTED = {
  sessions: 4,
  pageViews: 10,
  users: 4,
  bounceRate: '25%',
  errorRate: '75%',
  lcp: { p75: '3.00 s', good: '40%', ni: '40%', poor: '20%' },
  cls: { p75: '0.30', good: '50%', ni: '0%', poor: '50%' },
  routes: { '/': { views: 4, errors: 0, lcp: '2.60 s' }, '/products/:id': { views: 2, errors: 0, lcp: '3.00 s' }, '/cart': { views: 3, errors: 2 }, '/checkout': { views: 1, errors: 1 } },
  funnel: { counts: [4, 3, 1], Chrome: [2, 2, 1], 'Mobile Safari': [1, 1, 0], Firefox: [1, 0, 0] },
  s1: { pages: 4, durationS: 40, clicks: 1, requests: 1 },
};

/** An OTLP JSON attribute list. */
function kvs(obj) {
  return Object.entries(obj).map(([key, v]) => {
    let value;
    if (typeof v === 'string') value = { stringValue: v };
    else if (typeof v === 'boolean') value = { boolValue: v };
    else if (Number.isInteger(v)) value = { intValue: String(v) };
    else value = { doubleValue: v };
    return { key, value };
  });
}

function resource(service, version, userAgent) {
  const attrs = { 'service.name': service, 'service.version': version, 'telemetry.sdk.name': 'redscope-browser', 'telemetry.sdk.language': 'webjs' };
  if (userAgent) attrs['user_agent.original'] = userAgent;
  return { attributes: kvs(attrs) };
}

/** Rrweb events of a small page: meta, a full snapshot, a mouse move, a click and a text mutation. */
export function rrwebEvents(startMs) {
  const text = (id, t) => ({ type: 3, textContent: t, id });
  const el = (id, tagName, childNodes = [], attributes = {}) => ({ type: 2, tagName, attributes, childNodes, id });
  const snapshot = {
    type: 0,
    id: 1,
    childNodes: [
      { type: 1, name: 'html', publicId: '', systemId: '', id: 2 },
      el(3, 'html', [
        el(4, 'head', [el(5, 'style', [text(6, 'body{font-family:sans-serif;margin:20px}button{padding:8px}')])]),
        el(7, 'body', [el(8, 'h1', [text(9, '**** ****')]), el(10, 'button', [text(11, '***')], { id: 'buy' }), el(12, 'p', [], { id: 'msg' })]),
      ]),
    ],
  };
  return [
    { type: 4, data: { href: `${SHOP}/`, width: 800, height: 600 }, timestamp: startMs },
    { type: 2, data: { node: snapshot, initialOffset: { top: 0, left: 0 } }, timestamp: startMs + 10 },
    { type: 3, data: { source: 1, positions: [{ x: 40, y: 80, id: 10, timeOffset: 0 }] }, timestamp: startMs + 2000 },
    { type: 3, data: { source: 2, type: 2, id: 10, x: 40, y: 80 }, timestamp: startMs + 5000 },
    { type: 3, data: { source: 0, texts: [], attributes: [], removes: [], adds: [{ parentId: 12, nextId: null, node: text(13, '***** *****') }] }, timestamp: startMs + 6000 },
    { type: 3, data: { source: 1, positions: [{ x: 200, y: 120, id: 7, timeOffset: 0 }] }, timestamp: startMs + 40000 },
  ];
}

/** The sessions as OTLP/HTTP JSON bodies: [path, body] pairs to POST. */
export function sessionBodies(t0Ms) {
  const ns = (s) => String(BigInt(Math.round(t0Ms + s * 1000)) * 1000000n);
  const rec = (s, name, attrs, extra = {}) => ({
    timeUnixNano: ns(s),
    eventName: name,
    severityNumber: name === 'browser.error' ? 17 : 9,
    attributes: kvs({ 'event.name': name, ...attrs }),
    ...extra,
  });
  // Per session: its client's attributes on every record, as the SDK sends them.
  const session = (id, user, anon, startS) => {
    const t = (s) => s + startS;
    let pv = '';
    let path = '/';
    const common = () => ({ 'session.id': id, 'page_view.id': pv, 'url.full': `${SHOP}${path}`, 'url.path': path, 'user.anonymous_id': anon, ...(user ? { 'user.id': user, 'enduser.id': user } : {}) });
    return {
      view(s, p, type = 'initial') {
        pv = `${id}-pv${s}`;
        path = p;
        return rec(t(s), 'browser.page_view', { ...common(), 'browser.page_view.type': type, 'page.title': `Shop ${p}` });
      },
      vital(s, name, value, rating) {
        return rec(t(s), 'browser.web_vital', { ...common(), 'browser.web_vital.name': name, 'browser.web_vital.value': value, 'browser.web_vital.rating': rating, 'browser.web_vital.id': `v5-${pv}-${name}` });
      },
      click(s, target) {
        return rec(t(s), 'browser.click', { ...common(), 'browser.click.target': target });
      },
      event(s, name, attrs = {}) {
        return rec(t(s), name, { ...common(), ...attrs });
      },
      error(s, type, message, frames, traceId) {
        const stack = `${type}: ${message}\n${frames.map((f) => `    at ${f}`).join('\n')}`;
        const attrs = { ...common(), 'exception.type': type, 'exception.message': message, 'exception.stacktrace': stack, 'browser.error.source': 'onerror' };
        return rec(t(s), 'browser.error', attrs, traceId ? { traceId, spanId: 'b7ad6b7169203332' } : {});
      },
      replay(s, events) {
        const data = gzipSync(Buffer.from(JSON.stringify(events))).toString('base64');
        const attrs = {
          ...common(),
          'replay.recording.id': `${id}-rec`,
          'replay.segment.sequence': 0,
          'replay.segment.start': events[0].timestamp,
          'replay.segment.end': events.at(-1).timestamp,
          'replay.segment.events': events.length,
          'replay.segment.has_full_snapshot': true,
          'replay.segment.encoding': 'gzip+base64',
          'replay.segment.trigger': 'hide',
          'replay.mode': 'full',
        };
        return rec(t(s), 'browser.replay_segment', attrs, { body: { stringValue: data } });
      },
      fetch(s, ms, traceId, spanId, url, status) {
        const attrs = { ...common(), 'http.request.method': 'GET', 'url.full': url, 'server.address': 'api.shop.example.com', 'http.response.status_code': status, 'browser.request.api': 'fetch' };
        return {
          traceId,
          spanId,
          name: 'GET',
          kind: 3,
          startTimeUnixNano: ns(t(s)),
          endTimeUnixNano: ns(t(s) + ms / 1000),
          attributes: kvs(attrs),
          status: status >= 400 ? { code: 2 } : {},
        };
      },
    };
  };
  // A minute apart: s1 is the oldest, s4 the newest.
  const s1 = session('s1', 'ada', 'anon-1', 0);
  const s2 = session('s2', null, 'anon-2', 60);
  const s3 = session('s3', 'bob', 'anon-3', 120);
  const s4 = session('s4', 'cy', 'anon-4', 180);
  const appFrames = (fn) => [`${fn} (${SHOP}/assets/app.4f2a.js:1:2045)`, `HTMLButtonElement.onclick (${SHOP}/assets/app.4f2a.js:1:880)`];

  // Records are made in order: each one belongs to the page view its session is on then.
  const s1Logs = [s1.view(0, '/'), s1.replay(0, rrwebEvents(t0Ms)), s1.vital(1, 'TTFB', 300, 'good'), s1.vital(1.5, 'FCP', 900, 'good'), s1.vital(2, 'LCP', 1200, 'good')];
  s1Logs.push(s1.click(5, 'button#buy.primary[type="button"]'), s1.vital(9.9, 'CLS', 0.05, 'good'), s1.view(10, '/products/12', 'push'));
  const s1Fetch = s1.fetch(12, 80, T1, 'b7ad6b7169203331', 'https://api.shop.example.com/products/12', 200);
  s1Logs.push(s1.vital(19, 'LCP', 3000, 'needs-improvement'), s1.vital(19.5, 'INP', 350, 'needs-improvement'));
  s1Logs.push(s1.view(20, '/cart', 'push'), s1.event(25, 'checkout.started', { 'cart.items': 3 }), s1.view(30, '/checkout', 'push'));
  s1Logs.push(s1.error(35, 'ReferenceError', 'promo is not defined', appFrames('applyPromo')), s1.event(40, 'order.placed', { 'order.total': 59.9 }));

  const s2Logs = [s2.view(0, '/'), s2.vital(1, 'LCP', 5000, 'poor'), s2.vital(9, 'CLS', 0.3, 'poor'), s2.view(10, '/products/7', 'push'), s2.view(20, '/cart', 'push')];
  const s2Fetch = s2.fetch(21, 120, T2, 'c7ad6b7169203331', 'https://api.shop.example.com/cart/total', 500);
  s2Logs.push(s2.error(22, 'TypeError', 'order 17 has no total', appFrames('renderTotal'), T2));
  const s3Logs = [s3.view(0, '/'), s3.vital(3, 'LCP', 2000, 'good')];
  const s4Logs = [
    s4.view(0, '/'),
    s4.vital(2, 'LCP', 2600, 'needs-improvement'),
    s4.view(10, '/cart', 'push'),
    s4.error(12, 'TypeError', 'order 99 has no total', appFrames('renderTotal')),
    s4.event(15, 'checkout.started', { 'cart.items': 1 }),
  ];
  const logs = (version, ua, records) => ({
    resourceLogs: [{ resource: resource(SERVICE, version, ua), scopeLogs: [{ scope: { name: 'redscope-browser', version: '0.1.0' }, logRecords: records }] }],
  });
  const spans = (version, ua, list) => ({
    resourceSpans: [{ resource: resource(SERVICE, version, ua), scopeSpans: [{ scope: { name: 'redscope-browser', version: '0.1.0' }, spans: list }] }],
  });
  // The backend's side of the two requests: SERVER spans in the browser's traces.
  const backend = {
    resourceSpans: [
      {
        resource: { attributes: kvs({ 'service.name': BACKEND, 'service.version': '3.2.0' }) },
        scopeSpans: [
          {
            scope: { name: 'shop-api' },
            spans: [
              { traceId: T1, spanId: 'd1d1d1d1d1d1d1d1', parentSpanId: 'b7ad6b7169203331', name: 'GET /products/:id', kind: 2, startTimeUnixNano: ns(12.01), endTimeUnixNano: ns(12.07), attributes: kvs({ 'http.route': '/products/:id', 'http.response.status_code': 200 }) },
              { traceId: T2, spanId: 'd2d2d2d2d2d2d2d2', parentSpanId: 'c7ad6b7169203331', name: 'GET /cart/total', kind: 2, startTimeUnixNano: ns(81.01), endTimeUnixNano: ns(81.1), attributes: kvs({ 'http.route': '/cart/total', 'http.response.status_code': 500 }), status: { code: 2, message: 'pricing unavailable' } },
            ],
          },
        ],
      },
    ],
  };
  return [
    ['/v1/logs', logs('1.0.0', CHROME, s1Logs)],
    ['/v1/logs', logs('1.0.0', IPHONE, s2Logs)],
    ['/v1/logs', logs('1.0.0', FIREFOX, s3Logs)],
    ['/v1/logs', logs('1.1.0', CHROME, s4Logs)],
    ['/v1/traces', spans('1.0.0', CHROME, [s1Fetch])],
    ['/v1/traces', spans('1.0.0', IPHONE, [s2Fetch])],
    ['/v1/traces', backend],
  ];
}

/** POSTs the sessions to redscope's OTLP/HTTP receiver on its API port (`api`, a base URL). */
export async function sendSessions(api, t0Ms, headers = {}) {
  for (const [path, body] of sessionBodies(t0Ms)) {
    const r = await fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const api = (process.argv[2] || 'http://127.0.0.1:28080').replace(/\/$/, '');
  await sendSessions(api, Date.now() - 600e3);
  console.log(`sent 4 sessions to ${api}`);
}

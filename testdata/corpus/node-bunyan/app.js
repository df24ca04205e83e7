// node-bunyan: bunyan's default JSON records on stdout, level 'trace'.
const bunyan = require('bunyan');
const log = bunyan.createLogger({ name: 'cart-api', level: 'trace', serializers: bunyan.stdSerializers });
const L = {
  trace: (m, f) => log.trace(f, m), debug: (m, f) => log.debug(f, m), info: (m, f) => log.info(f, m),
  warn: (m, f) => log.warn(f, m), fatal: (m, f) => log.fatal(f, m),
  error: (m, err, f) => log.error(err ? { ...f, err } : f, m),
};
const MIDDLEWARE = (app) => app.use((req, res, next) => {
  const child = log.child({ req_id: Math.floor(rand() * 1e9).toString(36) }, true);
  res.on('finish', () => child.info({ req: req, statusCode: res.statusCode }, 'handled request'));
  next();
});
// ---- shared service body: a small express "cart" API plus its own traffic ----
const express = require('express');
const http = require('http');

let seed = 17;
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (a) => a[Math.floor(rand() * a.length)];
const carts = new Map();
let dbUp = true;

class UpstreamError extends Error {
  constructor(msg, status) { super(msg); this.name = 'UpstreamError'; this.status = status; }
}

function priceLookup(sku) {
  return new Promise((resolve, reject) => {
    const r = rand();
    setTimeout(() => {
      if (r < 0.08) reject(new UpstreamError(`pricing service timeout for ${sku}`, 504));
      else if (r < 0.12) reject(new UpstreamError(`pricing service returned 503 for ${sku}`, 503));
      else resolve(Math.round(rand() * 9000) / 100);
    }, Math.floor(r * 20));
  });
}

const app = express();
app.use(express.json({ limit: '2kb' }));
if (typeof MIDDLEWARE === 'function') MIDDLEWARE(app);

app.get('/health', (req, res) => {
  L.trace('health probe', { ua: req.get('user-agent') });
  res.json({ ok: dbUp });
});

app.get('/carts/:id', (req, res) => {
  const c = carts.get(req.params.id);
  if (!c) { L.debug('cart not found', { cart: req.params.id }); return res.status(404).json({ error: 'not found' }); }
  res.json(c);
});

app.post('/carts/:id/items', async (req, res, next) => {
  const { sku, qty } = req.body || {};
  if (!sku || !Number.isInteger(qty) || qty <= 0) {
    L.warn('invalid item payload', { cart: req.params.id, body: JSON.stringify(req.body).slice(0, 60) });
    return res.status(422).json({ error: 'sku and positive integer qty required' });
  }
  let price;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try { price = await priceLookup(sku); break; } catch (err) {
      if (attempt < 3) L.warn('price lookup failed, retrying', { sku, attempt, status: err.status });
      else { L.error('price lookup failed permanently', err, { sku, attempts: attempt }); return res.status(502).json({ error: 'pricing unavailable' }); }
    }
  }
  const c = carts.get(req.params.id) || { id: req.params.id, items: [] };
  c.items.push({ sku, qty, price });
  carts.set(req.params.id, c);
  L.info('item added', { cart: c.id, sku, qty, price, items: c.items.length });
  res.status(201).json(c);
});

app.post('/carts/:id/checkout', (req, res, next) => {
  const c = carts.get(req.params.id);
  if (!c) return res.status(404).json({ error: 'not found' });
  if (!dbUp) { L.error('checkout failed: database unavailable', null, { cart: c.id }); return res.status(503).json({ error: 'try later' }); }
  try {
    const total = c.items.reduce((s, it) => s + it.price * it.qty, 0);
    if (c.items.some((it) => it.sku.startsWith('GIFT'))) c.voucher.redeem(); // bug: voucher undefined
    L.info('checkout complete', { cart: c.id, total: Math.round(total * 100) / 100, items: c.items.length });
    carts.delete(c.id);
    res.json({ total });
  } catch (err) { next(err); }
});

app.use((err, req, res, next) => {
  if (err.type === 'entity.parse.failed') { L.warn('malformed JSON body', { path: req.path, error: err.message }); return res.status(400).json({ error: 'bad json' }); }
  if (err.type === 'entity.too.large') { L.warn('request body too large', { path: req.path, limit: err.limit, length: err.length }); return res.status(413).end(); }
  L.error('unhandled error in request', err, { method: req.method, path: req.path });
  res.status(500).json({ error: 'internal' });
});

function send(port, method, path, body, raw) {
  return new Promise((resolve) => {
    const data = raw !== undefined ? raw : (body ? JSON.stringify(body) : undefined);
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json', 'user-agent': pick(['curl/7.88.1', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15', 'k6/0.49.0']) } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', resolve);
    if (data) req.write(data);
    req.end();
  });
}

async function traffic(port) {
  const skus = ['SKU-1001', 'SKU-2040', 'SKU-3300', 'GIFT-0050', 'SKU-7777'];
  for (let i = 0; i < 320; i++) {
    const cart = 'c' + (1 + Math.floor(rand() * 12));
    const r = rand();
    if (r < 0.40) await send(port, 'POST', `/carts/${cart}/items`, { sku: pick(skus), qty: 1 + Math.floor(rand() * 3) });
    else if (r < 0.47) await send(port, 'POST', `/carts/${cart}/items`, { sku: pick(skus), qty: pick([0, -1, '2']) });
    else if (r < 0.51) await send(port, 'POST', `/carts/${cart}/items`, null, '{"sku": "SKU-1", qty: 2');
    else if (r < 0.53) await send(port, 'POST', `/carts/${cart}/items`, null, JSON.stringify({ sku: 'X'.repeat(3000), qty: 1 }));
    else if (r < 0.70) await send(port, 'GET', `/carts/${cart}`);
    else if (r < 0.85) await send(port, 'POST', `/carts/${cart}/checkout`);
    else if (r < 0.95) await send(port, 'GET', '/health');
    else await send(port, 'GET', '/favicon.ico');
    if (i === 70) { dbUp = false; L.error('database connection lost', new Error('connect ECONNREFUSED 127.0.0.1:5432'), { host: '127.0.0.1', port: 5432 }); }
    if (i === 72 || i === 74) L.warn('reconnecting to database', { attempt: i === 72 ? 1 : 2, delay_ms: 250 });
    if (i === 76) { dbUp = true; L.info('database connection restored', { downtime_ms: 812 }); }
    if (i === 120) L.fatal('worker heap usage above hard limit', { heap_mb: 1490, limit_mb: 1400 });
  }
}

const server = app.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  L.info('server listening', { port, pid: process.pid, node: process.version, env: process.env.NODE_ENV || 'development' });
  L.debug('routes registered', { count: 5 });
  await traffic(port);
  L.info('received SIGTERM, shutting down gracefully', { open_carts: carts.size });
  server.close(() => { L.info('http server closed'); if (typeof FINISH === 'function') FINISH(); });
});

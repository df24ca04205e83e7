// The test site and a collector, each on its own loopback port (so the collector is another
// origin, as redscope's OTLP port is for a real site).
//
//   site(sdkDir, snippet, delayMs)  serves tests/site/ and /api/data (records the traceparent
//                                    headers it gets); the built SDK under /sdk/ from an origin
//                                    of its own, as redscope serves it (`sdkUrl`)
//   collector()                      answers CORS and records what is POSTed to /v1/*
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.map': 'application/json' };

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

/** Answers after `delayMs` (as over a network) for static files, at once for the API. */
function responder(req, res, delayMs) {
  const url = new URL(req.url, 'http://x');
  const send = (status, type, body, headers = {}) => {
    const go = () => res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers }).end(body);
    delayMs && /\.(css|js|mjs|svg)$/.test(url.pathname) ? setTimeout(go, delayMs) : go();
  };
  return { url, send };
}

/**
 * `snippet(query, sdkUrl)` returns what replaces <!--SDK--> in index.html for a request's
 * query (the empty string: the page without the SDK).
 */
export async function site(sdkDir, snippet, delayMs = 0) {
  const backend = [];
  const sdkServer = createServer((req, res) => {
    const { url, send } = responder(req, res, delayMs);
    const file = normalize(url.pathname.replace(/^\/sdk\//, ''));
    if (!url.pathname.startsWith('/sdk/') || file.includes('..')) return send(404, 'text/plain', 'not found');
    try {
      return send(200, TYPES[extname(file)] || 'application/octet-stream', readFileSync(join(sdkDir, file)), { 'access-control-allow-origin': '*' });
    } catch {
      return send(404, 'text/plain', 'not found');
    }
  });
  const sdkUrl = await listen(sdkServer);
  const server = createServer((req, res) => {
    const { url, send } = responder(req, res, delayMs);
    if (url.pathname === '/api/data') {
      backend.push({ url: req.url, traceparent: req.headers.traceparent || null });
      return send(200, 'application/json', JSON.stringify({ items: 3 }));
    }
    const name = url.pathname === '/' || !extname(url.pathname) ? 'index.html' : url.pathname.slice(1);
    if (!/^[a-z]+\.(html|js|css|svg)$/.test(name)) return send(404, 'text/plain', 'not found');
    let body = readFileSync(join(here, name), 'utf8');
    if (name === 'index.html') body = body.replace('<!--SDK-->', () => snippet(url.searchParams, sdkUrl));
    return send(200, TYPES[extname(name)], body);
  });
  const siteUrl = await listen(server);
  return {
    url: siteUrl,
    sdkUrl,
    backend,
    close: () => {
      server.close();
      sdkServer.close();
    },
  };
}

/** Records OTLP/HTTP JSON posts (gunzipped; `gzip` tells which were); `status` is what it answers. */
export async function collector() {
  const posts = [];
  const state = { status: 200 };
  const server = createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': req.headers.origin || '*',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'authorization, content-type, content-encoding',
      'access-control-max-age': '600',
    };
    if (req.method === 'OPTIONS') return res.writeHead(204, cors).end();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      posts.push({ path: req.url, headers: req.headers, body, gzip: req.headers['content-encoding'] === 'gzip' });
      res.writeHead(state.status, { ...cors, 'content-type': 'application/json' }).end('{}');
    });
  });
  return { url: await listen(server), posts, state, close: () => server.close() };
}

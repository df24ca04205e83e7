// Boot script, inlined into index.html's <head> at build time (see vite.config.ts): sends the
// current page's first API requests right away, while the app's bundle is still being loaded
// and parsed, instead of after the app's first render. The app takes the answers (api.ts,
// takePrefetched) and resolves its first time range with the same `now` (hooks.ts, useRange),
// so that its requests are exactly these. Must stay small and must not throw.
import type { BootAnswer } from './lib/api';
import { colorSeedRequest, initialRequests, knownServices, qs, requestKey } from './lib/requests';
import { resolveRange } from './lib/time';

try {
  const now = Date.now();
  const query = new URLSearchParams(location.search);
  const from = query.get('from');
  const to = query.get('to');
  const answers = new Map<string, Promise<BootAnswer>>();
  const requests = initialRequests(location.pathname, query, resolveRange(from, to, now));
  // On a first visit the app waits for the services list (to seed colours) before it renders.
  if (!knownServices().length) requests.unshift(colorSeedRequest);
  for (const r of requests) {
    const path = r.path + qs(r.params ?? {});
    const body = r.body === undefined ? undefined : JSON.stringify(r.body);
    const init: RequestInit = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body };
    const answer = fetch(`/api/v1${path}`, init).then(async (res) => ({ ok: res.ok, status: res.status, statusText: res.statusText, text: await res.text() }));
    answer.catch(() => {}); // the app reports failures when it takes the answer
    answers.set(requestKey(init.method ?? 'GET', path, body), answer);
  }
  window.__redscopeBoot = { now, from, to, answers };
} catch {
  /* the app then sends its requests itself */
}

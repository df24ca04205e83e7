// Page views: the initial one, one per SPA navigation (history.pushState/replaceState,
// popstate, and hash routes like `#/orders`) and one per restore from the back/forward cache,
// each with its own id.

import { type Client, guard } from '../client';
import type { Attrs } from '../config';

/** What identifies a page: path and query, and the hash when it is a route (`#/…`, `#!…`). */
export function pageKey(href: string): string {
  const hash = href.indexOf('#');
  if (hash < 0) return href;
  const fragment = href.slice(hash);
  return fragment.startsWith('#/') || fragment.startsWith('#!') ? href : href.slice(0, hash);
}

export function installNavigation(client: Client): void {
  let key = pageKey(location.href);
  const first: Attrs = { 'browser.page_view.type': 'initial' };
  if (document.referrer) first['browser.referrer'] = document.referrer;
  client.event('browser.page_view', first, { body: client.page.path });

  const changed = (type: string) => {
    const next = pageKey(location.href);
    if (next === key) return;
    key = next;
    const previous = client.navigate();
    client.event(
      'browser.page_view',
      { 'browser.page_view.type': type, 'page_view.previous_id': previous.id },
      { body: client.page.path },
    );
  };

  for (const name of ['pushState', 'replaceState'] as const) {
    const original = history[name];
    if (typeof original !== 'function') continue;
    history[name] = function (this: History, ...args: Parameters<History['pushState']>) {
      const result = original.apply(this, args);
      guard(changed)(name === 'pushState' ? 'push' : 'replace');
      return result;
    };
  }
  addEventListener('popstate', guard(() => changed('pop')));
  addEventListener('hashchange', guard(() => changed('hash')));
  // A page restored from the back/forward cache is a new page view of the same document.
  addEventListener(
    'pageshow',
    guard((ev: PageTransitionEvent) => {
      if (!ev.persisted) return;
      key = pageKey(location.href);
      const previous = client.navigate();
      client.event(
        'browser.page_view',
        { 'browser.page_view.type': 'back_forward_cache', 'page_view.previous_id': previous.id },
        { body: client.page.path },
      );
    }),
  );
}

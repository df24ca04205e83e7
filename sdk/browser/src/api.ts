// The public API, one instance per page. Calls made before `init` wait (a few) and run after it.

import { Client, guard } from './client';
import { type Attr, type Attrs, type InitOptions, resolveConfig } from './config';
import { installClicks } from './instrument/clicks';
import { installErrors } from './instrument/errors';
import { installFetch, installXhr } from './instrument/http';
import { installNavigation } from './instrument/navigation';
import { installTiming } from './instrument/timing';
import { installVitals } from './instrument/vitals';
import { installReplay } from './replay/loader';
import { defaultScrubUrl } from './scrub';
import { pickStorage } from './session';
import { fetchSender } from './transport';

export type { Attr, Attrs, InitOptions, ReplayOptions, UrlMatcher } from './config';
export { defaultScrubUrl } from './scrub';

let client: Client | null = null;
let reportFn: ((value: unknown, attrs?: Attrs, source?: string) => void) | null = null;
let scriptUrl = '';
const early: [string, unknown[]][] = [];
const MAX_EARLY = 100;

function warn(message: string): void {
  try {
    console.warn(`redscope: ${message}`);
  } catch {
    /* no console */
  }
}

/** Where the SDK was loaded from (the recorder is looked for beside it). */
export function setScriptUrl(url: string): void {
  scriptUrl = url;
}

function later(name: string, args: unknown[]): void {
  if (early.length < MAX_EARLY) early.push([name, args]);
}

function start(options: InitOptions): void {
  if (client) {
    warn('init was called more than once; the first configuration stays');
    return;
  }
  const cfg = resolveConfig(options, scriptUrl, defaultScrubUrl);
  if (typeof cfg === 'string') {
    warn(cfg);
    return;
  }
  const pageFetch = window.fetch.bind(window);
  const beacon = typeof navigator.sendBeacon === 'function' ? navigator.sendBeacon.bind(navigator) : null;
  const c = new Client(cfg, fetchSender(pageFetch, cfg.token, beacon), pickStorage);
  client = c;
  // Now: what must not be missed (errors, requests, navigations, clicks), all cheap.
  reportFn = installErrors(c);
  installNavigation(c);
  installFetch(c);
  installXhr(c);
  if (cfg.captureClicks) installClicks(c);
  // At ready (after the page's load): the rest, once the session is known to be sampled.
  c.readyListeners.push(
    () => installVitals(c),
    () => installTiming(c),
    () => installReplay(c),
  );
  const ready = guard(() => c.makeReady());
  if (document.readyState === 'complete') setTimeout(ready, 0);
  else addEventListener('load', () => setTimeout(ready, 0), { once: true });
  setTimeout(ready, 5000);
  const hide = guard(() => c.hidden().catch(() => undefined));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') hide();
  });
  addEventListener('pagehide', hide);
  const queued = early.splice(0);
  for (const [name, args] of queued) guard(() => (api as unknown as Record<string, (...a: unknown[]) => void>)[name](...args))();
}

export function init(options: InitOptions): void {
  guard(start)(options);
}

/** Sets `user.id` (and `enduser.id`) on what follows and sends `browser.identify`; null forgets it. */
export function identify(userId: string | null, attrs: Attrs = {}): void {
  if (!client) return later('identify', [userId, attrs]);
  guard(() => client?.identify(userId, attrs || {}))();
}

/** A custom event: a log record with `event.name` = `name`. */
export function sendEvent(name: string, attrs: Attrs = {}): void {
  if (!client) return later('sendEvent', [name, attrs]);
  guard(() => {
    if (typeof name !== 'string' || name === '' || name.length > 256) return;
    client?.event(name, attrs || {}, { body: name });
  })();
}

/** Reports an error the page caught itself. */
export function reportError(error: unknown, attrs: Attrs = {}): void {
  if (!client) return later('reportError', [error, attrs]);
  guard(() => reportFn?.(error, attrs || {}, 'manual'))();
}

/** An attribute on every record from now on; null or undefined removes it. */
export function setAttribute(key: string, value: Attr): void {
  if (!client) return later('setAttribute', [key, value]);
  guard(() => client?.setAttribute(key, value))();
}

/** Sends what is queued now. */
export function flush(): Promise<void> {
  return client ? client.flush().catch(() => undefined) : Promise.resolve();
}

/** Sends what is queued and stops recording. */
export function shutdown(): Promise<void> {
  return client ? client.shutdown().catch(() => undefined) : Promise.resolve();
}

/** For the script tag's stub and tests. */
export const api = { init, identify, sendEvent, reportError, setAttribute, flush, shutdown };

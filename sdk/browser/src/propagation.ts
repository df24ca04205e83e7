// Which requests get a W3C `traceparent` header, and which are not instrumented at all.
//
// Same-origin requests always get one: they go to the site's own backend, where the header is
// expected and no CORS preflight is triggered. A cross-origin request gets one only when its
// origin is listed in `propagateTraceTo` (or a RegExp there matches its URL): adding a header
// to a cross-origin request makes the browser send a preflight, which a server that does not
// allow `traceparent` refuses, breaking the page's request.

import type { UrlMatcher } from './config';

/** `url` resolved against the page, or null when it is not http(s). */
export function resolveUrl(url: string, base: string): URL | null {
  try {
    const u = new URL(url, base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : null;
  } catch {
    return null;
  }
}

function originOf(rule: string): string {
  try {
    return new URL(rule).origin.toLowerCase();
  } catch {
    return rule.replace(/\/+$/, '').toLowerCase();
  }
}

/** Whether a request to `url`, made by a page at `pageUrl`, carries `traceparent`. */
export function shouldPropagate(url: string, pageUrl: string, rules: readonly UrlMatcher[]): boolean {
  const target = resolveUrl(url, pageUrl);
  if (!target) return false;
  const page = resolveUrl(pageUrl, pageUrl);
  if (page && page.origin === target.origin) return true;
  const origin = target.origin.toLowerCase();
  for (const rule of rules) {
    if (typeof rule === 'string') {
      if (originOf(rule) === origin) return true;
    } else if (rule instanceof RegExp) {
      rule.lastIndex = 0;
      if (rule.test(target.href)) return true;
    }
  }
  return false;
}

/**
 * Whether `url` is one of the SDK's own sends (`<endpoint>/v1/...`) or matches `ignoreUrls`
 * (substring or RegExp). Only the OTLP paths: a page on redscope's own origin (the demo's
 * storefront) has its other requests traced.
 */
export function isIgnored(url: string, endpoint: string, ignore: readonly UrlMatcher[]): boolean {
  if (endpoint && url.startsWith(`${endpoint}/v1/`)) return true;
  for (const rule of ignore) {
    if (typeof rule === 'string') {
      if (rule && url.includes(rule)) return true;
    } else if (rule instanceof RegExp) {
      rule.lastIndex = 0;
      if (rule.test(url)) return true;
    }
  }
  return false;
}

/** The header value: version 00, the ids, sampled. */
export function traceparent(traceId: string, spanId: string): string {
  return `00-${traceId}-${spanId}-01`;
}

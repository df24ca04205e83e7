// fetch and XMLHttpRequest as CLIENT spans, each the root of a new trace whose `traceparent`
// goes with the request when the propagation rules allow it (see ../propagation.ts).

import { type Client, guard } from '../client';
import type { Attrs } from '../config';
import { id128, id64 } from '../ids';
import { SPAN_CLIENT, STATUS_ERROR } from '../otlp';
import { isIgnored, resolveUrl, shouldPropagate, traceparent } from '../propagation';
import { nowMs } from '../time';

interface Pending {
  traceId: string;
  spanId: string;
  start: number;
  attrs: Attrs;
  propagate: boolean;
}

/** A request worth a span, or null (not http, the SDK's own, ignored, or recording off). */
function begin(client: Client, method: string, rawUrl: string, api: string): Pending | null {
  if (!client.enabled) return null;
  const url = resolveUrl(rawUrl, location.href);
  if (!url || isIgnored(url.href, client.cfg.endpoint, client.cfg.ignoreUrls)) return null;
  const attrs: Attrs = {
    'http.request.method': method.toUpperCase(),
    'url.full': url.href,
    'server.address': url.hostname,
    'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
    'browser.request.api': api,
  };
  return {
    traceId: id128(),
    spanId: id64(),
    start: nowMs(),
    attrs,
    propagate: shouldPropagate(url.href, location.href, client.cfg.propagateTraceTo),
  };
}

/** `status` 0: the request failed (`error` says how); -1: it is not known (opaque response). */
function end(client: Client, p: Pending, status: number, error?: string): void {
  const attrs = p.attrs;
  if (status > 0) attrs['http.response.status_code'] = status;
  const failed = status === 0 || status >= 400;
  if (failed) attrs['error.type'] = status > 0 ? String(status) : error || 'network';
  client.span({
    traceId: p.traceId,
    spanId: p.spanId,
    name: String(attrs['http.request.method']),
    kind: SPAN_CLIENT,
    start: p.start,
    end: nowMs(),
    attrs,
    status: failed ? STATUS_ERROR : undefined,
  });
}

function hasHeader(headers: HeadersInit | undefined, name: string): boolean {
  if (!headers) return false;
  if (headers instanceof Headers) return headers.has(name);
  if (Array.isArray(headers)) return headers.some(([k]) => k.toLowerCase() === name);
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

export function installFetch(client: Client): void {
  const original = window.fetch;
  if (typeof original !== 'function') return;
  const wrapped = function (this: unknown, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    // A failure of ours falls back to the plain call; the page's own errors pass unchanged.
    const prepared = guard(() => {
      const request = typeof Request !== 'undefined' && input instanceof Request ? input : null;
      const url = request ? request.url : String(input);
      const method = (init && init.method) || (request && request.method) || 'GET';
      const p = begin(client, method, url, 'fetch');
      if (!p) return null;
      let nextInit = init;
      if (p.propagate) {
        const own = init && init.headers;
        const base = own || (request ? request.headers : undefined);
        if (!hasHeader(base, 'traceparent')) {
          const headers = new Headers(base);
          headers.set('traceparent', traceparent(p.traceId, p.spanId));
          nextInit = { ...(init || {}), headers };
        }
      }
      return { p, nextInit };
    })();
    if (!prepared) return original.call(this, input, init);
    const { p, nextInit } = prepared;
    const result = original.call(this, input, nextInit);
    result.then(
      guard((r: Response) => end(client, p, r.type === 'opaque' ? -1 : r.status)),
      guard((e: unknown) => end(client, p, 0, e instanceof Error && e.name === 'AbortError' ? 'aborted' : 'network')),
    );
    return result;
  };
  window.fetch = wrapped as typeof fetch;
}

const XHR_STATE = new WeakMap<XMLHttpRequest, { method: string; url: string; traced: boolean }>();

export function installXhr(client: Client): void {
  if (typeof XMLHttpRequest === 'undefined') return;
  const proto = XMLHttpRequest.prototype;
  const open = proto.open;
  const send = proto.send;
  const setHeader = proto.setRequestHeader;

  proto.open = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) {
    guard(() => XHR_STATE.set(this, { method: String(method), url: String(url), traced: false }))();
    return (open as (...a: unknown[]) => void).call(this, method, url, ...rest);
  } as typeof proto.open;

  proto.setRequestHeader = function (this: XMLHttpRequest, name: string, value: string) {
    guard(() => {
      const s = XHR_STATE.get(this);
      if (s && name.toLowerCase() === 'traceparent') s.traced = true;
    })();
    return setHeader.call(this, name, value);
  };

  proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    guard(() => {
      const s = XHR_STATE.get(this);
      if (!s) return;
      const p = begin(client, s.method, s.url, 'xmlhttprequest');
      if (!p) return;
      if (p.propagate && !s.traced) setHeader.call(this, 'traceparent', traceparent(p.traceId, p.spanId));
      const xhr = this;
      xhr.addEventListener(
        'loadend',
        guard(() => end(client, p, xhr.status, xhr.status === 0 ? 'network' : undefined)),
        { once: true },
      );
    })();
    return send.call(this, body);
  };
}

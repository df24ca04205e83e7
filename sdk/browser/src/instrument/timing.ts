// Navigation and resource timing as spans, in the shapes OpenTelemetry JS's document-load
// instrumentation uses: `documentLoad` (the page view's trace root, timing marks as events),
// `documentFetch` under it, and one `resourceFetch` per script, style, image, … (fetch and
// XHR are CLIENT spans of their own, ./http.ts). Resources loaded after the document are
// spans of the page view's trace without a parent.

import { type Client, type PageView, guard } from '../client';
import type { Attrs } from '../config';
import { id64 } from '../ids';
import { SPAN_INTERNAL, type SpanEvent } from '../otlp';
import { isIgnored } from '../propagation';
import { epochMs } from '../time';

/** resourceFetch spans per page view, at most. */
const MAX_RESOURCES = 150;

const MARKS = [
  'fetchStart', 'domainLookupStart', 'domainLookupEnd', 'connectStart', 'secureConnectionStart',
  'connectEnd', 'requestStart', 'responseStart', 'responseEnd', 'domInteractive',
  'domContentLoadedEventStart', 'domContentLoadedEventEnd', 'domComplete', 'loadEventStart', 'loadEventEnd',
] as const;

function sizes(e: PerformanceResourceTiming): Attrs {
  const a: Attrs = {
    'http.response.body.size': e.encodedBodySize || undefined,
    'browser.resource.transfer_size': e.transferSize,
    'browser.resource.decoded_body_size': e.decodedBodySize || undefined,
  };
  const status = (e as PerformanceResourceTiming & { responseStatus?: number }).responseStatus;
  if (status) a['http.response.status_code'] = status;
  if (e.nextHopProtocol) a['network.protocol.name'] = e.nextHopProtocol;
  return a;
}

export function installTiming(client: Client): void {
  let documentSpanId = '';
  let loadEnd = 0;
  const counts = new Map<string, number>();

  const resource = (e: PerformanceResourceTiming, page: PageView) => {
    if (e.initiatorType === 'fetch' || e.initiatorType === 'xmlhttprequest' || e.initiatorType === 'beacon') return;
    if (isIgnored(e.name, client.cfg.endpoint, client.cfg.ignoreUrls)) return;
    const n = counts.get(page.id) || 0;
    if (n >= MAX_RESOURCES) return;
    counts.set(page.id, n + 1);
    let host = '';
    try {
      host = new URL(e.name).hostname;
    } catch {
      /* data: and the like */
    }
    const during = loadEnd === 0 || e.startTime <= loadEnd;
    client.span(
      {
        traceId: page.traceId,
        spanId: id64(),
        parentSpanId: during && documentSpanId ? documentSpanId : undefined,
        name: 'resourceFetch',
        kind: SPAN_INTERNAL,
        start: epochMs(e.startTime),
        end: epochMs(e.responseEnd || e.startTime + e.duration),
        attrs: {
          'url.full': e.name,
          'server.address': host || undefined,
          'browser.resource.initiator_type': e.initiatorType,
          ...sizes(e),
        },
      },
      page,
    );
  };

  const documentLoad = (nav: PerformanceNavigationTiming) => {
    const page = client.page;
    documentSpanId = id64();
    loadEnd = nav.loadEventEnd;
    const events: SpanEvent[] = [];
    for (const m of MARKS) {
      const t = nav[m];
      if (t > 0) events.push({ name: m, time: epochMs(t) });
    }
    const base: Attrs = { 'url.full': page.href, 'browser.navigation.type': nav.type, ...sizes(nav) };
    client.span(
      {
        traceId: page.traceId,
        spanId: documentSpanId,
        name: 'documentLoad',
        kind: SPAN_INTERNAL,
        start: epochMs(nav.startTime),
        end: epochMs(nav.loadEventEnd || nav.duration),
        attrs: base,
        events,
      },
      page,
    );
    client.span(
      {
        traceId: page.traceId,
        spanId: id64(),
        parentSpanId: documentSpanId,
        name: 'documentFetch',
        kind: SPAN_INTERNAL,
        start: epochMs(nav.fetchStart),
        end: epochMs(nav.responseEnd),
        attrs: { 'url.full': page.href },
      },
      page,
    );
  };

  const afterLoad = guard(() => {
    if (!client.enabled) return;
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    if (nav) documentLoad(nav);
    if (!client.cfg.captureResources || typeof PerformanceObserver === 'undefined') return;
    try {
      new PerformanceObserver(
        guard((list: PerformanceObserverEntryList) => {
          if (!client.enabled) return;
          const page = client.page;
          for (const e of list.getEntries()) resource(e as PerformanceResourceTiming, page);
        }),
      ).observe({ type: 'resource', buffered: true });
    } catch {
      /* not supported */
    }
  });

  // loadEventEnd is set once the load handlers have run: one task after `load`.
  if (document.readyState === 'complete') setTimeout(afterLoad, 0);
  else addEventListener('load', () => setTimeout(afterLoad, 0), { once: true });
}

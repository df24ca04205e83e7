// Web Vitals (LCP, INP, CLS, FCP, TTFB) from the `web-vitals` package: the last value of each
// per page view, sent when the page is hidden or the next page view starts.

import { type Metric, onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';
import { type Client, type PageView, guard } from '../client';

interface Pending {
  metric: Metric;
  page: PageView;
}

export function installVitals(client: Client): void {
  // name → the value not yet sent, with the page view it was measured on
  let pending = new Map<string, Pending>();

  const send = () => {
    const now = pending;
    pending = new Map();
    for (const { metric, page } of now.values()) {
      client.event(
        'browser.web_vital',
        {
          'browser.web_vital.name': metric.name,
          'browser.web_vital.value': metric.value,
          'browser.web_vital.rating': metric.rating,
          'browser.web_vital.delta': metric.delta,
          'browser.web_vital.id': metric.id,
          'browser.web_vital.navigation_type': metric.navigationType,
        },
        { pageView: page, body: `${metric.name} ${Math.round(metric.value * 1000) / 1000}` },
      );
    }
  };

  const record = guard((metric: Metric) => {
    pending.set(metric.name, { metric, page: client.page });
  });
  const opts = { reportAllChanges: true };
  onLCP(record, opts);
  onINP(record, opts);
  onCLS(record, opts);
  onFCP(record, opts);
  onTTFB(record, opts);

  client.pageViewListeners.push(send);
  client.hideListeners.push(send);
}

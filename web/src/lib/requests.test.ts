import { describe, expect, test } from 'vitest';
import { initialRequests, qs, requestKey, routeSegments } from './requests';
import { resolveRange } from './time';

const range = resolveRange('now-1h', null, Date.UTC(2026, 0, 1, 12));
const paths = (path: string, search = '') => initialRequests(path, new URLSearchParams(search), range).map((r) => r.path);

describe('boot requests', () => {
  test('each page asks for its data', () => {
    expect(paths('/services')).toEqual(['/services', '/red']);
    expect(paths('/service/frontend')).toEqual(['/red', '/red', '/service-map', '/traces', '/blast-radius', '/logs/patterns', '/logs']);
    expect(paths('/traces')).toEqual(['/services', '/traces/scatter', '/traces']);
    expect(paths('/traces', 'service=cart')).toEqual(['/services', '/red', '/traces/scatter', '/traces']);
    expect(paths('/logs')).toEqual(['/logs/histogram', '/logs/facets', '/logs']);
    expect(paths('/logs', 'tab=patterns')).toEqual(['/logs/patterns']);
    expect(paths('/map')).toEqual(['/service-map']);
    expect(paths('/metrics')).toEqual(['/metrics']);
    expect(paths('/trace/abc%2F1')).toEqual(['/traces/abc%2F1']);
  });

  test('the Logs page sends its filters to every view, never SQL', () => {
    const reqs = initialRequests('/logs', new URLSearchParams('service=cart&q=timeout&severity=error&template_id=t1'), range);
    for (const r of reqs) {
      expect(r.body).toBeUndefined();
      expect(r.params).toMatchObject({ service: 'cart', q: 'timeout', severity_min: 'ERROR', template_id: 't1' });
    }
    const [patterns] = initialRequests('/logs', new URLSearchParams('tab=patterns&service=cart&q=timeout&severity=warn'), range);
    expect(patterns.params).toMatchObject({ service: 'cart', q: 'timeout', severity_min: 'WARN' });
  });

  test('no requests where a page has none to make', () => {
    expect(paths('/')).toEqual([]);
    expect(paths('/service')).toEqual([]);
    expect(paths('/trace/')).toEqual([]);
    expect(paths('/no-such-page')).toEqual([]);
  });

  test('names in the path are decoded like the router does', () => {
    expect(routeSegments('/service/a%20b/')).toEqual(['service', 'a b']);
    const svc = initialRequests('/service/a%20b', new URLSearchParams(), range);
    expect(svc[1].params?.service).toBe('a b');
  });

  test('keys name method, path with query and body', () => {
    const { params } = initialRequests('/services', new URLSearchParams(), range)[1];
    const path = '/red' + qs(params!);
    expect(path).toBe(`/red?from=${range.fromNs}&to=${range.toNs}&step=120s`);
    expect(requestKey('GET', path)).toBe(`GET ${path}`);
    expect(requestKey('POST', '/sql', '{"query":"select 1"}')).toBe('POST /sql {"query":"select 1"}');
  });
});

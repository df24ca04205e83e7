import { describe, expect, it } from 'vitest';
import { isIgnored, shouldPropagate, traceparent } from '../../src/propagation';

const PAGE = 'https://shop.example.com/cart';

describe('traceparent injection', () => {
  it('goes to the page origin by default, relative URLs included', () => {
    expect(shouldPropagate('/api/cart', PAGE, [])).toBe(true);
    expect(shouldPropagate('https://shop.example.com/api', PAGE, [])).toBe(true);
  });

  it('does not go to other origins unless they are listed', () => {
    expect(shouldPropagate('https://api.example.com/v1', PAGE, [])).toBe(false);
    expect(shouldPropagate('https://cdn.other.net/x.js', PAGE, ['https://api.example.com'])).toBe(false);
    expect(shouldPropagate('https://api.example.com/v1', PAGE, ['https://api.example.com'])).toBe(true);
    expect(shouldPropagate('https://api.example.com/v1', PAGE, ['https://API.example.com/'])).toBe(true);
  });

  it('compares whole origins: scheme, host and port', () => {
    const rules = ['https://api.example.com'];
    expect(shouldPropagate('http://api.example.com/v1', PAGE, rules)).toBe(false);
    expect(shouldPropagate('https://api.example.com:8443/v1', PAGE, rules)).toBe(false);
    expect(shouldPropagate('https://api.example.com.evil.net/v1', PAGE, rules)).toBe(false);
    expect(shouldPropagate('http://shop.example.com/api', PAGE, [])).toBe(false);
  });

  it('accepts RegExps against the full URL', () => {
    const rules = [/^https:\/\/[a-z]+\.example\.com\/api\//];
    expect(shouldPropagate('https://orders.example.com/api/1', PAGE, rules)).toBe(true);
    expect(shouldPropagate('https://orders.example.com/static/1', PAGE, rules)).toBe(false);
    const sticky = [/example\.net/g];
    expect(shouldPropagate('https://a.example.net/', PAGE, sticky)).toBe(true);
    expect(shouldPropagate('https://a.example.net/', PAGE, sticky)).toBe(true);
  });

  it('never for URLs that are not http(s)', () => {
    expect(shouldPropagate('data:text/plain,hi', PAGE, [/.*/])).toBe(false);
    expect(shouldPropagate('blob:https://shop.example.com/1', PAGE, [])).toBe(false);
  });

  it('writes the W3C header', () => {
    expect(traceparent('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331')).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('ignores the SDK endpoint and ignoreUrls', () => {
    const endpoint = 'https://otlp.example.com:4318';
    expect(isIgnored('https://otlp.example.com:4318/v1/logs', endpoint, [])).toBe(true);
    expect(isIgnored('https://shop.example.com/healthz', endpoint, ['/healthz'])).toBe(true);
    expect(isIgnored('https://ads.example.net/x', endpoint, [/ads\./])).toBe(true);
    expect(isIgnored('https://shop.example.com/api', endpoint, ['/healthz', /ads\./])).toBe(false);
  });

  it('traces the other requests of a page on the endpoint\'s own origin', () => {
    const endpoint = 'http://localhost:8080';
    expect(isIgnored('http://localhost:8080/v1/traces?token=x', endpoint, [])).toBe(true);
    expect(isIgnored('http://localhost:8080/shop/api/checkout', endpoint, [])).toBe(false);
  });
});

describe('siblingUrl', () => {
  it('finds the recorder beside the SDK script', async () => {
    const { siblingUrl } = await import('../../src/config');
    expect(siblingUrl('https://rs.example.com/sdk/redscope.js', 'replay.mjs')).toBe('https://rs.example.com/sdk/replay.mjs');
    expect(siblingUrl('https://rs.example.com/sdk/redscope.mjs?v=2#x', 'replay.mjs')).toBe('https://rs.example.com/sdk/replay.mjs');
    expect(siblingUrl('https://rs.example.com:8080/redscope.js', 'replay.mjs')).toBe('https://rs.example.com:8080/replay.mjs');
    expect(siblingUrl('', 'replay.mjs')).toBe('');
    expect(siblingUrl('blob:xyz', 'replay.mjs')).toBe('');
  });
});

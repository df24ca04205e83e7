// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Client } from '../../src/client';
import { type Config, resolveConfig } from '../../src/config';
import { describeError, installErrors } from '../../src/instrument/errors';
import { defaultScrubUrl } from '../../src/scrub';

function client(over: Partial<Config> = {}) {
  const cfg = { ...(resolveConfig({ endpoint: 'https://otlp.example', serviceName: 'web' }, '', defaultScrubUrl) as Config), ...over };
  const events: { name: string; attrs: Record<string, unknown> }[] = [];
  const c = new Client(cfg, async () => ({ status: 200 }), () => null);
  c.event = (name, attrs) => void events.push({ name, attrs });
  return { c, events };
}

describe('errors', () => {
  const original = console.error;
  afterEach(() => {
    console.error = original;
  });

  it('describes thrown values of any kind', () => {
    const e = new TypeError('x is undefined');
    expect(describeError(e)).toMatchObject({ type: 'TypeError', message: 'x is undefined' });
    expect(describeError(e).stack).toContain('x is undefined');
    expect(describeError('plain')).toEqual({ type: 'Error', message: 'plain', stack: '' });
    expect(describeError({ code: 42 })).toEqual({ type: 'Error', message: '{"code":42}', stack: '' });
    expect(describeError(undefined).type).toBe('Error');
  });

  it('reports console.error when asked, and still calls it', () => {
    const seen: unknown[][] = [];
    console.error = (...a: unknown[]) => void seen.push(a);
    const { c, events } = client({ captureConsoleErrors: true });
    installErrors(c);
    console.error('checkout failed:', new RangeError('bad total'));
    expect(seen).toHaveLength(1);
    expect(events).toHaveLength(1);
    expect(events[0].attrs).toMatchObject({
      'exception.type': 'RangeError',
      'exception.message': 'checkout failed: bad total',
      'browser.error.source': 'console',
    });
  });

  it('leaves console.error alone by default', () => {
    const mine = vi.fn();
    console.error = mine;
    const { c } = client();
    installErrors(c);
    expect(console.error).toBe(mine);
  });

  it('sends the same error at most ten times per page view', () => {
    const { c, events } = client();
    const report = installErrors(c);
    for (let i = 0; i < 25; i++) report(new Error('again'));
    expect(events).toHaveLength(10);
    c.navigate();
    report(new Error('again'));
    expect(events).toHaveLength(11);
  });
});

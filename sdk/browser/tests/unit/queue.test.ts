import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LogRecord } from '../../src/otlp';
import { BoundedQueue, RateLimiter } from '../../src/queue';
import { KEEPALIVE_BODY, type SendResult, Transport, byteLength, fetchSender } from '../../src/transport';

describe('BoundedQueue', () => {
  it('drops the oldest when full and counts what it dropped', () => {
    const q = new BoundedQueue<number>(3);
    for (let i = 1; i <= 5; i++) q.push(i);
    expect(q.size).toBe(3);
    expect(q.dropped).toBe(2);
    expect(q.take(10)).toEqual([3, 4, 5]);
  });

  it('puts back what was not sent in front, within the bound', () => {
    const q = new BoundedQueue<number>(4);
    [1, 2, 3].forEach((i) => q.push(i));
    const batch = q.take(2);
    [4, 5, 6].forEach((i) => q.push(i));
    q.requeue(batch); // [1, 2, 3, 4, 5, 6]: the two oldest go
    expect(q.dropped).toBe(2);
    expect(q.take(10)).toEqual([3, 4, 5, 6]);
    q.push(7);
    q.requeue([6]);
    expect(q.take(10)).toEqual([6, 7]);
  });

  it('holds at most maxBytes, keeping the newest item', () => {
    const q = new BoundedQueue<string>(100, 10, (s) => s.length);
    q.push('aaaa');
    q.push('bbbb');
    q.push('cccc');
    expect(q.take(10)).toEqual(['bbbb', 'cccc']);
    q.push('x'.repeat(50));
    expect(q.size).toBe(1);
    expect(q.dropped).toBe(1);
  });
});

describe('RateLimiter', () => {
  it('allows a minute of records, then refills at the rate', () => {
    let t = 0;
    const r = new RateLimiter(60, () => t);
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (r.allow()) allowed++;
    expect(allowed).toBe(60);
    t += 10_000;
    allowed = 0;
    for (let i = 0; i < 100; i++) if (r.allow()) allowed++;
    expect(allowed).toBe(10);
  });
});

const log = (i: number, body?: string): LogRecord => ({ time: 1, severity: 9, attrs: { i }, body });

function transport(results: (SendResult | Error)[], over: Partial<ConstructorParameters<typeof Transport>[0]> = {}) {
  const sent: { url: string; body: string; keepalive: boolean }[] = [];
  const clock = { t: 1_000_000 };
  const t = new Transport({
    endpoint: 'https://otlp.example',
    resource: () => ({ 'service.name': 's' }),
    maxQueue: 1000,
    maxEventsPerMinute: 10_000,
    flushIntervalMs: 5000,
    now: () => clock.t,
    sender: async (url, body, keepalive) => {
      sent.push({ url, body, keepalive });
      const r = results.length ? results.shift() : { status: 200 };
      if (r instanceof Error) throw r;
      return r as SendResult;
    },
    ...over,
  });
  const count = () => sent.reduce((n, s) => n + JSON.parse(s.body).resourceLogs[0].scopeLogs[0].logRecords.length, 0);
  return { t, sent, clock, count };
}

describe('Transport', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('batches records and sends them after the interval', async () => {
    const { t, sent } = transport([]);
    for (let i = 0; i < 10; i++) t.addLog(log(i));
    expect(sent.length).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent.length).toBe(1);
    expect(sent[0].url).toBe('https://otlp.example/v1/logs');
    expect(sent[0].keepalive).toBe(false);
  });

  it('counts records dropped by the rate limit', async () => {
    const { t, count } = transport([], { maxEventsPerMinute: 5 });
    for (let i = 0; i < 8; i++) t.addLog(log(i));
    t.addLog(log(99), true); // exempt
    await t.flush(false);
    expect(count()).toBe(6);
    expect(t.dropCounts().rate_limited).toBe(3);
  });

  it('counts records dropped because the queue was full', async () => {
    const { t, count } = transport([], { maxQueue: 4 });
    for (let i = 0; i < 10; i++) t.addLog(log(i));
    await t.flush(false);
    expect(count()).toBe(4);
    expect(t.dropCounts().queue_full).toBe(6);
  });

  it('keeps records and backs off when the collector is down, then sends them', async () => {
    const { t, sent, clock, count } = transport([new Error('down'), { status: 503 }, { status: 429, retryAfter: 30 }]);
    for (let i = 0; i < 3; i++) t.addLog(log(i));
    await t.flush(false);
    expect(sent.length).toBe(1);
    await t.flush(false); // within the backoff: nothing sent
    expect(sent.length).toBe(1);
    clock.t += 1500;
    await t.flush(false);
    expect(sent.length).toBe(2);
    clock.t += 1500; // backoff doubled: still waiting
    await t.flush(false);
    expect(sent.length).toBe(2);
    clock.t += 2000;
    await t.flush(false);
    expect(sent.length).toBe(3); // 429 with Retry-After: 30 s
    clock.t += 20_000;
    await t.flush(false);
    expect(sent.length).toBe(3);
    clock.t += 20_000;
    await t.flush(false);
    expect(sent.length).toBe(4);
    expect(count()).toBe(12); // the same 3 records, four times
    expect(t.dropCounts().send_failed).toBe(0);
  });

  it('gives a batch up after repeated failures and counts it', async () => {
    const { t, clock } = transport(Array.from({ length: 10 }, () => ({ status: 500 })));
    t.addLog(log(1));
    for (let i = 0; i < 8; i++) {
      await t.flush(false);
      clock.t += 120_000;
    }
    expect(t.dropCounts().send_failed).toBe(1);
  });

  it('stops for good on 401 and 403', async () => {
    const { t, sent } = transport([{ status: 401 }]);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    t.addLog(log(1));
    t.addLog(log(2));
    await t.flush(false);
    t.addLog(log(3));
    await t.flush(false);
    expect(sent.length).toBe(1);
    expect(t.disabled).toBe(true);
    expect(t.dropCounts().unauthorized).toBe(2);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it('drops batches the collector rejects (400) and goes on', async () => {
    const { t, sent } = transport([{ status: 400 }]);
    t.addLog(log(1));
    await t.flush(false);
    t.addLog(log(2));
    await t.flush(false);
    expect(sent.length).toBe(2);
    expect(t.dropCounts().rejected).toBe(1);
  });

  it('sends everything on page hide in keepalive bodies under 64 KiB', async () => {
    const { t, sent, count } = transport([]);
    for (let i = 0; i < 60; i++) t.addLog(log(i, 'x'.repeat(3000)));
    await t.flush(true);
    expect(count()).toBe(60);
    expect(sent.length).toBeGreaterThan(2);
    let keepaliveBytes = 0;
    for (const s of sent) {
      if (s.keepalive) keepaliveBytes += byteLength(s.body);
      expect(byteLength(s.body)).toBeLessThanOrEqual(KEEPALIVE_BODY);
    }
    expect(keepaliveBytes).toBeLessThanOrEqual(KEEPALIVE_BODY);
    expect(sent.some((s) => s.keepalive)).toBe(true);
  });

  it('never throws into the caller, whatever the sender does', async () => {
    const { t } = transport([new TypeError('Failed to fetch')]);
    t.addLog(log(1));
    await expect(t.flush(true)).resolves.toBeUndefined();
  });

  it('measures bodies in UTF-8 bytes', () => {
    expect(byteLength('abc')).toBe(3);
    expect(byteLength('é')).toBe(2);
    expect(byteLength('€')).toBe(3);
    expect(byteLength('😀')).toBe(4);
  });
});

describe('fetchSender', () => {
  const response = () => ({ status: 200, headers: { get: () => null } }) as unknown as Response;

  it('posts JSON with the token in Authorization, gzipped when large and not at page hide', async () => {
    const calls: RequestInit[] = [];
    const fake = (async (_url: string, init: RequestInit) => {
      calls.push(init);
      return response();
    }) as unknown as typeof fetch;
    const send = fetchSender(fake, 'rs_browser_x', null, true);
    await send('https://o.example/v1/logs', 'x'.repeat(5000), false);
    await send('https://o.example/v1/logs', 'x'.repeat(5000), true);
    await send('https://o.example/v1/logs', '{}', false);
    const headers = calls.map((c) => c.headers as Record<string, string>);
    expect(headers[0]).toMatchObject({ Authorization: 'Bearer rs_browser_x', 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    expect(calls[1].keepalive).toBe(true);
    expect(headers[1]['Content-Encoding']).toBeUndefined();
    expect(headers[2]['Content-Encoding']).toBeUndefined();
    expect(calls.every((c) => c.credentials === 'omit')).toBe(true);
  });

  it('uses a beacon at page hide where fetch has no keepalive, with the token in the URL', async () => {
    const beacons: { url: string; type: string }[] = [];
    const fake = (async () => response()) as unknown as typeof fetch;
    const send = fetchSender(fake, 'rs_browser_x', (url, data) => beacons.push({ url, type: data.type }) > 0, false);
    expect(await send('https://o.example/v1/logs', '{}', true)).toEqual({ status: 202 });
    expect(beacons).toEqual([{ url: 'https://o.example/v1/logs?token=rs_browser_x', type: 'text/plain' }]);
    expect((await send('https://o.example/v1/logs', '{}', false)).status).toBe(200); // not at page hide: fetch
    expect(beacons).toHaveLength(1);
  });
});

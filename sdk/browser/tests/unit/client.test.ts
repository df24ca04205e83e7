// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client';
import { resolveConfig, type Config } from '../../src/config';
import { defaultScrubUrl } from '../../src/scrub';
import type { StorageLike } from '../../src/session';

class MemoryStorage implements StorageLike {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
}

function setup(over: Partial<Config> = {}) {
  const cfg = { ...(resolveConfig({ endpoint: 'https://otlp.example', serviceName: 'web' }, '', defaultScrubUrl) as Config), ...over };
  const bodies: string[] = [];
  const storage = new MemoryStorage();
  let reads = 0;
  const client = new Client(
    cfg,
    async (_url, body) => {
      bodies.push(body);
      return { status: 200 };
    },
    () => {
      reads++;
      return storage;
    },
  );
  const logs = () =>
    bodies.flatMap((b) => (JSON.parse(b).resourceLogs || []).flatMap((rl: any) => rl.scopeLogs[0].logRecords)).map((r: any) =>
      Object.fromEntries(r.attributes.map((kv: any) => [kv.key, Object.values(kv.value)[0]])),
    );
  return { client, bodies, storage, logs, reads: () => reads };
}

describe('Client', () => {
  it('keeps records made before ready and stamps them with the session then', async () => {
    const { client, logs, reads } = setup();
    client.event('browser.page_view', {});
    client.event('shop.step', { step: 1 });
    expect(reads()).toBe(0); // no storage before ready
    client.makeReady();
    await client.flush();
    const got = logs();
    expect(got.map((a) => a['event.name'])).toEqual(['browser.page_view', 'shop.step']);
    expect(got[0]['session.id']).toMatch(/^[0-9a-f]{32}$/);
    expect(got[1]['session.id']).toBe(got[0]['session.id']);
    expect(got[0]['user.anonymous_id']).toMatch(/^[0-9a-f]{32}$/);
    expect(got[0]['page_view.id']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('scrubs every URL attribute, whoever set it', async () => {
    const { client, logs } = setup();
    history.replaceState({}, '', '/reset?token=abc123&page=2');
    client.navigate();
    client.event('x', {
      'browser.referrer': 'https://idp.example/cb?code=secret',
      'browser.click.href': 'https://a.example/?email=jane@example.com',
      'code.file.path': 'https://cdn.example/app.js?sig=deadbeef',
    });
    client.makeReady();
    await client.flush();
    const [a] = logs();
    expect(a['url.full']).toBe(`${location.origin}/reset?token=redacted&page=2`);
    expect(a['browser.referrer']).toBe('https://idp.example/cb?code=redacted');
    expect(a['browser.click.href']).toBe('https://a.example/?email=redacted');
    expect(a['code.file.path']).toBe('https://cdn.example/app.js?sig=redacted');
  });

  it('sends nothing for a session that is not sampled', async () => {
    const { client, bodies } = setup({ sessionSampleRate: 0 });
    client.event('before', {});
    client.makeReady();
    client.event('after', {});
    await client.flush();
    await client.hidden();
    expect(bodies).toEqual([]);
    expect(client.enabled).toBe(false);
  });

  it('puts user.id on what follows identify, and remembers it for the next page', async () => {
    const { client, logs, storage } = setup();
    client.makeReady();
    client.event('anonymous', {});
    client.identify('u-42', { plan: 'pro' });
    client.event('known', {});
    await client.flush();
    const got = logs();
    expect(got[0]['user.id']).toBeUndefined();
    const identify = got.find((a) => a['event.name'] === 'browser.identify');
    expect(identify).toMatchObject({ 'user.id': 'u-42', 'enduser.id': 'u-42', plan: 'pro' });
    expect(identify?.['user.anonymous_id']).toBe(got[0]['user.anonymous_id']);
    expect(got.find((a) => a['event.name'] === 'known')?.['user.id']).toBe('u-42');
    expect(storage.getItem('redscope.user')).toBe('u-42');
  });

  it('reports what it dropped, by reason, in a browser.sdk_dropped record', async () => {
    const { client, logs } = setup({ maxEventsPerMinute: 3 });
    client.makeReady();
    for (let i = 0; i < 10; i++) client.event('burst', { i });
    await client.flush();
    const got = logs();
    expect(got.filter((a) => a['event.name'] === 'burst')).toHaveLength(3);
    const report = got.find((a) => a['event.name'] === 'browser.sdk_dropped');
    expect(report).toMatchObject({ 'redscope.dropped.rate_limited': '7', 'redscope.dropped.queue_full': '0' });
    await client.flush(); // nothing new dropped: no second report
    expect(logs().filter((a) => a['event.name'] === 'browser.sdk_dropped')).toHaveLength(1);
  });
});

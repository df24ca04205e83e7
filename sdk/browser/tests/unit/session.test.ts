import { describe, expect, it } from 'vitest';
import { ANON_KEY, SESSION_KEY, Sessions, type SessionOptions, type StorageLike, anonymousId } from '../../src/session';

class MemoryStorage implements StorageLike {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.has(k) ? (this.data.get(k) as string) : null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
}

const MIN = 60_000;

function setup(over: Partial<SessionOptions> = {}) {
  const clock = { t: 1_700_000_000_000 };
  const storage = new MemoryStorage();
  const opts: SessionOptions = {
    storage,
    timeoutMs: 30 * MIN,
    maxMs: 240 * MIN,
    sampleRate: 1,
    replaySampleRate: 0,
    replayOnErrorSampleRate: 0,
    now: () => clock.t,
    ...over,
  };
  return { clock, storage, opts, sessions: new Sessions(opts) };
}

describe('sessions', () => {
  it('starts one with a 128-bit hex id and keeps it in storage', () => {
    const { sessions, storage } = setup();
    const s = sessions.current();
    expect(s.id).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.parse(storage.getItem(SESSION_KEY) as string).id).toBe(s.id);
  });

  it('goes on while there is activity within 30 minutes', () => {
    const { sessions, clock } = setup();
    const id = sessions.current().id;
    for (let i = 0; i < 5; i++) {
      clock.t += 29 * MIN;
      expect(sessions.current().id).toBe(id);
    }
  });

  it('ends after 30 minutes without activity', () => {
    const { sessions, clock } = setup();
    const id = sessions.current().id;
    clock.t += 30 * MIN + 1;
    const next = sessions.current();
    expect(next.id).not.toBe(id);
    expect(next.start).toBe(clock.t);
  });

  it('ends after 4 hours even with activity', () => {
    const { sessions, clock } = setup();
    const first = sessions.current().id;
    let rotated = '';
    sessions.onRotate = (s) => (rotated = s.id);
    for (let t = 0; t < 240; t += 10) {
      clock.t += 10 * MIN;
      const id = sessions.current().id;
      if (t + 10 <= 240) expect(id).toBe(first);
    }
    clock.t += 1;
    const later = sessions.current().id;
    expect(later).not.toBe(first);
    expect(rotated).toBe(later);
  });

  it('is resumed by the next page load from storage', () => {
    const { sessions, opts, clock } = setup();
    const id = sessions.current().id;
    clock.t += 5 * MIN;
    expect(new Sessions(opts).current().id).toBe(id);
  });

  it('adopts the session another tab started', () => {
    const { sessions, opts, clock } = setup();
    sessions.current();
    clock.t += 31 * MIN;
    const other = new Sessions(opts).current(); // the other tab rotated first
    expect(sessions.current().id).toBe(other.id);
  });

  it('decides sampling once per session', () => {
    let r = 0.3;
    const { sessions, clock } = setup({ sampleRate: 0.5, replaySampleRate: 0.5, random: () => r });
    const s = sessions.current();
    expect(s.sampled).toBe(true);
    expect(s.replay).toBe('full');
    r = 0.9;
    clock.t += MIN;
    expect(sessions.current().sampled).toBe(true);
    expect(sessions.current().replay).toBe('full');
    clock.t += 31 * MIN;
    expect(sessions.current().sampled).toBe(false);
    expect(sessions.current().replay).toBe('off');
  });

  it('chooses on-error replay for sessions not recorded in full', () => {
    const rolls = [0.1, 0.8, 0.2];
    const { sessions } = setup({ replaySampleRate: 0.5, replayOnErrorSampleRate: 0.5, random: () => rolls.shift() as number });
    expect(sessions.current().replay).toBe('error');
  });

  it('lives in memory when storage throws', () => {
    const broken: StorageLike = {
      getItem() {
        throw new Error('denied');
      },
      setItem() {
        throw new Error('denied');
      },
    };
    const { opts, clock } = setup();
    const sessions = new Sessions({ ...opts, storage: broken });
    const id = sessions.current().id;
    clock.t += MIN;
    expect(sessions.current().id).toBe(id);
    expect(anonymousId(broken)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('ignores a corrupt stored session', () => {
    const { sessions, storage } = setup();
    storage.setItem(SESSION_KEY, '{"id":"nope"}');
    expect(sessions.current().id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps the anonymous id for good', () => {
    const storage = new MemoryStorage();
    const a = anonymousId(storage);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(anonymousId(storage)).toBe(a);
    expect(storage.getItem(ANON_KEY)).toBe(a);
  });
});

describe('sessions and storage', () => {
  it('reads storage at most once a second in a burst of records', () => {
    const { sessions, storage, clock } = setup();
    let reads = 0;
    const get = storage.getItem.bind(storage);
    storage.getItem = (k: string) => {
      reads++;
      return get(k);
    };
    sessions.current();
    for (let i = 0; i < 100; i++) sessions.current();
    expect(reads).toBe(1);
    clock.t += 1000;
    sessions.current();
    expect(reads).toBe(2);
  });
});

import { describe, expect, test } from 'vitest';
import type { RedPoint } from './api';
import { redCountBars } from './series';

const point = (t: number, requests: number, errors: number): RedPoint => ({ t, requests, errors, p50_ms: null, p90_ms: null, p99_ms: null });

describe('requests/errors bars', () => {
  test('stack: the bars reach the requests, errors at the bottom (an incident is no drop in traffic)', () => {
    const step = 60e9;
    const xs = [0, 60, 120];
    // Normal, then an incident where most requests fail, then no traffic.
    const [, back, front] = redCountBars([point(0, 100, 5), point(60e9, 100, 80)], xs, step);
    // Every bar is drawn from the baseline, the front one over the back one: what shows is
    // the taller of the two, which must be the requests.
    const shown = xs.map((_, i) => Math.max(back[i], front[i]));
    expect(shown).toEqual([100, 100, 0]);
    expect(front).toEqual([5, 80, 0]);
  });
});

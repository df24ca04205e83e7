import { describe, expect, it } from 'vitest';
import { breakdownRows, funnelBars, funnelFromQuery, funnelParams, funnelProblem, parseStep } from './funnel';
import { initialRequests } from './requests';
import { resolveRange } from './time';
import { decodeReplay, orderSegments, replayOffset } from './replay';
import { fmtVital, rate, shareSegments } from './vitals';
import { filterChoices, overviewTotals, routeStats } from './webstats';
import { failingTrace, type ErrorDetail, type FunnelResult, type ReplaySegment, type SessionSummary, type StepCount, type TimelineItem } from './webapi';

describe('vitals', () => {
  it('rates by the Web Vitals thresholds, bounds included in the better rating', () => {
    expect(rate('LCP', 2500)).toBe('good');
    expect(rate('LCP', 2501)).toBe('needs-improvement');
    expect(rate('LCP', 4001)).toBe('poor');
    expect(rate('INP', 200)).toBe('good');
    expect(rate('CLS', 0.25)).toBe('needs-improvement');
    expect(rate('TTFB', 1900)).toBe('poor');
    expect(rate('XYZ', 1)).toBeNull();
    expect(rate('LCP', null)).toBeNull();
  });

  it('formats CLS without a unit and the others as durations', () => {
    expect(fmtVital('CLS', 0.3)).toBe('0.30');
    expect(fmtVital('LCP', 3000)).toBe('3.00 s');
    expect(fmtVital('INP', 350)).toBe('350 ms');
    expect(fmtVital('FCP', undefined)).toBe('—');
  });

  it('shares become segments whose percents add up', () => {
    const seg = shareSegments({ count: 5, good: 0.4, needs_improvement: 0.4, poor: 0.2 });
    expect(seg.map((s) => [s.rating, s.pct])).toEqual([
      ['good', 40],
      ['needs-improvement', 40],
      ['poor', 20],
    ]);
    // A third each rounds to 33 + 33 + 33; the largest remainder gets the missing percent.
    const thirds = shareSegments({ count: 3, good: 0.3333, needs_improvement: 0.3333, poor: 0.3334 });
    expect(thirds.map((s) => s.pct)).toEqual([33, 33, 34]);
    expect(thirds.reduce((a, s) => a + s.pct, 0)).toBe(100);
    expect(shareSegments({ count: 0, good: 0, needs_improvement: 0, poor: 0 })).toEqual([]);
    // Values without a rating leave the bar short of 100.
    expect(shareSegments({ count: 2, good: 0.5, needs_improvement: 0, poor: 0 }).map((s) => s.pct)).toEqual([50, 0, 0]);
  });
});

const step = (type: 'page' | 'event', match: string, count: number, dropped: number, conversion: number, from_previous: number): StepCount => ({
  step: { type, match },
  count,
  dropped,
  conversion,
  from_previous,
});

describe('funnels', () => {
  it('reads and writes its definition in the URL', () => {
    const q = new URLSearchParams('steps=page:/,/cart,order.placed,event:x&window=30m&by=user&breakdown=browser.name');
    const f = funnelFromQuery(q);
    expect(f.steps).toEqual([
      { type: 'page', match: '/' },
      { type: 'page', match: '/cart' },
      { type: 'event', match: 'order.placed' },
      { type: 'event', match: 'x' },
    ]);
    expect(f).toMatchObject({ window: '30m', by: 'user', breakdown: 'browser.name' });
    expect(funnelParams(f)).toEqual({ steps: 'page:/,page:/cart,event:order.placed,event:x', window: '30m', by: 'user', breakdown: 'browser.name' });
    const plain = funnelFromQuery(new URLSearchParams(''));
    expect(funnelParams({ ...plain, steps: [{ type: 'page', match: '/' }, { type: 'event', match: ' ' }] })).toEqual({ steps: 'page:/', window: null, by: null, breakdown: null });
    expect(parseStep('page:')).toBeNull();
  });

  it('says what is wrong with a definition', () => {
    const f = funnelFromQuery(new URLSearchParams('steps=page:/'));
    expect(funnelProblem(f)).toMatch(/two steps/);
    expect(funnelProblem({ ...f, steps: [{ type: 'page', match: 'cart' }, { type: 'event', match: 'a' }] })).toMatch(/starting with/);
    expect(funnelProblem({ ...f, steps: [{ type: 'page', match: '/' }, { type: 'event', match: 'a' }] })).toBeNull();
    expect(funnelProblem({ ...f, window: 'soon', steps: [{ type: 'page', match: '/' }, { type: 'event', match: 'a' }] })).toMatch(/window/);
  });

  it('scales bars to the first step and shows the drop-off', () => {
    const bars = funnelBars([step('page', '/', 4, 0, 1, 1), step('page', '/cart', 3, 1, 0.75, 0.75), step('event', 'order.placed', 1, 2, 0.25, 0.3333)]);
    expect(bars.map((b) => [b.label, b.count, b.height, b.droppedHeight])).toEqual([
      ['/', 4, 1, 0],
      ['/cart', 3, 0.75, 0.25],
      ['order.placed', 1, 0.25, 0.5],
    ]);
    expect(funnelBars([step('page', '/', 0, 0, 0, 0), step('page', '/a', 0, 0, 0, 0)]).map((b) => b.height)).toEqual([0, 0]);
  });

  it('breakdown rows carry the counts per step and the overall conversion', () => {
    const r: FunnelResult = {
      truncated: false,
      unit: 'session',
      window_ms: 3600000,
      steps: [],
      breakdown: [
        { value: 'Firefox', steps: [step('page', '/', 1, 0, 1, 1), step('page', '/cart', 0, 1, 0, 0)] },
        { value: 'Chrome', steps: [step('page', '/', 2, 0, 1, 1), step('page', '/cart', 1, 1, 0.5, 0.5)] },
      ],
    };
    expect(breakdownRows(r)).toEqual([
      { value: 'Chrome', counts: [2, 1], conversion: 0.5 },
      { value: 'Firefox', counts: [1, 0], conversion: 0 },
    ]);
  });
});

function session(id: string, over: Partial<SessionSummary>): SessionSummary {
  return {
    session_id: id, start_unix_nano: 0, end_unix_nano: 0, duration_ms: 0, page_views: 1, errors: 0, clicks: 0, requests: 0, events: 1,
    user_id: null, service: 'shop', release: null, browser: null, browser_version: null, os: null, device: null, synthetic: null,
    entry_page: '/', exit_page: '/', bounce: false, has_replay: false, ...over,
  };
}

describe('overview numbers', () => {
  it('count users once, sessions without a user as their own, and rates over sessions', () => {
    const t = overviewTotals([
      session('a', { user_id: 'ada', page_views: 4, errors: 1 }),
      session('b', { page_views: 3, errors: 1 }),
      session('c', { user_id: 'bob', bounce: true }),
      session('d', { user_id: 'ada', page_views: 2 }),
    ]);
    expect(t).toEqual({ sessions: 4, pageViews: 10, users: 3, errors: 2, bounceRate: 0.25, errorRate: 0.5 });
    expect(overviewTotals([]).bounceRate).toBeNull();
  });

  it('route stats merge page views and errors per route', () => {
    const rows = routeStats({
      columns: ['route', 'e', 'n', 's'],
      truncated: false,
      rows: [
        ['/cart', 'browser.page_view', 3, 3],
        ['/', 'browser.page_view', 4, 4],
        ['/cart', 'browser.error', 2, 2],
        ['/checkout', 'browser.error', 1, 1],
      ],
    });
    expect(rows).toEqual([
      { route: '/', views: 4, sessions: 4, errors: 0 },
      { route: '/cart', views: 3, sessions: 3, errors: 2 },
      { route: '/checkout', views: 0, sessions: 0, errors: 1 },
    ]);
    const choices = filterChoices({ columns: [], truncated: false, rows: [['shop', '1.0.0', 'desktop', 3], ['shop', '1.1.0', null, 1], ['blog', '', 'mobile', 1]] });
    expect(choices).toEqual({ services: ['blog', 'shop'], releases: ['1.1.0', '1.0.0'], devices: ['desktop', 'mobile'] });
  });
});

/** As the SDK encodes a segment: base64 of the gzip of the JSON. */
async function gzipBase64(text: string): Promise<string> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

const seg = (recording: string, sequence: number, t: number, data = ''): ReplaySegment => ({
  time_unix_nano: t * 1e6,
  sequence,
  recording_id: recording,
  has_full_snapshot: null,
  encoding: 'gzip+base64',
  data,
});

describe('replay segments', () => {
  it('play recordings in the order they started, each in sequence order', () => {
    // The server sorts by sequence first, so two recordings' segments interleave.
    const ordered = orderSegments([seg('b', 0, 500), seg('a', 0, 100), seg('b', 1, 600), seg('a', 1, 200)]);
    expect(ordered.map((s) => `${s.recording_id}${s.sequence}`)).toEqual(['a0', 'a1', 'b0', 'b1']);
  });

  it('decode gzip+base64 and JSON bodies and skip what cannot be read', async () => {
    const first = [{ type: 4, data: {}, timestamp: 1000 }, { type: 2, data: {}, timestamp: 1001 }];
    const r = await decodeReplay([
      { ...seg('a', 1, 200, JSON.stringify([{ type: 3, data: {}, timestamp: 2000 }])), encoding: 'json' },
      seg('a', 0, 100, await gzipBase64(JSON.stringify(first))),
      seg('a', 2, 300, 'not base64 gzip'),
    ]);
    expect(r.events.map((e) => e.timestamp)).toEqual([1000, 1001, 2000]);
    expect(r.failed).toBe(1);
    expect(r.playable).toBe(true);
    expect(replayOffset(r.events, 1500)).toBe(500);
    expect(replayOffset(r.events, 500)).toBe(0);
    expect(replayOffset(r.events, 9000)).toBe(1000);
  });
});

describe('the failing request of an error', () => {
  const item = (kind: TimelineItem['kind'], trace: string | undefined, status?: number): TimelineItem => ({
    time_unix_nano: 0,
    kind,
    name: kind,
    page_view_id: null,
    trace_id: trace,
    details: status ? { 'http.response.status_code': status } : {},
  });
  const detail = (traces: (string | null)[], breadcrumbs: TimelineItem[]) =>
    ({ occurrences: traces.map((trace_id) => ({ trace_id })), breadcrumbs }) as unknown as ErrorDetail;
  it('is the trace an occurrence carries, else the last failed request before it', () => {
    expect(failingTrace(detail([null, 'b'], [item('request', 'x', 500)]))).toBe('b');
    expect(failingTrace(detail([null], [item('request', 'x', 500), item('request', 'y', 200), item('error', undefined)]))).toBe('x');
    expect(failingTrace(detail([null], [item('request', 'y', 200)]))).toBeNull();
  });
});

describe('boot requests of the Web pages', () => {
  const range = resolveRange('now-1h', null, Date.UTC(2026, 0, 1, 12));
  const paths = (path: string, search = '') => initialRequests(path, new URLSearchParams(search), range).map((r) => r.path);
  it('the list pages ask for their data (the filters\' choices first)', () => {
    expect(paths('/web')).toEqual(['/sql', '/web/sessions', '/web/vitals', '/web/vitals', '/sql', '/sql']);
    expect(paths('/web/pages')).toEqual(['/sql', '/sql', '/web/vitals']);
    expect(paths('/web/sessions')).toEqual(['/sql', '/web/sessions']);
    expect(paths('/web/sessions', 'page=/cart')).toEqual(['/sql', '/web/sessions', '/sql']);
    expect(paths('/web/errors')).toEqual(['/sql', '/web/errors']);
    expect(paths('/web/funnels')).toEqual(['/sql']);
    expect(paths('/web/funnels', 'steps=page:/,event:buy')).toEqual(['/sql', '/web/funnel']);
  });
  it('pages of one thing ask the last day, which the boot script does not know: none', () => {
    expect(paths('/web/sessions/s1')).toEqual([]);
    expect(paths('/web/errors/0123456789abcdef')).toEqual([]);
    expect(paths('/web/nope')).toEqual([]);
  });
  it('release and device filters reach the SQL and the vitals grouping', () => {
    const reqs = initialRequests('/web', new URLSearchParams('service=shop&release=1.1.0'), range);
    expect(reqs[1].params).toMatchObject({ service: 'shop', limit: 1000 });
    expect(reqs[2].params).toMatchObject({ group_by: 'release' });
    expect(String((reqs[4].body as { query: string }).query)).toContain("service_version = '1.1.0'");
  });
});

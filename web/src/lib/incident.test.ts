import { describe, expect, test } from 'vitest';
import type { RedPoint, RedTotal } from './api';
import type { Alert } from './alertsapi';
import { matchersFor, parseMatchers } from './alertsapi';
import { alignPrevious, lastDeploy, p95, previousRange, serviceHealth, triageParams, troubleSince, type TriageReport } from './incident';
import { resolveRange } from './time';

const total = (service: string, requests: number, errorRate: number, p99: number | null = 100): RedTotal => ({
  service,
  operation: '',
  requests,
  errors: Math.round(requests * errorRate),
  error_rate: errorRate,
  rate_per_s: requests / 3600,
  p50_ms: 10,
  p90_ms: 50,
  p95_ms: p99 === null ? null : p99 * 0.9,
  p99_ms: p99,
});
const point = (tMin: number, requests: number, errors: number, p99: number | null = 100): RedPoint => ({ t: tMin * 60e9, requests, errors, p50_ms: 10, p90_ms: 50, p99_ms: p99 });
const alert = (service: string, severity: string): Alert => ({
  fingerprint: 'f',
  rule: 'r',
  group: 'g',
  state: 'firing',
  severity,
  service,
  labels: {},
  annotations: {},
  value: 1,
  active_at_ms: 0,
  fired_at_ms: 0,
  silenced: false,
});
const report = (candidates: [string, number, boolean][]): TriageReport => ({
  window: { from_unix_nano: 0, to_unix_nano: 1 },
  baseline: { from_unix_nano: 0, to_unix_nano: 0 },
  service: null,
  note: null,
  took_ms: 1,
  anomalies: candidates.map(([service, , own]) => ({ service, operation: null, kind: 'error_rate', before: 0, after: 1, score: 1, explained_by: own ? null : 'x', detail: '' })),
  candidates: candidates.map(([service, rank]) => ({ rank, service, operation: null, kind: 'service', instrumented: true, score: 1, summary: '', evidence: [], example_trace_ids: [], log_patterns: [], affected_entry_points: [], path: [], instance: null })),
});

describe('service health', () => {
  test('a service worse than its own previous period stands out above one worse in absolute terms but steady', () => {
    // payment: 6% → 8.5%+ (this incident); cart: 20% all along (an earlier incident's level).
    const payment = serviceHealth({ service: 'payment', now: total('payment', 1000, 0.09), prev: total('payment', 1000, 0.06), alerts: [] });
    const cart = serviceHealth({ service: 'cart', now: total('cart', 1000, 0.2), prev: total('cart', 1000, 0.2), alerts: [] });
    expect(payment.level).toBe('degraded');
    expect(cart.level).toBe('ok');
    expect(payment.urgency).toBeGreaterThan(cart.urgency);
  });
  test('critical alerts and the first triage cause make a service critical; an affected candidate only is not degraded', () => {
    const t = report([['payment', 1, true], ['checkout', 2, false]]);
    expect(serviceHealth({ service: 'payment', alerts: [], triage: t }).level).toBe('critical');
    expect(serviceHealth({ service: 'checkout', alerts: [], triage: t }).level).toBe('ok');
    const a = serviceHealth({ service: 'email', alerts: [alert('email', 'degraded'), alert('email', 'critical')] });
    expect([a.level, a.firing, a.severity]).toEqual(['critical', 2, 'critical']);
    expect(serviceHealth({ service: 'email', alerts: [alert('email', 'degraded')] }).level).toBe('degraded');
  });
  test('slower p95 and a traffic drop count, small wobbles do not', () => {
    expect(serviceHealth({ service: 's', now: total('s', 1000, 0.01, 400), prev: total('s', 1000, 0.01, 100), alerts: [] }).level).toBe('degraded');
    expect(serviceHealth({ service: 's', now: total('s', 300, 0.01), prev: total('s', 1000, 0.01), alerts: [] }).level).toBe('degraded');
    expect(serviceHealth({ service: 's', now: total('s', 900, 0.012, 110), prev: total('s', 1000, 0.01, 100), alerts: [] }).level).toBe('ok');
    // A server without p95 in its totals: p99 is compared.
    expect(p95({ ...total('s', 1, 0, 200), p95_ms: undefined })).toBe(200);
  });
});

describe('incident timing', () => {
  test('trouble starts where the newest run of bad buckets starts', () => {
    const prev = total('s', 1000, 0.05);
    const pts = [point(0, 100, 5), point(1, 100, 30), point(2, 100, 5), point(3, 100, 20), point(4, 100, 25), point(5, 0, 0)];
    expect(troubleSince(pts, prev)).toBe(3 * 60e3);
    expect(troubleSince([point(0, 100, 30), point(1, 100, 5)], prev)).toBeNull();
  });
  test('the previous period is the same length right before; its points move onto the current axis', () => {
    const r = resolveRange('now-1h', 'now', 10 * 3600e3);
    const p = previousRange(r);
    expect([p.fromMs, p.toMs]).toEqual([8 * 3600e3, 9 * 3600e3]);
    expect(alignPrevious([point(0, 1, 0)], 3600e3)[0].t).toBe(3600e9);
    // Triage judges the last 15 minutes of a long range, all of a short one.
    expect(triageParams(r).from).toBe(String((10 * 3600e3 - 15 * 60e3) * 1e6));
    const short = resolveRange('now-5m', 'now', 10 * 3600e3);
    expect(triageParams(short).from).toBe(short.fromNs);
  });
  test('the last deploy of a service is the newest version change', () => {
    const d = [
      { service: 'shipping', version: '1.4.2', previous_version: null, at_ms: 1 },
      { service: 'shipping', version: '1.5.0', previous_version: '1.4.2', at_ms: 5 },
      { service: 'cart', version: '2', previous_version: '1', at_ms: 9 },
    ];
    expect(lastDeploy(d, 'shipping')?.version).toBe('1.5.0');
    expect(lastDeploy(d, 'email')).toBeUndefined();
  });
});

describe('silence matchers', () => {
  test("an alert's labels become equality matchers, and text parses back", () => {
    const m = matchersFor({ service: 'payment', alertname: 'HighErrors' });
    expect(m.map((x) => `${x.name}=${x.value}`)).toEqual(['alertname=HighErrors', 'service=payment']);
    const p = parseMatchers('service=payment\nseverity=~crit.*\nenv!="dev"');
    expect(p.bad).toBeNull();
    expect(p.matchers).toEqual([
      { name: 'service', value: 'payment', is_regex: false, is_equal: true },
      { name: 'severity', value: 'crit.*', is_regex: true, is_equal: true },
      { name: 'env', value: 'dev', is_regex: false, is_equal: false },
    ]);
    expect(parseMatchers('no operator').bad).toBe('no operator');
  });
});

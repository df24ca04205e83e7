// What is wrong now: triage and deploy shapes, the previous period of a range, RED against it,
// and each service's health from its alerts, triage findings and RED change. Pure functions
// (unit-tested in incident.test.ts); the pages fetch and render.
import { get, type Params, type RedPoint, type RedTotal } from './api';
import type { Alert } from './alertsapi';
import { msToNs, type Range } from './time';

// ---- /triage ----

export interface TriageEvidence {
  kind: string;
  detail: string;
  before: number | null;
  after: number | null;
}
export interface TriagePattern {
  service: string;
  template_id: string;
  template: string;
  count: number;
  baseline_count: number;
}
export interface TriageEntryPoint {
  service: string;
  operation: string;
  traces: number;
}
export interface TriageCandidate {
  rank: number;
  service: string;
  operation: string | null;
  kind: string;
  instrumented: boolean;
  score: number;
  summary: string;
  evidence: TriageEvidence[];
  example_trace_ids: string[];
  log_patterns: TriagePattern[];
  affected_entry_points: TriageEntryPoint[];
  path: string[];
  instance: string | null;
}
export interface TriageAnomaly {
  service: string;
  operation: string | null;
  kind: string;
  before: number;
  after: number;
  score: number;
  explained_by: string | null;
  detail: string;
}
export interface TriageReport {
  window: { from_unix_nano: number; to_unix_nano: number };
  baseline: { from_unix_nano: number; to_unix_nano: number };
  service: string | null;
  anomalies: TriageAnomaly[];
  candidates: TriageCandidate[];
  note: string | null;
  took_ms: number;
}

// ---- /deploys ----

export interface Deploy {
  service: string;
  version: string;
  previous_version: string | null;
  at_ms: number;
}

export const incidentApi = {
  triage: (p: Params, s?: AbortSignal) => get<TriageReport>('/triage', p, s),
  deploys: (p: Params, s?: AbortSignal) => get<{ deploys: Deploy[] }>('/deploys', p, s),
};

// ---- ranges ----

/** The range moved back by `ms` (same length). */
export function shiftRange(r: Range, ms: number): Range {
  const fromMs = r.fromMs - ms;
  const toMs = r.toMs - ms;
  return { ...r, from: String(fromMs), to: String(toMs), fromMs, toMs, fromNs: msToNs(fromMs), toNs: msToNs(toMs), live: false };
}

/** The same-length window right before `r`. */
export const previousRange = (r: Range): Range => shiftRange(r, r.toMs - r.fromMs);

/** What triage judges for a range: its last TRIAGE_WINDOW_MS at most ("now", not the hour). */
export const TRIAGE_WINDOW_MS = 15 * 60e3;
export function triageParams(r: Range): Params {
  const fromMs = Math.max(r.fromMs, r.toMs - TRIAGE_WINDOW_MS);
  return { from: msToNs(fromMs), to: r.toNs };
}

/** RED points of the previous period moved onto the current one's x-axis. */
export function alignPrevious(points: RedPoint[], shiftMs: number): RedPoint[] {
  const ns = shiftMs * 1e6;
  return points.map((p) => ({ ...p, t: p.t + ns }));
}

// ---- RED change ----

export interface RedChange {
  /** Requests now / before (null: none before). */
  requests: number | null;
  /** Error ratio now minus before (fraction; null: unknown). */
  errorDelta: number | null;
  /** p95 now / before. */
  p95: number | null;
}

export function redChange(now: RedTotal | undefined, prev: RedTotal | undefined): RedChange {
  if (!now || !prev || prev.requests === 0) return { requests: null, errorDelta: null, p95: null };
  return {
    requests: now.requests / prev.requests,
    errorDelta: now.error_rate - prev.error_rate,
    p95: ratio(p95(now), p95(prev)),
  };
}

/** The error ratio rose by at least 2 points and half again over its own previous period. */
export function errorsRegressed(now: RedTotal, prev: RedTotal): boolean {
  return prev.requests > 0 && now.error_rate - prev.error_rate >= 0.02 && now.error_rate >= 1.5 * prev.error_rate;
}

/** The latency compared between periods: p95 (p99 from a server without it). */
export const p95 = (t: RedTotal): number | null => t.p95_ms ?? t.p99_ms;

const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? a / b : null);

/** p95 at least 1.5× its previous period's, and 20 ms more. */
export function latencyRegressed(now: RedTotal, prev: RedTotal): boolean {
  const [a, b] = [p95(now), p95(prev)];
  return a !== null && b !== null && a >= 1.5 * b && a - b >= 20;
}

/** Traffic fell to less than half of the previous period's (of a service that had some). */
export function trafficDropped(now: RedTotal | undefined, prev: RedTotal): boolean {
  return prev.requests >= 20 && (now?.requests ?? 0) < prev.requests / 2;
}

// ---- health ----

export type Level = 'critical' | 'degraded' | 'ok';

export interface Health {
  level: Level;
  /** Why, most important first (short phrases). */
  reasons: string[];
  /** Higher is more urgent: the sort key of the services list. */
  urgency: number;
  firing: number;
  /** Highest severity among firing alerts. */
  severity: string | null;
  /** The service's triage candidate, if it is one. */
  candidate: TriageCandidate | null;
}

const SEVERITY_ORDER = ['critical', 'degraded'];
const severityRank = (s: string) => {
  const i = SEVERITY_ORDER.indexOf(s.toLowerCase());
  return i < 0 ? SEVERITY_ORDER.length : i;
};

/** The highest severity of `alerts` (critical > degraded > anything else). */
export function highestSeverity(alerts: Alert[]): string | null {
  let best: string | null = null;
  for (const a of alerts) if (best === null || severityRank(a.severity) < severityRank(best)) best = a.severity;
  return best;
}

/** The service an alert is about: its own field, else its `service` or `service_name` label. */
export const alertService = (a: Alert): string | null => a.service ?? a.labels.service ?? a.labels.service_name ?? null;

export interface HealthInput {
  service: string;
  now?: RedTotal;
  prev?: RedTotal;
  /** Firing, not silenced alerts of this service. */
  alerts: Alert[];
  triage?: TriageReport;
}

/**
 * How a service is doing: critical with a critical alert or as triage's first cause;
 * degraded with any other firing alert, as another triage candidate with anomalies of its
 * own, or when its RED went bad against its own previous period (an earlier incident of
 * another service does not make this one look fine).
 */
export function serviceHealth(h: HealthInput): Health {
  const reasons: string[] = [];
  let level: Level = 'ok';
  let urgency = 0;
  const raise = (l: Level) => {
    if (l === 'critical' || (l === 'degraded' && level === 'ok')) level = l;
  };
  const severity = highestSeverity(h.alerts);
  if (h.alerts.length) {
    reasons.push(`${h.alerts.length} firing alert${h.alerts.length > 1 ? 's' : ''} (${severity})`);
    raise(severity?.toLowerCase() === 'critical' ? 'critical' : 'degraded');
    urgency += 100 + 10 * h.alerts.length + (severity?.toLowerCase() === 'critical' ? 200 : 0);
  }
  const candidate = h.triage?.candidates.find((c) => c.service === h.service) ?? null;
  const own = h.triage?.anomalies.some((a) => a.service === h.service && !a.explained_by) ?? false;
  if (candidate) {
    if (candidate.rank === 1) {
      reasons.push('triage: most likely cause');
      raise('critical');
    } else if (own) {
      reasons.push(`triage: cause #${candidate.rank}`);
      raise('degraded');
    } else reasons.push(`triage: affected (#${candidate.rank})`);
    urgency += 300 / candidate.rank;
  }
  if (h.now && h.prev) {
    if (errorsRegressed(h.now, h.prev)) {
      reasons.push(`errors ${pct(h.prev.error_rate)} → ${pct(h.now.error_rate)}`);
      raise('degraded');
      urgency += 50 + 100 * (h.now.error_rate - h.prev.error_rate);
    }
    if (latencyRegressed(h.now, h.prev)) {
      reasons.push(`p95 ×${(p95(h.now)! / p95(h.prev)!).toFixed(1)}`);
      raise('degraded');
      urgency += 40;
    }
  }
  if (h.prev && trafficDropped(h.now, h.prev)) {
    reasons.push('traffic fell by more than half');
    raise('degraded');
    urgency += 30;
  }
  return { level, reasons, urgency, firing: h.alerts.length, severity, candidate };
}

const pct = (f: number) => `${(f * 100).toFixed(f < 0.1 ? 1 : 0)}%`;

/**
 * When the trouble of the newest buckets began: the start of the run of bad buckets (error
 * ratio or p99 regressed against `prev`) that reaches the newest bucket with requests. Null
 * when the newest buckets are fine.
 */
export function troubleSince(points: RedPoint[], prev: RedTotal | undefined): number | null {
  if (!prev || prev.requests === 0) return null;
  const bad = (p: RedPoint) => {
    const rate = p.errors / p.requests;
    const errs = rate - prev.error_rate >= 0.02 && rate >= 1.5 * prev.error_rate;
    const slow = p.p99_ms !== null && prev.p99_ms !== null && p.p99_ms >= 1.5 * prev.p99_ms && p.p99_ms - prev.p99_ms >= 20;
    return errs || slow;
  };
  const withTraffic = [...points].filter((p) => p.requests > 0).sort((a, b) => a.t - b.t);
  let since: number | null = null;
  for (let i = withTraffic.length - 1; i >= 0; i--) {
    if (!bad(withTraffic[i])) break;
    since = withTraffic[i].t / 1e6;
  }
  return since;
}

/** The newest deploy of `service` in `deploys` (a version that replaced another). */
export function lastDeploy(deploys: Deploy[] | undefined, service: string): Deploy | undefined {
  let best: Deploy | undefined;
  for (const d of deploys ?? []) if (d.service === service && d.previous_version !== null && (!best || d.at_ms > best.at_ms)) best = d;
  return best;
}

/** A change as an arrow and a number: "↑ 2.4×", "↓ 40%", "+3.1 pts". */
export function fmtRatio(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return '';
  if (r >= 0.95 && r <= 1.05) return '≈';
  if (r > 1) return `↑ ${r >= 2 ? `${r.toFixed(1)}×` : `${Math.round((r - 1) * 100)}%`}`;
  return `↓ ${Math.round((1 - r) * 100)}%`;
}

export function fmtPoints(d: number | null): string {
  if (d === null || !Number.isFinite(d)) return '';
  const pts = d * 100;
  if (Math.abs(pts) < 0.1) return '≈';
  return `${pts > 0 ? '↑ +' : '↓ '}${pts.toFixed(1)} pts`;
}

// The real user monitoring API (/api/v1/web/...): shapes as crates/rum and crates/query/src/web.rs
// serialise them, and a typed client over api.ts's `get`.
import { get, type Params } from './api';

export type TimelineKind = 'page_view' | 'vital' | 'error' | 'click' | 'identify' | 'request' | 'replay' | 'custom';

export interface SessionSummary {
  session_id: string;
  start_unix_nano: number;
  end_unix_nano: number;
  duration_ms: number;
  page_views: number;
  errors: number;
  clicks: number;
  requests: number;
  events: number;
  user_id: string | null;
  service: string;
  release: string | null;
  browser: string | null;
  browser_version: string | null;
  os: string | null;
  device: string | null;
  synthetic: string | null;
  entry_page: string | null;
  exit_page: string | null;
  bounce: boolean;
  has_replay: boolean;
}

export interface SessionsPage {
  total: number;
  truncated: boolean;
  sessions: SessionSummary[];
}

export interface TimelineItem {
  time_unix_nano: number;
  kind: TimelineKind;
  name: string;
  page_view_id: string | null;
  trace_id?: string;
  duration_ms?: number;
  details: Record<string, unknown>;
}

export interface PageVital {
  value: number;
  rating: string | null;
}

export interface PageView {
  page_view_id: string | null;
  time_unix_nano: number;
  url: string | null;
  route: string | null;
  title: string | null;
  vitals: Record<string, PageVital>;
  requests: TimelineItem[];
  errors: number;
  clicks: number;
}

export interface SessionDetail {
  summary: SessionSummary;
  page_views: PageView[];
  timeline: TimelineItem[];
  trace_ids: string[];
}

export interface ReplaySegment {
  time_unix_nano: number;
  sequence: number | null;
  recording_id: string | null;
  has_full_snapshot: boolean | null;
  /** `gzip+base64` (base64 of the gzip of a JSON array of rrweb events) or `json`. */
  encoding: string;
  data: string;
}

export interface Replay {
  session_id: string;
  segments: ReplaySegment[];
  /** Segments whose bodies are past the replay retention (servers that keep them apart). */
  expired_segments?: number;
}

export interface ErrorGroup {
  fingerprint: string;
  type: string;
  message: string;
  count: number;
  users: number;
  sessions: number;
  first_seen_unix_nano: number;
  last_seen_unix_nano: number;
  releases: string[];
  services: string[];
  routes: string[];
  stack: string | null;
  symbolicated: boolean;
}

export interface ErrorGroups {
  total: number;
  truncated: boolean;
  groups: ErrorGroup[];
}

export interface Occurrence {
  time_unix_nano: number;
  session_id: string;
  user_id: string | null;
  url: string | null;
  release: string | null;
  trace_id: string | null;
}

export interface ErrorDetail {
  group: ErrorGroup;
  original_stack: string | null;
  occurrences: Occurrence[];
  breadcrumbs: TimelineItem[];
}

export interface VitalStats {
  name: string;
  count: number;
  p75: number;
  good: number;
  needs_improvement: number;
  poor: number;
}

export interface VitalsGroup {
  key: string;
  vitals: VitalStats[];
}

export interface Vitals {
  truncated: boolean;
  groups: VitalsGroup[];
}

export type VitalsGroupBy = 'none' | 'route' | 'release' | 'device' | 'browser';

export interface FunnelStep {
  type: 'page' | 'event';
  match: string;
}

export interface StepCount {
  step: FunnelStep;
  count: number;
  dropped: number;
  conversion: number;
  from_previous: number;
}

export interface FunnelResult {
  truncated: boolean;
  unit: 'session' | 'user';
  window_ms: number;
  steps: StepCount[];
  breakdown: { value: string; steps: StepCount[] }[];
}

/** The filters every /web route takes. */
export interface WebParams {
  from: string;
  to: string;
  service?: string;
}

/** A request's HTTP status, from either spelling of the attribute. */
export function requestStatus(it: TimelineItem): number | null {
  const s = it.details['http.response.status_code'] ?? it.details['http.status_code'];
  const n = typeof s === 'number' ? s : Number(s);
  return Number.isFinite(n) && n > 0 ? n : null;
}

/**
 * The backend trace of the request an error followed: the latest occurrence that carries a
 * trace, else the last failed request (status 400 or more) among the breadcrumbs.
 */
export function failingTrace(d: ErrorDetail): string | null {
  const own = d.occurrences.find((o) => o.trace_id)?.trace_id;
  if (own) return own;
  const failed = [...d.breadcrumbs].reverse().find((b) => b.kind === 'request' && b.trace_id && (requestStatus(b) ?? 0) >= 400);
  return failed?.trace_id ?? null;
}

const enc = encodeURIComponent;

export const webApi = {
  sessions: (p: Params, s?: AbortSignal) => get<SessionsPage>('/web/sessions', p, s),
  session: (id: string, p: Params, s?: AbortSignal) => get<SessionDetail>(`/web/sessions/${enc(id)}`, p, s),
  replay: (id: string, p: Params, s?: AbortSignal) => get<Replay>(`/web/sessions/${enc(id)}/replay`, p, s),
  errors: (p: Params, s?: AbortSignal) => get<ErrorGroups>('/web/errors', p, s),
  error: (fingerprint: string, p: Params, s?: AbortSignal) => get<ErrorDetail>(`/web/errors/${enc(fingerprint)}`, p, s),
  vitals: (p: Params & { group_by?: VitalsGroupBy }, s?: AbortSignal) => get<Vitals>('/web/vitals', p, s),
  funnel: (p: Params, s?: AbortSignal) => get<FunnelResult>('/web/funnel', p, s),
};

// Typed client for the redscope HTTP API (/api/v1). Errors are thrown as ApiError, never swallowed.
import { qs, requestKey, type Params } from './requests';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public param?: string,
    public path?: string,
  ) {
    super(message);
  }
  get notFound() {
    return this.status === 404;
  }
  /** The server has no such route at all (an older server), as opposed to an unknown object. */
  get routeMissing() {
    return this.status === 404 && (/no such route/i.test(this.message) || this.code === 'route_not_found');
  }
}

export type { Params };

// Requests in flight: html[data-busy] (the count; tests wait for it to go away) and, once
// requests have been in flight for a while, html[data-slow], which shows a moving progress bar
// and sets the spinners turning. Animations make the browser repaint every frame, so the short
// loads of most pages run without any.
const SLOW_MS = 400;
let inFlight = 0;
let slowTimer: ReturnType<typeof setTimeout> | undefined;
const idleListeners = new Set<() => void>();

/** Number of API requests in flight. */
export const requestsInFlight = () => inFlight;

/** Calls `l` whenever the last request in flight has finished. */
export function onRequestsIdle(l: () => void) {
  idleListeners.add(l);
}

function busy(delta: number) {
  const root = document.documentElement;
  inFlight += delta;
  if (inFlight > 0) {
    root.dataset.busy = String(inFlight);
    slowTimer ??= setTimeout(() => (root.dataset.slow = ''), SLOW_MS);
  } else {
    delete root.dataset.busy;
    delete root.dataset.slow;
    clearTimeout(slowTimer);
    slowTimer = undefined;
    for (const l of idleListeners) l();
  }
}

async function request<T>(path: string, init?: RequestInit, signal?: AbortSignal): Promise<T> {
  busy(1);
  try {
    return await doRequest<T>(path, init, signal);
  } finally {
    busy(-1);
  }
}

/** An answer as the boot script (src/boot.ts) keeps it. */
export interface BootAnswer {
  ok: boolean;
  status: number;
  statusText: string;
  text: string;
}
declare global {
  interface Window {
    /** Set by the boot script: when it resolved the time range, and the requests it sent. */
    __redscopeBoot?: { now: number; from: string | null; to: string | null; answers: Map<string, Promise<BootAnswer>> };
  }
}

/** The boot script's answer to this request, if it sent it and nobody has taken it yet. */
function takePrefetched(key: string): Promise<BootAnswer> | undefined {
  const answers = window.__redscopeBoot?.answers;
  const p = answers?.get(key);
  if (p) answers!.delete(key);
  return p;
}

/** Requests the boot script sent that no page has asked for (so far). */
export function unusedPrefetches(): string[] {
  return [...(window.__redscopeBoot?.answers.keys() ?? [])];
}

function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(new DOMException('The request was aborted', 'AbortError'));
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

async function fetchText(path: string, init?: RequestInit, signal?: AbortSignal): Promise<BootAnswer> {
  const pre = takePrefetched(requestKey(init?.method ?? 'GET', path, init?.body as string | undefined));
  if (pre) return abortable(pre, signal);
  const res = await fetch(`/api/v1${path}`, { ...init, signal });
  return { ok: res.ok, status: res.status, statusText: res.statusText, text: await res.text() };
}

async function doRequest<T>(path: string, init?: RequestInit, signal?: AbortSignal): Promise<T> {
  let res: BootAnswer;
  try {
    res = await fetchText(path, init, signal);
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'network', `cannot reach the redscope server: ${(e as Error).message}`, undefined, path);
  }
  const text = res.text;
  let body: any = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const err = body?.error;
    // The server has tokens and this browser has none (or it was revoked): sign in, then return.
    if (res.status === 401 && err?.code === 'unauthorized') {
      location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    }
    throw new ApiError(
      res.status,
      err?.code ?? `http_${res.status}`,
      err?.message ?? (text.slice(0, 300) || res.statusText),
      err?.param,
      path,
    );
  }
  // 204 No Content: done, nothing to say (DELETE).
  if (body === undefined && res.status === 204) return undefined as T;
  if (body === undefined) throw new ApiError(res.status, 'bad_response', 'the server answered with no JSON', undefined, path);
  return body as T;
}

export const get = <T>(path: string, params: Params = {}, signal?: AbortSignal) => request<T>(path + qs(params), undefined, signal);
export const post = <T>(path: string, body: unknown, signal?: AbortSignal) =>
  request<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, signal);
export const del = <T>(path: string, signal?: AbortSignal) => request<T>(path, { method: 'DELETE' }, signal);

// ---- shapes ----

export interface ServiceInfo {
  name: string;
  spans: number;
  logs: number;
  metric_points: number;
  last_seen_unix_nano: number;
}

export interface TraceSummary {
  trace_id: string;
  root_service: string;
  root_name: string;
  start_time_unix_nano: number;
  duration_ns: number;
  span_count: number;
  error_count: number;
  services: string[];
}

/** Every trace matching a search counted per step, and a sample spread over the range. */
export interface TraceScatter {
  step_ns: number;
  total: number;
  errors: number;
  sampled: boolean;
  buckets: { t: number; count: number; errors: number }[];
  points: { trace_id: string; start_time_unix_nano: number; duration_ns: number; error: boolean }[];
}

export interface SpanEvent {
  name: string;
  time_unix_nano: number;
  attributes: Record<string, unknown>;
}
export interface SpanLink {
  trace_id: string;
  span_id: string;
  attributes?: Record<string, unknown>;
}

export interface Span {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  service_name: string;
  name: string;
  kind: string;
  start_time_unix_nano: number;
  end_time_unix_nano: number;
  duration_ns: number;
  status_code: string;
  status_message: string;
  scope_name?: string;
  scope_version?: string;
  attributes: Record<string, unknown>;
  resource_attributes: Record<string, unknown>;
  events: SpanEvent[];
  links: SpanLink[];
}

export interface LogRecord {
  record_id?: string;
  time_unix_nano: number;
  observed_time_unix_nano?: number;
  service_name: string;
  severity_number: number;
  severity_text: string;
  body: unknown;
  attributes: Record<string, unknown>;
  resource_attributes: Record<string, unknown>;
  trace_id: string;
  span_id: string;
  log_template_id: string | number | null;
  log_template: string | null;
  [k: string]: unknown;
}

export interface MetricInfo {
  name: string;
  type: string;
  unit: string;
  description: string;
  services: string[];
  points: number;
}

export interface MetricSeries {
  labels: Record<string, string>;
  points: [number, number][];
}
export interface MetricQueryResult {
  name: string;
  type: string;
  unit: string;
  agg: string;
  step_ns: number;
  series: MetricSeries[];
}

export interface SqlResult {
  columns: string[];
  rows: unknown[][];
  truncated: boolean;
}

export interface RedPoint {
  t: number;
  requests: number;
  errors: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
}
export interface RedTotal {
  service: string;
  operation: string;
  requests: number;
  errors: number;
  error_rate: number;
  rate_per_s: number;
  p50_ms: number | null;
  p90_ms: number | null;
  /** Totals only (older servers: absent). */
  p95_ms?: number | null;
  p99_ms: number | null;
}
export interface RedResult {
  step_ns: number;
  series: { service: string; operation: string; points: RedPoint[] }[];
  totals: RedTotal[];
}

export interface MapNode {
  name: string;
  kind: 'service' | 'database' | 'messaging' | 'external' | string;
  instrumented: boolean;
  requests: number;
  errors: number;
  error_rate: number;
  rate_per_s: number;
  p50_ms: number | null;
  p99_ms: number | null;
}
export interface MapEdge {
  from: string;
  to: string;
  requests: number;
  errors: number;
  error_rate: number;
  rate_per_s: number;
  p50_ms: number | null;
  p99_ms: number | null;
}
export interface ServiceMap {
  nodes: MapNode[];
  edges: MapEdge[];
}

export interface BlastRadius {
  service: string;
  operation: string;
  upstream_services: string[];
  entry_points: { service: string; operation: string; traces: number }[];
  traces: number;
  users: number;
  sessions: number;
}

export interface LogPattern {
  template_id: string | number;
  template: string;
  service: string;
  count: number;
  previous_count?: number;
  max_severity_number?: number;
  series: [number, number][];
  first_seen_unix_nano: number;
  is_new: boolean;
  sample: string;
}

/** GET /logs/{record_id}/structure: a record's raw line and what Log AI learned from it. */
export interface LogStructure {
  record_id: string;
  raw: unknown;
  service_name: string;
  time_unix_nano: number;
  format: string | null;
  severity_number: number;
  severity_text: string;
  severity_inferred: boolean;
  template: string | null;
  template_id: string | number | null;
  params: unknown;
  /** What Log AI extracted (fields, named parameters). */
  extracted: Record<string, unknown>;
  /** The attributes the record arrived with. */
  original_attributes: Record<string, unknown>;
}

/** Records per step and severity band (`FATAL` … `TRACE`, `UNSET`), non-empty buckets only. */
export interface LogHistogram {
  step_ns: number;
  total: number;
  buckets: { t: number; severity: string; count: number }[];
}
export interface FacetValue {
  value: string;
  count: number;
}
/** Each facet counts under every filter but its own. */
export interface LogFacets {
  services: FacetValue[];
  severities: FacetValue[];
}

export interface TimeParams {
  from: string;
  to: string;
}

export const api = {
  services: (t: TimeParams, s?: AbortSignal) => get<{ services: ServiceInfo[] }>('/services', { ...t }, s),
  traces: (p: Params, s?: AbortSignal) => get<{ traces: TraceSummary[]; next_cursor: string | null }>('/traces', p, s),
  traceScatter: (p: Params, s?: AbortSignal) => get<TraceScatter>('/traces/scatter', p, s),
  trace: (id: string, s?: AbortSignal) => get<{ trace_id: string; spans: Span[] }>(`/traces/${encodeURIComponent(id)}`, {}, s),
  logs: (p: Params, s?: AbortSignal) => get<{ records: LogRecord[]; next_cursor: string | null }>('/logs', p, s),
  metrics: (t: TimeParams, s?: AbortSignal) => get<{ metrics: MetricInfo[] }>('/metrics', { ...t }, s),
  metricQuery: (p: Params, s?: AbortSignal) => get<MetricQueryResult>('/metrics/query', p, s),
  sql: (query: string, s?: AbortSignal) => post<SqlResult>('/sql', { query }, s),
  red: (p: Params, s?: AbortSignal) => get<RedResult>('/red', p, s),
  serviceMap: (t: TimeParams, s?: AbortSignal) => get<ServiceMap>('/service-map', { ...t }, s),
  blastRadius: (p: Params, s?: AbortSignal) => get<BlastRadius>('/blast-radius', p, s),
  logHistogram: (p: Params, s?: AbortSignal) => get<LogHistogram>('/logs/histogram', p, s),
  logFacets: (p: Params, s?: AbortSignal) => get<LogFacets>('/logs/facets', p, s),
  logPatterns: (p: Params, s?: AbortSignal) => get<{ patterns: LogPattern[]; step_ns?: number }>('/logs/patterns', p, s),
  logStructure: (id: string, s?: AbortSignal) => get<LogStructure>(`/logs/${encodeURIComponent(id)}/structure`, {}, s),
};

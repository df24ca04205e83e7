// Dashboards as code (Perses documents served by /api/v1/dashboards): their shapes, the
// substitution of variables into queries, the layout grid, and what panels compute from query
// results. Pure functions, so that they are tested without a browser.
import { ApiError, get } from './api';
import { fmtCount, fmtDurationMs, fmtPct, fmtRate, fmtBytes } from './format';
import type { Range } from './time';

export interface DashboardSummary {
  project: string | null;
  name: string | null;
  display_name: string | null;
  /** The file it was read from, or "builtin". */
  source: string;
  panel_count: number;
  error: string | null;
  issues: { path: string; message: string }[];
}
export interface DashboardList {
  directory: string | null;
  reloads: number;
  dashboards: DashboardSummary[];
}

export interface Plugin {
  kind: string;
  spec?: Record<string, any>;
}
export interface Query {
  kind: string;
  spec: { plugin: Plugin };
}
export interface Panel {
  kind: 'Panel';
  spec: { display: { name: string; description?: string }; plugin: Plugin; queries?: Query[] };
}
export interface Variable {
  kind: 'ListVariable' | 'TextVariable';
  spec: {
    name: string;
    display?: { name?: string };
    value?: string;
    defaultValue?: string | string[];
    plugin?: Plugin;
  };
}
export interface GridItem {
  x: number;
  y: number;
  width: number;
  height: number;
  content: { $ref: string };
}
export interface Dashboard {
  kind: 'Dashboard';
  metadata: { name: string; project: string };
  spec: {
    display?: { name?: string; description?: string };
    duration?: string;
    variables?: Variable[];
    panels: Record<string, Panel>;
    layouts?: { kind: 'Grid'; spec: { display?: { title?: string }; items: GridItem[] } }[];
  };
}

export const dashboardsApi = {
  list: (s?: AbortSignal) => get<DashboardList>('/dashboards', {}, s),
  get: (project: string, name: string, s?: AbortSignal) =>
    get<Dashboard>(`/dashboards/${encodeURIComponent(project)}/${encodeURIComponent(name)}`, {}, s),
};

/** The query plugin of redscope's typed log search. */
export const LOG_QUERY_PLUGIN = 'RedscopeLogQuery';

/** The built-in RED dashboard of a service (as the server names it). */
export function redDashboardPath(service: string): string {
  const cleaned = [...service].map((c) => (/[A-Za-z0-9_.-]/.test(c) ? c : '-')).slice(0, 70).join('');
  return `/dashboards/redscope/red-${cleaned}`;
}

// ---- time ----

/** The query step: about 240 points over the range, at least 15 s. */
export function stepSeconds(range: Range): number {
  return Math.max(15, Math.round((range.toMs - range.fromMs) / 1000 / 240));
}

const fmtPromDuration = (secs: number) => `${Math.max(1, Math.round(secs))}s`;

/**
 * The built-in variables of Perses: `$__range`, `$__interval`, `$__rate_interval` (a window
 * that holds at least four samples of the synthetic metrics, which have one a minute).
 */
export function builtinVariables(range: Range): Record<string, string> {
  const rangeS = (range.toMs - range.fromMs) / 1000;
  const step = stepSeconds(range);
  return {
    __range: fmtPromDuration(rangeS),
    __range_s: String(Math.round(rangeS)),
    __range_ms: String(Math.round(rangeS * 1000)),
    __interval: fmtPromDuration(step),
    __interval_ms: String(step * 1000),
    __rate_interval: fmtPromDuration(Math.max(step + 60, 240)),
  };
}

/** Replaces `$name`, `${name}` and `${name:format}` by the variable's value; unknown names stay. */
export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z0-9_.-]+)(?::[A-Za-z]+)?\}|\$([A-Za-z0-9_]+)/g, (whole, braced, bare) => {
    const v = values[braced ?? bare];
    return v === undefined ? whole : v;
  });
}

/** A variable's value before the user picks one. */
export function defaultValue(v: Variable, options: string[]): string {
  if (v.kind === 'TextVariable') return v.spec.value ?? '';
  const d = v.spec.defaultValue;
  const first = Array.isArray(d) ? d[0] : d;
  return first ?? options[0] ?? '';
}

/** The values of a static list (`["a", {value: "b", label: "B"}]`). */
export function staticOptions(plugin: Plugin | undefined): { value: string; label: string }[] {
  const values: unknown[] = Array.isArray(plugin?.spec?.values) ? plugin!.spec!.values : [];
  return values.flatMap((v) => {
    if (typeof v === 'string') return [{ value: v, label: v }];
    if (v && typeof v === 'object' && typeof (v as any).value === 'string') return [{ value: (v as any).value, label: String((v as any).label ?? (v as any).value) }];
    return [];
  });
}

// ---- layout ----

export interface PlacedPanel {
  id: string;
  item: GridItem;
  panel: Panel | undefined;
}

/** The panels of each grid in order; a dashboard without layouts shows its panels in a column. */
export function placePanels(d: Dashboard): { title?: string; panels: PlacedPanel[] }[] {
  const ref = (r: string) => r.replace(/^#\/spec\/panels\//, '');
  const layouts = d.spec.layouts ?? [];
  if (!layouts.length) {
    return [{ panels: Object.keys(d.spec.panels).map((id, i) => ({ id, item: { x: 0, y: i * 8, width: 24, height: 8, content: { $ref: `#/spec/panels/${id}` } }, panel: d.spec.panels[id] })) }];
  }
  return layouts.map((l) => ({
    title: l.spec.display?.title,
    panels: l.spec.items.map((item) => ({ id: ref(item.content.$ref), item, panel: d.spec.panels[ref(item.content.$ref)] })),
  }));
}

// ---- series ----

export interface Series {
  name: string;
  labels: Record<string, string>;
  /** [unix seconds, value] */
  points: [number, number][];
}

/** A Prometheus matrix as series, named by `format` (`{{label}}`) or their labels. */
export function toSeries(result: { metric: Record<string, string>; values: [number, string][] }[], format: string | undefined, fallback: string): Series[] {
  return result.map((r) => {
    const labels = { ...r.metric };
    delete labels.__name__;
    const name = format
      ? format.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_w, k) => labels[k] ?? '')
      : Object.keys(labels).length
        ? `{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(', ')}}`
        : fallback;
    const points = r.values.map(([t, v]) => [Number(t), Number(v)] as [number, number]).filter(([, v]) => Number.isFinite(v));
    return { name, labels, points };
  });
}

/** A StatChart's calculation over the values of a series. */
export function calculate(calculation: string | undefined, values: number[]): number | null {
  const finite = values.filter((v) => Number.isFinite(v));
  if (!values.length) return null;
  switch (calculation ?? 'last') {
    case 'first':
      return values[0];
    case 'first-number':
      return finite[0] ?? null;
    case 'last':
      return values[values.length - 1];
    case 'mean':
      return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : null;
    case 'sum':
      return finite.reduce((a, b) => a + b, 0);
    case 'min':
      return finite.length ? Math.min(...finite) : null;
    case 'max':
      return finite.length ? Math.max(...finite) : null;
    default:
      return finite[finite.length - 1] ?? null;
  }
}

/** A value in a Perses unit (`seconds`, `percent-decimal`, `bytes`, `requests/sec`, ...). */
export function formatValue(v: number | null | undefined, unit: string | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  switch (unit) {
    case 'seconds':
      return fmtDurationMs(v * 1000);
    case 'milliseconds':
      return fmtDurationMs(v);
    case 'percent-decimal':
      return fmtPct(v);
    case 'percent':
      return fmtPct(v / 100);
    case 'bytes':
      return fmtBytes(v);
    case 'requests/sec':
    case 'ops/sec':
      return fmtRate(v);
    default:
      return fmtCount(v);
  }
}

/** Rows of a table panel: one per label set, a column per query holding its last value. */
export function tableRows(perQuery: Series[][]): { labels: Record<string, string>; values: (number | null)[] }[] {
  const rows = new Map<string, { labels: Record<string, string>; values: (number | null)[] }>();
  perQuery.forEach((series, qi) => {
    for (const s of series) {
      const key = JSON.stringify(Object.entries(s.labels).sort());
      const row = rows.get(key) ?? { labels: s.labels, values: perQuery.map(() => null) };
      const last = s.points[s.points.length - 1];
      row.values[qi] = last ? last[1] : null;
      rows.set(key, row);
    }
  });
  return [...rows.values()].sort((a, b) => (b.values[0] ?? -Infinity) - (a.values[0] ?? -Infinity));
}

// ---- the Prometheus API ----

/** A GET of the Prometheus API under /prometheus/api/v1; its errors as ApiError. */
async function prometheus<T>(path: string, params: URLSearchParams, signal?: AbortSignal): Promise<T> {
  const res = await fetch(`/prometheus/api/v1${path}?${params}`, { signal });
  const body = await res.json().catch(() => undefined);
  if (!res.ok || body?.status !== 'success') {
    throw new ApiError(res.status, body?.errorType ?? `http_${res.status}`, body?.error ?? res.statusText, undefined, path);
  }
  return body.data as T;
}

/** A PromQL range query over the range, at the dashboard's step. */
export async function queryRange(query: string, range: Range, signal?: AbortSignal) {
  const params = new URLSearchParams({ query, start: String(range.fromMs / 1000), end: String(range.toMs / 1000), step: String(stepSeconds(range)) });
  const data = await prometheus<{ resultType: string; result: { metric: Record<string, string>; values: [number, string][] }[] }>('/query_range', params, signal);
  return data.resultType === 'matrix' ? data.result : [];
}

/** The values of a label (a `PrometheusLabelValuesVariable`), among series matching `matchers`. */
export function labelValues(label: string, matchers: string[], range: Range, signal?: AbortSignal) {
  const params = new URLSearchParams({ start: String(range.fromMs / 1000), end: String(range.toMs / 1000) });
  for (const m of matchers) params.append('match[]', m);
  return prometheus<string[]>(`/label/${encodeURIComponent(label)}/values`, params, signal);
}

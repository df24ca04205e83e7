// The requests pages make when they open, built in one place. The pages build their requests
// with these helpers, and the boot script (src/boot.ts, inlined into index.html) sends the same
// requests while the app is still loading; the app then takes those answers instead of asking
// again (see `takePrefetched` in api.ts). Nothing here may touch the DOM: the boot script runs
// in the document's <head>.
import type { LogFilters } from './severity';
import { pickStepSeconds, type Range } from './time';
import { webInitialRequests } from './webrequests';

export type Params = Record<string, string | number | undefined | null | string[]>;

export function qs(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, x);
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** One API request: GET `path` + `params`, or POST `body` (as JSON) to `path`. */
export interface Req {
  path: string;
  params?: Params;
  body?: unknown;
}

/** What identifies a request: method, path with query string, body. */
export function requestKey(method: string, pathAndQuery: string, body?: string): string {
  return body === undefined ? `${method} ${pathAndQuery}` : `${method} ${pathAndQuery} ${body}`;
}

/** Path segments of a page URL, decoded: `/service/a%20b` → ['service', 'a b']. */
export function routeSegments(path: string): string[] {
  return path.replace(/\/+$/, '').split('/').slice(1).map(decodeURIComponent);
}

export const timeParams = (range: Range) => ({ from: range.fromNs, to: range.toNs });

/** Parameters of /red: per service, or per operation of `service`. */
export const redParams = (range: Range, stepS: number, service?: string, operation?: string): Params => ({
  service,
  operation,
  from: range.fromNs,
  to: range.toNs,
  step: `${stepS}s`,
});

// ---- service colours ----

// Services in the order they first got a colour, kept across page loads so that colours stay
// put and no page load waits for the services list once it is known (see main.tsx).
export const SERVICES_KEY = 'redscope.services';

export function knownServices(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(SERVICES_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** The services list that seeds the colours when none are known yet (a first visit). */
export const COLOR_SEED_RANGE = { from: 'now-6h', to: 'now' };
export const colorSeedRequest: Req = { path: '/services', params: COLOR_SEED_RANGE };

// ---- per page ----

export const servicesStep = (range: Range) => pickStepSeconds(range, 30);

export function servicePage(name: string, range: Range) {
  const t = timeParams(range);
  return {
    step: pickStepSeconds(range, 60),
    errTraces: { ...t, service: name, status: 'error', limit: 10 },
    blast: { ...t, service: name },
    patterns: { ...t, service: name },
    logs: { ...t, service: name, limit: 25 },
  };
}

export const TRACES_PAGE = 500; // traces of the list fetched per request

/** `attr=key=value` pairs from the URL → `attr.key=value` API params. */
function attrParams(attrs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of attrs) {
    const i = a.indexOf('=');
    if (i > 0) out[`attr.${a.slice(0, i).trim()}`] = a.slice(i + 1).trim();
  }
  return out;
}

/** Most points the trace scatter asks for. */
export const SCATTER_POINTS = 1000;

export function tracesPage(range: Range, query: URLSearchParams) {
  const service = query.get('service') ?? '';
  const operation = query.get('operation') ?? '';
  const status = query.get('status') ?? '';
  const minD = query.get('min_duration_ms') ?? '';
  const maxD = query.get('max_duration_ms') ?? '';
  const attrs = query.getAll('attr');
  // Newest first unless the URL asks for the longest (the API's default needs no parameter).
  const sort = query.get('sort') === 'longest' ? 'longest' : '';
  const filters: Params = { ...timeParams(range), service, operation, status, min_duration_ms: minD, max_duration_ms: maxD, ...attrParams(attrs) };
  const params: Params = { ...filters, sort, limit: TRACES_PAGE };
  // The scatter counts every matching trace and samples all of the range, whatever the order.
  const scatterParams: Params = { ...filters, limit: SCATTER_POINTS };
  return { service, operation, status, minD, maxD, attrs, sort, params, scatterParams, opsStep: pickStepSeconds(range) };
}

export const LOGS_PAGE = 100;

export function logFilters(query: URLSearchParams): LogFilters {
  return {
    service: query.get('service') ?? '',
    q: query.get('q') ?? '',
    severity: (query.get('severity') ?? '').toUpperCase(),
    trace_id: query.get('trace_id') ?? '',
    template_id: query.get('template_id') ?? '',
  };
}

export const logsTab = (query: URLSearchParams) => (query.get('tab') === 'patterns' ? 'patterns' : 'records');

/** The Logs page's filters as the API's parameters: the same for the records, the histogram,
 * the facets and the patterns, so that they all count the same records. */
export const logFilterParams = (range: Range, f: LogFilters): Params => ({
  ...timeParams(range),
  service: f.service,
  q: f.q,
  severity_min: f.severity,
  trace_id: f.trace_id,
  template_id: f.template_id,
});
export const logsHistogramParams = (range: Range, f: LogFilters): Params => ({ ...logFilterParams(range, f), step: `${pickStepSeconds(range, 60)}s` });
export const logsFacetParams = logFilterParams;
export const logsParams = (range: Range, f: LogFilters): Params => ({ ...logFilterParams(range, f), limit: LOGS_PAGE });
export const patternParams = logFilterParams;

/**
 * The requests the page at `path` + `query` makes in its first render, for the boot script.
 * Must stay in step with the pages (the app reports prefetched requests a page did not make
 * as console errors, which the browser tests catch).
 */
export function initialRequests(path: string, query: URLSearchParams, range: Range): Req[] {
  const seg = routeSegments(path);
  const t = timeParams(range);
  switch (seg[0] ?? '') {
    case 'services':
      return [{ path: '/services', params: t }, { path: '/red', params: redParams(range, servicesStep(range)) }];
    case 'service': {
      if (!seg[1]) return [];
      const p = servicePage(seg[1], range);
      return [
        { path: '/red', params: redParams(range, p.step) },
        { path: '/red', params: redParams(range, p.step, seg[1]) },
        { path: '/service-map', params: t },
        { path: '/traces', params: p.errTraces },
        { path: '/blast-radius', params: p.blast },
        { path: '/logs/patterns', params: p.patterns },
        { path: '/logs', params: p.logs },
      ];
    }
    case 'traces': {
      const p = tracesPage(range, query);
      const out: Req[] = [{ path: '/services', params: t }];
      if (p.service) out.push({ path: '/red', params: redParams(range, p.opsStep, p.service) });
      out.push({ path: '/traces/scatter', params: p.scatterParams });
      out.push({ path: '/traces', params: p.params });
      return out;
    }
    case 'trace':
      return seg[1] ? [{ path: `/traces/${encodeURIComponent(seg[1])}`, params: {} }] : [];
    case 'logs': {
      const f = logFilters(query);
      if (logsTab(query) === 'patterns') return [{ path: '/logs/patterns', params: patternParams(range, f) }];
      return [
        { path: '/logs/histogram', params: logsHistogramParams(range, f) },
        { path: '/logs/facets', params: logsFacetParams(range, f) },
        { path: '/logs', params: logsParams(range, f) },
      ];
    }
    case 'map':
      return [{ path: '/service-map', params: t }];
    case 'metrics':
      return [{ path: '/metrics', params: t }];
    case 'web':
      return webInitialRequests(seg, query, range);
    default:
      return [];
  }
}

// The first requests of the Web section's list pages, built in one place for the pages and for
// the boot script (src/boot.ts, through requests.ts's initialRequests), which sends them while
// the app still loads. Nothing here may touch the DOM.
import { funnelFromQuery, funnelParams, funnelProblem } from './funnel';
import type { Params, Req } from './requests';
import { pickStepSeconds, type Range } from './time';
import { filterChoicesSql, histogramSql, routeStatsSql, sessionsOnRouteSql, SESSIONS_READ, vitalsQuery, webFilters, type WebFilters } from './webstats';

const site = (range: Range, f: WebFilters): Params => ({ from: range.fromNs, to: range.toNs, service: f.service });

export function overviewRequests(range: Range, f: WebFilters) {
  const vq = vitalsQuery(f);
  const step = pickStepSeconds(range, 60);
  return {
    step,
    vitalsKey: vq.key,
    sessions: { ...site(range, f), limit: SESSIONS_READ },
    vitals: { ...site(range, f), group_by: vq.groupBy },
    byRoute: { ...site(range, f), group_by: 'route' as const },
    routesSql: routeStatsSql(range, f),
    histogramSql: histogramSql(range, f, step),
  };
}

export const pagesRequests = (range: Range, f: WebFilters) => ({
  routesSql: routeStatsSql(range, f),
  vitals: { ...site(range, f), group_by: 'route' as const },
});

export function sessionsRequests(range: Range, f: WebFilters, q: URLSearchParams) {
  const user = q.get('user') ?? '';
  const errorsOnly = q.get('has_errors') === 'true';
  const page = q.get('page') ?? '';
  return {
    user,
    errorsOnly,
    page,
    sessions: { ...site(range, f), user, has_errors: errorsOnly ? 'true' : '', limit: SESSIONS_READ },
    onPageSql: page ? sessionsOnRouteSql(range, f, page) : null,
  };
}

export const errorsRequests = (range: Range, f: WebFilters) => ({ errors: { ...site(range, f), limit: 200 } });

/** The funnel's request, when the URL holds one that can be asked. */
export function funnelRequest(range: Range, f: WebFilters, q: URLSearchParams): Params | null {
  const def = funnelFromQuery(q);
  if (funnelProblem(def)) return null;
  const p = funnelParams(def);
  return { ...site(range, f), steps: p.steps, window: def.window, by: def.by, breakdown: p.breakdown };
}

const sql = (query: string): Req => ({ path: '/sql', body: { query } });

/** The requests the Web page at `seg` (['web', ...]) makes in its first render. */
export function webInitialRequests(seg: string[], q: URLSearchParams, range: Range): Req[] {
  const f = webFilters(q);
  const choices = sql(filterChoicesSql(range));
  switch (seg[1] ?? '') {
    case '': {
      const r = overviewRequests(range, f);
      return [
        choices,
        { path: '/web/sessions', params: r.sessions },
        { path: '/web/vitals', params: r.vitals },
        { path: '/web/vitals', params: r.byRoute },
        sql(r.routesSql),
        sql(r.histogramSql),
      ];
    }
    case 'pages': {
      const r = pagesRequests(range, f);
      return [choices, sql(r.routesSql), { path: '/web/vitals', params: r.vitals }];
    }
    case 'sessions': {
      if (seg[2]) return [];
      const r = sessionsRequests(range, f, q);
      return [choices, { path: '/web/sessions', params: r.sessions }, ...(r.onPageSql ? [sql(r.onPageSql)] : [])];
    }
    case 'errors':
      return seg[2] ? [] : [choices, { path: '/web/errors', params: errorsRequests(range, f).errors }];
    case 'funnels': {
      const p = funnelRequest(range, f, q);
      return [choices, ...(p ? [{ path: '/web/funnel', params: p }] : [])];
    }
    default:
      return [];
  }
}

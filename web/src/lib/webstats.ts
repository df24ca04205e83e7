// Numbers of the Web section that no /web route answers directly: the overview's totals from
// the sessions list, and per-route counts, filter choices and the page view histogram with SQL
// over the stored browser events (the `logs` table, where the SDK's page views and errors are
// log records with `event.name`).
import type { SqlResult } from './api';
import type { Range } from './time';
import type { SessionSummary, VitalsGroup, VitalsGroupBy } from './webapi';

/** The filters of the Web pages, from the URL: the site (`service`), release and device class. */
export interface WebFilters {
  service: string;
  release: string;
  device: string;
}

export function webFilters(q: URLSearchParams): WebFilters {
  return { service: q.get('service') ?? '', release: q.get('release') ?? '', device: q.get('device') ?? '' };
}

/** Only the server filters by service; release and device are applied to what it returns. */
export const sessionMatches = (f: WebFilters) => (s: SessionSummary) => (!f.release || s.release === f.release) && (!f.device || s.device === f.device);

export interface OverviewTotals {
  sessions: number;
  pageViews: number;
  /** Identified users, plus each session without a user (as the server counts error users). */
  users: number;
  errors: number;
  /** Sessions with one page view and nothing done on it, over sessions. */
  bounceRate: number | null;
  /** Sessions with at least one error, over sessions. */
  errorRate: number | null;
}

export function overviewTotals(sessions: SessionSummary[]): OverviewTotals {
  const users = new Set<string>();
  let pageViews = 0;
  let errors = 0;
  let bounces = 0;
  let withErrors = 0;
  for (const s of sessions) {
    users.add(s.user_id ? `u:${s.user_id}` : `s:${s.session_id}`);
    pageViews += s.page_views;
    errors += s.errors;
    if (s.bounce) bounces++;
    if (s.errors > 0) withErrors++;
  }
  const n = sessions.length;
  return { sessions: n, pageViews, users: users.size, errors, bounceRate: n ? bounces / n : null, errorRate: n ? withErrors / n : null };
}

/** Sessions read for the overview's numbers (the API's maximum page). */
export const SESSIONS_READ = 1000;

/**
 * The vitals request for the filters: the API filters by site only, so a release or a device
 * is answered by grouping by it and taking its group (both at once cannot be).
 */
export function vitalsQuery(f: WebFilters): { groupBy: VitalsGroupBy; key: string | null } {
  if (f.release) return { groupBy: 'release', key: f.release };
  if (f.device) return { groupBy: 'device', key: f.device };
  return { groupBy: 'none', key: null };
}

export function pickGroup(groups: VitalsGroup[] | undefined, key: string | null): VitalsGroup | undefined {
  return key === null ? groups?.[0] : groups?.find((g) => g.key === key);
}

// ---- SQL ----

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
export const ROUTE_SQL = "coalesce(attr(attributes, 'url.template'), attr(attributes, 'url.path'), '(unknown)')";
const SESSION_SQL = "attr(attributes, 'session.id')";

/** Browser events of `names` in `range` matching `f` (every filter, release and device too). */
export function eventsWhere(range: Range, f: WebFilters, names: string[]): string {
  const w = [`time_unix_nano >= ${range.fromNs}`, `time_unix_nano < ${range.toNs}`, `event_name in (${names.map(lit).join(', ')})`];
  if (f.service) w.push(`service_name = ${lit(f.service)}`);
  if (f.release) w.push(`service_version = ${lit(f.release)}`);
  if (f.device) w.push(`attr(attributes, 'device.type') = ${lit(f.device)}`);
  return w.join(' and ');
}

/** Page views, sessions and errors per route. */
export const routeStatsSql = (range: Range, f: WebFilters) =>
  `select ${ROUTE_SQL} as route, event_name as e, count(*) as n, count(distinct ${SESSION_SQL}) as s from logs where ${eventsWhere(range, f, ['browser.page_view', 'browser.error'])} group by 1, 2 order by 3 desc limit 2000`;

/** The sites, releases and device classes seen (for the filters' choices). */
export const filterChoicesSql = (range: Range) =>
  `select service_name as svc, service_version as rel, attr(attributes, 'device.type') as dev, count(*) as n from logs where ${eventsWhere(range, { service: '', release: '', device: '' }, ['browser.page_view'])} group by 1, 2, 3 order by 4 desc limit 500`;

/** Page views and errors per time bucket. */
export function histogramSql(range: Range, f: WebFilters, stepS: number): string {
  const stepNs = BigInt(stepS) * 1000000000n;
  return `select (time_unix_nano / ${stepNs}) * ${stepNs} as t, event_name as e, count(*) as n from logs where ${eventsWhere(range, f, ['browser.page_view', 'browser.error'])} group by 1, 2 order by 1`;
}

/** Sessions that viewed a page of `route` (at most 1000). */
export const sessionsOnRouteSql = (range: Range, f: WebFilters, route: string) =>
  `select distinct ${SESSION_SQL} as s from logs where ${eventsWhere(range, f, ['browser.page_view'])} and ${ROUTE_SQL} = ${lit(route)} limit 1000`;

export interface RouteStats {
  route: string;
  views: number;
  sessions: number;
  errors: number;
}

/** The rows of `routeStatsSql` as one entry per route, the most viewed first. */
export function routeStats(r: SqlResult): RouteStats[] {
  const by = new Map<string, RouteStats>();
  for (const [route, e, n, s] of r.rows as [string, string, number, number][]) {
    const key = String(route);
    const cur = by.get(key) ?? { route: key, views: 0, sessions: 0, errors: 0 };
    if (e === 'browser.page_view') {
      cur.views += Number(n);
      cur.sessions += Number(s);
    } else cur.errors += Number(n);
    by.set(key, cur);
  }
  return [...by.values()].sort((a, b) => b.views - a.views || b.errors - a.errors || a.route.localeCompare(b.route));
}

export interface FilterChoices {
  services: string[];
  releases: string[];
  devices: string[];
}

export function filterChoices(r: SqlResult): FilterChoices {
  const sets = { services: new Set<string>(), releases: new Set<string>(), devices: new Set<string>() };
  for (const [svc, rel, dev] of r.rows as (string | null)[][]) {
    if (svc) sets.services.add(svc);
    if (rel) sets.releases.add(rel);
    if (dev) sets.devices.add(dev);
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return { services: sorted(sets.services), releases: sorted(sets.releases).reverse(), devices: sorted(sets.devices) };
}

/**
 * The range to look one thing up in (a session, an error group): the page's range widened to the
 * last day at least, since a session listed near the range's start may have begun before it.
 */
export function lookupParams(range: Range, nowMs = Date.now()): { from: string; to: string } {
  const fromMs = Math.min(range.fromMs, nowMs - 86400e3);
  const toMs = Math.max(range.toMs, nowMs);
  const ns = (ms: number) => (BigInt(Math.round(ms)) * 1000000n).toString();
  return { from: ns(fromMs), to: ns(toMs) };
}

// The Web section's overview: what the site's users experienced in the time range — traffic,
// bounces and errors, Web Vitals p75 with rating shares, the slowest and most erroring pages.
import type { ComponentChildren } from 'preact';
import { Chart, ChartPlaceholder } from '../components/Chart';
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { ErrorBox, Loading } from '../components/states';
import { VitalsCards, VitalValue } from '../components/Vitals';
import { NoBrowserData, WebFilterBar, WebTabs, webHref } from '../components/WebNav';
import { api } from '../lib/api';
import { fmtCount, fmtPct } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import { useLocation } from '../lib/router';
import { vitalOf } from '../lib/vitals';
import { webApi } from '../lib/webapi';
import { overviewRequests } from '../lib/webrequests';
import { overviewTotals, pickGroup, routeStats, sessionMatches, webFilters } from '../lib/webstats';

function Stat({ label, value, testid, title }: { label: string; value: string; testid: string; title?: string }) {
  return (
    <div class="stat" title={title}>
      <div class="label">{label}</div>
      <div class="value" data-testid={testid}>
        {value}
      </div>
    </div>
  );
}

export function WebOverviewPage() {
  const range = useRange();
  const loc = useLocation();
  const f = webFilters(loc.query);
  const r = overviewRequests(range, f);
  const step = r.step;
  const sessions = useApi((s) => webApi.sessions(r.sessions, s), [range, f.service]);
  const vitals = useApi((s) => webApi.vitals(r.vitals, s), [range, f.service, r.vitals.group_by]);
  const byRoute = useApi((s) => webApi.vitals(r.byRoute, s), [range, f.service]);
  const routes = useApi((s) => api.sql(r.routesSql, s), [r.routesSql]);
  const hist = useApi((s) => api.sql(r.histogramSql, s), [r.histogramSql]);

  let body;
  if (sessions.error) body = <ErrorBox error={sessions.error} what="browser sessions" />;
  else if (!sessions.data) body = <Loading />;
  else if (sessions.data.total === 0) body = <NoBrowserData />;
  else {
    const page = sessions.data;
    const filtered = page.sessions.filter(sessionMatches(f));
    const tot = overviewTotals(filtered);
    const partial = page.total > page.sessions.length || page.truncated;
    const group = pickGroup(vitals.data?.groups, r.vitalsKey);
    const rs = routes.data ? routeStats(routes.data) : [];
    const lcpOf = (route: string) => vitalOf(byRoute.data?.groups.find((g) => g.key === route), 'LCP');
    const slowest = rs
      .map((r) => ({ ...r, lcp: lcpOf(r.route) }))
      .filter((r) => r.lcp)
      .sort((a, b) => b.lcp!.p75 - a.lcp!.p75)
      .slice(0, 5);
    const erroring = rs
      .filter((r) => r.errors > 0)
      .sort((a, b) => b.errors - a.errors || a.route.localeCompare(b.route))
      .slice(0, 5);
    body = (
      <>
        {partial && (
          <div class="note" data-testid="partial-note">
            Sessions, users, bounce and error rates are counted over the newest {fmtCount(page.sessions.length)} of {fmtCount(page.total)} sessions
            {page.truncated ? ' (the range holds more browser events than one question reads)' : ''}.
          </div>
        )}
        <div class="stats" data-testid="web-stats">
          <Stat label="Page views" value={fmtCount(tot.pageViews)} testid="stat-page-views" />
          <Stat label="Sessions" value={fmtCount(f.release || f.device ? tot.sessions : page.total)} testid="stat-sessions" />
          <Stat label="Users" value={fmtCount(tot.users)} testid="stat-users" title="Identified users, and each session without one" />
          <Stat label="Bounce rate" value={fmtPct(tot.bounceRate)} testid="stat-bounce" title="Sessions with one page view and nothing done on it" />
          <Stat label="Error rate" value={fmtPct(tot.errorRate)} testid="stat-error-rate" title="Sessions with at least one error" />
          <Stat label="Errors" value={fmtCount(tot.errors)} testid="stat-errors" />
        </div>
        <div class="card">
          {hist.error ? (
            <ErrorBox error={hist.error} what="page views over time" />
          ) : hist.data ? (
            <HistogramChart rows={hist.data.rows as [number, string, number][]} fromMs={range.fromMs} toMs={range.toMs} stepS={step} />
          ) : (
            <ChartPlaceholder title="Page views and errors" height={160} />
          )}
        </div>
        <div class="card">
          <div class="card-head">
            <h2>Web Vitals</h2>
            <span class="muted">p75 of the last value per page view, with the share of page views rated good, needs improvement and poor</span>
          </div>
          {vitals.error ? <ErrorBox error={vitals.error} what="Web Vitals" /> : !vitals.data ? <Loading /> : <VitalsCards group={group} />}
          {f.release && f.device && <div class="note">Vitals are of release {f.release} on every device: the API filters vitals by one of them at a time.</div>}
        </div>
        <div class="grid2">
          <div class="card flush">
            <div class="card-head pad">
              <h2>Slowest pages</h2>
              <span class="muted">by p75 LCP</span>
            </div>
            {byRoute.error ? (
              <ErrorBox error={byRoute.error} what="vitals per page" />
            ) : !byRoute.data || !routes.data ? (
              <Loading />
            ) : (
              <RouteList testid="slowest-pages" rows={slowest.map((r) => ({ route: r.route, value: <VitalValue name="LCP" value={r.lcp!.p75} />, views: r.views }))} />
            )}
          </div>
          <div class="card flush">
            <div class="card-head pad">
              <h2>Most errors</h2>
              <Link class="right" href={webHref('/web/errors')}>
                All errors
              </Link>
            </div>
            {routes.error ? (
              <ErrorBox error={routes.error} what="errors per page" />
            ) : !routes.data ? (
              <Loading />
            ) : (
              <RouteList testid="erroring-pages" rows={erroring.map((r) => ({ route: r.route, value: <span class="bad">{fmtCount(r.errors)} error{r.errors === 1 ? '' : 's'}</span>, views: r.views }))} />
            )}
          </div>
        </div>
      </>
    );
  }
  return (
    <Layout title="Web">
      <WebTabs />
      <WebFilterBar />
      {body}
    </Layout>
  );
}

function RouteList({ rows, testid }: { rows: { route: string; value: ComponentChildren; views: number }[]; testid: string }) {
  if (!rows.length) return <div class="muted pad">None in this range.</div>;
  return (
    <table class="table" data-testid={testid}>
      <tbody>
        {rows.map((r) => (
          <tr>
            <td>
              <Link href={webHref('/web/pages', { route: r.route })} class="mono" data-testid="route">
                {r.route}
              </Link>
            </td>
            <td class="num">{r.value}</td>
            <td class="num muted">
              {fmtCount(r.views)} view{r.views === 1 ? '' : 's'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function HistogramChart({ rows, fromMs, toMs, stepS }: { rows: [number, string, number][]; fromMs: number; toMs: number; stepS: number }) {
  const first = Math.floor(fromMs / 1000 / stepS) * stepS;
  const xs: number[] = [];
  for (let x = first; x < toMs / 1000; x += stepS) xs.push(x);
  const views = xs.map(() => 0);
  const errors = xs.map(() => 0);
  for (const [t, e, n] of rows) {
    const i = Math.round((Number(t) / 1e9 - first) / stepS);
    if (i < 0 || i >= xs.length) continue;
    if (e === 'browser.page_view') views[i] += Number(n);
    else errors[i] += Number(n);
  }
  return (
    <Chart
      title="Page views and errors"
      height={160}
      data={[xs, views, errors]}
      series={[
        { label: 'page views', color: '#2f6fed', bars: true },
        { label: 'errors', color: '#e5484d', bars: true },
      ]}
      fmt={(v) => fmtCount(v)}
    />
  );
}

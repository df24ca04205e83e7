// Pages: per route, how often it was viewed, its Web Vitals p75 and its errors, with a link to
// the sessions that viewed it.
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { ErrorBox, Loading } from '../components/states';
import { SortableTable, type Column } from '../components/Table';
import { VitalValue } from '../components/Vitals';
import { NoBrowserData, WebFilterBar, WebTabs, webHref } from '../components/WebNav';
import { api } from '../lib/api';
import { fmtCount, fmtPct } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import { setParams, useLocation } from '../lib/router';
import { VITALS, vitalOf } from '../lib/vitals';
import { webApi, type VitalStats } from '../lib/webapi';
import { pagesRequests } from '../lib/webrequests';
import { routeStats, webFilters, type RouteStats } from '../lib/webstats';

interface Row extends RouteStats {
  vitals: Record<string, VitalStats | undefined>;
}

export function WebPagesPage() {
  const range = useRange();
  const loc = useLocation();
  const f = webFilters(loc.query);
  const selected = loc.query.get('route') ?? '';
  const r = pagesRequests(range, f);
  const routes = useApi((s) => api.sql(r.routesSql, s), [r.routesSql]);
  const vitals = useApi((s) => webApi.vitals(r.vitals, s), [range, f.service]);

  let body;
  if (routes.error) body = <ErrorBox error={routes.error} what="pages" />;
  else if (vitals.error) body = <ErrorBox error={vitals.error} what="Web Vitals per page" />;
  else if (!routes.data || !vitals.data) body = <Loading />;
  else {
    const rows: Row[] = routeStats(routes.data).map((r) => {
      const g = vitals.data!.groups.find((x) => x.key === r.route);
      return { ...r, vitals: Object.fromEntries(VITALS.map((n) => [n, vitalOf(g, n)])) };
    });
    const shown = selected ? rows.filter((r) => r.route === selected) : rows;
    if (!rows.length) body = <NoBrowserData what="page views" />;
    else {
      const vitalCol = (name: string): Column<Row> => ({
        key: name,
        label: `${name} p75`,
        align: 'right',
        sort: (r) => r.vitals[name]?.p75 ?? -1,
        render: (r) => (r.vitals[name] ? <VitalValue name={name} value={r.vitals[name]!.p75} /> : <span class="muted">—</span>),
      });
      const columns: Column<Row>[] = [
        { key: 'route', label: 'Page (route)', sort: (r) => r.route, render: (r) => <span class="mono" data-testid="route">{r.route}</span> },
        { key: 'views', label: 'Views', align: 'right', sort: (r) => r.views, render: (r) => <span data-testid="views">{fmtCount(r.views)}</span> },
        { key: 'sessions', label: 'Sessions', align: 'right', sort: (r) => r.sessions, render: (r) => fmtCount(r.sessions) },
        ...VITALS.map(vitalCol),
        { key: 'errors', label: 'Errors', align: 'right', sort: (r) => r.errors, render: (r) => <span class={r.errors ? 'bad' : 'muted'} data-testid="errors">{fmtCount(r.errors)}</span> },
        { key: 'errrate', label: 'Errors / view', align: 'right', sort: (r) => (r.views ? r.errors / r.views : -1), render: (r) => (r.views ? fmtPct(r.errors / r.views) : '—') },
        {
          key: 'links',
          label: '',
          render: (r) => (
            <Link href={webHref('/web/sessions', { page: r.route })} onClick={(e) => e.stopPropagation()} data-testid="page-sessions-link">
              sessions
            </Link>
          ),
        },
      ];
      body = (
        <>
          {(f.release || f.device) && <div class="note">Views and errors are of the selected release and device; the vitals per page are of every release and device (the API filters vitals by site only).</div>}
          {selected && (
            <div class="row gap">
              <span class="chip">
                route {selected}
                <button onClick={() => setParams({ route: null })} aria-label="Show every page">
                  ×
                </button>
              </span>
            </div>
          )}
          <div class="card flush">
            <SortableTable rows={shown} columns={columns} defaultSort="views" rowKey={(r) => r.route} testid="pages-table" onRowClick={(r) => setParams({ route: r.route === selected ? null : r.route })} />
          </div>
          {routes.data.truncated && <div class="note">Only the first 2,000 page and event combinations are shown.</div>}
        </>
      );
    }
  }
  return (
    <Layout title="Pages" crumbs={<Link href={webHref('/web')}>Web</Link>}>
      <WebTabs />
      <WebFilterBar />
      {body}
    </Layout>
  );
}

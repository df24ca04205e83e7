// Dashboards as code: the Perses dashboards of the server's dashboards directory and the
// built-in RED dashboard of each service, with every invalid file and its errors.
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { Empty, ErrorOrMissing, Loading } from '../components/states';
import '../components/dashboard/dashboard.css';
import { dashboardsApi, type DashboardSummary } from '../lib/dashboards';
import { useApi, useTick } from '../lib/hooks';
import { href } from '../lib/router';

function Row({ d }: { d: DashboardSummary }) {
  const open = d.project && d.name ? href(`/dashboards/${encodeURIComponent(d.project)}/${encodeURIComponent(d.name)}`) : null;
  return (
    <tr data-testid="dashboard-row" data-source={d.source} data-name={d.name ?? ''}>
      <td>
        {open ? <Link href={open}>{d.display_name}</Link> : <span class="bad">{d.display_name}</span>}
        {d.error && (
          <ul class="dash-issues bad" data-testid="dashboard-error">
            {d.issues.map((i) => (
              <li>
                <code>{i.path || '(document)'}</code> {i.message}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td class="mono">{d.project && d.name ? `${d.project}/${d.name}` : '—'}</td>
      <td class="mono" title={d.source}>
        {d.source === 'builtin' ? <span class="badge plain">built in</span> : d.source}
      </td>
      <td class="num">{d.error ? '—' : d.panel_count}</td>
      <td>{d.error ? <span class="bad">invalid</span> : <span class="ok">ok</span>}</td>
    </tr>
  );
}

export function DashboardsPage() {
  const tick = useTick();
  const list = useApi((s) => dashboardsApi.list(s), [tick]);
  const files = list.data?.dashboards.filter((d) => d.source !== 'builtin') ?? [];
  return (
    <Layout title="Dashboards">
      {list.error ? (
        <ErrorOrMissing error={list.error} feature="Dashboards" route="/api/v1/dashboards" />
      ) : !list.data ? (
        <Loading />
      ) : (
        <>
          <div class="note" data-testid="dashboards-dir">
            {list.data.directory ? (
              <>
                Perses dashboards (JSON or YAML) from <code>{list.data.directory}</code>, read again when a file changes. Export a built-in dashboard as YAML into it to edit it.
              </>
            ) : (
              <>
                No dashboards directory: set <code>[dashboards] dir</code> in the configuration to add Perses dashboards (JSON or YAML).
              </>
            )}
          </div>
          {!list.data.dashboards.length ? (
            <Empty title="No dashboards yet">Built-in RED dashboards appear for each service that sends spans.</Empty>
          ) : (
            <div class="card flush table-wrap">
              <table class="table" data-testid="dashboards-table">
                <thead>
                  <tr>
                    <th>Dashboard</th>
                    <th>Project/name</th>
                    <th>Source</th>
                    <th class="num">Panels</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.dashboards.map((d) => (
                    <Row d={d} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {files.some((f) => f.error) && <div class="muted">Invalid files are skipped until they are fixed; the server keeps running.</div>}
        </>
      )}
    </Layout>
  );
}

// Errors: browser errors grouped by fingerprint (count, users, sessions, first and last seen,
// releases, pages), the most frequent first.
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { ErrorBox, Loading } from '../components/states';
import { SortableTable, type Column } from '../components/Table';
import { NoBrowserData, WebFilterBar, WebTabs, webHref } from '../components/WebNav';
import { fmtCount } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import { navigate, useLocation } from '../lib/router';
import { errorsRequests } from '../lib/webrequests';
import { fmtAgo, fmtDateTime } from '../lib/time';
import { webApi, type ErrorGroup } from '../lib/webapi';
import { webFilters } from '../lib/webstats';

export function WebErrorsPage() {
  const range = useRange();
  const loc = useLocation();
  const f = webFilters(loc.query);
  const errors = useApi((s) => webApi.errors(errorsRequests(range, f).errors, s), [range, f.service]);

  let body;
  if (errors.error) body = <ErrorBox error={errors.error} what="errors" />;
  else if (!errors.data) body = <Loading />;
  else if (errors.data.total === 0) body = <NoBrowserData what="browser errors" />;
  else {
    // Groups carry their releases, not their devices: the release filter is applied here.
    const groups = errors.data.groups.filter((g) => !f.release || g.releases.includes(f.release));
    const open = (g: ErrorGroup) => webHref(`/web/errors/${g.fingerprint}`);
    const columns: Column<ErrorGroup>[] = [
      {
        key: 'error',
        label: 'Error',
        sort: (g) => `${g.type}: ${g.message}`,
        render: (g) => (
          <Link href={open(g)} onClick={(e) => e.stopPropagation()} class="error-title" data-testid="error-link">
            <strong class="bad">{g.type}</strong>: <span data-testid="error-message">{g.message || <span class="muted">no message</span>}</span>
          </Link>
        ),
      },
      { key: 'count', label: 'Count', align: 'right', sort: (g) => g.count, render: (g) => <span data-testid="error-count">{fmtCount(g.count)}</span> },
      { key: 'users', label: 'Users', align: 'right', sort: (g) => g.users, render: (g) => <span data-testid="error-users">{fmtCount(g.users)}</span> },
      { key: 'sessions', label: 'Sessions', align: 'right', sort: (g) => g.sessions, render: (g) => <span data-testid="error-sessions">{fmtCount(g.sessions)}</span> },
      { key: 'first', label: 'First seen', align: 'right', sort: (g) => g.first_seen_unix_nano, render: (g) => <span title={fmtDateTime(g.first_seen_unix_nano / 1e6)}>{fmtAgo(g.first_seen_unix_nano / 1e6)}</span> },
      { key: 'last', label: 'Last seen', align: 'right', sort: (g) => g.last_seen_unix_nano, render: (g) => <span title={fmtDateTime(g.last_seen_unix_nano / 1e6)}>{fmtAgo(g.last_seen_unix_nano / 1e6)}</span> },
      { key: 'releases', label: 'Releases', sort: (g) => g.releases.join(','), render: (g) => <span class="mono small" data-testid="error-releases">{g.releases.join(', ') || '—'}</span> },
      { key: 'routes', label: 'Pages', sort: (g) => g.routes.join(','), render: (g) => <span class="mono small">{g.routes.join(', ') || '—'}</span> },
    ];
    body = (
      <>
        {f.device && <div class="note">Error groups are not split by device; the device filter does not apply to them.</div>}
        <div class="muted">
          {fmtCount(groups.length)} of {fmtCount(errors.data.total)} groups
        </div>
        <div class="card flush">
          <SortableTable rows={groups} columns={columns} defaultSort="count" rowKey={(g) => g.fingerprint} testid="errors-table" onRowClick={(g) => navigate(open(g))} />
        </div>
      </>
    );
  }
  return (
    <Layout title="Errors" crumbs={<Link href={webHref('/web')}>Web</Link>}>
      <WebTabs />
      <WebFilterBar />
      {body}
    </Layout>
  );
}

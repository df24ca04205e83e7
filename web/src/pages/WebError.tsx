// One error group: its symbolicated stack (and the one the browser sent), the breadcrumbs of
// its latest occurrence, the sessions it happened in and the backend trace of the request that
// failed before it.
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { ErrorBox, Loading } from '../components/states';
import { Timeline } from '../components/Timeline';
import { WebTabs, webHref } from '../components/WebNav';
import { ApiError } from '../lib/api';
import { fmtCount } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import { href, setParams, useLocation } from '../lib/router';
import { fmtDateTime } from '../lib/time';
import { failingTrace, webApi } from '../lib/webapi';
import { lookupParams } from '../lib/webstats';

export function WebErrorPage({ fingerprint }: { fingerprint: string }) {
  const range = useRange();
  const { query } = useLocation();
  const original = query.get('stack') === 'original';
  const detail = useApi((s) => webApi.error(fingerprint, lookupParams(range), s), [fingerprint]);
  const crumbs = (
    <>
      <Link href={webHref('/web')}>Web</Link> / <Link href={webHref('/web/errors')}>Errors</Link> / <span class="mono">{fingerprint}</span>
    </>
  );
  let title = `Error ${fingerprint}`;
  let body;
  if (detail.error instanceof ApiError && detail.error.notFound && !detail.error.routeMissing) body = <div class="state">No error of group {fingerprint} in the last day (or the selected range).</div>;
  else if (detail.error) body = <ErrorBox error={detail.error} what="the error" />;
  else if (!detail.data) body = <Loading />;
  else {
    const d = detail.data;
    const g = d.group;
    title = `${g.type}: ${g.message}`;
    const trace = failingTrace(d);
    const stack = original && d.original_stack ? d.original_stack : g.stack;
    const latest = d.occurrences[0];
    body = (
      <>
        <div class="card trace-head" data-testid="error-summary">
          <span>
            <span class="muted">Count</span> <strong data-testid="error-count">{fmtCount(g.count)}</strong>
          </span>
          <span>
            <span class="muted">Users</span> <strong>{fmtCount(g.users)}</strong>
          </span>
          <span>
            <span class="muted">Sessions</span> <strong>{fmtCount(g.sessions)}</strong>
          </span>
          <span>
            <span class="muted">First seen</span> <strong>{fmtDateTime(g.first_seen_unix_nano / 1e6)}</strong>
          </span>
          <span>
            <span class="muted">Last seen</span> <strong>{fmtDateTime(g.last_seen_unix_nano / 1e6)}</strong>
          </span>
          <span>
            <span class="muted">Releases</span> <strong class="mono">{g.releases.join(', ') || '—'}</strong>
          </span>
          <span>
            <span class="muted">Pages</span> <strong class="mono">{g.routes.join(', ') || '—'}</strong>
          </span>
          {trace && (
            <Link class="btn right" href={href(`/trace/${trace}`)} data-testid="failing-trace-link">
              Backend trace of the failing request
            </Link>
          )}
        </div>
        <div class="card">
          <div class="card-head">
            <h2>Stack</h2>
            {g.symbolicated ? <span class="badge new">symbolicated</span> : <span class="muted">as sent (no source map uploaded for this release)</span>}
            {d.original_stack && (
              <div class="seg right" role="group" aria-label="Stack shown">
                <button class={`seg-btn ${!original ? 'on' : ''}`} onClick={() => setParams({ stack: null }, true)}>
                  Symbolicated
                </button>
                <button class={`seg-btn ${original ? 'on' : ''}`} onClick={() => setParams({ stack: 'original' }, true)} data-testid="stack-original">
                  Original
                </button>
              </div>
            )}
          </div>
          <pre class="raw" data-testid="error-stack">
            {stack ?? 'No stack trace was sent.'}
          </pre>
        </div>
        <div class="card">
          <div class="card-head">
            <h2>Breadcrumbs</h2>
            {latest && (
              <span class="muted">
                what session{' '}
                <Link href={webHref(`/web/sessions/${encodeURIComponent(latest.session_id)}`)} class="mono">
                  {latest.session_id}
                </Link>{' '}
                did before the latest occurrence
              </span>
            )}
          </div>
          <Timeline items={d.breadcrumbs} startNs={d.breadcrumbs[0]?.time_unix_nano ?? 0} testid="breadcrumbs" />
        </div>
        <div class="card flush">
          <div class="card-head pad">
            <h2>Occurrences ({d.occurrences.length})</h2>
            <span class="muted">newest first</span>
          </div>
          <table class="table" data-testid="occurrences">
            <thead>
              <tr>
                <th>Time</th>
                <th>Session</th>
                <th>User</th>
                <th>URL</th>
                <th>Release</th>
                <th>Trace</th>
              </tr>
            </thead>
            <tbody>
              {d.occurrences.map((o) => (
                <tr>
                  <td class="mono">{fmtDateTime(o.time_unix_nano / 1e6)}</td>
                  <td>
                    <Link href={webHref(`/web/sessions/${encodeURIComponent(o.session_id)}`)} class="mono" data-testid="occurrence-session">
                      {o.session_id}
                    </Link>
                  </td>
                  <td>{o.user_id ?? <span class="muted">anonymous</span>}</td>
                  <td class="mono small">{o.url ?? '—'}</td>
                  <td class="mono">{o.release ?? '—'}</td>
                  <td>
                    {o.trace_id ? (
                      <Link href={href(`/trace/${o.trace_id}`)} class="mono">
                        {o.trace_id.slice(0, 16)}…
                      </Link>
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </>
    );
  }
  return (
    <Layout title={title} crumbs={crumbs}>
      <WebTabs />
      {body}
    </Layout>
  );
}

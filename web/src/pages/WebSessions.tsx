// Sessions: the visits of the time range (start, duration, pages, errors, user, client, entry
// and exit page, bounce, replay), filtered by site, release, device, user, errors and page.
import { useState } from 'preact/hooks';
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { ErrorBox, Loading } from '../components/states';
import { SortableTable, type Column } from '../components/Table';
import { NoBrowserData, WebFilterBar, WebTabs, webHref } from '../components/WebNav';
import { api } from '../lib/api';
import { fmtCount, fmtDurationMs } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import { navigate, setParams, useLocation } from '../lib/router';
import { fmtDateTime } from '../lib/time';
import { webApi, type SessionSummary } from '../lib/webapi';
import { sessionsRequests } from '../lib/webrequests';
import { sessionMatches, webFilters } from '../lib/webstats';

const client = (s: SessionSummary) => [s.browser && `${s.browser}${s.browser_version ? ` ${s.browser_version.split('.')[0]}` : ''}`, s.os, s.device].filter(Boolean).join(' · ');

export function WebSessionsPage() {
  const range = useRange();
  const loc = useLocation();
  const f = webFilters(loc.query);
  const r = sessionsRequests(range, f, loc.query);
  const { user, errorsOnly, page } = r;
  const [userText, setUserText] = useState(user);
  const sessions = useApi((s) => webApi.sessions(r.sessions, s), [range, f.service, user, errorsOnly]);
  const onPage = useApi((s) => api.sql(r.onPageSql!, s), [r.onPageSql], !!r.onPageSql);

  let body;
  if (sessions.error) body = <ErrorBox error={sessions.error} what="sessions" />;
  else if (onPage.error) body = <ErrorBox error={onPage.error} what={`sessions on ${page}`} />;
  else if (!sessions.data || (page && !onPage.data)) body = <Loading />;
  else if (sessions.data.total === 0 && !user && !errorsOnly) body = <NoBrowserData />;
  else {
    const ids = page && onPage.data ? new Set(onPage.data.rows.map((r) => String(r[0]))) : null;
    const rows = sessions.data.sessions.filter(sessionMatches(f)).filter((s) => !ids || ids.has(s.session_id));
    const columns: Column<SessionSummary>[] = [
      {
        key: 'start',
        label: 'Start',
        sort: (s) => s.start_unix_nano,
        render: (s) => (
          <Link href={webHref(`/web/sessions/${encodeURIComponent(s.session_id)}`)} onClick={(e) => e.stopPropagation()} class="mono" data-testid="session-link">
            {fmtDateTime(s.start_unix_nano / 1e6)}
          </Link>
        ),
      },
      { key: 'duration', label: 'Duration', align: 'right', sort: (s) => s.duration_ms, render: (s) => fmtDurationMs(s.duration_ms) },
      { key: 'pages', label: 'Pages', align: 'right', sort: (s) => s.page_views, render: (s) => <span data-testid="pages">{s.page_views}</span> },
      { key: 'errors', label: 'Errors', align: 'right', sort: (s) => s.errors, render: (s) => <span class={s.errors ? 'bad' : 'muted'} data-testid="errors">{s.errors}</span> },
      { key: 'user', label: 'User', sort: (s) => s.user_id ?? '', render: (s) => (s.user_id ? <span data-testid="user">{s.user_id}</span> : <span class="muted">anonymous</span>) },
      {
        key: 'client',
        label: 'Browser · OS · device',
        sort: client,
        render: (s) => (
          <span>
            {client(s) || <span class="muted">unknown</span>} {s.synthetic && <span class="badge plain">{s.synthetic}</span>}
          </span>
        ),
      },
      {
        key: 'entry',
        label: 'Entry → exit',
        sort: (s) => s.entry_page ?? '',
        render: (s) => (
          <span class="mono small">
            {s.entry_page ?? '—'}
            {s.exit_page && s.exit_page !== s.entry_page ? ` → ${s.exit_page}` : ''}
          </span>
        ),
      },
      { key: 'bounce', label: 'Bounce', sort: (s) => (s.bounce ? 1 : 0), render: (s) => (s.bounce ? <span class="badge plain" data-testid="bounce">bounce</span> : '') },
      { key: 'replay', label: 'Replay', sort: (s) => (s.has_replay ? 1 : 0), render: (s) => (s.has_replay ? <span class="badge new" data-testid="has-replay">▶ replay</span> : '') },
      { key: 'service', label: 'Site', sort: (s) => s.service, render: (s) => <span class="muted">{s.service}{s.release ? ` ${s.release}` : ''}</span> },
    ];
    const shownOfTotal = !ids && !f.release && !f.device ? sessions.data.total : rows.length;
    body = (
      <>
        <div class="muted" data-testid="session-count">
          {fmtCount(rows.length)} of {fmtCount(shownOfTotal)} sessions
          {sessions.data.total > sessions.data.sessions.length ? ` (the newest ${fmtCount(sessions.data.sessions.length)} are read)` : ''}
        </div>
        <div class="card flush">
          <SortableTable
            rows={rows}
            columns={columns}
            defaultSort="start"
            rowKey={(s) => s.session_id}
            testid="sessions-table"
            onRowClick={(s) => navigate(webHref(`/web/sessions/${encodeURIComponent(s.session_id)}`))}
          />
        </div>
      </>
    );
  }
  return (
    <Layout title="Sessions" crumbs={<Link href={webHref('/web')}>Web</Link>}>
      <WebTabs />
      <WebFilterBar>
        <label class="field">
          User
          <input
            class="input"
            value={userText}
            placeholder="user.id"
            data-testid="filter-user"
            onInput={(e) => setUserText((e.target as HTMLInputElement).value)}
            onKeyDown={(e) => e.key === 'Enter' && setParams({ user: userText.trim() || null })}
            onBlur={() => userText.trim() !== user && setParams({ user: userText.trim() || null })}
          />
        </label>
        <label class="field check">
          <span>
            <input type="checkbox" checked={errorsOnly} data-testid="filter-errors" onChange={() => setParams({ has_errors: errorsOnly ? null : 'true' })} /> with errors
          </span>
        </label>
        {page && (
          <span class="chip" data-testid="page-filter">
            viewed {page}
            <button onClick={() => setParams({ page: null })} aria-label="Any page">
              ×
            </button>
          </span>
        )}
      </WebFilterBar>
      {body}
    </Layout>
  );
}

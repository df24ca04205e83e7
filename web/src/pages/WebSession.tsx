// One session: who, on what, for how long; its replay (when recorded) with the timeline beside
// it — clicking an item plays from there —, its page views with their vitals and requests, and
// the backend traces its requests started.
import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { ReplayPlayer, type Seek } from '../components/ReplayPlayer';
import { ErrorBox, Loading } from '../components/states';
import { fmtOffset, Timeline } from '../components/Timeline';
import { VitalValue } from '../components/Vitals';
import { WebTabs, webHref } from '../components/WebNav';
import { ApiError } from '../lib/api';
import { fmtDurationMs } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import { href } from '../lib/router';
import { decodeReplay, replayOffset } from '../lib/replay';
import { fmtDateTime } from '../lib/time';
import { VITALS } from '../lib/vitals';
import { requestStatus, webApi, type PageView, type SessionDetail, type TimelineItem } from '../lib/webapi';
import { lookupParams } from '../lib/webstats';

function Summary({ d }: { d: SessionDetail }) {
  const s = d.summary;
  const item = (label: string, value: ComponentChildren, testid?: string) => (
    <span>
      <span class="muted">{label}</span> <strong data-testid={testid}>{value}</strong>
    </span>
  );
  return (
    <div class="card trace-head" data-testid="session-summary">
      {item('Started', fmtDateTime(s.start_unix_nano / 1e6))}
      {item('Duration', fmtDurationMs(s.duration_ms), 'session-duration')}
      {item('Pages', s.page_views, 'session-pages')}
      {item('Errors', <span class={s.errors ? 'bad' : ''}>{s.errors}</span>, 'session-errors')}
      {item('Clicks', s.clicks, 'session-clicks')}
      {item('Requests', s.requests, 'session-requests')}
      {item('User', s.user_id ?? 'anonymous', 'session-user')}
      {item('Client', [s.browser && `${s.browser} ${s.browser_version ?? ''}`.trim(), s.os, s.device].filter(Boolean).join(' · ') || 'unknown')}
      {item('Site', `${s.service}${s.release ? ` ${s.release}` : ''}`)}
      {item('Entry → exit', `${s.entry_page ?? '—'} → ${s.exit_page ?? '—'}`)}
      {s.bounce && <span class="badge plain">bounce</span>}
      {s.synthetic && <span class="badge plain">{s.synthetic}</span>}
    </div>
  );
}

function PageViews({ views, startNs }: { views: PageView[]; startNs: number }) {
  return (
    <div class="card" data-testid="page-views">
      <div class="card-head">
        <h2>Page views ({views.length})</h2>
      </div>
      <ol class="page-views">
        {views.map((v) => (
          <li class="page-view" data-testid="page-view">
            <div class="row gap wrap">
              <span class="tl-time mono">{fmtOffset((v.time_unix_nano - startNs) / 1e6)}</span>
              <strong class="mono" data-testid="page-route">
                {v.route ?? v.url ?? 'page'}
              </strong>
              {v.url && <span class="muted small">{v.url}</span>}
              {v.errors > 0 && <span class="badge err">{v.errors} error{v.errors > 1 ? 's' : ''}</span>}
              {v.clicks > 0 && <span class="badge plain">{v.clicks} click{v.clicks > 1 ? 's' : ''}</span>}
            </div>
            <div class="row gap wrap vitals-row">
              {VITALS.filter((n) => v.vitals[n]).map((n) => (
                <span class="chip">
                  {n} <VitalValue name={n} value={v.vitals[n].value} rating={v.vitals[n].rating} />
                </span>
              ))}
            </div>
            {v.requests.length > 0 && (
              <ul class="requests">
                {v.requests.map((r) => (
                  <li data-testid="page-request">
                    <span class="mono">
                      {String(r.details['http.request.method'] ?? r.details['http.method'] ?? 'GET')} {String(r.details['url.full'] ?? r.details['http.url'] ?? '')}
                    </span>{' '}
                    <span class={(requestStatus(r) ?? 0) >= 400 ? 'bad' : 'muted'}>{requestStatus(r) ?? ''}</span>{' '}
                    {r.duration_ms !== undefined && <span class="muted">{fmtDurationMs(r.duration_ms)}</span>}{' '}
                    {r.trace_id && (
                      <Link href={href(`/trace/${r.trace_id}`)} data-testid="request-trace-link">
                        backend trace
                      </Link>
                    )}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}

/** The replay and the timeline side by side; the timeline seeks the player. */
function ReplayWithTimeline({ id, d }: { id: string; d: SessionDetail }) {
  const range = useRange();
  const replay = useApi(async (s) => {
    const r = await webApi.replay(id, lookupParams(range), s);
    return { ...(await decodeReplay(r.segments)), expired: r.expired_segments ?? 0 };
  }, [id]);
  const [seek, setSeek] = useState<Seek | undefined>(undefined);
  const [at, setAt] = useState(0);
  const events = replay.data?.events ?? [];
  const startMs = events[0]?.timestamp ?? 0;
  // The item the replay has reached: the last one at or before its position.
  const current = useMemo(() => {
    let idx = -1;
    d.timeline.forEach((it, i) => {
      if (it.time_unix_nano / 1e6 <= startMs + at) idx = i;
    });
    return idx;
  }, [d.timeline, startMs, at]);
  const onSelect = (it: TimelineItem) => setSeek({ ms: replayOffset(events, it.time_unix_nano / 1e6), n: (seek?.n ?? 0) + 1 });
  let player;
  if (replay.error) player = <ErrorBox error={replay.error} what="the replay" />;
  else if (!replay.data) player = <Loading label="Loading the replay…" />;
  else if (!replay.data.playable) player = <div class="state">The replay has no full snapshot of the page, so it cannot be played ({events.length} events).</div>;
  else player = <ReplayPlayer events={events} seek={seek} onTime={setAt} />;
  return (
    <div class="replay-layout">
      <div class="card">
        <div class="card-head">
          <h2>Replay</h2>
          {replay.data && (
            <span class="muted">
              {events.length} events{replay.data.failed ? `, ${replay.data.failed} segments unreadable` : ''}
              {replay.data.expired ? `, ${replay.data.expired} segments past the replay retention` : ''}
            </span>
          )}
        </div>
        {player}
      </div>
      <div class="card replay-timeline">
        <div class="card-head">
          <h2>Timeline</h2>
          <span class="muted">click to play from there</span>
        </div>
        <Timeline items={d.timeline} startNs={d.summary.start_unix_nano} onSelect={replay.data?.playable ? onSelect : undefined} current={current} />
      </div>
    </div>
  );
}

export function WebSessionPage({ id }: { id: string }) {
  const range = useRange();
  const detail = useApi((s) => webApi.session(id, lookupParams(range), s), [id]);
  const crumbs = (
    <>
      <Link href={webHref('/web')}>Web</Link> / <Link href={webHref('/web/sessions')}>Sessions</Link> / <span class="mono">{id}</span>
    </>
  );
  let body;
  if (detail.error instanceof ApiError && detail.error.notFound && !detail.error.routeMissing)
    body = (
      <div class="state" data-testid="session-not-found">
        No browser events of session <code>{id}</code> in the last day (or the selected range). If a backend trace linked here, its
        spans carry the session id but the site sends no browser telemetry: see <Link href={webHref('/web')}>Web</Link> for how to install the SDK.
      </div>
    );
  else if (detail.error) body = <ErrorBox error={detail.error} what="the session" />;
  else if (!detail.data) body = <Loading />;
  else {
    const d = detail.data;
    body = (
      <>
        <Summary d={d} />
        {d.summary.has_replay ? (
          <ReplayWithTimeline id={id} d={d} />
        ) : (
          <div class="card">
            <div class="card-head">
              <h2>Timeline</h2>
              <span class="muted">no replay was recorded for this session</span>
            </div>
            <Timeline items={d.timeline} startNs={d.summary.start_unix_nano} />
          </div>
        )}
        <PageViews views={d.page_views} startNs={d.summary.start_unix_nano} />
        <div class="card" data-testid="session-traces">
          <div class="card-head">
            <h2>Backend traces ({d.trace_ids.length})</h2>
            <span class="muted">traces the session's requests started or joined</span>
          </div>
          {d.trace_ids.length ? (
            <div class="row gap wrap">
              {d.trace_ids.map((t) => (
                <Link href={href(`/trace/${t}`)} class="mono chip" data-testid="session-trace">
                  {t}
                </Link>
              ))}
            </div>
          ) : (
            <div class="muted">none</div>
          )}
        </div>
      </>
    );
  }
  return (
    <Layout title={`Session ${id.length > 20 ? `${id.slice(0, 16)}…` : id}`} crumbs={crumbs}>
      <WebTabs />
      {body}
    </Layout>
  );
}

import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { Empty, ErrorBox, Loading } from '../components/states';
import { api } from '../lib/api';
import { fmtCount } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import { incidentApi, triageParams, type TriageCandidate, type TriageEntryPoint, type TriageReport } from '../lib/incident';
import { href } from '../lib/router';
import { fmtDateTime, fmtTime } from '../lib/time';
import { serviceColor } from '../lib/waterfall';
import '../incident.css';

/** Candidates that get their users and (when triage names none) entry points looked up. */
const DETAILED = 3;

type Window = { from: string; to: string };

function windowOf(r: TriageReport): Window {
  return { from: String(r.window.from_unix_nano), to: String(r.window.to_unix_nano) };
}

function fmtValue(kind: string, v: number | null): string {
  if (v === null) return '';
  if (kind === 'error_rate') return `${(v * 100).toFixed(1)}%`;
  if (kind === 'latency') return `${v.toFixed(1)} ms`;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** Entry points: triage's own, else the root spans of the traces through the service in the window. */
function EntryPoints({ c, win }: { c: TriageCandidate; win: Window }) {
  const derive = c.affected_entry_points.length === 0 && c.instrumented;
  const traces = useApi((s) => api.traces({ ...win, service: c.service, limit: 200 }, s), [c.service, win.from, win.to], derive);
  let entries: TriageEntryPoint[] = c.affected_entry_points;
  if (derive && traces.data) {
    const counts = new Map<string, TriageEntryPoint>();
    for (const t of traces.data.traces) {
      const key = `${t.root_service}\u0000${t.root_name}`;
      const e = counts.get(key) ?? { service: t.root_service, operation: t.root_name, traces: 0 };
      e.traces++;
      counts.set(key, e);
    }
    entries = [...counts.values()].sort((a, b) => b.traces - a.traces).slice(0, 5);
  }
  if (derive && !traces.data && !traces.error) return <span class="muted">looking…</span>;
  if (entries.length === 0) return <span class="muted" data-testid="cause-entry-unknown">not known</span>;
  return (
    <div class="list-links">
      {entries.map((e) => (
        <Link href={href('/traces', { ...win, service: e.service, operation: e.operation })} data-testid="cause-entry">
          <span class="dot" style={{ background: serviceColor(e.service) }} /> {e.service} <span class="muted">{e.operation}</span>
          <span class="right muted">{fmtCount(e.traces)} traces</span>
        </Link>
      ))}
      {derive && <span class="muted small">from the traces through {c.service} in the window (root spans)</span>}
    </div>
  );
}

/** Users and sessions behind the service's traces in the window (`enduser.id`/`user.id`, RUM sessions). */
function Users({ c, win }: { c: TriageCandidate; win: Window }) {
  const blast = useApi((s) => api.blastRadius({ ...win, service: c.service }, s), [c.service, win.from, win.to], c.instrumented);
  if (!c.instrumented || blast.error) return <span class="muted" data-testid="cause-users">not known</span>;
  if (!blast.data) return <span class="muted">looking…</span>;
  const { users, sessions, traces } = blast.data;
  if (users === 0 && sessions === 0) return <span class="muted" data-testid="cause-users">not known (no user or session ids on {fmtCount(traces)} traces)</span>;
  return (
    <span data-testid="cause-users">
      {fmtCount(users)} users, {fmtCount(sessions)} sessions <span class="muted">({fmtCount(traces)} traces)</span>
    </span>
  );
}

function Cause({ c, win, detailed }: { c: TriageCandidate; win: Window; detailed: boolean }) {
  const erroring = c.evidence.some((e) => e.kind === 'error_rate');
  return (
    <div class={`card cause ${c.rank === 1 ? 'top' : ''}`} data-testid="cause" data-rank={c.rank} data-service={c.service}>
      <div class="cause-head">
        <span class="cause-rank">#{c.rank}</span>
        <span class="cause-summary" data-testid="cause-summary">
          {c.summary}
        </span>
        <span class="badge plain">{c.kind}</span>
        <span class="muted small right" title="How strongly the evidence at this component speaks">
          score {c.score.toFixed(2)}
        </span>
      </div>
      <div class="kv">
        <span class="k">Component</span>
        <span>
          {c.instrumented ? (
            <Link href={href(`/service/${encodeURIComponent(c.service)}`, win)} data-testid="cause-service">
              <span class="dot" style={{ background: serviceColor(c.service) }} /> {c.service}
            </Link>
          ) : (
            <span>{c.service} <span class="muted">(not instrumented: seen through its callers)</span></span>
          )}
          {c.operation && <span class="muted"> · {c.operation}</span>}
          {c.instance && <span class="muted"> · instance {c.instance}</span>}
        </span>
        {c.path.length > 1 && (
          <>
            <span class="k">Path</span>
            <span class="mono">{c.path.join(' → ')}</span>
          </>
        )}
        <span class="k">Evidence</span>
        <ul class="evidence" data-testid="cause-evidence">
          {c.evidence.map((e) => (
            <li>
              <span class="badge plain">{e.kind}</span> {e.detail}
              {e.before !== null && e.after !== null && (
                <span class="muted">
                  {' '}
                  ({fmtValue(e.kind, e.before)} → {fmtValue(e.kind, e.after)})
                </span>
              )}
            </li>
          ))}
        </ul>
        {c.log_patterns.length > 0 && (
          <>
            <span class="k">Log patterns</span>
            <div class="list-links">
              {c.log_patterns.map((p) => (
                <Link href={href('/logs', { ...win, service: p.service, template_id: p.template_id })} data-testid="cause-pattern">
                  <span class="mono">{p.template}</span>
                  <span class="right muted">
                    {fmtCount(p.count)} <span title="in the baseline">(before {fmtCount(p.baseline_count)})</span>
                  </span>
                </Link>
              ))}
            </div>
          </>
        )}
        <span class="k">Example traces</span>
        <span class="row gap wrap">
          {c.example_trace_ids.length === 0 ? (
            <span class="muted">none</span>
          ) : (
            c.example_trace_ids.map((id) => (
              <Link href={href(`/trace/${id}`)} class="mono" data-testid="cause-trace">
                {id.slice(0, 16)}…
              </Link>
            ))
          )}
        </span>
        {detailed && (
          <>
            <span class="k">Entry points</span>
            <EntryPoints c={c} win={win} />
            <span class="k">Users</span>
            <Users c={c} win={win} />
          </>
        )}
      </div>
      <div class="row gap wrap">
        {c.instrumented && (
          <Link class="btn" href={href(`/service/${encodeURIComponent(c.service)}`, win)}>
            Service
          </Link>
        )}
        <Link class="btn" href={href('/traces', { ...win, service: c.instrumented ? c.service : undefined, status: erroring ? 'error' : undefined })} data-testid="cause-traces-link">
          Traces
        </Link>
        {c.instrumented && (
          <Link class="btn" href={href('/logs', { ...win, service: c.service, severity: 'WARN' })} data-testid="cause-logs-link">
            Warning logs
          </Link>
        )}
      </div>
    </div>
  );
}

function Anomalies({ report }: { report: TriageReport }) {
  if (report.anomalies.length === 0) return null;
  return (
    <div class="card flush">
      <div class="card-head" style={{ padding: '12px 16px 0' }}>
        <h2>Everything that changed</h2>
        <span class="muted small">against the baseline; "explained by" names the dependency that accounts for it</span>
      </div>
      <div class="table-wrap">
        <table class="table" data-testid="anomalies">
          <thead>
            <tr>
              <th>Component</th>
              <th>Change</th>
              <th>Explained by</th>
              <th class="num">Score</th>
            </tr>
          </thead>
          <tbody>
            {report.anomalies.map((a) => (
              <tr>
                <td>
                  {a.service}
                  {a.operation && <span class="muted"> · {a.operation}</span>}
                </td>
                <td>
                  <span class="badge plain">{a.kind}</span> {a.detail}
                </td>
                <td class="muted">{a.explained_by ?? '—'}</td>
                <td class="num">{a.score.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function TriagePage() {
  const range = useRange();
  const params = triageParams(range);
  const triage = useApi((s) => incidentApi.triage(params, s), [params.from, params.to]);
  let body;
  if (triage.error) body = <ErrorBox error={triage.error} what="triage" />;
  else if (!triage.data) body = <Loading label="Judging the window against its baseline…" />;
  else {
    const r = triage.data;
    const win = windowOf(r);
    body = (
      <div class="section-gap">
        <div class="muted small" data-testid="triage-window">
          Window {fmtDateTime(r.window.from_unix_nano / 1e6)} → {fmtTime(r.window.to_unix_nano / 1e6)} (the last 15 minutes of the range at most) against the baseline{' '}
          {fmtDateTime(r.baseline.from_unix_nano / 1e6)} → {fmtTime(r.baseline.to_unix_nano / 1e6)}; judged in {r.took_ms} ms.
        </div>
        {r.note && <div class="note" data-testid="triage-note">{r.note}</div>}
        {r.candidates.length === 0 ? (
          <Empty title="Nothing stands out">No component changed against its baseline in this window.</Empty>
        ) : (
          r.candidates.map((c) => <Cause c={c} win={win} detailed={c.rank <= DETAILED} key={`${c.rank}-${c.service}`} />)
        )}
        <Anomalies report={r} />
      </div>
    );
  }
  return <Layout title="Triage">{body}</Layout>;
}

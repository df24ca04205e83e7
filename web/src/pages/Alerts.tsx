import { useState } from 'preact/hooks';
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { Empty, ErrorBox, Loading } from '../components/states';
import {
  alertsApi,
  alertsMissing,
  fmtMatcher,
  matchersFor,
  parseMatchers,
  type Alert,
  type AlertEvent,
  type Rule,
  type RuleGroup,
  type Silence,
} from '../lib/alertsapi';
import type { ApiState } from '../lib/hooks';
import { useApi, useRange } from '../lib/hooks';
import { href } from '../lib/router';
import { fmtAgo, fmtDateTime } from '../lib/time';
import '../incident.css';

function Pill({ value }: { value: string }) {
  return <span class={`state-pill ${value}`}>{value}</span>;
}

function Labels({ labels }: { labels: Record<string, string> }) {
  return (
    <span class="row gap wrap">
      {Object.entries(labels).map(([k, v]) => (
        <span class="chip mono">
          {k}={v}
        </span>
      ))}
    </span>
  );
}

/** An endpoint's error: "not configured" for a 404, the server's message otherwise. */
function Failure({ error, what }: { error: Error; what: string }) {
  if (alertsMissing(error))
    return (
      <div class="note" data-testid="alerts-missing">
        Alerts are not configured on this server ({what}: the API answered 404).
      </div>
    );
  return <ErrorBox error={error} what={what} />;
}

function Section<T>({ title, state, children, testid, extra }: { title: string; state: ApiState<T>; children: (d: T) => preact.ComponentChildren; testid: string; extra?: preact.ComponentChildren }) {
  return (
    <div class="card flush" data-testid={testid}>
      <div class="card-head" style={{ padding: '12px 16px 0' }}>
        <h2>{title}</h2>
        {extra}
      </div>
      {state.error ? (
        <div style={{ padding: '0 16px 14px' }}>
          <Failure error={state.error} what={title.toLowerCase()} />
        </div>
      ) : !state.data ? (
        <Loading />
      ) : (
        children(state.data)
      )}
    </div>
  );
}

/** A table with these column heads; `children` are its rows (or tbody elements). */
function Grid({ testid, heads, children }: { testid: string; heads: string[]; children: preact.ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class="table" data-testid={testid}>
        <thead>
          <tr>
            {heads.map((h) => (
              <th class={h === 'Value' ? 'num' : ''}>{h}</th>
            ))}
          </tr>
        </thead>
        {children}
      </table>
    </div>
  );
}

function ActiveAlerts({ alerts, onSilence }: { alerts: Alert[]; onSilence: (a: Alert) => void }) {
  if (alerts.length === 0) return <Empty title="No alert is pending or firing" />;
  return (
    <Grid testid="alerts-table" heads={['State', 'Severity', 'Alert', 'Service', 'Since', 'Value', 'Annotations', '']}>
      <tbody>
        {alerts.map((a) => (
          <tr data-testid="alert-row" data-rule={a.rule} data-state={a.state}>
            <td>
              <Pill value={a.state} /> {a.silenced && <span class="badge plain">silenced</span>}
            </td>
            <td>
              <span class={`badge sev-${a.severity.toLowerCase()}`}>{a.severity}</span>
            </td>
            <td>
              <strong>{a.rule}</strong> <span class="muted">{a.group}</span>
              <div>
                <Labels labels={a.labels} />
              </div>
            </td>
            <td>{a.service ? <Link href={href(`/service/${encodeURIComponent(a.service)}`)}>{a.service}</Link> : '—'}</td>
            <td title={fmtDateTime(a.fired_at_ms ?? a.active_at_ms)}>{fmtAgo(a.fired_at_ms ?? a.active_at_ms)}</td>
            <td class="num mono">{Number.isInteger(a.value) ? a.value : a.value.toFixed(4)}</td>
            <td class="small">
              {Object.entries(a.annotations).map(([k, v]) => (
                <div>
                  <span class="muted">{k}:</span> {v}
                </div>
              ))}
            </td>
            <td>
              <button class="btn" onClick={() => onSilence(a)} data-testid="silence-alert">
                Silence
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </Grid>
  );
}

function fmtSeconds(s: number): string {
  if (!s) return '0s';
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

function RuleRow({ r }: { r: Rule }) {
  return (
    <tr data-testid="rule-row" data-rule={r.name} data-state={r.state}>
      <td>
        <Pill value={r.state} />
      </td>
      <td>
        <strong>{r.name}</strong> <span class="badge plain">{r.kind}</span>
        {Object.keys(r.labels).length > 0 && (
          <div>
            <Labels labels={r.labels} />
          </div>
        )}
      </td>
      <td class="mono small" style={{ maxWidth: '420px', wordBreak: 'break-word' }}>
        {r.expr}
      </td>
      <td class="small">
        {r.thresholds ? (
          <>
            degraded {r.thresholds.degraded ?? '—'} · critical {r.thresholds.critical ?? '—'}
          </>
        ) : (
          '—'
        )}
        <div class="muted">
          for {fmtSeconds(r.for_seconds)}
          {r.keep_firing_for_seconds ? `, keep firing ${fmtSeconds(r.keep_firing_for_seconds)}` : ''}
        </div>
      </td>
      <td class="small">
        <Pill value={r.health} />
        {r.last_error && (
          <div class="bad" data-testid="rule-error">
            {r.last_error}
          </div>
        )}
        <div class="muted">{r.last_evaluation_ms ? `evaluated ${fmtAgo(r.last_evaluation_ms)}` : 'not evaluated yet'}</div>
      </td>
    </tr>
  );
}

function Rules({ groups }: { groups: RuleGroup[] }) {
  if (groups.length === 0) return <Empty title="No rules">Add Prometheus rule files to the rules directory, or POST one to /api/v1/rules.</Empty>;
  return (
    <Grid testid="rules-table" heads={['State', 'Rule', 'Expression', 'Thresholds', 'Health']}>
      {groups.map((g) => (
        <tbody data-testid="rule-group" data-group={g.name}>
          <tr class="group-row">
            <td colSpan={5}>
              <strong>{g.name}</strong>{' '}
              <span class="muted small">
                every {fmtSeconds(g.interval_seconds)}
                {g.file ? ` · ${g.file}` : g.origin === 'builtin' ? ' · built in' : ' · added through the API'}
              </span>
            </td>
          </tr>
          {g.rules.map((r) => (
            <RuleRow r={r} />
          ))}
        </tbody>
      ))}
    </Grid>
  );
}

function History({ events }: { events: AlertEvent[] }) {
  if (events.length === 0) return <Empty title="No state changes in this range" />;
  return (
    <Grid testid="history-table" heads={['At', 'Alert', 'Change', 'Severity', 'Value']}>
      <tbody>
        {events.map((e) => (
          <tr data-testid="history-row">
            <td class="mono small">{fmtDateTime(e.at_ms)}</td>
            <td>
              <strong>{e.rule}</strong> {e.service && <span class="muted">{e.service}</span>}
            </td>
            <td>
              <Pill value={e.from} /> → <Pill value={e.to} />
            </td>
            <td>{e.severity}</td>
            <td class="num mono">{Number.isInteger(e.value) ? e.value : e.value.toFixed(4)}</td>
          </tr>
        ))}
      </tbody>
    </Grid>
  );
}

function Silences({ silences, onExpire }: { silences: Silence[]; onExpire: (s: Silence) => void }) {
  if (silences.length === 0) return <Empty title="No silences" />;
  return (
    <Grid testid="silences-table" heads={['State', 'Matchers', 'From → until', 'By', 'Comment', '']}>
      <tbody>
        {silences.map((s) => (
          <tr data-testid="silence-row" data-id={s.id} data-state={s.state}>
            <td>
              <Pill value={s.state} />
            </td>
            <td class="mono small">{s.matchers.map(fmtMatcher).join(', ')}</td>
            <td class="small">
              {fmtDateTime(s.starts_at_ms)} → {fmtDateTime(s.ends_at_ms)}
            </td>
            <td>{s.created_by}</td>
            <td>{s.comment}</td>
            <td>
              {s.state !== 'expired' && (
                <button class="btn" onClick={() => onExpire(s)} data-testid="expire-silence">
                  Expire
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </Grid>
  );
}

/** A new silence: matchers (one per line), how long, who and why. Admin only. */
function SilenceForm({ initial, onDone, onCancel }: { initial: string; onDone: () => void; onCancel: () => void }) {
  const [matchers, setMatchers] = useState(initial);
  const [hours, setHours] = useState('2');
  const [by, setBy] = useState('');
  const [comment, setComment] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const parsed = parseMatchers(matchers);
    const h = Number(hours);
    if (parsed.bad !== null || parsed.matchers.length === 0) return setError(new Error(parsed.bad ? `not a matcher: ${parsed.bad}` : 'give at least one matcher'));
    if (!(h > 0)) return setError(new Error('the duration must be a positive number of hours'));
    const now = Date.now();
    setBusy(true);
    try {
      await alertsApi.createSilence({ matchers: parsed.matchers, starts_at_ms: now, ends_at_ms: now + h * 3600e3, created_by: by.trim() || 'redscope UI', comment: comment.trim() });
      onDone();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={submit} data-testid="silence-form">
      <h2>New silence</h2>
      <div class="form-grid">
        <label for="sil-matchers">Matchers</label>
        <textarea id="sil-matchers" data-testid="silence-matchers" value={matchers} onInput={(e) => setMatchers((e.target as HTMLTextAreaElement).value)} placeholder="service=payment" />
        <label for="sil-hours">Hours</label>
        <input id="sil-hours" data-testid="silence-hours" value={hours} onInput={(e) => setHours((e.target as HTMLInputElement).value)} style={{ width: '80px' }} />
        <label for="sil-by">Created by</label>
        <input id="sil-by" data-testid="silence-by" value={by} onInput={(e) => setBy((e.target as HTMLInputElement).value)} />
        <label for="sil-comment">Comment</label>
        <input id="sil-comment" data-testid="silence-comment" value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} />
      </div>
      {error && (
        <div class="state error" role="alert" data-testid="silence-error">
          {error.message}
        </div>
      )}
      <div class="row gap" style={{ marginTop: '10px' }}>
        <button class="btn primary" type="submit" disabled={busy} data-testid="silence-submit">
          Create silence
        </button>
        <button class="btn" type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function AlertsPage() {
  const range = useRange();
  const [version, setVersion] = useState(0);
  const [form, setForm] = useState<string | null>(null);
  const [actionError, setActionError] = useState<Error | null>(null);
  const active = useApi((s) => alertsApi.alerts({}, s), [range, version]);
  const rules = useApi((s) => alertsApi.rules(s), [range, version]);
  const history = useApi((s) => alertsApi.history({ start: Math.round(range.fromMs), end: Math.round(range.toMs), limit: 200 }, s), [range, version]);
  const silences = useApi((s) => alertsApi.silences(s), [range, version]);
  const refresh = () => setVersion((v) => v + 1);
  const expire = async (s: Silence) => {
    setActionError(null);
    try {
      await alertsApi.expireSilence(s.id);
      refresh();
    } catch (e) {
      setActionError(e as Error);
    }
  };
  const silenceAlert = (a: Alert) => {
    const labels = { alertname: a.rule, ...a.labels };
    setForm(
      matchersFor(labels)
        .map((m) => `${m.name}=${m.value}`)
        .join('\n'),
    );
  };
  return (
    <Layout
      title="Alerts"
      actions={
        <button class="btn" onClick={() => setForm(form === null ? '' : null)} data-testid="new-silence">
          New silence
        </button>
      }
    >
      <div class="section-gap">
        {actionError && (
          <div class="state error" role="alert" data-testid="action-error">
            {actionError.message}
          </div>
        )}
        {form !== null && (
          <SilenceForm
            initial={form}
            key={form}
            onDone={() => {
              setForm(null);
              refresh();
            }}
            onCancel={() => setForm(null)}
          />
        )}
        <Section title="Active alerts" state={active} testid="alerts-active">
          {(d) => <ActiveAlerts alerts={d.alerts} onSilence={silenceAlert} />}
        </Section>
        <Section title="Rules" state={rules} testid="alerts-rules">
          {(d) => <Rules groups={d.groups} />}
        </Section>
        <Section title="History" state={history} testid="alerts-history" extra={<span class="muted small">state changes in the time range, newest first</span>}>
          {(d) => <History events={d.events} />}
        </Section>
        <Section title="Silences" state={silences} testid="alerts-silences">
          {(d) => <Silences silences={d.silences} onExpire={expire} />}
        </Section>
      </div>
    </Layout>
  );
}

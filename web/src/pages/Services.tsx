import { Sparkline } from '../components/Chart';
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { ErrorBox, Loading, NoTelemetry } from '../components/states';
import { SortableTable, type Column } from '../components/Table';
import { api, type RedPoint, type RedTotal } from '../lib/api';
import { alertsApi, alertsMissing, type Alert } from '../lib/alertsapi';
import { fmtCount, fmtDurationMs, fmtPct, fmtRate } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import {
  alertService,
  fmtPoints,
  fmtRatio,
  incidentApi,
  lastDeploy,
  p95,
  previousRange,
  redChange,
  serviceHealth,
  triageParams,
  troubleSince,
  type Deploy,
  type Health,
  type RedChange,
  type TriageReport,
} from '../lib/incident';
import { href, navigate } from '../lib/router';
import { alignCounts, buckets } from '../lib/series';
import { redParams, servicesStep, timeParams } from '../lib/requests';
import { fmtAgo, fmtTime, type Range } from '../lib/time';
import { serviceColor } from '../lib/waterfall';
import '../incident.css';

interface Row {
  name: string;
  total?: RedTotal;
  points: RedPoint[];
  spans: number;
  logs: number;
  lastSeenMs: number;
  change: RedChange;
  health: Health;
  deploy?: Deploy;
  /** When its newest buckets went bad against its previous period. */
  sinceMs: number | null;
}

/** A change against the previous period, coloured when it is for the worse. */
function Delta({ text, worse, testid }: { text: string; worse: boolean; testid: string }) {
  if (!text) return null;
  return (
    <span class={`delta ${worse ? 'worse' : ''}`} data-testid={testid} title="against the previous period of the same length">
      {text}
    </span>
  );
}

function HealthCell({ r }: { r: Row }) {
  const h = r.health;
  return (
    <div class="health" data-testid="svc-health" data-level={h.level} title={h.reasons.join('; ')}>
      <span class={`health-dot ${h.level}`} aria-label={h.level} />
      {h.firing > 0 && (
        <span class={`badge sev-${h.severity?.toLowerCase()}`} data-testid="svc-alerts">
          {h.firing} {h.severity}
        </span>
      )}
      {h.candidate && (
        <Link href={href('/triage')} class={`badge ${h.candidate.rank === 1 ? 'err' : 'plain'}`} data-testid="svc-triage" onClick={(e) => e.stopPropagation()}>
          {h.candidate.rank === 1 ? 'likely cause' : `triage #${h.candidate.rank}`}
        </Link>
      )}
      {r.deploy && (
        <span class="badge new" data-testid="svc-deploy" title={`${r.deploy.previous_version} → ${r.deploy.version} at ${fmtTime(r.deploy.at_ms)}`}>
          deployed {r.deploy.version} {fmtAgo(r.deploy.at_ms)}
        </span>
      )}
      {h.level !== 'ok' && !h.candidate && h.firing === 0 && <span class="muted small">{h.reasons[0]}</span>}
      {h.level !== 'ok' && r.sinceMs && (
        <span class="muted small" data-testid="svc-since">
          since {fmtTime(r.sinceMs)}
        </span>
      )}
    </div>
  );
}

/** The top triage cause, at the top of the page: what, since when, and a link to the evidence. */
function IncidentBanner({ report, rows, deploys }: { report: TriageReport; rows: Row[]; deploys?: Deploy[] }) {
  const top = report.candidates[0];
  if (!top) return null;
  const row = rows.find((r) => r.name === top.service);
  const deploy = lastDeploy(deploys, top.service);
  const newVersion = top.evidence.some((e) => e.kind === 'new_version');
  const since = newVersion && deploy ? deploy.at_ms : row?.health.level !== 'ok' ? row?.sinceMs : null;
  return (
    <div class="incident-banner" role="alert" data-testid="incident-banner" data-service={top.service}>
      <span class="health-dot critical" />
      <span>
        {top.instrumented ? (
          <Link href={href(`/service/${encodeURIComponent(top.service)}`)} class="strong">
            {top.service}
          </Link>
        ) : (
          <span class="strong">{top.service}</span>
        )}
        : {top.summary.replace(new RegExp(`^${top.service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\s*`), '')}
        {since ? ` since ${fmtTime(since)}` : ''}
      </span>
      <Link href={href('/triage')} class="right" data-testid="banner-triage-link">
        see triage →
      </Link>
    </div>
  );
}

function buildRows(
  range: Range,
  svcs: { name: string; spans: number; logs: number; last_seen_unix_nano: number }[],
  red: { totals: RedTotal[]; series: { service: string; points: RedPoint[] }[] } | undefined,
  prev: { totals: RedTotal[] } | undefined,
  alerts: Alert[],
  triage: TriageReport | undefined,
  deploys: Deploy[] | undefined,
): Row[] {
  return svcs.map((s) => {
    const total = red?.totals.find((t) => t.service === s.name);
    const before = prev?.totals.find((t) => t.service === s.name);
    const points = red?.series.find((x) => x.service === s.name)?.points ?? [];
    const deploy = lastDeploy(deploys, s.name);
    return {
      name: s.name,
      total,
      points,
      spans: s.spans,
      logs: s.logs,
      lastSeenMs: s.last_seen_unix_nano / 1e6,
      change: redChange(total, before),
      health: serviceHealth({ service: s.name, now: total, prev: before, alerts: alerts.filter((a) => alertService(a) === s.name), triage }),
      deploy: deploy && deploy.at_ms >= range.fromMs ? deploy : undefined,
      sinceMs: troubleSince(points, before),
    };
  });
}

export function ServicesPage() {
  const range = useRange();
  const step = servicesStep(range);
  const svcs = useApi((s) => api.services(timeParams(range), s), [range]);
  const red = useApi((s) => api.red(redParams(range, step), s), [range, step]);
  const prev = useApi((s) => api.red(redParams(previousRange(range), step), s), [range, step]);
  const triage = useApi((s) => incidentApi.triage(triageParams(range), s), [range]);
  const alerts = useApi((s) => alertsApi.alerts({ state: 'firing' }, s), [range]);
  const deploys = useApi((s) => incidentApi.deploys(timeParams(range), s), [range]);

  let body;
  if (svcs.error) body = <ErrorBox error={svcs.error} what="services" />;
  else if (!svcs.data) body = <Loading />;
  else if (svcs.data.services.length === 0) body = <NoTelemetry what="services" />;
  else {
    const xs = red.data ? buckets(range.fromMs, range.toMs, red.data.step_ns) : [];
    const firing = (alerts.data?.alerts ?? []).filter((a) => a.state === 'firing' && !a.silenced);
    const rows = buildRows(range, svcs.data.services, red.data, prev.data, firing, triage.data, deploys.data?.deploys);
    const columns: Column<Row>[] = [
      {
        key: 'name',
        label: 'Service',
        sort: (r) => r.name,
        render: (r) => (
          <Link href={href(`/service/${encodeURIComponent(r.name)}`)} class="svc-link" onClick={(e) => e.stopPropagation()}>
            <span class="dot" style={{ background: serviceColor(r.name) }} />
            {r.name}
          </Link>
        ),
      },
      { key: 'health', label: 'Now', sort: (r) => r.health.urgency * 1e4 + Math.min(r.total?.rate_per_s ?? 0, 9999), render: (r) => <HealthCell r={r} />, title: 'Firing alerts, triage findings and deploys' },
      {
        key: 'rate',
        label: 'Requests',
        align: 'right',
        sort: (r) => r.total?.rate_per_s ?? -1,
        render: (r) => (
          <>
            <span data-testid="rate">{fmtRate(r.total?.rate_per_s)}</span>
            <Delta text={fmtRatio(r.change.requests)} worse={(r.change.requests ?? 1) < 0.5} testid="rate-delta" />
          </>
        ),
      },
      {
        key: 'traffic',
        label: 'Traffic',
        render: (r) => <Sparkline values={red.data ? alignCounts(r.points, xs, red.data.step_ns, (p) => p.requests) : []} color={serviceColor(r.name)} testid="traffic-spark" />,
      },
      {
        key: 'errors',
        label: 'Error %',
        align: 'right',
        sort: (r) => r.total?.error_rate ?? -1,
        render: (r) => (
          <>
            <span class={r.total && r.total.error_rate >= 0.05 ? 'bad' : r.total && r.total.error_rate > 0 ? 'warnc' : ''} data-testid="error-rate">
              {fmtPct(r.total?.error_rate)}
            </span>
            <Delta text={fmtPoints(r.change.errorDelta)} worse={(r.change.errorDelta ?? 0) >= 0.02} testid="error-delta" />
          </>
        ),
      },
      {
        key: 'errspark',
        label: 'Errors',
        render: (r) => <Sparkline values={red.data ? alignCounts(r.points, xs, red.data.step_ns, (p) => p.errors) : []} color="var(--red)" testid="errors-spark" />,
      },
      { key: 'p50', label: 'p50', align: 'right', sort: (r) => r.total?.p50_ms ?? -1, render: (r) => fmtDurationMs(r.total?.p50_ms) },
      {
        key: 'p95',
        label: 'p95',
        align: 'right',
        sort: (r) => (r.total ? (p95(r.total) ?? -1) : -1),
        render: (r) => (
          <>
            {fmtDurationMs(r.total ? p95(r.total) : null)}
            <Delta text={fmtRatio(r.change.p95)} worse={(r.change.p95 ?? 1) >= 1.5} testid="p95-delta" />
          </>
        ),
      },
      { key: 'spans', label: 'Spans', align: 'right', sort: (r) => r.spans, render: (r) => fmtCount(r.spans) },
      { key: 'logs', label: 'Logs', align: 'right', sort: (r) => r.logs, render: (r) => fmtCount(r.logs) },
      { key: 'seen', label: 'Last seen', align: 'right', sort: (r) => r.lastSeenMs, render: (r) => <span class="muted">{fmtAgo(r.lastSeenMs)}</span> },
    ];
    body = (
      <>
        {triage.data && <IncidentBanner report={triage.data} rows={rows} deploys={deploys.data?.deploys} />}
        {red.error && <ErrorBox error={red.error} what="RED metrics" />}
        {triage.error && <div class="note" data-testid="triage-unavailable">Triage could not judge this range: {triage.error.message}</div>}
        {alerts.error && !alertsMissing(alerts.error) && <div class="note">Alerts could not be read: {alerts.error.message}</div>}
        <div class="card flush">
          <SortableTable
            rows={rows}
            columns={columns}
            defaultSort="health"
            rowKey={(r) => r.name}
            rowClass={(r) => `health-${r.health.level}`}
            testid="services-table"
            onRowClick={(r) => navigate(href(`/service/${encodeURIComponent(r.name)}`))}
          />
        </div>
        <div class="muted small legend-note">Changes (↑ ↓) are against the previous {Math.round((range.toMs - range.fromMs) / 60e3)} minutes; p95 is the latency compared.</div>
      </>
    );
  }
  return <Layout title="Services">{body}</Layout>;
}

import { useMemo } from 'preact/hooks';
import { Sparkline } from '../components/Chart';
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { LogList, Template } from '../components/LogList';
import { RedCharts, RedChartsPlaceholder } from '../components/RedCharts';
import { Empty, ErrorBox, ErrorOrMissing, Loading } from '../components/states';
import { SortableTable, type Column } from '../components/Table';
import { TraceList } from '../components/TraceList';
import { api, ApiError, type RedPoint, type RedTotal } from '../lib/api';
import { redDashboardPath } from '../lib/dashboards';
import { fmtCount, fmtDurationMs, fmtPct, fmtRate } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import { href, navigate } from '../lib/router';
import { alignCounts, buckets } from '../lib/series';
import { redParams, servicePage, timeParams } from '../lib/requests';
import { serviceColor } from '../lib/waterfall';
import { alignPrevious, fmtPoints, fmtRatio, incidentApi, p95, previousRange, redChange, type Deploy } from '../lib/incident';
import { fmtTime } from '../lib/time';
import type { ChartMarker } from '../components/Chart';
import '../incident.css';

function Stat({ label, value, cls, delta, worse }: { label: string; value: string; cls?: string; delta?: string; worse?: boolean }) {
  return (
    <div class="stat">
      <div class="label">{label}</div>
      <div class={`value ${cls ?? ''}`}>{value}</div>
      {delta && (
        <div class={`delta ${worse ? 'worse' : ''}`} title="against the previous period of the same length" data-testid="stat-delta">
          {delta} <span class="muted">vs previous</span>
        </div>
      )}
    </div>
  );
}

const NO_POINTS: RedPoint[] = [];

/** Deploy markers: each version change of the service, labelled with the new version. */
function deployMarkers(deploys: Deploy[] | undefined): ChartMarker[] | undefined {
  return deploys
    ?.filter((d) => d.previous_version !== null)
    .map((d) => ({ x: d.at_ms / 1000, label: d.version, title: `${d.previous_version} → ${d.version} at ${fmtTime(d.at_ms)}` }));
}

interface OpRow {
  total: RedTotal;
  points: RedPoint[];
}

export function ServicePage({ name }: { name: string }) {
  const range = useRange();
  const { step, errTraces: errParams, blast: blastParams, patterns: patternParams, logs: logParams } = servicePage(name, range);
  const all = useApi((s) => api.red(redParams(range, step), s), [range, step]);
  const ops = useApi((s) => api.red(redParams(range, step, name), s), [range, step, name]);
  // The same-length period before, for the dashed overlay, and the deploys in the range.
  const prev = useApi((s) => api.red(redParams(previousRange(range), step), s), [range, step]);
  const deploys = useApi((s) => incidentApi.deploys({ ...timeParams(range), service: name }, s), [range, name]);
  const map = useApi((s) => api.serviceMap(timeParams(range), s), [range]);
  const errTraces = useApi((s) => api.traces(errParams, s), [range, name]);
  const blast = useApi((s) => api.blastRadius(blastParams, s), [range, name]);
  const patterns = useApi((s) => api.logPatterns(patternParams, s), [range, name]);
  const logs = useApi((s) => api.logs(logParams, s), [range, name]);
  const prevPoints = prev.data?.series.find((x) => x.service === name)?.points;
  const previousPoints = useMemo(
    () => (prev.data ? alignPrevious(prevPoints ?? NO_POINTS, range.toMs - range.fromMs) : undefined),
    [prev.data, prevPoints, range.fromMs, range.toMs],
  );
  const markers = useMemo(() => deployMarkers(deploys.data?.deploys), [deploys.data]);

  // The API answers 404 for a service it has never seen (not for one quiet in this range).
  if (ops.error instanceof ApiError && ops.error.notFound && !ops.error.routeMissing)
    return (
      <Layout title={name} crumbs={<Link href={href('/services')}>Services</Link>}>
        <div class="state empty" data-testid="service-not-found">
          <strong>No service named {name}</strong>
          <div class="muted">
            No span, log record or metric this server holds names it. <Link href={href('/services')}>See all services</Link>
          </div>
        </div>
      </Layout>
    );

  const total = all.data?.totals.find((x) => x.service === name);
  const change = redChange(total, prev.data?.totals.find((x) => x.service === name));
  const series = all.data?.series.find((x) => x.service === name);
  const color = serviceColor(name);
  const xs = ops.data ? buckets(range.fromMs, range.toMs, ops.data.step_ns) : [];
  const opCols: Column<OpRow>[] = [
    { key: 'op', label: 'Operation', sort: (r) => r.total.operation, render: (r) => <span style={{ fontWeight: 550 }}>{r.total.operation || '(all)'}</span> },
    { key: 'rate', label: 'Requests', align: 'right', sort: (r) => r.total.rate_per_s, render: (r) => fmtRate(r.total.rate_per_s) },
    { key: 'traffic', label: 'Traffic', render: (r) => <Sparkline values={alignCounts(r.points, xs, ops.data!.step_ns, (p) => p.requests)} color={color} width={80} /> },
    { key: 'err', label: 'Error %', align: 'right', sort: (r) => r.total.error_rate, render: (r) => <span class={r.total.error_rate >= 0.05 ? 'bad' : r.total.error_rate > 0 ? 'warnc' : ''}>{fmtPct(r.total.error_rate)}</span> },
    { key: 'p50', label: 'p50', align: 'right', sort: (r) => r.total.p50_ms ?? -1, render: (r) => fmtDurationMs(r.total.p50_ms) },
    { key: 'p90', label: 'p90', align: 'right', sort: (r) => r.total.p90_ms ?? -1, render: (r) => fmtDurationMs(r.total.p90_ms) },
    { key: 'p99', label: 'p99', align: 'right', sort: (r) => r.total.p99_ms ?? -1, render: (r) => fmtDurationMs(r.total.p99_ms) },
  ];

  const upstream = map.data?.edges.filter((e) => e.to === name) ?? [];
  const downstream = map.data?.edges.filter((e) => e.from === name) ?? [];
  const nodeKind = (n: string) => map.data?.nodes.find((x) => x.name === n);
  const depLink = (n: string) => {
    const node = nodeKind(n);
    const inner = (
      <>
        <span class="dot" style={{ background: node?.instrumented === false ? 'transparent' : serviceColor(n), border: node?.instrumented === false ? '1.5px dashed var(--muted)' : undefined }} />
        <span>{n}</span>
        {node && node.kind !== 'service' && <span class="badge plain">{node.kind}</span>}
      </>
    );
    return node?.instrumented === false ? <span class="item">{inner}</span> : <Link href={href(`/service/${encodeURIComponent(n)}`)}>{inner}</Link>;
  };

  return (
    <Layout
      title={
        <span class="row gap">
          <span class="dot" style={{ background: color, width: '12px', height: '12px' }} />
          {name}
        </span>
      }
      crumbs={<Link href={href('/services')}>Services</Link>}
      actions={
        <>
          <Link class="btn" href={href('/traces', { service: name })}>
            Traces
          </Link>
          <Link class="btn" href={href('/logs', { service: name })}>
            Logs
          </Link>
          <Link class="btn" href={href(redDashboardPath(name))} data-testid="open-dashboard">
            Open dashboard
          </Link>
        </>
      }
    >
      {all.error && <ErrorBox error={all.error} what="RED metrics" />}
      <div class="stats">
        <Stat label="Requests" value={fmtRate(total?.rate_per_s)} delta={fmtRatio(change.requests)} worse={(change.requests ?? 1) < 0.5} />
        <Stat label="Total requests" value={fmtCount(total?.requests ?? 0)} />
        <Stat label="Error rate" value={fmtPct(total?.error_rate)} cls={total && total.error_rate >= 0.05 ? 'bad' : ''} delta={fmtPoints(change.errorDelta)} worse={(change.errorDelta ?? 0) >= 0.02} />
        <Stat label="p50" value={fmtDurationMs(total?.p50_ms)} />
        <Stat label="p90" value={fmtDurationMs(total?.p90_ms)} />
        <Stat label="p95" value={fmtDurationMs(total ? p95(total) : null)} delta={fmtRatio(change.p95)} worse={(change.p95 ?? 1) >= 1.5} />
        <Stat label="p99" value={fmtDurationMs(total?.p99_ms)} />
      </div>
      {all.data ? (
        <RedCharts points={series?.points ?? NO_POINTS} stepNs={all.data.step_ns} range={range} color={color} previous={previousPoints} markers={markers} />
      ) : (
        !all.error && <RedChartsPlaceholder />
      )}

      <div class="card flush">
        <div class="card-head" style={{ padding: '12px 16px 0' }}>
          <h2>Operations</h2>
          <span class="muted" style={{ fontSize: '12px' }}>click an operation for its traces</span>
        </div>
        {ops.error ? (
          <ErrorBox error={ops.error} what="operations" />
        ) : !ops.data ? (
          <Loading />
        ) : ops.data.totals.length === 0 ? (
          <Empty title="No requests to this service in the range" />
        ) : (
          <SortableTable
            rows={ops.data.totals.map((tot) => ({ total: tot, points: ops.data!.series.find((s) => s.operation === tot.operation)?.points ?? [] }))}
            columns={opCols}
            defaultSort="rate"
            sortParam="opsort"
            rowKey={(r) => r.total.operation}
            onRowClick={(r) => navigate(href('/traces', { service: name, operation: r.total.operation }))}
          />
        )}
      </div>

      <div class="grid3">
        <div class="card" data-testid="svc-upstream">
          <h2>Upstream (callers)</h2>
          {map.error ? (
            <ErrorBox error={map.error} what="service map" />
          ) : !map.data ? (
            <Loading />
          ) : upstream.length === 0 ? (
            <div class="muted">No callers seen — this is an entry point.</div>
          ) : (
            <div class="list-links">
              {upstream.map((e) => (
                <div class="row gap" data-testid="dep" data-name={e.from}>
                  {depLink(e.from)}
                  <span class="right muted mono">
                    {fmtRate(e.rate_per_s)} · {fmtDurationMs(e.p50_ms)}
                  </span>
                </div>
              ))}
            </div>
          )}
        </div>
        <div class="card" data-testid="svc-downstream">
          <h2>Downstream (dependencies)</h2>
          {map.error ? (
            <ErrorBox error={map.error} what="service map" />
          ) : !map.data ? (
            <Loading />
          ) : downstream.length === 0 ? (
            <div class="muted">No outgoing calls seen.</div>
          ) : (
            <div class="list-links">
              {downstream.map((e) => (
                <div class="row gap" data-testid="dep" data-name={e.to}>
                  {depLink(e.to)}
                  <span class="right muted mono">
                    {fmtRate(e.rate_per_s)} · {fmtDurationMs(e.p50_ms)}
                    {e.errors > 0 && <span class="bad"> · {fmtPct(e.error_rate)}</span>}
                  </span>
                </div>
              ))}
            </div>
          )}
        </div>
        <div class="card" data-testid="svc-blast">
          <h2>Blast radius</h2>
          {blast.error ? (
            <ErrorOrMissing error={blast.error} feature="Blast radius" route="/api/v1/blast-radius" />
          ) : !blast.data ? (
            <Loading />
          ) : (
            <div class="list-links">
              <div class="row gap wrap">
                <span class="chip" data-testid="blast-traces">{fmtCount(blast.data.traces)} traces</span>
                <span class="chip" data-testid="blast-users">{fmtCount(blast.data.users)} users</span>
                <span class="chip">{fmtCount(blast.data.sessions)} sessions</span>
              </div>
              <h3 style={{ marginTop: '8px' }}>Entry points</h3>
              {blast.data.entry_points.map((e) => (
                <Link href={href('/traces', { service: e.service, operation: e.operation })} data-testid="blast-entry">
                  <span class="dot" style={{ background: serviceColor(e.service) }} /> {e.service} <span class="muted">{e.operation}</span>
                  <span class="right muted">{fmtCount(e.traces)}</span>
                </Link>
              ))}
              {blast.data.upstream_services.length > 0 && <div class="muted">Upstream: {blast.data.upstream_services.join(', ')}</div>}
            </div>
          )}
        </div>
      </div>

      <div class="card flush" data-testid="svc-error-traces">
        <div class="card-head" style={{ padding: '12px 16px 0' }}>
          <h2>Recent error traces</h2>
          <Link class="right" href={href('/traces', { service: name, status: 'error' })} style={{ marginRight: '4px' }}>
            All error traces →
          </Link>
        </div>
        {errTraces.error ? (
          <ErrorBox error={errTraces.error} what="traces" />
        ) : !errTraces.data ? (
          <Loading />
        ) : errTraces.data.traces.length === 0 ? (
          <div class="muted" style={{ padding: '4px 16px 14px' }}>
            No failed traces through {name} in this range.
          </div>
        ) : (
          <TraceList traces={errTraces.data.traces} compact />
        )}
      </div>

      <div class="card flush" data-testid="svc-patterns">
        <div class="card-head" style={{ padding: '12px 16px 0' }}>
          <h2>Log patterns</h2>
          <Link class="right" href={href('/logs', { service: name, tab: 'patterns' })} style={{ marginRight: '4px' }}>
            All patterns →
          </Link>
        </div>
        <div style={{ padding: '0 16px 12px' }}>
          {patterns.error ? (
            <ErrorOrMissing error={patterns.error} feature="Log patterns" route="/api/v1/logs/patterns" />
          ) : !patterns.data ? (
            <Loading />
          ) : patterns.data.patterns.length === 0 ? (
            <div class="muted">No patterns learned for this service in the range.</div>
          ) : (
            <table class="table">
              <tbody>
                {patterns.data.patterns.slice(0, 8).map((p) => (
                  <tr class="clickable" onClick={() => navigate(href('/logs', { service: name, template_id: String(p.template_id) }))} data-testid="pattern-row" data-template-id={String(p.template_id)}>
                    <td class="num" style={{ width: '70px' }}>
                      {fmtCount(p.count)}
                    </td>
                    <td>
                      <Template text={p.template} /> {p.is_new && <span class="badge new">NEW</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>

      <div class="card flush" data-testid="svc-logs">
        <div class="card-head" style={{ padding: '12px 16px 0' }}>
          <h2>Recent logs</h2>
          <Link class="right" href={href('/logs', { service: name })} style={{ marginRight: '4px' }}>
            Search logs →
          </Link>
        </div>
        {logs.error ? (
          <ErrorBox error={logs.error} what="logs" />
        ) : !logs.data ? (
          <Loading />
        ) : logs.data.records.length === 0 ? (
          <div class="muted" style={{ padding: '4px 16px 14px' }}>
            No logs from {name} in this range.
          </div>
        ) : (
          <LogList records={logs.data.records} showService={false} />
        )}
      </div>
    </Layout>
  );
}

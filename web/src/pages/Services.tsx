import { Sparkline } from '../components/Chart';
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { ErrorBox, Loading, NoTelemetry } from '../components/states';
import { SortableTable, type Column } from '../components/Table';
import { api, type RedPoint, type RedTotal } from '../lib/api';
import { fmtCount, fmtDurationMs, fmtPct, fmtRate } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import { href, navigate } from '../lib/router';
import { alignCounts, buckets } from '../lib/series';
import { redParams, servicesStep, timeParams } from '../lib/requests';
import { fmtAgo } from '../lib/time';
import { serviceColor } from '../lib/waterfall';

interface Row {
  name: string;
  total?: RedTotal;
  points: RedPoint[];
  spans: number;
  logs: number;
  lastSeenMs: number;
}

export function ServicesPage() {
  const range = useRange();
  const step = servicesStep(range);
  const svcs = useApi((s) => api.services(timeParams(range), s), [range]);
  const red = useApi((s) => api.red(redParams(range, step), s), [range, step]);

  let body;
  if (svcs.error) body = <ErrorBox error={svcs.error} what="services" />;
  else if (!svcs.data) body = <Loading />;
  else if (svcs.data.services.length === 0) body = <NoTelemetry what="services" />;
  else {
    const xs = red.data ? buckets(range.fromMs, range.toMs, red.data.step_ns) : [];
    const rows: Row[] = svcs.data.services.map((s) => ({
      name: s.name,
      total: red.data?.totals.find((t) => t.service === s.name),
      points: red.data?.series.find((x) => x.service === s.name)?.points ?? [],
      spans: s.spans,
      logs: s.logs,
      lastSeenMs: s.last_seen_unix_nano / 1e6,
    }));
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
      { key: 'rate', label: 'Requests', align: 'right', sort: (r) => r.total?.rate_per_s ?? -1, render: (r) => <span data-testid="rate">{fmtRate(r.total?.rate_per_s)}</span> },
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
        render: (r) => <span class={r.total && r.total.error_rate >= 0.05 ? 'bad' : r.total && r.total.error_rate > 0 ? 'warnc' : ''} data-testid="error-rate">{fmtPct(r.total?.error_rate)}</span>,
      },
      {
        key: 'errspark',
        label: 'Errors',
        render: (r) => <Sparkline values={red.data ? alignCounts(r.points, xs, red.data.step_ns, (p) => p.errors) : []} color="var(--red)" testid="errors-spark" />,
      },
      { key: 'p50', label: 'p50', align: 'right', sort: (r) => r.total?.p50_ms ?? -1, render: (r) => fmtDurationMs(r.total?.p50_ms) },
      { key: 'p99', label: 'p99', align: 'right', sort: (r) => r.total?.p99_ms ?? -1, render: (r) => fmtDurationMs(r.total?.p99_ms) },
      { key: 'spans', label: 'Spans', align: 'right', sort: (r) => r.spans, render: (r) => fmtCount(r.spans) },
      { key: 'logs', label: 'Logs', align: 'right', sort: (r) => r.logs, render: (r) => fmtCount(r.logs) },
      { key: 'seen', label: 'Last seen', align: 'right', sort: (r) => r.lastSeenMs, render: (r) => <span class="muted">{fmtAgo(r.lastSeenMs)}</span> },
    ];
    body = (
      <>
        {red.error && <ErrorBox error={red.error} what="RED metrics" />}
        <div class="card flush">
          <SortableTable
            rows={rows}
            columns={columns}
            defaultSort="rate"
            rowKey={(r) => r.name}
            testid="services-table"
            onRowClick={(r) => navigate(href(`/service/${encodeURIComponent(r.name)}`))}
          />
        </div>
      </>
    );
  }
  return <Layout title="Services">{body}</Layout>;
}

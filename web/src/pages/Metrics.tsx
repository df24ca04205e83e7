import { Chart, ChartPlaceholder } from '../components/Chart';
import { Layout } from '../components/Layout';
import { Empty, ErrorBox, Loading, NoTelemetry } from '../components/states';
import { api } from '../lib/api';
import { fmtUnit } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import { setParams, useLocation } from '../lib/router';
import { timeParams } from '../lib/requests';
import { pickStepSeconds } from '../lib/time';

const AGGS = ['avg', 'sum', 'min', 'max', 'rate', 'p50', 'p90', 'p95', 'p99'];
const COLORS = ['#2f6fed', '#e5484d', '#10b981', '#d98a00', '#8b5cf6', '#ec4899', '#06b6d4', '#84cc16', '#f97316', '#6366f1', '#14b8a6', '#a855f7'];

const CHART_HEIGHT = 320;
const chartTitle = (agg: string, name: string, groupBy: string, unit?: string) => `${agg}(${name})${groupBy ? ` by ${groupBy}` : ''}${unit ? ` — ${unit}` : ''}`;

export function MetricsPage() {
  const range = useRange();
  const { query } = useLocation();
  const list = useApi((s) => api.metrics(timeParams(range), s), [range]);
  const metrics = list.data?.metrics ?? [];
  const name = query.get('metric') || metrics[0]?.name || '';
  const info = metrics.find((m) => m.name === name);
  const defaultAgg = info?.type === 'histogram' ? 'p90' : info?.type === 'sum' ? 'rate' : 'avg';
  const agg = query.get('agg') || defaultAgg;
  // No parameter: by service; `group_by=none`: one series (an emptied field would otherwise
  // drop the parameter and fall back to the default).
  const groupParam = query.get('group_by') ?? 'service.name';
  const groupBy = groupParam === 'none' ? '' : groupParam;
  const step = pickStepSeconds(range, 90);
  const res = useApi(
    (s) => api.metricQuery({ name, agg, group_by: groupBy, step: `${step}s`, from: range.fromNs, to: range.toNs }, s),
    [name, agg, groupBy, range, step],
    // Without an explicit aggregation the default depends on the metric's type: wait for the
    // list rather than query with a guess and then again.
    !!name && (!!query.get('agg') || !!info),
  );

  let chart = null;
  if (res.error) chart = <ErrorBox error={res.error} what="the metric" />;
  else if (name && !res.data)
    chart = (
      // at the chart's size, so that the table below does not move when the chart comes
      <div class="card">
        <ChartPlaceholder title={chartTitle(agg, name, groupBy, info?.unit)} height={CHART_HEIGHT}>
          <Loading />
        </ChartPlaceholder>
      </div>
    );
  else if (res.data) {
    const series = res.data.series;
    if (!series.length) chart = <Empty title="No points for this metric in the range" />;
    else {
      const xsSet = new Set<number>();
      for (const s of series) for (const p of s.points) xsSet.add(p[0]);
      const xsNs = [...xsSet].sort((a, b) => a - b);
      const index = new Map(xsNs.map((x, i) => [x, i]));
      const data: (number | null)[][] = [xsNs.map((x) => x / 1e9)];
      for (const s of series) {
        const col: (number | null)[] = xsNs.map(() => null);
        for (const [t, v] of s.points) col[index.get(t)!] = v;
        data.push(col);
      }
      const label = (l: Record<string, string>) => Object.entries(l).map(([k, v]) => (Object.keys(l).length === 1 ? v : `${k}=${v}`)).join(', ') || res.data!.name;
      chart = (
        <div class="card" data-testid="metric-chart">
          <Chart
            title={chartTitle(agg, res.data.name, groupBy, res.data.unit)}
            data={data}
            series={series.map((s, i) => ({ label: label(s.labels), color: COLORS[i % COLORS.length], points: xsNs.length < 3 }))}
            height={CHART_HEIGHT}
            fmt={(v) => fmtUnit(v, agg === 'rate' ? '' : res.data!.unit)}
            xRange={[range.fromMs / 1000, range.toMs / 1000]}
            onSelectRange={(a, b) => setParams({ from: new Date(a).toISOString(), to: new Date(b).toISOString() })}
          />
        </div>
      );
    }
  }

  return (
    <Layout title="Metrics">
      {list.error ? (
        <ErrorBox error={list.error} what="metrics" />
      ) : !list.data ? (
        <Loading />
      ) : metrics.length === 0 ? (
        <NoTelemetry what="metrics" />
      ) : (
        <>
          <div class="card">
            <div class="filters">
              <label class="field">
                Metric
                <select value={name} onChange={(e) => setParams({ metric: (e.target as HTMLSelectElement).value, agg: null }, false)} data-testid="metric-select" style={{ minWidth: '260px' }}>
                  {metrics.map((m) => (
                    <option value={m.name}>
                      {m.name} ({m.type})
                    </option>
                  ))}
                </select>
              </label>
              <label class="field">
                Aggregation
                <select value={agg} onChange={(e) => setParams({ agg: (e.target as HTMLSelectElement).value })} data-testid="metric-agg">
                  {AGGS.map((a) => (
                    <option value={a}>{a}</option>
                  ))}
                </select>
              </label>
              <label class="field">
                Group by
                <input
                  list="group-keys"
                  data-testid="metric-group-by"
                  value={groupBy}
                  placeholder="none"
                  onChange={(e) => setParams({ group_by: (e.target as HTMLInputElement).value.trim() || 'none' })}
                  style={{ minWidth: '220px' }}
                />
                <datalist id="group-keys">
                  {['service.name', 'host.name', 'service.instance.id', 'http.route', 'http.request.method', 'http.response.status_code', 'service.name,http.route'].map((k) => (
                    <option value={k} />
                  ))}
                </datalist>
              </label>
            </div>
            {info && (
              <div class="muted" style={{ marginTop: '10px', fontSize: '13px' }}>
                {info.description || 'No description.'} · type <strong>{info.type}</strong> · unit <code>{info.unit || '—'}</code> · from {info.services.join(', ')}
              </div>
            )}
          </div>
          {chart}
          <div class="card flush">
            <table class="table">
              <thead>
                <tr>
                  <th>Metric</th>
                  <th>Type</th>
                  <th>Unit</th>
                  <th>Services</th>
                  <th class="num">Points</th>
                </tr>
              </thead>
              <tbody>
                {metrics.map((m) => (
                  <tr class={`clickable`} onClick={() => setParams({ metric: m.name, agg: null })} style={m.name === name ? { background: 'var(--accent-soft)' } : undefined}>
                    <td class="mono">{m.name}</td>
                    <td>{m.type}</td>
                    <td class="mono">{m.unit}</td>
                    <td class="muted">{m.services.join(', ')}</td>
                    <td class="num">{m.points}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Layout>
  );
}

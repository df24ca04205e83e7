import type { RedPoint } from '../lib/api';
import { fmtCount, fmtDurationMs } from '../lib/format';
import { setParams } from '../lib/router';
import { alignCounts, alignRed, buckets } from '../lib/series';
import type { Range } from '../lib/time';
import { Chart } from './Chart';

/** Requests/errors and latency percentiles over time; drag on a chart to zoom the time range. */
export function RedCharts({ points, stepNs, range, color }: { points: RedPoint[]; stepNs: number; range: Range; color: string }) {
  const xs = buckets(range.fromMs, range.toMs, stepNs);
  const zoom = (a: number, b: number) => setParams({ from: new Date(a).toISOString(), to: new Date(b).toISOString() });
  const xRange: [number, number] = [range.fromMs / 1000, range.toMs / 1000];
  return (
    <div class="grid2">
      <div class="card">
        <Chart
          title="Requests and errors per bucket"
          data={[xs, alignCounts(points, xs, stepNs, (p) => p.requests - p.errors), alignCounts(points, xs, stepNs, (p) => p.errors)]}
          series={[
            { label: 'ok', color, bars: true },
            { label: 'errors', color: '#e5484d', bars: true },
          ]}
          fmt={(v) => fmtCount(v)}
          onSelectRange={zoom}
          xRange={xRange}
        />
      </div>
      <div class="card">
        <Chart
          title="Latency"
          data={[xs, alignRed(points, xs, stepNs, (p) => p.p50_ms), alignRed(points, xs, stepNs, (p) => p.p90_ms), alignRed(points, xs, stepNs, (p) => p.p99_ms)]}
          series={[
            { label: 'p50', color: '#2f6fed' },
            { label: 'p90', color: '#d98a00' },
            { label: 'p99', color: '#e5484d' },
          ]}
          fmt={fmtDurationMs}
          onSelectRange={zoom}
          xRange={xRange}
        />
      </div>
    </div>
  );
}

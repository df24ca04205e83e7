import { useMemo } from 'preact/hooks';
import type { RedPoint } from '../lib/api';
import { fmtCount, fmtDurationMs } from '../lib/format';
import { setParams } from '../lib/router';
import { alignRed, buckets, redCountBars } from '../lib/series';
import type { Range } from '../lib/time';
import { Chart, ChartPlaceholder } from './Chart';

const TITLES = ['Requests and errors per bucket', 'Latency'];

/** The two cards of RedCharts, empty, at their size (while the data loads). */
export function RedChartsPlaceholder() {
  return (
    <div class="grid2">
      {TITLES.map((t) => (
        <div class="card">
          <ChartPlaceholder title={t} />
        </div>
      ))}
    </div>
  );
}

/** Requests/errors and latency percentiles over time; drag on a chart to zoom the time range. */
export function RedCharts({ points, stepNs, range, color }: { points: RedPoint[]; stepNs: number; range: Range; color: string }) {
  // The same arrays on re-renders caused by the page's other requests: no chart redraw for them.
  const [counts, latency] = useMemo(() => {
    const xs = buckets(range.fromMs, range.toMs, stepNs);
    return [
      redCountBars(points, xs, stepNs),
      [xs, alignRed(points, xs, stepNs, (p) => p.p50_ms), alignRed(points, xs, stepNs, (p) => p.p90_ms), alignRed(points, xs, stepNs, (p) => p.p99_ms)],
    ];
  }, [points, stepNs, range.fromMs, range.toMs]);
  const zoom = (a: number, b: number) => setParams({ from: new Date(a).toISOString(), to: new Date(b).toISOString() });
  const xRange: [number, number] = [range.fromMs / 1000, range.toMs / 1000];
  return (
    <div class="grid2">
      <div class="card">
        <Chart
          title={TITLES[0]}
          data={counts}
          series={[
            { label: 'requests', color, bars: true },
            { label: 'errors', color: '#e5484d', bars: true },
          ]}
          fmt={(v) => fmtCount(v)}
          onSelectRange={zoom}
          xRange={xRange}
        />
      </div>
      <div class="card">
        <Chart
          title={TITLES[1]}
          data={latency}
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

import { useMemo } from 'preact/hooks';
import type { RedPoint } from '../lib/api';
import { fmtCount, fmtDurationMs } from '../lib/format';
import { setParams } from '../lib/router';
import { alignRed, buckets, redCountBars } from '../lib/series';
import type { Range } from '../lib/time';
import { Chart, ChartPlaceholder, type ChartMarker, type ChartSeries } from './Chart';

const TITLES = ['Requests and errors per bucket', 'Latency'];
const PREVIOUS = '#8b95a3';

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

/**
 * Requests/errors and latency percentiles over time; drag on a chart to zoom the time range.
 * `previous`: the previous period's points, already moved onto this range (drawn dashed);
 * `markers`: vertical lines such as deploys.
 */
export function RedCharts({ points, stepNs, range, color, previous, markers }: { points: RedPoint[]; stepNs: number; range: Range; color: string; previous?: RedPoint[]; markers?: ChartMarker[] }) {
  // The same arrays on re-renders caused by the page's other requests: no chart redraw for them.
  const [counts, latency, prevShown] = useMemo(() => {
    const xs = buckets(range.fromMs, range.toMs, stepNs);
    const c: (number | null)[][] = redCountBars(points, xs, stepNs);
    const l = [xs, alignRed(points, xs, stepNs, (p) => p.p50_ms), alignRed(points, xs, stepNs, (p) => p.p90_ms), alignRed(points, xs, stepNs, (p) => p.p99_ms)];
    let shown = 0;
    if (previous) {
      const prevRequests = alignRed(previous, xs, stepNs, (p) => p.requests);
      c.push(prevRequests);
      l.push(alignRed(previous, xs, stepNs, (p) => p.p99_ms));
      shown = prevRequests.filter((v) => v !== null).length;
    }
    return [c, l, shown];
  }, [points, previous, stepNs, range.fromMs, range.toMs]);
  const zoom = (a: number, b: number) => setParams({ from: new Date(a).toISOString(), to: new Date(b).toISOString() });
  const xRange: [number, number] = [range.fromMs / 1000, range.toMs / 1000];
  const prevCount: ChartSeries[] = previous ? [{ label: 'requests, previous period', color: PREVIOUS, dash: [5, 4] }] : [];
  const prevLatency: ChartSeries[] = previous ? [{ label: 'p99, previous period', color: PREVIOUS, dash: [5, 4] }] : [];
  return (
    <div class="grid2" data-testid="red-charts" data-previous-points={previous ? prevShown : undefined} data-markers={markers?.length ?? 0}>
      <div class="card">
        <Chart
          title={TITLES[0]}
          data={counts}
          series={[{ label: 'requests', color, bars: true }, { label: 'errors', color: '#e5484d', bars: true }, ...prevCount]}
          fmt={(v) => fmtCount(v)}
          onSelectRange={zoom}
          xRange={xRange}
          markers={markers}
        />
      </div>
      <div class="card">
        <Chart
          title={TITLES[1]}
          data={latency}
          series={[{ label: 'p50', color: '#2f6fed' }, { label: 'p90', color: '#d98a00' }, { label: 'p99', color: '#e5484d' }, ...prevLatency]}
          fmt={fmtDurationMs}
          onSelectRange={zoom}
          xRange={xRange}
          markers={markers}
        />
      </div>
    </div>
  );
}

// A Perses TimeSeriesChart: the series of the panel's PromQL queries as SVG lines over the
// dashboard's range, a y axis, and a legend with each series' last value.
import type { Range } from '../../lib/time';
import { fmtTime } from '../../lib/time';
import { formatValue, type Series } from '../../lib/dashboards';

export const PALETTE = ['#2f6fed', '#e5484d', '#2e9d5b', '#d98a00', '#8e4ec6', '#0894b3', '#d6409f', '#7c8a9b'];

const W = 1000;
const H = 300;

/** An SVG path of the points, broken where more than `gap` seconds have no point. */
function linePath(points: [number, number][], x: (t: number) => number, y: (v: number) => number, gap: number): string {
  let d = '';
  let prev: number | null = null;
  for (const [t, v] of points) {
    const move = prev === null || t - prev > gap;
    d += `${move ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
    prev = t;
  }
  return d;
}

export function TimeSeriesPanel({ series, range, unit, step }: { series: Series[]; range: Range; unit?: string; step: number }) {
  const values = series.flatMap((s) => s.points.map((p) => p[1]));
  if (!values.length) return <div class="dash-unsupported" data-testid="panel-no-data">no data in this range</div>;
  const max = Math.max(...values, 0);
  const min = Math.min(...values, 0);
  const top = max > min ? max + (max - min) * 0.08 : min + 1;
  const [t0, t1] = [range.fromMs / 1000, range.toMs / 1000];
  const x = (t: number) => ((t - t0) / Math.max(1, t1 - t0)) * W;
  const y = (v: number) => H - ((v - min) / (top - min)) * H;
  return (
    <>
      <div class="dash-ts">
        <div class="dash-ts-axis">
          <span>{formatValue(top, unit)}</span>
          <span>{formatValue((top + min) / 2, unit)}</span>
          <span>{formatValue(min, unit)}</span>
        </div>
        <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label="time series" data-testid="ts-chart">
          {series.map((s, i) => (
            <path d={linePath(s.points, x, y, step * 2.5)} fill="none" stroke={PALETTE[i % PALETTE.length]} stroke-width="1.6" vector-effect="non-scaling-stroke" data-testid="ts-path" data-series={s.name}>
              <title>{s.name}</title>
            </path>
          ))}
        </svg>
      </div>
      <div class="dash-legend">
        <span>
          {fmtTime(range.fromMs)} – {fmtTime(range.toMs)}
        </span>
        {series.slice(0, 12).map((s, i) => (
          <span data-testid="ts-legend">
            <span class="dot" style={{ background: PALETTE[i % PALETTE.length] }} />
            {s.name} <strong>{formatValue(s.points[s.points.length - 1]?.[1], unit)}</strong>
          </span>
        ))}
        {series.length > 12 && <span>+{series.length - 12} more</span>}
      </div>
    </>
  );
}

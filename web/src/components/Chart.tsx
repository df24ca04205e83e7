// uPlot wrapper: time series with theme-aware colours; resizes with its container.
import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useThemeIsDark } from '../lib/hooks';

export interface ChartSeries {
  label: string;
  color: string;
  /** bars instead of lines */
  bars?: boolean;
  points?: boolean;
  fill?: boolean;
  dash?: number[];
}

export interface ChartProps {
  /** x in unix seconds, then one array per series. */
  data: (number | null)[][];
  series: ChartSeries[];
  height?: number;
  fmt?: (v: number) => string;
  stacked?: boolean;
  onSelectRange?: (fromMs: number, toMs: number) => void;
  onPointClick?: (seriesIdx: number, dataIdx: number) => void;
  xRange?: [number, number];
  title?: string;
  /** draw only dots (scatter). */
  scatter?: boolean;
  /** Vertical markers (e.g. deploys): x in unix seconds, a short label. */
  markers?: ChartMarker[];
}

export interface ChartMarker {
  x: number;
  label: string;
  title?: string;
}

/** Draws `markers` as dashed vertical lines with labels over the plot (DOM, so they can be read). */
function placeMarkers(u: uPlot, markers: ChartMarker[] | undefined) {
  for (const el of [...u.over.querySelectorAll('.deploy-marker')]) el.remove();
  const [min, max] = [u.scales.x.min ?? -Infinity, u.scales.x.max ?? Infinity];
  for (const m of markers ?? []) {
    if (m.x < min || m.x > max) continue;
    const line = document.createElement('div');
    line.className = 'deploy-marker';
    line.dataset.testid = 'deploy-marker';
    line.style.left = `${u.valToPos(m.x, 'x')}px`;
    line.title = m.title ?? m.label;
    const label = document.createElement('span');
    label.textContent = m.label;
    line.appendChild(label);
    u.over.appendChild(line);
  }
}

function cssVar(name: string) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function Chart(props: ChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The data last handed to uPlot: a redraw is a full canvas repaint, so only new data gets one.
  const drawn = useRef<ChartProps['data'] | null>(null);
  const dark = useThemeIsDark();
  const propsRef = useRef(props);
  propsRef.current = props;
  const shape = props.series.map((s) => `${s.label}:${s.color}:${s.bars}`).join('|');

  // Layout effects: the plot is built and drawn before the browser paints the render that brought
  // its data, so the same frame shows it (a plain effect would cost another frame).
  useLayoutEffect(() => {
    const el = ref.current!;
    const axisColor = cssVar('--muted') || '#888';
    const gridColor = cssVar('--grid') || 'rgba(128,128,128,.15)';
    const fmt = props.fmt ?? ((v: number) => String(v));
    const bars = uPlot.paths.bars!({ size: [0.8, 40], gap: 1 });
    const opts: uPlot.Options = {
      width: Math.max(100, el.clientWidth),
      height: props.height ?? 180,
      padding: [8, 8, 0, 0],
      cursor: { drag: { x: !!props.onSelectRange, y: false, setScale: false }, points: { size: 6 } },
      legend: { show: true, live: true },
      scales: {
        x: { time: true, ...(props.xRange ? { range: () => props.xRange! } : {}) },
        y: { range: (_u, min, max) => [Math.min(0, min ?? 0), max > 0 ? max * 1.08 : 1] },
      },
      axes: [
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } },
        {
          stroke: axisColor,
          grid: { stroke: gridColor, width: 1 },
          ticks: { stroke: gridColor },
          size: 64,
          values: (_u, vals) => vals.map((v) => (v === null ? '' : fmt(v))),
        },
      ],
      series: [
        {},
        ...props.series.map<uPlot.Series>((s) => ({
          label: s.label,
          stroke: s.color,
          width: props.scatter ? 0 : 1.6,
          fill: s.bars ? s.color + 'cc' : s.fill ? s.color + '22' : undefined,
          dash: s.dash,
          paths: s.bars ? bars : props.scatter ? () => null : undefined,
          points: props.scatter
            ? { show: true, size: 7, stroke: s.color, fill: s.color + '99', width: 1 }
            : { show: s.points ?? false },
          spanGaps: false,
          value: (_u, v) => (v === null || v === undefined ? '—' : fmt(v)),
        })),
      ],
      hooks: {
        draw: [(u) => placeMarkers(u, propsRef.current.markers)],
        setSelect: [
          (u) => {
            const cb = propsRef.current.onSelectRange;
            if (!cb || u.select.width < 4) return;
            const a = u.posToVal(u.select.left, 'x');
            const b = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
            cb(a * 1000, b * 1000);
          },
        ],
      },
    };
    const u = new uPlot(opts, props.data as uPlot.AlignedData, el);
    plot.current = u;
    drawn.current = props.data;
    const onClick = () => {
      const cb = propsRef.current.onPointClick;
      if (!cb) return;
      const idx = u.cursor.idx;
      if (idx === null || idx === undefined) return;
      // Closest series at the cursor (for scatter).
      let best = -1;
      let bestD = Infinity;
      const top = u.cursor.top ?? 0;
      for (let si = 1; si < u.series.length; si++) {
        const v = (u.data[si] as (number | null)[])[idx];
        if (v === null || v === undefined) continue;
        const d = Math.abs(u.valToPos(v, 'y') - top);
        if (d < bestD) {
          bestD = d;
          best = si;
        }
      }
      if (best > 0 && bestD < 20) cb(best - 1, idx);
    };
    u.over.addEventListener('click', onClick);
    const ro = new ResizeObserver(() => {
      const w = el.clientWidth;
      if (w > 0 && Math.abs(w - u.width) > 1) u.setSize({ width: w, height: props.height ?? 180 });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, dark, props.height, props.xRange?.[0], props.xRange?.[1]]);

  useLayoutEffect(() => {
    if (!plot.current || drawn.current === props.data) return;
    drawn.current = props.data;
    plot.current.setData(props.data as uPlot.AlignedData);
  }, [props.data]);

  const markerKey = (props.markers ?? []).map((m) => `${m.x}:${m.label}`).join('|');
  useLayoutEffect(() => {
    if (plot.current) placeMarkers(plot.current, props.markers);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [markerKey]);

  return (
    <div class="chart">
      {props.title && <div class="chart-title">{props.title}</div>}
      <div ref={ref} class="chart-canvas" style={{ minHeight: `${(props.height ?? 180) + LEGEND_PX}px` }} />
    </div>
  );
}

// Height of a one-line uPlot legend; reserved below the plot so that a chart which replaces a
// placeholder does not move what follows it (a move repaints everything below).
const LEGEND_PX = 26;

/** Takes the place of a chart while its data loads, at the chart's size. */
export function ChartPlaceholder({ title, height = 180, children }: { title?: string; height?: number; children?: ComponentChildren }) {
  return (
    <div class="chart">
      {title && <div class="chart-title">{title}</div>}
      <div class="chart-canvas" style={{ minHeight: `${height + LEGEND_PX}px` }}>
        {children}
      </div>
    </div>
  );
}

/** A tiny inline SVG line for table cells. */
export function Sparkline({ values, color = 'var(--accent)', width = 96, height = 24, testid }: { values: (number | null)[]; color?: string; width?: number; height?: number; testid?: string }) {
  const vs = values.map((v) => v ?? 0);
  if (vs.length < 2) return <svg class="spark" width={width} height={height} data-testid={testid} />;
  const max = Math.max(...vs, 1e-9);
  const step = width / (vs.length - 1);
  const pts = vs.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`);
  return (
    <svg class="spark" width={width} height={height} viewBox={`0 0 ${width} ${height}`} aria-hidden="true" data-testid={testid}>
      <polyline points={`0,${height} ${pts.join(' ')} ${width},${height}`} fill={color} fill-opacity="0.12" stroke="none" />
      <polyline points={pts.join(' ')} fill="none" stroke={color} stroke-width="1.5" stroke-linejoin="round" />
    </svg>
  );
}

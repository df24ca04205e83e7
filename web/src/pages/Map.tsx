import { useMemo, useState } from 'preact/hooks';
import { Layout } from '../components/Layout';
import { ErrorBox, Loading, NoTelemetry } from '../components/states';
import { api, type MapNode, type ServiceMap } from '../lib/api';
import { timeParams } from '../lib/requests';
import { fmtDurationMs, fmtPct, fmtRate } from '../lib/format';
import { curvePath, edgeCurve, layeredLayout, placeLabels } from '../lib/graphlayout';
import { useApi, useRange } from '../lib/hooks';
import { href, navigate } from '../lib/router';

const W = 184;
const H = 54;
/** Edge label text metrics (10.5px, see .map-edge text): average glyph width and line height. */
const LABEL_CHAR_W = 6.1;
const LABEL_H = 13;

function edgeLabel(e: ServiceMap['edges'][number]): string {
  return `${fmtRate(e.rate_per_s)} · ${fmtDurationMs(e.p50_ms)}${e.errors ? ` · ${fmtPct(e.error_rate)} err` : ''}`;
}

function health(n: { error_rate: number; requests: number }): { stroke: string; fill: string; label: string } {
  if (!n.requests) return { stroke: 'var(--muted)', fill: 'var(--panel)', label: 'no traffic' };
  if (n.error_rate >= 0.05) return { stroke: 'var(--red)', fill: 'var(--red-soft)', label: 'errors ≥ 5%' };
  if (n.error_rate >= 0.01) return { stroke: 'var(--amber)', fill: 'rgba(217,138,0,.12)', label: 'errors 1–5%' };
  return { stroke: 'var(--green)', fill: 'rgba(46,157,91,.10)', label: 'healthy' };
}


function NodeShape({ n, x, y, dim, onHover }: { n: MapNode; x: number; y: number; dim: boolean; onHover: (name: string | null) => void }) {
  const h = health(n);
  const left = x - W / 2;
  const top = y - H / 2;
  const shape =
    n.kind === 'database' ? (
      // a cylinder
      <path
        class="shape"
        d={`M${left},${top + 8} a${W / 2},8 0 0,1 ${W},0 v${H - 16} a${W / 2},8 0 0,1 ${-W},0 z M${left},${top + 8} a${W / 2},8 0 0,0 ${W},0`}
        fill={h.fill}
        stroke={h.stroke}
        stroke-dasharray={n.instrumented ? undefined : '5 3'}
      />
    ) : n.kind === 'messaging' ? (
      <path class="shape" d={`M${left + 10},${top} h${W - 10} l-10,${H} h${-(W - 10)} z`} fill={h.fill} stroke={h.stroke} stroke-dasharray={n.instrumented ? undefined : '5 3'} />
    ) : (
      <rect x={left} y={top} width={W} height={H} rx={n.instrumented ? 10 : 24} fill={h.fill} stroke={h.stroke} stroke-dasharray={n.instrumented ? undefined : '5 3'} />
    );
  const clickable = n.instrumented;
  return (
    <g
      class={`map-node ${n.instrumented ? '' : 'uninstrumented'}`}
      opacity={dim ? 0.35 : 1}
      onMouseEnter={() => onHover(n.name)}
      onMouseLeave={() => onHover(null)}
      onClick={clickable ? () => navigate(href(`/service/${encodeURIComponent(n.name)}`)) : undefined}
      style={{ cursor: clickable ? 'pointer' : 'default' }}
      data-testid="map-node"
      data-name={n.name}
      data-instrumented={String(n.instrumented)}
    >
      <title>
        {`${n.name} (${n.kind}${n.instrumented ? '' : ', not instrumented'})\n${fmtRate(n.rate_per_s)} · errors ${fmtPct(n.error_rate)} · p50 ${fmtDurationMs(n.p50_ms)} · p99 ${fmtDurationMs(n.p99_ms)}`}
      </title>
      {shape}
      <text x={x} y={y - 3} text-anchor="middle" font-weight="600">
        {n.name.length > 20 ? `${n.name.slice(0, 19)}…` : n.name}
      </text>
      <text class="sub" x={x} y={y + 14} text-anchor="middle">
        {n.instrumented
          ? n.requests
            ? `${fmtRate(n.rate_per_s)} · ${fmtPct(n.error_rate)} err`
            : 'no requests'
          : `${n.kind} · ${n.requests ? `${fmtRate(n.rate_per_s)} · ${fmtPct(n.error_rate)} err` : 'not instrumented'}`}
      </text>
    </g>
  );
}

function MapSvg({ map }: { map: ServiceMap }) {
  const [hover, setHover] = useState<string | null>(null);
  const layout = useMemo(
    () =>
      layeredLayout({
        nodes: [...map.nodes.map((n) => n.name), ...map.edges.flatMap((e) => [e.from, e.to])],
        edges: map.edges,
      }),
    [map],
  );
  const nodes = new Map(map.nodes.map((n) => [n.name, n]));
  for (const e of map.edges)
    for (const name of [e.from, e.to])
      if (!nodes.has(name)) nodes.set(name, { name, kind: 'service', instrumented: true, requests: 0, errors: 0, error_rate: 0, rate_per_s: 0, p50_ms: null, p99_ms: null });
  // Curves and label positions: busiest edges place their labels first, clear of every node.
  const drawn = useMemo(() => {
    const edges = map.edges.flatMap((e) => {
      const a = layout.pos.get(e.from);
      const b = layout.pos.get(e.to);
      return a && b ? [{ e, curve: edgeCurve(a, b, W, H), text: edgeLabel(e) }] : [];
    });
    const order = [...edges.keys()].sort((i, j) => edges[j].e.rate_per_s - edges[i].e.rate_per_s);
    const boxes = [...layout.pos.values()].map((p) => ({ x: p.x - W / 2, y: p.y - H / 2, w: W, h: H }));
    const at = placeLabels(
      order.map((i) => edges[i].curve),
      order.map((i) => ({ w: edges[i].text.length * LABEL_CHAR_W, h: LABEL_H })),
      boxes,
    );
    order.forEach((i, k) => Object.assign(edges[i], { label: at[k] }));
    return edges as ((typeof edges)[number] & { label: { x: number; y: number } })[];
  }, [map, layout]);
  const near = (e: { from: string; to: string }) => !hover || e.from === hover || e.to === hover;
  return (
    <svg width={Math.max(layout.width, 400)} height={Math.max(layout.height, 200)} role="img" aria-label="Service map" data-testid="service-map">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" fill="var(--muted)" />
        </marker>
        <marker id="arrow-err" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
          <path d="M0,0 L10,5 L0,10 z" fill="var(--red)" />
        </marker>
      </defs>
      {drawn.map(({ e, curve }) => {
        const err = e.error_rate >= 0.01;
        const width = 1.2 + Math.min(4, Math.log10(1 + e.rate_per_s) * 2);
        return (
          <g class={`map-edge ${err ? 'err' : ''} ${hover && near(e) ? 'hl' : ''}`} opacity={near(e) ? 1 : 0.15} data-testid="map-edge">
            <title>{`${e.from} → ${e.to}\n${fmtRate(e.rate_per_s)} · errors ${fmtPct(e.error_rate)} · p50 ${fmtDurationMs(e.p50_ms)} · p99 ${fmtDurationMs(e.p99_ms)}`}</title>
            <path d={curvePath(curve)} stroke-width={width} marker-end={err ? 'url(#arrow-err)' : 'url(#arrow)'} />
          </g>
        );
      })}
      {[...nodes.values()].map((n) => {
        const p = layout.pos.get(n.name);
        if (!p) return null;
        const dim = !!hover && hover !== n.name && !map.edges.some((e) => (e.from === hover && e.to === n.name) || (e.to === hover && e.from === n.name));
        return <NodeShape n={n} x={p.x} y={p.y} dim={dim} onHover={setHover} />;
      })}
      {/* Labels last, so that no node or edge is drawn over them. */}
      {drawn.map(({ e, text, label }) => (
        <g class={`map-edge-label ${hover && near(e) ? 'hl' : ''}`} opacity={near(e) ? 1 : 0.15} data-testid="map-edge-label">
          <text x={label.x} y={label.y + LABEL_H / 2 - 3} text-anchor="middle">
            {text}
          </text>
        </g>
      ))}
    </svg>
  );
}

export function MapPage() {
  const range = useRange();
  const res = useApi((s) => api.serviceMap(timeParams(range), s), [range]);
  return (
    <Layout title="Service map">
      {res.error ? (
        <ErrorBox error={res.error} what="the service map" />
      ) : !res.data ? (
        <Loading />
      ) : res.data.nodes.length === 0 ? (
        <NoTelemetry what="service calls" />
      ) : (
        <>
          <div class="map-legend">
            <span>
              <i style={{ background: 'rgba(46,157,91,.25)', border: '1.5px solid var(--green)' }} />
              &lt; 1% errors
            </span>
            <span>
              <i style={{ background: 'rgba(217,138,0,.2)', border: '1.5px solid var(--amber)' }} />
              1–5%
            </span>
            <span>
              <i style={{ background: 'var(--red-soft)', border: '1.5px solid var(--red)' }} />≥ 5%
            </span>
            <span>
              <i style={{ border: '1.5px dashed var(--muted)' }} />
              not instrumented: database (cylinder), messaging (slanted), external (pill)
            </span>
            <span>edge labels: request rate · p50 latency · error rate; hover to focus, click a service to open it</span>
          </div>
          <div class="map-wrap">
            <MapSvg map={res.data} />
          </div>
        </>
      )}
    </Layout>
  );
}

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { LogList } from '../components/LogList';
import { ErrorBox, Loading } from '../components/states';
import { api, type LogRecord, type Span } from '../lib/api';
import { fmtDurationNs, stringifyValue } from '../lib/format';
import { useApi } from '../lib/hooks';
import { href, setParams, useLocation } from '../lib/router';
import { fmtDateTime, fmtTime } from '../lib/time';
import { buildTree, collapseBelow, criticalPath, serviceColor, visibleRows, type Node, type Tree } from '../lib/waterfall';

const ROW = 26;
const OVERSCAN = 12;

function KV({ obj }: { obj: Record<string, unknown> | undefined }) {
  const e = Object.entries(obj ?? {});
  if (!e.length) return <div class="muted">none</div>;
  return (
    <dl class="kv">
      {e
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => (
          <>
            <dt title={k}>{k}</dt>
            <dd>{stringifyValue(v)}</dd>
          </>
        ))}
    </dl>
  );
}

function niceTicks(total: number): number[] {
  if (total <= 0) return [0];
  const raw = total / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => total / s <= 6) ?? raw;
  const out = [];
  for (let t = 0; t <= total + 1e-9; t += step) out.push(t);
  return out;
}

function Waterfall({
  tree,
  rows,
  crit,
  selected,
  collapsed,
  onToggle,
  logCounts,
}: {
  tree: Tree;
  rows: Node[];
  crit: Set<string> | null;
  selected: string | null;
  collapsed: Set<string>;
  onToggle: (id: string) => void;
  logCounts: Map<string, number>;
}) {
  const [scrollTop, setScrollTop] = useState(0);
  const scroller = useRef<HTMLDivElement>(null);
  // Opened with ?span=…: bring that row into view once.
  useEffect(() => {
    const el = scroller.current;
    if (!el || !selected) return;
    const i = rows.findIndex((n) => n.span.span_id === selected);
    if (i >= 0) el.scrollTop = Math.max(0, i * ROW - el.clientHeight / 3);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const total = Math.max(1, tree.end - tree.start);
  const viewH = scroller.current?.clientHeight ?? 800;
  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + viewH) / ROW) + OVERSCAN);
  const ticks = niceTicks(total);
  const pct = (ns: number) => `${(ns / total) * 100}%`;
  return (
    <div class="wf" style={{ '--wf-left': 'minmax(240px, 36%)' } as any} data-testid="waterfall">
      <div class="wf-header">
        <div>Service · operation ({rows.length} shown)</div>
        <div class="wf-ticks">
          {ticks.map((t) => (
            <span class="wf-tick" style={{ left: pct(t) }}>
              {fmtDurationNs(t)}
            </span>
          ))}
        </div>
      </div>
      <div class="wf-scroll" ref={scroller} onScroll={(e) => setScrollTop((e.target as HTMLElement).scrollTop)} style={{ height: `min(68vh, ${rows.length * ROW + 4}px)` }}>
        <div style={{ height: `${rows.length * ROW}px`, position: 'relative' }}>
          {rows.slice(first, last).map((n, i) => {
            const s = n.span;
            const idx = first + i;
            const left = ((s.start_time_unix_nano - tree.start) / total) * 100;
            const width = Math.max(0.15, (s.duration_ns / total) * 100);
            const isErr = s.status_code === 'ERROR';
            const onCrit = crit?.has(s.span_id);
            const nLogs = logCounts.get(s.span_id);
            return (
              <div
                key={s.span_id}
                class={`wf-row ${selected === s.span_id ? 'sel' : ''}`}
                style={{ top: `${idx * ROW}px` }}
                onClick={() => setParams({ span: s.span_id }, true)}
                data-testid="wf-row"
                data-span-id={s.span_id}
              >
                <div class="wf-name" style={{ paddingLeft: `${6 + Math.min(n.depth, 40) * 14}px` }}>
                  {n.children.length ? (
                    <button
                      class="wf-toggle"
                      onClick={(e) => {
                        e.stopPropagation();
                        onToggle(s.span_id);
                      }}
                      title={collapsed.has(s.span_id) ? `Expand (${n.descendants} spans)` : 'Collapse'}
                      aria-label={collapsed.has(s.span_id) ? 'Expand' : 'Collapse'}
                    >
                      {collapsed.has(s.span_id) ? '▶' : '▼'}
                    </button>
                  ) : (
                    <span class="wf-toggle" />
                  )}
                  <span class="dot" style={{ background: serviceColor(s.service_name) }} />
                  <span class="wf-svc">{s.service_name}</span>
                  <span class="wf-op" title={s.name}>
                    {s.name}
                  </span>
                  {isErr && <span class="badge err">ERR</span>}
                  {nLogs ? <span class="badge plain" title={`${nLogs} log records`}>{nLogs} log</span> : null}
                  {collapsed.has(s.span_id) && <span class="muted" style={{ fontSize: '11px' }}>+{n.descendants}</span>}
                </div>
                <div class="wf-bar-cell">
                  {ticks.map((t) => (
                    <span class="wf-guide" style={{ left: pct(t) }} />
                  ))}
                  <div
                    class={`wf-bar ${onCrit ? 'crit' : ''} ${isErr ? 'err' : ''}`}
                    style={{ left: `${left}%`, width: `${width}%`, background: serviceColor(s.service_name), opacity: crit && !onCrit ? 0.45 : undefined }}
                    title={`${s.name} — ${fmtDurationNs(s.duration_ns)}${onCrit ? ' (critical path)' : ''}`}
                  />
                  <span
                    class={`wf-dur ${left + width > 80 && left < 15 ? 'inside' : ''}`}
                    style={
                      left + width <= 80
                        ? { left: `calc(${left + width}% + 4px)` }
                        : left >= 15
                          ? { right: `calc(${100 - left}% + 4px)` }
                          : { right: `calc(${100 - left - width}% + 6px)` }
                    }
                  >
                    {fmtDurationNs(s.duration_ns)}
                  </span>
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function SpanDetails({ span, tree, logs }: { span: Span; tree: Tree; logs: LogRecord[] }) {
  const spanLogs = logs.filter((l) => l.span_id === span.span_id);
  return (
    <div class="card details" data-testid="span-details">
      <div>
        <div class="row gap">
          <span class="dot" style={{ background: serviceColor(span.service_name) }} />
          <Link href={href(`/service/${encodeURIComponent(span.service_name)}`)} style={{ fontWeight: 600 }}>
            {span.service_name}
          </Link>
          <span class="badge plain">{span.kind}</span>
          <span class={`badge ${span.status_code === 'ERROR' ? 'err' : 'plain'}`} data-testid="span-status">{span.status_code || 'UNSET'}</span>
          <button class="btn ghost icon right" onClick={() => setParams({ span: null }, true)} aria-label="Close details">
            ×
          </button>
        </div>
        <h2 style={{ margin: '8px 0 4px', wordBreak: 'break-all' }}>{span.name}</h2>
        <dl class="kv">
          <dt>duration</dt>
          <dd>{fmtDurationNs(span.duration_ns)}</dd>
          <dt>start</dt>
          <dd>
            {fmtTime(span.start_time_unix_nano / 1e6, true)} (+{fmtDurationNs(span.start_time_unix_nano - tree.start)})
          </dd>
          <dt>span id</dt>
          <dd>{span.span_id}</dd>
          {span.parent_span_id && (
            <>
              <dt>parent</dt>
              <dd>
                <a href={href(window.location.pathname, { span: span.parent_span_id })} onClick={(e) => { e.preventDefault(); setParams({ span: span.parent_span_id }, true); }}>
                  {span.parent_span_id}
                </a>
              </dd>
            </>
          )}
          {span.status_message && (
            <>
              <dt>status</dt>
              <dd class={span.status_code === 'ERROR' ? 'bad' : ''} data-testid="span-status-message">{span.status_message}</dd>
            </>
          )}
          {span.scope_name && (
            <>
              <dt>scope</dt>
              <dd>
                {span.scope_name} {span.scope_version}
              </dd>
            </>
          )}
        </dl>
      </div>
      <div class="section" data-testid="span-attributes">
        <h3>Attributes</h3>
        <KV obj={span.attributes} />
      </div>
      <div class="section" data-testid="span-events">
        <h3>Events ({span.events?.length ?? 0})</h3>
        {(span.events ?? []).length === 0 ? (
          <div class="muted">none</div>
        ) : (
          span.events.map((e) => (
            <div class="event" data-testid="span-event">
              <div class="row gap">
                <strong class={e.name === 'exception' ? 'bad' : ''}>{e.name}</strong>
                <span class="muted mono">+{fmtDurationNs(e.time_unix_nano - span.start_time_unix_nano)}</span>
              </div>
              <KV obj={e.attributes} />
            </div>
          ))
        )}
      </div>
      <div class="section">
        <h3>Links ({span.links?.length ?? 0})</h3>
        {(span.links ?? []).length === 0 ? (
          <div class="muted">none</div>
        ) : (
          span.links.map((l) => (
            <div class="event">
              <Link href={href(`/trace/${l.trace_id}`, { span: l.span_id })} class="mono">
                {l.trace_id.slice(0, 16)}… / {l.span_id}
              </Link>
              <KV obj={l.attributes} />
            </div>
          ))
        )}
      </div>
      <div class="section" data-testid="span-logs">
        <h3>Logs of this span ({spanLogs.length})</h3>
        {spanLogs.length ? <LogList records={spanLogs} /> : <div class="muted">none</div>}
      </div>
      <div class="section">
        <h3>Resource</h3>
        <KV obj={span.resource_attributes} />
      </div>
    </div>
  );
}

export function TracePage({ id }: { id: string }) {
  const { query } = useLocation();
  const selected = query.get('span');
  const showCrit = query.get('cp') !== '0';
  const tr = useApi((s) => api.trace(id, s), [id]);
  const tree = useMemo(() => (tr.data ? buildTree(tr.data.spans) : null), [tr.data]);
  const crit = useMemo(() => (tree ? criticalPath(tree) : null), [tree]);
  const [collapsed, setCollapsed] = useState<Set<string> | null>(null);
  // Huge traces open with deep subtrees folded so the first screen stays readable.
  const initial = useMemo(() => {
    const c = tree && tree.byId.size > 2000 ? collapseBelow(tree, 3) : new Set<string>();
    // ...but never hide the span the link points at.
    for (let n = selected ? tree?.byId.get(selected)?.parent : null; n; n = n.parent) c.delete(n.span.span_id);
    return c;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tree]);
  const coll = collapsed ?? initial;
  const rows = useMemo(() => (tree ? visibleRows(tree, coll) : []), [tree, coll]);
  const logs = useApi(
    (s) => {
      const pad = 300e9; // logs may be stamped a little outside the spans
      return api.logs({ trace_id: id, from: String(Math.floor(tree!.start - pad)), to: String(Math.ceil(tree!.end + pad)), limit: 500 }, s);
    },
    [id, tree],
    !!tree,
  );
  const logCounts = useMemo(() => {
    const m = new Map<string, number>();
    for (const l of logs.data?.records ?? []) if (l.span_id) m.set(l.span_id, (m.get(l.span_id) ?? 0) + 1);
    return m;
  }, [logs.data]);

  if (tr.error) return <Layout title={`Trace ${id.slice(0, 16)}`} crumbs={<Link href={href('/traces')}>Traces</Link>}><ErrorBox error={tr.error} what="the trace" /></Layout>;
  if (!tree || !tr.data) return <Layout title={`Trace ${id.slice(0, 16)}`} crumbs={<Link href={href('/traces')}>Traces</Link>}><Loading /></Layout>;

  const root = tree.roots[0]?.span;
  const services = [...new Set(tr.data.spans.map((s) => s.service_name))].sort();
  const errors = tr.data.spans.filter((s) => s.status_code === 'ERROR').length;
  const sel = selected ? tree.byId.get(selected)?.span : undefined;
  // A trace that started in a browser: its browser spans carry the session they belong to.
  const sessionId = tr.data.spans.map((s) => s.attributes?.['session.id']).find((v): v is string => typeof v === 'string' && v !== '');
  const toggle = (sid: string) => {
    const n = new Set(coll);
    if (n.has(sid)) n.delete(sid);
    else n.add(sid);
    setCollapsed(n);
  };
  return (
    <Layout
      title={
        <span class="row gap">
          {root && <span class="dot" style={{ background: serviceColor(root.service_name), width: '12px', height: '12px' }} />}
          {root ? `${root.service_name}: ${root.name}` : id}
        </span>
      }
      crumbs={
        <>
          <Link href={href('/traces')}>Traces</Link> / <span class="mono">{id}</span>
        </>
      }
      actions={
        <Link class="btn" href={href('/logs', { trace_id: id })}>
          Logs of this trace
        </Link>
      }
    >
      <div class="card trace-head">
        <span>
          <span class="muted">Duration</span> <strong>{fmtDurationNs(tree.end - tree.start)}</strong>
        </span>
        <span>
          <span class="muted">Spans</span> <strong>{tr.data.spans.length}</strong>
        </span>
        <span>
          <span class="muted">Errors</span> <strong class={errors ? 'bad' : ''}>{errors}</strong>
        </span>
        <span>
          <span class="muted">Started</span> <strong>{fmtDateTime(tree.start / 1e6)}</strong>
        </span>
        {sessionId && (
          <Link href={href(`/web/sessions/${encodeURIComponent(sessionId)}`)} data-testid="trace-session-link" title="This trace started in a browser">
            Browser session {sessionId.length > 20 ? `${sessionId.slice(0, 16)}…` : sessionId}
          </Link>
        )}
        <div class="legend">
          {services.map((s) => (
            <span>
              <span class="dot" style={{ background: serviceColor(s) }} />
              {s}
            </span>
          ))}
        </div>
        <div class="row gap right">
          <label class="row gap" style={{ fontSize: '13px' }}>
            <input type="checkbox" checked={showCrit} onChange={() => setParams({ cp: showCrit ? '0' : null }, true)} /> Critical path
          </label>
          <button class="btn" onClick={() => setCollapsed(new Set())}>
            Expand all
          </button>
          <button class="btn" onClick={() => setCollapsed(collapseBelow(tree, 1))}>
            Collapse all
          </button>
        </div>
      </div>
      <div class="trace-layout" style={sel ? undefined : { gridTemplateColumns: 'minmax(0,1fr)' }}>
        <Waterfall tree={tree} rows={rows} crit={showCrit ? crit : null} selected={selected} collapsed={coll} onToggle={toggle} logCounts={logCounts} />
        {sel && <SpanDetails span={sel} tree={tree} logs={logs.data?.records ?? []} />}
      </div>
      <div class="card flush" data-testid="trace-logs">
        <div class="card-head" style={{ padding: '12px 16px 0' }}>
          <h2>Logs of this trace</h2>
          {logs.data && <span class="muted" data-testid="trace-log-count">{logs.data.records.length}{logs.data.next_cursor ? '+' : ''} records</span>}
        </div>
        {logs.error ? (
          <ErrorBox error={logs.error} what="the trace's logs" />
        ) : !logs.data ? (
          <Loading />
        ) : logs.data.records.length === 0 ? (
          <div class="muted" style={{ padding: '4px 16px 14px' }}>
            No logs carry this trace id.
          </div>
        ) : (
          <LogList records={[...logs.data.records].sort((a, b) => a.time_unix_nano - b.time_unix_nano)} />
        )}
      </div>
    </Layout>
  );
}

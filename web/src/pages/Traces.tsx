import { useMemo, useState } from 'preact/hooks';
import { Chart } from '../components/Chart';
import { Layout } from '../components/Layout';
import { ErrorBox, Loading, NoTelemetry } from '../components/states';
import { TraceList } from '../components/TraceList';
import { api, type TraceScatter, type TraceSummary } from '../lib/api';
import { fmtDurationMs } from '../lib/format';
import { useApi, usePaging, useRange } from '../lib/hooks';
import { href, navigate, setParams, useLocation } from '../lib/router';
import { redParams, timeParams, tracesPage } from '../lib/requests';

const SHOW = 50; // list rows revealed at a time

function Scatter({ scatter, fromMs, toMs }: { scatter: TraceScatter; fromMs: number; toMs: number }) {
  // Same arrays for the same answer: a chart redraw only for new data.
  const { points, data } = useMemo(() => {
    const points = scatter.points;
    const xs = points.map((t) => t.start_time_unix_nano / 1e9);
    const ok = points.map((t) => (t.error ? null : t.duration_ns / 1e6));
    const err = points.map((t) => (t.error ? t.duration_ns / 1e6 : null));
    return { points, data: [xs, ok, err] };
  }, [scatter]);
  const sample = scatter.sampled ? ` (a sample of ${points.length.toLocaleString('en-US')} of ${scatter.total.toLocaleString('en-US')}, with every step, the errors and the slowest)` : '';
  return (
    <div class="card" data-testid="trace-scatter" data-points={points.length} data-total={scatter.total}>
      <Chart
        title={`Trace duration over time${sample} · click a dot to open a trace, drag to zoom`}
        data={data}
        series={[
          { label: 'ok', color: '#2f6fed' },
          { label: 'error', color: '#e5484d' },
        ]}
        scatter
        height={200}
        fmt={fmtDurationMs}
        xRange={[fromMs / 1000, toMs / 1000]}
        onSelectRange={(a, b) => setParams({ from: new Date(a).toISOString(), to: new Date(b).toISOString() })}
        onPointClick={(_s, i) => navigate(href(`/trace/${points[i].trace_id}`))}
      />
    </div>
  );
}

export function TracesPage() {
  const range = useRange();
  const { query } = useLocation();
  const { service, operation, status, minD, maxD, attrs, sort, params, scatterParams, opsStep } = tracesPage(range, query);
  const attrKey = attrs.join('&');

  const services = useApi((s) => api.services(timeParams(range), s), [range]);
  const ops = useApi((s) => api.red(redParams(range, opsStep, service), s), [range, service], !!service);
  const res = useApi((s) => api.traces(params, s), [range, service, operation, status, minD, maxD, attrKey, sort]);
  const scatter = useApi((s) => api.traceScatter(scatterParams, s), [range, service, operation, status, minD, maxD, attrKey]);
  const total = scatter.data?.total;

  // "Load more" pages, reset whenever the first page changes.
  const [paging, setPaging] = usePaging<TraceSummary>(res.data, res.data?.next_cursor);
  const { more, cursor, error: moreErr } = paging;
  const [loadingMore, setLoadingMore] = useState(false);
  const shown = SHOW * (1 + paging.reveals);
  const all = useMemo(() => (res.data ? [...res.data.traces, ...more] : []), [res.data, more]);
  const loadMore = async () => {
    if (shown < all.length) {
      setPaging((p) => ({ ...p, reveals: p.reveals + 1 }));
      return;
    }
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const r = await api.traces({ ...params, cursor });
      setPaging((p) => ({ ...p, more: [...p.more, ...r.traces], cursor: r.next_cursor, reveals: p.reveals + 1 }));
    } catch (e) {
      setPaging((p) => ({ ...p, error: e as Error }));
    } finally {
      setLoadingMore(false);
    }
  };

  const [attrInput, setAttrInput] = useState('');
  const addAttr = () => {
    if (!attrInput.includes('=')) return;
    setParams({ attr: [...attrs, attrInput.trim()] });
    setAttrInput('');
  };
  const numInput = (key: string, value: string, placeholder: string) => (
    <input
      data-testid={`filter-${key}`}
      type="number"
      min="0"
      step="any"
      value={value}
      placeholder={placeholder}
      style={{ width: '110px', minWidth: '0' }}
      onChange={(e) => setParams({ [key]: (e.target as HTMLInputElement).value }, true)}
    />
  );

  return (
    <Layout title="Traces">
      <div class="card">
        <div class="filters">
          <label class="field">
            Service
            <select value={service} onChange={(e) => setParams({ service: (e.target as HTMLSelectElement).value, operation: null })} data-testid="filter-service">
              <option value="">All services</option>
              {services.data?.services.map((s) => <option value={s.name}>{s.name}</option>)}
              {service && !services.data?.services.some((s) => s.name === service) && <option value={service}>{service}</option>}
            </select>
          </label>
          <label class="field">
            Operation
            <input
              list="ops"
              data-testid="filter-operation"
              value={operation}
              placeholder="any"
              onChange={(e) => setParams({ operation: (e.target as HTMLInputElement).value }, true)}
              style={{ minWidth: '200px' }}
            />
            <datalist id="ops">{ops.data?.totals.map((o) => <option value={o.operation} />)}</datalist>
          </label>
          <label class="field">
            Status
            <select value={status} onChange={(e) => setParams({ status: (e.target as HTMLSelectElement).value })} data-testid="filter-status">
              <option value="">Any</option>
              <option value="error">Error</option>
            </select>
          </label>
          <label class="field">
            Min duration (ms)
            {numInput('min_duration_ms', minD, '0')}
          </label>
          <label class="field">
            Max duration (ms)
            {numInput('max_duration_ms', maxD, '∞')}
          </label>
          <label class="field">
            Attribute
            <div class="row gap">
              <input
                value={attrInput}
                placeholder="http.route=/checkout"
                data-testid="filter-attr"
                onInput={(e) => setAttrInput((e.target as HTMLInputElement).value)}
                onKeyDown={(e) => e.key === 'Enter' && addAttr()}
                style={{ minWidth: '200px' }}
              />
              <button class="btn" onClick={addAttr} disabled={!attrInput.includes('=')}>
                Add
              </button>
            </div>
          </label>
          {(service || operation || status || minD || maxD || attrs.length > 0) && (
            <button class="btn ghost" onClick={() => setParams({ service: null, operation: null, status: null, min_duration_ms: null, max_duration_ms: null, attr: null })}>
              Clear filters
            </button>
          )}
        </div>
        {attrs.length > 0 && (
          <div class="row gap wrap" style={{ marginTop: '10px' }}>
            {attrs.map((a) => (
              <span class="chip mono" data-testid="attr-chip">
                {a}
                <button onClick={() => setParams({ attr: attrs.filter((x) => x !== a) })} aria-label={`remove ${a}`}>
                  ×
                </button>
              </span>
            ))}
          </div>
        )}
      </div>
      {res.error ? (
        <ErrorBox error={res.error} what="traces" />
      ) : !res.data ? (
        <Loading />
      ) : all.length === 0 ? (
        service || operation || status || minD || maxD || attrs.length ? (
          <div class="state empty">
            <strong>No traces match these filters</strong>
            <div class="muted">Loosen the filters or widen the time range.</div>
          </div>
        ) : (
          <NoTelemetry what="traces" />
        )
      ) : (
        <>
          {scatter.error ? <ErrorBox error={scatter.error} what="the trace scatter" /> : scatter.data ? <Scatter scatter={scatter.data} fromMs={range.fromMs} toMs={range.toMs} /> : <Loading />}
          <div class="card flush">
            <div class="card-head" style={{ padding: '12px 16px 0' }}>
              <h2 data-testid="trace-count">
                {total !== undefined && total >= all.length ? (
                  <>{total.toLocaleString('en-US')} traces</>
                ) : (
                  <>
                    {all.length}
                    {cursor ? '+' : ''} traces
                  </>
                )}
              </h2>
              {shown < all.length && <span class="muted">showing {shown}</span>}
              <select
                class="right"
                value={sort}
                aria-label="Order"
                data-testid="trace-sort"
                onChange={(e) => setParams({ sort: (e.target as HTMLSelectElement).value || null })}
                style={{ marginRight: '4px' }}
              >
                <option value="">Newest first</option>
                <option value="longest">Longest first</option>
              </select>
            </div>
            <TraceList traces={all.slice(0, shown)} />
            {moreErr && <ErrorBox error={moreErr} what="more traces" />}
            {(cursor || shown < all.length) && (
              <div class="pager">
                <button class="btn" onClick={loadMore} disabled={loadingMore}>
                  {loadingMore ? 'Loading…' : 'Load more'}
                </button>
              </div>
            )}
          </div>
        </>
      )}
    </Layout>
  );
}

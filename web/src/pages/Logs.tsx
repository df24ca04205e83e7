import { useEffect, useMemo, useState } from 'preact/hooks';
import { Chart, ChartPlaceholder, Sparkline } from '../components/Chart';
import { Layout } from '../components/Layout';
import { LogList, Template } from '../components/LogList';
import { ErrorBox, ErrorOrMissing, Loading, NoTelemetry } from '../components/states';
import { api, type LogHistogram, type LogRecord } from '../lib/api';
import { fmtCount } from '../lib/format';
import { type ApiState, useApi, usePaging, useRange } from '../lib/hooks';
import { setParams, useLocation } from '../lib/router';
import { buckets } from '../lib/series';
import { BANDS, type LogFilters as Filters } from '../lib/severity';
import { logFilters, logsFacetParams, logsHistogramParams, logsParams, logsTab, patternParams } from '../lib/requests';
import { fmtAgo, type Range } from '../lib/time';
import { serviceColor } from '../lib/waterfall';

const HIST_TITLE = 'Log volume by severity';
const HIST_HEIGHT = 150;

const filterDeps = (range: Range, f: Filters) => [range, f.service, f.q, f.severity, f.trace_id, f.template_id];

function Histogram({ range, res }: { range: Range; res: ApiState<LogHistogram> }) {
  // Computed once per answer: the same arrays on other re-renders (typing in the search box)
  // spare the chart a redraw.
  const chart = useMemo(() => {
    if (!res.data) return null;
    const step = res.data.step_ns / 1e9;
    const xs = buckets(range.fromMs, range.toMs, res.data.step_ns);
    const rows = res.data.buckets;
    // Stack bottom-up from the most severe, so errors sit on the baseline where they are seen.
    const present = BANDS.filter((b) => rows.some((r) => r.severity === b.name));
    const raw = present.map(() => xs.map(() => 0));
    for (const r of rows) {
      const i = Math.round((r.t / 1e9 - xs[0]) / step);
      const k = present.findIndex((b) => b.name === r.severity);
      if (i >= 0 && i < xs.length && k >= 0) raw[k][i] += r.count;
    }
    const cum = raw.map((_, k) => xs.map((_, i) => raw.slice(0, k + 1).reduce((a, s) => a + s[i], 0)));
    const order = present.map((_, k) => k).reverse(); // tallest first, so smaller stacks draw on top
    return {
      data: [xs, ...order.map((k) => cum[k])],
      series: order.map((k) => ({ label: present[k].name, color: present[k].color, bars: true })),
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [res.data]);
  if (res.error) return <ErrorBox error={res.error} what="the severity histogram" />;
  if (!chart)
    return (
      <div class="card hist-wrap">
        <ChartPlaceholder title={HIST_TITLE} height={HIST_HEIGHT} />
      </div>
    );
  return (
    <div class="card hist-wrap" data-testid="severity-histogram">
      <Chart
        title={HIST_TITLE}
        data={chart.data}
        series={chart.series}
        height={HIST_HEIGHT}
        fmt={(v) => fmtCount(v)}
        xRange={[range.fromMs / 1000, range.toMs / 1000]}
        onSelectRange={(a, b) => setParams({ from: new Date(a).toISOString(), to: new Date(b).toISOString() })}
      />
    </div>
  );
}

function Facets({ range, f }: { range: Range; f: Filters }) {
  const res = useApi((s) => api.logFacets(logsFacetParams(range, f), s), filterDeps(range, f));
  return (
    <div class="card" data-testid="facets">
      <h3>Service</h3>
      <div class="facet">
        {res.error ? (
          <ErrorBox error={res.error} />
        ) : !res.data ? (
          <Loading />
        ) : (
          res.data.services.map((r) => (
            <button
              class={`facet-item ${f.service === r.value ? 'on' : ''}`}
              onClick={() => setParams({ service: f.service === r.value ? null : r.value })}
              data-testid="facet-service"
              data-value={r.value}
            >
              <span class="row gap">
                <span class="dot" style={{ background: serviceColor(r.value) }} />
                {r.value}
              </span>
              <span class="n">{fmtCount(r.count)}</span>
            </button>
          ))
        )}
      </div>
      <h3>Severity (at least)</h3>
      <div class="facet">
        {res.error ? (
          <ErrorBox error={res.error} />
        ) : !res.data ? (
          <Loading />
        ) : (
          BANDS.filter((b) => res.data!.severities.some((r) => r.value === b.name)).map((b) => {
            const n = res.data!.severities.find((r) => r.value === b.name)?.count ?? 0;
            const canFilter = b.min > 0;
            return (
              <button
                class={`facet-item ${f.severity === b.name ? 'on' : ''}`}
                data-testid="facet-severity"
                data-value={b.name}
                disabled={!canFilter}
                title={canFilter ? `Show ${b.name} and above` : 'Records without a severity'}
                onClick={() => canFilter && setParams({ severity: f.severity === b.name ? null : b.name })}
              >
                <span class="row gap">
                  <span class="dot" style={{ background: b.color }} />
                  {b.name}
                </span>
                <span class="n">{fmtCount(n)}</span>
              </button>
            );
          })
        )}
      </div>
    </div>
  );
}

/** The records tab: the histogram's total is the number of records shown in the header. */
function RecordsTab({ range, f }: { range: Range; f: Filters }) {
  const hist = useApi((s) => api.logHistogram(logsHistogramParams(range, f), s), filterDeps(range, f));
  return (
    <>
      <Histogram range={range} res={hist} />
      <div class="logs-layout">
        <Facets range={range} f={f} />
        <Records range={range} f={f} total={hist.data?.total} />
      </div>
    </>
  );
}

function Records({ range, f, total }: { range: Range; f: Filters; total: number | undefined }) {
  const params = logsParams(range, f);
  const res = useApi((s) => api.logs(params, s), filterDeps(range, f));
  // "Load more" pages, reset whenever the first page changes.
  const [paging, setPaging] = usePaging<LogRecord>(res.data, res.data?.next_cursor);
  const { more, cursor, error: err } = paging;
  const [busy, setBusy] = useState(false);
  if (res.error) return <ErrorBox error={res.error} what="logs" />;
  if (!res.data) return <Loading />;
  const all = [...res.data.records, ...more];
  if (!all.length)
    return f.service || f.q || f.severity || f.trace_id || f.template_id ? (
      <div class="state empty">
        <strong>No log records match</strong>
        <div class="muted">Try other words, a lower severity, or a wider time range.</div>
      </div>
    ) : (
      <NoTelemetry what="logs" />
    );
  return (
    <div class="card flush">
      <div class="card-head" style={{ padding: '10px 12px 6px' }}>
        <strong data-testid="log-count">
          {total !== undefined && total >= all.length ? (
            <>
              {cursor ? `${all.length} of ` : ''}
              {total.toLocaleString('en-US')} records
            </>
          ) : (
            <>
              {all.length}
              {cursor ? '+' : ''} records
            </>
          )}
        </strong>
        <span class="muted" style={{ fontSize: '12px' }}>newest first · click a record for its raw line and learned structure</span>
      </div>
      <LogList records={all} />
      {err && <ErrorBox error={err} what="more logs" />}
      {cursor && (
        <div class="pager">
          <button
            class="btn"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                const r = await api.logs({ ...params, cursor });
                setPaging((p) => ({ ...p, more: [...p.more, ...r.records], cursor: r.next_cursor }));
              } catch (e) {
                setPaging((p) => ({ ...p, error: e as Error }));
              } finally {
                setBusy(false);
              }
            }}
          >
            {busy ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </div>
  );
}

/** Counts per bucket over the whole range (the API may leave empty buckets out). */
function patternSeries(series: [number, number][], range: Range, stepNs: number | undefined): number[] {
  if (!stepNs) return series.map((x) => x[1]);
  const xs = buckets(range.fromMs, range.toMs, stepNs);
  const out = xs.map(() => 0);
  const stepS = stepNs / 1e9;
  for (const [t, n] of series) {
    const i = Math.floor((t / 1e9 - xs[0]) / stepS);
    if (i >= 0 && i < out.length) out[i] += n;
  }
  return out;
}

function sevColor(n: number | undefined): string {
  if (!n) return 'var(--accent)';
  return BANDS.find((b) => b.min > 0 && n >= b.min)?.color ?? 'var(--accent)';
}

function Patterns({ range, f }: { range: Range; f: Filters }) {
  const res = useApi((s) => api.logPatterns(patternParams(range, f), s), filterDeps(range, f));
  if (res.error) return <ErrorOrMissing error={res.error} feature="Log patterns" route="/api/v1/logs/patterns" />;
  if (!res.data) return <Loading />;
  const step = res.data.step_ns;
  const ps = [...res.data.patterns].sort((a, b) => Number(b.is_new) - Number(a.is_new) || b.count - a.count);
  if (!ps.length) return <NoTelemetry what="log patterns" />;
  return (
    <div class="card flush" data-testid="patterns">
      <table class="table">
        <thead>
          <tr>
            <th class="num">Count</th>
            <th>Over time</th>
            <th>Pattern</th>
            <th>Service</th>
            <th class="num" title="Count in the previous period of the same length">Before</th>
            <th>First seen</th>
          </tr>
        </thead>
        <tbody>
          {ps.map((p) => (
            <tr
              class="clickable pattern-row"
              onClick={() => setParams({ tab: null, template_id: String(p.template_id), service: p.service })}
              data-testid="pattern-row"
              data-template-id={String(p.template_id)}
            >
              <td class="num" data-testid="pattern-count">{fmtCount(p.count)}</td>
              <td>
                <Sparkline values={patternSeries(p.series, range, step)} color={sevColor(p.max_severity_number)} width={110} testid="pattern-spark" />
              </td>
              <td>
                <Template text={p.template} /> {p.is_new && <span class="badge new" title="First seen in this time range" data-testid="pattern-new">NEW</span>}
                {p.sample && <div class="muted mono" style={{ fontSize: '11.5px', marginTop: '3px' }}>e.g. {p.sample}</div>}
              </td>
              <td>
                <span class="row gap">
                  <span class="dot" style={{ background: serviceColor(p.service) }} />
                  {p.service}
                </span>
              </td>
              <td class="num muted">{p.previous_count === undefined ? '—' : fmtCount(p.previous_count)}</td>
              <td class="muted" style={{ whiteSpace: 'nowrap' }}>
                {fmtAgo(p.first_seen_unix_nano / 1e6)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function LogsPage() {
  const range = useRange();
  const { query } = useLocation();
  const tab = logsTab(query);
  const f: Filters = logFilters(query);
  const [text, setText] = useState(f.q);
  useEffect(() => setText(f.q), [f.q]);
  return (
    <Layout title="Logs">
      <form
        class="row gap"
        onSubmit={(e) => {
          e.preventDefault();
          setParams({ q: text.trim() || null, tab: null });
        }}
      >
        <input
          type="search"
          class="grow"
          placeholder="Search log bodies (case-insensitive), e.g. timeout"
          value={text}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
          style={{ padding: '8px 12px', fontSize: '14px' }}
          aria-label="Search logs"
          data-testid="log-search"
        />
        <button class="btn primary" type="submit" style={{ padding: '8px 16px' }}>
          Search
        </button>
      </form>
      {(f.service || f.severity || f.trace_id || f.template_id || f.q) && (
        <div class="row gap wrap">
          {(['service', 'severity', 'q', 'trace_id', 'template_id'] as const)
            .filter((k) => f[k])
            .map((k) => (
              <span class="chip">
                <span class="muted">{k === 'q' ? 'text' : k}:</span> <span class="mono">{f[k]}</span>
                <button onClick={() => setParams({ [k]: null })} aria-label={`remove ${k} filter`}>
                  ×
                </button>
              </span>
            ))}
        </div>
      )}
      <div class="tabs" role="tablist">
        <button class={`tab ${tab === 'records' ? 'on' : ''}`} role="tab" onClick={() => setParams({ tab: null })}>
          Records
        </button>
        <button class={`tab ${tab === 'patterns' ? 'on' : ''}`} role="tab" onClick={() => setParams({ tab: 'patterns' })} data-testid="tab-patterns">
          Patterns
        </button>
      </div>
      {tab === 'records' ? (
        <RecordsTab range={range} f={f} />
      ) : (
        <Patterns range={range} f={f} />
      )}
    </Layout>
  );
}

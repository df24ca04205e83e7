// One panel of a dashboard: its title, its queries run with the dashboard's variables and
// time range, and the view of its plugin kind. A kind this UI does not draw, a missing panel
// or a failing query shows as a box in the panel's place, never as a broken page.
import { api } from '../../lib/api';
import { LOG_QUERY_PLUGIN, queryRange, stepSeconds, substitute, toSeries, type Panel, type Series } from '../../lib/dashboards';
import { severityClass, severityName, stringifyValue } from '../../lib/format';
import { useApi } from '../../lib/hooks';
import { fmtTime, type Range } from '../../lib/time';
import { ErrorBox, Loading } from '../states';
import { MarkdownPanel, StatPanel, TablePanel, UnsupportedPanel } from './PanelKinds';
import { TimeSeriesPanel } from './TimeSeriesPanel';

const PROMQL_KINDS = ['TimeSeriesChart', 'StatChart', 'Table'];
const LOG_KINDS = ['LogsTable'];

/** The PromQL queries of a panel, with variables in place. */
function promQueries(panel: Panel, vars: Record<string, string>) {
  return (panel.spec.queries ?? [])
    .filter((q) => q.spec?.plugin?.kind === 'PrometheusTimeSeriesQuery')
    .map((q, i) => ({
      query: substitute(String(q.spec.plugin.spec?.query ?? ''), vars),
      name: q.spec.plugin.spec?.seriesNameFormat as string | undefined,
      fallback: `Query ${i + 1}`,
    }));
}

function PromPanel({ panel, vars, range }: { panel: Panel; vars: Record<string, string>; range: Range }) {
  const queries = promQueries(panel, vars);
  const key = JSON.stringify(queries);
  const res = useApi(
    (s) => Promise.all(queries.map(async (q) => toSeries(await queryRange(q.query, range, s), q.name, q.fallback))),
    [key, range.fromMs, range.toMs],
    queries.length > 0,
  );
  if (!queries.length) return <UnsupportedPanel kind={`${panel.spec.plugin.kind} without a PrometheusTimeSeriesQuery`} />;
  if (res.error) return <ErrorBox error={res.error} what="the panel's query" />;
  if (!res.data) return <Loading />;
  const spec = panel.spec.plugin.spec ?? {};
  const unit: string | undefined = spec.format?.unit;
  switch (panel.spec.plugin.kind) {
    case 'StatChart':
      return <StatPanel series={res.data.flat()} calculation={spec.calculation} unit={unit} />;
    case 'Table':
      return <TablePanel perQuery={res.data} columns={queries.map((q) => q.name ?? q.fallback)} unit={unit} />;
    default:
      return <TimeSeriesPanel series={res.data.flat() as Series[]} range={range} unit={unit} step={stepSeconds(range)} />;
  }
}

function LogsPanel({ panel, vars, range }: { panel: Panel; vars: Record<string, string>; range: Range }) {
  const q = (panel.spec.queries ?? []).find((x) => x.spec?.plugin?.kind === LOG_QUERY_PLUGIN);
  const spec = q?.spec.plugin.spec ?? {};
  const sub = (v: unknown) => (v === undefined || v === null ? undefined : substitute(String(v), vars) || undefined);
  const params = { from: range.fromNs, to: range.toNs, service: sub(spec.service), severity_min: sub(spec.severity), q: sub(spec.text), limit: String(spec.limit ?? 50) };
  const res = useApi((s) => api.logs(params, s), [JSON.stringify(params)], !!q);
  if (!q) return <UnsupportedPanel kind={`LogsTable without a LogQuery of plugin ${LOG_QUERY_PLUGIN}`} />;
  if (res.error) return <ErrorBox error={res.error} what="logs" />;
  if (!res.data) return <Loading />;
  if (!res.data.records.length) return <div class="dash-unsupported" data-testid="panel-no-data">no log records in this range</div>;
  return (
    <table class="dash-logs" data-testid="logs-panel">
      <tbody>
        {res.data.records.map((r) => (
          <tr data-testid="log-row">
            <td class="muted">{fmtTime(r.time_unix_nano / 1e6)}</td>
            <td>{r.service_name}</td>
            <td>
              <span class={`sev ${severityClass(r.severity_number)}`}>{severityName(r.severity_number)}</span>
            </td>
            <td class="body">{stringifyValue(r.body)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PanelBody({ panel, vars, range }: { panel: Panel; vars: Record<string, string>; range: Range }) {
  const kind = panel.spec?.plugin?.kind ?? '(none)';
  if (PROMQL_KINDS.includes(kind)) return <PromPanel panel={panel} vars={vars} range={range} />;
  if (LOG_KINDS.includes(kind)) return <LogsPanel panel={panel} vars={vars} range={range} />;
  if (kind === 'Markdown') return <MarkdownPanel text={substitute(String(panel.spec.plugin.spec?.text ?? ''), vars)} />;
  return <UnsupportedPanel kind={kind} />;
}

export function PanelView({ id, panel, vars, range }: { id: string; panel: Panel | undefined; vars: Record<string, string>; range: Range }) {
  return (
    <section class="dash-panel" data-testid="dash-panel" data-panel={id} data-kind={panel?.spec?.plugin?.kind ?? ''}>
      <div class="dash-panel-head">
        <span>{panel ? substitute(panel.spec.display?.name ?? id, vars) : id}</span>
        {panel?.spec.display?.description && <span class="muted" title={panel.spec.display.description}>{panel.spec.display.description}</span>}
      </div>
      <div class="dash-panel-body">{panel ? <PanelBody panel={panel} vars={vars} range={range} /> : <UnsupportedPanel kind={`(no panel "${id}" in spec.panels)`} />}</div>
    </section>
  );
}

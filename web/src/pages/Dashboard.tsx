// One Perses dashboard: its variables (values in the URL as `var-<name>`, as Grafana does),
// then its grids of panels over the time picker's range.
import { useEffect } from 'preact/hooks';
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { ErrorOrMissing, Loading } from '../components/states';
import { PanelView } from '../components/dashboard/PanelView';
import '../components/dashboard/dashboard.css';
import { builtinVariables, dashboardsApi, defaultValue, labelValues, placePanels, staticOptions, type Dashboard, type Variable } from '../lib/dashboards';
import { useApi, useRange } from '../lib/hooks';
import { href, setParams, useLocation } from '../lib/router';
import type { Range } from '../lib/time';

/** The options of a list variable; text variables have none. */
function useOptions(v: Variable, range: Range) {
  const plugin = v.spec.plugin;
  const fromLabels = v.kind === 'ListVariable' && plugin?.kind === 'PrometheusLabelValuesVariable';
  const matchers: string[] = Array.isArray(plugin?.spec?.matchers) ? plugin!.spec!.matchers : [];
  const res = useApi((s) => labelValues(String(plugin?.spec?.labelName ?? ''), matchers, range, s), [v.spec.name, range.fromMs, range.toMs], fromLabels);
  if (fromLabels) return { options: (res.data ?? []).map((x) => ({ value: x, label: x })), loading: res.loading };
  return { options: staticOptions(plugin), loading: false };
}

function VariableInput({ v, value, range }: { v: Variable; value: string; range: Range }) {
  const { options } = useOptions(v, range);
  const set = (x: string) => setParams({ [`var-${v.spec.name}`]: x }, true);
  const label = v.spec.display?.name ?? v.spec.name;
  if (v.kind === 'TextVariable')
    return (
      <label class="field">
        {label}
        <input class="input" value={value} data-testid={`var-${v.spec.name}`} onChange={(e) => set((e.target as HTMLInputElement).value)} />
      </label>
    );
  const all = options.some((o) => o.value === value) || !value ? options : [{ value, label: value }, ...options];
  return (
    <label class="field">
      {label}
      <select class="select" value={value} data-testid={`var-${v.spec.name}`} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
        {all.map((o) => (
          <option value={o.value}>{o.label}</option>
        ))}
      </select>
    </label>
  );
}

/** Each variable's value: the URL's, else its default (the first option of a list). */
function useVariableValues(d: Dashboard | undefined, range: Range): Record<string, string> {
  const loc = useLocation();
  const values: Record<string, string> = { ...builtinVariables(range) };
  for (const v of d?.spec.variables ?? []) {
    values[v.spec.name] = loc.query.get(`var-${v.spec.name}`) ?? defaultValue(v, staticOptions(v.spec.plugin).map((o) => o.value));
  }
  return values;
}

function Board({ d, range }: { d: Dashboard; range: Range }) {
  const vars = useVariableValues(d, range);
  const grids = placePanels(d);
  return (
    <>
      {(d.spec.variables ?? []).length > 0 && (
        <div class="dash-vars" data-testid="dash-vars">
          {d.spec.variables!.map((v) => (
            <VariableInput v={v} value={vars[v.spec.name] ?? ''} range={range} />
          ))}
        </div>
      )}
      {grids.map((g) => (
        <>
          {g.title && <div class="dash-grid-title">{g.title}</div>}
          <div class="dash-grid" data-testid="dash-grid">
            {g.panels.map((p) => (
              <div style={{ gridColumn: `${p.item.x + 1} / span ${p.item.width}`, gridRow: `${p.item.y + 1} / span ${p.item.height}`, display: 'flex', minWidth: 0, minHeight: 0 }}>
                <PanelView id={p.id} panel={p.panel} vars={vars} range={range} />
              </div>
            ))}
          </div>
        </>
      ))}
    </>
  );
}

export function DashboardPage({ project, name }: { project: string; name: string }) {
  const range = useRange();
  const loc = useLocation();
  const res = useApi((s) => dashboardsApi.get(project, name, s), [project, name]);
  const duration = res.data?.spec.duration;
  // The dashboard's own duration, unless the URL names a range.
  useEffect(() => {
    if (duration && !loc.query.get('from') && duration !== '1h') setParams({ from: `now-${duration}` }, true);
  }, [duration]);
  const exportUrl = (format: string) => `/api/v1/dashboards/${encodeURIComponent(project)}/${encodeURIComponent(name)}?format=${format}`;
  return (
    <Layout
      title={res.data?.spec.display?.name ?? name}
      crumbs={
        <>
          <Link href={href('/dashboards')}>Dashboards</Link> / {project}
        </>
      }
      actions={
        <>
          <a class="btn" href={exportUrl('yaml')} target="_blank" data-testid="export-yaml">
            Export YAML
          </a>
          <a class="btn" href={exportUrl('json')} target="_blank">
            JSON
          </a>
        </>
      }
    >
      {res.error ? <ErrorOrMissing error={res.error} feature="Dashboard" route={`/api/v1/dashboards/${project}/${name}`} /> : !res.data ? <Loading /> : <Board d={res.data} range={range} />}
    </Layout>
  );
}

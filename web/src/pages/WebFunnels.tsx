// Funnels: ordered steps (pages or events), a conversion window, per session or per user and
// an optional breakdown; the drop-off per step as bars and the breakdown as a table. The
// definition lives in the URL (the API's own parameters), so a funnel is shared by its link.
import { useEffect, useState } from 'preact/hooks';
import { Layout } from '../components/Layout';
import { Link } from '../components/Link';
import { ErrorBox, Loading } from '../components/states';
import { WebFilterBar, WebTabs, webHref } from '../components/WebNav';
import { breakdownRows, funnelBars, funnelFromQuery, funnelParams, funnelProblem, stepText, type FunnelDef, type StepDef } from '../lib/funnel';
import { fmtCount, fmtPct } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import { setParams, useLocation } from '../lib/router';
import { funnelRequest } from '../lib/webrequests';
import { webApi, type FunnelResult } from '../lib/webapi';
import { webFilters } from '../lib/webstats';

const BREAKDOWNS = ['browser.name', 'os.name', 'device.type', 'service.version', 'route', 'geo.country.iso_code', 'user_agent.synthetic.type'];
const EXAMPLE: FunnelDef = {
  steps: [
    { type: 'page', match: '/' },
    { type: 'page', match: '/cart' },
    { type: 'event', match: 'order.placed' },
  ],
  window: '1h',
  by: 'session',
  breakdown: '',
};

function StepsForm({ initial }: { initial: FunnelDef }) {
  const [f, setF] = useState<FunnelDef>(initial);
  // A new URL (back/forward, a shared link) replaces what is being edited.
  const key = JSON.stringify(funnelParams(initial));
  useEffect(() => setF(initial), [key]);
  const problem = funnelProblem(f);
  const setStep = (i: number, s: Partial<StepDef>) => setF({ ...f, steps: f.steps.map((x, j) => (j === i ? { ...x, ...s } : x)) });
  const move = (i: number, d: number) => {
    const steps = [...f.steps];
    const [s] = steps.splice(i, 1);
    steps.splice(i + d, 0, s);
    setF({ ...f, steps });
  };
  const run = (e: Event) => {
    e.preventDefault();
    if (!problem) setParams(funnelParams(f));
  };
  return (
    <form class="card funnel-form" onSubmit={run} data-testid="funnel-form">
      <div class="card-head">
        <h2>Steps</h2>
        <span class="muted">in order; a page is a route or path (<code>/products/:id</code>, <code>/docs/*</code>), an event a name sent with <code>redscope.sendEvent</code></span>
      </div>
      <ol class="funnel-steps">
        {f.steps.map((s, i) => (
          <li class="row gap" data-testid="funnel-step">
            <span class="step-no">{i + 1}</span>
            <select class="select" value={s.type} onChange={(e) => setStep(i, { type: (e.target as HTMLSelectElement).value as StepDef['type'] })} aria-label={`Step ${i + 1} kind`} data-testid="step-type">
              <option value="page">page</option>
              <option value="event">event</option>
            </select>
            <input
              class="input grow"
              value={s.match}
              placeholder={s.type === 'page' ? '/checkout' : 'order.placed'}
              aria-label={`Step ${i + 1}`}
              data-testid="step-match"
              onInput={(e) => setStep(i, { match: (e.target as HTMLInputElement).value })}
            />
            <button type="button" class="btn ghost icon" disabled={i === 0} onClick={() => move(i, -1)} aria-label="Move up">
              ↑
            </button>
            <button type="button" class="btn ghost icon" disabled={i === f.steps.length - 1} onClick={() => move(i, 1)} aria-label="Move down">
              ↓
            </button>
            <button type="button" class="btn ghost icon" onClick={() => setF({ ...f, steps: f.steps.filter((_, j) => j !== i) })} aria-label="Remove step">
              ×
            </button>
          </li>
        ))}
      </ol>
      <div class="filters">
        <button type="button" class="btn" disabled={f.steps.length >= 20} onClick={() => setF({ ...f, steps: [...f.steps, { type: 'event', match: '' }] })} data-testid="add-step">
          + Step
        </button>
        <label class="field">
          Conversion window
          <input class="input" value={f.window} onInput={(e) => setF({ ...f, window: (e.target as HTMLInputElement).value })} placeholder="1h" data-testid="funnel-window" />
        </label>
        <label class="field">
          Count
          <select class="select" value={f.by} onChange={(e) => setF({ ...f, by: (e.target as HTMLSelectElement).value as FunnelDef['by'] })} data-testid="funnel-by">
            <option value="session">per session</option>
            <option value="user">per user</option>
          </select>
        </label>
        <label class="field">
          Breakdown by
          <input class="input" list="funnel-breakdowns" value={f.breakdown} placeholder="none" onInput={(e) => setF({ ...f, breakdown: (e.target as HTMLInputElement).value })} data-testid="funnel-breakdown" />
          <datalist id="funnel-breakdowns">
            {BREAKDOWNS.map((b) => (
              <option value={b} />
            ))}
          </datalist>
        </label>
        <button type="submit" class="btn primary" disabled={!!problem} data-testid="funnel-run">
          Show funnel
        </button>
        {problem && <span class="warn-text">{problem}</span>}
      </div>
    </form>
  );
}

function Bars({ r }: { r: FunnelResult }) {
  const bars = funnelBars(r.steps);
  return (
    <div class="card">
      <div class="card-head">
        <h2>Conversion</h2>
        <span class="muted">
          {r.unit === 'user' ? 'users' : 'sessions'} reaching each step within {fmtWindow(r.window_ms)} of the first
        </span>
        <span class="right" data-testid="funnel-conversion">
          {fmtPct(r.steps.at(-1)?.conversion)} overall
        </span>
      </div>
      <div class="funnel-bars" data-testid="funnel-bars">
        {bars.map((b, i) => (
          <div class="funnel-col" data-testid="funnel-bar">
            <div class="funnel-track">
              <div class="funnel-drop" style={{ height: `${(b.height + b.droppedHeight) * 100}%` }} title={`${fmtCount(b.dropped)} dropped`} />
              <div class="funnel-fill" style={{ height: `${b.height * 100}%` }} />
            </div>
            <div class="funnel-count" data-testid="bar-count">
              {fmtCount(b.count)}
            </div>
            <div class="muted small">{i === 0 ? '100%' : `${fmtPct(b.conversion)} · ${fmtPct(b.fromPrevious)} of previous`}</div>
            {i > 0 && (
              <div class="small bad" data-testid="bar-dropped">
                −{fmtCount(b.dropped)}
              </div>
            )}
            <div class="funnel-label mono" title={`${b.type}:${b.label}`}>
              <span class="badge plain">{b.type}</span> {b.label}
            </div>
          </div>
        ))}
      </div>
    </div>
  );
}

function fmtWindow(ms: number): string {
  if (ms % 3600e3 === 0) return `${ms / 3600e3} h`;
  if (ms % 60e3 === 0) return `${ms / 60e3} min`;
  return `${ms / 1000} s`;
}

function Breakdown({ r, by }: { r: FunnelResult; by: string }) {
  const rows = breakdownRows(r);
  return (
    <div class="card flush">
      <div class="card-head pad">
        <h2>By {by}</h2>
      </div>
      <div class="table-wrap">
        <table class="table" data-testid="funnel-breakdown-table">
          <thead>
            <tr>
              <th>{by}</th>
              {r.steps.map((s, i) => (
                <th class="num" title={stepText(s.step)}>
                  {i + 1}. {s.step.match}
                </th>
              ))}
              <th class="num">Conversion</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((b) => (
              <tr data-value={b.value}>
                <td data-testid="breakdown-value">{b.value}</td>
                {b.counts.map((c) => (
                  <td class="num" data-testid="breakdown-count">
                    {fmtCount(c)}
                  </td>
                ))}
                <td class="num">{fmtPct(b.conversion)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function WebFunnelsPage() {
  const range = useRange();
  const loc = useLocation();
  const filters = webFilters(loc.query);
  const def = funnelFromQuery(loc.query);
  const params = funnelParams(def);
  const request = funnelRequest(range, filters, loc.query);
  const ready = request !== null;
  const result = useApi((s) => webApi.funnel(request!, s), [range, filters.service, params.steps, def.window, def.by, params.breakdown], ready);
  let body;
  if (!ready)
    body = (
      <div class="state" data-testid="funnel-hint">
        Give two steps or more and press “Show funnel”, or{' '}
        <Link href={webHref('/web/funnels', funnelParams(EXAMPLE))}>try home → cart → order.placed</Link>.
      </div>
    );
  else if (result.error) body = <ErrorBox error={result.error} what="the funnel" />;
  else if (!result.data) body = <Loading />;
  else
    body = (
      <>
        {result.data.truncated && <div class="note">The range holds more browser events than one question reads: counts are of the newest.</div>}
        <Bars r={result.data} />
        {params.breakdown && <Breakdown r={result.data} by={params.breakdown} />}
      </>
    );
  return (
    <Layout title="Funnels" crumbs={<Link href={webHref('/web')}>Web</Link>}>
      <WebTabs />
      <WebFilterBar note="Funnels are filtered by site only: the API has no release or device filter." />
      <StepsForm initial={def.steps.length ? def : { ...def, steps: [{ type: 'page', match: '' }, { type: 'event', match: '' }] }} />
      {body}
    </Layout>
  );
}

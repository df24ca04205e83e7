import { useEffect, useState } from 'preact/hooks';
import { Layout } from '../components/Layout';
import { type Column, SortableTable } from '../components/Table';
import { ErrorBox, Loading } from '../components/states';
import { fmtBytes, fmtCount } from '../lib/format';
import { useApi } from '../lib/hooks';
import { type Budget, BUDGET_STATES, type DryRun, pipelineApi, type PipelineRule, type RuleProblem } from '../lib/pipelineapi';

const RULE_COLUMNS: Column<PipelineRule>[] = [
  { key: 'name', label: 'Rule', render: (r) => r.name, sort: (r) => r.name },
  { key: 'signal', label: 'Signal', render: (r) => r.signal, sort: (r) => r.signal },
  { key: 'action', label: 'Action', render: (r) => <span class="mono">{r.action}</span>, sort: (r) => r.action },
  { key: 'matched', label: 'Matched', align: 'right', render: (r) => fmtCount(r.stats.matched), sort: (r) => r.stats.matched },
  { key: 'dropped', label: 'Dropped', align: 'right', render: (r) => fmtCount(r.stats.dropped), sort: (r) => r.stats.dropped },
  { key: 'changed', label: 'Changed', align: 'right', render: (r) => fmtCount(r.stats.changed), sort: (r) => r.stats.changed },
  { key: 'saved', label: 'Saved', align: 'right', render: (r) => fmtBytes(r.stats.bytes_saved), sort: (r) => r.stats.bytes_saved },
];

const fmtCap = (unit: string, n: number) => (unit === 'bytes' ? fmtBytes(n) : n.toLocaleString('en-US'));

/** One budget per row: its state, each cap's use as a bar, what it shed. */
export function BudgetTable({ budgets }: { budgets: Budget[] }) {
  const columns: Column<Budget>[] = [
    { key: 'name', label: 'Budget', render: (b) => b.name, sort: (b) => b.name },
    { key: 'signal', label: 'Signal', render: (b) => b.signal, sort: (b) => b.signal },
    { key: 'service', label: 'Service', render: (b) => b.service ?? 'all', sort: (b) => b.service ?? '' },
    {
      key: 'state',
      label: 'State',
      render: (b) => (
        <span class={`badge ${BUDGET_STATES[b.state].cls}`} data-testid="budget-state" data-state={b.state}>
          {BUDGET_STATES[b.state].label}
        </span>
      ),
      sort: (b) => b.ratio,
    },
    {
      key: 'use',
      label: 'Use of its caps',
      render: (b) => (
        <div style={{ display: 'flex', flexDirection: 'column', gap: '2px' }}>
          {b.caps.map((c) => (
            <span class="share" data-testid="budget-cap" title={`${fmtCap(c.unit, c.used)} of ${fmtCap(c.unit, c.limit)} ${c.unit} this ${c.period}`}>
              <i style={{ width: `${Math.min(100, Math.round(c.ratio * 100))}%`, background: c.ratio >= 1 ? 'var(--red)' : c.ratio >= 0.8 ? 'var(--amber)' : 'var(--accent)' }} />
              {(c.ratio * 100).toFixed(0)}% of {fmtCap(c.unit, c.limit)} {c.unit} a {c.period}
            </span>
          ))}
        </div>
      ),
      sort: (b) => b.ratio,
    },
    {
      key: 'shed',
      label: 'Shed',
      align: 'right',
      render: (b) => (
        <span data-testid="budget-shed" title={`${fmtCount(b.shed_debug_records)} debug near the cap, ${fmtCount(b.shed_capped_records)} at it; errors are never shed`}>
          {fmtCount(b.shed_records)} · {fmtBytes(b.shed_bytes)}
        </span>
      ),
      sort: (b) => b.shed_records,
    },
  ];
  return <SortableTable rows={budgets} columns={columns} defaultSort="use" rowKey={(b) => `${b.name}/${b.service ?? ''}`} testid="budget-table" />;
}

function Problems({ message, problems }: { message: string; problems: RuleProblem[] }) {
  return (
    <div class="state error" role="alert" data-testid="pipeline-problems">
      <strong>{message}</strong>
      {problems.length > 0 && (
        <ul>
          {problems.map((p) => (
            <li>
              {p.rule && <span class="mono">{p.rule}</span>} {p.field && <span class="mono">{p.field}</span>}: {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function DryRunTable({ run }: { run: DryRun }) {
  const columns: Column<DryRun['rules'][number]>[] = [
    { key: 'name', label: 'Rule', render: (r) => r.name, sort: (r) => r.name },
    { key: 'action', label: 'Action', render: (r) => <span class="mono">{r.action}</span>, sort: (r) => r.action },
    { key: 'matched', label: 'Would match', align: 'right', render: (r) => `${fmtCount(r.matched_records)} · ${fmtBytes(r.matched_bytes)}`, sort: (r) => r.matched_records },
    { key: 'saved', label: 'Would save', align: 'right', render: (r) => (r.saved_bytes === null ? '–' : fmtBytes(r.saved_bytes)), sort: (r) => r.saved_bytes ?? 0 },
  ];
  return <SortableTable rows={run.rules} columns={columns} defaultSort="saved" rowKey={(r) => r.name} testid="pipeline-dry-run" />;
}

type Outcome = { kind: 'saved'; version: number } | { kind: 'dry'; run: DryRun } | { kind: 'problems'; message: string; problems: RuleProblem[] };

export function PipelinePage() {
  const [loads, setLoads] = useState(0);
  const res = useApi((s) => pipelineApi.state(s), [loads]);
  const state = res.data;
  const [text, setText] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [working, setWorking] = useState(false);
  // The editor starts from the rules in force, and follows them until it is edited.
  useEffect(() => {
    if (state && text === null) setText(state.text);
  }, [state]);
  const edited = state !== undefined && text !== null && text !== state.text;
  const act = async (what: 'save' | 'dry') => {
    if (text === null) return;
    setWorking(true);
    const sent = what === 'save' ? await pipelineApi.save(text) : await pipelineApi.dryRun(text);
    setWorking(false);
    if (!sent.ok) return setOutcome({ kind: 'problems', message: sent.message, problems: sent.problems });
    if (what === 'save') {
      setOutcome({ kind: 'saved', version: (sent.value as { version: number }).version });
      setText(null);
      setLoads((n) => n + 1);
    } else setOutcome({ kind: 'dry', run: sent.value as DryRun });
  };
  return (
    <Layout title="Pipeline">
      {res.error ? (
        <ErrorBox error={res.error} what="the pipeline rules" />
      ) : !state ? (
        <Loading />
      ) : (
        <>
          <div class="card" data-testid="pipeline-budgets">
            <h3>Budgets</h3>
            {state.budgets.length ? (
              <BudgetTable budgets={state.budgets} />
            ) : (
              <p class="muted">No budgets: add a <code>[[budget]]</code> to the rules below to cap what a signal or service stores a day or a month.</p>
            )}
          </div>
          <div class="card" data-testid="pipeline-rules">
            <h3>
              Rules in force <span class="muted">version {state.version.version}{state.file ? ` · ${state.file}` : ''}</span>
            </h3>
            {state.last_error && <div class="warn-text" data-testid="pipeline-last-error">The rule file changed but was not taken: {state.last_error}</div>}
            {state.rules.length ? <SortableTable rows={state.rules} columns={RULE_COLUMNS} defaultSort="saved" rowKey={(r) => r.name} testid="pipeline-rule-table" /> : <p class="muted">No rules: every record is stored.</p>}
          </div>
          <div class="card" data-testid="pipeline-editor">
            <h3>Rule file</h3>
            <textarea
              class="mono"
              data-testid="pipeline-text"
              rows={Math.min(30, Math.max(8, (text ?? '').split('\n').length + 1))}
              style={{ width: '100%' }}
              spellcheck={false}
              value={text ?? ''}
              onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
            />
            <div class="row gap" style={{ marginTop: '8px' }}>
              <button class="btn" data-testid="pipeline-dry-run-button" disabled={working} onClick={() => act('dry')}>
                Dry run over the last 24 h
              </button>
              <button class="btn primary" data-testid="pipeline-save" disabled={working || !edited} onClick={() => act('save')}>
                Save and put in force
              </button>
              {edited && <span class="muted">edited, not saved</span>}
            </div>
            {outcome?.kind === 'saved' && <div class="muted" data-testid="pipeline-saved">Version {outcome.version} is in force.</div>}
            {outcome?.kind === 'problems' && <Problems message={outcome.message} problems={outcome.problems} />}
            {outcome?.kind === 'dry' && <DryRunTable run={outcome.run} />}
          </div>
          {state.history.length > 0 && (
            <div class="card" data-testid="pipeline-history">
              <h3>Earlier versions</h3>
              <ul>
                {state.history.map((v) => (
                  <li>
                    version {v.version}: {v.rules} rules, from {new Date(v.loaded_at_ms).toLocaleString()}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </>
      )}
    </Layout>
  );
}

import { Chart } from '../components/Chart';
import { Layout } from '../components/Layout';
import { type Column, SortableTable } from '../components/Table';
import { Empty, ErrorBox, Loading } from '../components/states';
import { fmtBytes, fmtCount } from '../lib/format';
import { useApi, useRange } from '../lib/hooks';
import { href, setParams, useLocation } from '../lib/router';
import { timeParams } from '../lib/requests';
import { pickStepSeconds } from '../lib/time';
import { Link } from '../components/Link';
import { BudgetTable } from './Pipeline';
import { fmtChange, fmtMoney, type SignalUsage, USAGE_GROUPS, type UsageReport, type UsageRow, usageApi, usageColumns } from '../lib/usageapi';

const SIGNAL_COLORS: Record<string, string> = { spans: '#2f6fed', logs: '#10b981', metrics: '#d98a00' };
const SIGNALS = ['spans', 'logs', 'metrics'];

function SignalCard({ s, currency }: { s: SignalUsage; currency: string }) {
  return (
    <div class="card stat" data-testid="usage-signal" data-signal={s.signal}>
      <div class="muted">{s.signal}</div>
      <div class="big" data-testid="usage-bytes">{fmtBytes(s.bytes)}</div>
      <div>
        {fmtCount(s.records)} records · <span data-testid="usage-change" class={s.change !== null && s.change > 0.2 ? 'warn-text' : ''}>{fmtChange(s.change)}</span> vs the period before
      </div>
      <div class="muted">
        {fmtMoney(s.cost, currency)} · a month at this rate: {fmtBytes(s.projected_monthly_bytes)}, <strong data-testid="usage-monthly">{fmtMoney(s.projected_monthly_cost, currency)}</strong>
      </div>
      <div class="muted">on disk about {fmtBytes(s.stored_bytes)}</div>
    </div>
  );
}

function columns(report: UsageReport): Column<UsageRow>[] {
  const group = USAGE_GROUPS.find((g) => g.value === report.group)?.label ?? report.group;
  const cols: Column<UsageRow>[] = [
    { key: 'signal', label: 'Signal', render: (r) => r.signal, sort: (r) => r.signal },
    { key: 'name', label: group, render: (r) => <span class="mono" title={r.name}>{r.text || r.name || '(none)'}</span>, sort: (r) => r.text || r.name },
  ];
  if (report.group !== 'service') cols.push({ key: 'service', label: 'Service', render: (r) => r.service ?? '', sort: (r) => r.service ?? '' });
  if (report.group === 'attribute_key') cols.push({ key: 'cardinality', label: 'Distinct values', align: 'right', render: (r) => fmtCount(r.cardinality ?? 0), sort: (r) => r.cardinality ?? 0, title: 'in a sample of the newest records' });
  cols.push(
    { key: 'records', label: 'Records', align: 'right', render: (r) => fmtCount(r.records), sort: (r) => r.records },
    { key: 'bytes', label: 'Bytes', align: 'right', render: (r) => fmtBytes(r.bytes), sort: (r) => r.bytes },
    {
      key: 'share',
      label: 'Share of signal',
      render: (r) => (
        <span class="share">
          <i style={{ width: `${Math.round(r.share * 100)}%`, background: SIGNAL_COLORS[r.signal] }} />
          {(r.share * 100).toFixed(1)}%
        </span>
      ),
      sort: (r) => r.share,
    },
    { key: 'change', label: 'vs before', align: 'right', render: (r) => fmtChange(r.change), sort: (r) => r.change ?? Infinity },
    { key: 'monthly', label: 'Monthly cost', align: 'right', render: (r) => fmtMoney(r.projected_monthly_cost, report.currency), sort: (r) => r.projected_monthly_cost },
    {
      key: 'read',
      label: 'Last read',
      render: (r) => (r.unread ? <span class="badge warn" data-testid="usage-unread">unread {report.unread_days}d</span> : r.last_read_ms ? new Date(r.last_read_ms).toLocaleString() : '–'),
      sort: (r) => r.last_read_ms ?? 0,
      title: 'When a search, chart, alert rule or dashboard last asked for it by name',
    },
  );
  return cols;
}

export function UsagePage() {
  const range = useRange();
  const { query } = useLocation();
  const group = query.get('group_by') || 'service';
  const signal = query.get('signal') || '';
  const step = pickStepSeconds(range, 60);
  const res = useApi((s) => usageApi.report({ ...timeParams(range), group_by: group, signal, step: `${step}s`, limit: 200 }, s), [range, group, signal, step]);
  const report = res.data;
  const shown = report ? SIGNALS.filter((s) => report.signals.some((x) => x.signal === s)) : [];
  return (
    <Layout title="Usage">
      <div class="row gap wrap" style={{ marginBottom: '12px' }}>
        <label>
          Count by{' '}
          <select class="select" value={group} data-testid="usage-group" onChange={(e) => setParams({ group_by: (e.target as HTMLSelectElement).value, sort: null })}>
            {USAGE_GROUPS.map((g) => (
              <option value={g.value}>{g.label}</option>
            ))}
          </select>
        </label>
        <label>
          Signal{' '}
          <select class="select" value={signal} data-testid="usage-signal-filter" onChange={(e) => setParams({ signal: (e.target as HTMLSelectElement).value || null })}>
            <option value="">All</option>
            {SIGNALS.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <span class="muted">Bytes are the records as sent; prices come from the server's [usage.prices].</span>
      </div>
      {res.error ? (
        <ErrorBox error={res.error} what="usage" />
      ) : !report ? (
        <Loading />
      ) : report.rows.length === 0 ? (
        <Empty title="Nothing was sent in this time range" />
      ) : (
        <>
          {report.signals.length > 0 && (
            <div class="grid cards" data-testid="usage-signals">
              {report.signals.map((s) => (
                <SignalCard s={s} currency={report.currency} />
              ))}
            </div>
          )}
          <div class="card" data-testid="usage-chart">
            <Chart title="Bytes sent per step" data={usageColumns(report.series, shown)} series={shown.map((s) => ({ label: s, color: SIGNAL_COLORS[s], bars: true }))} stacked height={180} fmt={fmtBytes} />
          </div>
          {report.budgets && report.budgets.length > 0 && (
            <div class="card" data-testid="usage-budgets">
              <h3>
                Budgets today and this month <Link href={href('/pipeline')}>edit</Link>
              </h3>
              <BudgetTable budgets={report.budgets} />
            </div>
          )}
          <div class="card flush">
            <SortableTable rows={report.rows} columns={columns(report)} defaultSort="bytes" rowKey={(r) => `${r.signal}/${r.service ?? ''}/${r.name}`} rowClass={(r) => (r.unread ? 'unread' : '')} testid="usage-table" />
          </div>
        </>
      )}
    </Layout>
  );
}

// The usage report (`/api/v1/usage`): what each service sends and costs.
import { get, type Params } from './api';
import type { Budget } from './pipelineapi';

export const USAGE_GROUPS = [
  { value: 'service', label: 'Service' },
  { value: 'scope', label: 'Instrumentation scope' },
  { value: 'span_name', label: 'Span name' },
  { value: 'log_template', label: 'Log template' },
  { value: 'metric_name', label: 'Metric' },
  { value: 'attribute_key', label: 'Attribute key' },
] as const;

export interface SignalUsage {
  signal: string;
  records: number;
  bytes: number;
  stored_bytes: number;
  previous_records: number;
  previous_bytes: number;
  change: number | null;
  cost: number;
  projected_monthly_bytes: number;
  projected_monthly_cost: number;
}

export interface UsageRow {
  signal: string;
  name: string;
  text?: string;
  service?: string;
  records: number;
  bytes: number;
  stored_bytes: number;
  share: number;
  previous_records: number;
  previous_bytes: number;
  change: number | null;
  cost: number;
  projected_monthly_cost: number;
  cardinality?: number;
  last_read_ms: number | null;
  unread: boolean;
}

export interface UsageReport {
  group: string;
  currency: string;
  unread_days: number;
  signals: SignalUsage[];
  rows: UsageRow[];
  series: { t: number; signal: string; records: number; bytes: number }[];
  /** The pipeline budgets' use of the day and the month (when the server has pipeline rules). */
  budgets?: Budget[];
}

export const usageApi = {
  report: (p: Params, s?: AbortSignal) => get<UsageReport>('/usage', p, s),
};

/** Bytes per step as chart columns: x in unix seconds, then one column per signal (0 where a
 * signal sent nothing in a step that another did). */
export function usageColumns(series: UsageReport['series'], signals: string[]): (number | null)[][] {
  const ts = [...new Set(series.map((p) => p.t))].sort((a, b) => a - b);
  const at = new Map(series.map((p) => [`${p.signal}@${p.t}`, p.bytes]));
  return [ts.map((t) => t / 1e9), ...signals.map((s) => ts.map((t) => at.get(`${s}@${t}`) ?? 0))];
}

/** "+25%", "−10%", or "new" without a previous period. */
export function fmtChange(c: number | null): string {
  if (c === null) return 'new';
  const pct = Math.round(c * 100);
  return `${pct > 0 ? '+' : pct < 0 ? '−' : '±'}${Math.abs(pct)}%`;
}

export function fmtMoney(v: number, currency: string): string {
  return `${v < 10 ? v.toFixed(2) : Math.round(v).toLocaleString('en-US')} ${currency}`;
}

// The pipeline rules and budgets (`/api/v1/pipeline`): what is in force, what each rule matched
// and saved, what each budget used and shed; replacing the rule file and dry-running one.
import { get } from './api';

export interface RuleStats {
  matched: number;
  dropped: number;
  changed: number;
  bytes_saved: number;
}

export interface PipelineRule {
  name: string;
  signal: string;
  action: string;
  stats: RuleStats;
}

export interface BudgetCap {
  period: 'day' | 'month';
  unit: 'records' | 'bytes';
  limit: number;
  used: number;
  ratio: number;
}

export interface Budget {
  name: string;
  signal: string;
  service: string | null;
  caps: BudgetCap[];
  ratio: number;
  state: 'ok' | 'warning' | 'shedding_debug' | 'capped';
  shed_records: number;
  shed_bytes: number;
  shed_debug_records: number;
  shed_capped_records: number;
}

export interface PipelineVersion {
  version: number;
  loaded_at_ms: number;
  rules: number;
}

export interface PipelineState {
  version: PipelineVersion;
  file: string | null;
  text: string;
  last_error: string | null;
  rules: PipelineRule[];
  budgets: Budget[];
  history: PipelineVersion[];
}

export interface DryRunRule {
  name: string;
  signal: string;
  action: string;
  matched_records: number;
  matched_bytes: number;
  saved_bytes: number | null;
}

export interface DryRun {
  from_unix_nano: number;
  to_unix_nano: number;
  rules: DryRunRule[];
}

/** A problem of a rule file, as the server names it. */
export interface RuleProblem {
  rule: string | null;
  field: string;
  message: string;
}

/** The server's answer to a rule file sent: its value, or why not (problems when the file was refused). */
export type Sent<T> = { ok: true; value: T } | { ok: false; message: string; problems: RuleProblem[] };

async function send<T>(method: string, path: string, text: string): Promise<Sent<T>> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers: { 'content-type': 'application/toml' }, body: text });
  } catch (e) {
    return { ok: false, message: `cannot reach the redscope server: ${(e as Error).message}`, problems: [] };
  }
  const body = await res.json().catch(() => undefined);
  if (res.ok && body) return { ok: true, value: body as T };
  const err = body?.error;
  const why = res.status === 403 ? 'saving rules needs an admin token' : err?.message ?? `HTTP ${res.status}`;
  return { ok: false, message: why, problems: err?.details ?? [] };
}

export const pipelineApi = {
  state: (s?: AbortSignal) => get<PipelineState>('/pipeline', {}, s),
  save: (text: string) => send<{ version: number }>('PUT', '/pipeline', text),
  dryRun: (text: string, from = 'now-24h') => send<DryRun>('POST', `/pipeline/dry-run?from=${encodeURIComponent(from)}`, text),
};

export const BUDGET_STATES: Record<Budget['state'], { label: string; cls: string }> = {
  ok: { label: 'ok', cls: 'plain' },
  warning: { label: 'over 80%', cls: 'warn' },
  shedding_debug: { label: 'shedding debug', cls: 'warn' },
  capped: { label: 'at its cap', cls: 'err' },
};

// The alerts API (/api/v1/rules, /alerts, /alerts/history, /silences): shapes and calls.
// Reading needs the `read` scope, changes `admin`; a server without alerts answers 404.
import { ApiError, del, get, post, type Params } from './api';

export interface Thresholds {
  degraded: number | null;
  critical: number | null;
}
export type RuleState = 'inactive' | 'pending' | 'firing';
export interface Rule {
  id: string;
  name: string;
  kind: 'alert' | 'red_errors' | 'red_latency' | 'log_pattern' | 'triage' | string;
  expr: string;
  for_seconds: number;
  keep_firing_for_seconds: number;
  thresholds: Thresholds | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  health: 'ok' | 'err' | 'unknown' | string;
  last_error: string | null;
  last_evaluation_ms: number | null;
  state: RuleState | string;
}
export interface RuleGroup {
  name: string;
  file: string | null;
  /** Where the group comes from (`builtin`, `file`, `api`), when the server says. */
  origin?: string;
  interval_seconds: number;
  rules: Rule[];
}
export interface Alert {
  fingerprint: string;
  rule: string;
  group: string;
  state: 'pending' | 'firing' | string;
  severity: string;
  service: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number;
  active_at_ms: number;
  fired_at_ms: number | null;
  silenced: boolean;
}
export interface AlertEvent {
  at_ms: number;
  rule: string;
  group: string;
  fingerprint: string;
  service: string | null;
  labels: Record<string, string>;
  from: string;
  to: string;
  severity: string;
  value: number;
}
export interface Matcher {
  name: string;
  value: string;
  is_regex: boolean;
  is_equal: boolean;
}
export interface Silence {
  id: string;
  matchers: Matcher[];
  starts_at_ms: number;
  ends_at_ms: number;
  created_by: string;
  comment: string;
  state: 'active' | 'pending' | 'expired' | string;
}
export type NewSilence = Omit<Silence, 'id' | 'state'>;

export const alertsApi = {
  rules: (s?: AbortSignal) => get<{ groups: RuleGroup[] }>('/rules', {}, s),
  alerts: (p: Params, s?: AbortSignal) => get<{ alerts: Alert[] }>('/alerts', p, s),
  history: (p: Params, s?: AbortSignal) => get<{ events: AlertEvent[] }>('/alerts/history', p, s),
  silences: (s?: AbortSignal) => get<{ silences: Silence[] }>('/silences', {}, s),
  createSilence: (body: NewSilence) => post<{ id: string }>('/silences', body),
  expireSilence: (id: string) => del<unknown>(`/silences/${encodeURIComponent(id)}`),
};

/** The server has no alerts API (an older server, or alerts switched off). */
export const alertsMissing = (e: Error | undefined) => e instanceof ApiError && e.notFound;

/** Matchers that select exactly this alert's labels (name = value each). */
export function matchersFor(labels: Record<string, string>): Matcher[] {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value, is_regex: false, is_equal: true }));
}

/** `name=value` per line (also `!=`, `=~`, `!~`) → matchers; null with the bad line. */
export function parseMatchers(text: string): { matchers: Matcher[]; bad: string | null } {
  const matchers: Matcher[] = [];
  for (const raw of text.split(/\n|,/)) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?$/.exec(line);
    if (!m) return { matchers, bad: line };
    matchers.push({ name: m[1], value: m[3], is_regex: m[2].includes('~'), is_equal: !m[2].startsWith('!') });
  }
  return { matchers, bad: null };
}

export function fmtMatcher(m: Matcher): string {
  const op = m.is_regex ? (m.is_equal ? '=~' : '!~') : m.is_equal ? '=' : '!=';
  return `${m.name}${op}${m.value}`;
}

// Funnels in the UI: the definition kept in the page's URL (the same `steps`, `window`, `by`
// and `breakdown` parameters /api/v1/web/funnel takes, so a shared link is the question), and
// the answer shaped as bars and a breakdown table.
import { parseDurationMs } from './time';
import type { FunnelResult, StepCount } from './webapi';

export interface StepDef {
  type: 'page' | 'event';
  match: string;
}

export interface FunnelDef {
  steps: StepDef[];
  /** A duration as the API reads it (`30m`, `1h`). */
  window: string;
  by: 'session' | 'user';
  breakdown: string;
}

export const DEFAULT_WINDOW = '1h';

/** `page:/cart` or `event:order.placed` (unprefixed: a path is a page, anything else an event). */
export function parseStep(s: string): StepDef | null {
  const t = s.trim();
  if (!t) return null;
  if (t.startsWith('page:')) return t.length > 5 ? { type: 'page', match: t.slice(5) } : null;
  if (t.startsWith('event:')) return t.length > 6 ? { type: 'event', match: t.slice(6) } : null;
  return t.startsWith('/') ? { type: 'page', match: t } : { type: 'event', match: t };
}

export const stepText = (s: StepDef) => `${s.type}:${s.match.trim()}`;

/** The funnel the URL describes. */
export function funnelFromQuery(q: URLSearchParams): FunnelDef {
  const steps = (q.get('steps') ?? '')
    .split(',')
    .map(parseStep)
    .filter((s): s is StepDef => s !== null);
  return {
    steps,
    window: q.get('window') || DEFAULT_WINDOW,
    by: q.get('by') === 'user' ? 'user' : 'session',
    breakdown: q.get('breakdown') ?? '',
  };
}

/** The URL parameters of a funnel (defaults left out); steps without text are dropped. */
export function funnelParams(f: FunnelDef): Record<string, string | null> {
  const steps = f.steps.filter((s) => s.match.trim()).map(stepText);
  return {
    steps: steps.length ? steps.join(',') : null,
    window: f.window && f.window !== DEFAULT_WINDOW ? f.window : null,
    by: f.by === 'user' ? 'user' : null,
    breakdown: f.breakdown.trim() || null,
  };
}

/** Why the funnel cannot be asked yet, or null. The API splits steps at commas. */
export function funnelProblem(f: FunnelDef): string | null {
  const steps = f.steps.filter((s) => s.match.trim());
  if (steps.length < 2) return 'A funnel needs at least two steps.';
  if (steps.length > 20) return 'A funnel has at most 20 steps.';
  if (steps.some((s) => s.match.includes(','))) return 'Step names cannot contain commas.';
  const w = parseDurationMs(f.window.trim());
  if (!(w > 0)) return 'The conversion window is a duration such as 30m, 1h or 7d.';
  if (steps.some((s) => s.type === 'page' && !s.match.trim().startsWith('/'))) return 'Page steps are routes or paths starting with "/" (a trailing * matches any rest).';
  return null;
}

export interface FunnelBar {
  label: string;
  type: 'page' | 'event';
  count: number;
  /** Height of the bar: the count over the first step's, 0..1. */
  height: number;
  /** The part of the previous step's bar that did not reach this step, 0..1 of the first. */
  droppedHeight: number;
  dropped: number;
  conversion: number;
  fromPrevious: number;
}

/** One bar per step, scaled to the first step (which is the tallest: counts only fall). */
export function funnelBars(steps: StepCount[]): FunnelBar[] {
  const first = steps[0]?.count ?? 0;
  return steps.map((s) => ({
    label: s.step.match,
    type: s.step.type,
    count: s.count,
    height: first ? s.count / first : 0,
    droppedHeight: first ? s.dropped / first : 0,
    dropped: s.dropped,
    conversion: s.conversion,
    fromPrevious: s.from_previous,
  }));
}

export interface BreakdownRow {
  value: string;
  counts: number[];
  /** Reached the last step over entered the first. */
  conversion: number;
}

/** The breakdown as table rows, the values with most entries first. */
export function breakdownRows(r: FunnelResult): BreakdownRow[] {
  return r.breakdown
    .map((b) => {
      const counts = b.steps.map((s) => s.count);
      const first = counts[0] ?? 0;
      return { value: b.value, counts, conversion: first ? (counts[counts.length - 1] ?? 0) / first : 0 };
    })
    .sort((a, b) => (b.counts[0] ?? 0) - (a.counts[0] ?? 0) || a.value.localeCompare(b.value));
}

// Web Vitals for display: the thresholds web.dev rates them by (the same as crates/rum's
// vitals.rs), their formatting, and rating shares as the segments of a bar.
import { fmtDurationMs } from './format';
import type { VitalStats, VitalsGroup } from './webapi';

export type Rating = 'good' | 'needs-improvement' | 'poor';

/** The vitals shown, in the order shown. */
export const VITALS = ['LCP', 'INP', 'CLS', 'FCP', 'TTFB'] as const;

export const VITAL_NAMES: Record<string, string> = {
  LCP: 'Largest Contentful Paint',
  INP: 'Interaction to Next Paint',
  CLS: 'Cumulative Layout Shift',
  FCP: 'First Contentful Paint',
  TTFB: 'Time to First Byte',
};

/** Upper bounds of "good" and of "needs improvement" (ms; CLS unitless). */
export const THRESHOLDS: Record<string, [number, number]> = {
  LCP: [2500, 4000],
  INP: [200, 500],
  CLS: [0.1, 0.25],
  FCP: [1800, 3000],
  TTFB: [800, 1800],
  FID: [100, 300],
};

export function rate(name: string, value: number | null | undefined): Rating | null {
  const t = THRESHOLDS[name];
  if (!t || value === null || value === undefined || !Number.isFinite(value)) return null;
  if (value <= t[0]) return 'good';
  if (value <= t[1]) return 'needs-improvement';
  return 'poor';
}

export const RATING_LABEL: Record<Rating, string> = { good: 'good', 'needs-improvement': 'needs improvement', poor: 'poor' };

export function fmtVital(name: string, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (name === 'CLS') return value.toFixed(2);
  return fmtDurationMs(value);
}

export interface ShareSegment {
  rating: Rating;
  /** The share, 0..1. */
  share: number;
  /** As shown: whole percents that add up to 100 (largest remainder). */
  pct: number;
}

/**
 * The good / needs-improvement / poor shares of `v` as bar segments whose whole percents add up
 * to the rounded total (100 unless some values had no rating): each share rounded on its own
 * could show 33% + 33% + 33%. None when there are no measurements.
 */
export function shareSegments(v: Pick<VitalStats, 'count' | 'good' | 'needs_improvement' | 'poor'>): ShareSegment[] {
  const raw: [Rating, number][] = [
    ['good', v.good],
    ['needs-improvement', v.needs_improvement],
    ['poor', v.poor],
  ];
  const total = raw.reduce((a, [, s]) => a + Math.max(0, s), 0);
  if (!v.count || total <= 0) return [];
  const exact = raw.map(([rating, s]) => ({ rating, share: Math.max(0, s), pct: 0, rest: 0 }));
  let left = Math.round(total * 100);
  for (const e of exact) {
    e.pct = Math.floor(e.share * 100);
    e.rest = e.share * 100 - e.pct;
    left -= e.pct;
  }
  const byRest = [...exact].sort((a, b) => b.rest - a.rest);
  for (let i = 0; i < left; i++) byRest[i % byRest.length].pct += 1;
  return exact.map(({ rating, share, pct }) => ({ rating, share, pct }));
}

/** The stats of vital `name` in `group`, if measured. */
export function vitalOf(group: VitalsGroup | undefined, name: string): VitalStats | undefined {
  return group?.vitals.find((v) => v.name === name);
}

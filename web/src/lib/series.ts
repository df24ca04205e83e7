// Turning API time series into uPlot's aligned arrays.
import type { RedPoint } from './api';

/** Bucket starts (unix seconds) covering [fromMs, toMs) with `stepNs`. */
export function buckets(fromMs: number, toMs: number, stepNs: number): number[] {
  const stepS = stepNs / 1e9;
  const first = Math.floor(fromMs / 1000 / stepS) * stepS;
  const out: number[] = [];
  for (let t = first; t < toMs / 1000 && out.length < 5000; t += stepS) out.push(t);
  return out;
}

/** Values of `pick(point)` at each bucket (null where there is no point). */
export function alignRed(points: RedPoint[], xs: number[], stepNs: number, pick: (p: RedPoint) => number | null): (number | null)[] {
  const stepS = stepNs / 1e9;
  const first = xs[0] ?? 0;
  const out: (number | null)[] = xs.map(() => null);
  for (const p of points) {
    const i = Math.round((p.t / 1e9 - first) / stepS);
    if (i >= 0 && i < out.length) out[i] = pick(p);
  }
  return out;
}

/** Same, filling empty buckets with 0 (for counts). */
export function alignCounts(points: RedPoint[], xs: number[], stepNs: number, pick: (p: RedPoint) => number): number[] {
  return alignRed(points, xs, stepNs, pick).map((v) => v ?? 0);
}

/**
 * The requests/errors bar chart's data: `[xs, requests, errors]`. Each bar is drawn from the
 * baseline and the errors over the requests, so the bars stack: errors at the bottom, the rest
 * of the requests above them, and the top is the traffic (drawing the successes and the errors
 * side by side from the baseline made an incident look like a drop in traffic).
 */
export function redCountBars(points: RedPoint[], xs: number[], stepNs: number): [number[], number[], number[]] {
  return [xs, alignCounts(points, xs, stepNs, (p) => p.requests), alignCounts(points, xs, stepNs, (p) => p.errors)];
}

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

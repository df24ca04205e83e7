// Time ranges: the URL keeps what the user chose (`now-1h`, an RFC 3339 instant, or unix ns);
// each refresh resolves it to absolute unix nanoseconds so every request of a view agrees.

export const PRESETS = ['5m', '15m', '1h', '6h', '24h'] as const;
export const DEFAULT_FROM = 'now-1h';

const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** Parse a duration like `15m`, `30s`, `1h30m` into milliseconds; NaN when it is not one. */
export function parseDurationMs(s: string): number {
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/g;
  let total = 0;
  let matched = '';
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    total += parseFloat(m[1]) * (m[2] === 'ms' ? 1 : UNIT_MS[m[2]]);
    matched += m[0];
  }
  return matched.replace(/\s/g, '') === s.replace(/\s/g, '') && matched ? total : NaN;
}

/** Resolve a time expression to unix milliseconds (NaN when it cannot be read). */
export function resolveMs(expr: string, nowMs: number): number {
  const e = expr.trim();
  if (e === 'now' || e === '') return nowMs;
  const rel = /^now\s*-\s*(.+)$/.exec(e);
  if (rel) return nowMs - parseDurationMs(rel[1]);
  if (/^\d{16,20}$/.test(e)) return Number(BigInt(e) / 1000000n);
  if (/^\d{10,13}$/.test(e)) return e.length <= 10 ? Number(e) * 1000 : Number(e);
  return Date.parse(e);
}

export interface Range {
  /** As written in the URL. */
  from: string;
  to: string;
  /** Resolved. */
  fromMs: number;
  toMs: number;
  /** Unix ns as decimal strings for the API (exact, unlike JS numbers). */
  fromNs: string;
  toNs: string;
  /** True when the range ends at `now` (auto-refresh makes sense). */
  live: boolean;
  valid: boolean;
}

export const msToNs = (ms: number) => (BigInt(Math.round(ms)) * 1000000n).toString();

export function resolveRange(from: string | null, to: string | null, nowMs = Date.now()): Range {
  const f = from || DEFAULT_FROM;
  const t = to || 'now';
  let fromMs = resolveMs(f, nowMs);
  let toMs = resolveMs(t, nowMs);
  const valid = Number.isFinite(fromMs) && Number.isFinite(toMs) && fromMs < toMs;
  if (!valid) {
    fromMs = nowMs - 3600e3;
    toMs = nowMs;
  }
  return { from: f, to: t, fromMs, toMs, fromNs: msToNs(fromMs), toNs: msToNs(toMs), live: t === 'now', valid };
}

/** A step that gives about `buckets` buckets over the range, rounded to a friendly size. */
export function pickStepSeconds(range: Range, buckets = 60): number {
  const span = (range.toMs - range.fromMs) / 1000;
  const steps = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  for (const s of steps) if (span / s <= buckets) return s;
  return 86400;
}

export function describeRange(r: Range): string {
  const m = /^now-(.+)$/.exec(r.from);
  if (m && r.to === 'now') return `Last ${m[1]}`;
  return `${fmtDateTime(r.fromMs)} → ${fmtDateTime(r.toMs)}`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function fmtDateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtTime(ms: number, withMs = false): string {
  const d = new Date(ms);
  const s = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${s}.${pad(d.getMilliseconds(), 3)}` : s;
}

/** For <input type="datetime-local">. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fromLocalInput(v: string): string | null {
  const ms = new Date(v).getTime();
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

export function fmtAgo(ms: number, nowMs = Date.now()): string {
  const s = Math.max(0, (nowMs - ms) / 1000);
  if (s < 60) return `${Math.round(s)}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

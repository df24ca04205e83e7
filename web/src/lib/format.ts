// Number formatting shared by tables, charts and tooltips.

export function fmtDurationMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms === 0) return '0';
  if (ms < 0.001) return `${Math.round(ms * 1e6)} ns`;
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 0)} µs`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 100 ? 1 : 0)} ms`;
  if (ms < 60e3) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60e3).toFixed(1)} min`;
}

export const fmtDurationNs = (ns: number | null | undefined) =>
  ns === null || ns === undefined ? '—' : fmtDurationMs(ns / 1e6);

export function fmtRate(perS: number | null | undefined): string {
  if (perS === null || perS === undefined || !Number.isFinite(perS)) return '—';
  if (perS === 0) return '0/s';
  if (perS < 0.01) return `${(perS * 60).toFixed(2)}/min`;
  if (perS < 10) return `${perS.toFixed(2)}/s`;
  return `${fmtCount(perS)}/s`;
}

export function fmtPct(frac: number | null | undefined): string {
  if (frac === null || frac === undefined || !Number.isFinite(frac)) return '—';
  const p = frac * 100;
  if (p === 0) return '0%';
  if (p < 0.1) return '<0.1%';
  return `${p < 10 ? p.toFixed(1) : Math.round(p)}%`;
}

export function fmtCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a < 1000) return Number.isInteger(n) ? String(n) : n.toFixed(a < 10 ? 2 : 1);
  if (a < 1e6) return `${(n / 1e3).toFixed(a < 1e4 ? 1 : 0)}k`;
  if (a < 1e9) return `${(n / 1e6).toFixed(a < 1e7 ? 1 : 0)}M`;
  return `${(n / 1e9).toFixed(1)}B`;
}

export function fmtBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}

/** Format a metric value by its OpenTelemetry unit. */
export function fmtUnit(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  switch (unit) {
    case 'ms':
      return fmtDurationMs(v);
    case 's':
      return fmtDurationMs(v * 1000);
    case 'By':
      return fmtBytes(v);
    case '1':
      return Math.abs(v) <= 1.5 ? fmtPct(v) : fmtCount(v);
    default: {
      const u = unit.replace(/^\{(.*)\}$/, '$1');
      return u ? `${fmtCount(v)} ${u}` : fmtCount(v);
    }
  }
}

export const SEVERITIES = [
  { min: 1, name: 'TRACE' },
  { min: 5, name: 'DEBUG' },
  { min: 9, name: 'INFO' },
  { min: 13, name: 'WARN' },
  { min: 17, name: 'ERROR' },
  { min: 21, name: 'FATAL' },
];

/** The severity band name for an OTLP severity number (0 = unspecified). */
export function severityName(n: number): string {
  if (!n) return 'UNSET';
  let name = 'TRACE';
  for (const s of SEVERITIES) if (n >= s.min) name = s.name;
  return name;
}

export function severityClass(n: number): string {
  return `sev-${severityName(n).toLowerCase()}`;
}

export function stringifyValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

// SQL over the logs table for the Logs page (histogram and facets).
import type { Range } from './time';

export const BANDS = [
  { name: 'FATAL', min: 21, color: '#a3141a' },
  { name: 'ERROR', min: 17, color: '#e5484d' },
  { name: 'WARN', min: 13, color: '#d98a00' },
  { name: 'INFO', min: 9, color: '#2f6fed' },
  { name: 'DEBUG', min: 5, color: '#8b95a3' },
  { name: 'TRACE', min: 1, color: '#b4bcc8' },
  { name: 'UNSET', min: 0, color: '#9aa5b1' },
];
export const bandSql = `case ${BANDS.filter((b) => b.min > 0)
  .map((b) => `when severity_number >= ${b.min} then '${b.name}'`)
  .join(' ')} else 'UNSET' end`;

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

export interface LogFilters {
  service: string;
  q: string;
  severity: string;
  trace_id: string;
  template_id: string;
}

export function whereSql(range: Range, f: LogFilters, skip?: keyof LogFilters | 'severity'): string {
  const w = [`time_unix_nano >= ${range.fromNs}`, `time_unix_nano < ${range.toNs}`];
  if (f.service && skip !== 'service') w.push(`service_name = ${lit(f.service)}`);
  if (f.q) w.push(`lower(cast(body as varchar)) like ${lit(`%${f.q.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`)}`);
  if (f.severity && skip !== 'severity') {
    const b = BANDS.find((x) => x.name === f.severity);
    if (b) w.push(`severity_number >= ${b.min}`);
  }
  if (f.trace_id) w.push(`trace_id = ${lit(f.trace_id)}`);
  if (f.template_id) w.push(`cast(log_template_id as varchar) = ${lit(f.template_id)}`);
  return w.join(' and ');
}

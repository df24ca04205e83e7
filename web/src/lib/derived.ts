// RED metrics and the service map. Uses the server's /red and /service-map routes; while a
// server does not have them yet (404), computes the same shapes from raw spans with /sql so
// the UI still works, and marks the result `fallback` so the page can say so.
import { api, ApiError, type MapEdge, type MapNode, type RedResult, type RedTotal, type ServiceMap } from './api';
import { redParams, timeParams } from './requests';
import type { Range } from './time';

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

// Spans that count as requests: server/consumer spans and roots of any kind.
const ENTRY = `(kind in ('SERVER','CONSUMER') or parent_span_id = '')`;
const ERR = `(status_code = 'ERROR' or (kind = 'SERVER' and http_response_status_code >= 500))`;

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  return 0;
}
function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

function rows(r: { columns: string[]; rows: unknown[][] }): Record<string, unknown>[] {
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i]])));
}

async function redFromSql(range: Range, stepS: number, service: string | undefined, signal: AbortSignal): Promise<RedResult> {
  const stepNs = BigInt(stepS) * 1000000000n;
  const where = `${ENTRY} and start_time_unix_nano >= ${range.fromNs} and start_time_unix_nano < ${range.toNs}${
    service ? ` and service_name = ${lit(service)}` : ''
  }`;
  const key = service ? 'name' : 'service_name';
  const pct = (p: number) => `approx_percentile_cont(duration_ns, ${p}) / 1e6`;
  const aggs = `count(*) as requests, sum(case when ${ERR} then 1 else 0 end) as errors, ${pct(0.5)} as p50, ${pct(0.9)} as p90, ${pct(0.99)} as p99`;
  const [tot, ser] = await Promise.all([
    api.sql(`select ${key} as k, ${aggs} from spans where ${where} group by 1 order by 2 desc`, signal),
    api.sql(
      `select ${key} as k, (start_time_unix_nano / ${stepNs}) * ${stepNs} as t, ${aggs} from spans where ${where} group by 1, 2 order by 2`,
      signal,
    ),
  ]);
  const seconds = (range.toMs - range.fromMs) / 1000;
  const totals: RedTotal[] = rows(tot).map((r) => {
    const requests = num(r.requests);
    const errors = num(r.errors);
    return {
      service: service ?? String(r.k),
      operation: service ? String(r.k) : '',
      requests,
      errors,
      error_rate: requests ? errors / requests : 0,
      rate_per_s: requests / seconds,
      p50_ms: numOrNull(r.p50),
      p90_ms: numOrNull(r.p90),
      p99_ms: numOrNull(r.p99),
    };
  });
  const byKey = new Map<string, RedResult['series'][number]>();
  for (const r of rows(ser)) {
    const k = String(r.k);
    let s = byKey.get(k);
    if (!s) {
      s = { service: service ?? k, operation: service ? k : '', points: [] };
      byKey.set(k, s);
    }
    s.points.push({
      t: num(r.t),
      requests: num(r.requests),
      errors: num(r.errors),
      p50_ms: numOrNull(r.p50),
      p90_ms: numOrNull(r.p90),
      p99_ms: numOrNull(r.p99),
    });
  }
  return { step_ns: Number(stepNs), series: [...byKey.values()], totals, fallback: true };
}

// Routes found missing (404) in this page load: skip straight to the SQL fallback after that.
const missing = new Set<string>();

/** RED per service (no `service`) or per operation of `service`. */
export async function fetchRed(
  range: Range,
  stepS: number,
  service: string | undefined,
  signal: AbortSignal,
  operation?: string,
): Promise<RedResult> {
  if (missing.has('red')) return redFromSql(range, stepS, service, signal);
  try {
    return await api.red(redParams(range, stepS, service, operation), signal);
  } catch (e) {
    if (e instanceof ApiError && e.routeMissing) {
      missing.add('red');
      return redFromSql(range, stepS, service, signal);
    }
    throw e;
  }
}

async function mapFromSql(range: Range, signal: AbortSignal): Promise<ServiceMap> {
  const t = (a: string) => `${a}.start_time_unix_nano >= ${range.fromNs} and ${a}.start_time_unix_nano < ${range.toNs}`;
  const pct = (a: string, p: number) => `approx_percentile_cont(${a}.duration_ns, ${p}) / 1e6`;
  const [svc, edges, deps, consumers] = await Promise.all([
    api.sql(
      `select service_name as name, count(*) as requests, sum(case when ${ERR} then 1 else 0 end) as errors, ${pct('s', 0.5)} as p50, ${pct('s', 0.99)} as p99 from spans s where ${ENTRY} and ${t('s')} group by 1`,
      signal,
    ),
    api.sql(
      `select c.service_name as src, s.service_name as dst, count(*) as requests, sum(case when c.status_code = 'ERROR' then 1 else 0 end) as errors, ${pct('c', 0.5)} as p50, ${pct('c', 0.99)} as p99 from spans c join spans s on s.trace_id = c.trace_id and s.parent_span_id = c.span_id where c.kind = 'CLIENT' and s.kind = 'SERVER' and c.service_name <> s.service_name and ${t('c')} group by 1, 2`,
      signal,
    ),
    api.sql(
      `select c.service_name as src, c.kind as kind, c.db_system as db, c.server_address as addr, c.messaging_destination_name as dest, count(*) as requests, sum(case when c.status_code = 'ERROR' then 1 else 0 end) as errors, ${pct('c', 0.5)} as p50, ${pct('c', 0.99)} as p99 from spans c where c.kind in ('CLIENT', 'PRODUCER') and ${t('c')} group by 1, 2, 3, 4, 5`,
      signal,
    ),
    api.sql(
      `select s.service_name as dst, s.messaging_destination_name as dest, count(*) as requests, sum(case when s.status_code = 'ERROR' then 1 else 0 end) as errors, ${pct('s', 0.5)} as p50, ${pct('s', 0.99)} as p99 from spans s where s.kind = 'CONSUMER' and s.messaging_destination_name is not null and ${t('s')} group by 1, 2`,
      signal,
    ),
  ]);
  const seconds = (range.toMs - range.fromMs) / 1000;
  const nodes = new Map<string, MapNode>();
  const mk = (name: string, kind: string, instrumented: boolean) => {
    let n = nodes.get(name);
    if (!n) {
      n = { name, kind, instrumented, requests: 0, errors: 0, error_rate: 0, rate_per_s: 0, p50_ms: null, p99_ms: null };
      nodes.set(name, n);
    }
    return n;
  };
  for (const r of rows(svc)) {
    const n = mk(String(r.name), 'service', true);
    n.requests = num(r.requests);
    n.errors = num(r.errors);
    n.p50_ms = numOrNull(r.p50);
    n.p99_ms = numOrNull(r.p99);
  }
  const out: MapEdge[] = [];
  const edge = (from: string, to: string, r: Record<string, unknown>) => {
    const requests = num(r.requests);
    const errors = num(r.errors);
    const existing = out.find((e) => e.from === from && e.to === to);
    if (existing) {
      existing.requests += requests;
      existing.errors += errors;
      existing.error_rate = existing.requests ? existing.errors / existing.requests : 0;
      existing.rate_per_s = existing.requests / seconds;
      return;
    }
    out.push({
      from,
      to,
      requests,
      errors,
      error_rate: requests ? errors / requests : 0,
      rate_per_s: requests / seconds,
      p50_ms: numOrNull(r.p50),
      p99_ms: numOrNull(r.p99),
    });
  };
  for (const r of rows(edges)) {
    mk(String(r.src), 'service', true);
    mk(String(r.dst), 'service', true);
    edge(String(r.src), String(r.dst), r);
  }
  for (const r of rows(deps)) {
    const src = String(r.src);
    let name: string | null = null;
    let kind = 'external';
    if (r.db) {
      name = String(r.addr ?? r.db);
      kind = 'database';
    } else if (r.dest) {
      name = String(r.dest);
      kind = 'messaging';
    } else if (r.addr && !nodes.has(String(r.addr))) {
      name = String(r.addr);
      kind = 'external';
    }
    if (!name || nodes.get(name)?.instrumented) continue;
    const n = mk(name, kind, false);
    n.requests += num(r.requests);
    n.errors += num(r.errors);
    n.p50_ms ??= numOrNull(r.p50);
    n.p99_ms ??= numOrNull(r.p99);
    edge(src, name, r);
  }
  for (const r of rows(consumers)) {
    const dest = String(r.dest);
    mk(dest, 'messaging', false);
    mk(String(r.dst), 'service', true);
    edge(dest, String(r.dst), r);
  }
  for (const n of nodes.values()) {
    n.error_rate = n.requests ? n.errors / n.requests : 0;
    n.rate_per_s = n.requests / seconds;
  }
  return { nodes: [...nodes.values()], edges: out, fallback: true };
}

export async function fetchServiceMap(range: Range, signal: AbortSignal): Promise<ServiceMap> {
  if (missing.has('map')) return mapFromSql(range, signal);
  try {
    return await api.serviceMap(timeParams(range), signal);
  } catch (e) {
    if (e instanceof ApiError && e.routeMissing) {
      missing.add('map');
      return mapFromSql(range, signal);
    }
    throw e;
  }
}

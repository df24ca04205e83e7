// The SDK's records and their OTLP/HTTP JSON encoding (OpenTelemetry's JSON mapping of the
// protobuf messages: lowerCamelCase fields, hex trace and span ids, int64 as decimal strings,
// enums as numbers).

import type { Attr, Attrs } from './config';
import { nanos } from './time';

export const SDK_NAME = 'redscope-browser';
export const SDK_VERSION = '0.1.0';

/** SpanKind numbers of the protocol. */
export const SPAN_INTERNAL = 1;
export const SPAN_CLIENT = 3;
/** Status codes of the protocol. */
export const STATUS_UNSET = 0;
export const STATUS_ERROR = 2;
/** SeverityNumber of the protocol. */
export const SEVERITY_INFO = 9;
export const SEVERITY_ERROR = 17;

export interface SpanEvent {
  name: string;
  /** Epoch ms. */
  time: number;
  attrs?: Attrs;
}

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  /** Epoch ms, fractions allowed. */
  start: number;
  end: number;
  attrs: Attrs;
  status?: number;
  events?: SpanEvent[];
}

export interface LogRecord {
  /** Epoch ms. */
  time: number;
  severity: number;
  body?: string;
  attrs: Attrs;
  traceId?: string;
  spanId?: string;
}

/** Longest string attribute value sent (stack traces fit); replay bodies are not attributes. */
export const MAX_STRING = 8192;
const MAX_ARRAY = 64;
const MAX_ATTRS = 96;

type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValue[] } };

interface KeyValue {
  key: string;
  value: AnyValue;
}

function anyValue(v: Attr): AnyValue | null {
  switch (typeof v) {
    case 'string':
      return { stringValue: v.length > MAX_STRING ? v.slice(0, MAX_STRING) : v };
    case 'boolean':
      return { boolValue: v };
    case 'number':
      if (!Number.isFinite(v)) return null;
      return Number.isSafeInteger(v) ? { intValue: String(v) } : { doubleValue: v };
    default:
      break;
  }
  if (Array.isArray(v)) {
    const values: AnyValue[] = [];
    for (const item of v.slice(0, MAX_ARRAY)) {
      const a = anyValue(item);
      if (a) values.push(a);
    }
    return { arrayValue: { values } };
  }
  return null;
}

/** Attributes in the protocol's list form; null, undefined and non-finite values are left out. */
export function encodeAttributes(attrs: Attrs): KeyValue[] {
  const out: KeyValue[] = [];
  for (const key in attrs) {
    if (out.length >= MAX_ATTRS) break;
    const value = anyValue(attrs[key]);
    if (value) out.push({ key, value });
  }
  return out;
}

function encodeSpan(s: SpanRecord): Record<string, unknown> {
  const span: Record<string, unknown> = {
    traceId: s.traceId,
    spanId: s.spanId,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: nanos(s.start),
    endTimeUnixNano: nanos(Math.max(s.end, s.start)),
    attributes: encodeAttributes(s.attrs),
    status: { code: s.status || STATUS_UNSET },
  };
  if (s.parentSpanId) span.parentSpanId = s.parentSpanId;
  if (s.events && s.events.length) {
    span.events = s.events.map((e) => ({
      timeUnixNano: nanos(e.time),
      name: e.name,
      attributes: encodeAttributes(e.attrs || {}),
    }));
  }
  return span;
}

const SEVERITY_TEXT: Record<number, string> = { [SEVERITY_INFO]: 'INFO', [SEVERITY_ERROR]: 'ERROR' };

function encodeLog(l: LogRecord, observed: string): Record<string, unknown> {
  const log: Record<string, unknown> = {
    timeUnixNano: nanos(l.time),
    observedTimeUnixNano: observed,
    severityNumber: l.severity,
    severityText: SEVERITY_TEXT[l.severity] || '',
    attributes: encodeAttributes(l.attrs),
  };
  if (l.body !== undefined) log.body = { stringValue: l.body };
  if (l.traceId) log.traceId = l.traceId;
  if (l.spanId) log.spanId = l.spanId;
  return log;
}

const scope = { name: SDK_NAME, version: SDK_VERSION };

/** The body of `POST /v1/traces`. */
export function encodeTraces(resource: Attrs, spans: SpanRecord[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: encodeAttributes(resource) },
        scopeSpans: [{ scope, spans: spans.map(encodeSpan) }],
      },
    ],
  });
}

/** The body of `POST /v1/logs`. */
export function encodeLogs(resource: Attrs, logs: LogRecord[], observedMs: number): string {
  const observed = nanos(observedMs);
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: encodeAttributes(resource) },
        scopeLogs: [{ scope, logRecords: logs.map((l) => encodeLog(l, observed)) }],
      },
    ],
  });
}

/** Resource attributes of this page's telemetry. */
export function browserResource(o: { serviceName: string; serviceVersion: string; environment: string }): Attrs {
  const nav = navigator as Navigator & {
    userAgentData?: { brands?: { brand: string; version: string }[]; mobile?: boolean; platform?: string };
  };
  const r: Attrs = {
    'service.name': o.serviceName,
    'telemetry.sdk.name': SDK_NAME,
    'telemetry.sdk.language': 'webjs',
    'telemetry.sdk.version': SDK_VERSION,
    'user_agent.original': nav.userAgent,
    'browser.language': nav.language,
  };
  if (o.serviceVersion) r['service.version'] = o.serviceVersion;
  if (o.environment) r['deployment.environment.name'] = o.environment;
  const ua = nav.userAgentData;
  if (ua) {
    if (ua.brands) r['browser.brands'] = ua.brands.map((b) => `${b.brand} ${b.version}`);
    if (typeof ua.mobile === 'boolean') r['browser.mobile'] = ua.mobile;
    if (ua.platform) r['browser.platform'] = ua.platform;
  }
  return r;
}

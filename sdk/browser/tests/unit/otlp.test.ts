import { describe, expect, it } from 'vitest';
import { SPAN_CLIENT, STATUS_ERROR, encodeAttributes, encodeLogs, encodeTraces } from '../../src/otlp';
import { nanos } from '../../src/time';

const resource = { 'service.name': 'shop-web', 'service.version': '1.2.3', 'telemetry.sdk.language': 'webjs' };

describe('OTLP JSON encoding', () => {
  it('writes times as strings of nanoseconds without losing precision', () => {
    expect(nanos(1_700_000_000_123)).toBe('1700000000123000000');
    expect(nanos(1_700_000_000_123.456)).toBe('1700000000123456000');
    expect(nanos(1_700_000_000_123.0004)).toBe('1700000000123000000');
    expect(nanos(1_700_000_000_123.9999)).toBe('1700000000124000000');
    expect(nanos(0.5)).toBe('500000');
    expect(nanos(0)).toBe('0');
    expect(nanos(NaN)).toBe('0');
  });

  it('maps attribute values to AnyValue, int64 as strings, leaving out what has no value', () => {
    expect(
      encodeAttributes({ s: 'a', i: 42, d: 0.25, b: false, n: null, u: undefined, inf: Infinity, arr: ['x', 1] }),
    ).toEqual([
      { key: 's', value: { stringValue: 'a' } },
      { key: 'i', value: { intValue: '42' } },
      { key: 'd', value: { doubleValue: 0.25 } },
      { key: 'b', value: { boolValue: false } },
      { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'x' }, { intValue: '1' }] } } },
    ]);
  });

  it('writes spans in resourceSpans/scopeSpans with hex ids and numeric enums', () => {
    const body = JSON.parse(
      encodeTraces(resource, [
        {
          traceId: '0af7651916cd43dd8448eb211c80319c',
          spanId: 'b7ad6b7169203331',
          parentSpanId: '00f067aa0ba902b7',
          name: 'GET',
          kind: SPAN_CLIENT,
          start: 1_700_000_000_000,
          end: 1_700_000_000_250.5,
          attrs: { 'http.request.method': 'GET', 'http.response.status_code': 500 },
          status: STATUS_ERROR,
          events: [{ name: 'responseStart', time: 1_700_000_000_100 }],
        },
      ]),
    );
    const rs = body.resourceSpans[0];
    expect(rs.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'shop-web' } });
    expect(rs.scopeSpans[0].scope).toEqual({ name: 'redscope-browser', version: expect.any(String) });
    expect(rs.scopeSpans[0].spans[0]).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      parentSpanId: '00f067aa0ba902b7',
      name: 'GET',
      kind: 3,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000250500000',
      attributes: [
        { key: 'http.request.method', value: { stringValue: 'GET' } },
        { key: 'http.response.status_code', value: { intValue: '500' } },
      ],
      status: { code: 2 },
      events: [{ timeUnixNano: '1700000000100000000', name: 'responseStart', attributes: [] }],
    });
  });

  it('writes log records in resourceLogs/scopeLogs with severity, body and attributes', () => {
    const body = JSON.parse(
      encodeLogs(resource, [{ time: 1_700_000_000_000, severity: 17, body: 'TypeError: x', attrs: { 'event.name': 'browser.error' } }], 1_700_000_001_000),
    );
    expect(Object.keys(body)).toEqual(['resourceLogs']);
    const rec = body.resourceLogs[0].scopeLogs[0].logRecords[0];
    expect(rec).toEqual({
      timeUnixNano: '1700000000000000000',
      observedTimeUnixNano: '1700000001000000000',
      severityNumber: 17,
      severityText: 'ERROR',
      body: { stringValue: 'TypeError: x' },
      attributes: [{ key: 'event.name', value: { stringValue: 'browser.error' } }],
    });
    expect(rec.traceId).toBeUndefined();
  });

  it('caps long strings', () => {
    const [kv] = encodeAttributes({ 'exception.stacktrace': 'x'.repeat(20_000) });
    expect((kv.value as { stringValue: string }).stringValue.length).toBe(8192);
  });
});

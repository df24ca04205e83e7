import { describe, expect, it } from 'vitest';
import type { Span } from './api';
import { buildTree, collapseBelow, criticalPath, visibleRows } from './waterfall';
import { layeredLayout } from './graphlayout';
import { parseDurationMs, resolveRange } from './time';

function span(id: string, parent: string, start: number, end: number): Span {
  return {
    trace_id: 't', span_id: id, parent_span_id: parent, service_name: 's', name: id, kind: 'INTERNAL',
    start_time_unix_nano: start, end_time_unix_nano: end, duration_ns: end - start, status_code: 'OK',
    status_message: '', attributes: {}, resource_attributes: {}, events: [], links: [],
  };
}

describe('waterfall', () => {
  const spans = [
    span('root', '', 0, 100),
    span('a', 'root', 5, 40),
    span('b', 'root', 10, 95), // ends last: critical
    span('b1', 'b', 20, 60),
    span('b2', 'b', 61, 90), // critical within b
    span('orphan', 'missing', 50, 55),
  ];
  it('builds the tree in start order with depths', () => {
    const t = buildTree(spans);
    expect(t.roots.map((r) => r.span.span_id)).toEqual(['root', 'orphan']);
    expect(visibleRows(t, new Set()).map((n) => `${n.span.span_id}:${n.depth}`)).toEqual([
      'root:0', 'a:1', 'b:1', 'b1:2', 'b2:2', 'orphan:0',
    ]);
    expect(t.byId.get('root')!.descendants).toBe(4);
  });
  it('hides collapsed subtrees', () => {
    const t = buildTree(spans);
    expect(visibleRows(t, new Set(['b'])).map((n) => n.span.span_id)).toEqual(['root', 'a', 'b', 'orphan']);
    expect([...collapseBelow(t, 1)]).toEqual(['b']);
  });
  it('finds the critical path', () => {
    const cp = criticalPath(buildTree(spans));
    expect([...cp].sort()).toEqual(['a', 'b', 'b1', 'b2', 'root']);
  });
  it('handles 5000 spans in a deep chain without recursion limits', () => {
    const many = [span('0', '', 0, 10000)];
    for (let i = 1; i < 5000; i++) many.push(span(String(i), String(i - 1), i, 10000 - i));
    const t = buildTree(many);
    expect(visibleRows(t, new Set()).length).toBe(5000);
    expect(criticalPath(t).size).toBe(5000);
  });
});

describe('layout', () => {
  it('puts callers left of callees and survives cycles', () => {
    const l = layeredLayout({ nodes: ['fe', 'api', 'db', 'q'], edges: [
      { from: 'fe', to: 'api' }, { from: 'api', to: 'db' }, { from: 'api', to: 'q' }, { from: 'q', to: 'api' },
    ] });
    expect(l.pos.get('fe')!.layer).toBe(0);
    expect(l.pos.get('api')!.layer).toBe(1);
    expect(l.pos.get('db')!.layer).toBe(2);
  });
});

describe('time', () => {
  it('parses durations and relative ranges', () => {
    expect(parseDurationMs('15m')).toBe(900000);
    expect(parseDurationMs('1h30m')).toBe(5400000);
    expect(Number.isNaN(parseDurationMs('abc'))).toBe(true);
    const r = resolveRange('now-1h', null, 3600e3 * 10);
    expect(r.toMs - r.fromMs).toBe(3600e3);
    expect(r.live).toBe(true);
    expect(r.toNs).toBe('36000000000000');
  });
});

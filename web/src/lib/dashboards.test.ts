import { describe, expect, test } from 'vitest';
import { builtinVariables, calculate, defaultValue, formatValue, placePanels, redDashboardPath, staticOptions, substitute, tableRows, toSeries, type Dashboard } from './dashboards';
import { resolveRange } from './time';

describe('dashboards', () => {
  test('variables are substituted in both forms, unknown ones stay', () => {
    const q = 'sum(rate(x{job="$service", op="${op}", t="${service:raw}"}[$__rate_interval])) $services $nope';
    expect(substitute(q, { service: 'cart', op: 'GET /', __rate_interval: '4m' })).toBe('sum(rate(x{job="cart", op="GET /", t="cart"}[4m])) $services $nope');
  });

  test('built-in variables follow the range', () => {
    const r = resolveRange('now-1h', 'now', 3600e3 * 10);
    const b = builtinVariables(r);
    expect(b.__range).toBe('3600s');
    expect(b.__interval).toBe('15s');
    expect(b.__rate_interval).toBe('240s');
    expect(builtinVariables(resolveRange('now-24h', 'now', 86400e3 * 3)).__rate_interval).toBe('420s');
  });

  test('stat calculations', () => {
    const v = [1, 4, NaN, 3];
    expect(calculate('last', v)).toBe(3);
    expect(calculate('first', v)).toBe(1);
    expect(calculate('mean', v)).toBeCloseTo(8 / 3);
    expect(calculate('sum', v)).toBe(8);
    expect(calculate('max', v)).toBe(4);
    expect(calculate('min', v)).toBe(1);
    expect(calculate('last-number', [2, NaN])).toBe(2);
    expect(calculate('mean', [])).toBeNull();
  });

  test('units', () => {
    expect(formatValue(0.25, 'percent-decimal')).toBe('25%');
    expect(formatValue(0.0123, 'seconds')).toBe('12.3 ms');
    expect(formatValue(3.456, 'requests/sec')).toBe('3.46/s');
    expect(formatValue(null, 'seconds')).toBe('—');
  });

  test('series names and table rows', () => {
    const a = toSeries([{ metric: { __name__: 'x', operation: 'GET /' }, values: [[1, '2'], [2, '3']] }, { metric: { operation: 'POST /' }, values: [[1, '5'], [2, 'NaN']] }], '{{operation}}', 'q');
    expect(a.map((s) => s.name)).toEqual(['GET /', 'POST /']);
    expect(a[1].points).toEqual([[1, 5]]);
    const b = toSeries([{ metric: { operation: 'GET /' }, values: [[2, '0.5']] }], undefined, 'q');
    expect(b[0].name).toBe('{operation="GET /"}');
    expect(tableRows([a, b])).toEqual([
      { labels: { operation: 'POST /' }, values: [5, null] },
      { labels: { operation: 'GET /' }, values: [3, 0.5] },
    ]);
  });

  test('layout refs resolve to panels, missing ones stay visible', () => {
    const d: Dashboard = {
      kind: 'Dashboard',
      metadata: { name: 'd', project: 'p' },
      spec: {
        panels: { a: { kind: 'Panel', spec: { display: { name: 'A' }, plugin: { kind: 'Markdown' } } } },
        layouts: [{ kind: 'Grid', spec: { items: [{ x: 0, y: 0, width: 12, height: 4, content: { $ref: '#/spec/panels/a' } }, { x: 12, y: 0, width: 12, height: 4, content: { $ref: '#/spec/panels/b' } }] } }],
      },
    };
    const placed = placePanels(d)[0].panels;
    expect(placed.map((p) => [p.id, p.panel?.spec.display.name])).toEqual([['a', 'A'], ['b', undefined]]);
    expect(placePanels({ ...d, spec: { panels: d.spec.panels } })[0].panels[0].item.width).toBe(24);
  });

  test('variable defaults and static lists', () => {
    expect(staticOptions({ kind: 'StaticListVariable', spec: { values: ['a', { value: 'b', label: 'B' }, 3] } })).toEqual([{ value: 'a', label: 'a' }, { value: 'b', label: 'B' }]);
    expect(defaultValue({ kind: 'ListVariable', spec: { name: 'v', defaultValue: ['x'] } }, ['y'])).toBe('x');
    expect(defaultValue({ kind: 'ListVariable', spec: { name: 'v' } }, ['y'])).toBe('y');
    expect(defaultValue({ kind: 'TextVariable', spec: { name: 't', value: 'w' } }, [])).toBe('w');
    expect(redDashboardPath('shop web')).toBe('/dashboards/redscope/red-shop-web');
  });
});

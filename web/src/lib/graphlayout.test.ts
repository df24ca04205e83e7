import { describe, expect, it } from 'vitest';
import { type Box, edgeCurve, layeredLayout, overlaps, placeLabels, pointAt } from './graphlayout';

const W = 184;
const H = 54;

/** Five callers of one service, which calls a database; one caller also calls the database
 * directly, past the service's column — where a label at a fixed point of its curve lands on
 * the service's box. */
function scene() {
  const callers = ['a', 'b', 'c', 'd', 'e'];
  const edges = [...callers.map((c) => ({ from: c, to: 'svc' })), { from: 'svc', to: 'db' }, { from: 'c', to: 'db' }];
  const layout = layeredLayout({ nodes: [...callers, 'svc', 'db'], edges });
  const curves = edges.map((e) => edgeCurve(layout.pos.get(e.from)!, layout.pos.get(e.to)!, W, H));
  const nodes: Box[] = [...layout.pos.values()].map((p) => ({ x: p.x - W / 2, y: p.y - H / 2, w: W, h: H }));
  const sizes = edges.map(() => ({ w: 130, h: 13 }));
  return { curves, nodes, sizes };
}

const box = (p: { x: number; y: number }, s: { w: number; h: number }): Box => ({ x: p.x - s.w / 2, y: p.y - s.h / 2, w: s.w, h: s.h });

describe('edge labels', () => {
  it('a fixed point of the curve would put a label on a node or another label', () => {
    const { curves, nodes, sizes } = scene();
    const naive = curves.map((c, i) => box(pointAt(c, 0.6), sizes[i]));
    const onNode = naive.some((b) => nodes.some((n) => overlaps(b, n)));
    const onLabel = naive.some((b, i) => naive.some((q, j) => i !== j && overlaps(b, q)));
    expect(onNode || onLabel).toBe(true);
  });

  it('are placed clear of every node and of each other', () => {
    const { curves, nodes, sizes } = scene();
    const at = placeLabels(curves, sizes, nodes);
    const boxes = at.map((p, i) => box(p, sizes[i]));
    for (const [i, b] of boxes.entries()) {
      for (const n of nodes) expect(overlaps(b, n), `label ${i} on a node`).toBe(false);
      for (const [j, q] of boxes.entries()) if (i !== j) expect(overlaps(b, q), `labels ${i} and ${j}`).toBe(false);
    }
  });

  it('stay near their own edge', () => {
    const { curves, nodes, sizes } = scene();
    const at = placeLabels(curves, sizes, nodes);
    at.forEach((p, i) => {
      const nearest = Math.min(...Array.from({ length: 21 }, (_, k) => Math.hypot(pointAt(curves[i], k / 20).x - p.x, pointAt(curves[i], k / 20).y - p.y)));
      expect(nearest).toBeLessThan(60);
    });
  });
});

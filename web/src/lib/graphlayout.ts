// A small layered ("Sugiyama-style") layout for the service map: break cycles, assign layers
// by longest path from the callers, order each layer by barycentres, then place on a grid.

export interface LayoutInput {
  nodes: string[];
  edges: { from: string; to: string }[];
}
export interface LayoutResult {
  pos: Map<string, { x: number; y: number; layer: number }>;
  width: number;
  height: number;
}

export function layeredLayout(g: LayoutInput, opts = { colW: 290, rowH: 92, padX: 110, padY: 60 }): LayoutResult {
  const names = [...new Set(g.nodes)].sort();
  const out = new Map<string, string[]>();
  const inc = new Map<string, string[]>();
  for (const n of names) {
    out.set(n, []);
    inc.set(n, []);
  }
  // Drop self-loops and back edges (found by DFS) so the rest is acyclic.
  const state = new Map<string, number>();
  const dag: { from: string; to: string }[] = [];
  const adj = new Map<string, string[]>();
  for (const n of names) adj.set(n, []);
  for (const e of g.edges) if (e.from !== e.to && adj.has(e.from) && adj.has(e.to)) adj.get(e.from)!.push(e.to);
  const indeg0 = names.filter((n) => !g.edges.some((e) => e.to === n && e.from !== n));
  const starts = [...indeg0, ...names];
  for (const s of starts) {
    if (state.get(s)) continue;
    const stack: [string, number][] = [[s, 0]];
    state.set(s, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [n, i] = top;
      const nexts = adj.get(n)!;
      if (i < nexts.length) {
        top[1]++;
        const m = nexts[i];
        const st = state.get(m) ?? 0;
        if (st === 1) continue; // back edge: ignore for layering
        dag.push({ from: n, to: m });
        if (st === 0) {
          state.set(m, 1);
          stack.push([m, 0]);
        }
      } else {
        state.set(n, 2);
        stack.pop();
      }
    }
  }
  for (const e of dag) {
    out.get(e.from)!.push(e.to);
    inc.get(e.to)!.push(e.from);
  }
  // Longest-path layering (Kahn order).
  const layer = new Map<string, number>();
  const indeg = new Map(names.map((n) => [n, inc.get(n)!.length]));
  const queue = names.filter((n) => indeg.get(n) === 0);
  for (const n of queue) layer.set(n, 0);
  while (queue.length) {
    const n = queue.shift()!;
    for (const m of out.get(n)!) {
      layer.set(m, Math.max(layer.get(m) ?? 0, layer.get(n)! + 1));
      indeg.set(m, indeg.get(m)! - 1);
      if (indeg.get(m) === 0) queue.push(m);
    }
  }
  const nLayers = Math.max(0, ...layer.values()) + 1;
  const layers: string[][] = Array.from({ length: nLayers }, () => []);
  for (const n of names) layers[layer.get(n) ?? 0].push(n);
  // Barycentre ordering sweeps.
  const idx = new Map<string, number>();
  const reindex = () => layers.forEach((l) => l.forEach((n, i) => idx.set(n, i)));
  reindex();
  const bary = (n: string, nbrs: string[]) =>
    nbrs.length ? nbrs.reduce((a, m) => a + idx.get(m)!, 0) / nbrs.length : idx.get(n)!;
  for (let sweep = 0; sweep < 6; sweep++) {
    const down = sweep % 2 === 0;
    const order = down ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const l of order) {
      const b = new Map(l.map((n) => [n, bary(n, down ? inc.get(n)! : out.get(n)!)]));
      l.sort((a, c) => b.get(a)! - b.get(c)! || a.localeCompare(c));
      l.forEach((n, i) => idx.set(n, i));
    }
  }
  const maxRows = Math.max(1, ...layers.map((l) => l.length));
  const pos = new Map<string, { x: number; y: number; layer: number }>();
  layers.forEach((l, li) => {
    const offset = ((maxRows - l.length) * opts.rowH) / 2;
    l.forEach((n, i) => pos.set(n, { x: opts.padX + li * opts.colW, y: opts.padY + offset + i * opts.rowH, layer: li }));
  });
  return { pos, width: opts.padX * 2 + (nLayers - 1) * opts.colW, height: opts.padY * 2 + (maxRows - 1) * opts.rowH };
}

// Edge geometry and label placement. Edges forward in the layering are cubic curves from the
// caller's right side to the callee's left side; the others loop under the nodes. A label goes
// where its box meets no node and no label placed before it: candidates along the curve, near
// its middle first, then nudged up and down.

export interface Point {
  x: number;
  y: number;
}
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
/** A cubic Bézier curve: start, two control points, end. */
export type Curve = [Point, Point, Point, Point];

export function edgeCurve(a: { x: number; y: number; layer: number }, b: { x: number; y: number; layer: number }, nodeW: number, nodeH: number): Curve {
  if (b.layer > a.layer) {
    const x1 = a.x + nodeW / 2;
    const x2 = b.x - nodeW / 2 - 2;
    const mx = (x1 + x2) / 2;
    return [
      { x: x1, y: a.y },
      { x: mx, y: a.y },
      { x: mx, y: b.y },
      { x: x2, y: b.y },
    ];
  }
  const yb = Math.max(a.y, b.y) + nodeH / 2 + 40;
  return [
    { x: a.x, y: a.y + nodeH / 2 },
    { x: a.x, y: yb },
    { x: b.x, y: yb },
    { x: b.x, y: b.y + nodeH / 2 + 2 },
  ];
}

export function curvePath(c: Curve): string {
  return `M${c[0].x},${c[0].y} C${c[1].x},${c[1].y} ${c[2].x},${c[2].y} ${c[3].x},${c[3].y}`;
}

export function pointAt(c: Curve, t: number): Point {
  const u = 1 - t;
  const w = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
  return { x: w.reduce((s, k, i) => s + k * c[i].x, 0), y: w.reduce((s, k, i) => s + k * c[i].y, 0) };
}

export function overlaps(p: Box, q: Box, margin = 0): boolean {
  return p.x < q.x + q.w + margin && q.x < p.x + p.w + margin && p.y < q.y + q.h + margin && q.y < p.y + p.h + margin;
}

/** Curve positions tried for a label, best first: the middle of the curve, then outwards. */
const LABEL_TS = [0.5, 0.6, 0.4, 0.7, 0.3, 0.75, 0.25, 0.8, 0.2, 0.85, 0.15];
/** Vertical nudges tried at each position, in label heights. */
const LABEL_NUDGES = [0, -1, 1, -2, 2, -3, 3];

/**
 * Centre points for edge labels of sizes `sizes[i]` on curves `curves[i]`, placed in order (put
 * the most important edges first): each takes the first candidate whose box is clear of every
 * node box and every label already placed, or the candidate overlapping least.
 */
export function placeLabels(curves: Curve[], sizes: { w: number; h: number }[], nodes: Box[]): Point[] {
  const placed: Box[] = [];
  const out: Point[] = [];
  curves.forEach((c, i) => {
    const { w, h } = sizes[i];
    let best: { p: Point; box: Box; cost: number } | null = null;
    for (const t of LABEL_TS) {
      const m = pointAt(c, t);
      for (const k of LABEL_NUDGES) {
        const p = { x: m.x, y: m.y + k * (h + 2) };
        const box = { x: p.x - w / 2, y: p.y - h / 2, w, h };
        const cost = nodes.filter((n) => overlaps(box, n, 3)).length * 10 + placed.filter((q) => overlaps(box, q, 1)).length;
        if (!best || cost < best.cost) best = { p, box, cost };
        if (cost === 0) break;
      }
      if (best && best.cost === 0) break;
    }
    // LABEL_TS and LABEL_NUDGES are not empty, so `best` is set.
    placed.push(best!.box);
    out.push(best!.p);
  });
  return out;
}

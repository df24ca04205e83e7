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

// Trace waterfall model: the span tree in display order, depths, collapsed subtrees and the
// critical path (the chain of spans that determined the trace's end-to-end duration).
import type { Span } from './api';

export interface Node {
  span: Span;
  children: Node[];
  depth: number;
  /** Number of descendants (for "+N hidden"). */
  descendants: number;
  parent: Node | null;
}

export interface Tree {
  roots: Node[];
  byId: Map<string, Node>;
  start: number;
  end: number;
}

export function buildTree(spans: Span[]): Tree {
  const byId = new Map<string, Node>();
  for (const s of spans) byId.set(s.span_id, { span: s, children: [], depth: 0, descendants: 0, parent: null });
  const roots: Node[] = [];
  for (const n of byId.values()) {
    const p = n.span.parent_span_id ? byId.get(n.span.parent_span_id) : undefined;
    if (p && p !== n) {
      n.parent = p;
      p.children.push(n);
    } else roots.push(n);
  }
  const byStart = (a: Node, b: Node) => a.span.start_time_unix_nano - b.span.start_time_unix_nano;
  roots.sort(byStart);
  let start = Infinity;
  let end = -Infinity;
  // Iterative DFS: depths, sorting, and descendant counts (post-order).
  const order: Node[] = [];
  const stack: Node[] = [...roots].reverse();
  const seen = new Set<Node>();
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue; // guards against cycles in bad data
    seen.add(n);
    order.push(n);
    n.children.sort(byStart);
    start = Math.min(start, n.span.start_time_unix_nano);
    end = Math.max(end, n.span.end_time_unix_nano);
    for (let i = n.children.length - 1; i >= 0; i--) {
      n.children[i].depth = n.depth + 1;
      stack.push(n.children[i]);
    }
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i];
    n.descendants = n.children.reduce((a, c) => a + 1 + c.descendants, 0);
  }
  if (!Number.isFinite(start)) start = end = 0;
  return { roots, byId, start, end };
}

/** Display rows: pre-order, skipping the descendants of collapsed spans. */
export function visibleRows(tree: Tree, collapsed: Set<string>): Node[] {
  const out: Node[] = [];
  const stack: Node[] = [...tree.roots].reverse();
  const seen = new Set<Node>();
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    out.push(n);
    if (collapsed.has(n.span.span_id)) continue;
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
  }
  return out;
}

/**
 * Spans on the critical path: from each root, walk back from its end through the child that
 * finished last before the current point, then the one before that child started, and so on.
 */
export function criticalPath(tree: Tree): Set<string> {
  const out = new Set<string>();
  // Only the root that ends last matters for the trace's duration.
  const root = tree.roots.reduce<Node | null>(
    (best, r) => (!best || r.span.end_time_unix_nano > best.span.end_time_unix_nano ? r : best),
    null,
  );
  if (!root) return out;
  const stack: [Node, number][] = [[root, root.span.end_time_unix_nano]];
  while (stack.length) {
    const [n, bound] = stack.pop()!;
    if (out.has(n.span.span_id)) continue;
    out.add(n.span.span_id);
    let cursor = Math.min(n.span.end_time_unix_nano, bound);
    const kids = [...n.children].sort((a, b) => b.span.end_time_unix_nano - a.span.end_time_unix_nano);
    for (const c of kids) {
      if (cursor <= n.span.start_time_unix_nano) break;
      if (c.span.start_time_unix_nano >= cursor) continue;
      stack.push([c, cursor]);
      cursor = c.span.start_time_unix_nano;
    }
  }
  return out;
}

/** Collapse everything below `depth` (used to open huge traces in a readable state). */
export function collapseBelow(tree: Tree, depth: number): Set<string> {
  const out = new Set<string>();
  for (const n of tree.byId.values()) if (n.depth >= depth && n.children.length) out.add(n.span.span_id);
  return out;
}

const PALETTE = [
  '#3b82f6', '#10b981', '#f59e0b', '#8b5cf6', '#ec4899', '#06b6d4',
  '#84cc16', '#f97316', '#6366f1', '#14b8a6', '#eab308', '#a855f7',
  '#ef8354', '#0ea5e9', '#65a30d', '#d946ef',
];

const assigned = new Map<string, string>();

/**
 * Give the known services distinct colours, in the order given, so that the same service has
 * the same colour on every page (seeded once at start-up).
 */
export function seedServiceColors(names: string[]) {
  const used = new Set(assigned.values());
  for (const n of new Set(names)) {
    if (assigned.has(n)) continue;
    const free = PALETTE.find((c) => !used.has(c));
    if (!free) return;
    assigned.set(n, free);
    used.add(free);
  }
}

/** A stable colour per service name, the same on every page. */
export function serviceColor(name: string): string {
  const a = assigned.get(name);
  if (a) return a;
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return PALETTE[(h >>> 0) % PALETTE.length];
}

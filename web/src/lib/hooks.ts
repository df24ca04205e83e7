// Data hooks: the resolved time range (re-resolved on every refresh tick) and useApi,
// which runs a fetch, cancels stale ones and keeps the last data while reloading.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { onRequestsIdle, requestsInFlight } from './api';
import { useLocation } from './router';
import { resolveRange, type Range } from './time';

// ---- refresh ticks ----
let tick = 0;
const tickListeners = new Set<() => void>();
export function bumpRefresh() {
  tick++;
  for (const l of tickListeners) l();
}
export function useTick(): number {
  const [t, setT] = useState(tick);
  useEffect(() => {
    const l = () => setT(tick);
    tickListeners.add(l);
    return () => {
      tickListeners.delete(l);
    };
  }, []);
  return t;
}

// ---- time range ----
let cached: { key: string; range: Range } | null = null;
export function useRange(): Range {
  const loc = useLocation();
  const t = useTick();
  const from = loc.query.get('from');
  const to = loc.query.get('to');
  const key = `${from}|${to}|${t}`;
  if (!cached || cached.key !== key) {
    // The first range is the one the boot script resolved, so that the page's requests are
    // the ones it has already sent.
    const boot = window.__redscopeBoot;
    const now = !cached && boot && boot.from === from && boot.to === to && t === 0 ? boot.now : Date.now();
    cached = { key, range: resolveRange(from, to, now) };
  }
  return cached.range;
}

// ---- fetching ----

// Every result that changes a page costs the browser a layout and a repaint of all that moved,
// often the whole viewport. A page's requests go out together; a result that arrives while
// others are still in flight waits for them (BATCH_MS at most), so that results reach the
// screen in one or two renders instead of one each. The last result is delivered at once.
const BATCH_MS = 80;
let queued: (() => void)[] = [];
let batchTimer: ReturnType<typeof setTimeout> | undefined;
function flushResults() {
  clearTimeout(batchTimer);
  batchTimer = undefined;
  const q = queued;
  queued = [];
  for (const f of q) f();
}
function deliver(f: () => void) {
  queued.push(f);
  if (requestsInFlight() === 0) flushResults();
  else batchTimer ??= setTimeout(flushResults, BATCH_MS);
}
onRequestsIdle(flushResults);

export interface ApiState<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
}

/**
 * Run `fn` whenever `deps` change. Aborts the previous request; keeps showing old data while
 * a refresh is in flight so auto-refresh does not flicker.
 *
 * The request starts in a layout effect, i.e. right after the render that asked for it and
 * before the browser paints, so that all of a page's requests go out at once as early as
 * possible (a plain effect would wait for the first paint of the whole page).
 */
export function useApi<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[], enabled = true): ApiState<T> {
  const [state, setState] = useState<ApiState<T>>({ data: undefined, error: undefined, loading: enabled });
  const seq = useRef(0);
  useLayoutEffect(() => {
    if (!enabled) {
      setState((s) => (s.data === undefined && s.error === undefined && !s.loading ? s : { data: undefined, error: undefined, loading: false }));
      return;
    }
    const id = ++seq.current;
    const ctrl = new AbortController();
    setState((s) => (s.loading ? s : { ...s, loading: true }));
    fn(ctrl.signal).then(
      (data) => deliver(() => id === seq.current && setState({ data, error: undefined, loading: false })),
      (error: Error) => {
        if (error.name === 'AbortError') return;
        deliver(() => id === seq.current && setState({ data: undefined, error, loading: false }));
      },
    );
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, enabled]);
  return state;
}

/** "Load more" state on top of a first page of results. */
export interface Paging<T> {
  /** Items of the pages loaded after the first. */
  more: T[];
  /** Cursor of the next page (null: no more). */
  cursor: string | null;
  error: Error | null;
  /** How many times more rows were revealed (for lists that show a part of what they have). */
  reveals: number;
}

/**
 * Paging state that starts over whenever `first` (the first page's data) changes. Derived
 * during render rather than reset in an effect, so that new data reaches the screen in one
 * render, not in one plus a second after the effect.
 */
export function usePaging<T>(first: object | undefined, firstCursor: string | null | undefined): [Paging<T>, (f: (p: Paging<T>) => Paging<T>) => void] {
  const fresh = (): Paging<T> => ({ more: [], cursor: firstCursor ?? null, error: null, reveals: 0 });
  const [st, setSt] = useState<{ of: object | undefined; p: Paging<T> } | null>(null);
  const p = st && st.of === first ? st.p : fresh();
  // Updates made for an older first page (a slow "load more") are dropped.
  const update = (f: (p: Paging<T>) => Paging<T>) => setSt((s) => ({ of: first, p: f(s && s.of === first ? s.p : fresh()) }));
  return [p, update];
}

/** Follow the system colour scheme unless the user picked one; returns a re-render on change. */
export function useThemeIsDark(): boolean {
  const get = () => {
    const forced = document.documentElement.dataset.theme;
    if (forced) return forced === 'dark';
    return window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
  };
  const [dark, setDark] = useState(get);
  useEffect(() => {
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    const l = () => setDark(get());
    mq?.addEventListener('change', l);
    window.addEventListener('redscope-theme', l);
    return () => {
      mq?.removeEventListener('change', l);
      window.removeEventListener('redscope-theme', l);
    };
  }, []);
  return dark;
}

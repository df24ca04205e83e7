// Data hooks: the resolved time range (re-resolved on every refresh tick) and useApi,
// which runs a fetch, cancels stale ones and keeps the last data while reloading.
import { useEffect, useRef, useState } from 'preact/hooks';
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
  if (!cached || cached.key !== key) cached = { key, range: resolveRange(from, to) };
  return cached.range;
}

// ---- fetching ----
export interface ApiState<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
}

/**
 * Run `fn` whenever `deps` change. Aborts the previous request; keeps showing old data while
 * a refresh is in flight so auto-refresh does not flicker.
 */
export function useApi<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[], enabled = true): ApiState<T> {
  const [state, setState] = useState<ApiState<T>>({ data: undefined, error: undefined, loading: enabled });
  const seq = useRef(0);
  useEffect(() => {
    if (!enabled) {
      setState({ data: undefined, error: undefined, loading: false });
      return;
    }
    const id = ++seq.current;
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    fn(ctrl.signal).then(
      (data) => {
        if (id === seq.current) setState({ data, error: undefined, loading: false });
      },
      (error: Error) => {
        if (error.name === 'AbortError' || id !== seq.current) return;
        setState({ data: undefined, error, loading: false });
      },
    );
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, enabled]);
  return state;
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

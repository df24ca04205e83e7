// A tiny History-API router: the whole view state lives in the path and query string.
import { useEffect, useState } from 'preact/hooks';

type Listener = () => void;
const listeners = new Set<Listener>();

function notify() {
  for (const l of listeners) l();
}

window.addEventListener('popstate', notify);

export interface Loc {
  path: string;
  query: URLSearchParams;
}

export function currentLoc(): Loc {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

/** Navigate to `href` (path + optional query). `replace` keeps history short for typing. */
export function navigate(href: string, replace = false) {
  const cur = window.location.pathname + window.location.search;
  if (href === cur) return;
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  window.scrollTo?.(0, 0);
  notify();
}

export function useLocation(): Loc {
  const [, setTick] = useState(0);
  const rendered = window.location.pathname + window.location.search;
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    // A child's effect may have navigated before this listener existed.
    if (window.location.pathname + window.location.search !== rendered) l();
    return () => {
      listeners.delete(l);
    };
  }, []);
  return currentLoc();
}

/** Query parameters that belong to every page (time range, refresh) and follow the user. */
export const GLOBAL_PARAMS = ['from', 'to', 'refresh'];

/** Build an href for `path`, carrying the global params over and adding `params`. */
export function href(path: string, params: Record<string, string | number | undefined | null | string[]> = {}): string {
  const cur = new URLSearchParams(window.location.search);
  const q = new URLSearchParams();
  for (const k of GLOBAL_PARAMS) {
    const v = cur.get(k);
    if (v !== null) q.set(k, v);
  }
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') q.delete(k);
    else if (Array.isArray(v)) {
      q.delete(k);
      for (const x of v) q.append(k, x);
    } else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Update some query params of the current page. */
export function setParams(params: Record<string, string | number | undefined | null | string[]>, replace = false) {
  const q = new URLSearchParams(window.location.search);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') q.delete(k);
    else if (Array.isArray(v)) {
      q.delete(k);
      for (const x of v) q.append(k, x);
    } else q.set(k, String(v));
  }
  const s = q.toString();
  navigate(window.location.pathname + (s ? `?${s}` : ''), replace);
}

/** Click handler for anchors: client-side navigation unless a modifier key asks for a new tab. */
export function onLinkClick(e: MouseEvent) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.currentTarget as HTMLElement).closest('a');
  if (!a || a.target === '_blank') return;
  const url = new URL(a.href);
  if (url.origin !== window.location.origin) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}

// The script tag build (redscope.js): takes over `window.redscope` and runs the calls the
// page's stub queued before it loaded (see README.md, "Script tag").

import { api, setScriptUrl } from './api';

interface Stub {
  q?: ArrayLike<unknown>[] | [string, ArrayLike<unknown>][];
  /** The stub's early `error` and `unhandledrejection` listener, removed once the SDK is there. */
  e?: (ev: Event) => void;
}

(() => {
  try {
    const w = window as unknown as { redscope?: Stub & Record<string, unknown> };
    const script = document.currentScript as HTMLScriptElement | null;
    setScriptUrl(script && script.src ? script.src : '');
    const stub = w.redscope || {};
    const queued = Array.isArray(stub.q) ? stub.q.slice() : [];
    if (typeof stub.e === 'function') {
      removeEventListener('error', stub.e);
      removeEventListener('unhandledrejection', stub.e);
    }
    w.redscope = { ...api } as unknown as Stub & Record<string, unknown>;
    for (const item of queued) {
      try {
        const [name, args] = item as [string, ArrayLike<unknown>];
        const fn = (api as Record<string, unknown>)[name];
        if (typeof fn === 'function') fn(...Array.from(args || []));
      } catch {
        /* one bad call does not stop the others */
      }
    }
  } catch {
    /* never into the page */
  }
})();

// Errors: `window.onerror` (as an `error` listener), unhandled promise rejections, optionally
// `console.error`, and `reportError`. Each is a `browser.error` log record with `exception.*`.

import { type Client, guard } from '../client';
import type { Attrs } from '../config';
import { SEVERITY_ERROR } from '../otlp';

/** The same error (type, message, first frame) at most this often per page view. */
const MAX_REPEATS = 10;

export interface ErrorInfo {
  type: string;
  message: string;
  stack: string;
}

/** What can be said of a thrown value of any kind. */
export function describeError(value: unknown): ErrorInfo {
  if (value instanceof Error || (value && typeof value === 'object' && 'message' in value)) {
    const e = value as Error;
    const type = e.name || (e.constructor && e.constructor.name) || 'Error';
    return { type: String(type), message: String(e.message ?? ''), stack: typeof e.stack === 'string' ? e.stack : '' };
  }
  let message: string;
  try {
    message = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    message = String(value);
  }
  return { type: 'Error', message, stack: '' };
}

export function installErrors(client: Client): (value: unknown, attrs?: Attrs, source?: string) => void {
  const seen = new Map<string, number>();
  let seenFor = '';
  let reporting = false;

  const report = (value: unknown, attrs: Attrs = {}, source = 'manual'): void => {
    if (reporting) return; // an error while reporting one (console.error inside a callback)
    reporting = true;
    try {
      const info = describeError(value);
      if (seenFor !== client.page.id) {
        seen.clear();
        seenFor = client.page.id;
      }
      const key = `${info.type}|${info.message}|${info.stack.split('\n', 2)[1] || ''}`;
      const n = (seen.get(key) || 0) + 1;
      if (seen.size < 200) seen.set(key, n);
      if (n > MAX_REPEATS) return;
      client.event(
        'browser.error',
        {
          'exception.type': info.type,
          'exception.message': info.message,
          'exception.stacktrace': info.stack || undefined,
          'browser.error.source': source,
          ...attrs,
        },
        { severity: SEVERITY_ERROR, body: `${info.type}: ${info.message}` },
      );
      client.errorHappened();
    } finally {
      reporting = false;
    }
  };

  addEventListener(
    'error',
    guard((ev: Event) => {
      // Failed <img>/<script> loads reach window listeners only in the capture phase; this
      // listener is for script errors, which are ErrorEvents.
      if (!(ev instanceof ErrorEvent)) return;
      const attrs: Attrs = {};
      if (ev.filename) attrs['code.file.path'] = ev.filename;
      if (ev.lineno) attrs['code.line.number'] = ev.lineno;
      if (ev.colno) attrs['code.column.number'] = ev.colno;
      report(ev.error ?? ev.message, attrs, 'onerror');
    }),
  );
  addEventListener(
    'unhandledrejection',
    guard((ev: PromiseRejectionEvent) => report(ev.reason, {}, 'unhandledrejection')),
  );

  if (client.cfg.captureConsoleErrors && typeof console !== 'undefined') {
    const original = console.error;
    console.error = function (this: unknown, ...args: unknown[]) {
      guard(() => {
        const err = args.find((a) => a instanceof Error);
        const text = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : describeError(a).message)).join(' ');
        const info = err ? describeError(err) : { type: 'console.error', message: text, stack: '' };
        report({ name: info.type, message: text, stack: info.stack }, {}, 'console');
      })();
      return original.apply(this, args);
    };
  }
  return report;
}

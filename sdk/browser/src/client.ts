// The running SDK: configuration, session, current page view, user, and the records it makes.
// Instrumentations (./instrument/*) get this as their `Client` and call `event` and `span`.

import type { Attr, Attrs, Config } from './config';
import { id128, id64 } from './ids';
import { type LogRecord, SEVERITY_INFO, type SpanRecord, browserResource } from './otlp';
import { Sessions, type SessionState, type StorageLike, anonymousId } from './session';
import { nowMs } from './time';
import { type Sender, Transport } from './transport';

export interface PageView {
  id: string;
  /** Trace of this page view's document load and resource spans. */
  traceId: string;
  url: string;
  path: string;
  /** Epoch ms. */
  start: number;
}

export interface EventOptions {
  severity?: number;
  body?: string;
  pageView?: PageView;
  time?: number;
  traceId?: string;
  spanId?: string;
  /** Not counted against the rate limit. */
  exempt?: boolean;
}

const USER_KEY = 'redscope.user';

/** Runs `fn`, swallowing what it throws: nothing the SDK does may break the page. */
export function guard<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R | undefined {
  return (...args: A) => {
    try {
      return fn(...args);
    } catch {
      return undefined;
    }
  };
}

export class Client {
  readonly transport: Transport;
  readonly sessions: Sessions;
  readonly anonymousId: string;
  page: PageView;
  private userId = '';
  private readonly globals: Attrs = {};
  private active = true;
  /** Called when an error is recorded (the on-error replay listens). */
  readonly errorListeners: (() => void)[] = [];
  /** Called before records of a new page view, with the old one (vitals flush on it). */
  readonly pageViewListeners: ((previous: PageView) => void)[] = [];
  /** Called on page hide, before the final flush; what they wait for is flushed after. */
  readonly hideListeners: (() => void | Promise<void>)[] = [];

  constructor(
    readonly cfg: Config,
    sender: Sender,
    private readonly storage: StorageLike | null,
  ) {
    this.sessions = new Sessions({
      storage,
      timeoutMs: cfg.sessionTimeoutMs,
      maxMs: cfg.sessionMaxMs,
      sampleRate: cfg.sessionSampleRate,
      replaySampleRate: cfg.replaySampleRate,
      replayOnErrorSampleRate: cfg.replayOnErrorSampleRate,
    });
    this.anonymousId = anonymousId(storage);
    try {
      this.userId = storage?.getItem(USER_KEY) || '';
    } catch {
      /* none */
    }
    this.transport = new Transport({
      endpoint: cfg.endpoint,
      resource: browserResource(cfg),
      sender,
      maxQueue: cfg.maxQueue,
      maxEventsPerMinute: cfg.maxEventsPerMinute,
      flushIntervalMs: cfg.flushIntervalMs,
      beforeFlush: () => this.reportDrops(),
    });
    this.page = this.newPage();
  }

  /** Whether records are made: the session is sampled and the SDK not shut down. */
  get enabled(): boolean {
    return this.active && !this.transport.disabled && this.sessions.current().sampled;
  }

  session(): SessionState {
    return this.sessions.current();
  }

  scrub(url: string): string {
    try {
      return this.cfg.scrubUrl(url);
    } catch {
      return '';
    }
  }

  private newPage(): PageView {
    const url = location.href;
    return { id: id64(), traceId: id128(), url: this.scrub(url), path: location.pathname, start: nowMs() };
  }

  /** Starts a new page view (SPA navigation); returns the previous one. */
  navigate(): PageView {
    const previous = this.page;
    for (const l of this.pageViewListeners) guard(l)(previous);
    this.page = this.newPage();
    return previous;
  }

  /** Attributes every record carries. */
  private common(page: PageView, session: SessionState): Attrs {
    const a: Attrs = { ...this.globals };
    a['session.id'] = session.id;
    a['page_view.id'] = page.id;
    a['url.full'] = page.url;
    a['url.path'] = page.path;
    a['user.anonymous_id'] = this.anonymousId;
    if (this.userId) {
      a['user.id'] = this.userId;
      a['enduser.id'] = this.userId;
    }
    return a;
  }

  /** A log record with `event.name`. Attributes given override the common ones. */
  event(name: string, attrs: Attrs, o: EventOptions = {}): void {
    if (!this.active) return;
    const session = this.sessions.current();
    if (!session.sampled) return;
    const rec: LogRecord = {
      time: o.time || nowMs(),
      severity: o.severity || SEVERITY_INFO,
      attrs: { ...this.common(o.pageView || this.page, session), ...attrs, 'event.name': name },
    };
    if (o.body !== undefined) rec.body = o.body;
    if (o.traceId) rec.traceId = o.traceId;
    if (o.spanId) rec.spanId = o.spanId;
    this.transport.addLog(rec, o.exempt);
  }

  span(s: SpanRecord, page?: PageView): void {
    if (!this.active) return;
    const session = this.sessions.current();
    if (!session.sampled) return;
    s.attrs = { ...this.common(page || this.page, session), ...s.attrs };
    this.transport.addSpan(s);
  }

  /** Tells the listeners an error happened (after its record is queued). */
  errorHappened(): void {
    for (const l of this.errorListeners) guard(l)();
  }

  identify(userId: string | null, attrs: Attrs): void {
    const id = userId === null || userId === undefined ? '' : String(userId).slice(0, 256);
    const previous = this.userId;
    this.userId = id;
    try {
      if (id) this.storage?.setItem(USER_KEY, id);
      else this.storage?.setItem(USER_KEY, '');
    } catch {
      /* memory only */
    }
    if (id) this.event('browser.identify', { ...attrs, 'user.previous_id': previous || undefined });
  }

  setAttribute(key: string, value: Attr): void {
    if (typeof key !== 'string' || key === '') return;
    if (value === null || value === undefined) delete this.globals[key];
    else this.globals[key] = value;
  }

  /** The page is being hidden (maybe for good): last values, then everything queued. */
  async hidden(): Promise<void> {
    const waits = this.hideListeners.map((l) => guard(l)());
    const now = this.transport.flush(true);
    const later = waits.filter((w): w is Promise<void> => w instanceof Promise);
    if (later.length) {
      await Promise.all(later).catch(() => undefined);
      await this.transport.flush(true);
    }
    await now;
  }

  flush(): Promise<void> {
    return this.transport.flush(false);
  }

  async shutdown(): Promise<void> {
    if (!this.active) return;
    await this.hidden();
    this.active = false;
    this.transport.shutdown();
  }

  private reported = 0;

  /** Drops since the last report, as one `browser.sdk_dropped` record (not rate limited). */
  private reportDrops(): void {
    const d = this.transport.dropCounts();
    const total = d.queue_full + d.rate_limited + d.send_failed + d.rejected + d.unauthorized;
    if (total <= this.reported || !this.active) return;
    this.reported = total;
    const attrs: Attrs = {};
    for (const k in d) attrs[`redscope.dropped.${k}`] = d[k as keyof typeof d];
    this.event('browser.sdk_dropped', attrs, { exempt: true });
  }
}

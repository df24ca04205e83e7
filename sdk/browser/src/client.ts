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
  /** `location.href`, as it is: URLs are scrubbed when records are queued. */
  href: string;
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

/** Records made before the client is ready wait here, this many at most. */
const MAX_EARLY = 200;

/**
 * The attributes that hold URLs: scrubbed in one place, when a record is queued, so that no
 * instrumentation can forget it (and none pays for it before the page's load).
 */
export const URL_ATTRIBUTES = ['url.full', 'browser.referrer', 'browser.click.href', 'code.file.path'];

/**
 * Two phases keep the SDK off the page's critical path: from `init` to ready (the page's
 * `load`, or 5 s, or page hide) records are only kept, with their page attributes; at ready
 * storage is read (the first localStorage access can block the main thread for milliseconds),
 * the session decided, and the kept records stamped with it and queued.
 */
export class Client {
  /** Set at ready, with the session. */
  transport: Transport | null = null;
  sessions: Sessions | null = null;
  private storage: StorageLike | null = null;
  anonymousId = '';
  page: PageView;
  private userId: string | null = null;
  private readonly globals: Attrs = {};
  private active = true;
  private early: { log?: LogRecord; span?: SpanRecord; exempt?: boolean }[] = [];
  /** Called when an error is recorded (the on-error replay listens). */
  readonly errorListeners: (() => void)[] = [];
  /** Called before records of a new page view, with the old one (vitals flush on it). */
  readonly pageViewListeners: ((previous: PageView) => void)[] = [];
  /** Called on page hide, before the final flush; what they wait for is flushed after. */
  readonly hideListeners: (() => void | Promise<void>)[] = [];
  /** Called once at ready, when the session is known and sampled. */
  readonly readyListeners: (() => void)[] = [];

  constructor(
    readonly cfg: Config,
    private readonly sender: Sender,
    private readonly pickStorage: () => StorageLike | null,
  ) {
    this.page = this.newPage();
  }

  /** The session now (counting as activity); null before ready. */
  session(): SessionState | null {
    return this.sessions ? this.sessions.current() : null;
  }

  /**
   * Reads storage, decides the session and queues the records kept until now. The ready
   * listeners then run each in a task of its own (small tasks), or at once when `now` (page
   * hide: there may be no later task).
   */
  makeReady(now = false): void {
    if (this.sessions) return;
    const cfg = this.cfg;
    this.transport = new Transport({
      endpoint: cfg.endpoint,
      resource: () => browserResource(cfg),
      sender: this.sender,
      maxQueue: cfg.maxQueue,
      maxEventsPerMinute: cfg.maxEventsPerMinute,
      flushIntervalMs: cfg.flushIntervalMs,
      beforeFlush: () => this.reportDrops(),
    });
    const storage = this.pickStorage();
    this.storage = storage;
    this.sessions = new Sessions({
      storage,
      timeoutMs: cfg.sessionTimeoutMs,
      maxMs: cfg.sessionMaxMs,
      sampleRate: cfg.sessionSampleRate,
      replaySampleRate: cfg.replaySampleRate,
      replayOnErrorSampleRate: cfg.replayOnErrorSampleRate,
    });
    this.anonymousId = anonymousId(storage);
    if (this.userId === null) {
      try {
        this.userId = storage?.getItem(USER_KEY) || '';
      } catch {
        this.userId = '';
      }
    } else {
      this.storeUser();
    }
    const early = this.early;
    this.early = [];
    if (!this.enabled) return;
    for (const e of early) {
      if (e.log) this.queueLog(e.log, e.exempt);
      if (e.span) this.queueSpan(e.span);
    }
    for (const l of this.readyListeners) {
      if (now) guard(l)();
      else setTimeout(guard(l), 0);
    }
  }

  /**
   * Whether records are made: before ready, unless shut down; after, when the session is
   * sampled and sending has not stopped.
   */
  get enabled(): boolean {
    if (!this.active) return false;
    if (!this.sessions || !this.transport) return true;
    return !this.transport.disabled && this.sessions.current().sampled;
  }

  scrub(url: string): string {
    try {
      return this.cfg.scrubUrl(url);
    } catch {
      return '';
    }
  }

  private newPage(): PageView {
    return { id: id64(), traceId: id128(), href: location.href, path: location.pathname, start: nowMs() };
  }

  /** Starts a new page view (SPA navigation); returns the previous one. */
  navigate(): PageView {
    const previous = this.page;
    for (const l of this.pageViewListeners) guard(l)(previous);
    this.page = this.newPage();
    return previous;
  }

  /** Attributes of the page view and the page's own (`setAttribute`), at the record's time. */
  private pageAttrs(page: PageView): Attrs {
    const a: Attrs = { ...this.globals };
    a['page_view.id'] = page.id;
    a['url.full'] = page.href;
    a['url.path'] = page.path;
    return a;
  }

  /** Attributes of the session and user, known from ready on. */
  private sessionAttrs(session: SessionState): Attrs {
    const a: Attrs = { 'session.id': session.id, 'user.anonymous_id': this.anonymousId };
    if (this.userId) {
      a['user.id'] = this.userId;
      a['enduser.id'] = this.userId;
    }
    return a;
  }

  /** The session's attributes added, the URLs scrubbed. */
  private stamp(attrs: Attrs, session: SessionState): Attrs {
    const a = { ...this.sessionAttrs(session), ...attrs };
    for (const key of URL_ATTRIBUTES) {
      const v = a[key];
      if (typeof v === 'string') a[key] = this.scrub(v);
    }
    return a;
  }

  private queueLog(rec: LogRecord, exempt?: boolean): void {
    const session = this.sessions?.current();
    if (!session || !session.sampled || !this.transport) return;
    rec.attrs = this.stamp(rec.attrs, session);
    this.transport.addLog(rec, exempt);
  }

  private queueSpan(s: SpanRecord): void {
    const session = this.sessions?.current();
    if (!session || !session.sampled || !this.transport) return;
    s.attrs = this.stamp(s.attrs, session);
    this.transport.addSpan(s);
  }

  /** A log record with `event.name`. Attributes given override the common ones. */
  event(name: string, attrs: Attrs, o: EventOptions = {}): void {
    if (!this.enabled) return;
    const rec: LogRecord = {
      time: o.time || nowMs(),
      severity: o.severity || SEVERITY_INFO,
      attrs: { ...this.pageAttrs(o.pageView || this.page), ...attrs, 'event.name': name },
    };
    if (o.body !== undefined) rec.body = o.body;
    if (o.traceId) rec.traceId = o.traceId;
    if (o.spanId) rec.spanId = o.spanId;
    if (this.sessions) this.queueLog(rec, o.exempt);
    else if (this.early.length < MAX_EARLY) this.early.push({ log: rec, exempt: o.exempt });
  }

  span(s: SpanRecord, page?: PageView): void {
    if (!this.enabled) return;
    s.attrs = { ...this.pageAttrs(page || this.page), ...s.attrs };
    if (this.sessions) this.queueSpan(s);
    else if (this.early.length < MAX_EARLY) this.early.push({ span: s });
  }

  /** Tells the listeners an error happened (after its record is queued). */
  errorHappened(): void {
    for (const l of this.errorListeners) guard(l)();
  }

  private storeUser(): void {
    try {
      this.storage?.setItem(USER_KEY, this.userId || '');
    } catch {
      /* memory only */
    }
  }

  identify(userId: string | null, attrs: Attrs): void {
    const id = userId === null || userId === undefined ? '' : String(userId).slice(0, 256);
    const previous = this.userId;
    this.userId = id;
    if (this.sessions) this.storeUser();
    if (id) this.event('browser.identify', { ...attrs, 'user.previous_id': previous || undefined });
  }

  setAttribute(key: string, value: Attr): void {
    if (typeof key !== 'string' || key === '') return;
    if (value === null || value === undefined) delete this.globals[key];
    else this.globals[key] = value;
  }

  /** The page is being hidden (maybe for good): last values, then everything queued. */
  async hidden(): Promise<void> {
    this.makeReady(true);
    const transport = this.transport;
    if (!transport) return;
    const waits = this.hideListeners.map((l) => guard(l)());
    const now = transport.flush(true);
    const later = waits.filter((w): w is Promise<void> => w instanceof Promise);
    if (later.length) {
      await Promise.all(later).catch(() => undefined);
      await transport.flush(true);
    }
    await now;
  }

  async flush(): Promise<void> {
    this.makeReady();
    await this.transport?.flush(false);
  }

  async shutdown(): Promise<void> {
    if (!this.active) return;
    await this.hidden();
    this.active = false;
    this.transport?.shutdown();
  }

  private reported = 0;

  /** Drops since the last report, as one `browser.sdk_dropped` record (not rate limited). */
  private reportDrops(): void {
    if (!this.transport) return;
    const d = this.transport.dropCounts();
    const total = d.queue_full + d.rate_limited + d.send_failed + d.rejected + d.unauthorized;
    if (total <= this.reported || !this.active) return;
    this.reported = total;
    const attrs: Attrs = {};
    for (const k in d) attrs[`redscope.dropped.${k}`] = d[k as keyof typeof d];
    this.event('browser.sdk_dropped', attrs, { exempt: true });
  }
}

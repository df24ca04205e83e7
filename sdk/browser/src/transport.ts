// Sending: records wait in bounded queues and go out in batches, every few seconds or when a
// batch is full, as OTLP/HTTP JSON with the token in `Authorization: Bearer`. Failures back
// off exponentially (honouring Retry-After); 401/403 stop sending for good; on page hide what
// is left goes out with `fetch(keepalive)`, whose bodies must stay under 64 KiB in all.

import type { Attrs } from './config';
import { type LogRecord, type SpanRecord, encodeLogs, encodeTraces } from './otlp';
import { BoundedQueue, RateLimiter } from './queue';

export interface SendResult {
  status: number;
  /** Seconds, from Retry-After. */
  retryAfter?: number;
}

/** Posts a JSON body; rejects on network errors. */
export type Sender = (url: string, body: string, keepalive: boolean) => Promise<SendResult>;

export interface TransportOptions {
  endpoint: string;
  /** The resource attributes, asked for at the first send (reading navigator takes time). */
  resource: () => Attrs;
  sender: Sender;
  maxQueue: number;
  maxEventsPerMinute: number;
  flushIntervalMs: number;
  now?: () => number;
  /** Called before each flush, to add records of its own (the drop report). */
  beforeFlush?: () => void;
}

/** Why records were dropped, counted since the page loaded. */
export interface DropCounts {
  queue_full: number;
  rate_limited: number;
  send_failed: number;
  rejected: number;
  unauthorized: number;
}

const MAX_BATCH = 100;
/** Bodies of keepalive requests (page hide): Chromium allows 64 KiB in flight in all. */
export const KEEPALIVE_BODY = 60_000;
const MAX_BODY = 1_000_000;
const MAX_ATTEMPTS = 6;
/** What the queued records may weigh (replay segments are the heavy ones). */
const MAX_QUEUE_BYTES = 8_000_000;
const MAX_BACKOFF_MS = 60_000;

/** Bodies at least this long are gzipped, where the browser can (`CompressionStream`). */
const GZIP_FROM = 2048;

async function gzip(text: string): Promise<ArrayBuffer> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).arrayBuffer();
}

/** Sends a body that must outlive the page: `navigator.sendBeacon`'s shape. */
export type Beacon = (url: string, data: Blob) => boolean;

/** Whether this browser's fetch honours `keepalive` (Firefox before 133 does not). */
export function fetchKeepsAlive(): boolean {
  return typeof Request !== 'undefined' && 'keepalive' in Request.prototype;
}

/**
 * The default sender: `fetch` (the page's own, taken before the SDK wraps it). Bodies are
 * gzipped, except on page hide: compressing is asynchronous, and a page going away may not
 * give it the time. On page hide in a browser whose fetch has no `keepalive`, `beacon`
 * sends instead: as `text/plain` (a beacon cannot say `application/json` without a
 * preflight) with the token as `?token=`, both of which redscope accepts from browser tokens.
 */
export function fetchSender(fetchFn: typeof fetch, token: string, beacon: Beacon | null = null, keepsAlive = fetchKeepsAlive()): Sender {
  return async (url, body, keepalive) => {
    if (keepalive && !keepsAlive && beacon) {
      const target = token ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : url;
      // Queued by the browser, answer unknown: accepted counts as sent.
      return { status: beacon(target, new Blob([body], { type: 'text/plain' })) ? 202 : 0 };
    }
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    let payload: BodyInit = body;
    if (!keepalive && body.length >= GZIP_FROM && typeof CompressionStream !== 'undefined') {
      try {
        payload = await gzip(body);
        headers['Content-Encoding'] = 'gzip';
      } catch {
        payload = body;
      }
    }
    const r = await fetchFn(url, { method: 'POST', body: payload, headers, keepalive, credentials: 'omit', mode: 'cors' });
    const retry = Number(r.headers.get('retry-after'));
    return { status: r.status, retryAfter: retry > 0 ? retry : undefined };
  };
}

/** UTF-8 length of `s` (keepalive budgets are in bytes). */
export function byteLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) n += c > 0x7ff && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return n;
}

/** Whether `s` is at most `limit` bytes in UTF-8, counting only when it has to. */
function fits(s: string, limit: number): boolean {
  if (s.length * 3 <= limit) return true;
  return s.length <= limit && byteLength(s) <= limit;
}

class Channel<T> {
  readonly queue: BoundedQueue<T>;
  busy = false;
  attempts = 0;
  retryAt = 0;

  constructor(
    readonly path: string,
    max: number,
    readonly encode: (items: T[]) => string,
    weigh?: (item: T) => number,
  ) {
    this.queue = new BoundedQueue<T>(max, MAX_QUEUE_BYTES, weigh);
  }
}

export class Transport {
  private readonly spans: Channel<SpanRecord>;
  private readonly logs: Channel<LogRecord>;
  private readonly limiter: RateLimiter;
  private readonly now: () => number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private warned = false;
  readonly drops: DropCounts = { queue_full: 0, rate_limited: 0, send_failed: 0, rejected: 0, unauthorized: 0 };

  constructor(private readonly o: TransportOptions) {
    this.now = o.now || Date.now;
    this.limiter = new RateLimiter(o.maxEventsPerMinute, this.now);
    let resource: Attrs | null = null;
    const res = () => (resource ||= o.resource());
    this.spans = new Channel('/v1/traces', o.maxQueue, (s) => encodeTraces(res(), s));
    this.logs = new Channel('/v1/logs', o.maxQueue, (l) => encodeLogs(res(), l, this.now()), (l) => (l.body ? l.body.length : 0) + 500);
  }

  /** Whether sending has stopped for good (the token was refused). */
  get disabled(): boolean {
    return this.stopped;
  }

  /** Dropped because a queue was full, in all. */
  private queueDrops(): number {
    return this.spans.queue.dropped + this.logs.queue.dropped;
  }

  dropCounts(): DropCounts {
    return { ...this.drops, queue_full: this.queueDrops() };
  }

  addSpan(span: SpanRecord): void {
    this.add(this.spans, span, false);
  }

  /** `exempt`: not counted against the rate limit (replay segments, the SDK's own report). */
  addLog(log: LogRecord, exempt = false): void {
    this.add(this.logs, log, exempt);
  }

  private add<T>(ch: Channel<T>, item: T, exempt: boolean): void {
    if (this.stopped) return;
    if (!exempt && !this.limiter.allow()) {
      this.drops.rate_limited++;
      return;
    }
    ch.queue.push(item);
    if (ch.queue.size >= MAX_BATCH) this.schedule(0);
    else this.schedule(this.o.flushIntervalMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer !== null) {
      if (ms > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush(false).catch(() => undefined);
    }, ms);
  }

  /**
   * Sends what is queued. `final` (page hide): everything at once with keepalive, in bodies
   * under {@link KEEPALIVE_BODY}, without waiting for backoff or for requests in flight.
   */
  async flush(final: boolean): Promise<void> {
    if (this.stopped) return;
    try {
      this.o.beforeFlush?.();
    } catch {
      /* the report is best effort */
    }
    try {
      await Promise.all([this.drain(this.spans, final), this.drain(this.logs, final)]);
    } catch {
      /* a record that cannot be encoded: dropped with its batch */
    }
    if (!final && (this.spans.queue.size || this.logs.queue.size)) {
      const wait = Math.max(this.spans.retryAt, this.logs.retryAt) - this.now();
      this.schedule(Math.max(wait, this.o.flushIntervalMs));
    }
  }

  private async drain<T>(ch: Channel<T>, final: boolean): Promise<void> {
    if (!final && (ch.busy || this.now() < ch.retryAt)) return;
    ch.busy = !final;
    try {
      let budget = KEEPALIVE_BODY;
      while (ch.queue.size && !this.stopped) {
        const items = ch.queue.take(MAX_BATCH);
        const bodies = this.split(ch, items, final ? KEEPALIVE_BODY : MAX_BODY);
        const sends: Promise<boolean>[] = [];
        for (const [part, body] of bodies) {
          // Over the keepalive budget, or larger than it alone: sent as a plain request, which
          // the browser may cancel if the page goes away.
          const size = final ? byteLength(body) : 0;
          const keepalive = final && size <= budget;
          if (keepalive) budget -= size;
          const p = this.post(ch, part, body, keepalive);
          if (final) sends.push(p);
          else if (!(await p)) return;
        }
        if (final) {
          await Promise.all(sends);
          return;
        }
      }
    } finally {
      if (!final) ch.busy = false;
    }
  }

  /** Items and their encoded bodies, halving batches until each is under `limit` (or single). */
  private split<T>(ch: Channel<T>, items: T[], limit: number): [T[], string][] {
    const body = ch.encode(items);
    if (fits(body, limit) || items.length === 1) return [[items, body]];
    const half = Math.ceil(items.length / 2);
    return this.split(ch, items.slice(0, half), limit).concat(this.split(ch, items.slice(half), limit));
  }

  /** One request; true when the channel may go on sending. */
  private async post<T>(ch: Channel<T>, items: T[], body: string, keepalive: boolean): Promise<boolean> {
    let result: SendResult;
    try {
      result = await this.o.sender(this.o.endpoint + ch.path, body, keepalive);
    } catch {
      result = { status: 0 };
    }
    const s = result.status;
    if (s >= 200 && s < 300) {
      ch.attempts = 0;
      ch.retryAt = 0;
      return true;
    }
    if (s === 401 || s === 403) {
      this.stop(items.length);
      return false;
    }
    if (s === 0 || s === 408 || s === 429 || s >= 500) {
      ch.attempts++;
      if (ch.attempts >= MAX_ATTEMPTS) {
        this.drops.send_failed += items.length;
        ch.attempts = 0;
      } else {
        ch.queue.requeue(items);
      }
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, ch.attempts - 1));
      const wait = result.retryAfter ? Math.min(result.retryAfter * 1000, 10 * MAX_BACKOFF_MS) : backoff;
      ch.retryAt = this.now() + wait * (0.8 + Math.random() * 0.4);
      return false;
    }
    // 400, 413 and the like: this batch will never be accepted.
    this.drops.rejected += items.length;
    return true;
  }

  private stop(inFlight: number): void {
    if (this.stopped) return;
    this.stopped = true;
    this.drops.unauthorized += inFlight + this.spans.queue.clear() + this.logs.queue.clear();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (!this.warned) {
      this.warned = true;
      try {
        console.warn('redscope: the endpoint refused the token (401/403); telemetry is off for this page');
      } catch {
        /* no console */
      }
    }
  }

  /** Stops the timer; queued records are flushed first by the caller when it wants them. */
  shutdown(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.stopped = true;
  }
}

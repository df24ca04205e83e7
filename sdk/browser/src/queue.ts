// Bounded queues and the client-side rate limit: what the SDK holds is capped, and what it
// cannot hold is dropped and counted, never thrown.

/**
 * A FIFO of at most `max` items and `maxBytes` by `weigh` (default: each item weighs 0);
 * pushing onto a full one drops the oldest.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private bytes = 0;
  /** Items dropped because the queue was full. */
  dropped = 0;

  constructor(
    readonly max: number,
    readonly maxBytes = Infinity,
    private readonly weigh: (item: T) => number = () => 0,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** What the items weigh in all. */
  get weight(): number {
    return this.bytes;
  }

  push(item: T): void {
    this.items.push(item);
    this.bytes += this.weigh(item);
    this.trim();
  }

  /** Removes and returns up to `n` of the oldest items. */
  take(n: number): T[] {
    const taken = this.items.splice(0, n);
    for (const item of taken) this.bytes -= this.weigh(item);
    return taken;
  }

  /** Puts items taken but not sent back in front; what no longer fits is dropped (the oldest). */
  requeue(items: T[]): void {
    this.items = items.concat(this.items);
    for (const item of items) this.bytes += this.weigh(item);
    this.trim();
  }

  private trim(): void {
    // The newest item stays even when it alone is over the byte limit.
    while (this.items.length > this.max || (this.bytes > this.maxBytes && this.items.length > 1)) {
      const item = this.items.shift() as T;
      this.bytes -= this.weigh(item);
      this.dropped++;
    }
  }

  clear(): number {
    const n = this.items.length;
    this.items = [];
    this.bytes = 0;
    return n;
  }
}

/** A token bucket: `perMinute` records a minute on average, bursts up to `perMinute`. */
export class RateLimiter {
  private tokens: number;
  private at: number;

  constructor(private readonly perMinute: number, private readonly now: () => number = Date.now) {
    this.tokens = perMinute;
    this.at = now();
  }

  allow(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((t - this.at) * this.perMinute) / 60_000);
    this.at = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

// Sessions: a random 128-bit id kept in localStorage (shared by the site's tabs), ended after
// 30 minutes without activity or 4 hours in all; whether a session is sampled and how it is
// recorded is decided once, when it starts. Also the anonymous user id, kept for good.

import { id128 } from './ids';

export type ReplayMode = 'full' | 'error' | 'off';

export interface SessionState {
  id: string;
  /** Epoch ms of its start and of its last activity. */
  start: number;
  last: number;
  sampled: boolean;
  replay: ReplayMode;
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface SessionOptions {
  storage: StorageLike | null;
  timeoutMs: number;
  maxMs: number;
  sampleRate: number;
  replaySampleRate: number;
  replayOnErrorSampleRate: number;
  now?: () => number;
  random?: () => number;
}

export const SESSION_KEY = 'redscope.session';
export const ANON_KEY = 'redscope.anon';
/** Activity is written back, and other tabs' changes read, at most this often (ms). */
const WRITE_EVERY = 1000;
const READ_EVERY = 1000;

/** The first of localStorage, sessionStorage that works here, else none (memory only). */
export function pickStorage(): StorageLike | null {
  for (const name of ['localStorage', 'sessionStorage'] as const) {
    try {
      const s = window[name];
      const probe = 'redscope.probe';
      s.setItem(probe, '1');
      s.removeItem(probe);
      return s;
    } catch {
      /* disabled, or a private mode that throws */
    }
  }
  return null;
}

function parse(text: string | null): SessionState | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as SessionState;
    const ok =
      typeof v.id === 'string' && /^[0-9a-f]{32}$/.test(v.id) &&
      typeof v.start === 'number' && typeof v.last === 'number' && typeof v.sampled === 'boolean' &&
      (v.replay === 'full' || v.replay === 'error' || v.replay === 'off');
    return ok ? v : null;
  } catch {
    return null;
  }
}

export class Sessions {
  private state: SessionState | null = null;
  private written = 0;
  private readAt = -Infinity;
  private readonly now: () => number;
  private readonly random: () => number;
  /** Called with the new session when one ends and another begins (not for the first one). */
  onRotate: ((s: SessionState) => void) | null = null;

  constructor(private readonly o: SessionOptions) {
    this.now = o.now || Date.now;
    this.random = o.random || Math.random;
  }

  private expired(s: SessionState, t: number): boolean {
    return t - s.last > this.o.timeoutMs || t - s.start > this.o.maxMs || s.last > t + 60_000;
  }

  private create(t: number): SessionState {
    const sampled = this.random() < this.o.sampleRate;
    let replay: ReplayMode = 'off';
    if (sampled) {
      if (this.random() < this.o.replaySampleRate) replay = 'full';
      else if (this.random() < this.o.replayOnErrorSampleRate) replay = 'error';
    }
    return { id: id128(), start: t, last: t, sampled, replay };
  }

  /**
   * The session now, counting this call as activity: the stored one (another tab may have
   * started or extended it) unless it has expired, in which case a new one starts.
   */
  current(): SessionState {
    const t = this.now();
    const previous = this.state;
    let s = previous;
    // Records come in bursts (a page's resources): storage is looked at once a second.
    const due = !s || t - this.readAt >= READ_EVERY || this.expired(s, t);
    const stored = due ? this.read() : null;
    if (due) this.readAt = t;
    if (stored) {
      if (!s) s = stored;
      else if (stored.id === s.id) {
        s.last = Math.max(s.last, stored.last);
        if (stored.replay === 'full') s.replay = 'full';
      } else if (stored.start > s.start) s = stored; // another tab started the next one
    }
    let fresh = false;
    if (!s || this.expired(s, t)) {
      s = this.create(t);
      fresh = true;
    }
    s.last = t;
    this.state = s;
    if (fresh || t - this.written >= WRITE_EVERY) this.write(s, t);
    if (previous && previous.id !== s.id && this.onRotate) this.onRotate(s);
    return s;
  }

  /** The session as last seen, without counting activity (undefined before the first call). */
  peek(): SessionState | null {
    return this.state;
  }

  /** Changes how the current session records (e.g. on-error replay switching to full). */
  setReplay(mode: ReplayMode): void {
    const s = this.current();
    s.replay = mode;
    this.write(s, this.now());
  }

  private read(): SessionState | null {
    try {
      return this.o.storage ? parse(this.o.storage.getItem(SESSION_KEY)) : null;
    } catch {
      return null;
    }
  }

  private write(s: SessionState, t: number): void {
    this.written = t;
    try {
      this.o.storage?.setItem(SESSION_KEY, JSON.stringify(s));
    } catch {
      /* quota or disabled: the session lives in memory */
    }
  }
}

/** The anonymous id of this browser for the site, created on first use. */
export function anonymousId(storage: StorageLike | null): string {
  try {
    const v = storage?.getItem(ANON_KEY);
    if (v && /^[0-9a-f]{32}$/.test(v)) return v;
    const id = id128();
    storage?.setItem(ANON_KEY, id);
    return id;
  } catch {
    return id128();
  }
}

// The options of `init`, their defaults, and the checks made once at start.

export type Attr = string | number | boolean | null | undefined | Attr[];
export type Attrs = Record<string, Attr>;
export type UrlMatcher = string | RegExp;

export interface ReplayOptions {
  /** Share of sessions recorded from their start (0..1). Default 0. */
  sampleRate?: number;
  /** Share of the other sessions that keep the last 60 s in memory and send it on an error. Default 0. */
  onErrorSampleRate?: number;
  /** CSS selectors whose text and inputs are recorded unmasked (everything else is masked). */
  unmaskSelectors?: string[];
  /** Where the recorder module is; default `replay.mjs` beside the SDK's own script. */
  recorderUrl?: string;
}

export interface InitOptions {
  /** Base URL of redscope's OTLP/HTTP receiver, e.g. `https://otlp.example.com:4318`. */
  endpoint: string;
  /** A browser token (`redscope token create --scope browser --origin https://site`). */
  token?: string;
  serviceName: string;
  serviceVersion?: string;
  environment?: string;
  /** Share of sessions that send anything (0..1). Default 1. */
  sessionSampleRate?: number;
  replay?: ReplayOptions;
  /**
   * Where fetch/XHR get a `traceparent` header: origins (`https://api.example.com`) or
   * RegExps tested against the full URL. The page's own origin always does.
   */
  propagateTraceTo?: UrlMatcher[];
  /** Requests to these (substring of the URL, or RegExp) are neither traced nor recorded. */
  ignoreUrls?: UrlMatcher[];
  /** Rewrites every URL before it is sent; default: {@link defaultScrubUrl}. */
  scrubUrl?: (url: string) => string;
  /** Also report `console.error` calls as errors. Default false. */
  captureConsoleErrors?: boolean;
  /** Record clicks as user actions. Default true. */
  captureClicks?: boolean;
  /** Record resource timing (scripts, styles, images) as spans. Default true. */
  captureResources?: boolean;
  /** Client-side limit on records per minute (replay segments excluded). Default 300. */
  maxEventsPerMinute?: number;
  /** Records kept waiting to be sent, at most (the oldest are dropped). Default 500. */
  maxQueue?: number;
  /** How often batches go out, in ms. Default 5000. */
  flushIntervalMs?: number;
  /** Session inactivity timeout and maximum lifetime in ms (defaults 30 min and 4 h). */
  sessionTimeoutMs?: number;
  sessionMaxMs?: number;
}

export interface Config {
  endpoint: string;
  token: string;
  serviceName: string;
  serviceVersion: string;
  environment: string;
  sessionSampleRate: number;
  replaySampleRate: number;
  replayOnErrorSampleRate: number;
  unmaskSelectors: string[];
  recorderUrl: string;
  propagateTraceTo: UrlMatcher[];
  ignoreUrls: UrlMatcher[];
  scrubUrl: (url: string) => string;
  captureConsoleErrors: boolean;
  captureClicks: boolean;
  captureResources: boolean;
  maxEventsPerMinute: number;
  maxQueue: number;
  flushIntervalMs: number;
  sessionTimeoutMs: number;
  sessionMaxMs: number;
}

const rate = (v: unknown, dflt: number): number =>
  typeof v === 'number' && v >= 0 && v <= 1 ? v : dflt;
const positive = (v: unknown, dflt: number): number =>
  typeof v === 'number' && v > 0 && Number.isFinite(v) ? v : dflt;

/** Options to a checked configuration; an error (not thrown to the page) names what is wrong. */
export function resolveConfig(
  o: InitOptions,
  scriptUrl: string,
  scrub: (url: string) => string,
): Config | string {
  if (!o || typeof o !== 'object') return 'init needs an options object';
  if (typeof o.endpoint !== 'string' || !/^https?:\/\//.test(o.endpoint)) {
    return 'init: endpoint must be an http(s) URL';
  }
  if (typeof o.serviceName !== 'string' || o.serviceName === '') {
    return 'init: serviceName is required';
  }
  const r = o.replay || {};
  return {
    endpoint: o.endpoint.replace(/\/+$/, ''),
    token: typeof o.token === 'string' ? o.token : '',
    serviceName: o.serviceName,
    serviceVersion: o.serviceVersion || '',
    environment: o.environment || '',
    sessionSampleRate: rate(o.sessionSampleRate, 1),
    replaySampleRate: rate(r.sampleRate, 0),
    replayOnErrorSampleRate: rate(r.onErrorSampleRate, 0),
    unmaskSelectors: Array.isArray(r.unmaskSelectors) ? r.unmaskSelectors.filter((s) => typeof s === 'string') : [],
    recorderUrl: r.recorderUrl || siblingUrl(scriptUrl, 'replay.mjs'),
    propagateTraceTo: Array.isArray(o.propagateTraceTo) ? o.propagateTraceTo : [],
    ignoreUrls: Array.isArray(o.ignoreUrls) ? o.ignoreUrls : [],
    scrubUrl: typeof o.scrubUrl === 'function' ? o.scrubUrl : scrub,
    captureConsoleErrors: o.captureConsoleErrors === true,
    captureClicks: o.captureClicks !== false,
    captureResources: o.captureResources !== false,
    maxEventsPerMinute: positive(o.maxEventsPerMinute, 300),
    maxQueue: positive(o.maxQueue, 500),
    flushIntervalMs: positive(o.flushIntervalMs, 5000),
    sessionTimeoutMs: positive(o.sessionTimeoutMs, 30 * 60_000),
    sessionMaxMs: positive(o.sessionMaxMs, 4 * 3_600_000),
  };
}

/**
 * `name` in the folder of `url` (the SDK's own script), or '' when that is unknown. With
 * strings, not `new URL`: this runs in `init`, before the page's load, where the first URL
 * object of a page costs a millisecond or more.
 */
export function siblingUrl(url: string, name: string): string {
  const path = url.replace(/[?#].*$/, '');
  if (!/^https?:\/\/[^/]+\//.test(path)) return '';
  return path.replace(/[^/]*$/, '') + name;
}

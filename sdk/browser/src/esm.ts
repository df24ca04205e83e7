// The ES module build (redscope.mjs).
import { setScriptUrl } from './api';

setScriptUrl(import.meta.url);

export { defaultScrubUrl, flush, identify, init, reportError, sendEvent, setAttribute, shutdown } from './api';
export type { Attr, Attrs, InitOptions, ReplayOptions, UrlMatcher } from './api';

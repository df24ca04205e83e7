// The ES module build (redscope.mjs).
import { setScriptUrl } from './api';

setScriptUrl(import.meta.url);

export * from './api';

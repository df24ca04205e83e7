// The snippet of README.md ("Script tag"), as the test site puts it in its <head>.

/**
 * The stub, a function of the SDK's URL: queues calls (and early errors) until redscope.js has
 * run, and adds redscope.js to the page once the page's `load` has fired, so the SDK's fetch
 * and run never delay the host page's load (an `async` script in the head does: the browser
 * waits for it before `load`).
 */
export const STUB = (src) =>
  '!function(w,d,u){var r=w.redscope=w.redscope||{q:[]};if(r.init)return;' +
  '"init identify sendEvent reportError setAttribute flush shutdown".split(" ").forEach(function(m){r[m]=function(){r.q.push([m,arguments])}});' +
  'r.e=function(e){r.q.push(["reportError",[e.reason||e.error||e.message]])};w.addEventListener("error",r.e);w.addEventListener("unhandledrejection",r.e);' +
  'function l(){if(u){var s=d.createElement("script");s.async=!0;s.src=u;d.head.appendChild(s)}}' +
  `d.readyState=="complete"?l():w.addEventListener("load",l)}(window,document,${JSON.stringify(src)});`;

export function snippet(options, src = '/sdk/redscope.js') {
  return `<script>${STUB(src)}redscope.init(${JSON.stringify(options)});</script>`;
}

// The snippet of README.md ("Script tag"), as the test site puts it in its <head>.

/** The stub: queues calls (and early errors) until redscope.js has loaded. */
export const STUB =
  '!function(w){var r=w.redscope=w.redscope||{q:[]};if(r.init)return;' +
  '"init identify sendEvent reportError setAttribute flush shutdown".split(" ").forEach(function(m){r[m]=function(){r.q.push([m,arguments])}});' +
  'r.e=function(e){r.q.push(["reportError",[e.error||e.message]])};w.addEventListener("error",r.e)}(window);';

export function snippet(options, src = '/sdk/redscope.js') {
  return `<script>${STUB}redscope.init(${JSON.stringify(options)});</script>\n    <script async src="${src}"></script>`;
}

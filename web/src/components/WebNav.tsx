// What every page of the Web section shares: its tabs, the site / release / device filters
// (kept in the URL) and the empty state that says how to install the browser SDK.
import type { ComponentChildren } from 'preact';
import { api } from '../lib/api';
import { useApi, useRange } from '../lib/hooks';
import { href, setParams, useLocation } from '../lib/router';
import { filterChoices, filterChoicesSql, webFilters } from '../lib/webstats';
import '../web.css';
import { Link } from './Link';
import { Empty } from './states';

const TABS = [
  { path: '/web', label: 'Overview' },
  { path: '/web/pages', label: 'Pages' },
  { path: '/web/sessions', label: 'Sessions' },
  { path: '/web/errors', label: 'Errors' },
  { path: '/web/funnels', label: 'Funnels' },
];

/** The filters that follow the user across the Web section's tabs. */
const CARRIED = ['service', 'release', 'device'];

/** An href within the Web section that keeps the filters. */
export function webHref(path: string, params: Record<string, string | number | null | undefined> = {}): string {
  const q = new URLSearchParams(window.location.search);
  const carried: Record<string, string> = {};
  for (const k of CARRIED) {
    const v = q.get(k);
    if (v) carried[k] = v;
  }
  return href(path, { ...carried, ...params });
}

export function WebTabs() {
  const { path } = useLocation();
  const active = TABS.slice()
    .reverse()
    .find((t) => path === t.path || path.startsWith(`${t.path}/`));
  return (
    <nav class="tabs" aria-label="Web" data-testid="web-tabs">
      {TABS.map((t) => (
        <Link href={webHref(t.path)} class={`tab ${active === t ? 'on' : ''}`}>
          {t.label}
        </Link>
      ))}
    </nav>
  );
}

function Select({ label, param, value, options, testid }: { label: string; param: string; value: string; options: string[]; testid: string }) {
  const all = value && !options.includes(value) ? [value, ...options] : options;
  return (
    <label class="field">
      {label}
      <select class="select" value={value} data-testid={testid} onChange={(e) => setParams({ [param]: (e.target as HTMLSelectElement).value || null }, true)}>
        <option value="">All</option>
        {all.map((o) => (
          <option value={o}>{o}</option>
        ))}
      </select>
    </label>
  );
}

/** Site, release and device class, with the values seen in the time range. */
export function WebFilterBar({ children, note }: { children?: ComponentChildren; note?: string }) {
  const range = useRange();
  const loc = useLocation();
  const f = webFilters(loc.query);
  const choices = useApi((s) => api.sql(filterChoicesSql(range), s), [range]);
  const c = choices.data ? filterChoices(choices.data) : { services: [], releases: [], devices: [] };
  return (
    <div class="filters web-filters" data-testid="web-filters">
      <Select label="Site (service)" param="service" value={f.service} options={c.services} testid="filter-service" />
      <Select label="Release" param="release" value={f.release} options={c.releases} testid="filter-release" />
      <Select label="Device" param="device" value={f.device} options={c.devices} testid="filter-device" />
      {children}
      {note && (f.release || f.device) ? <span class="note">{note}</span> : null}
    </div>
  );
}

/** No browser data yet: how to put the SDK on a site. */
export function NoBrowserData({ what = 'browser sessions' }: { what?: string }) {
  const origin = window.location.origin;
  const snippet = `<script>
  !function(w,d,u){var r=w.redscope=w.redscope||{q:[]};if(r.init)return;
  "init identify sendEvent reportError setAttribute flush shutdown".split(" ").forEach(function(m){r[m]=function(){r.q.push([m,arguments])}});
  r.e=function(e){r.q.push(["reportError",[e.reason||e.error||e.message]])};w.addEventListener("error",r.e);w.addEventListener("unhandledrejection",r.e);
  function l(){if(u){var s=d.createElement("script");s.async=!0;s.src=u;d.head.appendChild(s)}}
  d.readyState=="complete"?l():w.addEventListener("load",l)}(window,document,"${origin}/sdk/redscope.js");
  redscope.init({
    endpoint: "${origin}",
    token: "rs_browser_…",
    serviceName: "my-site",
    serviceVersion: "1.0.0",
    replay: { sampleRate: 0.1, onErrorSampleRate: 1 },
  });
</script>`;
  return (
    <Empty title={`No ${what} in this time range`}>
      <p>Put redscope's browser SDK on your site. Create a browser token for the site's origin:</p>
      <pre class="code">redscope token create --scope browser --name my-site --origin https://my-site.example.com</pre>
      <p>
        then add this to the <code>&lt;head&gt;</code> of its pages (before other scripts; it never blocks the page):
      </p>
      <pre class="code" data-testid="sdk-snippet">
        {snippet}
      </pre>
      <p>
        Page views, Web Vitals, errors, requests (joined to your backend traces), clicks and custom events
        (<code>redscope.sendEvent(name, attrs)</code>) appear here a few seconds later. Or widen the time range above.
      </p>
    </Empty>
  );
}

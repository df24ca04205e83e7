import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import './styles.css';
import { Layout } from './components/Layout';
import { Link } from './components/Link';
import { DashboardPage } from './pages/Dashboard';
import { DashboardsPage } from './pages/Dashboards';
import { LogsPage } from './pages/Logs';
import { MapPage } from './pages/Map';
import { MetricsPage } from './pages/Metrics';
import { ServicePage } from './pages/Service';
import { ServicesPage } from './pages/Services';
import { TracePage } from './pages/Trace';
import { UsagePage } from './pages/Usage';
import { PipelinePage } from './pages/Pipeline';
import { TracesPage } from './pages/Traces';
import { TriagePage } from './pages/Triage';
import { AlertsPage } from './pages/Alerts';
import { WebErrorPage } from './pages/WebError';
import { WebErrorsPage } from './pages/WebErrors';
import { WebFunnelsPage } from './pages/WebFunnels';
import { WebOverviewPage } from './pages/WebOverview';
import { WebPagesPage } from './pages/WebPages';
import { WebSessionPage } from './pages/WebSession';
import { WebSessionsPage } from './pages/WebSessions';
import { api, unusedPrefetches } from './lib/api';
import { COLOR_SEED_RANGE, knownServices, routeSegments, SERVICES_KEY } from './lib/requests';
import { href, navigate, useLocation } from './lib/router';
import { seedServiceColors } from './lib/waterfall';

function NotFound() {
  return (
    <Layout title="Page not found">
      <div class="state">
        There is no page at <code>{window.location.pathname}</code>. <Link href={href('/services')}>Go to Services</Link>.
      </div>
    </Layout>
  );
}

/** The Web section: /web, /web/pages, /web/sessions[/:id], /web/errors[/:fingerprint], /web/funnels. */
function WebRoute({ seg }: { seg: string[] }) {
  switch (seg[1] ?? '') {
    case '':
      return <WebOverviewPage />;
    case 'pages':
      return <WebPagesPage />;
    case 'sessions':
      return seg[2] ? <WebSessionPage id={seg[2]} key={seg[2]} /> : <WebSessionsPage />;
    case 'errors':
      return seg[2] ? <WebErrorPage fingerprint={seg[2]} key={seg[2]} /> : <WebErrorsPage />;
    case 'funnels':
      return <WebFunnelsPage />;
    default:
      return <NotFound />;
  }
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, true), [to]);
  return null;
}

function App() {
  const { path } = useLocation();
  const seg = routeSegments(path);
  useEffect(() => {
    const names: Record<string, string> = { services: 'Services', service: 'Service', traces: 'Traces', trace: 'Trace', logs: 'Logs', map: 'Service map', metrics: 'Metrics', usage: 'Usage', pipeline: 'Pipeline', triage: 'Triage', alerts: 'Alerts', web: 'Web' };
    const parts = seg[0] === 'web' ? [seg[2], seg[1], names.web] : [seg[1], names[seg[0]]];
    document.title = `${parts.filter(Boolean).join(' · ') || 'redscope'} — redscope`;
  });
  switch (seg[0] ?? '') {
    case '':
      return <Redirect to={href('/services')} />;
    case 'services':
      return <ServicesPage />;
    case 'service':
      return seg[1] ? <ServicePage name={seg[1]} key={seg[1]} /> : <Redirect to={href('/services')} />;
    case 'traces':
      return <TracesPage />;
    case 'trace':
      return seg[1] ? <TracePage id={seg[1]} key={seg[1]} /> : <Redirect to={href('/traces')} />;
    case 'logs':
      return <LogsPage />;
    case 'map':
      return <MapPage />;
    case 'metrics':
      return <MetricsPage />;
    case 'triage':
      return <TriagePage />;
    case 'alerts':
      return <AlertsPage />;
    case 'dashboards':
      return seg[1] && seg[2] ? <DashboardPage project={seg[1]} name={seg[2]} key={`${seg[1]}/${seg[2]}`} /> : <DashboardsPage />;
    case 'usage':
      return <UsagePage />;
    case 'pipeline':
      return <PipelinePage />;
    case 'web':
      return <WebRoute seg={seg} />;
    default:
      return <NotFound />;
  }
}

/** Appends services not seen before (sorted) to the remembered order; returns the order. */
async function learnServices(known: string[], signal?: AbortSignal): Promise<string[]> {
  const r = await api.services(COLOR_SEED_RANGE, signal);
  const fresh = r.services.map((s) => s.name).filter((n) => !known.includes(n)).sort();
  const order = [...known, ...fresh];
  if (fresh.length) {
    try {
      localStorage.setItem(SERVICES_KEY, JSON.stringify(order.slice(-200)));
    } catch {
      /* private mode: colours are then seeded per load */
    }
  }
  return order;
}

// The first render waits a moment for the answers to the boot script's requests (until
// HOLD_UNTIL_MS after the navigation started at most), so that the browser's first frame shows
// the page's data instead of a skeleton that has to be laid out and painted again right after.
const HOLD_UNTIL_MS = 150;

async function bootAnswers() {
  const answers = [...(window.__redscopeBoot?.answers.values() ?? [])];
  const wait = HOLD_UNTIL_MS - performance.now();
  if (!answers.length || wait <= 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.allSettled(answers), new Promise((r) => (timer = setTimeout(r, wait)))]);
  clearTimeout(timer);
}

// Seed distinct service colours before the first paint: from the remembered order at once, or
// on a first visit from the services list (bounded wait; the UI works without it).
async function start() {
  const known = knownServices();
  if (known.length) {
    seedServiceColors(known);
    // New services get their colour on the next load, never in the middle of a session; the
    // check waits until the page's own requests are done.
    setTimeout(() => learnServices(known).catch(() => {}), 10_000);
  } else {
    try {
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), 4000);
      seedServiceColors(await learnServices(known, ctrl.signal));
      clearTimeout(timer);
    } catch {
      /* pages show their own errors */
    }
  }
  await bootAnswers();
  render(<App />, document.getElementById('app')!);
  // The first render has sent the page's requests (useApi starts them before it returns): any
  // request the boot script sent that the page did not make means src/lib/requests.ts is out
  // of step with the page.
  const unused = unusedPrefetches();
  if (unused.length) console.error(`redscope: the boot script sent requests the page did not make: ${unused.join(', ')}`);
}
start();

import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import './styles.css';
import { Layout } from './components/Layout';
import { Link } from './components/Link';
import { LogsPage } from './pages/Logs';
import { MapPage } from './pages/Map';
import { MetricsPage } from './pages/Metrics';
import { ServicePage } from './pages/Service';
import { ServicesPage } from './pages/Services';
import { TracePage } from './pages/Trace';
import { TracesPage } from './pages/Traces';
import { api } from './lib/api';
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

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, true), [to]);
  return null;
}

function App() {
  const { path } = useLocation();
  const seg = path.replace(/\/+$/, '').split('/').slice(1).map(decodeURIComponent);
  useEffect(() => {
    const names: Record<string, string> = { services: 'Services', service: 'Service', traces: 'Traces', trace: 'Trace', logs: 'Logs', map: 'Service map', metrics: 'Metrics' };
    document.title = `${[seg[1], names[seg[0]]].filter(Boolean).join(' · ') || 'redscope'} — redscope`;
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
    default:
      return <NotFound />;
  }
}

// Seed distinct service colours before the first paint (bounded wait; the UI works without it).
async function start() {
  try {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), 4000);
    const r = await api.services({ from: 'now-6h', to: 'now' }, ctrl.signal);
    clearTimeout(timer);
    seedServiceColors(r.services.map((s) => s.name));
  } catch {
    /* pages show their own errors */
  }
  render(<App />, document.getElementById('app')!);
}
start();

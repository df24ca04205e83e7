import type { ComponentChildren } from 'preact';
import { api, ApiError } from '../lib/api';
import { useApi } from '../lib/hooks';
import { href } from '../lib/router';
import { fmtDateTime } from '../lib/time';
import { Link } from './Link';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="state loading" role="status">
      <span class="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

/** An API error, shown as the server said it (code, message, offending parameter). */
export function ErrorBox({ error, what }: { error: Error; what?: string }) {
  const ae = error instanceof ApiError ? error : null;
  return (
    <div class="state error" role="alert" data-testid="error-box">
      <strong>{what ? `Could not load ${what}` : 'Request failed'}</strong>
      <div class="mono">
        {ae ? `${ae.status || ''} ${ae.code}: ` : ''}
        {error.message}
        {ae?.param ? ` (parameter "${ae.param}")` : ''}
      </div>
    </div>
  );
}

export function NotAvailable({ feature, route }: { feature: string; route: string }) {
  return (
    <div class="state notavail">
      <strong>{feature}: not available on this server yet</strong>
      <div>
        The server answered 404 for <code>{route}</code>. Upgrade redscope to a version with this API; the rest of
        the page works without it.
      </div>
    </div>
  );
}

/** Shows an ApiError as "not available" when the route is missing, otherwise as an error. */
export function ErrorOrMissing({ error, feature, route }: { error: Error; feature: string; route: string }) {
  if (error instanceof ApiError && error.routeMissing)
    return <NotAvailable feature={feature} route={route} />;
  return <ErrorBox error={error} what={feature.toLowerCase()} />;
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="state empty" data-testid="empty-state">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

/** Where data is looked for when a page's range is empty. */
const WIDE_RANGE = { from: 'now-7d', to: 'now' };

/**
 * An empty range: "no data in this range" with a link to the last 7 days when the server has
 * data there, what to do to send some only when it has none.
 */
export function NoTelemetry({ what = 'data' }: { what?: string }) {
  const wide = useApi((s) => api.services(WIDE_RANGE, s), []);
  const title = `No ${what} in this time range`;
  if (!wide.data && !wide.error) return <Empty title={title} />;
  const latest = Math.max(0, ...(wide.data?.services ?? []).map((x) => x.last_seen_unix_nano));
  if (latest > 0)
    return (
      <Empty title={title}>
        <p>
          There is data in the last 7 days (the newest from {fmtDateTime(latest / 1e6)}).{' '}
          <Link href={href(window.location.pathname, { ...currentParams(), ...WIDE_RANGE })} data-testid="widen-range">
            Show the last 7 days
          </Link>
        </p>
      </Empty>
    );
  return (
    <Empty title={title}>
      <p>
        Point an OpenTelemetry SDK or Collector at this server: OTLP/gRPC on port <code>4317</code> or OTLP/HTTP on port{' '}
        <code>4318</code>, e.g.
      </p>
      <pre class="code">
        OTEL_EXPORTER_OTLP_ENDPOINT=http://{window.location.hostname || 'localhost'}:4318{'\n'}OTEL_SERVICE_NAME=my-service
      </pre>
      <p>Or widen the time range above. To try redscope with sample data, run <code>redscope demo</code>.</p>
    </Empty>
  );
}

/** The page's own query parameters (filters, tab), to keep when only the range changes. */
function currentParams(): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(window.location.search));
}

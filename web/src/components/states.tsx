import type { ComponentChildren } from 'preact';
import { ApiError } from '../lib/api';

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

/** What to do when nothing has been received yet. */
export function NoTelemetry({ what = 'data' }: { what?: string }) {
  return (
    <Empty title={`No ${what} in this time range`}>
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


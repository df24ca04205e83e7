import { useState } from 'preact/hooks';
import { api, type LogRecord } from '../lib/api';
import { severityClass, severityName, stringifyValue } from '../lib/format';
import { useApi } from '../lib/hooks';
import { href } from '../lib/router';
import { fmtDateTime, fmtTime } from '../lib/time';
import { serviceColor } from '../lib/waterfall';
import { Link } from './Link';
import { ErrorOrMissing, Loading } from './states';

function recordKey(r: LogRecord, i: number) {
  return r.record_id ?? `${r.time_unix_nano}-${r.service_name}-${i}`;
}

/** Mark the variable parts of a template (`<*>`, `<NUM>`, `{…}` style) so they stand out. */
export function Template({ text }: { text: string }) {
  const parts = text.split(/(<[^<>\s]{1,24}>|\{[^{}\s]{0,24}\})/g);
  return (
    <span class="tpl">
      {parts.map((p, i) => (i % 2 === 1 ? <span class="var">{p}</span> : p))}
    </span>
  );
}

function Attrs({ attrs }: { attrs: Record<string, unknown> }) {
  const entries = Object.entries(attrs ?? {});
  if (!entries.length) return <span class="muted">none</span>;
  return (
    <dl class="kv">
      {entries.map(([k, v]) => (
        <>
          <dt title={k}>{k}</dt>
          <dd>{stringifyValue(v)}</dd>
        </>
      ))}
    </dl>
  );
}

function Structure({ r }: { r: LogRecord }) {
  const st = useApi((s) => api.logStructure(r.record_id!, s), [r.record_id], !!r.record_id);
  return (
    <div>
      <h3>What Log AI learned</h3>
      {!r.record_id ? (
        <div class="muted" style={{ fontSize: '12.5px', marginBottom: '8px' }}>
          This server does not give records an id yet, so the per-record structure (
          <code>/api/v1/logs/&#123;record_id&#125;/structure</code>) is not available. Stored fields:
        </div>
      ) : st.error ? (
        <ErrorOrMissing error={st.error} feature="Log structure" route="/api/v1/logs/{record_id}/structure" />
      ) : !st.data ? (
        <Loading />
      ) : (
        <dl class="kv" style={{ marginBottom: '10px' }} data-testid="log-structure">
          <dt>format</dt>
          <dd data-testid="structure-format">{st.data.format ?? <span class="muted">not recognised</span>}</dd>
          <dt>severity</dt>
          <dd data-testid="structure-severity">
            {st.data.severity_text || severityName(st.data.severity_number)} ({st.data.severity_number}){' '}
            {st.data.severity_inferred && <span class="badge plain">inferred</span>}
          </dd>
          <dt>timestamp</dt>
          <dd>{fmtDateTime(st.data.time_unix_nano / 1e6)}</dd>
          <dt>template</dt>
          <dd data-testid="structure-template">{st.data.template ? <Template text={st.data.template} /> : <span class="muted">not learned</span>}</dd>
          {st.data.template_id !== null && st.data.template_id !== undefined && (
            <>
              <dt>template id</dt>
              <dd data-testid="structure-template-id">{String(st.data.template_id)}</dd>
            </>
          )}
          <dt>params</dt>
          <dd data-testid="structure-params">{stringifyValue(st.data.params)}</dd>
          {Object.entries(st.data.extracted ?? {}).map(([k, v]) => (
            <>
              <dt title={k}>{k}</dt>
              <dd>{stringifyValue(v)}</dd>
            </>
          ))}
        </dl>
      )}
      {(!r.record_id || st.error) && (
        <dl class="kv">
          <dt>severity</dt>
          <dd>
            {r.severity_text || severityName(r.severity_number)} ({r.severity_number})
          </dd>
          <dt>template</dt>
          <dd>{r.log_template ? <Template text={r.log_template} /> : <span class="muted">not learned</span>}</dd>
          {r.log_template_id !== null && r.log_template_id !== undefined && (
            <>
              <dt>template id</dt>
              <dd>{String(r.log_template_id)}</dd>
            </>
          )}
        </dl>
      )}
    </div>
  );
}

function Detail({ r }: { r: LogRecord }) {
  return (
    <div class="log-detail">
      <div>
        <h3>Raw line</h3>
        <pre class="raw" data-testid="log-raw">{stringifyValue(r.body)}</pre>
        <div class="row gap wrap" style={{ marginTop: '10px', fontSize: '12.5px' }}>
          <span class="muted">{fmtDateTime(r.time_unix_nano / 1e6)}</span>
          {r.trace_id && (
            <Link href={href(`/trace/${r.trace_id}`, { span: r.span_id || undefined })}>Open trace {r.trace_id.slice(0, 8)}…</Link>
          )}
          {r.log_template_id !== null && r.log_template_id !== undefined && (
            <Link href={href('/logs', { template_id: String(r.log_template_id) })}>Logs with this pattern</Link>
          )}
        </div>
        <h3 style={{ marginTop: '14px' }}>Attributes</h3>
        <Attrs attrs={r.attributes} />
        <h3 style={{ marginTop: '14px' }}>Resource</h3>
        <Attrs attrs={r.resource_attributes} />
      </div>
      <Structure r={r} />
    </div>
  );
}

export function LogList({ records, showService = true }: { records: LogRecord[]; showService?: boolean }) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  const toggle = (k: string) => {
    const n = new Set(open);
    if (n.has(k)) n.delete(k);
    else n.add(k);
    setOpen(n);
  };
  return (
    <div class="log-list" data-testid="log-list">
      {records.map((r, i) => {
        const k = recordKey(r, i);
        const isOpen = open.has(k);
        return (
          <>
            <div class={`log-row ${isOpen ? 'open' : ''}`} onClick={() => toggle(k)} key={k} data-testid="log-row" style={showService ? undefined : { gridTemplateColumns: '96px 58px minmax(0,1fr)' }}>
              <span class="log-time" title={fmtDateTime(r.time_unix_nano / 1e6)}>
                {fmtTime(r.time_unix_nano / 1e6, true)}
              </span>
              <span class={`sev ${severityClass(r.severity_number)}`}>{r.severity_text ? r.severity_text.toUpperCase().slice(0, 5) : r.severity_number ? severityName(r.severity_number) : '—'}</span>
              {showService && (
                <span class="log-svc">
                  <span class="dot" style={{ background: serviceColor(r.service_name) }} />
                  {r.service_name}
                </span>
              )}
              <span class="log-body">{stringifyValue(r.body)}</span>
            </div>
            {isOpen && <Detail r={r} />}
          </>
        );
      })}
    </div>
  );
}

// A session's timeline (or an error's breadcrumbs): page views, vitals, clicks, requests (each
// linked to its backend trace), errors (linked to their group) and custom events.
import { fmtDurationMs, stringifyValue } from '../lib/format';
import { href } from '../lib/router';
import { requestStatus, type TimelineItem } from '../lib/webapi';
import { Link } from './Link';
import { VitalValue } from './Vitals';

const KIND_LABEL: Record<string, string> = {
  page_view: 'page',
  vital: 'vital',
  error: 'error',
  click: 'click',
  identify: 'identify',
  request: 'request',
  custom: 'event',
  replay: 'replay',
};

const str = (v: unknown) => (v === undefined || v === null ? '' : stringifyValue(v));

/** "+1:05.2" from the start. */
export function fmtOffset(ms: number): string {
  const neg = ms < 0;
  const a = Math.abs(ms) / 1000;
  const m = Math.floor(a / 60);
  const s = a - m * 60;
  return `${neg ? '−' : '+'}${m}:${s < 10 ? '0' : ''}${s.toFixed(1)}`;
}

function Describe({ it }: { it: TimelineItem }) {
  const d = it.details;
  switch (it.kind) {
    case 'page_view':
      return (
        <>
          <strong>{str(d['url.template']) || str(d['url.full']) || 'page view'}</strong>
          {d['page.title'] ? <span class="muted"> {str(d['page.title'])}</span> : null}
          {d['browser.page_view.type'] && d['browser.page_view.type'] !== 'initial' ? <span class="badge plain">{str(d['browser.page_view.type'])}</span> : null}
        </>
      );
    case 'vital': {
      const name = str(d['browser.web_vital.name']);
      const value = Number(d['browser.web_vital.value']);
      return (
        <>
          {name} <VitalValue name={name} value={value} rating={str(d['browser.web_vital.rating']) || null} />
        </>
      );
    }
    case 'error':
      return (
        <>
          <strong class="bad">{str(d['exception.type']) || 'Error'}</strong>: {str(d['exception.message'])}
          {d['exception.fingerprint'] ? (
            <>
              {' '}
              <Link href={href(`/web/errors/${encodeURIComponent(str(d['exception.fingerprint']))}`)} onClick={(e) => e.stopPropagation()} data-testid="timeline-error-link">
                error group
              </Link>
            </>
          ) : null}
        </>
      );
    case 'click':
      return <span class="mono">{str(d['browser.click.name']) || str(d['browser.click.target']) || str(d['target_xpath']) || str(d['target_element']) || 'click'}</span>;
    case 'identify':
      return <>user {str(d['user.id'])}</>;
    case 'request': {
      const status = requestStatus(it);
      return (
        <>
          <span class="mono">
            {str(d['http.request.method']) || str(d['http.method']) || 'GET'} {str(d['url.full']) || str(d['http.url'])}
          </span>{' '}
          {status !== null && <span class={status >= 400 ? 'bad' : 'muted'}>{status}</span>}{' '}
          {it.duration_ms !== undefined && <span class="muted">{fmtDurationMs(it.duration_ms)}</span>}{' '}
          {it.trace_id && (
            <Link href={href(`/trace/${it.trace_id}`)} onClick={(e) => e.stopPropagation()} data-testid="trace-link">
              trace
            </Link>
          )}
        </>
      );
    }
    default: {
      const attrs = Object.entries(d);
      return (
        <>
          <strong>{it.name}</strong>
          {attrs.length ? <span class="muted mono"> {attrs.map(([k, v]) => `${k}=${str(v)}`).join(' ')}</span> : null}
        </>
      );
    }
  }
}

/**
 * Items in time order, offsets from `startNs`. `onSelect` makes rows clickable (the replay
 * seeks there); `current` marks the row the replay has reached.
 */
export function Timeline({ items, startNs, onSelect, current, testid = 'timeline' }: { items: TimelineItem[]; startNs: number; onSelect?: (it: TimelineItem) => void; current?: number; testid?: string }) {
  if (!items.length) return <div class="muted">Nothing recorded.</div>;
  return (
    <ol class="timeline" data-testid={testid}>
      {items.map((it, i) => (
        <li
          class={`tl-item tl-${it.kind} ${onSelect ? 'clickable' : ''} ${current === i ? 'current' : ''}`}
          data-kind={it.kind}
          onClick={onSelect ? () => onSelect(it) : undefined}
          title={onSelect ? 'Play the replay from here' : undefined}
        >
          <span class="tl-time mono">{fmtOffset((it.time_unix_nano - startNs) / 1e6)}</span>
          <span class={`tl-kind k-${it.kind}`}>{KIND_LABEL[it.kind] ?? it.kind}</span>
          <span class="tl-what">
            <Describe it={it} />
          </span>
        </li>
      ))}
    </ol>
  );
}

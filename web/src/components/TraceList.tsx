import type { TraceSummary } from '../lib/api';
import { fmtDurationNs } from '../lib/format';
import { href, navigate } from '../lib/router';
import { fmtDateTime } from '../lib/time';
import { serviceColor } from '../lib/waterfall';
import { Link } from './Link';

export function TraceList({ traces, compact = false }: { traces: TraceSummary[]; compact?: boolean }) {
  const maxDur = Math.max(1, ...traces.map((t) => t.duration_ns));
  return (
    <div class="table-wrap">
      <table class="table" data-testid="trace-list">
        <thead>
          <tr>
            <th>Started</th>
            <th>Root</th>
            {!compact && <th>Services</th>}
            <th class="num">Spans</th>
            <th class="num">Errors</th>
            <th style={{ width: compact ? '140px' : '220px' }}>Duration</th>
          </tr>
        </thead>
        <tbody>
          {traces.map((t) => {
            const link = href(`/trace/${t.trace_id}`);
            return (
              <tr class="clickable" key={t.trace_id} onClick={() => navigate(link)} data-trace-id={t.trace_id} data-duration-ns={t.duration_ns} data-root={`${t.root_service} ${t.root_name}`}>
                <td class="mono muted" style={{ whiteSpace: 'nowrap' }}>
                  {fmtDateTime(t.start_time_unix_nano / 1e6)}
                </td>
                <td>
                  <Link href={link} class="svc-link" onClick={(e) => e.stopPropagation()}>
                    <span class="dot" style={{ background: serviceColor(t.root_service) }} />
                    <span>{t.root_service}</span>
                    <span class="muted" style={{ fontWeight: 400 }}>
                      {t.root_name}
                    </span>
                  </Link>
                </td>
                {!compact && (
                  <td>
                    <div class="svc-dots" title={t.services.join(', ')}>
                      {t.services.slice(0, 8).map((s) => (
                        <span class="dot" style={{ background: serviceColor(s) }} />
                      ))}
                      <span class="muted">
                        {t.services.length === 1 ? t.services[0] : `${t.services.length} services`}
                      </span>
                    </div>
                  </td>
                )}
                <td class="num">{t.span_count}</td>
                <td class="num">{t.error_count ? <span class="badge err">{t.error_count}</span> : <span class="muted">0</span>}</td>
                <td>
                  <div class="row gap">
                    <div style={{ flex: 1, height: '6px', background: 'var(--panel-2)', borderRadius: '3px', overflow: 'hidden' }}>
                      <div style={{ width: `${Math.max(2, (t.duration_ns / maxDur) * 100)}%`, height: '100%', background: t.error_count ? 'var(--red)' : 'var(--accent)' }} />
                    </div>
                    <span class="mono" style={{ minWidth: '64px', textAlign: 'right' }}>
                      {fmtDurationNs(t.duration_ns)}
                    </span>
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

// The Perses panel kinds other than time series and logs: StatChart, Table, Markdown, and the
// box that stands in for a kind this UI does not draw.
import type { ComponentChildren } from 'preact';
import { calculate, formatValue, tableRows, type Series } from '../../lib/dashboards';
import { Sparkline } from '../Chart';

export function StatPanel({ series, calculation, unit }: { series: Series[]; calculation?: string; unit?: string }) {
  const first = series[0];
  if (!first || !first.points.length) return <div class="dash-unsupported" data-testid="panel-no-data">no data in this range</div>;
  const values = first.points.map((p) => p[1]);
  const value = calculate(calculation, values);
  return (
    <div class="dash-stat">
      <div class="dash-stat-value" data-testid="stat-value" data-value={value ?? ''}>
        {formatValue(value, unit)}
      </div>
      <div class="muted" style={{ fontSize: '11.5px' }}>
        {calculation ?? 'last'} of {first.name}
      </div>
      <Sparkline values={values} width={160} height={26} />
    </div>
  );
}

export function TablePanel({ perQuery, columns, unit }: { perQuery: Series[][]; columns: string[]; unit?: string }) {
  const rows = tableRows(perQuery);
  if (!rows.length) return <div class="dash-unsupported" data-testid="panel-no-data">no data in this range</div>;
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.labels)))];
  return (
    <table class="table" data-testid="table-panel">
      <thead>
        <tr>
          {keys.map((k) => (
            <th>{k}</th>
          ))}
          {columns.map((c) => (
            <th class="num">{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr data-testid="table-row">
            {keys.map((k) => (
              <td>{r.labels[k] ?? ''}</td>
            ))}
            {r.values.map((v) => (
              <td class="num">{formatValue(v, unit)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Inline Markdown: `code`, **bold**, *italic* and [links](https://...). */
function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*]+)\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    out.push(text.slice(last, m.index));
    if (m[1] !== undefined) out.push(<code>{m[1]}</code>);
    else if (m[2] !== undefined) out.push(<strong>{m[2]}</strong>);
    else if (m[3] !== undefined) out.push(<em>{m[3]}</em>);
    else {
      const safe = /^(https?:|\/)/.test(m[5]) ? m[5] : '#';
      out.push(<a href={safe}>{m[4]}</a>);
    }
    last = re.lastIndex;
  }
  out.push(text.slice(last));
  return out;
}

/** A Markdown panel: headings, lists and paragraphs, never raw HTML. */
export function MarkdownPanel({ text }: { text: string }) {
  const out: ComponentChildren[] = [];
  let para: string[] = [];
  let list: string[] = [];
  const flush = () => {
    if (para.length) out.push(<p>{para.map((l, i) => [i ? <br /> : null, ...inline(l)])}</p>);
    if (list.length)
      out.push(
        <ul>
          {list.map((l) => (
            <li>{inline(l)}</li>
          ))}
        </ul>,
      );
    para = [];
    list = [];
  };
  for (const line of text.split('\n')) {
    const h = /^(#{1,3})\s+(.*)$/.exec(line.trim());
    const item = /^\s*[-*]\s+(.*)$/.exec(line);
    if (h) {
      flush();
      const Tag = (['h1', 'h2', 'h3'] as const)[h[1].length - 1];
      out.push(<Tag>{inline(h[2])}</Tag>);
    } else if (item) {
      if (para.length) flush();
      list.push(item[1]);
    } else if (!line.trim()) flush();
    else {
      if (list.length) flush();
      para.push(line);
    }
  }
  flush();
  return (
    <div class="dash-md" data-testid="markdown-panel">
      {out}
    </div>
  );
}

export function UnsupportedPanel({ kind }: { kind: string }) {
  return (
    <div class="dash-unsupported" data-testid="panel-unsupported">
      unsupported panel kind {kind}
    </div>
  );
}

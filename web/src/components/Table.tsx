import type { ComponentChildren } from 'preact';
import { setParams, useLocation } from '../lib/router';

export interface Column<T> {
  key: string;
  label: string;
  render: (row: T) => ComponentChildren;
  sort?: (row: T) => number | string;
  align?: 'right' | 'left';
  width?: string;
  title?: string;
}

/** A table whose sort column and direction live in the URL (`sortParam`, `${sortParam}_dir`). */
export function SortableTable<T>({
  rows,
  columns,
  defaultSort,
  sortParam = 'sort',
  onRowClick,
  rowKey,
  rowClass,
  testid,
}: {
  rows: T[];
  columns: Column<T>[];
  defaultSort: string;
  sortParam?: string;
  onRowClick?: (row: T) => void;
  rowKey: (row: T) => string;
  /** Extra classes of a row (e.g. to flag it). */
  rowClass?: (row: T) => string;
  testid?: string;
}) {
  const loc = useLocation();
  const sort = loc.query.get(sortParam) || defaultSort;
  const dir = loc.query.get(`${sortParam}_dir`) || 'desc';
  const col = columns.find((c) => c.key === sort && c.sort) ?? columns.find((c) => c.key === defaultSort)!;
  const sorted = [...rows].sort((a, b) => {
    const x = col.sort!(a);
    const y = col.sort!(b);
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return dir === 'asc' ? c : -c;
  });
  return (
    <div class="table-wrap">
      <table class="table" data-testid={testid}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                class={`${c.align === 'right' ? 'num' : ''} ${c.sort ? 'sortable' : ''} ${c.key === col.key ? 'sorted' : ''}`}
                style={c.width ? { width: c.width } : undefined}
                title={c.title}
                aria-sort={c.key === col.key ? (dir === 'asc' ? 'ascending' : 'descending') : undefined}
                data-col={c.key}
                onClick={
                  c.sort
                    ? () => setParams({ [sortParam]: c.key, [`${sortParam}_dir`]: c.key === col.key && dir === 'desc' ? 'asc' : 'desc' }, true)
                    : undefined
                }
              >
                {c.label}
                {c.key === col.key && <span class="sort-ind">{dir === 'asc' ? '▲' : '▼'}</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr key={rowKey(r)} class={`${onRowClick ? 'clickable' : ''} ${rowClass?.(r) ?? ''}`} onClick={onRowClick ? () => onRowClick(r) : undefined}>
              {columns.map((c) => (
                <td class={c.align === 'right' ? 'num' : ''}>{c.render(r)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

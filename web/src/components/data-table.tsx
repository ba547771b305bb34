import type { ComponentChildren } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { formatCents, formatDate, formatDateTime, formatDecimal, formatInteger, formatMonth, formatPct, formatRatio } from '../format';
import { ErrorNotice, Loading } from './notice';
import { useApi } from './use-api';

/** How a column's values are formatted (and aligned: figures right). */
export type ColumnKind = 'text' | 'money' | 'int' | 'decimal' | 'ratio' | 'pct' | 'date' | 'datetime' | 'month';

/** One column: the row field, its French header, and its kind. */
export interface Column<R> {
  key: string;
  label: string;
  kind?: ColumnKind;
  sortable?: boolean;
  /** Custom cell (actions, badges); default formats `row[key]` by kind. */
  render?: (row: R) => ComponentChildren;
}

/** What the table asks its loader for. */
export interface TableQuery {
  sort: string | null;
  order: 'asc' | 'desc';
  q: string;
  page: number;
  pageSize: number;
}

/** One page of rows and the total count. */
export interface TablePage<R> {
  rows: R[];
  total: number;
}

/** Formats one value by column kind (exported for KPI and tests). */
export function formatCell(kind: ColumnKind, v: unknown): string {
  if (v === null || v === undefined) return '—';
  switch (kind) {
    case 'money':
      return formatCents(v as number);
    case 'int':
      return formatInteger(v as number);
    case 'decimal':
      return formatDecimal(Number(v));
    case 'ratio':
      return formatRatio(Number(v));
    case 'pct':
      return formatPct(Number(v));
    case 'month':
      return formatMonth(`${String(v).slice(0, 7)}-15`);
    case 'date':
      return formatDate(v as string);
    case 'datetime':
      return formatDateTime(v as string);
    default:
      return String(v);
  }
}

const numeric = (k: ColumnKind | undefined) => k === 'money' || k === 'int' || k === 'decimal' || k === 'ratio' || k === 'pct';

/**
 * Sorting, filtering and paging done locally, for short lists the API returns whole
 * (users, sessions, agents). Large fact tables page on the server instead.
 */
export function clientSide<R extends object>(rows: R[], filterKeys: string[]): (q: TableQuery) => Promise<TablePage<R>> {
  return async (q) => {
    const needle = q.q.trim().toLocaleLowerCase('fr');
    let list = needle ? rows.filter((r) => filterKeys.some((k) => String((r as Record<string, unknown>)[k] ?? '').toLocaleLowerCase('fr').includes(needle))) : rows.slice();
    if (q.sort) {
      const key = q.sort;
      const dir = q.order === 'asc' ? 1 : -1;
      list = list.sort((a, b) => {
        const x = (a as Record<string, unknown>)[key];
        const y = (b as Record<string, unknown>)[key];
        if (typeof x === 'number' && typeof y === 'number') return (x - y) * dir;
        return String(x ?? '').localeCompare(String(y ?? ''), 'fr', { numeric: true }) * dir;
      });
    }
    return { rows: list.slice((q.page - 1) * q.pageSize, q.page * q.pageSize), total: list.length };
  };
}

/**
 * The data table of every list: a caption, sortable headers (aria-sort), a filter
 * box, pages, and an optional CSV export link to the server's export endpoint for
 * the same filter and sort. Keyboard: headers are buttons, pages are buttons.
 */
export function DataTable<R extends object>(props: {
  caption: string;
  columns: Column<R>[];
  load: (q: TableQuery, signal: AbortSignal) => Promise<TablePage<R>>;
  /** Inputs that, when they change, reload the table from page 1 (period, pharmacy…). */
  deps?: unknown[];
  rowKey: (row: R) => string;
  exportHref?: (q: TableQuery) => string;
  filterLabel?: string;
  pageSize?: number;
  initialSort?: { key: string; order: 'asc' | 'desc' };
  testId?: string;
}) {
  const id = useId();
  const pageSize = props.pageSize ?? 25;
  const [sort, setSort] = useState<string | null>(props.initialSort?.key ?? null);
  const [order, setOrder] = useState<'asc' | 'desc'>(props.initialSort?.order ?? 'asc');
  const [filterInput, setFilterInput] = useState('');
  const [q, setQ] = useState('');
  const [page, setPage] = useState(1);
  const deps = props.deps ?? [];

  useEffect(() => {
    const t = window.setTimeout(() => {
      setQ(filterInput);
      setPage(1);
    }, 250);
    return () => window.clearTimeout(t);
  }, [filterInput]);
  useEffect(() => setPage(1), deps);

  const query: TableQuery = { sort, order, q, page, pageSize };
  const res = useApi((signal) => props.load(query, signal), [sort, order, q, page, pageSize, ...deps]);
  const total = res.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / pageSize));

  const toggleSort = (key: string) => {
    if (sort === key) setOrder(order === 'asc' ? 'desc' : 'asc');
    else {
      setSort(key);
      setOrder('asc');
    }
    setPage(1);
  };

  return (
    <section class="data-table" aria-labelledby={`${id}-caption`} data-testid={props.testId}>
      <div class="table-tools">
        <label for={`${id}-filter`}>{props.filterLabel ?? 'Filtrer'}</label>
        <input id={`${id}-filter`} type="search" value={filterInput} onInput={(e) => setFilterInput((e.target as HTMLInputElement).value)} />
        {props.exportHref && (
          <a class="button-secondary" href={props.exportHref(query)} download>
            Exporter en CSV
          </a>
        )}
      </div>
      <ErrorNotice error={res.error} />
      <div class="table-scroll">
        <table>
          <caption id={`${id}-caption`}>
            {props.caption}
            <span class="table-count">
              {' '}
              — {formatInteger(total)} ligne{total > 1 ? 's' : ''}
            </span>
          </caption>
          <thead>
            <tr>
              {props.columns.map((c) => (
                <th
                  key={c.key}
                  scope="col"
                  class={numeric(c.kind) ? 'num' : undefined}
                  aria-sort={sort === c.key ? (order === 'asc' ? 'ascending' : 'descending') : c.sortable ? 'none' : undefined}
                >
                  {c.sortable ? (
                    <button type="button" class="sort-button" onClick={() => toggleSort(c.key)}>
                      {c.label}
                      <span aria-hidden="true" class="sort-mark">
                        {sort === c.key ? (order === 'asc' ? ' ▲' : ' ▼') : ' ↕'}
                      </span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {res.data?.rows.map((r) => (
              <tr key={props.rowKey(r)}>
                {props.columns.map((c) => (
                  <td key={c.key} class={numeric(c.kind) ? 'num' : undefined}>
                    {c.render ? c.render(r) : formatCell(c.kind ?? 'text', (r as Record<string, unknown>)[c.key])}
                  </td>
                ))}
              </tr>
            ))}
            {res.data && res.data.rows.length === 0 && (
              <tr>
                <td colSpan={props.columns.length} class="empty">
                  Aucune ligne{q ? ' ne correspond au filtre' : ''}.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {res.loading && <Loading />}
      <nav class="pager" aria-label={`Pages : ${props.caption}`}>
        <button type="button" class="button-secondary" disabled={page <= 1} onClick={() => setPage(page - 1)}>
          Page précédente
        </button>
        <span>
          Page {page} sur {pages}
        </span>
        <button type="button" class="button-secondary" disabled={page >= pages} onClick={() => setPage(page + 1)}>
          Page suivante
        </button>
      </nav>
    </section>
  );
}

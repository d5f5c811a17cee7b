// The one table for lists the API pages as connections (members, invitations, roles, API keys,
// the audit log, invoices, runs, …): a caption naming the table for screen readers, a header row,
// one row per node of the connection's edges (newest first when asked), a loading state before
// the first page, an empty state, and a "load more" button while the connection has more.
//
// The first column marked `rowHeader` is a `<th scope="row">` (the row's name); the others are
// data cells. Pages keep their own words: the caption, the headers, the empty and loading texts
// and the label of the "load more" button are theirs.
import type { HTMLAttributes, ReactNode, TdHTMLAttributes } from 'react';
import { Button, Empty, Loading } from './index';

/** A column: its header, and what each row shows in it. */
export interface Column<T> {
  /** The column's header (`<th scope="col">`). */
  header: ReactNode;
  /** The cell of one row. */
  cell: (row: T) => ReactNode;
  /** The cell names the row: `<th scope="row">` instead of `<td>`. */
  rowHeader?: boolean;
  /** Class of the column's cells. */
  className?: string;
  /** Further attributes of one row's cell (a `title`, …). */
  cellProps?: (row: T) => TdHTMLAttributes<HTMLTableCellElement>;
}

/** The part of a GraphQL connection the table reads. */
export interface Connection<T> {
  edges: readonly { node: T }[];
}

/** The nodes of a connection's edges; `newestFirst` reverses the API's oldest-first order. */
export function nodesOf<T>(connection: Connection<T> | null | undefined, { newestFirst = false } = {}): T[] {
  const nodes = (connection?.edges ?? []).map((e) => e.node);
  return newestFirst ? nodes.reverse() : nodes;
}

/** Class names and state blocks: the app's (`appTable`) or a feature's own (the workflow pages'). */
export interface TableLook {
  table: string;
  wrap: string;
  srOnly: string;
  loading: (label: string) => ReactNode;
  empty: (text: string) => ReactNode;
  more: (props: { label: string; busy: boolean; onMore: () => void }) => ReactNode;
}

export const appTable: TableLook = {
  table: 'table',
  wrap: 'table-wrap',
  srOnly: 'sr-only',
  loading: (label) => <Loading label={label} />,
  empty: (text) => <Empty>{text}</Empty>,
  more: ({ label, busy, onMore }) => (
    <Button variant="secondary" busy={busy} onClick={onMore}>
      {label}
    </Button>
  ),
};

/** Fetching further pages: shown as a button while `hasMore`. */
export interface LoadMore {
  hasMore: boolean;
  busy: boolean;
  label: string;
  onMore: () => void;
}

type RowAttributes = HTMLAttributes<HTMLTableRowElement> & { [data: `data-${string}`]: string | undefined };

export interface ConnectionTableProps<T> {
  /** Names the table for screen readers (a visually hidden caption). */
  caption?: ReactNode;
  /** The columns; `false`, `null` or `undefined` leave a column out (e.g. without a permission). */
  columns: readonly (Column<T> | false | null | undefined)[];
  /** The connection whose edges make the rows… */
  connection?: Connection<T> | null;
  /** …newest first (the API lists oldest first). */
  newestFirst?: boolean;
  /** Or rows already made from edges (merged with live updates, filtered, …). */
  rows?: readonly T[];
  rowKey: (row: T) => string;
  /** Attributes of one row (a class, `data-*` attributes). */
  rowProps?: (row: T) => RowAttributes;
  /** The first page is being fetched: shows the loading state instead of the table. */
  loading?: boolean;
  loadingLabel?: string;
  /** Shown when there is no row; a string is shown in the look's empty state. */
  empty: ReactNode;
  /** Above the table, when there are rows (a count, …). */
  summary?: ReactNode;
  /** Below the table (or its empty state), above the "load more" button. */
  footer?: ReactNode;
  more?: LoadMore;
  /** Extra classes of the table. */
  className?: string;
  look?: TableLook;
}

export function ConnectionTable<T>({
  caption,
  columns,
  connection,
  newestFirst,
  rows,
  rowKey,
  rowProps,
  loading = false,
  loadingLabel = 'Loading…',
  empty,
  summary,
  footer,
  more,
  className,
  look = appTable,
}: ConnectionTableProps<T>) {
  const list = rows ?? nodesOf(connection, { newestFirst });
  const cols = columns.filter((c): c is Column<T> => !!c);
  let body: ReactNode;
  if (loading) body = look.loading(loadingLabel);
  else if (list.length === 0) body = typeof empty === 'string' ? look.empty(empty) : empty;
  else
    body = (
      <>
        {summary}
        <div className={look.wrap}>
          <table className={className ? `${look.table} ${className}` : look.table}>
            {caption != null && <caption className={look.srOnly}>{caption}</caption>}
            <thead>
              <tr>
                {cols.map((c, i) => (
                  <th scope="col" key={i}>
                    {c.header}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {list.map((row) => (
                <tr key={rowKey(row)} {...rowProps?.(row)}>
                  {cols.map((c, i) =>
                    c.rowHeader ? (
                      <th scope="row" key={i} className={c.className} {...c.cellProps?.(row)}>
                        {c.cell(row)}
                      </th>
                    ) : (
                      <td key={i} className={c.className} {...c.cellProps?.(row)}>
                        {c.cell(row)}
                      </td>
                    ),
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </>
    );
  return (
    <>
      {body}
      {footer}
      {more?.hasMore && look.more(more)}
    </>
  );
}

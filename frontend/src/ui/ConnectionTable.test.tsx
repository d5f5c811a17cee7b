import { describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ConnectionTable, nodesOf, type Column } from './ConnectionTable';

interface Person {
  id: string;
  name: string;
  email: string;
}

const people = {
  edges: [
    { node: { id: '1', name: 'Ada', email: 'ada@example.com' } },
    { node: { id: '2', name: 'Brian', email: 'brian@example.com' } },
  ],
};

const columns: Column<Person>[] = [
  { header: 'Name', rowHeader: true, cell: (p) => p.name },
  { header: 'E-mail', cell: (p) => p.email, cellProps: (p) => ({ title: `Write to ${p.name}` }) },
];

describe('ConnectionTable', () => {
  it('shows one row per edge, named by its row header, under a caption', () => {
    render(<ConnectionTable caption="People" columns={columns} connection={people} rowKey={(p) => p.id} empty="Nobody yet." />);
    const table = screen.getByRole('table', { name: 'People' });
    expect(within(table).getAllByRole('columnheader').map((h) => h.textContent)).toEqual(['Name', 'E-mail']);
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByRole('rowheader')).toHaveTextContent('Ada');
    expect(within(rows[0]).getByRole('cell')).toHaveTextContent('ada@example.com');
    expect(screen.getByRole('cell', { name: 'brian@example.com' })).toHaveAttribute('title', 'Write to Brian');
    expect(screen.queryByText('Nobody yet.')).not.toBeInTheDocument();
  });

  it('lists newest first when asked, and leaves out columns given as false', () => {
    render(
      <ConnectionTable
        caption="People"
        columns={[columns[0], false, { header: 'Id', cell: (p: Person) => p.id }]}
        connection={people}
        newestFirst
        rowKey={(p) => p.id}
        rowProps={(p) => ({ 'data-person': p.id })}
        empty="Nobody yet."
      />,
    );
    expect(screen.getAllByRole('rowheader').map((h) => h.textContent)).toEqual(['Brian', 'Ada']);
    expect(screen.getAllByRole('columnheader').map((h) => h.textContent)).toEqual(['Name', 'Id']);
    expect(document.querySelector('tr[data-person="2"]')).not.toBeNull();
  });

  it('shows the loading state, then the empty state, instead of an empty table', () => {
    const { rerender } = render(
      <ConnectionTable caption="People" columns={columns} connection={null} rowKey={(p) => p.id} loading loadingLabel="Loading people…" empty="Nobody yet." />,
    );
    expect(screen.getByRole('status')).toHaveTextContent('Loading people…');
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    rerender(<ConnectionTable caption="People" columns={columns} connection={{ edges: [] }} rowKey={(p) => p.id} empty="Nobody yet." />);
    expect(screen.getByText('Nobody yet.')).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('offers to load more while the connection has more', async () => {
    const onMore = vi.fn();
    const { rerender } = render(
      <ConnectionTable
        caption="People"
        columns={columns}
        rows={nodesOf(people)}
        rowKey={(p) => p.id}
        empty="Nobody yet."
        footer={<p>2 people</p>}
        more={{ hasMore: true, busy: false, label: 'Load older people', onMore }}
      />,
    );
    expect(screen.getByText('2 people')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Load older people' }));
    expect(onMore).toHaveBeenCalledTimes(1);
    rerender(
      <ConnectionTable
        caption="People"
        columns={columns}
        rows={nodesOf(people)}
        rowKey={(p) => p.id}
        empty="Nobody yet."
        more={{ hasMore: false, busy: false, label: 'Load older people', onMore }}
      />,
    );
    expect(screen.queryByRole('button', { name: 'Load older people' })).not.toBeInTheDocument();
  });
});

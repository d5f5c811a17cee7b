import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { Graph } from '../canvasReducer';
import type { NodeTypeInfo, Problem } from '../common';
import { Inspector } from './Inspector';

const codeType: NodeTypeInfo = {
  key: 'code',
  category: 'transform',
  name: 'Code',
  description: 'Runs a Rhai script',
  inputPorts: ['main'],
  outputPorts: ['main', 'error'],
  safeToRepeat: true,
  defaultTimeoutMs: 5000,
  configSchema: { type: 'object', required: ['source'], properties: { source: { type: 'string', minLength: 1 } } },
};
const types = new Map<string, NodeTypeInfo>([['code', codeType]]);
const graph: Graph = {
  nodes: [
    { id: 'code', type: 'code', name: 'Compute', position: { x: 0, y: 0 }, config: { source: '1' } },
    { id: 'other', type: 'code', name: 'Other', position: { x: 300, y: 0 }, config: { source: '2' } },
  ],
  edges: [{ id: 'e1', source: 'code', sourcePort: 'main', target: 'other', targetPort: 'main' }],
};
const problems: Problem[] = [
  { kind: 'config', nodeId: 'other', message: 'source: too short' },
  { kind: 'graph', nodeId: null, message: 'No trigger' },
];
const byNode = new Map([['other', [problems[0]]]]);

function setup(selectedIds: string[], canEdit = true) {
  const dispatch = vi.fn();
  const onSelect = vi.fn();
  render(
    <Inspector
      graph={graph}
      selectedIds={selectedIds}
      types={types}
      problems={problems}
      problemsByNode={byNode}
      canEdit={canEdit}
      dispatch={dispatch}
      onSelect={onSelect}
    />,
  );
  return { dispatch, onSelect };
}

describe('builder Inspector', () => {
  it('asks for a selection, and lists the problems leading to their nodes', async () => {
    const { onSelect } = setup([]);
    expect(screen.getByText('Select a node to change its settings.')).toBeInTheDocument();
    const list = screen.getByRole('region', { name: 'Problems' });
    expect(within(list).getByText('No trigger')).toBeInTheDocument();
    await userEvent.click(within(list).getByRole('button', { name: 'Other' }));
    expect(onSelect).toHaveBeenCalledWith('other');
  });

  it('counts several selected nodes', () => {
    setup(['code', 'other']);
    expect(screen.getByText('2 nodes selected.')).toBeInTheDocument();
  });

  it("edits the selected node's name and configuration through the canvas reducer", () => {
    const { dispatch } = setup(['code']);
    expect(screen.getByRole('heading', { name: 'Code' })).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Sum' } });
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Sums' } });
    const renames = dispatch.mock.calls.map(([a]) => a).filter((a) => a.type === 'updateNode');
    expect(renames.map((a) => a.patch)).toEqual([{ name: 'Sum' }, { name: 'Sums' }]);
    // Typing without a pause is one undo step: the same coalesce key.
    expect(renames[0].coalesce).toBe(renames[1].coalesce);
    fireEvent.change(document.getElementById('node-code-source')!, { target: { value: '21 * 2' } });
    expect(dispatch).toHaveBeenLastCalledWith(expect.objectContaining({ type: 'updateNode', id: 'code', patch: { config: { source: '21 * 2' } } }));
    fireEvent.click(screen.getByRole('button', { name: 'Delete node' }));
    expect(dispatch).toHaveBeenLastCalledWith({ type: 'removeNodes', ids: ['code'] });
  });

  it('is read only without the right to edit', () => {
    setup(['code'], false);
    expect(screen.getByLabelText('Name')).toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Delete node' })).not.toBeInTheDocument();
  });
});

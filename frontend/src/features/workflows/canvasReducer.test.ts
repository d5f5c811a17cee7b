import { describe, expect, it } from 'vitest';
import {
  canRedo,
  canUndo,
  canvasReducer,
  graphFromJson,
  initialCanvas,
  nextEdgeId,
  uniqueNodeId,
  type CanvasAction,
  type CanvasState,
  type GraphNode,
} from './canvasReducer';

const node = (id: string, type = 'code', x = 0, y = 0): GraphNode => ({
  id,
  type,
  name: id,
  position: { x, y },
  config: {},
});

const run = (state: CanvasState, ...actions: CanvasAction[]) => actions.reduce(canvasReducer, state);

describe('canvasReducer', () => {
  it('adds nodes and refuses a duplicate id', () => {
    let s = run(initialCanvas(), { type: 'addNode', node: node('start', 'trigger.manual') }, { type: 'addNode', node: node('code') });
    expect(s.present.nodes.map((n) => n.id)).toEqual(['start', 'code']);
    const same = canvasReducer(s, { type: 'addNode', node: node('code') });
    expect(same).toBe(s);
    s = canvasReducer(s, { type: 'addNode', node: node(uniqueNodeId(s.present, 'code')) });
    expect(s.present.nodes.map((n) => n.id)).toEqual(['start', 'code', 'code_2']);
  });

  it('moves nodes in one undo step and ignores moves to the same place', () => {
    let s = run(initialCanvas(), { type: 'addNode', node: node('a') }, { type: 'addNode', node: node('b') });
    const before = s.past.length;
    s = canvasReducer(s, { type: 'moveNodes', positions: { a: { x: 10, y: 20 }, b: { x: 30, y: 40 } } });
    expect(s.present.nodes.map((n) => n.position)).toEqual([
      { x: 10, y: 20 },
      { x: 30, y: 40 },
    ]);
    expect(s.past.length).toBe(before + 1);
    expect(canvasReducer(s, { type: 'moveNodes', positions: { a: { x: 10, y: 20 } } })).toBe(s);
    s = canvasReducer(s, { type: 'undo' });
    expect(s.present.nodes.map((n) => n.position)).toEqual([
      { x: 0, y: 0 },
      { x: 0, y: 0 },
    ]);
  });

  it('connects ports without duplicate edges, self loops or unknown nodes', () => {
    let s = run(initialCanvas(), { type: 'addNode', node: node('a') }, { type: 'addNode', node: node('b') });
    s = canvasReducer(s, { type: 'connect', source: 'a', sourcePort: 'main', target: 'b', targetPort: 'main' });
    expect(s.present.edges).toEqual([{ id: 'e1', source: 'a', sourcePort: 'main', target: 'b', targetPort: 'main' }]);
    // Same ports again (defaults are `main`): nothing changes, no history step.
    expect(canvasReducer(s, { type: 'connect', source: 'a', target: 'b' })).toBe(s);
    expect(canvasReducer(s, { type: 'connect', source: 'a', target: 'a' })).toBe(s);
    expect(canvasReducer(s, { type: 'connect', source: 'a', target: 'zz' })).toBe(s);
    // Another port of the same pair is a different edge.
    s = canvasReducer(s, { type: 'connect', source: 'a', sourcePort: 'error', target: 'b' });
    expect(s.present.edges.map((e) => `${e.id}:${e.sourcePort}`)).toEqual(['e1:main', 'e2:error']);
    expect(nextEdgeId(s.present)).toBe('e3');
  });

  it('removes a node with its edges, and edges alone', () => {
    let s = run(
      initialCanvas(),
      { type: 'addNode', node: node('a') },
      { type: 'addNode', node: node('b') },
      { type: 'addNode', node: node('c') },
      { type: 'connect', source: 'a', target: 'b' },
      { type: 'connect', source: 'b', target: 'c' },
    );
    const removedEdge = canvasReducer(s, { type: 'removeEdges', ids: ['e2'] });
    expect(removedEdge.present.edges.map((e) => e.id)).toEqual(['e1']);
    s = canvasReducer(s, { type: 'removeNodes', ids: ['b'] });
    expect(s.present.nodes.map((n) => n.id)).toEqual(['a', 'c']);
    expect(s.present.edges).toEqual([]);
    expect(canvasReducer(s, { type: 'removeNodes', ids: ['b'] })).toBe(s);
    // A selection of nodes and edges goes in one step.
    const t = run(initialCanvas(), { type: 'addNode', node: node('x') }, { type: 'addNode', node: node('y') }, { type: 'connect', source: 'x', target: 'y' });
    const u = canvasReducer(t, { type: 'remove', nodeIds: ['y'], edgeIds: ['e1'] });
    expect(u.past.length).toBe(t.past.length + 1);
    expect(u.present).toEqual({ nodes: [node('x')], edges: [] });
  });

  it('undoes and redoes, and a new edit clears the redo stack', () => {
    let s = run(initialCanvas(), { type: 'addNode', node: node('a') }, { type: 'addNode', node: node('b') }, { type: 'connect', source: 'a', target: 'b' });
    expect(canUndo(s)).toBe(true);
    expect(canRedo(s)).toBe(false);
    s = run(s, { type: 'undo' }, { type: 'undo' });
    expect(s.present.nodes.map((n) => n.id)).toEqual(['a']);
    expect(s.present.edges).toEqual([]);
    expect(canRedo(s)).toBe(true);
    s = canvasReducer(s, { type: 'redo' });
    expect(s.present.nodes.map((n) => n.id)).toEqual(['a', 'b']);
    s = canvasReducer(s, { type: 'redo' });
    expect(s.present.edges).toHaveLength(1);
    expect(canvasReducer(s, { type: 'redo' })).toBe(s);
    s = run(s, { type: 'undo' }, { type: 'addNode', node: node('c') });
    expect(canRedo(s)).toBe(false);
    expect(s.present.nodes.map((n) => n.id)).toEqual(['a', 'b', 'c']);
    // Undo at the start of history does nothing.
    const fresh = initialCanvas();
    expect(canvasReducer(fresh, { type: 'undo' })).toBe(fresh);
  });

  it('keeps at most `limit` undo steps', () => {
    let s = initialCanvas(undefined, 5);
    for (let i = 0; i < 12; i++) s = canvasReducer(s, { type: 'addNode', node: node(`n${i}`) });
    expect(s.past).toHaveLength(5);
    while (canUndo(s)) s = canvasReducer(s, { type: 'undo' });
    // The oldest reachable state has the first 7 nodes.
    expect(s.present.nodes).toHaveLength(7);
  });

  it('merges edits with the same coalesce key into one undo step', () => {
    let s = canvasReducer(initialCanvas(), { type: 'addNode', node: node('a') });
    s = run(
      s,
      { type: 'updateNode', id: 'a', patch: { config: { source: '1' } }, coalesce: 'cfg:a#1' },
      { type: 'updateNode', id: 'a', patch: { config: { source: '12' } }, coalesce: 'cfg:a#1' },
      { type: 'updateNode', id: 'a', patch: { config: { source: '123' } }, coalesce: 'cfg:a#1' },
    );
    expect(s.present.nodes[0].config).toEqual({ source: '123' });
    expect(s.past).toHaveLength(2);
    s = canvasReducer(s, { type: 'updateNode', id: 'a', patch: { name: 'Renamed' }, coalesce: 'name:a#2' });
    expect(s.past).toHaveLength(3);
    s = canvasReducer(s, { type: 'undo' });
    expect(s.present.nodes[0].name).toBe('a');
    s = canvasReducer(s, { type: 'undo' });
    expect(s.present.nodes[0].config).toEqual({});
  });

  it('counts changes for autosave and resets on load', () => {
    let s = run(initialCanvas(), { type: 'addNode', node: node('a') }, { type: 'undo' }, { type: 'redo' });
    expect(s.changes).toBe(3);
    s = canvasReducer(s, { type: 'load', graph: { nodes: [node('z')], edges: [] } });
    expect(s.changes).toBe(0);
    expect(canUndo(s)).toBe(false);
    expect(s.present.nodes.map((n) => n.id)).toEqual(['z']);
  });

  it('reads the API graph JSON and keeps fields it does not edit', () => {
    const g = graphFromJson({
      nodes: [{ id: 'h', type: 'http.request', name: 'H', position: { x: 1, y: 2 }, config: { url: 'x' }, retry: { maxAttempts: 3 } }],
      edges: [{ id: 'e1', source: 'h', target: 'h' }],
    });
    expect(g.nodes[0].retry).toEqual({ maxAttempts: 3 });
    expect(g.edges[0]).toEqual({ id: 'e1', source: 'h', sourcePort: 'main', target: 'h', targetPort: 'main' });
    expect(graphFromJson(null)).toEqual({ nodes: [], edges: [] });
  });

  it('makes node keys the API accepts', () => {
    const g = { nodes: [node('delay')], edges: [] };
    expect(uniqueNodeId(g, 'delay')).toBe('delay_2');
    expect(uniqueNodeId(g, '9-lives')).toBe('lives');
    expect(uniqueNodeId(g, '***')).toBe('node');
  });
});

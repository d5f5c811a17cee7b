// The canvas model: a workflow's draft graph (the JSON shape `saveWorkflowGraph` takes) with an
// undo/redo history. Pure: every action returns a new state, or the same state when it changes
// nothing (a duplicate edge, an unknown node, …), so no empty steps reach the history.

export interface Point {
  x: number;
  y: number;
}

export interface GraphNode {
  id: string;
  type: string;
  name: string;
  position: Point;
  config: Record<string, unknown>;
  /** Fields the canvas does not edit (retry, timeoutMs, safeToRepeat) ride along untouched. */
  [extra: string]: unknown;
}

export interface GraphEdge {
  id: string;
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface CanvasState {
  past: Graph[];
  present: Graph;
  future: Graph[];
  /** Most undo steps kept. */
  limit: number;
  /** Consecutive edits with the same key (typing in one field) make one undo step. */
  coalesceKey: string | null;
  /** Increases with every change of `present` (edits, undo, redo; not `load`). */
  changes: number;
}

export type CanvasAction =
  | { type: 'load'; graph: Graph }
  | { type: 'addNode'; node: GraphNode }
  | { type: 'moveNodes'; positions: Record<string, Point> }
  | {
      type: 'updateNode';
      id: string;
      patch: Partial<Omit<GraphNode, 'id'>>;
      /** Merge into the previous undo step when it had the same key. */
      coalesce?: string;
    }
  | { type: 'connect'; source: string; sourcePort?: string; target: string; targetPort?: string }
  | { type: 'removeNodes'; ids: string[] }
  | { type: 'removeEdges'; ids: string[] }
  /** Nodes (with their edges) and edges in one undo step, e.g. a deleted selection. */
  | { type: 'remove'; nodeIds: string[]; edgeIds: string[] }
  | { type: 'undo' }
  | { type: 'redo' };

export const DEFAULT_HISTORY_LIMIT = 100;

export function emptyGraph(): Graph {
  return { nodes: [], edges: [] };
}

/** Reads a graph from the API's JSON (`WorkflowGraph.json`), tolerating missing parts. */
export function graphFromJson(json: unknown): Graph {
  const g = (json ?? {}) as { nodes?: unknown; edges?: unknown };
  const nodes = Array.isArray(g.nodes) ? (g.nodes as GraphNode[]) : [];
  const edges = Array.isArray(g.edges) ? (g.edges as GraphEdge[]) : [];
  return {
    nodes: nodes.map((n) => ({
      ...n,
      name: n.name ?? '',
      position: n.position ?? { x: 0, y: 0 },
      config: (n.config as Record<string, unknown>) ?? {},
    })),
    edges: edges.map((e) => ({
      id: e.id,
      source: e.source,
      sourcePort: e.sourcePort ?? 'main',
      target: e.target,
      targetPort: e.targetPort ?? 'main',
    })),
  };
}

export function initialCanvas(graph: Graph = emptyGraph(), limit = DEFAULT_HISTORY_LIMIT): CanvasState {
  return { past: [], present: graph, future: [], limit, coalesceKey: null, changes: 0 };
}

/** A node key from `base` (letters, digits, `_`, starting with a letter) not used in `graph`. */
export function uniqueNodeId(graph: Graph, base: string): string {
  let stem = base.replace(/[^A-Za-z0-9_]/g, '_').replace(/^[^A-Za-z]+/, '');
  if (!stem) stem = 'node';
  stem = stem.slice(0, 56);
  const used = new Set(graph.nodes.map((n) => n.id));
  if (!used.has(stem)) return stem;
  for (let i = 2; ; i++) if (!used.has(`${stem}_${i}`)) return `${stem}_${i}`;
}

/** The next free `e<n>` edge id. */
export function nextEdgeId(graph: Graph): string {
  const used = new Set(graph.edges.map((e) => e.id));
  let i = graph.edges.length + 1;
  while (used.has(`e${i}`)) i++;
  return `e${i}`;
}

function commit(state: CanvasState, present: Graph, coalesce?: string): CanvasState {
  if (coalesce && state.coalesceKey === coalesce && state.past.length > 0) {
    // Same field still being edited: replace the present, keep the step it started from.
    return { ...state, present, future: [], changes: state.changes + 1 };
  }
  const past = [...state.past, state.present];
  if (past.length > state.limit) past.splice(0, past.length - state.limit);
  return { ...state, past, present, future: [], coalesceKey: coalesce ?? null, changes: state.changes + 1 };
}

export function canvasReducer(state: CanvasState, action: CanvasAction): CanvasState {
  const g = state.present;
  switch (action.type) {
    case 'load':
      return initialCanvas(action.graph, state.limit);

    case 'addNode': {
      if (g.nodes.some((n) => n.id === action.node.id)) return state;
      return commit(state, { ...g, nodes: [...g.nodes, action.node] });
    }

    case 'moveNodes': {
      let changed = false;
      const nodes = g.nodes.map((n) => {
        const p = action.positions[n.id];
        if (!p || (p.x === n.position.x && p.y === n.position.y)) return n;
        changed = true;
        return { ...n, position: { x: p.x, y: p.y } };
      });
      return changed ? commit(state, { ...g, nodes }) : state;
    }

    case 'updateNode': {
      const i = g.nodes.findIndex((n) => n.id === action.id);
      if (i < 0) return state;
      const nodes = [...g.nodes];
      nodes[i] = { ...nodes[i], ...action.patch, id: action.id } as GraphNode;
      return commit(state, { ...g, nodes }, action.coalesce);
    }

    case 'connect': {
      const sourcePort = action.sourcePort ?? 'main';
      const targetPort = action.targetPort ?? 'main';
      if (action.source === action.target) return state;
      const ids = new Set(g.nodes.map((n) => n.id));
      if (!ids.has(action.source) || !ids.has(action.target)) return state;
      const duplicate = g.edges.some(
        (e) =>
          e.source === action.source &&
          e.sourcePort === sourcePort &&
          e.target === action.target &&
          e.targetPort === targetPort,
      );
      if (duplicate) return state;
      const edge: GraphEdge = { id: nextEdgeId(g), source: action.source, sourcePort, target: action.target, targetPort };
      return commit(state, { ...g, edges: [...g.edges, edge] });
    }

    case 'removeNodes':
      return canvasReducer(state, { type: 'remove', nodeIds: action.ids, edgeIds: [] });

    case 'removeEdges':
      return canvasReducer(state, { type: 'remove', nodeIds: [], edgeIds: action.ids });

    case 'remove': {
      const nodes = new Set(action.nodeIds);
      const edges = new Set(action.edgeIds);
      const keepEdge = (e: GraphEdge) => !edges.has(e.id) && !nodes.has(e.source) && !nodes.has(e.target);
      const next = { nodes: g.nodes.filter((n) => !nodes.has(n.id)), edges: g.edges.filter(keepEdge) };
      if (next.nodes.length === g.nodes.length && next.edges.length === g.edges.length) return state;
      return commit(state, next);
    }

    case 'undo': {
      if (state.past.length === 0) return state;
      const past = state.past.slice(0, -1);
      return {
        ...state,
        past,
        present: state.past[state.past.length - 1],
        future: [state.present, ...state.future],
        coalesceKey: null,
        changes: state.changes + 1,
      };
    }

    case 'redo': {
      if (state.future.length === 0) return state;
      const [next, ...future] = state.future;
      return {
        ...state,
        past: [...state.past, state.present],
        present: next,
        future,
        coalesceKey: null,
        changes: state.changes + 1,
      };
    }
  }
}

export const canUndo = (s: CanvasState) => s.past.length > 0;
export const canRedo = (s: CanvasState) => s.future.length > 0;

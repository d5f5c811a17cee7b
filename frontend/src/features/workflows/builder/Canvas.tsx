// The canvas part of the builder: React Flow showing the draft graph, with a handle per port.
// React Flow keeps its own copy of the nodes (measurements, selection, drag positions); every
// change to the graph itself goes through the canvas reducer, so one undo step each.
import { useCallback, useEffect, useMemo, useRef, useState, type Dispatch, type DragEvent, type RefObject } from 'react';
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { uniqueNodeId, type CanvasAction, type CanvasState, type GraphNode } from '../canvasReducer';
import { CATEGORY_COLOR, type NodeTypeInfo, type Problem } from '../common';
import { flowNodeTypes, type FlowNodeType } from '../FlowNode';
import { defaultsFor } from '../jsonSchema';
import { DND_TYPE } from './Palette';

export interface FlowCanvas {
  rfNodes: FlowNodeType[];
  rfEdges: Edge[];
  onNodesChange: (changes: NodeChange<FlowNodeType>[]) => void;
  onEdgesChange: (changes: EdgeChange[]) => void;
  onConnect: (c: Connection) => void;
  isValidConnection: (c: Connection | Edge) => boolean;
  onDragOver: (e: DragEvent) => void;
  onDrop: (e: DragEvent) => void;
  /** Adds a node of `typeKey` in the middle of the visible canvas (palette entries pressed). */
  addAtCentre: (typeKey: string) => void;
  /** Selects the node `id` alone and brings it into view. */
  selectNode: (id: string) => void;
  /** The ids of the selected nodes. */
  selectedIds: string[];
  wrapper: RefObject<HTMLDivElement | null>;
}

export function useFlowCanvas({
  canvas,
  dispatch,
  types,
  problemsByNode,
  canEdit,
}: {
  canvas: CanvasState;
  dispatch: Dispatch<CanvasAction>;
  types: Map<string, NodeTypeInfo>;
  problemsByNode: Map<string, Problem[]>;
  canEdit: boolean;
}): FlowCanvas {
  // ---- React Flow nodes: local copy (measurements, selection, drag positions) of the model.
  const [rfNodes, setRfNodes] = useState<FlowNodeType[]>([]);
  const selectNext = useRef<string | null>(null);
  useEffect(() => {
    const pick = selectNext.current;
    selectNext.current = null;
    setRfNodes((prev) => {
      const old = new Map(prev.map((n) => [n.id, n]));
      return canvas.present.nodes.map((n) => {
        const o = old.get(n.id);
        return {
          ...(o ?? {}),
          id: n.id,
          type: 'zygo' as const,
          position: n.position,
          selected: pick ? n.id === pick : (o?.selected ?? false),
          data: { node: n, meta: types.get(n.type), problems: problemsByNode.get(n.id) },
        };
      });
    });
  }, [canvas.present.nodes, types, problemsByNode]);
  const [selectedEdges, setSelectedEdges] = useState<Set<string>>(new Set());
  const rfEdges = useMemo<Edge[]>(
    () =>
      canvas.present.edges.map((e) => ({
        id: e.id,
        source: e.source,
        sourceHandle: e.sourcePort,
        target: e.target,
        targetHandle: e.targetPort,
        selected: selectedEdges.has(e.id),
        label: e.sourcePort !== 'main' ? e.sourcePort : undefined,
        className: e.sourcePort === 'error' ? 'wf-edge-error' : undefined,
        ariaLabel: `Connection from ${e.source} ${e.sourcePort} to ${e.target} ${e.targetPort}`,
      })),
    [canvas.present.edges, selectedEdges],
  );

  const onNodesChange = useCallback((changes: NodeChange<FlowNodeType>[]) => {
    // Removals go through onDelete (one undo step for nodes and their edges).
    setRfNodes((nds) => applyNodeChanges(changes.filter((c) => c.type !== 'remove'), nds));
  }, []);
  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    setSelectedEdges((sel) => {
      let next = sel;
      for (const c of changes) {
        if (c.type === 'select') {
          if (next === sel) next = new Set(sel);
          if (c.selected) next.add(c.id);
          else next.delete(c.id);
        }
      }
      return next;
    });
  }, []);
  const onConnect = useCallback(
    (c: Connection) =>
      dispatch({ type: 'connect', source: c.source, sourcePort: c.sourceHandle ?? 'main', target: c.target, targetPort: c.targetHandle ?? 'main' }),
    [dispatch],
  );
  const isValidConnection = useCallback(
    (c: Connection | Edge) =>
      c.source !== c.target &&
      !canvas.present.edges.some(
        (e) =>
          e.source === c.source &&
          e.target === c.target &&
          e.sourcePort === (c.sourceHandle ?? 'main') &&
          e.targetPort === (c.targetHandle ?? 'main'),
      ),
    [canvas.present.edges],
  );

  // ---- Adding nodes: drop from the palette, or press a palette entry.
  const flow = useReactFlow();
  const wrapper = useRef<HTMLDivElement>(null);
  const addNode = useCallback(
    (typeKey: string, position: { x: number; y: number }) => {
      const meta = types.get(typeKey);
      if (!meta) return;
      const base = typeKey.split('.').pop() ?? 'node';
      const id = uniqueNodeId(canvas.present, base);
      const node: GraphNode = {
        id,
        type: typeKey,
        name: meta.name,
        position: { x: Math.round(position.x), y: Math.round(position.y) },
        config: defaultsFor(meta.configSchema),
      };
      selectNext.current = id;
      dispatch({ type: 'addNode', node });
    },
    [canvas.present, types, dispatch],
  );
  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(DND_TYPE)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  }, []);
  const onDrop = useCallback(
    (e: DragEvent) => {
      const key = e.dataTransfer.getData(DND_TYPE);
      if (!key || !canEdit) return;
      e.preventDefault();
      const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNode(key, { x: p.x - 90, y: p.y - 30 });
    },
    [addNode, canEdit, flow],
  );
  const addAtCentre = useCallback(
    (key: string) => {
      const box = wrapper.current?.getBoundingClientRect();
      const centre = box
        ? flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 })
        : { x: 0, y: 0 };
      // Step aside (to the right) from nodes already there.
      let { x, y } = { x: centre.x - 96, y: centre.y - 30 };
      const taken = (px: number, py: number) =>
        canvas.present.nodes.some((n) => Math.abs(n.position.x - px) < 220 && Math.abs(n.position.y - py) < 90);
      for (let i = 0; i < 50 && taken(x, y); i++) x += 240;
      addNode(key, { x: Math.round(x), y: Math.round(y) });
      // Keep the new node in view.
      setTimeout(() => flow.fitView({ padding: 0.3, maxZoom: 1, duration: 200 }), 50);
    },
    [addNode, canvas.present.nodes, flow],
  );

  // ---- Selection (→ inspector).
  const selectedIds = rfNodes.filter((n) => n.selected).map((n) => n.id);
  const selectNode = (id: string) => {
    setRfNodes((nds) => nds.map((n) => ({ ...n, selected: n.id === id })));
    const n = canvas.present.nodes.find((x) => x.id === id);
    if (n) flow.setCenter(n.position.x + 80, n.position.y + 30, { duration: 300, zoom: flow.getZoom() });
  };

  return { rfNodes, rfEdges, onNodesChange, onEdgesChange, onConnect, isValidConnection, onDragOver, onDrop, addAtCentre, selectNode, selectedIds, wrapper };
}

/** Ctrl/Cmd+Z undoes, Ctrl/Cmd+Shift+Z or Ctrl/Cmd+Y redoes (outside of text fields, which keep their own undo). */
export function useUndoKeys(dispatch: Dispatch<CanvasAction>) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
      const k = e.key.toLowerCase();
      if (k === 'z' && !e.shiftKey) {
        e.preventDefault();
        dispatch({ type: 'undo' });
      } else if ((k === 'z' && e.shiftKey) || k === 'y') {
        e.preventDefault();
        dispatch({ type: 'redo' });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [dispatch]);
}

export function BuilderCanvas({
  flow,
  empty,
  canEdit,
  dispatch,
}: {
  flow: FlowCanvas;
  empty: boolean;
  canEdit: boolean;
  dispatch: Dispatch<CanvasAction>;
}) {
  return (
    <div className="wf-canvas" ref={flow.wrapper} onDragOver={flow.onDragOver} onDrop={flow.onDrop} data-testid="workflow-canvas">
      <ReactFlow<FlowNodeType, Edge>
        nodes={flow.rfNodes}
        edges={flow.rfEdges}
        nodeTypes={flowNodeTypes}
        onNodesChange={flow.onNodesChange}
        onEdgesChange={flow.onEdgesChange}
        onConnect={canEdit ? flow.onConnect : undefined}
        isValidConnection={flow.isValidConnection}
        onNodeDragStop={(_, __, nodes) =>
          dispatch({ type: 'moveNodes', positions: Object.fromEntries(nodes.map((n) => [n.id, { x: Math.round(n.position.x), y: Math.round(n.position.y) }])) })
        }
        onDelete={({ nodes, edges }) => dispatch({ type: 'remove', nodeIds: nodes.map((n) => n.id), edgeIds: edges.map((e) => e.id) })}
        nodesDraggable={canEdit}
        nodesConnectable={canEdit}
        edgesFocusable
        nodesFocusable
        deleteKeyCode={canEdit ? ['Backspace', 'Delete'] : null}
        fitView
        fitViewOptions={{ maxZoom: 1, padding: 0.3 }}
        minZoom={0.2}
      >
        <Background gap={16} />
        <MiniMap pannable zoomable ariaLabel="Mini map" style={{ width: 150, height: 100 }} nodeColor={(n) => CATEGORY_COLOR[(n.data as { meta?: NodeTypeInfo }).meta?.category ?? ''] ?? '#94a3b8'} />
        <Controls showInteractive={false} />
      </ReactFlow>
      {empty && <div className="wf-canvas-empty">The canvas is empty: add a trigger from the palette to start.</div>}
    </div>
  );
}

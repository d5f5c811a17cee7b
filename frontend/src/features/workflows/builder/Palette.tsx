// The node types to add, by category: drag one onto the canvas, or press it to add it in the
// middle of the visible canvas.
import { useMemo, useState } from 'react';
import { CATEGORY_LABEL, CATEGORY_ORDER, type NodeTypeInfo } from '../common';

/** The drag-and-drop type carrying a node type's key from the palette to the canvas. */
export const DND_TYPE = 'application/x-zygo-node-type';

export function Palette({ types, onAdd }: { types: Map<string, NodeTypeInfo>; onAdd: (typeKey: string) => void }) {
  const palette = useMemo(() => {
    const groups = new Map<string, NodeTypeInfo[]>();
    for (const t of types.values()) groups.set(t.category, [...(groups.get(t.category) ?? []), t]);
    return [...groups.entries()].sort(
      ([a], [b]) => (CATEGORY_ORDER.indexOf(a) + 1 || 99) - (CATEGORY_ORDER.indexOf(b) + 1 || 99),
    );
  }, [types]);
  const [paletteFilter, setPaletteFilter] = useState('');
  return (
    <aside className="wf-palette" aria-label="Node types">
      <h2 className="wf-panel-title">Add a node</h2>
      <p className="wf-help">Drag onto the canvas, or press to add.</p>
      <label className="wf-sr-only" htmlFor="wf-palette-filter">
        Filter node types
      </label>
      <input id="wf-palette-filter" type="search" placeholder="Filter…" value={paletteFilter} onChange={(e) => setPaletteFilter(e.target.value)} />
      {palette.map(([category, list]) => {
        const shown = list.filter((t) => !paletteFilter || t.name.toLowerCase().includes(paletteFilter.toLowerCase()));
        if (shown.length === 0) return null;
        return (
          <section key={category} className="wf-palette-group">
            <h3>{CATEGORY_LABEL[category] ?? category}</h3>
            <ul>
              {shown.map((t) => (
                <li key={t.key}>
                  <button
                    type="button"
                    className={`wf-palette-item wf-cat-${t.category}`}
                    draggable
                    data-node-type={t.key}
                    title={t.description}
                    onDragStart={(e) => {
                      e.dataTransfer.setData(DND_TYPE, t.key);
                      e.dataTransfer.setData('text/plain', t.key);
                      e.dataTransfer.effectAllowed = 'copy';
                    }}
                    onClick={() => onAdd(t.key)}
                    aria-label={`Add ${t.name}`}
                  >
                    <span className="wf-palette-name">{t.name}</span>
                    <span className="wf-palette-desc">{t.description}</span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        );
      })}
    </aside>
  );
}

// One section in the editor: its text in a textarea that grows with it, the others' cursors and
// selections drawn over it in their colours with their names (a mirror of the text laid out
// exactly like the textarea), and its lock badge. A section locked by someone else is read only;
// IMAGE and EMBED sections show a placeholder naming their resource version (files are another
// part of the studio).
import { useEffect, useLayoutEffect, useRef } from 'react';
import { rangeOf, segments, type RemoteCursor } from './text';
import type { Section } from './useDraft';

export interface SectionEditorProps {
  section: Section;
  index: number;
  text: string | null;
  /** Who holds the lock, when it is someone else. */
  lockedBy: string | null;
  /** Whether this tab holds the lock. */
  mine: boolean;
  canEdit: boolean;
  cursors: RemoteCursor[];
  refusal: string | null;
  onFocus(): void;
  onBlur(): void;
  onChange(text: string): void;
  onCursor(range: { anchor: number; head: number }, typing: boolean): void;
  /** Move, duplicate and delete buttons, when the viewer may change the structure. */
  actions?: React.ReactNode;
}

export function SectionEditor(p: SectionEditorProps) {
  const area = useRef<HTMLTextAreaElement>(null);
  // The textarea grows with its text, so the overlay never has to follow a scroll.
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight}px`;
  }, [p.text]);
  // Every selection change of this textarea (keyboard, mouse, script) is reported: React's
  // onSelect misses some, the document's `selectionchange` and the element's `select` do not.
  const onCursor = useRef(p.onCursor);
  onCursor.current = p.onCursor;
  useEffect(() => {
    const el = area.current;
    if (!el) return;
    const changed = () => {
      if (document.activeElement === el) onCursor.current(rangeOf(el), false);
    };
    document.addEventListener('selectionchange', changed);
    el.addEventListener('select', changed);
    return () => {
      document.removeEventListener('selectionchange', changed);
      el.removeEventListener('select', changed);
    };
  }, [p.text === null]);
  const label = `Section ${p.index + 1}`;
  const readOnly = !p.canEdit || p.lockedBy != null;
  const report = (typing: boolean) => {
    if (area.current) p.onCursor(rangeOf(area.current), typing);
  };
  return (
    <article className={`studio-section${p.mine ? ' studio-section-mine' : ''}`} aria-label={label}>
      <header className="studio-section-header">
        <span className="badge">{p.section.kind}</span>
        {p.lockedBy && (
          <span className="badge badge-warning" data-testid="lock-badge">
            Locked by {p.lockedBy}
          </span>
        )}
        {p.mine && <span className="badge badge-accent">You are editing</span>}
        {p.actions && <span className="studio-section-actions">{p.actions}</span>}
      </header>
      {p.text === null ? (
        <p className="studio-placeholder">
          {p.section.kind === 'IMAGE' ? 'Image' : 'Embedded resource'} ·{' '}
          {resourceOf(p.section.content) ? `resource version ${resourceOf(p.section.content)}` : 'no resource chosen yet'}
        </p>
      ) : (
        <div className={`studio-text${p.section.kind === 'CODE' ? ' studio-code' : ''}`}>
          <textarea
            ref={area}
            aria-label={`${label} text`}
            value={p.text}
            readOnly={readOnly}
            rows={1}
            spellCheck={p.section.kind !== 'CODE'}
            onFocus={() => {
              p.onFocus();
              report(false);
            }}
            onBlur={p.onBlur}
            onChange={(e) => {
              if (!readOnly) p.onChange(e.target.value);
              report(true);
            }}
            onClick={() => report(false)}
            onKeyDown={() => {
              // Focused while someone else held it: the first key takes the lock now it is free.
              if (!p.mine && !readOnly) p.onFocus();
            }}
            onKeyUp={(e) => {
              if (e.key.startsWith('Arrow') || e.key === 'Home' || e.key === 'End') report(false);
            }}
          />
          <div className="studio-overlay" aria-hidden="true">
            {segments(p.text, p.cursors).map((s, i) =>
              s.kind === 'text' ? (
                <span key={i}>{s.text}</span>
              ) : s.kind === 'selected' ? (
                <span key={i} className="studio-selection" style={{ background: `${s.colour}33` }}>
                  {s.text}
                </span>
              ) : (
                <span key={`c-${s.id}`} className="studio-caret" style={{ borderColor: s.colour }} data-testid="remote-cursor" data-name={s.name} data-head={s.head}>
                  <span className="studio-caret-label" style={{ background: s.colour }}>
                    {s.name}
                  </span>
                </span>
              ),
            )}
            {/* A trailing newline needs something after it to take up its line. */}
            {p.text.endsWith('\n') && <span>{'\u200b'}</span>}
          </div>
        </div>
      )}
      {p.refusal && (
        <p className="studio-refusal" role="status">
          {p.refusal}
        </p>
      )}
    </article>
  );
}

function resourceOf(content: unknown): string | null {
  const id = (content as { resourceVersionId?: unknown } | null)?.resourceVersionId;
  return typeof id === 'string' && id ? id : null;
}

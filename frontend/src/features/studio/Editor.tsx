// The collaborative editor of one document: the pages in a sidebar, the chosen page's sections
// (see SectionEditor), the autosave status, the conflict dialog, and who else is here — a
// presence bar and their cursors and selections in the sections, live from `documentPresence`.
import { useMemo, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation } from 'urql';
import {
  AddPageDocument,
  AddSectionDocument,
  DeletePageDocument,
  DeleteSectionDocument,
  DuplicatePageDocument,
  DuplicateSectionDocument,
  MovePageDocument,
  MoveSectionDocument,
  UpdatePageDocument,
} from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { useViewer } from '../../app/viewer';
import { Alert, Button, Loading, PageHeader } from '../../ui';
import { SectionEditor } from './SectionEditor';
import type { RemoteCursor } from './text';
import { useDraft, type Conflict, type SaveStatus } from './useDraft';
import { usePresence, type Participant } from './usePresence';
import { Versions } from './Versions';

const STATUS_TEXT: Record<SaveStatus, string> = {
  saved: 'All changes saved',
  unsaved: 'Unsaved changes…',
  saving: 'Saving…',
  conflict: 'Conflict: choose a version',
  error: 'Not saved',
};

export default function Editor() {
  const { id = '' } = useParams();
  const tenant = useTenant();
  const { viewer } = useViewer();
  const me = viewer?.id ?? null;
  const draft = useDraft(id, me);
  const presence = usePresence(id);
  const [pageId, setPageId] = useState<string | null>(null);
  const [refusals, setRefusals] = useState(new Map<string, string>());
  /** Sections whose lock this tab is asking for right now. */
  const asking = useRef(new Set<string>());
  const [actionError, setActionError] = useState<string | null>(null);
  const [, addPage] = useMutation(AddPageDocument);
  const [, addSection] = useMutation(AddSectionDocument);
  const [, movePage] = useMutation(MovePageDocument);
  const [, renamePage] = useMutation(UpdatePageDocument);
  const [, duplicatePage] = useMutation(DuplicatePageDocument);
  const [, deletePage] = useMutation(DeletePageDocument);
  const [, moveSection] = useMutation(MoveSectionDocument);
  const [, duplicateSection] = useMutation(DuplicateSectionDocument);
  const [, deleteSection] = useMutation(DeleteSectionDocument);
  const doc = draft.doc;
  useDocumentTitle(`${doc?.title ?? 'Document'} · ${tenant.name}`);
  const canEdit = tenant.can('documents.write');

  const page = doc?.pages.find((p) => p.id === pageId) ?? doc?.pages[0] ?? null;
  const cursorsBySection = useMemo(() => {
    const out = new Map<string, RemoteCursor[]>();
    for (const p of presence.participants) {
      if (p.isYou || !p.sectionId || !p.cursor) continue;
      const list = out.get(p.sectionId) ?? [];
      list.push({ id: p.id, name: p.displayName, colour: p.colour, anchor: p.cursor.anchor, head: p.cursor.head });
      out.set(p.sectionId, list);
    }
    return out;
  }, [presence.participants]);

  if (!doc) {
    if (draft.error) return <Alert>{errorMessage(draft.error)}</Alert>;
    return <Loading label="Opening the document…" />;
  }

  const structural = async (run: () => Promise<{ error?: Parameters<typeof errorMessage>[0] }>) => {
    setActionError(null);
    const r = await run();
    if (r.error) setActionError(errorMessage(r.error) ?? 'That did not work.');
    draft.reload();
  };

  return (
    <section className="page studio-editor">
      <PageHeader title={doc.title}>
        <span className={`studio-status studio-status-${draft.status}`} role="status" aria-label="Autosave">
          {STATUS_TEXT[draft.status]}
        </span>
        <Link to={`/o/${tenant.slug}/documents`}>All documents</Link>
      </PageHeader>
      <PresenceBar participants={presence.participants} connected={presence.connected} />
      {draft.problem && <Alert>{draft.problem}</Alert>}
      {actionError && <Alert>{actionError}</Alert>}
      <div className="studio-layout">
        <nav className="studio-pages" aria-label="Pages">
          <ol>
            {doc.pages.map((p) => (
              <li key={p.id}>
                <button
                  type="button"
                  className={p.id === page?.id ? 'studio-page studio-page-current' : 'studio-page'}
                  aria-current={p.id === page?.id ? 'page' : undefined}
                  onClick={() => setPageId(p.id)}
                >
                  {p.title}
                </button>
              </li>
            ))}
          </ol>
          {canEdit && (
            <Button
              variant="ghost"
              onClick={() =>
                structural(() =>
                  addPage({ input: { documentId: doc.id, baseRevision: draft.currentRevision(), title: `Page ${doc.pages.length + 1}` } }),
                )
              }
            >
              Add page
            </Button>
          )}
          {canEdit && page && (
            <div className="studio-page-actions" aria-label={`Actions of page ${page.title}`} role="group">
              <Button
                variant="ghost"
                onClick={() => {
                  const title = window.prompt('New title of the page', page.title)?.trim();
                  if (title && title !== page.title)
                    void structural(() => renamePage({ input: { id: page.id, baseRevision: draft.currentRevision(), title } }));
                }}
              >
                Rename page
              </Button>
              <Button
                variant="ghost"
                disabled={page.position === 0}
                onClick={() => structural(() => movePage({ input: { id: page.id, baseRevision: draft.currentRevision(), position: page.position - 1 } }))}
              >
                Move page up
              </Button>
              <Button
                variant="ghost"
                disabled={page.position >= doc.pages.length - 1}
                onClick={() => structural(() => movePage({ input: { id: page.id, baseRevision: draft.currentRevision(), position: page.position + 1 } }))}
              >
                Move page down
              </Button>
              <Button variant="ghost" onClick={() => structural(() => duplicatePage({ input: { id: page.id, baseRevision: draft.currentRevision() } }))}>
                Duplicate page
              </Button>
              <Button
                variant="ghost"
                disabled={doc.pages.length < 2}
                onClick={() => {
                  if (window.confirm(`Delete the page “${page.title}” and its sections?`)) {
                    setPageId(null);
                    void structural(() => deletePage({ input: { id: page.id, baseRevision: draft.currentRevision() } }));
                  }
                }}
              >
                Delete page
              </Button>
            </div>
          )}
        </nav>
        <div className="studio-sections">
          {page && page.sections.length === 0 && <p className="muted">This page is empty.</p>}
          {page?.sections.map((s, i) => {
            const lock = s.lock;
            const lockedBy = lock && lock.holderId !== me ? (lock.holder?.name ?? 'someone else') : null;
            return (
              <SectionEditor
                key={s.id}
                section={s}
                index={i}
                text={draft.texts.get(s.id) ?? null}
                lockedBy={lockedBy}
                mine={draft.mine.has(s.id)}
                canEdit={canEdit}
                cursors={cursorsBySection.get(s.id) ?? []}
                refusal={refusals.get(s.id) ?? null}
                onFocus={async () => {
                  if (!canEdit || lockedBy || draft.mine.has(s.id) || asking.current.has(s.id)) return;
                  asking.current.add(s.id);
                  const refused = await draft.lock(s.id);
                  asking.current.delete(s.id);
                  setRefusals((m) => {
                    const next = new Map(m);
                    if (refused) next.set(s.id, refused);
                    else next.delete(s.id);
                    return next;
                  });
                  if (refused) draft.reload();
                }}
                onBlur={() => {
                  if (draft.mine.has(s.id)) void draft.unlock(s.id);
                }}
                onChange={(t) => draft.edit(s.id, t)}
                onCursor={(cursor, typing) => presence.update({ sectionId: s.id, cursor, status: typing ? 'TYPING' : 'ACTIVE' })}
                actions={
                  canEdit ? (
                    <>
                      <Button
                        variant="ghost"
                        aria-label={`Move section ${i + 1} up`}
                        disabled={i === 0}
                        onClick={() => structural(() => moveSection({ input: { id: s.id, baseRevision: draft.currentRevision(), position: i - 1 } }))}
                      >
                        ↑
                      </Button>
                      <Button
                        variant="ghost"
                        aria-label={`Move section ${i + 1} down`}
                        disabled={i === page.sections.length - 1}
                        onClick={() => structural(() => moveSection({ input: { id: s.id, baseRevision: draft.currentRevision(), position: i + 1 } }))}
                      >
                        ↓
                      </Button>
                      <Button
                        variant="ghost"
                        aria-label={`Duplicate section ${i + 1}`}
                        onClick={() => structural(() => duplicateSection({ input: { id: s.id, baseRevision: draft.currentRevision() } }))}
                      >
                        Duplicate
                      </Button>
                      <Button
                        variant="ghost"
                        aria-label={`Delete section ${i + 1}`}
                        disabled={lockedBy != null}
                        onClick={() => {
                          if (window.confirm(`Delete section ${i + 1}?`))
                            void structural(() => deleteSection({ input: { id: s.id, baseRevision: draft.currentRevision() } }));
                        }}
                      >
                        Delete
                      </Button>
                    </>
                  ) : undefined
                }
              />
            );
          })}
          {canEdit && page && (
            <Button
              variant="secondary"
              onClick={() =>
                structural(() => addSection({ input: { pageId: page.id, baseRevision: draft.currentRevision(), kind: 'TEXT' } }))
              }
            >
              Add text section
            </Button>
          )}
        </div>
      </div>
      <Versions doc={doc} canPublish={canEdit} baseRevision={() => draft.currentRevision()} onChanged={() => draft.reload()} />
      {draft.conflict && <ConflictDialog conflict={draft.conflict} onChoose={(c) => void draft.resolve(c)} />}
    </section>
  );
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join('');
}

/** Everyone here, in their colours; you first. */
function PresenceBar({ participants, connected }: { participants: Participant[]; connected: boolean }) {
  const sorted = [...participants].sort((a, b) => Number(b.isYou) - Number(a.isYou) || a.displayName.localeCompare(b.displayName));
  return (
    <ul className="studio-presence" aria-label="People here" data-testid="presence-bar">
      {!connected && <li className="muted">Connecting…</li>}
      {sorted.map((p) => (
        <li key={p.id} className="studio-person" title={`${p.displayName}${p.status === 'IDLE' ? ' (away)' : ''}`} data-name={p.displayName}>
          {p.avatarUrl ? (
            <img src={p.avatarUrl} alt="" className="studio-avatar" style={{ borderColor: p.colour }} />
          ) : (
            <span className="studio-avatar" style={{ background: p.colour }} aria-hidden="true">
              {initials(p.displayName)}
            </span>
          )}
          <span className="studio-person-name">
            {p.isYou ? `${p.displayName} (you)` : p.displayName}
            {p.status === 'TYPING' && <span className="muted"> · typing</span>}
            {p.status === 'IDLE' && <span className="muted"> · away</span>}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** A stale save of a section that changed elsewhere: keep mine or take theirs. */
function ConflictDialog({ conflict, onChoose }: { conflict: Conflict; onChoose: (c: 'mine' | 'theirs') => void }) {
  return (
    <div className="studio-dialog-backdrop">
      <div className="card studio-dialog" role="dialog" aria-modal="true" aria-labelledby="conflict-title">
        <h2 id="conflict-title">This section changed while you were editing</h2>
        <p className="muted">Someone saved another version of it (the document is now at revision {conflict.currentRevision}).</p>
        <div className="studio-conflict">
          <figure>
            <figcaption>Their version</figcaption>
            <pre>{conflict.theirs}</pre>
          </figure>
          <figure>
            <figcaption>Your version</figcaption>
            <pre>{conflict.mine}</pre>
          </figure>
        </div>
        <div className="page-actions">
          <Button onClick={() => onChoose('mine')}>Keep my version</Button>
          <Button variant="secondary" onClick={() => onChoose('theirs')}>
            Use their version
          </Button>
        </div>
      </div>
    </div>
  );
}

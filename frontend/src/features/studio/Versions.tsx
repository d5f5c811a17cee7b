// Publishing and the history of a document: publish the draft with a note (an immutable
// version), list the versions, compare one with the current draft section by section, and
// restore one (a new revision of the draft; the history keeps everything).
import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { CompareDocumentVersionsDocument, PublishDocumentDocument, RestoreDocumentVersionDocument } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { Alert, Button, Field, formatDate } from '../../ui';
import { sectionText } from './text';
import type { Doc } from './useDraft';

const CHANGE: Record<string, string> = { ADDED: 'Added', REMOVED: 'Removed', CHANGED: 'Changed', MOVED: 'Moved' };

function shown(side: unknown): string {
  const s = side as { kind?: string; content?: unknown } | null;
  if (!s) return '—';
  return sectionText(s.kind ?? 'TEXT', s.content) ?? `(${(s.kind ?? '').toLowerCase()} section)`;
}

export function Versions({
  doc,
  canPublish,
  baseRevision,
  onChanged,
}: {
  doc: Doc;
  canPublish: boolean;
  baseRevision: () => number;
  onChanged: () => void;
}) {
  const [note, setNote] = useState('');
  const [comparing, setComparing] = useState<string | null>(null);
  const [pub, publish] = useMutation(PublishDocumentDocument);
  const [restoreRes, restore] = useMutation(RestoreDocumentVersionDocument);
  const [cmp] = useQuery({
    query: CompareDocumentVersionsDocument,
    variables: { a: comparing ?? '' },
    pause: !comparing,
    requestPolicy: 'network-only',
  });
  const versions = doc.versions.edges.map((e) => e.node);
  const error = pub.error ?? restoreRes.error ?? cmp.error;
  return (
    <section className="card studio-versions" aria-labelledby="versions-title">
      <h2 id="versions-title">Versions</h2>
      <p className="muted">
        {doc.status === 'PUBLISHED' ? `Published (revision ${doc.publishedRevision})` : 'Draft, never published'}
        {doc.hasUnpublishedChanges && ' · unpublished changes'}
      </p>
      {error && <Alert>{errorMessage(error)}</Alert>}
      {canPublish && (
        <form
          className="studio-publish"
          onSubmit={async (e) => {
            e.preventDefault();
            const r = await publish({ input: { id: doc.id, baseRevision: baseRevision(), note } });
            if (!r.error) {
              setNote('');
              onChanged();
            }
          }}
        >
          <Field label="What changed" value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
          <Button type="submit" busy={pub.fetching} disabled={doc.status === 'PUBLISHED' && !doc.hasUnpublishedChanges}>
            Publish
          </Button>
        </form>
      )}
      {versions.length === 0 ? (
        <p className="muted">No version yet: publishing keeps one.</p>
      ) : (
        <ol className="studio-version-list" aria-label="Published versions">
          {versions.map((v) => (
            <li key={v.id}>
              <strong>Version {v.number}</strong> · {formatDate(v.publishedAt)} {v.note && <span>· {v.note}</span>}
              <span className="studio-version-actions">
                <Button variant="ghost" onClick={() => setComparing(comparing === v.id ? null : v.id)}>
                  {comparing === v.id ? 'Hide changes' : `Compare version ${v.number} with the draft`}
                </Button>
                {canPublish && (
                  <Button
                    variant="ghost"
                    busy={restoreRes.fetching}
                    onClick={async () => {
                      if (!window.confirm(`Restore version ${v.number}? The draft becomes its content (a new revision).`)) return;
                      const r = await restore({ input: { versionId: v.id, baseRevision: baseRevision() } });
                      if (!r.error) onChanged();
                    }}
                  >
                    Restore version {v.number}
                  </Button>
                )}
              </span>
              {comparing === v.id && cmp.data && (
                <div className="studio-comparison" aria-label={`Changes since version ${v.number}`}>
                  {cmp.data.compareDocumentVersions.titleChanged && <p>The title changed.</p>}
                  {cmp.data.compareDocumentVersions.sections.length === 0 ? (
                    <p className="muted">The draft's sections are as in this version.</p>
                  ) : (
                    <table className="table">
                      <thead>
                        <tr>
                          <th scope="col">Change</th>
                          <th scope="col">In version {v.number}</th>
                          <th scope="col">In the draft</th>
                        </tr>
                      </thead>
                      <tbody>
                        {cmp.data.compareDocumentVersions.sections.map((c) => (
                          <tr key={c.sectionId}>
                            <td>{CHANGE[c.change] ?? c.change}</td>
                            <td>
                              <pre>{shown(c.before)}</pre>
                            </td>
                            <td>
                              <pre>{shown(c.after)}</pre>
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  )}
                </div>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

// One file: a preview of images, its version history (download any version, upload a new one
// by drag and drop), its details (name, folder, tags, who may see it), the share dialog (links
// with an expiry and an optional password, copied or revoked), the download log, and the bin.
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery } from 'urql';
import {
  CreateResourceShareLinkDocument,
  DeleteResourceDocument,
  PurgeResourceDocument,
  ResourceDocument,
  RestoreResourceDocument,
  RevokeResourceShareLinkDocument,
  UpdateResourceDocument,
  UploadResourceVersionDocument,
  type ResourceQuery,
  type ResourceVisibility,
  type UploadResourceVersionMutation,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, ConfirmButton, CopyButton, Field, formatDate, PageHeader, SelectField } from '../../ui';
import { DropZone } from './DropZone';
import { VISIBILITIES } from './Resources';
import { formatBytes, uploadFile, type UploadError } from './upload';
import './resources.css';

type Res = NonNullable<ResourceQuery['resource']>;

export default function ResourceDetail() {
  const tenant = useTenant();
  const { id = '' } = useParams();
  const share = tenant.can('resources.share');
  const [res, reexecute] = useQuery({
    query: ResourceDocument,
    variables: { id, withShareLinks: share, withDownloadUrls: true },
    requestPolicy: 'cache-and-network',
  });
  const r = res.data?.resource;
  useDocumentTitle(`${r?.name ?? 'File'} · ${tenant.name}`);
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  return (
    <section className="page">
      <PageHeader title={r?.name ?? 'File'}>
        <Link to={`/o/${tenant.slug}/resources`}>All files</Link>
      </PageHeader>
      {res.error && !res.data && <Alert>{errorMessage(res.error)}</Alert>}
      {r && (
        <>
          {r.deletedAt && <Alert kind="warning">This file is in the bin since {formatDate(r.deletedAt)}.</Alert>}
          <Versions resource={r} onChanged={reload} />
          {tenant.can('resources.write') && !r.deletedAt && <Details resource={r} onChanged={reload} />}
          {share && !r.deletedAt && <ShareDialog resource={r} onChanged={reload} />}
          <Downloads resource={r} />
          {tenant.can('resources.delete') && <Bin resource={r} onChanged={reload} />}
        </>
      )}
    </section>
  );
}

function Versions({ resource: r, onChanged }: { resource: Res; onChanged: () => void }) {
  const tenant = useTenant();
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<UploadError | null>(null);
  const versions = [...r.versions.edges].reverse().map((e) => e.node);
  const newest = versions[0];
  async function upload(file: File) {
    setError(null);
    setProgress(0);
    const res = await uploadFile<UploadResourceVersionMutation>(UploadResourceVersionDocument, { input: { resourceId: r.id } }, file, setProgress);
    setProgress(null);
    if (res.error) setError(res.error);
    else onChanged();
  }
  return (
    <div className="card">
      <h2>Versions</h2>
      {newest?.mimeType.startsWith('image/') && newest.downloadUrl && (
        <img className="resource-preview" src={newest.downloadUrl} alt={`Preview of ${r.name}`} />
      )}
      {tenant.can('resources.write') && !r.deletedAt && (
        <DropZone label="Upload a new version" busy={progress != null} progress={progress} onFile={upload} />
      )}
      {error && <Alert>{error.message}</Alert>}
      <table className="resource-table" aria-label="Version history">
        <thead>
          <tr>
            <th>#</th>
            <th>File</th>
            <th>Type</th>
            <th>Size</th>
            <th>SHA-256</th>
            <th>Uploaded</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.id}>
              <td>{v.number}</td>
              <td>{v.filename}</td>
              <td>{v.mimeType}</td>
              <td>{formatBytes(v.sizeBytes)}</td>
              <td>
                <code title={v.sha256}>{v.sha256.slice(0, 12)}…</code>
              </td>
              <td>
                {formatDate(v.uploadedAt)} {v.uploadedBy ? `by ${v.uploadedBy.name}` : ''}
              </td>
              <td>{v.downloadUrl && !r.deletedAt && <a href={v.downloadUrl}>Download</a>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Details({ resource: r, onChanged }: { resource: Res; onChanged: () => void }) {
  const [name, setName] = useState(r.name);
  const [folder, setFolder] = useState(r.folder);
  const [tags, setTags] = useState(r.tags.join(', '));
  const [visibility, setVisibility] = useState<ResourceVisibility>(r.visibility);
  const [res, update] = useMutation(UpdateResourceDocument);
  const errs = fieldErrors(res.error);
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const t = tags
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const out = await update({ input: { resourceId: r.id, name, folder, tags: t, visibility } });
    if (out.data) onChanged();
  }
  return (
    <details className="card">
      <summary>
        <strong>Details</strong>
      </summary>
      <form onSubmit={submit} noValidate>
        <div className="row">
          <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errs.name} />
          <Field label="Folder" value={folder} onChange={(e) => setFolder(e.target.value)} error={errs.folder} />
          <Field label="Tags (comma-separated)" value={tags} onChange={(e) => setTags(e.target.value)} error={errs.tags} />
          <SelectField label="Who may see it" value={visibility} onChange={(e) => setVisibility(e.target.value as ResourceVisibility)} error={errs.visibility}>
            {[...VISIBILITIES, ...(r.teamId ? [{ value: 'TEAM' as const, label: 'Its team' }] : [])].map((v) => (
              <option key={v.value} value={v.value}>
                {v.label}
              </option>
            ))}
          </SelectField>
        </div>
        <Alert>{errs['']}</Alert>
        <Button type="submit" busy={res.fetching} busyLabel="Saving…">
          Save details
        </Button>
      </form>
    </details>
  );
}

function ShareDialog({ resource: r, onChanged }: { resource: Res; onChanged: () => void }) {
  const [open, setOpen] = useState(false);
  const [days, setDays] = useState('7');
  const [password, setPassword] = useState('');
  const [createRes, create] = useMutation(CreateResourceShareLinkDocument);
  const [makeRes, makeShareable] = useMutation(UpdateResourceDocument);
  const [revokeRes, revoke] = useMutation(RevokeResourceShareLinkDocument);
  const errs = fieldErrors(createRes.error ?? makeRes.error ?? revokeRes.error);
  const links = [...(r.shareLinks?.edges ?? [])].reverse().map((e) => e.node);
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const n = Number(days);
    const expiresAt = new Date(Date.now() + (Number.isFinite(n) && n > 0 ? n : 7) * 86_400_000).toISOString();
    const out = await create({ input: { resourceId: r.id, expiresAt, password: password || null } });
    if (out.data) {
      setPassword('');
      onChanged();
    }
  }
  return (
    <div className="card">
      <div className="row">
        <h2>Share links</h2>
        <Button variant="secondary" onClick={() => setOpen(!open)}>
          {open ? 'Close' : 'Share…'}
        </Button>
      </div>
      {open && (
        <div role="dialog" aria-label="Share this file">
          {r.visibility !== 'LINK' ? (
            <>
              <p>Only files shared with links can have share links.</p>
              <Button
                busy={makeRes.fetching}
                onClick={async () => {
                  const out = await makeShareable({ input: { resourceId: r.id, visibility: 'LINK' } });
                  if (out.data) onChanged();
                }}
              >
                Allow share links
              </Button>
            </>
          ) : (
            <form onSubmit={submit} noValidate>
              <div className="row">
                <Field label="Valid for (days)" type="number" min={1} value={days} onChange={(e) => setDays(e.target.value)} error={errs.expiresAt} />
                <Field label="Password (optional)" type="password" value={password} onChange={(e) => setPassword(e.target.value)} error={errs.password} />
              </div>
              <Button type="submit" busy={createRes.fetching} busyLabel="Creating…">
                Create link
              </Button>
            </form>
          )}
          <Alert>{errs['']}</Alert>
        </div>
      )}
      {links.length === 0 && <p className="muted">No share links.</p>}
      <ul className="share-links">
        {links.map((l) => (
          <li key={l.id}>
            <code aria-label="Share link">{l.url}</code> <CopyButton text={l.url} label="Copy link" />{' '}
            <span className="muted">
              {l.active ? `until ${formatDate(l.expiresAt)}` : l.revokedAt ? 'revoked' : 'expired'}
              {l.passwordProtected ? ' · password' : ''} · {l.downloadCount} downloads
            </span>{' '}
            {l.active && (
              <ConfirmButton
                confirmLabel="Revoke"
                busy={revokeRes.fetching}
                onConfirm={async () => {
                  await revoke({ id: l.id });
                  onChanged();
                }}
              >
                Revoke
              </ConfirmButton>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Downloads({ resource: r }: { resource: Res }) {
  const log = [...r.downloads.edges].reverse().map((e) => e.node);
  return (
    <details className="card">
      <summary>
        <strong>Downloads ({r.downloadCount})</strong>
      </summary>
      {log.length === 0 ? (
        <p className="muted">Not downloaded yet.</p>
      ) : (
        <table className="resource-table" aria-label="Download log">
          <tbody>
            {log.map((d) => (
              <tr key={d.id}>
                <td>{formatDate(d.downloadedAt)}</td>
                <td>{d.shareLinkId ? 'through a share link' : 'by a member'}</td>
                <td>{d.ip}</td>
                <td className="muted small">{d.userAgent}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}

function Bin({ resource: r, onChanged }: { resource: Res; onChanged: () => void }) {
  const tenant = useTenant();
  const navigate = useNavigate();
  const [delRes, del] = useMutation(DeleteResourceDocument);
  const [restoreRes, restore] = useMutation(RestoreResourceDocument);
  const [purgeRes, purge] = useMutation(PurgeResourceDocument);
  const error = delRes.error ?? restoreRes.error ?? purgeRes.error;
  return (
    <div className="card">
      {r.deletedAt ? (
        <div className="actions">
          <Button
            busy={restoreRes.fetching}
            onClick={async () => {
              await restore({ id: r.id });
              onChanged();
            }}
          >
            Restore from the bin
          </Button>
          <ConfirmButton
            confirmLabel="Delete for good"
            busy={purgeRes.fetching}
            onConfirm={async () => {
              const out = await purge({ id: r.id });
              if (out.data) navigate(`/o/${tenant.slug}/resources`);
            }}
          >
            Delete for good
          </ConfirmButton>
        </div>
      ) : (
        <ConfirmButton
          confirmLabel="Move to the bin"
          busy={delRes.fetching}
          onConfirm={async () => {
            await del({ id: r.id });
            onChanged();
          }}
        >
          Delete
        </ConfirmButton>
      )}
      {error && <Alert>{errorMessage(error)}</Alert>}
    </div>
  );
}

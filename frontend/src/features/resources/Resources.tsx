// The resources browser: the files the viewer may see (by folder, or the bin), uploading a
// new one by drag and drop with a progress bar, and a link to each file's page.
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQuery } from 'urql';
import { ResourcesDocument, UploadResourceDocument, type ResourceVisibility, type UploadResourceMutation } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { RequirePermission, useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, formatDate, PageHeader, SelectField } from '../../ui';
import { DropZone } from './DropZone';
import { formatBytes, uploadFile, type UploadError } from './upload';
import './resources.css';

export const VISIBILITIES: { value: ResourceVisibility; label: string }[] = [
  { value: 'ORGANISATION', label: 'Organisation' },
  { value: 'PRIVATE', label: 'Only me' },
  { value: 'LINK', label: 'Organisation and share links' },
];

export default function Resources() {
  const tenant = useTenant();
  useDocumentTitle(`Files · ${tenant.name}`);
  return (
    <section className="page">
      <PageHeader title="Files" />
      <RequirePermission permission="resources.read" fallback={<Alert>You cannot see this organisation's files.</Alert>}>
        <ResourcesView />
      </RequirePermission>
    </section>
  );
}

function ResourcesView() {
  const tenant = useTenant();
  const navigate = useNavigate();
  const [folder, setFolder] = useState('');
  const [bin, setBin] = useState(false);
  const [res, reexecute] = useQuery({
    query: ResourcesDocument,
    variables: { tenantId: tenant.id, folder: folder.trim() || null, deleted: bin, first: 100, withDownloadUrls: true },
    requestPolicy: 'cache-and-network',
  });
  const [progress, setProgress] = useState<number | null>(null);
  const [uploadError, setUploadError] = useState<UploadError | null>(null);
  const [visibility, setVisibility] = useState<ResourceVisibility>('ORGANISATION');
  const files = res.data?.tenant.resources?.edges.map((e) => e.node) ?? [];

  async function upload(file: File) {
    setUploadError(null);
    setProgress(0);
    const r = await uploadFile<UploadResourceMutation>(
      UploadResourceDocument,
      { input: { tenantId: tenant.id, folder: folder.trim() || '/', visibility } },
      file,
      setProgress,
    );
    setProgress(null);
    if (r.error) setUploadError(r.error);
    else {
      reexecute({ requestPolicy: 'network-only' });
      navigate(`/o/${tenant.slug}/resources/${r.data.uploadResource.resource.id}`);
    }
  }

  return (
    <>
      {tenant.can('resources.write') && !bin && (
        <div className="card">
          <div className="row">
            <SelectField label="Who may see new files" value={visibility} onChange={(e) => setVisibility(e.target.value as ResourceVisibility)}>
              {VISIBILITIES.map((v) => (
                <option key={v.value} value={v.value}>
                  {v.label}
                </option>
              ))}
            </SelectField>
          </div>
          <DropZone label="Upload a file" busy={progress != null} progress={progress} onFile={upload} />
          {uploadError && (
            <Alert>
              {uploadError.code === 'QUOTA_EXCEEDED' ? `The plan's storage is full: ${uploadError.message}` : uploadError.message}
            </Alert>
          )}
        </div>
      )}
      <div className="row">
        <Field label="Folder" placeholder="/ (all folders)" value={folder} onChange={(e) => setFolder(e.target.value)} />
        <Button variant="ghost" onClick={() => setBin(!bin)}>
          {bin ? 'Back to the files' : 'Show the bin'}
        </Button>
      </div>
      <h2>{bin ? 'Bin' : 'Files'}</h2>
      {res.error && !res.data && <Alert>{errorMessage(res.error)}</Alert>}
      {res.fetching && !res.data && <p className="muted">Loading files…</p>}
      {res.data && files.length === 0 && <p className="muted">{bin ? 'The bin is empty.' : 'No files yet.'}</p>}
      {files.length > 0 && (
        <table className="resource-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Folder</th>
              <th>Type</th>
              <th>Size</th>
              <th>Versions</th>
              <th>Downloads</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {files.map((f) => (
              <tr key={f.id}>
                <td>
                  <Link to={`/o/${tenant.slug}/resources/${f.id}`}>{f.name}</Link>{' '}
                  {f.tags.map((t) => (
                    <span key={t} className="tag">
                      {t}
                    </span>
                  ))}
                </td>
                <td>
                  <code>{f.folder}</code>
                </td>
                <td>{f.currentVersion?.mimeType}</td>
                <td>{f.currentVersion ? formatBytes(f.currentVersion.sizeBytes) : ''}</td>
                <td>{f.versionCount}</td>
                <td>{f.downloadCount}</td>
                <td>{formatDate(f.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

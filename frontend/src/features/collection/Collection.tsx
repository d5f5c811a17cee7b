// Data collection: the organisation's projects, a project's folder tree and collection jobs
// (live while they run), a "new collection" form (collector, URLs; bad lines named), and a
// folder's records with word search and filters, export buttons and CSV import (RecordsIo).
import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  AvailableCollectorsDocument,
  CreateProjectDocument,
  FolderRecordsDocument,
  ProjectDocument,
  StartCollectionJobDocument,
  TenantProjectsDocument,
  type ProjectQuery,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { RequirePermission, useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, formatDate, PageHeader, SelectField, TextAreaField } from '../../ui';
import { ExportButtons, ImportCsv } from './RecordsIo';

type Folder = ProjectQuery['project']['folders'][number];
const RUNNING = ['PENDING', 'TRIGGERED', 'RUNNING', 'INGESTING'];

export default function Collection() {
  const tenant = useTenant();
  useDocumentTitle(`Collection · ${tenant.name}`);
  return (
    <section className="page">
      <PageHeader title="Data collection" />
      <RequirePermission permission="collection.read" fallback={<Alert>You cannot see this organisation's collections.</Alert>}>
        <Projects />
      </RequirePermission>
    </section>
  );
}

function Projects() {
  const tenant = useTenant();
  const [res, reexecute] = useQuery({ query: TenantProjectsDocument, variables: { id: tenant.id } });
  const [selected, setSelected] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [createRes, create] = useMutation(CreateProjectDocument);
  const errs = fieldErrors(createRes.error);
  const projects = res.data?.tenant.projects ?? [];
  const current = selected ?? projects[0]?.id ?? null;
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const r = await create({ input: { tenantId: tenant.id, name } });
    const p = r.data?.createProject.project;
    if (p) {
      setName('');
      setSelected(p.id);
      reexecute({ requestPolicy: 'network-only' });
    }
  }
  return (
    <>
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      <div className="row">
        <nav aria-label="Projects">
          <h2>Projects</h2>
          {res.data && projects.length === 0 && <p className="muted">No projects yet.</p>}
          <ul>
            {projects.map((p) => (
              <li key={p.id}>
                <Button variant={p.id === current ? 'secondary' : 'ghost'} onClick={() => setSelected(p.id)}>
                  {p.name}
                </Button>{' '}
                <span className="muted small">{p.viewerRole.toLowerCase()}</span>
              </li>
            ))}
          </ul>
          <RequirePermission permission="projects.manage">
            <form onSubmit={submit} noValidate>
              <Field label="New project" value={name} onChange={(e) => setName(e.target.value)} error={errs.name} required />
              <Alert>{errs['']}</Alert>
              <Button type="submit" busy={createRes.fetching} busyLabel="Creating…">
                Create project
              </Button>
            </form>
          </RequirePermission>
        </nav>
        {current && <ProjectView key={current} id={current} />}
      </div>
    </>
  );
}

function ProjectView({ id }: { id: string }) {
  const [res, reexecute] = useQuery({ query: ProjectDocument, variables: { id }, requestPolicy: 'cache-and-network' });
  const [folder, setFolder] = useState<string | null>(null);
  const project = res.data?.project;
  const running = project?.collectionJobs.some((j) => RUNNING.includes(j.status)) ?? false;
  // Live progress: read again while a job runs.
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => reexecute({ requestPolicy: 'network-only' }), 1000);
    return () => clearInterval(t);
  }, [running, reexecute]);
  if (res.error && !project) return <Alert>{errorMessage(res.error)}</Alert>;
  if (!project) return <p className="muted">Loading project…</p>;
  const canEdit = project.viewerRole !== 'VIEWER';
  return (
    <div className="card" aria-label={`Project ${project.name}`}>
      <h2>{project.name}</h2>
      {canEdit && <NewCollection projectId={project.id} onStarted={() => reexecute({ requestPolicy: 'network-only' })} />}
      <h3>Jobs</h3>
      <table aria-label="Collection jobs">
        <thead>
          <tr>
            <th>Started</th>
            <th>Status</th>
            <th>Inputs</th>
            <th>Records</th>
            <th>Errors</th>
          </tr>
        </thead>
        <tbody>
          {project.collectionJobs.map((j) => (
            <tr key={j.id}>
              <td>{formatDate(j.createdAt)}</td>
              <td>
                <span className={`status status-${j.status.toLowerCase()}`}>{j.status}</span>
                {j.error && <span className="muted small"> {j.error}</span>}
              </td>
              <td>{j.inputCount}</td>
              <td>{j.recordCount}</td>
              <td>{j.errorCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Folders</h3>
      <FolderTree folders={project.folders} parent={null} selected={folder} onSelect={setFolder} />
      {folder && <Records key={folder} folderId={folder} canEdit={canEdit} />}
    </div>
  );
}

function FolderTree({
  folders,
  parent,
  selected,
  onSelect,
}: {
  folders: Folder[];
  parent: string | null;
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const children = folders.filter((f) => (f.parentId ?? null) === parent);
  if (children.length === 0) return null;
  return (
    <ul className="folder-tree">
      {children.map((f) => (
        <li key={f.id}>
          <Button variant={f.id === selected ? 'secondary' : 'ghost'} onClick={() => onSelect(f.id)}>
            {f.name}
          </Button>{' '}
          <span className="muted small">
            {f.recordCount} records · {formatDate(f.lastUpdatedAt)}
          </span>
          <FolderTree folders={folders} parent={f.id} selected={selected} onSelect={onSelect} />
        </li>
      ))}
    </ul>
  );
}

function NewCollection({ projectId, onStarted }: { projectId: string; onStarted: () => void }) {
  const tenant = useTenant();
  const [collectors] = useQuery({ query: AvailableCollectorsDocument, variables: { id: tenant.id } });
  const list = collectors.data?.tenant.availableCollectors ?? [];
  const [collector, setCollector] = useState('');
  const [urls, setUrls] = useState('');
  const [res, start] = useMutation(StartCollectionJobDocument);
  const errs = fieldErrors(res.error);
  const chosen = collector || list[0]?.id || '';
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const r = await start({ input: { projectId, collectorId: chosen, urls } });
    if (r.data?.startCollectionJob) {
      setUrls('');
      onStarted();
    }
  }
  return (
    <details className="card" open>
      <summary>
        <strong>New collection</strong>
      </summary>
      <form onSubmit={submit} noValidate>
        <SelectField label="Collector" value={chosen} onChange={(e) => setCollector(e.target.value)} error={errs.collectorId}>
          {list.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </SelectField>
        <TextAreaField
          label="URLs (one a line, or CSV rows)"
          value={urls}
          onChange={(e) => setUrls(e.target.value)}
          error={errs.urls}
          rows={4}
        />
        <Alert>{errs['']}</Alert>
        <Button type="submit" busy={res.fetching} busyLabel="Starting…" disabled={!chosen}>
          Start collection
        </Button>
      </form>
    </details>
  );
}

function Records({ folderId, canEdit }: { folderId: string; canEdit: boolean }) {
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const filter = applied ? { search: applied } : null;
  const [res, reexecute] = useQuery({
    query: FolderRecordsDocument,
    variables: { id: folderId, first: 50, filter },
    requestPolicy: 'cache-and-network',
  });
  const folder = res.data?.collectionFolder;
  return (
    <section aria-label="Records">
      <form
        className="row"
        onSubmit={(ev) => {
          ev.preventDefault();
          setApplied(search.trim());
        }}
      >
        <Field label="Search records" value={search} onChange={(e) => setSearch(e.target.value)} />
        <Button type="submit" variant="secondary">
          Search
        </Button>
      </form>
      <ExportButtons folderId={folderId} filter={filter} />
      {canEdit && <ImportCsv folderId={folderId} onImported={() => reexecute({ requestPolicy: 'network-only' })} />}
      {res.error && <Alert>{errorMessage(res.error)}</Alert>}
      {folder && (
        <>
          <p className="muted">
            {folder.records.totalCount} of {folder.recordCount} records in {folder.name}
          </p>
          <table aria-label="Collected records">
            <thead>
              <tr>
                <th>Author</th>
                <th>Text</th>
                <th>Posted</th>
                <th>Likes</th>
                <th>Comments</th>
                <th>Views</th>
              </tr>
            </thead>
            <tbody>
              {folder.records.edges.map(({ node: r }) => (
                <tr key={r.id}>
                  <td>{r.author}</td>
                  <td>
                    <a href={r.url} target="_blank" rel="noreferrer">
                      {r.text}
                    </a>
                  </td>
                  <td>{formatDate(r.postedAt, false)}</td>
                  <td>{r.likes}</td>
                  <td>{r.comments}</td>
                  <td>{r.views}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

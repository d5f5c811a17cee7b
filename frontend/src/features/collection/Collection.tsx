// Data collection: the organisation's projects, a project's folder tree and collection jobs
// (live through `collectionJobUpdated`; Jobs), and a folder's records with filters, saved
// searches, export and import (Records).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { CreateProjectDocument, ProjectDocument, TenantProjectsDocument, type ProjectQuery } from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { RequirePermission, useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, formatDate, PageHeader } from '../../ui';
import { JobsTable, NewCollection, useJobEvents } from './Jobs';
import { Records } from './Records';

type Folder = ProjectQuery['project']['folders'][number];

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
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  // Live progress: every change of one of the project's jobs reads the project again.
  useJobEvents(id, reload);
  if (res.error && !project) return <Alert>{errorMessage(res.error)}</Alert>;
  if (!project) return <p className="muted">Loading project…</p>;
  const canEdit = project.viewerRole !== 'VIEWER';
  return (
    <div className="card" aria-label={`Project ${project.name}`}>
      <h2>{project.name}</h2>
      {canEdit && <NewCollection projectId={project.id} onStarted={reload} />}
      <h3>Jobs</h3>
      <JobsTable jobs={project.collectionJobs} canEdit={canEdit} onChanged={reload} />
      <h3>Folders</h3>
      <FolderTree folders={project.folders} parent={null} selected={folder} onSelect={setFolder} />
      {folder && <Records key={folder} projectId={project.id} folderId={folder} folders={project.folders} canEdit={canEdit} />}
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

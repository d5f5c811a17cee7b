// The organisation's workflows at /o/:slug/workflows: cards with search, create, duplicate,
// archive/restore and delete.
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';
import {
  ArchiveWorkflowDocument,
  CreateWorkflowDocument,
  DeleteWorkflowDocument,
  DuplicateWorkflowDocument,
  RestoreWorkflowDocument,
  WorkflowsDocument,
  type WorkflowsQuery,
} from '../../gql/graphql';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { EmptyState, ErrorNotice, Loading, apiError, formatDate } from './common';
import { WorkflowTabs } from './WorkflowTabs';
import './workflows.css';

type Item = WorkflowsQuery['tenant']['workflows']['edges'][number]['node'];
const PAGE = 24;

export default function WorkflowList() {
  useDocumentTitle('Workflows');
  const tenant = useTenant();
  const navigate = useNavigate();
  const canEdit = tenant.can('workflow.edit');
  const [search, setSearch] = useState('');
  const [debounced, setDebounced] = useState('');
  const [includeArchived, setIncludeArchived] = useState(false);
  const [first, setFirst] = useState(PAGE);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(search.trim()), 250);
    return () => clearTimeout(t);
  }, [search]);

  const [{ data, fetching, error }, reexecute] = useQuery({
    query: WorkflowsDocument,
    variables: { tenantId: tenant.id, search: debounced || null, includeArchived, first },
    requestPolicy: 'cache-and-network',
  });
  const refresh = () => reexecute({ requestPolicy: 'network-only' });
  const list = data?.tenant.workflows;

  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [createError, setCreateError] = useState<string | null>(null);
  const [nameError, setNameError] = useState<string | null>(null);
  const [{ fetching: createBusy }, create] = useMutation(CreateWorkflowDocument);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setCreateError(null);
    setNameError(null);
    if (!name.trim()) {
      setNameError('Give the workflow a name.');
      return;
    }
    const r = await create({ input: { tenantId: tenant.id, name: name.trim(), description } });
    const err = apiError(r.error);
    if (err) {
      if (err.field?.endsWith('name')) setNameError(err.message);
      else setCreateError(err.message);
      return;
    }
    navigate(`/o/${tenant.slug}/workflows/${r.data!.createWorkflow.workflow.id}`);
  };

  const [, duplicate] = useMutation(DuplicateWorkflowDocument);
  const [, archive] = useMutation(ArchiveWorkflowDocument);
  const [, restore] = useMutation(RestoreWorkflowDocument);
  const [, remove] = useMutation(DeleteWorkflowDocument);
  const [actionError, setActionError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<Item | null>(null);
  const act = async (p: Promise<{ error?: import('urql').CombinedError }>) => {
    setActionError(null);
    const r = await p;
    if (r.error) setActionError(apiError(r.error)!.message);
    refresh();
    return !r.error;
  };

  const base = `/o/${tenant.slug}`;
  return (
    <section className="wf-page">
      <div className="wf-page-head">
        <h1>Workflows</h1>
        {canEdit && (
          <div className="wf-page-actions">
            <Link className="wf-btn" to={`${base}/workflows/templates`}>
              From a template
            </Link>
            <button type="button" className="wf-btn wf-btn-primary" onClick={() => setCreating((c) => !c)} aria-expanded={creating}>
              New workflow
            </button>
          </div>
        )}
      </div>
      <WorkflowTabs />

      {creating && (
        <form className="wf-card wf-create" onSubmit={submit} noValidate aria-label="New workflow">
          <div className="wf-field">
            <label className="wf-label" htmlFor="wf-new-name">
              Name <span className="wf-required" aria-hidden="true">*</span>
            </label>
            <input
              id="wf-new-name"
              value={name}
              autoFocus
              required
              aria-required
              maxLength={200}
              aria-invalid={nameError ? true : undefined}
              aria-describedby={nameError ? 'wf-new-name-error' : undefined}
              onChange={(e) => setName(e.target.value)}
            />
            {nameError && (
              <p id="wf-new-name-error" className="wf-field-error">
                {nameError}
              </p>
            )}
          </div>
          <div className="wf-field">
            <label className="wf-label" htmlFor="wf-new-description">
              Description
            </label>
            <textarea id="wf-new-description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
          </div>
          <ErrorNotice error={createError} />
          <div className="wf-row">
            <button type="submit" className="wf-btn wf-btn-primary" disabled={createBusy}>
              {createBusy ? 'Creating…' : 'Create and open'}
            </button>
            <button type="button" className="wf-btn" onClick={() => setCreating(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}

      <div className="wf-filters">
        <label className="wf-sr-only" htmlFor="wf-search">
          Search workflows
        </label>
        <input id="wf-search" type="search" placeholder="Search by name…" value={search} onChange={(e) => setSearch(e.target.value)} />
        <label className="wf-check">
          <input type="checkbox" checked={includeArchived} onChange={(e) => setIncludeArchived(e.target.checked)} /> Show archived
        </label>
      </div>
      <ErrorNotice error={actionError} />
      {error && !data && <ErrorNotice error={error} onRetry={refresh} />}
      {!list && fetching && <Loading label="Loading workflows…" />}
      {list && list.edges.length === 0 && (
        <EmptyState title={debounced ? `No workflow matches “${debounced}”.` : 'No workflows yet.'}>
          {!debounced && canEdit && <p>Create one, or start from a template.</p>}
        </EmptyState>
      )}
      {list && list.edges.length > 0 && (
        <>
          <p className="wf-muted" aria-live="polite">
            {list.totalCount} workflow{list.totalCount === 1 ? '' : 's'}
          </p>
          <ul className="wf-cards">
            {list.edges.map(({ node: w }) => (
              <li key={w.id} className={`wf-card${w.archived ? ' wf-card-archived' : ''}`} data-workflow-id={w.id}>
                <h2 className="wf-card-title">
                  <Link to={`${base}/workflows/${w.id}`}>{w.name}</Link>
                </h2>
                {w.archived && <span className="wf-badge">Archived</span>}
                {w.description && <p className="wf-card-desc">{w.description}</p>}
                <p className="wf-muted wf-small">
                  {w.latestVersion ? `Version ${w.latestVersion}` : 'Not published'} · updated {formatDate(w.updatedAt)}
                </p>
                <div className="wf-card-actions">
                  <Link className="wf-btn wf-btn-small" to={`${base}/workflows/${w.id}/executions`}>
                    Runs
                  </Link>
                  {canEdit && (
                    <>
                      <button type="button" className="wf-btn wf-btn-small" onClick={() => act(duplicate({ input: { id: w.id } }))} aria-label={`Duplicate ${w.name}`}>
                        Duplicate
                      </button>
                      {w.archived ? (
                        <button type="button" className="wf-btn wf-btn-small" onClick={() => act(restore({ id: w.id }))} aria-label={`Restore ${w.name}`}>
                          Restore
                        </button>
                      ) : (
                        <button type="button" className="wf-btn wf-btn-small" onClick={() => act(archive({ id: w.id }))} aria-label={`Archive ${w.name}`}>
                          Archive
                        </button>
                      )}
                      <button type="button" className="wf-btn wf-btn-small wf-btn-danger" onClick={() => setConfirmDelete(w)} aria-label={`Delete ${w.name}`}>
                        Delete
                      </button>
                    </>
                  )}
                </div>
                {confirmDelete?.id === w.id && (
                  <div className="wf-confirm" role="alertdialog" aria-label={`Delete ${w.name}?`}>
                    <p>Delete “{w.name}” with its versions and runs? This cannot be undone.</p>
                    <button
                      type="button"
                      className="wf-btn wf-btn-danger"
                      autoFocus
                      onClick={async () => {
                        if (await act(remove({ id: w.id }))) setConfirmDelete(null);
                      }}
                    >
                      Delete for good
                    </button>
                    <button type="button" className="wf-btn" onClick={() => setConfirmDelete(null)}>
                      Keep it
                    </button>
                  </div>
                )}
              </li>
            ))}
          </ul>
          {list.pageInfo.hasNextPage && (
            <button type="button" className="wf-btn" onClick={() => setFirst((f) => f + PAGE)} disabled={fetching}>
              {fetching ? 'Loading…' : 'Show more'}
            </button>
          )}
        </>
      )}
    </section>
  );
}

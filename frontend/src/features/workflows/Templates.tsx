// Templates at /o/:slug/workflows/templates: Zygo's built-in ones and the organisation's own;
// create a workflow from one, delete the organisation's.
import { useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery } from 'urql';
import {
  CreateWorkflowFromTemplateDocument,
  DeleteWorkflowTemplateDocument,
  WorkflowTemplatesDocument,
  type WorkflowTemplatesQuery,
} from '../../gql/graphql';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { EmptyState, ErrorNotice, Loading, apiError, useNodeTypes } from './common';
import { WorkflowTabs } from './WorkflowTabs';
import './workflows.css';

type Template = WorkflowTemplatesQuery['workflowTemplates'][number];

export default function Templates() {
  useDocumentTitle('Workflow templates');
  const tenant = useTenant();
  const navigate = useNavigate();
  const canEdit = tenant.can('workflow.edit');
  const { types } = useNodeTypes();
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: WorkflowTemplatesDocument,
    variables: { tenantId: tenant.id },
    requestPolicy: 'cache-and-network',
  });
  const [, createFrom] = useMutation(CreateWorkflowFromTemplateDocument);
  const [, remove] = useMutation(DeleteWorkflowTemplateDocument);
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [names, setNames] = useState<Record<string, string>>({});

  const groups = useMemo(() => {
    const all = data?.workflowTemplates ?? [];
    return [
      { title: 'Built in', items: all.filter((t) => t.builtin) },
      { title: 'Your organisation', items: all.filter((t) => !t.builtin) },
    ];
  }, [data]);

  const use = async (t: Template) => {
    setBusy(t.id);
    setActionError(null);
    const r = await createFrom({ input: { tenantId: tenant.id, templateId: t.id, name: names[t.id]?.trim() || null } });
    setBusy(null);
    const e = apiError(r.error);
    if (e) return setActionError(e.message);
    navigate(`/o/${tenant.slug}/workflows/${r.data!.createWorkflowFromTemplate.workflow.id}`);
  };
  const del = async (t: Template) => {
    if (!window.confirm(`Delete the template “${t.name}”?`)) return;
    setBusy(t.id);
    const r = await remove({ id: t.id });
    setBusy(null);
    if (r.error) setActionError(apiError(r.error)!.message);
    reexecute({ requestPolicy: 'network-only' });
  };

  return (
    <section className="wf-page">
      <div className="wf-page-head">
        <h1>Templates</h1>
      </div>
      <WorkflowTabs />
      <ErrorNotice error={actionError} />
      {error && !data && <ErrorNotice error={error} onRetry={() => reexecute({ requestPolicy: 'network-only' })} />}
      {!data && fetching && <Loading label="Loading templates…" />}
      {data &&
        groups.map((g) => (
          <section key={g.title} aria-labelledby={`tpl-${g.title}`}>
            <h2 id={`tpl-${g.title}`}>{g.title}</h2>
            {g.items.length === 0 ? (
              <EmptyState title="No templates of your own yet.">
                <p>Open a workflow and choose “Save as template”, or start from a built-in one.</p>
              </EmptyState>
            ) : (
              <ul className="wf-cards">
                {g.items.map((t) => (
                  <li key={t.id} className="wf-card" data-template-id={t.id}>
                    <h3 className="wf-card-title">{t.name}</h3>
                    {t.category && <span className="wf-badge">{t.category}</span>}
                    <p className="wf-card-desc">{t.description}</p>
                    <p className="wf-small wf-muted">
                      {t.graph.nodes.map((n) => types.get(n.type)?.name ?? n.type).join(' → ')}
                    </p>
                    {canEdit && (
                      <div className="wf-card-actions">
                        <label className="wf-sr-only" htmlFor={`tpl-name-${t.id}`}>
                          Name of the new workflow
                        </label>
                        <input
                          id={`tpl-name-${t.id}`}
                          placeholder={t.name}
                          value={names[t.id] ?? ''}
                          onChange={(e) => setNames({ ...names, [t.id]: e.target.value })}
                        />
                        <button type="button" className="wf-btn wf-btn-primary wf-btn-small" disabled={busy !== null} onClick={() => use(t)}>
                          {busy === t.id ? 'Creating…' : 'Use template'}
                        </button>
                        {!t.builtin && (
                          <button type="button" className="wf-btn wf-btn-danger wf-btn-small" disabled={busy !== null} onClick={() => del(t)} aria-label={`Delete template ${t.name}`}>
                            Delete
                          </button>
                        )}
                      </div>
                    )}
                  </li>
                ))}
              </ul>
            )}
          </section>
        ))}
      <p>
        <Link to={`/o/${tenant.slug}/workflows`}>← Back to workflows</Link>
      </p>
    </section>
  );
}

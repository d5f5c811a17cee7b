// Environment variables at /o/:slug/environment: plain values workflows read as
// `{{ env.NAME }}`; setting and deleting them needs secret.manage (README permission table).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { DeleteEnvironmentVariableDocument, SecretsDocument, SetEnvironmentVariableDocument } from '../../gql/graphql';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { ConnectionTable } from '../../ui/ConnectionTable';
import { ErrorNotice, apiError, formatDate, workflowTable } from './common';
import { Field } from './Secrets';
import { WorkflowTabs } from './WorkflowTabs';
import './workflows.css';

export default function Environment() {
  useDocumentTitle('Environment variables');
  const tenant = useTenant();
  const canManage = tenant.can('secret.manage');
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: SecretsDocument,
    variables: { tenantId: tenant.id, withAccessLog: false },
    requestPolicy: 'cache-and-network',
  });
  const refresh = () => reexecute({ requestPolicy: 'network-only' });
  const vars = data?.tenant.environmentVariables ?? [];

  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [{ fetching: saving }, setVar] = useMutation(SetEnvironmentVariableDocument);
  const [, remove] = useMutation(DeleteEnvironmentVariableDocument);
  const [editing, setEditing] = useState<string | null>(null);
  const [editValue, setEditValue] = useState('');
  const [actionError, setActionError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const local: Record<string, string> = {};
    if (!name.trim()) local.name = 'Enter a name.';
    setErrors(local);
    if (Object.keys(local).length) return;
    const r = await setVar({ input: { tenantId: tenant.id, name: name.trim(), value } });
    const err = apiError(r.error);
    if (err) {
      const field = err.field?.split('.').pop() ?? '';
      setErrors(['name', 'value'].includes(field) ? { [field]: err.message } : { '': err.message });
      return;
    }
    setName('');
    setValue('');
    refresh();
  };

  return (
    <section className="wf-page">
      <div className="wf-page-head">
        <h1>Environment variables</h1>
      </div>
      <WorkflowTabs />
      <p className="wf-muted">
        Plain values shared by the organisation's workflows, read as <code>{'{{ env.NAME }}'}</code>. Use secrets for
        anything confidential.
      </p>
      {canManage ? (
        <form className="wf-card wf-create" onSubmit={submit} noValidate aria-label="Set an environment variable">
          <h2 className="wf-panel-title">Set a variable</h2>
          <Field id="env-name" label="Name" required error={errors.name}>
            <input id="env-name" className="wf-mono" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" aria-required aria-invalid={errors.name ? true : undefined} aria-describedby={errors.name ? 'env-name-error' : undefined} />
          </Field>
          <Field id="env-value" label="Value" error={errors.value}>
            <input id="env-value" value={value} onChange={(e) => setValue(e.target.value)} aria-invalid={errors.value ? true : undefined} aria-describedby={errors.value ? 'env-value-error' : undefined} />
          </Field>
          <ErrorNotice error={errors['']} />
          <div>
            <button type="submit" className="wf-btn wf-btn-primary" disabled={saving}>
              {saving ? 'Saving…' : 'Set variable'}
            </button>
          </div>
        </form>
      ) : (
        <p className="wf-alert wf-alert-info">Changing environment variables needs the secret.manage permission.</p>
      )}
      <ErrorNotice error={actionError} />
      {error && !data && <ErrorNotice error={error} onRetry={refresh} />}
      <ConnectionTable
        look={workflowTable}
        rows={vars}
        rowKey={(v) => v.id}
        rowProps={(v) => ({ 'data-env': v.name })}
        loading={!data && fetching}
        loadingLabel="Loading variables…"
        empty={data ? 'No environment variables yet.' : null}
        columns={[
          { header: 'Name', className: 'wf-mono', cell: (v) => v.name },
          {
            header: 'Value',
            cell: (v) =>
              editing === v.id ? (
                <form
                  className="wf-row"
                  onSubmit={async (e) => {
                    e.preventDefault();
                    const r = await setVar({ input: { tenantId: tenant.id, name: v.name, value: editValue } });
                    if (r.error) return setActionError(apiError(r.error)!.message);
                    setEditing(null);
                    refresh();
                  }}
                >
                  <label className="wf-sr-only" htmlFor={`env-edit-${v.id}`}>
                    Value of {v.name}
                  </label>
                  <input id={`env-edit-${v.id}`} value={editValue} autoFocus onChange={(e) => setEditValue(e.target.value)} style={{ flex: 1 }} />
                  <button type="submit" className="wf-btn wf-btn-small wf-btn-primary">
                    Save
                  </button>
                  <button type="button" className="wf-btn wf-btn-small" onClick={() => setEditing(null)}>
                    Cancel
                  </button>
                </form>
              ) : (
                <code style={{ wordBreak: 'break-all' }}>{v.value}</code>
              ),
          },
          { header: 'Updated', cell: (v) => formatDate(v.updatedAt) },
          canManage && {
            header: <span className="wf-sr-only">Actions</span>,
            cell: (v) => (
              <div className="wf-row">
                <button
                  type="button"
                  className="wf-btn wf-btn-small"
                  aria-label={`Edit ${v.name}`}
                  onClick={() => {
                    setEditing(v.id);
                    setEditValue(v.value);
                  }}
                >
                  Edit
                </button>
                <button
                  type="button"
                  className="wf-btn wf-btn-small wf-btn-danger"
                  aria-label={`Delete ${v.name}`}
                  onClick={async () => {
                    if (!window.confirm(`Delete ${v.name}?`)) return;
                    setActionError(null);
                    const r = await remove({ id: v.id });
                    if (r.error) setActionError(apiError(r.error)!.message);
                    refresh();
                  }}
                >
                  Delete
                </button>
              </div>
            ),
          },
        ]}
      />
    </section>
  );
}

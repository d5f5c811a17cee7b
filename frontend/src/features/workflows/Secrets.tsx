// Secrets at /o/:slug/secrets: names and metadata only (values are never returned), create,
// replace the value, delete, and each secret's access log. Changing anything needs secret.manage.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  CreateSecretDocument,
  DeleteSecretDocument,
  SecretsDocument,
  UpdateSecretDocument,
  type SecretsQuery,
} from '../../gql/graphql';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { EmptyState, ErrorNotice, Loading, apiError, formatDate } from './common';
import { WorkflowTabs } from './WorkflowTabs';
import './workflows.css';

type Secret = SecretsQuery['tenant']['secrets']['edges'][number]['node'];

export default function Secrets() {
  useDocumentTitle('Secrets');
  const tenant = useTenant();
  const canManage = tenant.can('secret.manage');
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: SecretsDocument,
    variables: { tenantId: tenant.id, withAccessLog: canManage },
    requestPolicy: 'cache-and-network',
  });
  const refresh = () => reexecute({ requestPolicy: 'network-only' });
  const secrets = data?.tenant.secrets.edges.map((e) => e.node) ?? [];

  return (
    <section className="wf-page">
      <div className="wf-page-head">
        <h1>Secrets</h1>
      </div>
      <WorkflowTabs />
      <p className="wf-muted">
        Workflows read secrets as <code>{'{{ secrets.NAME }}'}</code>. Values are stored encrypted and never shown again;
        runs replace them with <code>[secret:NAME]</code> in outputs and logs.
      </p>
      {canManage ? <CreateSecret tenantId={tenant.id} onDone={refresh} /> : <p className="wf-alert wf-alert-info">You can see secret names; changing them needs the secret.manage permission.</p>}
      {error && !data && <ErrorNotice error={error} onRetry={refresh} />}
      {!data && fetching && <Loading label="Loading secrets…" />}
      {data && secrets.length === 0 && <EmptyState title="No secrets yet." />}
      {secrets.length > 0 && (
        <ul className="wf-cards wf-secret-list">
          {secrets.map((s) => (
            <SecretCard key={s.id} secret={s} canManage={canManage} onDone={refresh} />
          ))}
        </ul>
      )}
    </section>
  );
}

function CreateSecret({ tenantId, onDone }: { tenantId: string; onDone: () => void }) {
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [{ fetching }, create] = useMutation(CreateSecretDocument);
  const [saved, setSaved] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const local: Record<string, string> = {};
    if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) local.name = '1 to 64 letters, digits or _.';
    if (!value) local.value = 'Enter the value.';
    setErrors(local);
    setSaved(null);
    if (Object.keys(local).length) return;
    const r = await create({ input: { tenantId, name, value, description } });
    const err = apiError(r.error);
    if (err) {
      const field = err.field?.split('.').pop() ?? '';
      setErrors(['name', 'value', 'description'].includes(field) ? { [field]: err.message } : { '': err.message });
      return;
    }
    setSaved(name);
    setName('');
    setValue('');
    setDescription('');
    onDone();
  };
  return (
    <form className="wf-card wf-create" onSubmit={submit} noValidate aria-label="New secret">
      <h2 className="wf-panel-title">New secret</h2>
      <Field id="secret-name" label="Name" required error={errors.name}>
        <input id="secret-name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" aria-required aria-invalid={errors.name ? true : undefined} aria-describedby={errors.name ? 'secret-name-error' : undefined} className="wf-mono" />
      </Field>
      <Field id="secret-value" label="Value" required error={errors.value}>
        <input id="secret-value" type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="new-password" aria-required aria-invalid={errors.value ? true : undefined} aria-describedby={errors.value ? 'secret-value-error' : undefined} />
      </Field>
      <Field id="secret-description" label="Description" error={errors.description}>
        <input id="secret-description" value={description} onChange={(e) => setDescription(e.target.value)} />
      </Field>
      <ErrorNotice error={errors['']} />
      {saved && (
        <p className="wf-alert wf-alert-info" role="status">
          Saved {saved}.
        </p>
      )}
      <div>
        <button type="submit" className="wf-btn wf-btn-primary" disabled={fetching}>
          {fetching ? 'Saving…' : 'Add secret'}
        </button>
      </div>
    </form>
  );
}

export function Field({ id, label, required, error, children }: { id: string; label: string; required?: boolean; error?: string; children: React.ReactNode }) {
  return (
    <div className="wf-field">
      <span className="wf-label-row">
        <label className="wf-label" htmlFor={id}>
          {label}
        </label>
        {required && (
          <span className="wf-required" aria-hidden="true">
            {' '}
            *
          </span>
        )}
      </span>
      {children}
      {error && (
        <p id={`${id}-error`} className="wf-field-error">
          {error}
        </p>
      )}
    </div>
  );
}

function SecretCard({ secret: s, canManage, onDone }: { secret: Secret; canManage: boolean; onDone: () => void }) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState('');
  const [description, setDescription] = useState(s.description);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState(false);
  const [{ fetching: saving }, update] = useMutation(UpdateSecretDocument);
  const [{ fetching: deleting }, remove] = useMutation(DeleteSecretDocument);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const r = await update({ input: { id: s.id, value: value || null, description } });
    if (r.error) return setError(apiError(r.error)!.message);
    setEditing(false);
    setValue('');
    onDone();
  };
  const log = s.accessLog;
  return (
    <li className="wf-card" data-secret={s.name}>
      <h2 className="wf-card-title wf-mono">{s.name}</h2>
      {s.description && <p className="wf-card-desc">{s.description}</p>}
      <p className="wf-small wf-muted">
        Updated {formatDate(s.updatedAt)} · last read {s.lastAccessedAt ? formatDate(s.lastAccessedAt) : 'never'}
      </p>
      {canManage && !editing && !confirm && (
        <div className="wf-card-actions">
          <button type="button" className="wf-btn wf-btn-small" onClick={() => setEditing(true)} aria-label={`Change ${s.name}`}>
            Change
          </button>
          <button type="button" className="wf-btn wf-btn-small wf-btn-danger" onClick={() => setConfirm(true)} aria-label={`Delete ${s.name}`}>
            Delete
          </button>
        </div>
      )}
      {editing && (
        <form onSubmit={save} aria-label={`Change ${s.name}`}>
          <Field id={`v-${s.id}`} label="New value (leave empty to keep)">
            <input id={`v-${s.id}`} type="password" autoComplete="new-password" value={value} onChange={(e) => setValue(e.target.value)} />
          </Field>
          <Field id={`d-${s.id}`} label="Description">
            <input id={`d-${s.id}`} value={description} onChange={(e) => setDescription(e.target.value)} />
          </Field>
          <ErrorNotice error={error} />
          <div className="wf-row">
            <button type="submit" className="wf-btn wf-btn-primary wf-btn-small" disabled={saving}>
              {saving ? 'Saving…' : 'Save'}
            </button>
            <button type="button" className="wf-btn wf-btn-small" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {confirm && (
        <div className="wf-confirm" role="alertdialog" aria-label={`Delete ${s.name}?`}>
          <p>Delete {s.name}? Workflows using it will fail.</p>
          <button
            type="button"
            className="wf-btn wf-btn-danger wf-btn-small"
            autoFocus
            disabled={deleting}
            onClick={async () => {
              const r = await remove({ id: s.id });
              if (r.error) setError(apiError(r.error)!.message);
              else onDone();
              setConfirm(false);
            }}
          >
            Delete for good
          </button>
          <button type="button" className="wf-btn wf-btn-small" onClick={() => setConfirm(false)}>
            Keep it
          </button>
        </div>
      )}
      {!editing && <ErrorNotice error={error} />}
      {log && (
        <details>
          <summary>Access log ({log.totalCount})</summary>
          {log.edges.length === 0 ? (
            <p className="wf-muted">No run has read it yet.</p>
          ) : (
            <ul className="wf-small">
              {[...log.edges].reverse().map((e, i) => (
                <li key={i}>
                  {formatDate(e.node.accessedAt)}
                  {e.node.nodeId && <> · node <code>{e.node.nodeId}</code></>}
                </li>
              ))}
            </ul>
          )}
        </details>
      )}
    </li>
  );
}

import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { CreateApiKeyDocument, RevokeApiKeyDocument, TenantApiKeysDocument, type Permission } from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { RequirePermission, useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, ConfirmButton, CopyButton, Field, formatDate, PageHeader } from '../../ui';
import { ConnectionTable } from '../../ui/ConnectionTable';
import { usePermissionCatalog } from '../roles/hooks';
import { PermissionMatrix } from '../roles/PermissionMatrix';

export default function ApiKeys() {
  const tenant = useTenant();
  useDocumentTitle(`API keys · ${tenant.name}`);
  return (
    <section className="page">
      <PageHeader title="API keys" />
      <RequirePermission permission="api_keys.manage" fallback={<Alert>You cannot manage this organisation's API keys.</Alert>}>
        <ApiKeysView />
      </RequirePermission>
    </section>
  );
}

function ApiKeysView() {
  const tenant = useTenant();
  const [res, reexecute] = useQuery({ query: TenantApiKeysDocument, variables: { id: tenant.id }, requestPolicy: 'cache-and-network' });
  const [revokeRes, revoke] = useMutation(RevokeApiKeyDocument);
  const [revoking, setRevoking] = useState<string | null>(null);
  const reload = () => reexecute({ requestPolicy: 'network-only' });

  return (
    <>
      <p className="muted">
        Third-party clients call the API with <code>Authorization: Bearer &lt;secret&gt;</code>. A key reaches this organisation only, and never
        more than its creator holds.
      </p>
      <CreateKey onCreated={reload} />
      <h2>Keys</h2>
      {revokeRes.error && <Alert>{errorMessage(revokeRes.error)}</Alert>}
      {res.error && !res.data && <Alert>{errorMessage(res.error)}</Alert>}
      <ConnectionTable
        caption="API keys"
        connection={res.data?.tenant.apiKeys}
        newestFirst
        rowKey={(k) => k.id}
        loading={res.fetching && !res.data}
        loadingLabel="Loading API keys…"
        empty="No API keys yet."
        columns={[
          { header: 'Name', rowHeader: true, cell: (k) => k.name },
          { header: 'Prefix', cell: (k) => <code>{k.prefix}…</code> },
          { header: 'Permissions', cell: (k) => k.permissions.length, cellProps: (k) => ({ title: k.permissions.join(', ') }) },
          {
            header: 'Created',
            cell: (k) => (
              <>
                {formatDate(k.createdAt, false)}
                {k.createdBy && <div className="muted small">by {k.createdBy.name}</div>}
              </>
            ),
          },
          { header: 'Last used', cell: (k) => (k.lastUsedAt ? formatDate(k.lastUsedAt) : 'never') },
          { header: 'Expires', cell: (k) => (k.expiresAt ? formatDate(k.expiresAt, false) : 'never') },
          {
            header: 'Status',
            cell: (k) =>
              k.revokedAt ? (
                <span className="status status-revoked">revoked</span>
              ) : k.expiresAt != null && new Date(k.expiresAt) < new Date() ? (
                <span className="status status-expired">expired</span>
              ) : (
                <span className="status status-active">active</span>
              ),
          },
          {
            header: 'Actions',
            className: 'actions',
            cell: (k) =>
              !k.revokedAt && (
                <ConfirmButton
                  busy={revokeRes.fetching && revoking === k.id}
                  confirmLabel="Revoke"
                  onConfirm={async () => {
                    setRevoking(k.id);
                    await revoke({ id: k.id });
                    setRevoking(null);
                    reload();
                  }}
                >
                  Revoke<span className="sr-only"> {k.name}</span>
                </ConfirmButton>
              ),
          },
        ]}
      />
    </>
  );
}

function CreateKey({ onCreated }: { onCreated: () => void }) {
  const tenant = useTenant();
  const { permissions } = usePermissionCatalog();
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [granted, setGranted] = useState<string[]>(['TENANT_READ']);
  const [res, create] = useMutation(CreateApiKeyDocument);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const errs = fieldErrors(res.error);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await create({
      input: {
        tenantId: tenant.id,
        name,
        permissions: granted as Permission[],
        expiresAt: expires ? new Date(`${expires}T23:59:59`).toISOString() : null,
      },
    });
    const p = r.data?.createApiKey;
    if (p) {
      setSecret({ name: p.apiKey.name, secret: p.secret });
      setName('');
      setExpires('');
      onCreated();
    }
  }

  return (
    <>
      {secret && (
        <div className="card secret-card" role="status">
          <h2>Key “{secret.name}” created</h2>
          <Alert kind="warning">Copy the secret now: it is shown this once and cannot be read again.</Alert>
          <div className="secret-box">
            <code aria-label="API key secret">{secret.secret}</code>
            <CopyButton text={secret.secret} label="Copy secret" />
            <Button variant="ghost" onClick={() => setSecret(null)}>
              Done
            </Button>
          </div>
        </div>
      )}
      <details className="card">
        <summary>
          <strong>Create an API key</strong>
        </summary>
        <form onSubmit={submit} noValidate>
          <div className="row">
            <Field label="Key name" value={name} onChange={(e) => setName(e.target.value)} error={errs.name} required />
            <Field
              label="Expires on"
              type="date"
              value={expires}
              min={new Date().toISOString().slice(0, 10)}
              onChange={(e) => setExpires(e.target.value)}
              error={errs.expiresAt}
              hint="Leave empty for a key that does not expire."
            />
          </div>
          <PermissionMatrix caption="What the key may do" permissions={permissions} value={granted} onChange={setGranted} grantable={tenant.viewerPermissions} />
          {errs.permissions && <Alert>{errs.permissions}</Alert>}
          <Alert>{errs['']}</Alert>
          <Button type="submit" busy={res.fetching} busyLabel="Creating…">
            Create key
          </Button>
        </form>
      </details>
    </>
  );
}

import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation } from 'urql';
import { CreateRoleDocument, type Permission } from '../../gql/graphql';
import { fieldErrors } from '../../app/client';
import { RequirePermission, useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, Field, Loading, PageHeader, SelectField, TextAreaField } from '../../ui';
import { usePermissionCatalog, useTenantRoles } from './hooks';
import { PermissionMatrix } from './PermissionMatrix';

export function roleKeyFrom(name: string) {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
}

export default function RoleCreate() {
  const tenant = useTenant();
  useDocumentTitle(`New role · ${tenant.name}`);
  return (
    <section className="page">
      <PageHeader title="New role">
        <Link to=".." relative="path" className="btn btn-ghost">
          Back to roles
        </Link>
      </PageHeader>
      <RequirePermission permission="roles.manage" fallback={<Alert>You cannot create roles in this organisation.</Alert>}>
        <RoleForm />
      </RequirePermission>
    </section>
  );
}

function RoleForm() {
  const tenant = useTenant();
  const navigate = useNavigate();
  const { roles } = useTenantRoles(tenant.id);
  const { permissions, fetching } = usePermissionCatalog();
  const [name, setName] = useState('');
  const [key, setKey] = useState('');
  const [keyTouched, setKeyTouched] = useState(false);
  const [description, setDescription] = useState('');
  const [parentId, setParentId] = useState('');
  const [granted, setGranted] = useState<string[]>([]);
  const [res, create] = useMutation(CreateRoleDocument);
  const errs = fieldErrors(res.error);
  const parent = roles.find((r) => r.id === parentId);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const r = await create({
      input: {
        tenantId: tenant.id,
        name,
        key,
        description,
        parentId: parentId || null,
        permissions: granted as Permission[],
      },
    });
    const role = r.data?.createRole.role;
    if (role) navigate(`/o/${tenant.slug}/roles/${encodeURIComponent(role.key)}`, { state: { created: true } });
  }

  return (
    <form onSubmit={submit} noValidate>
      <div className="card">
        <div className="row">
          <Field
            label="Name"
            name="name"
            required
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              if (!keyTouched) setKey(roleKeyFrom(e.target.value));
            }}
            error={errs.name}
          />
          <Field
            label="Key"
            name="key"
            required
            hint="2–40 characters: a–z, 0–9, '-' and '_'."
            value={key}
            onChange={(e) => {
              setKeyTouched(true);
              setKey(e.target.value);
            }}
            error={errs.key}
          />
        </div>
        <TextAreaField label="Description" name="description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} error={errs.description} />
        <SelectField label="Inherits from" name="parent" value={parentId} onChange={(e) => setParentId(e.target.value)} error={errs.parentId}>
          <option value="">No parent role</option>
          {roles.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </SelectField>
      </div>
      {fetching && !permissions.length ? (
        <Loading label="Loading permissions…" />
      ) : (
        <PermissionMatrix
          caption="Permissions granted by this role"
          permissions={permissions}
          value={granted}
          onChange={setGranted}
          inherited={parent?.permissions ?? []}
          grantable={tenant.viewerPermissions}
        />
      )}
      {errs.permissions && <Alert>{errs.permissions}</Alert>}
      <Alert>{errs['']}</Alert>
      <div className="form-actions">
        <Button type="submit" busy={res.fetching} busyLabel="Creating…">
          Create role
        </Button>
      </div>
    </form>
  );
}

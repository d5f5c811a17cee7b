import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { useMutation } from 'urql';
import { DeleteRoleDocument, SetRolePermissionsDocument, UpdateRoleDocument, type Permission } from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Button, ConfirmButton, Field, Loading, PageHeader, SelectField, TextAreaField } from '../../ui';
import { usePermissionCatalog, useTenantRoles } from './hooks';
import { PermissionMatrix } from './PermissionMatrix';

export default function RoleDetail() {
  const tenant = useTenant();
  const { roleKey = '' } = useParams();
  const { roles, fetching, refetch } = useTenantRoles(tenant.id);
  const { permissions } = usePermissionCatalog();
  const role = roles.find((r) => r.key === roleKey);
  useDocumentTitle(`${role?.name ?? 'Role'} · ${tenant.name}`);
  const location = useLocation();
  const navigate = useNavigate();
  const canManage = tenant.can('roles.manage');
  const editable = canManage && role != null && !role.isBuiltin;

  const [granted, setGranted] = useState<string[]>([]);
  useEffect(() => {
    if (role) setGranted(role.grantedPermissions);
  }, [role?.id, role?.grantedPermissions.join()]); // eslint-disable-line react-hooks/exhaustive-deps
  const [permRes, setPerms] = useMutation(SetRolePermissionsDocument);
  const [delRes, del] = useMutation(DeleteRoleDocument);
  const [saved, setSaved] = useState(false);

  if (!role) {
    if (fetching || !roles.length) return <Loading label="Loading role…" />;
    return (
      <section className="page">
        <h1>Role not found</h1>
        <Link to={`/o/${tenant.slug}/roles`}>Back to roles</Link>
      </section>
    );
  }

  const parent = roles.find((r) => r.id === role.parent?.id);
  const dirty = granted.join() !== role.grantedPermissions.join();

  async function savePermissions() {
    setSaved(false);
    const r = await setPerms({ input: { roleId: role!.id, permissions: granted as Permission[] } });
    if (r.data) {
      setSaved(true);
      refetch();
    }
  }

  return (
    <section className="page">
      <PageHeader title={role.name}>
        <Link to={`/o/${tenant.slug}/roles`} className="btn btn-ghost">
          Back to roles
        </Link>
      </PageHeader>
      {(location.state as { created?: boolean } | null)?.created && <Alert kind="success">Role {role.name} created.</Alert>}
      <p>
        <code>{role.key}</code> {role.isBuiltin ? <span className="badge">built-in</span> : <span className="badge badge-accent">custom</span>}
        {parent && <> · inherits from <Link to={`/o/${tenant.slug}/roles/${encodeURIComponent(parent.key)}`}>{parent.name}</Link></>}
      </p>
      {role.isBuiltin && <Alert kind="info">Built-in roles are defined by Zygo and cannot be changed.</Alert>}
      {editable && <RoleSettings role={role} roles={roles} onSaved={refetch} />}

      <PermissionMatrix
        caption={role.isBuiltin ? 'Permissions of this role' : 'Permissions granted by this role'}
        permissions={permissions}
        value={role.isBuiltin ? role.permissions : granted}
        inherited={role.isBuiltin ? [] : (parent?.permissions ?? [])}
        readOnly={!editable}
        grantable={tenant.viewerPermissions}
        onChange={(v) => {
          setSaved(false);
          setGranted(v);
        }}
      />
      {editable && (
        <div className="form-actions">
          <Button busy={permRes.fetching} busyLabel="Saving…" disabled={!dirty} onClick={savePermissions}>
            Save permissions
          </Button>
          {dirty && (
            <Button variant="ghost" onClick={() => setGranted(role.grantedPermissions)}>
              Discard changes
            </Button>
          )}
        </div>
      )}
      {permRes.error && <Alert>{errorMessage(permRes.error)}</Alert>}
      {saved && !dirty && <Alert kind="success">Permissions saved.</Alert>}

      {editable && (
        <div className="danger-zone">
          <h2>Delete this role</h2>
          <p className="muted">A role that is still assigned, invited to or inherited from cannot be deleted.</p>
          <ConfirmButton
            busy={delRes.fetching}
            confirmLabel="Delete role"
            onConfirm={async () => {
              const r = await del({ id: role.id });
              if (r.data) {
                refetch();
                navigate(`/o/${tenant.slug}/roles`);
              }
            }}
          >
            Delete role
          </ConfirmButton>
          {delRes.error && <Alert>{errorMessage(delRes.error)}</Alert>}
        </div>
      )}
    </section>
  );
}

function RoleSettings({
  role,
  roles,
  onSaved,
}: {
  role: { id: string; name: string; description: string; parent?: { id: string } | null };
  roles: { id: string; name: string }[];
  onSaved: () => void;
}) {
  const [name, setName] = useState(role.name);
  const [description, setDescription] = useState(role.description);
  const [parentId, setParentId] = useState(role.parent?.id ?? '');
  const [res, update] = useMutation(UpdateRoleDocument);
  const [done, setDone] = useState(false);
  const errs = fieldErrors(res.error);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setDone(false);
    const r = await update({ input: { id: role.id, name, description, parentId: parentId || null } });
    if (r.data) {
      setDone(true);
      onSaved();
    }
  }
  return (
    <form className="card" onSubmit={submit} noValidate>
      <h2>Details</h2>
      <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errs.name} required />
      <TextAreaField label="Description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} error={errs.description} />
      <SelectField label="Inherits from" value={parentId} onChange={(e) => setParentId(e.target.value)} error={errs.parentId}>
        <option value="">No parent role</option>
        {roles
          .filter((r) => r.id !== role.id)
          .map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
      </SelectField>
      <Alert>{errs['']}</Alert>
      {done && <Alert kind="success">Saved.</Alert>}
      <Button type="submit" busy={res.fetching} busyLabel="Saving…">
        Save details
      </Button>
    </form>
  );
}

import { Link } from 'react-router';
import { useQuery } from 'urql';
import { PermissionMatrixDocument } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Empty, Loading, PageHeader } from '../../ui';
import { useTenantRoles } from './hooks';

export default function Roles() {
  const tenant = useTenant();
  useDocumentTitle(`Roles · ${tenant.name}`);
  const { roles, fetching, error } = useTenantRoles(tenant.id);
  const canManage = tenant.can('roles.manage');
  return (
    <section className="page">
      <PageHeader title="Roles">
        {canManage && (
          <Link to="new" className="btn btn-primary">
            New role
          </Link>
        )}
      </PageHeader>
      <p className="muted">
        Built-in roles are defined by Zygo and cannot change. Custom roles grant what you choose and may inherit from another role.
      </p>
      {error && !roles.length && <Alert>{errorMessage(error)}</Alert>}
      {fetching && !roles.length ? (
        <Loading label="Loading roles…" />
      ) : roles.length === 0 ? (
        <Empty>No roles.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Roles of {tenant.name}</caption>
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Key</th>
                <th scope="col">Kind</th>
                <th scope="col">Inherits from</th>
                <th scope="col">Permissions</th>
              </tr>
            </thead>
            <tbody>
              {roles.map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    <Link to={encodeURIComponent(r.key)}>{r.name}</Link>
                    {r.description && <div className="muted small">{r.description}</div>}
                  </th>
                  <td>
                    <code>{r.key}</code>
                  </td>
                  <td>{r.isBuiltin ? <span className="badge">built-in</span> : <span className="badge badge-accent">custom</span>}</td>
                  <td>{r.parent?.name ?? '—'}</td>
                  <td>{r.permissions.length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <MatrixOverview tenantId={tenant.id} />
    </section>
  );
}

/** Every role × every permission, read-only. */
function MatrixOverview({ tenantId }: { tenantId: string }) {
  const [res] = useQuery({ query: PermissionMatrixDocument, variables: { tenantId }, requestPolicy: 'cache-and-network' });
  const m = res.data?.tenant.permissionMatrix;
  if (!m) return res.fetching ? <Loading label="Loading the permission matrix…" /> : null;
  return (
    <>
      <h2>Permission overview</h2>
      <div className="table-wrap">
        <table className="table overview">
          <caption className="sr-only">Permissions held by each role (● granted directly, ○ inherited)</caption>
          <thead>
            <tr>
              <th scope="col">Permission</th>
              {m.rows.map((r) => (
                <th scope="col" key={r.role.id}>
                  {r.role.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {m.permissions.map((p) => (
              <tr key={p.permission}>
                <th scope="row" title={p.description}>
                  <code>{p.key}</code>
                </th>
                {m.rows.map((r) => {
                  const direct = r.granted.includes(p.permission);
                  const held = r.effective.includes(p.permission);
                  return (
                    <td key={r.role.id} className="center">
                      {held ? (
                        <span aria-label={direct ? 'granted' : 'inherited'} title={direct ? 'granted' : 'inherited'}>
                          {direct ? '●' : '○'}
                        </span>
                      ) : (
                        <span className="sr-only">no</span>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

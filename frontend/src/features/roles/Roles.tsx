import { Link } from 'react-router';
import { useQuery } from 'urql';
import { PermissionMatrixDocument } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { useDocumentTitle } from '../../app/theme';
import { Alert, Loading, PageHeader } from '../../ui';
import { ConnectionTable } from '../../ui/ConnectionTable';
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
      <ConnectionTable
        caption={`Roles of ${tenant.name}`}
        rows={roles}
        rowKey={(r) => r.id}
        loading={fetching && !roles.length}
        loadingLabel="Loading roles…"
        empty="No roles."
        columns={[
          {
            header: 'Role',
            rowHeader: true,
            cell: (r) => (
              <>
                <Link to={encodeURIComponent(r.key)}>{r.name}</Link>
                {r.description && <div className="muted small">{r.description}</div>}
              </>
            ),
          },
          { header: 'Key', cell: (r) => <code>{r.key}</code> },
          { header: 'Kind', cell: (r) => (r.isBuiltin ? <span className="badge">built-in</span> : <span className="badge badge-accent">custom</span>) },
          { header: 'Inherits from', cell: (r) => r.parent?.name ?? '—' },
          { header: 'Permissions', cell: (r) => r.permissions.length },
        ]}
      />
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

// Snapshots: images of a server's disk, restorable onto it (a rebuild) and deleted; they
// outlive their server.
import { useMutation, useQuery } from 'urql';
import { DeleteSnapshotDocument, ServerActionDocument, TenantServersDocument, TenantSnapshotsDocument } from '../../gql/graphql';
import { errorMessage } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { Alert, ConfirmButton, Empty, formatDate, Loading } from '../../ui';
import { useLiveResources } from './Servers';

export function Snapshots() {
  const tenant = useTenant();
  const [res, reexecute] = useQuery({ query: TenantSnapshotsDocument, variables: { id: tenant.id, first: 100 } });
  const [servers, reexecuteServers] = useQuery({ query: TenantServersDocument, variables: { id: tenant.id, first: 100 } });
  useLiveResources(() => {
    reexecute({ requestPolicy: 'network-only' });
    reexecuteServers({ requestPolicy: 'network-only' });
  });
  const [rebuildRes, rebuild] = useMutation(ServerActionDocument);
  const [delRes, del] = useMutation(DeleteSnapshotDocument);
  if (res.error && !res.data) return <Alert>{errorMessage(res.error)}</Alert>;
  if (!res.data?.tenant) return <Loading label="Loading snapshots…" />;
  const snapshots = (res.data.tenant.snapshots?.edges ?? []).map((e) => e.node);
  const serverList = (servers.data?.tenant?.servers?.edges ?? []).map((e) => e.node);
  const manage = tenant.can('infrastructure.manage');
  return (
    <div className="card">
      <h2>Snapshots</h2>
      {snapshots.length === 0 ? (
        <Empty>No snapshots yet: take one from a server's row.</Empty>
      ) : (
        <table className="table" aria-label="Snapshots">
          <thead>
            <tr>
              <th>Description</th>
              <th>Status</th>
              <th>Size</th>
              <th>Server</th>
              <th>Taken</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {snapshots.map((s) => {
              const server = serverList.find((x) => x.id === s.serverId);
              return (
                <tr key={s.id}>
                  <th scope="row">{s.description}</th>
                  <td>
                    <span className={`status status-${s.status.toLowerCase()}`}>{s.status.toLowerCase()}</span>
                  </td>
                  <td>{s.sizeGb != null ? `${s.sizeGb} GB` : '—'}</td>
                  <td>{server?.name ?? '—'}</td>
                  <td>{formatDate(s.createdAt)}</td>
                  <td className="actions">
                    {manage && server && s.status === 'AVAILABLE' && (
                      <ConfirmButton
                        busy={rebuildRes.fetching}
                        confirmLabel={`Rebuild ${server.name} from it`}
                        onConfirm={() => rebuild({ input: { serverId: server.id, action: 'REBUILD', snapshotId: s.id } })}
                      >
                        Restore
                      </ConfirmButton>
                    )}
                    {manage && (s.status === 'AVAILABLE' || s.status === 'ERROR') && (
                      <ConfirmButton busy={delRes.fetching} confirmLabel="Delete snapshot" onConfirm={() => del({ id: s.id })}>
                        Delete
                      </ConfirmButton>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {(rebuildRes.error || delRes.error) && <Alert>{errorMessage(rebuildRes.error ?? delRes.error)}</Alert>}
    </div>
  );
}

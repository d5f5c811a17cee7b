// Servers: the list with live status (every change arrives on `cloudResourceChanged`), power
// actions, deletion, each server's details (cost, metrics, console) and the create form.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  CloudResourceChangedDocument,
  CreateServerDocument,
  CreateSnapshotDocument,
  DeleteServerDocument,
  ServerActionDocument,
  TenantServersDocument,
  type ServerActionKind,
  type ServerStatus,
} from '../../gql/graphql';
import { errorMessage, fieldErrors } from '../../app/client';
import { useTenant } from '../../app/tenant';
import { Alert, Button, ConfirmButton, Empty, Field, Loading } from '../../ui';
import { ProviderSelect, type Provider } from './Infrastructure';
import { ServerDetail } from './ServerDetail';

/** Which power actions make sense in a status. */
const ACTIONS: Partial<Record<ServerStatus, ServerActionKind[]>> = {
  RUNNING: ['STOP', 'REBOOT', 'RESET'],
  OFF: ['START'],
};
const LABELS: Record<ServerActionKind, string> = { START: 'Start', STOP: 'Stop', REBOOT: 'Reboot', RESET: 'Reset', RESIZE: 'Resize', REBUILD: 'Rebuild',
  ENABLE_RESCUE: 'Enable rescue',
  DISABLE_RESCUE: 'Disable rescue',
  RESET_ROOT_PASSWORD: 'Reset root password',
};

/** Re-reads `reload` whenever a resource of the organisation changes. */
export function useLiveResources(reload: () => void) {
  const tenant = useTenant();
  useSubscription({ query: CloudResourceChangedDocument, variables: { tenantId: tenant.id } }, (_, e) => {
    reload();
    return e;
  });
}

export function Servers({ providers }: { providers: Provider[] }) {
  const tenant = useTenant();
  const [res, reexecute] = useQuery({ query: TenantServersDocument, variables: { id: tenant.id, first: 100 } });
  const reload = () => reexecute({ requestPolicy: 'network-only' });
  useLiveResources(reload);
  const [actRes, act] = useMutation(ServerActionDocument);
  const [delRes, del] = useMutation(DeleteServerDocument);
  const [snapRes, snapshot] = useMutation(CreateSnapshotDocument);
  const [taken, setTaken] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  if (res.error && !res.data) return <Alert>{errorMessage(res.error)}</Alert>;
  if (!res.data?.tenant) return <Loading label="Loading servers…" />;
  // A server deleted outside Zygo (found by the drift reconciler) shows as deleted until removed here.
  const servers = (res.data.tenant.servers?.edges ?? []).map((e) => e.node);
  const manage = tenant.can('infrastructure.manage');
  const providerName = (id: string) => providers.find((p) => p.id === id)?.name ?? '—';
  return (
    <>
      <div className="card">
        <h2>Servers</h2>
        {servers.length === 0 ? (
          <Empty>No servers yet.</Empty>
        ) : (
          <table className="table" aria-label="Servers">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Type</th>
                <th>Image</th>
                <th>Location</th>
                <th>IPv4</th>
                <th>Provider</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {servers.map((s) => (
                <tr key={s.id}>
                  <th scope="row">{s.name}</th>
                  <td>
                    <span className={`status status-${s.status.toLowerCase()}`}>{s.status.toLowerCase()}</span>
                  </td>
                  <td>{s.serverType}</td>
                  <td>{s.image}</td>
                  <td>{s.location}</td>
                  <td>{s.ipv4 ?? '—'}</td>
                  <td>{providerName(s.providerId)}</td>
                  <td className="actions">
                    {s.externalId && (
                      <Button variant="ghost" aria-expanded={open === s.id} onClick={() => setOpen(open === s.id ? null : s.id)}>
                        Details
                      </Button>
                    )}
                    {manage &&
                      (ACTIONS[s.status] ?? []).map((a) => (
                        <Button key={a} variant="secondary" busy={actRes.fetching} onClick={() => act({ input: { serverId: s.id, action: a } })}>
                          {LABELS[a]}
                        </Button>
                      ))}
                    {manage && (s.status === 'RUNNING' || s.status === 'OFF') && (
                      <Button
                        variant="secondary"
                        busy={snapRes.fetching}
                        onClick={async () => {
                          const r = await snapshot({ input: { serverId: s.id } });
                          if (!r.error) setTaken(s.name);
                        }}
                      >
                        Snapshot
                      </Button>
                    )}
                    {manage && s.status !== 'DELETING' && (
                      <ConfirmButton busy={delRes.fetching} confirmLabel={`Delete ${s.name}`} onConfirm={() => del({ id: s.id })}>
                        Delete
                      </ConfirmButton>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {(actRes.error || delRes.error || snapRes.error) && <Alert>{errorMessage(actRes.error ?? delRes.error ?? snapRes.error)}</Alert>}
        {taken && <Alert kind="success">A snapshot of {taken} is being taken: see Snapshots.</Alert>}
      </div>
      {servers
        .filter((s) => s.id === open)
        .map((s) => (
          <ServerDetail key={s.id} server={s} />
        ))}
      {manage && providers.length > 0 && <CreateServer providers={providers} onCreated={reload} />}
    </>
  );
}

function CreateServer({ providers, onCreated }: { providers: Provider[]; onCreated: () => void }) {
  const [providerId, setProviderId] = useState(providers[0].id);
  const [name, setName] = useState('');
  const [serverType, setServerType] = useState('cx22');
  const [image, setImage] = useState('ubuntu-24.04');
  const [location, setLocation] = useState('fsn1');
  // One key per server being created: submitting again (a double click, a retry after a lost
  // answer) makes one server; a new key once it is made.
  const [idempotencyKey, setKey] = useState(() => crypto.randomUUID());
  const [res, create] = useMutation(CreateServerDocument);
  const errors = fieldErrors(res.error);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await create({ input: { providerId, name, serverType, image, location, idempotencyKey } });
    if (!r.error) {
      setName('');
      setKey(crypto.randomUUID());
      onCreated();
    }
  };
  return (
    <form className="card" aria-label="Create a server" onSubmit={submit}>
      <h2>Create a server</h2>
      <ProviderSelect providers={providers} value={providerId} onChange={setProviderId} error={errors.providerId} />
      <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} required hint="A host name: letters, digits, - and ." />
      <div className="row">
        <Field label="Type" value={serverType} onChange={(e) => setServerType(e.target.value)} error={errors.serverType} required />
        <Field label="Image" value={image} onChange={(e) => setImage(e.target.value)} error={errors.image} required />
        <Field label="Location" value={location} onChange={(e) => setLocation(e.target.value)} error={errors.location} required />
      </div>
      {errors[''] && <Alert>{errors['']}</Alert>}
      <Button type="submit" busy={res.fetching}>
        Create server
      </Button>
    </form>
  );
}
